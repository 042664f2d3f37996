"""Types of the declarative service catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field

Text = dict[str, str]  # language -> wording


@dataclass(frozen=True)
class Service:
    """One service the line offers, reachable by keys and by speech.

    ``paths`` are full key paths from the entry menu (a service may sit in several
    menus); ``handler`` names the dialog flow that serves it; ``params`` are fixed
    arguments for that flow (e.g. which bill type).
    """

    id: str
    label: Text
    handler: str
    paths: tuple[str, ...] = ()
    auth: bool = True
    moves_money: bool = False
    params: dict[str, str | bool] = field(default_factory=dict)
    keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def text_param(self, name: str) -> str:
        """A fixed text argument of the flow (``params``); a catalogue without it is a bug."""
        value = self.params[name]
        if not isinstance(value, str):
            raise TypeError(f"service {self.id}: params[{name!r}] must be text, not {value!r}")
        return value


@dataclass(frozen=True)
class Group:
    """A menu node that only leads to other nodes (e.g. "1 2" transfers).

    ``intent`` names the NLU intent of a request for the family as a whole ("pay a bill"):
    the caller is taken to this menu and asked which member they mean.
    """

    path: str
    label: Text
    keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)
    intent: str = ""


@dataclass(frozen=True)
class Intent:
    """A conversation-level id with no key path (affirm, goodbye, ...)."""

    id: str
    keywords: dict[str, tuple[str, ...]]
    navigation: bool = False  # moves the caller about the line at any prompt (back, main menu, ...)
    #: the agent reason a sure turn of this intent is handed over with: a banking matter the
    #: line has no service for ("my card keeps getting declined") is an agent's to look into
    hands_over: str | None = None


@dataclass(frozen=True)
class AgentReason:
    """A reason a caller asks for a human agent; the agent menu is built from these."""

    id: str
    key: str
    label: Text
