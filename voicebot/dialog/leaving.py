"""A caller who seems to take their leave: the line hangs up only when it is sure.

Hanging up on a caller who did not mean it costs them the call; one more question costs a
few seconds, and a caller who does mean it can always hang up themselves. So a goodbye the NLU
is less than ``CLEAR`` sure of ("那再之前呢" read as one at 0.51) ends the call only where the
caller was just asked whether there is anything else. From a menu it asks exactly that; in the
middle of a service it counts as not understood, and the service's step is asked again.
"""

from __future__ import annotations

from collections.abc import Callable

from voicebot.dialog.repair import CLEAR
from voicebot.dialog.steering import Steering


def take_leave(engine: Steering, confidence: float, goodbye: Callable[[], None],
               anything_else: Callable[[], None]) -> None:
    """A goodbye understood with ``confidence``: ``goodbye`` (hang up), ``anything_else`` (ask), or a failed turn."""
    if confidence >= CLEAR or engine.mode == "after":
        goodbye()
    elif engine.flow is None:
        anything_else()
    else:
        engine.fail("no_match")
