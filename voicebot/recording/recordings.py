"""The line's recordings as the serving processes and the CLI see them: the store under the
configured key, and, for a channel, what starts recording each new call."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from voicebot.channels.call import CallStart
from voicebot.channels.call_events import CallEvents
from voicebot.dialog.context import CallContext
from voicebot.recording.recorder import CallRecorder
from voicebot.recording.sealing import SealingError, load_key
from voicebot.recording.settings import RecordingSettings
from voicebot.recording.store import PurgeTimer, RecordingStore

log = logging.getLogger("voicebot.recording")


class Recordings:
    def __init__(self, settings: RecordingSettings, path: Callable[[str], Path], *, writing: bool = True) -> None:
        """``path`` resolves the configured paths; ``writing``: a serving process (makes the key if missing)."""
        self.settings = settings
        key = load_key(settings.key, path(settings.key_file), create=writing) if writing or settings.key \
            or path(settings.key_file).exists() else None
        self.store = RecordingStore(path(settings.dir), key, settings.keep_days)

    def for_channel(self, channel: str, rate: int, frame_ms: int = 20) -> CallStart:
        """What a channel's ``CallKit`` calls with each new call: records it, unless its region is off."""

        def start(events: CallEvents, ctx: CallContext) -> None:
            if not self.settings.records(ctx.region):
                return
            recorder = CallRecorder(self.store, ctx.call_id, rate, channel, self.settings.tail_ms, frame_ms)
            events.subscribe(recorder.on_event)
            events.tap(recorder.on_audio)

        return start

    def purging(self) -> PurgeTimer:
        """The purge, now and every ``purge_every_h`` hours, on its own thread (started)."""
        return PurgeTimer(self.store, self.settings.purge_every_h).start()


def line_recordings(settings: RecordingSettings, path: Callable[[str], Path]) -> Recordings | None:
    """A serving process's recordings when ``[recording]`` is on; SealingError saying why if its key
    cannot be used."""
    if not settings.enabled:
        return None
    try:
        return Recordings(settings, path)
    except OSError as exc:
        raise SealingError(f"cannot record calls: {exc}") from exc
