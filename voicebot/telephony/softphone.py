"""`voicebot call`: a developer's softphone. Scripted (play WAVs, press keys, listen) or live (sound device).

Scripts are steps separated by ';':
  ``listen``         wait until the far end has spoken and then been quiet for a moment
  ``wait 1.5``       pause
  ``play FILE.wav``  send a recording (any rate; resampled to 8 kHz) and wait until it is sent
  ``keys 12#``       press keys (RFC 4733); ``info 12#`` sends them as SIP INFO, ``tones 12#`` as
                     in-band tones in the audio
  ``hangup``         hang up; ``await-hangup`` waits for the far end to hang up
The call follows a REFER (blind transfer) like a desk phone would. Events are printed as they
happen, one JSON object per line with ``--jsonl``.
"""

from __future__ import annotations

import json
import shlex
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pjsua2 as pj

from voicebot.redact import redact
from voicebot.speech.audio import is_voiced, read_wav, resample, words_end
from voicebot.telephony.media import FRAME_LEN, RATE, FramePort, audio_media
from voicebot.telephony.sipstack import SipSettings, SipStack

QUIET_S = 1.2  # a prompt is over after this much quiet
LISTEN_MAX_S = 30.0
KEY_S = 0.25  # time pjsua2 takes to send one RFC 4733 key
KEY_STEPS = ("keys", "info", "tones")


class ScriptError(ValueError):
    """A script step cannot be understood; the message names it."""


@dataclass
class Step:
    verb: str
    arg: str = ""


def parse_script(text: str) -> list[Step]:
    steps = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        verb, _, arg = part.partition(" ")
        verb, arg = verb.lower(), arg.strip()
        if verb not in ("listen", "wait", "play", "keys", "info", "tones", "hangup", "await-hangup"):
            raise ScriptError(f"unknown script step {part!r} (listen, wait S, play FILE, keys D, info D, tones D, "
                              "hangup, await-hangup)")
        if verb in ("wait",):
            try:
                float(arg)
            except ValueError:
                raise ScriptError(f"'wait' needs seconds, not {arg!r}") from None
        if verb in ("play", "keys", "info", "tones") and not arg:
            raise ScriptError(f"'{verb}' needs an argument")
        if verb == "play" and not Path(shlex.split(arg)[0]).is_file():
            raise ScriptError(f"no such WAV file: {arg}")
        steps.append(Step(verb, shlex.split(arg)[0] if verb == "play" else arg))
    return steps


@dataclass
class CallLog:
    """What the softphone saw: for printing, and for tests."""

    events: list[dict[str, Any]] = field(default_factory=list)
    emit: Callable[[dict[str, Any]], None] | None = None

    def add(self, event: str, **data: Any) -> None:
        entry = {"event": event, "t": round(time.monotonic() - _T0, 3), **data}
        self.events.append(entry)
        if self.emit:
            self.emit(entry)


_T0 = time.monotonic()


