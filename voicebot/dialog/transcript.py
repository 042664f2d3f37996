"""The conversation so far, as an agent may read it: both sides, secrets withheld.

Kept per call by the engine and handed to the agent's screen pop when the caller is put
through. The same rules as the log apply (see ``redact``): nothing from the PIN step at all,
card numbers masked, a number read out in groups withheld digit by digit, on both sides.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from voicebot.dialog.actions import Action, Say, ServiceResult
from voicebot.dialog.events import Event, HangUp, Keys, NoInput, Speech
from voicebot.redact import redact

MAX_LINES = 60  # the newest lines are kept: what led to the hand-over matters most


@dataclass
class Transcript:
    started: float = field(default_factory=time.monotonic)
    lines: list[dict[str, Any]] = field(default_factory=list)

    def caller(self, event: Event, *, secret: bool, number_entry: bool) -> None:
        if isinstance(event, Keys):
            text = "keys withheld (PIN step)" if secret else "keys " + redact(event.digits, caller_input=True,
                                                                              number_entry=number_entry)
        elif isinstance(event, Speech):
            text = "(words withheld: PIN step)" if secret else redact(event.text, caller_input=True,
                                                                       number_entry=number_entry)
        elif isinstance(event, NoInput):
            text = "(silence)"
        elif isinstance(event, HangUp):
            return
        self._add("caller", text)

    def bot(self, actions: list[Action]) -> None:
        said = " ".join(a.text for a in actions if isinstance(a, Say))
        if said:
            self._add("bot", redact(said))
        for action in actions:
            if isinstance(action, ServiceResult):
                self._add("service", f"{action.id}: {action.status}")

    def to_json(self) -> list[dict[str, Any]]:
        return list(self.lines)

    def _add(self, who: str, text: str) -> None:
        self.lines.append({"t": round(time.monotonic() - self.started, 1), "who": who, "text": text})
        del self.lines[:-MAX_LINES]
