// The browser phone: the microphone to the bot over a WebSocket (16 kHz PCM), the bot's voice back,
// an on-screen keypad for DTMF and a live transcript. A PIN shows as dots and goes only to the dialog.
(() => {
  const $ = (id) => document.getElementById(id);
  const {t} = window.i18n;
  const transcript = $("transcript"), partial = $("partial"), status = $("status"), entry = $("entry");
  let ws = null, ctx = null, node = null, stream = null, expect = null, botMs = 0;

  fetch("/api/me").then((r) => r.json()).then((me) => {
    $("operator").textContent = i18n.operator(me);
    $("desk-link").hidden = !me.desk;
    $("inbox-link").hidden = !me.inbox;
    $("wallboard-link").hidden = !me.supervisor;
  });

  function line(kind, text) {
    const li = document.createElement("li");
    li.className = kind;
    li.textContent = text;
    transcript.appendChild(li);
    li.scrollIntoView({block: "end"});
  }

  function setInCall(on) {
    $("call").disabled = on;
    $("hangup").disabled = !on;
    $("lang").disabled = on;
  }

  function onEvent(event) {
    switch (event.type) {
      case "started": status.textContent = t("In a call."); break;
      case "say": line("bot", event.text); break;
      case "heard":
        if (event.final) { partial.textContent = ""; if (event.text) line("caller", event.text); }
        else partial.textContent = event.text;
        break;
      case "key": entry.textContent += event.shown; break;
      case "collect":
        expect = event.expect;
        entry.textContent = "";
        entry.className = expect === "pin" ? "secret" : "";
        status.textContent = expect === "pin" ? t("Enter your PIN on the keypad (shown as dots).") : t("Listening.");
        break;
      case "service": line("service", t("{id}: {status}", {id: event.id, status: t(event.status)})); break;
      case "transfer": line("service", t("put through to an agent ({reason})", {reason: event.reason})); break;
      case "ended": end(t("The call has ended.")); break;
    }
  }

  async function call() {
    setInCall(true);
    transcript.textContent = "";
    botMs = 0;
    try {
      ctx = new AudioContext({sampleRate: 16000});
      stream = await navigator.mediaDevices.getUserMedia(
        {audio: {echoCancellation: true, noiseSuppression: false, autoGainControl: false, channelCount: 1}});
      await ctx.audioWorklet.addModule("/static/pcm-worklet.js");
      node = new AudioWorkletNode(ctx, "pcm-io", {numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1]});
      ctx.createMediaStreamSource(stream).connect(node);
      node.connect(ctx.destination);
    } catch (err) {
      status.textContent = t("No microphone: {error}. Use the keypad.", {error: err.message});
    }
    ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/phone`);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      ws.send(JSON.stringify({type: "start", lang: $("lang").value}));
      if (node) node.port.onmessage = (e) => { if (ws.readyState === 1) ws.send(e.data); };
      else keepClockRunning();
    };
    ws.onmessage = (e) => {
      if (typeof e.data === "string") { onEvent(JSON.parse(e.data)); return; }
      const pcm = new Int16Array(e.data);
      botMs += pcm.length / 16;
      transcript.dataset.botAudioMs = Math.round(botMs);
      if (node) node.port.postMessage({play: pcm});
    };
    const socket = ws;
    ws.onclose = () => { if (ws === socket) end(t("The call has ended.")); };
  }

  // without a microphone, silence keeps the call's clock (timeouts, the bot's voice) running
  function keepClockRunning() {
    const timer = setInterval(() => {
      if (!ws || ws.readyState !== 1) { clearInterval(timer); return; }
      ws.send(new Int16Array(320).buffer);
    }, 20);
  }

  function end(message) {
    status.textContent = message;
    setInCall(false);
    if (ws && ws.readyState <= 1) ws.close();
    ws = null;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    if (ctx) ctx.close();
    ctx = node = stream = null;
  }

  $("call").addEventListener("click", call);
  $("hangup").addEventListener("click", () => {
    if (ws && ws.readyState === 1) ws.send(JSON.stringify({type: "hangup"}));
    end(t("You hung up."));
  });
  for (const button of document.querySelectorAll("#keypad button")) {
    button.addEventListener("click", () => {
      if (ws && ws.readyState === 1) ws.send(JSON.stringify({type: "key", digit: button.dataset.key}));
    });
  }
})();
