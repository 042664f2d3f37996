"""Speech output: pyttsx3 (espeak-ng) rendered to 8 kHz for the phone, and a prompt cache.

pyttsx3 quirks handled here (see the stack notes): a render sometimes yields a WAV with no
frames (retried, then espeak-ng is called directly), it prints to stdout (silenced), and one
engine per process (shared behind a lock).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import subprocess
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from voicebot.speech.audio import read_wav, resample, trim_leading_silence

log = logging.getLogger("voicebot.speech")

VOICES = {"en-US": "gmw/en-us", "zh-CN": "sit/cmn"}
ESPEAK_VOICES = {"en-US": "en-us", "zh-CN": "cmn"}
PHONE_RATE = 8000
CACHE_VERSION = 2  # bump when rendering changes, so cached prompts are rebuilt


class Synthesizer:
    """Renders text to int16 samples at ``sample_rate`` (8 kHz phone audio by default)."""

    def __init__(self, words_per_minute: int = 160, sample_rate: int = PHONE_RATE) -> None:
        self.wpm = words_per_minute
        self.sample_rate = sample_rate
        self._engine = None
        self._lock = threading.Lock()

    def key(self, text: str, lang: str) -> str:
        raw = f"{CACHE_VERSION}|{VOICES[lang]}|{self.wpm}|{self.sample_rate}|{text}"
        return hashlib.sha256(raw.encode()).hexdigest()[:20]

    def render(self, text: str, lang: str) -> np.ndarray:
        with self._lock, tempfile.TemporaryDirectory(prefix="tts-") as tmp:
            wav = Path(tmp) / "out.wav"
            for _attempt in range(3):
                self._pyttsx3(text, lang, wav)
                samples = self._read(wav)
                if samples is not None:
                    break
            else:
                log.warning("pyttsx3 produced no audio; using espeak-ng directly")
                subprocess.run(["espeak-ng", "-v", ESPEAK_VOICES[lang], "-s", str(self.wpm), "-w", str(wav), text],
                               check=True, capture_output=True)
                samples = self._read(wav)
                if samples is None:
                    raise RuntimeError(f"speech synthesis failed for {text!r}")
        return samples

    def _pyttsx3(self, text: str, lang: str, wav: Path) -> None:
        with contextlib.redirect_stdout(io.StringIO()):  # pyttsx3 prints "Audio saved to ..."
            if self._engine is None:
                import pyttsx3

                self._engine = pyttsx3.init()
            self._engine.setProperty("voice", VOICES[lang])
            self._engine.setProperty("rate", self.wpm)
            self._engine.save_to_file(text, str(wav))
            self._engine.runAndWait()

    def _read(self, wav: Path) -> np.ndarray | None:
        if not wav.exists() or wav.stat().st_size <= 44:
            return None
        samples, rate = read_wav(wav)
        if not samples.size:
            return None
        return trim_leading_silence(resample(samples, rate, self.sample_rate), self.sample_rate)


class PromptCache:
    """Rendered prompts under ``root/<lang>/<key>.wav``; the key covers text, voice, rate and version."""

    MEMORY_ENTRIES = 512  # decoded prompts kept in memory: no disk read each time one is said

    def __init__(self, root: Path, synth: Synthesizer) -> None:
        self.root = root
        self.synth = synth
        self._memory: OrderedDict[Path, np.ndarray] = OrderedDict()
        self._memory_lock = threading.Lock()

    def path(self, text: str, lang: str) -> Path:
        return self.root / lang / f"{self.synth.key(text, lang)}.wav"

    def get(self, text: str, lang: str) -> np.ndarray:
        """Cached audio: from memory, else from disk, else rendered and stored."""
        path = self.path(text, lang)
        with self._memory_lock:
            if path in self._memory:
                self._memory.move_to_end(path)
                return self._memory[path]
        if path.exists():
            samples = read_wav(path)[0]
        else:
            samples = self.synth.render(text, lang)
            self._store(path, samples)
        with self._memory_lock:
            self._memory[path] = samples
            while len(self._memory) > self.MEMORY_ENTRIES:
                self._memory.popitem(last=False)
        return samples

    def render_all(self, texts: Iterable[str], lang: str,
                   progress: Callable[[str], None] | None = None) -> tuple[int, int]:
        """Render what is missing; returns (rendered, already cached)."""
        rendered = cached = 0
        for text in texts:
            if self.path(text, lang).exists():
                cached += 1
            else:
                self.get(text, lang)
                rendered += 1
            if progress:
                progress(text)
        return rendered, cached

    def _store(self, path: Path, samples: np.ndarray) -> None:
        from scipy.io import wavfile

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        wavfile.write(str(tmp), self.synth.sample_rate, samples.astype(np.int16))
        tmp.replace(path)  # atomic: a half-written prompt is never played
