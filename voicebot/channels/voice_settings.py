"""How a call listens and waits, the same on every channel: the ``[voice]`` configuration section.

SIP, the browser phone and the microphone all build their calls from one ``VoiceSettings``
(``channels.call``); ``[voice.sip]``, ``[voice.browser]`` and ``[voice.mic]`` override single
values only where one channel really differs. It imports only the language and
engine names, so the configuration can read it without the channels' heavier modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from voicebot import LANGUAGES as LANGS
from voicebot import SPEECH_ENGINES as ENGINES

CHANNELS = ("sip", "browser", "mic")


@dataclass(frozen=True)
class VoiceSettings:
    frame_ms: int = 20
    endpoint_ms: int = 700  # trailing silence that ends a caller's turn
    no_input_s: float = 6.0  # after a prompt ends, this long without speech or keys is "no input"
    interdigit_s: float = 3.0  # a digit entry without '#' ends after this pause
    entry_pause_s: float = 1.5  # after a spoken digit group, this much more silence ends the number
    barge_in: bool = True  # the caller's speech stops the bot's prompt (keys always do)
    engines: dict[str, str] = field(default_factory=dict)  # per language: auto | vosk | whisper

    def engine(self, lang: str) -> str:
        return self.engines.get(lang, "auto")


class VoiceSettingsError(ValueError):
    """A ``[voice]`` value that cannot be used; the message names it."""


_NUMBERS = {f.name: f.type for f in fields(VoiceSettings) if f.name not in ("engines", "barge_in", "frame_ms")}


def voice_settings(table: dict[str, Any], base: VoiceSettings | None = None, where: str = "[voice]") -> VoiceSettings:
    """``base`` (the defaults) with the values of one TOML table applied; unknown keys are refused."""
    base = base or VoiceSettings()
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key in CHANNELS and isinstance(value, dict):
            continue  # a channel's overrides: read by ``for_channel``
        if key == "barge_in":
            if not isinstance(value, bool):
                raise VoiceSettingsError(f"{where} barge_in must be true or false, not {value!r}")
            changes[key] = value
        elif key == "engines":
            engines = {str(k): str(v) for k, v in dict(value).items()}
            for lang, engine in engines.items():
                if lang not in LANGS or engine not in ENGINES:
                    raise VoiceSettingsError(f"{where} engines: {lang} = {engine!r} (languages "
                                             f"{', '.join(LANGS)}; engines {', '.join(ENGINES)})")
            changes[key] = {**base.engines, **engines}
        elif key in _NUMBERS:
            try:
                number = float(value) if _NUMBERS[key] == "float" else int(value)
            except (TypeError, ValueError) as exc:
                raise VoiceSettingsError(f"{where} {key} must be a number, not {value!r}") from exc
            if number <= 0:
                raise VoiceSettingsError(f"{where} {key} must be above 0, not {value!r}")
            changes[key] = number
        else:
            known = ", ".join([*_NUMBERS, "barge_in", "engines", *CHANNELS])
            raise VoiceSettingsError(f"{where}: unknown setting {key!r} (known: {known})")
    return replace(base, **changes)


@dataclass(frozen=True)
class ChannelVoices:
    """The line's ``VoiceSettings`` and each channel's overrides of them."""

    common: VoiceSettings = field(default_factory=VoiceSettings)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)

    def for_channel(self, channel: str) -> VoiceSettings:
        return voice_settings(self.overrides.get(channel, {}), self.common, f"[voice.{channel}]")
