"""Speech output: pyttsx3 (espeak-ng) rendered to 8 kHz for the phone, and a prompt cache.

The espeak-ng under pyttsx3 is 1.52 from the ``espeakng-loader`` wheel (its library and data,
pinned), not Debian 12's 1.51, which reads Mandarin characters as pinyin with the tone numbers
spoken in English: the wheel's library is loaded under the name pyttsx3 asks for before pyttsx3
is imported, and espeak-ng finds its data through ``ESPEAK_DATA_PATH``.

pyttsx3 quirks handled here (see the stack notes): its espeak-ng driver synthesises on
espeak-ng's own thread, and a render started while that thread still finished the last one
was cancelled (an empty WAV) or changed the voice under the running thread (the likely cause
of a worker's native crash); so every render waits for espeak-ng to be idle before and after.
A render still yielding no frames is retried, then espeak-ng is called directly. pyttsx3
prints to stdout (silenced) and has one engine per process (shared behind one lock).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import io
import logging
import os
import subprocess
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from voicebot.speech import zh_neural
from voicebot.speech.audio import read_wav, resample, to_int16, trim_leading_silence, write_wav
from voicebot.speech.recorded import PAUSE_S

log = logging.getLogger("voicebot.speech")

VOICES = {"en-US": "gmw/en-us", "zh-CN": "sit/cmn"}  # espeak-ng's (Mandarin: only without the neural voice)
ESPEAK_VOICES = {"en-US": "en-us", "zh-CN": "cmn"}
PHONE_RATE = 8000
CACHE_VERSION = 3  # bump when rendering changes, so cached prompts are rebuilt
_ENGINE_LOCK = threading.Lock()  # pyttsx3 has one engine per process: one render at a time
_engine = None  # that engine, made ready on first use
LEVEL = 0.7  # the neural voice's peak, near espeak-ng's


def voice_name(lang: str) -> str:
    """The voice a language is spoken in: the neural Mandarin voice where installed with its pinned
    weights, else espeak-ng's."""
    if lang == "zh-CN" and zh_neural.usable():
        return zh_neural.VOICE_ID
    return VOICES[lang]


