"""A caller who seems to take their leave: the line hangs up only when it is sure.

Hanging up on a caller who did not mean it costs them the call; one more question costs a
few seconds, and a caller who does mean it can always hang up themselves. So a goodbye the NLU
is less than ``CLEAR`` sure of ends the call only where the caller was just asked whether there
is anything else, and even there a follow-up to the last request comes first ("那再之前呢" after
the history, once read as a goodbye at 0.51). From a menu it asks whether there is anything
else; in the middle of a service it counts as not understood, and the service's step is asked again.
"""

from __future__ import annotations

from collections.abc import Callable

from voicebot.dialog.repair import CLEAR
from voicebot.dialog.steering import Steering


def take_leave(engine: Steering, confidence: float, goodbye: Callable[[], None],
               anything_else: Callable[[], None], follow_up: Callable[[], bool]) -> None:
    """A goodbye understood with ``confidence``: ``goodbye`` (hang up), ``anything_else`` (ask),
    ``follow_up`` (the turn read as a follow-up to the last request, if it is one) or a failed turn."""
    if confidence >= CLEAR:
        goodbye()
    elif engine.mode == "after":
        if not follow_up():
            goodbye()
    elif engine.flow is None:
        anything_else()
    else:
        engine.fail("no_match")
