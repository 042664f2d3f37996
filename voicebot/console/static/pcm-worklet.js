// Audio in and out of the browser phone, on the audio thread, at the context's 16 kHz:
// the microphone goes to the page in 20 ms blocks of 16-bit PCM; the bot's PCM is played as it comes.
class PcmIo extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Int16Array(320);
    this.filled = 0;
    this.queue = [];
    this.offset = 0;
    this.silence = new Float32Array(128);
    this.port.onmessage = (event) => { if (event.data.play) this.queue.push(event.data.play); };
  }
  process(inputs, outputs) {
    // a microphone that stops (or never started) still sends silence: the call's clock keeps running
    const input = (inputs[0] && inputs[0][0]) || this.silence;
    {
      for (let i = 0; i < input.length; i++) {
        this.block[this.filled++] = Math.max(-32768, Math.min(32767, Math.round(input[i] * 32767)));
        if (this.filled === this.block.length) {
          this.port.postMessage(this.block.buffer, [this.block.buffer]);
          this.block = new Int16Array(320);
          this.filled = 0;
        }
      }
    }
    const out = outputs[0][0];
    for (let i = 0; i < out.length; i++) {
      if (!this.queue.length) { out[i] = 0; continue; }
      out[i] = this.queue[0][this.offset++] / 32768;
      if (this.offset >= this.queue[0].length) { this.queue.shift(); this.offset = 0; }
    }
    return true;
  }
}
registerProcessor("pcm-io", PcmIo);
