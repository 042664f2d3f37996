"""``[recording]``: whether calls are recorded, where, for how long, under which key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class RecordingSettingsError(ValueError):
    """A ``[recording]`` value cannot be used; the message names it."""


@dataclass(frozen=True)
class RecordingSettings:
    enabled: bool = True
    dir: str = "var/recordings"
    keep_days: int = 90  # recordings older than this are purged (by the serving processes, hourly)
    key_file: str = "var/recording.key"  # AES-256 key as hex; made at first use when missing
    key: str | None = None  # the key itself (hex), e.g. from VOICEBOT_RECORDING_KEY: wins over key_file
    off_regions: tuple[str, ...] = field(default_factory=tuple)  # regions whose calls are not recorded
    purge_every_h: float = 1.0
    tail_ms: int = 300  # the pause goes on this long after a card-data step (a key tone's end)

    def records(self, region: str) -> bool:
        return self.enabled and region not in self.off_regions


def recording_settings(table: dict[str, Any], env_key: str | None = None) -> RecordingSettings:
    """``[recording]`` read and checked; ``env_key``: VOICEBOT_RECORDING_KEY, if set."""
    known = {"enabled", "dir", "keep_days", "key_file", "key", "off_regions", "purge_every_h", "tail_ms"}
    unknown = set(table) - known
    if unknown:
        raise RecordingSettingsError(f"[recording] has no setting {', '.join(sorted(unknown))}")
    try:
        settings = RecordingSettings(
            enabled=bool(table.get("enabled", True)), dir=str(table.get("dir", RecordingSettings.dir)),
            keep_days=int(table.get("keep_days", RecordingSettings.keep_days)),
            key_file=str(table.get("key_file", RecordingSettings.key_file)),
            key=env_key or table.get("key") or None,
            off_regions=tuple(str(r) for r in table.get("off_regions", ())),
            purge_every_h=float(table.get("purge_every_h", RecordingSettings.purge_every_h)),
            tail_ms=int(table.get("tail_ms", RecordingSettings.tail_ms)))
    except (TypeError, ValueError) as exc:
        raise RecordingSettingsError(f"[recording]: {exc}") from exc
    if settings.keep_days < 1:
        raise RecordingSettingsError("[recording] keep_days must be at least 1")
    if settings.purge_every_h <= 0 or settings.tail_ms < 0:
        raise RecordingSettingsError("[recording] purge_every_h must be above 0 and tail_ms not negative")
    return settings
