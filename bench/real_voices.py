"""Human voices at the card-number prompt, over the call path (voice session, streaming Vosk, dialog).

The set: card numbers read in groups of four by the three FSDD speakers (tests/voices.py), as
recorded, as a quiet caller (-45 dBFS) and peak-normalised, with line hiss, through G.711
µ-law. Each is played at the card prompt after keys 1-1-1, the caller stops, and the bot reads
the number back. Figures, per front end (WebRTC VAD with level normalisation, with and
without noise suppression for quiet callers, and the old energy gate): numbers read back
right the first time, and within two readings (a caller who hears a wrong read-back presses
2 and reads it again; the two readings are merged), the digit error rate of what was gathered,
onsets detected later than the pre-roll reaches back (a clipped first consonant), false turn
starts on line noise, and recognition CPU per second of call audio.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

import numpy as np

from tests.voices import RATE, card_numbers, readings, spoken_number
from voicebot.dialog.spoken_number import edit_distance
from voicebot.speech.asr import SpeechStarted, StreamingRecognizer, VadSettings

DETECTORS = {"webrtc VAD + level normalisation + noise suppression for quiet callers": VadSettings(),
             "webrtc VAD + level normalisation": VadSettings(noise_suppression=0),
             "energy gate (before)": VadSettings(detector="energy", normalise=False, noise_suppression=0)}


def _bank() -> object:
    from voicebot.bank.bank import Bank
    from voicebot.bank.db import make_engine, migrate
    from voicebot.bank.demo import seed_demo

    engine = make_engine(f"sqlite:///{Path(tempfile.mkdtemp()) / 'bank.db'}")
    migrate(engine)
    seed_demo(engine)
    return Bank(engine)


class CardPrompt:
    """One call at the card prompt: play readings until the bot reads a number back."""

    def __init__(self, model: object, bank: object, vad: VadSettings) -> None:
        from voicebot.channels.call_events import BotActed, CallerHeard, CallerSpeaking, CallEvents
        from voicebot.channels.voice import VoiceSession
        from voicebot.dialog.engine import DialogEngine
        from voicebot.nlu.keywords import KeywordParser

        self.engine = DialogEngine(bank, KeywordParser(), lang="en-US")
        self.rec = StreamingRecognizer(model, RATE, vad)
        self.said: list[str] = []
        self.heard: list[str] = []  # the digit turns the dialog received
        self.starts: list[float] = []  # when each turn was detected (s from the reading's start)
        self.cpu = 0.0
        self.t = 0.0  # where the reading being played is (s)

        def watch(event: object) -> None:
            if isinstance(event, BotActed):
                self.said.append(getattr(event.action, "text", ""))
            elif isinstance(event, CallerSpeaking):
                self.starts.append(self.t)
            elif isinstance(event, CallerHeard) and event.final:
                self.heard.append(event.text)

        events = CallEvents(self.engine.ctx.call_id, [watch])
        self.session = VoiceSession(self.engine, self.rec, lambda text, lang: np.zeros(0, np.int16), RATE,
                                    events=events)
        for key in "111":
            self.session.key(key)

    def read(self, audio: np.ndarray) -> str | None:
        """Play one reading and the silence after it; the digits read back, or None."""
        from voicebot.nlu.numbers import parse_digits

        self.said.clear()
        frames = np.concatenate([audio, np.zeros(RATE * 4, np.int16)])
        started = time.process_time()
        for i in range(0, len(frames) - 159, 160):
            self.t = i / RATE
            self.session.step(frames[i:i + 160])
            if self.engine.expecting != "card_number":
                break
        self.cpu += time.process_time() - started
        back = re.search(r"I heard ([\d ,]+)\. Is that right", " ".join(self.said))
        return parse_digits(back.group(1)) if back else None

    def close(self) -> None:
        self.session.close()


def card_prompt_figures(model: object, n: int = 10, seed: int = 7) -> None:
    bank = _bank()
    pre_roll = VadSettings().pre_roll_ms / 1000 + VadSettings().start_frames * 0.02
    rng, lead = np.random.default_rng(seed), 0.4
    # every detector hears the same readings: each number's first and second reading made beforehand
    cases = [(how, number, spoken_number(number, how, rng, lead_s=lead), spoken_number(number, how, rng, lead_s=lead))
             for how in readings() for number in card_numbers(n, rng)]
    for label, vad in DETECTORS.items():
        first = within_two = total = edits = digits = clipped = onsets = 0
        audio_s = cpu = 0.0
        per_reading: dict[str, list[int]] = {}
        for how, number, audio, again in cases:
            call = CardPrompt(model, bank, vad)
            got = call.read(audio)
            gathered = "".join(re.sub(r"\D", "", _digits(t)) for t in call.heard)
            edits += edit_distance(gathered, number)
            digits += len(number)
            onsets += 1
            clipped += not call.starts or call.starts[0] - lead > pre_roll
            ok = got == number
            if not ok:  # the caller hears a wrong read-back (or a length complaint) and reads it again
                if got is not None:
                    call.session.key("2")
                audio = np.concatenate([audio, again])
                second = call.read(again) == number
            else:
                second = True
            first, within_two, total = first + ok, within_two + second, total + 1
            per_reading.setdefault(how.label, [0, 0, 0])
            per_reading[how.label][0] += ok
            per_reading[how.label][1] += 1
            per_reading[how.label][2] += second
            audio_s += len(audio) / RATE + 4
            cpu += call.cpu
            call.close()
        normal = [v for k, v in per_reading.items() if "45dBFS" not in k]
        normal_first = sum(v[0] for v in normal) / sum(v[1] for v in normal)
        normal_two = sum(v[2] for v in normal) / sum(v[1] for v in normal)
        print(f"{label}: {total} card numbers, 3 FSDD speakers x (recorded, -45 dBFS, peak-normalised)")
        print(f"  read back right first time {first / total:.0%} (recorded and peak-normalised: {normal_first:.0%}),"
              f" within two readings {within_two / total:.0%} (recorded and peak-normalised: {normal_two:.0%});"
              f" digit error rate {edits / digits:.1%}")
        print(f"  first group's onset detected later than the pre-roll reaches back: {clipped}/{onsets}; "
              f"recognition CPU {cpu / audio_s * 1000:.0f} ms per s of call audio")
        print("  first time (within two): " + "; ".join(f"{k} {v[0]}/{v[1]} ({v[2]})" for k, v in per_reading.items()))
    line_noise_figures()


def _digits(text: str) -> str:
    from voicebot.nlu.numbers import parse_digits

    return parse_digits(text)


def line_noise_figures(seconds: int = 60) -> None:
    """Turns started by a line with nobody speaking: hiss, louder hiss, hum, all through µ-law."""
    from tests.voices import ulaw_roundtrip

    rng = np.random.default_rng(1)
    t = np.arange(RATE * seconds) / RATE
    lines = {"hiss -60 dBFS": rng.normal(0, 32768 * 10 ** (-60 / 20), len(t)),
             "hiss -45 dBFS": rng.normal(0, 32768 * 10 ** (-45 / 20), len(t)),
             "50 Hz hum + hiss": 300 * np.sin(2 * np.pi * 50 * t) + rng.normal(0, 30, len(t)),
             "hiss after digital silence": np.concatenate([np.zeros(RATE * 5),
                                                           rng.normal(0, 40, len(t) - RATE * 5)])}
    for label, vad in DETECTORS.items():
        counts = []
        for name, noise in lines.items():
            rec = StreamingRecognizer(_model(), RATE, vad)
            audio = ulaw_roundtrip(noise).astype(np.int16)
            starts = sum(isinstance(e, SpeechStarted) for i in range(0, len(audio) - 159, 160)
                         for e in rec.feed(audio[i:i + 160]))
            rec.close()
            counts.append(f"{name} {starts}")
        print(f"false turn starts per {seconds} s of line noise, {label}: " + ", ".join(counts))


def _model() -> object:
    from voicebot.config import PROJECT_DIR
    from voicebot.speech.recognizers import load_model

    return load_model(PROJECT_DIR / "models", "en-US")