class Synthesizer:
    """Renders text to int16 samples at ``sample_rate`` (8 kHz phone audio by default)."""

    def __init__(self, words_per_minute: int = 160, sample_rate: int = PHONE_RATE) -> None:
        self.wpm = words_per_minute
        self.sample_rate = sample_rate

    def key(self, text: str, lang: str) -> str:
        voice = voice_name(lang)
        if voice_name("zh-CN") == zh_neural.VOICE_ID and voice != zh_neural.VOICE_ID and zh_neural.CHINESE.search(text):
            voice += f"+{zh_neural.VOICE_ID}"  # its Chinese run in the Mandarin voice
        raw = f"{CACHE_VERSION}|{voice}|{self.wpm}|{self.sample_rate}|{text}"
        return hashlib.sha256(raw.encode()).hexdigest()[:20]

    def warm_up(self, lang: str) -> bool:
        """Load the language's voice before calls need it; True if there was anything to load."""
        if voice_name(lang) != zh_neural.VOICE_ID:
            return False
        zh_neural.voice()  # its first model calls are made as it loads
        return True

    def render(self, text: str, lang: str, urgent: bool = True) -> NDArray[Any]:
        """``urgent`` False: the rest of a sentence whose start is already playing (it may wait)."""
        if voice_name(lang) == zh_neural.VOICE_ID:
            return self._mixed([(run, "en-US" if latin else "zh-CN") for run, latin in zh_neural.segments(text)],
                               text, urgent)
        if voice_name("zh-CN") == zh_neural.VOICE_ID and zh_neural.CHINESE.search(text):
            return self._mixed([(run, "zh-CN" if chinese else lang) for run, chinese in zh_neural.chinese_runs(text)],
                               text, urgent)
        return self._espeak(text, lang)

    def _mixed(self, runs: list[tuple[str, str]], text: str, urgent: bool = True) -> NDArray[Any]:
        """Runs of a sentence each in its language's voice: the Chinese menu's "For English, press
        9." in the English voice, the English menu's "中文服务请按9。" in the Mandarin one."""
        pieces = []
        for run, lang in runs:
            if lang != "zh-CN":
                pieces.append(self._espeak(run, lang))
                continue
            audio = zh_neural.voice().render(run, urgent)
            if audio.size:
                audio = audio * (LEVEL / max(float(np.abs(audio).max()), 1e-6))
                pieces.append(resample(to_int16(audio), zh_neural.RATE, self.sample_rate))
        if not pieces:
            raise RuntimeError(f"speech synthesis gave nothing for {text!r}")
        gap = np.zeros(int(0.15 * self.sample_rate), np.int16)
        joined = np.concatenate([p for piece in pieces for p in (piece, gap)][:-1])
        # a clause played on its own (PromptCache.parts) keeps the pause its punctuation marks
        tail = PAUSE_S.get(text.rstrip()[-1:], 0.0)  # the pauses recorded prompts keep at punctuation
        return np.concatenate([trim_leading_silence(joined, self.sample_rate),
                               np.zeros(int(tail * self.sample_rate), np.int16)])

    def _espeak(self, text: str, lang: str) -> NDArray[Any]:
        with _ENGINE_LOCK, tempfile.TemporaryDirectory(prefix="tts-") as tmp:
            wav = Path(tmp) / "out.wav"
            for _attempt in range(3):
                self._pyttsx3(text, lang, wav)
                samples = self._read(wav)
                if samples is not None:
                    break
            else:
                log.warning("pyttsx3 produced no audio; using espeak-ng directly")
                subprocess.run(["espeak-ng", "-v", ESPEAK_VOICES[lang], "-s", str(self.wpm), "-w", str(wav), text],
                               check=True, capture_output=True, env=bundled_espeak_env())
                samples = self._read(wav)
                if samples is None:
                    raise RuntimeError(f"speech synthesis failed for {text!r}")
        return samples

    def _pyttsx3(self, text: str, lang: str, wav: Path) -> None:
        with contextlib.redirect_stdout(io.StringIO()):  # pyttsx3 prints "Audio saved to ..."
            engine = _ready_engine()
            _espeak_idle()
            engine.setProperty("voice", VOICES[lang])
            engine.setProperty("rate", self.wpm)  # applied on espeak-ng's thread
            engine.save_to_file(text, str(wav))
            _espeak_idle()  # else runAndWait finds espeak-ng busy and cancels what it is doing
            engine.runAndWait()
            _espeak_idle()  # the thread's last message is handled before the voice changes again

    def _read(self, wav: Path) -> NDArray[Any] | None:
        if not wav.exists() or wav.stat().st_size <= 44:
            return None
        samples, rate = read_wav(wav)
        if not samples.size:
            return None
        return trim_leading_silence(resample(samples, rate, self.sample_rate), self.sample_rate)


def bundled_espeak() -> tuple[Path, Path] | None:
    """The wheel's espeak-ng 1.52: (folder of libespeak-ng.so.1, data folder), or None if not installed."""
    try:
        import espeakng_loader
    except ImportError:
        return None
    library = Path(espeakng_loader.get_library_path())
    return library.parent, Path(espeakng_loader.get_data_path())


def bundled_espeak_env() -> dict[str, str]:
    """The environment that makes the espeak-ng program use the wheel's library and data."""
    env = dict(os.environ)
    found = bundled_espeak()
    if found:
        env["LD_LIBRARY_PATH"] = f"{found[0]}:{env.get('LD_LIBRARY_PATH', '')}".rstrip(":")
        env["ESPEAK_DATA_PATH"] = str(found[1])
    return env


