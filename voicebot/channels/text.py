"""The text channel: one line per caller turn, actions printed as a transcript or JSON lines.

Input lines: free text is caller speech; ``dtmf:DIGITS`` are key presses; ``silence`` is a
no-input timeout; end of input is the caller hanging up.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from voicebot.dialog.actions import Action, Collect, Hangup, Say, ServiceResult, Transfer
from voicebot.dialog.context import CallRecord
from voicebot.dialog.engine import DialogEngine
from voicebot.dialog.events import Event, HangUp, Keys, NoInput, Speech


def parse_line(line: str) -> Event:
    line = line.strip()
    if line.lower().startswith("dtmf:"):
        return Keys(line[5:].strip())
    if line.lower() in ("silence", ""):
        return NoInput()
    return Speech(line)


def as_json(action: Action) -> str:
    return json.dumps(action.to_json(), ensure_ascii=False)


def as_transcript(action: Action) -> str | None:
    if isinstance(action, Say):
        return f"bot: {action.text}"
    if isinstance(action, Collect):
        return None
    if isinstance(action, ServiceResult):
        return f"     [service {action.id}: {action.status}]"
    if isinstance(action, Transfer):
        return f"     [transfer to {action.target}, reason {action.reason}]"
    if isinstance(action, Hangup):
        return "     [bot hangs up]"
    return None


def run_chat(engine: DialogEngine, lines: Iterable[str], emit: Callable[[Action], None],
             before_read: Callable[[str | None], None] | None = None) -> CallRecord:
    """Drive one call from ``lines`` until the bot ends it or the input ends (a hang-up)."""
    for action in engine.start():
        emit(action)
    if before_read:
        before_read(engine.expecting)
    for line in lines:
        for action in engine.handle(parse_line(line)):
            emit(action)
        if engine.ended:
            break
        if before_read:
            before_read(engine.expecting)
    else:
        engine.handle(HangUp())
    return engine.close()
