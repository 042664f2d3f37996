"""Which recogniser hears a language: Vosk (streaming) or Whisper (whole utterances), by configuration.

``auto`` (the default) picks Vosk wherever a Vosk model is installed for the language, and for
Mandarin without one, Whisper base (installed from PyPI at set-up). Channels ask this module
for a call's recogniser and never name an engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from voicebot import SPEECH_ENGINES
from voicebot.speech.models import ModelUnavailable, is_model, model_dir

ENGINES = SPEECH_ENGINES
WHISPER_AUTO = ("zh-CN",)  # languages where auto falls back to Whisper when no Vosk model is installed


def choose(models_root: Path, lang: str, engine: str = "auto") -> str:
    """The engine a language runs on: vosk or whisper."""
    if engine not in ENGINES:
        raise ValueError(f"speech engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine != "auto":
        return engine
    if lang in WHISPER_AUTO and not is_model(model_dir(models_root, lang)):
        return "whisper"
    return "vosk"


def whisper_to_share(models_root: Path, engines: dict[str, str], langs: tuple[str, ...]) -> Path | None:
    """The installed Whisper model a cluster serves to its workers, if any of ``langs`` runs on it."""
    from voicebot.speech.whisper_files import is_installed
    from voicebot.speech.whisper_files import model_dir as whisper_dir

    if not any(choose(models_root, lang, engines.get(lang, "auto")) == "whisper" for lang in langs):
        return None
    path = whisper_dir(models_root)
    return path if is_installed(path) else None


@dataclass(frozen=True)
class SpeechBackend:
    """A language's loaded recognition model, and how to make a call's recogniser on it."""

    engine: str
    lang: str
    model: Any

    def recognizer(self, rate: int, vad: Any = None) -> Any:
        """A new per-call recogniser (StreamingRecognizer or UtteranceRecognizer, same events)."""
        if self.engine == "whisper":
            from voicebot.speech.utterance import UtteranceRecognizer

            return UtteranceRecognizer(self.model, rate, self.lang, vad)
        from voicebot.speech.asr import StreamingRecognizer

        return StreamingRecognizer(self.model, rate, vad)

    def transcribe(self, samples: NDArray[Any], rate: int) -> tuple[str, float]:
        """Whole-file recognition: (text, confidence)."""
        if self.engine == "whisper":
            heard = self.model.transcribe(samples, rate, self.lang)
            return heard.text, heard.confidence
        from voicebot.speech.vosk_results import transcribe

        return transcribe(self.model, samples, rate)


def load(models_root: Path, lang: str, engine: str = "auto") -> SpeechBackend:
    """The language's backend, its model loaded once per process (ModelUnavailable if none is installed)."""
    chosen = choose(models_root, lang, engine)
    if chosen == "whisper":
        from voicebot.speech import whisper, whisper_client

        shared = whisper_client.from_environment()  # a cluster worker: one model for all of them
        return SpeechBackend("whisper", lang, shared if shared is not None else whisper.load(models_root))
    from voicebot.speech.recognizers import load_model

    return SpeechBackend("vosk", lang, load_model(models_root, lang))


__all__ = ["ENGINES", "ModelUnavailable", "SpeechBackend", "choose", "load", "whisper_to_share"]
