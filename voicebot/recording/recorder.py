"""One call's recording as it happens: a subscriber to the call's events and a tap on its audio.

The caller, the bot and the agent each have a channel of a FLAC stream kept in memory (about a
third of the PCM; a silent channel costs next to nothing). While the call collects card data
(``CardData``: a card or account number, the PIN, a read-back) every channel is written as
silence and the span is noted; the pause lasts ``tail_ms`` beyond the step, for the end of a key
tone or the last word. When the call ends the stream is sealed and stored with its index,
under the call id as the CDR and the log write it (masked like every text there: a SIP Call-ID
may be a run of digits), so the two join and no file name carries such a run.

Beside the audio goes a transcript with times into the recording, by the log's rules (card
numbers masked, digits a caller says or keys withheld, nothing from the PIN step) and nothing
at all while the recording is paused.
"""

from __future__ import annotations

import io
import logging

import numpy as np
import soundfile as sf

from voicebot.channels.call_events import BotActed, CallEnded, CallerHeard, CallerKey, CallEvent, CardData, Frame
from voicebot.dialog.actions import Say, ServiceResult, Transfer
from voicebot.recording.store import CHANNELS, RecordingInfo, RecordingStore
from voicebot.redact import redact

log = logging.getLogger("voicebot.recording")

BLOCK_FRAMES = 50  # frames gathered before each write to the encoder (a second at 20 ms)


class CallRecorder:
    """Records one call; ``on_event`` and ``on_audio`` are its subscriptions (on the call's thread)."""

    def __init__(self, store: RecordingStore, call_id: str, rate: int, channel: str, tail_ms: int = 300,
                 frame_ms: int = 20) -> None:
        self.store, self.call_id, self.rate, self.channel = store, call_id, rate, channel
        self.frame_len = rate * frame_ms // 1000
        self.frame_ms = frame_ms
        self.tail_frames = -(-tail_ms // frame_ms)
        self.frames = 0  # frames recorded so far: the recording's clock
        self.spans: list[list[int]] = []  # paused [first, end) frames
        self._paused = False  # the recording is silent (a card-data step, or the tail after one)
        self._collecting = False  # the call is at a card-data step
        self._resume_at: int | None = None  # the card-data step is over: the pause ends at this frame
        self._buf = io.BytesIO()
        self._file = sf.SoundFile(self._buf, "w", samplerate=rate, channels=len(CHANNELS), format="FLAC",
                                  subtype="PCM_16")
        self._block: list[Frame] = []
        self._silence = np.zeros((self.frame_len, len(CHANNELS)), dtype=np.int16)
        self.transcript: list[dict[str, object]] = []  # {"t": seconds, "who": caller|bot|call, "text"}
        self.closed = False

    # -- subscriptions ------------------------------------------------------------------------
    def on_event(self, event: CallEvent) -> None:
        if isinstance(event, CardData):
            self._collecting = event.collecting
            if event.collecting:
                self._resume_at = None
                if not self._paused:
                    self._paused = True
                    self.spans.append([self.frames, self.frames])
                    self._line("call", "recording paused: card data")
            elif self._paused:
                self._resume_at = self.frames + self.tail_frames
        elif isinstance(event, CallEnded):
            self.finish(event)
        elif not self._collecting:
            self._transcribe(event)

    def _transcribe(self, event: CallEvent) -> None:
        if isinstance(event, CallerHeard) and event.final:
            self._line("caller", "(words withheld)" if event.withheld else redact(event.text, caller_input=True)
                       or "(not understood)")
        elif isinstance(event, CallerKey):
            key = "•" if event.secret else event.key
            last = self.transcript[-1] if self.transcript else None
            if last is not None and last["who"] == "caller" and str(last["text"]).startswith("keys "):
                last["text"] = "keys " + redact(str(last["text"])[5:] + key, caller_input=True)
            else:
                self._line("caller", "keys " + key)
        elif isinstance(event, BotActed):
            action = event.action
            if isinstance(action, Say):
                self._line("bot", redact(action.text))
            elif isinstance(action, ServiceResult):
                self._line("call", f"service {action.id}: {action.status}")
            elif isinstance(action, Transfer):
                self._line("call", f"handed over to an agent ({action.reason})")

    def _line(self, who: str, text: str) -> None:
        self.transcript.append({"t": round(self.frames * self.frame_ms / 1000, 2), "who": who, "text": text})

    def on_audio(self, caller: Frame, bot: Frame | None, agent: Frame | None = None) -> None:
        if self.closed:
            return
        if self._paused and self._resume_at is not None and self.frames >= self._resume_at:
            self._paused, self._resume_at = False, None
        if self._paused:
            self._block.append(self._silence)
            self.spans[-1][1] = self.frames + 1
        else:
            frame = np.zeros((self.frame_len, len(CHANNELS)), dtype=np.int16)
            for column, audio in enumerate((caller, bot, agent)):
                if audio is not None:
                    n = min(len(audio), self.frame_len)
                    frame[:n, column] = audio[:n]
            self._block.append(frame)
        self.frames += 1
        if len(self._block) >= BLOCK_FRAMES:
            self._flush()

    # -- the end ----------------------------------------------------------------------------
    def finish(self, ended: CallEnded) -> RecordingInfo | None:
        """Seal and store the recording (once); its index entry, or None if nothing was heard."""
        if self.closed:
            return None
        self.closed = True
        self._flush()
        self._file.close()
        if not self.frames:
            return None
        record = ended.record
        seconds = self.frame_ms / 1000
        info = RecordingInfo(
            call_id=redact(self.call_id),  # as voicebot.cdr writes it in the CDR
            started_at=record.started_at.isoformat(), duration_s=round(self.frames * seconds, 2),
            language=record.language, region=record.region, channel=self.channel, services=list(record.services),
            outcome=record.outcome, rate=self.rate,
            paused_spans=[[round(a * seconds, 2), round(b * seconds, 2)] for a, b in self.spans])
        try:
            self.store.save(info, self._buf.getvalue(), self.transcript)
        except OSError as exc:
            log.error("call=%s recording not stored: %s", self.call_id, exc)
            return None
        log.info("call=%s recording stored seconds=%.1f paused_spans=%d", self.call_id, info.duration_s,
                 len(info.paused_spans))
        return info

    def _flush(self) -> None:
        if self._block:
            self._file.write(np.concatenate(self._block))
            self._block = []