class PhoneCall(pj.Call):
    def __init__(self, phone: Softphone, acc: pj.Account, call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(acc, call_id)
        self.phone = phone
        self.connected_media: pj.AudioMedia | None = None
        self.disconnected = False

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        try:
            ci = self.getInfo()
            self.phone.state(self, ci.state, ci.lastStatusCode, ci.lastReason)
            if ci.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                self.disconnected = True
        except Exception as exc:
            self.phone.log.add("error", where="state", error=str(exc))

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        try:
            media = audio_media(self)
            if media is not None and self.connected_media is None:
                self.connected_media = media
                self.phone.connect_audio(media)
        except Exception as exc:
            self.phone.log.add("error", where="media", error=str(exc))

    def onCallTransferRequest(self, prm: pj.OnCallTransferRequestParam) -> None:
        try:
            self.phone.log.add("transfer_request", target=prm.dstUri)
            new = PhoneCall(self.phone, self.phone.account)
            prm.newCall = new  # keeps the new call's callbacks ours
            self.phone.follow(new)
        except Exception as exc:
            self.phone.log.add("error", where="refer", error=str(exc))


class Softphone:
    """One outgoing call (and the call it is transferred to), on its own SIP endpoint."""

    def __init__(self, uri: str, *, caller: str = "13800000000", lang: str | None = None, bind: str = "127.0.0.1",
                 tcp: bool = False, headers: dict[str, str] | None = None, emit: Callable | None = None) -> None:
        self.uri = uri + (";transport=tcp" if tcp and "transport=" not in uri else "")
        self.caller = caller
        self.headers = dict(headers or {})
        if lang:
            self.headers["Accept-Language"] = lang
        self.stack = SipStack(SipSettings(bind=bind, port=0, tcp=tcp, user_agent="voicebot-softphone", user=caller))
        self.account: pj.Account | None = None
        self.calls: list[PhoneCall] = []
        self.port: FramePort | None = None
        self.log = CallLog(emit=emit)
        self.received: list[np.ndarray] = []
        self.heard_voice_s = 0.0
        self.last_voice = 0.0
        self.connected = threading.Event()
        self.ended = threading.Event()
        self.sink: Callable[[np.ndarray], None] | None = None  # live mode: frames to the speaker
        self.spoke_until: float | None = None  # when our last words ended: the next voice heard is the reply

    # -- pjsua2 side (SIP thread) ------------------------------------------------------------
    def start(self) -> None:
        self.account = pj.Account()
        self.stack.start(self.account)
        call = PhoneCall(self, self.account)
        op = pj.CallOpParam(True)
        for name, value in self.headers.items():
            h = pj.SipHeader()
            h.hName, h.hValue = name, value
            op.txOption.headers.append(h)
        self.calls.append(call)
        self.log.add("dialing", uri=self.uri)
        call.makeCall(self.uri, op)

    def follow(self, call: PhoneCall) -> None:
        self.calls.append(call)

    def state(self, call: PhoneCall, state: int, code: int, reason: str) -> None:
        if state == pj.PJSIP_INV_STATE_EARLY:
            self.log.add("ringing", status=code)
        elif state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.log.add("connected", status=code)
            self.connected.set()
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.log.add("disconnected", status=code, reason=reason)
            if all(c.disconnected or c is call for c in self.calls):
                self.ended.set()

    def connect_audio(self, media: pj.AudioMedia) -> None:
        if self.port is None:
            self.port = self.stack.ports.acquire("phone")
        media.startTransmit(self.port)
        self.port.startTransmit(media)

    def poll(self) -> None:
        """Pump SIP events and account for received audio (call on the SIP thread, often)."""
        self.stack.poll(10)
        if self.port is None:
            return
        for frame in self.port.take():
            self.received.append(frame)
            if self.sink:
                self.sink(frame)
            now = time.monotonic()
            if is_voiced(frame):
                self.heard_voice_s += FRAME_LEN / RATE
                self.last_voice = now
                if self.spoke_until is not None and now > self.spoke_until:
                    self.log.add("reply", latency_s=round(now - self.spoke_until, 3))
                    self.spoke_until = None

    def active(self) -> PhoneCall | None:
        live = [c for c in self.calls if not c.disconnected]
        return live[-1] if live else None

    def send_keys(self, digits: str, info: bool = False) -> None:
        call = self.active()
        if call is None:
            return
        if info:
            for d in digits:
                prm = pj.CallSendDtmfParam()
                prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
                prm.digits = d
                call.sendDtmf(prm)
        else:
            call.dialDtmf(digits)

    def hangup(self) -> None:
        for call in self.calls:
            if not call.disconnected:
                try:
                    call.hangup(pj.CallOpParam(True))
                except pj.Error:
                    pass

    def close(self) -> None:
        self.hangup()
        end = time.monotonic() + 1.0
        while time.monotonic() < end and any(not c.disconnected for c in self.calls):
            self.poll()
        self.calls.clear()  # no Python Call may outlive the library
        self.port = None
        self.stack.shutdown(drain_s=0.2)

    # -- audio helpers -------------------------------------------------------------------
    def play(self, samples: np.ndarray) -> None:
        if self.port is not None:
            self.port.play(samples)

    def sending(self) -> bool:
        return bool(self.port and self.port.sending)

    def recording(self) -> np.ndarray:
        return np.concatenate(self.received) if self.received else np.zeros(0, dtype=np.int16)


def run_script(phone: Softphone, steps: list[Step], timeout_s: float = 120.0) -> None:
    """Dial, run the steps on the SIP thread's clock, hang up (unless the far end did)."""
    phone.start()
    deadline = time.monotonic() + timeout_s
    while not phone.connected.is_set() and not phone.ended.is_set():
        phone.poll()
        if time.monotonic() > deadline:
            phone.log.add("timeout", waiting_for="answer")
            return
    for step in steps:
        if phone.ended.is_set():
            break
        # a card number or PIN in a script is shown as stars, menu keys as they are
        shown = redact(step.arg, caller_input=True) if step.verb in KEY_STEPS else step.arg
        phone.log.add("step", verb=step.verb, arg=shown)
        _do(phone, step, deadline)
    phone.log.add("heard", voice_s=round(phone.heard_voice_s, 2))


def _do(phone: Softphone, step: Step, deadline: float) -> None:
    def pump_until(done: Callable[[], bool], limit_s: float) -> bool:
        end = min(deadline, time.monotonic() + limit_s)
        while not done():
            if phone.ended.is_set() or time.monotonic() > end:
                return False
            phone.poll()
        return True

    if step.verb == "wait":
        end = time.monotonic() + float(step.arg)
        pump_until(lambda: time.monotonic() >= end, float(step.arg) + 1)
    elif step.verb == "listen":
        mark = time.monotonic()
        heard = pump_until(lambda: phone.last_voice > mark, LISTEN_MAX_S)
        if heard:
            pump_until(lambda: time.monotonic() - phone.last_voice >= QUIET_S, LISTEN_MAX_S)
        phone.log.add("listened", heard=heard)
    elif step.verb == "play":
        samples, rate = read_wav(step.arg)
        audio = resample(samples, rate, RATE)
        phone.play(audio)
        pump_until(lambda: not phone.sending(), len(samples) / rate + 5)
        # the reply is timed from the end of the words, not of the recording's trailing silence
        tail_s = (len(audio) - words_end(audio)) / RATE
        phone.spoke_until = time.monotonic() - tail_s
        phone.log.add("played", file=step.arg, seconds=round(len(samples) / rate, 2))
    elif step.verb == "tones":
        from voicebot.telephony.inband_dtmf import tone

        gap = np.zeros(int(0.08 * RATE), dtype=np.int16)
        phone.play(np.concatenate([np.concatenate([tone(d, 0.08), gap]) for d in step.arg]))
        pump_until(lambda: not phone.sending(), 0.2 * len(step.arg) + 2)
    elif step.verb in ("keys", "info"):
        phone.send_keys(step.arg, info=step.verb == "info")
        # pjsua2 queues RFC 4733 digits and sends them ~235 ms apart: wait until they are out
        per_key = 0.05 if step.verb == "info" else KEY_S
        pump_until(lambda: False, per_key * len(step.arg) + 0.3)
    elif step.verb == "hangup":
        phone.hangup()
        pump_until(phone.ended.is_set, 3)
    elif step.verb == "await-hangup":
        pump_until(phone.ended.is_set, LISTEN_MAX_S)


def save_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype(np.int16).tobytes())


def print_event(jsonl: bool) -> Callable[[dict[str, Any]], None]:
    def show(entry: dict[str, Any]) -> None:
        if jsonl:
            print(json.dumps(entry, ensure_ascii=False), flush=True)
        else:
            rest = " ".join(f"{k}={v}" for k, v in entry.items() if k not in ("event", "t"))
            print(f"[{entry['t']:7.2f}] {entry['event']} {rest}".rstrip(), flush=True)

    return show
