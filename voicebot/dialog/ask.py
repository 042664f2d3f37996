"""An ``Ask`` is one step where the bot waits for the caller; flows yield them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Ask:
    """What the bot waits for at one step.

    ``prompt`` is said first; ``keypad`` replaces it after two failures (keys only).
    For ``menu``/``confirm`` steps, ``options`` maps a key to the value the flow receives and
    ``words`` maps the same key to words a caller may say instead. ``validate`` returns an
    error sentence for a well-formed but unacceptable answer (e.g. more than the balance).
    """

    expect: str
    prompt: str
    keypad: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    validate: Callable[[Any], str | None] | None = None
    step: str = ""
    optional: bool = False  # a question the caller may leave (a survey): a failed answer is None, no agent

    def __post_init__(self) -> None:
        self.keypad = self.keypad or self.prompt
        self.step = self.step or self.expect