def _load_bundled_espeak() -> None:
    """Load the wheel's libespeak-ng.so.1 first: pyttsx3's ctypes load by that name then finds it."""
    found = bundled_espeak()
    if found is None:
        log.warning("espeakng-loader is not installed: Debian's espeak-ng 1.51 speaks, and its Mandarin is garbled")
        return
    os.environ["ESPEAK_DATA_PATH"] = str(found[1])
    ctypes.CDLL(str(found[0] / "libespeak-ng.so.1"), mode=ctypes.RTLD_GLOBAL)


def _ready_engine() -> Any:  # pyttsx3.Engine; pyttsx3 is imported on first use
    """pyttsx3's engine (made once, under the render lock), its command queue drained.

    A new engine holds commands until its first loop, so it gets one with nothing to say;
    only once: a later empty loop would say the last text again, into a file already gone.
    """
    global _engine
    if _engine is None:
        _load_bundled_espeak()
        import pyttsx3

        engine = pyttsx3.init()
        _espeak_idle()  # the driver set its defaults through espeak-ng's thread
        engine.runAndWait()
        _engine = engine
    return _engine


def _espeak_idle() -> None:
    """Wait until espeak-ng's synthesis thread has nothing left (pyttsx3's espeak driver only)."""
    try:
        from pyttsx3.drivers import _espeak
    except (ImportError, OSError, RuntimeError):  # no espeak-ng library: another platform's driver
        return
    while _espeak.IsPlaying():  # espeak_Synchronize() does this with 20 ms naps: most of a render
        time.sleep(0.001)


class PromptCache:
    """Rendered prompts under ``root/<lang>/<key>.wav``; the key covers text, voice, rate and version.

    Only sentences ``keep`` accepts (the static prompts) are stored, on disk and in memory; any
    other (a balance, a statement) is rendered each time and kept nowhere. A sentence a bank has
    recorded (``root/recorded/``, see ``speech.recorded``) is played from its recordings instead.
    """

    MEMORY_ENTRIES = 512  # decoded prompts kept in memory: no disk read each time one is said

    def __init__(self, root: Path, synth: Synthesizer, keep: Callable[[str, str], bool] | None = None) -> None:
        self.root = root
        self.synth = synth
        self.keep = keep or (lambda text, lang: True)
        self._memory: OrderedDict[Path, NDArray[Any]] = OrderedDict()
        self._memory_lock = threading.Lock()
        self._later: set[tuple[str, str]] = set()  # parts that continue a sentence already playing
        from voicebot.speech.recorded import RecordedPrompts

        self.recorded = RecordedPrompts(root / "recorded", synth.sample_rate)

    def path(self, text: str, lang: str) -> Path:
        return self.root / lang / f"{self.synth.key(text, lang)}.wav"

    def get(self, text: str, lang: str) -> NDArray[Any]:
        """Recorded audio where the bank recorded it; else cached: from memory, else from disk,
        else rendered and stored."""
        recorded = self.recorded.get(text, lang)
        if recorded is not None:
            return recorded
        if not self.keep(text, lang):
            later = (lang, text) in self._later
            self._later.discard((lang, text))
            return self.synth.render(text, lang, urgent=not later)
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

    def parts(self, text: str, lang: str) -> list[str]:
        """The pieces a sentence is rendered and played in: whole where it is recorded or cached, or
        quick to render (espeak-ng); clause by clause for the neural Mandarin voice, whose first
        clause then plays while the rest renders (a whole balance sentence takes most of a second)."""
        if voice_name(lang) != zh_neural.VOICE_ID or self.keep(text, lang) or self.recorded.get(text, lang) is not None:
            return [text]
        first, *rest = zh_neural.clauses(text)
        self._later.update((lang, part) for part in rest)  # rendered after any call's first words
        return [first, *rest]

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

    def _store(self, path: Path, samples: NDArray[Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # a name of its own: two workers rendering the same prompt never write one file
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.stem, suffix=".tmp", delete=False) as tmp:
            write_wav(tmp, samples, self.synth.sample_rate)
        Path(tmp.name).replace(path)  # atomic: a half-written prompt is never played
