"""The service catalogue and everything derived from it: key menus and the intent map."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from voicebot.catalogue.model import AgentReason, Group, Intent, Service
from voicebot.catalogue.services import (
    AGENT_REASONS,
    BACK_KEY,
    CORPORATE,
    GROUPS,
    INTENTS,
    LANGUAGE_KEY,
    PERSONAL,
    REPEAT_KEY,
    SERVICES,
)

__all__ = [
    "AGENT_REASONS", "BACK_KEY", "CORPORATE", "LANGUAGE_KEY", "PERSONAL", "REPEAT_KEY",
    "AgentReason", "Catalogue", "Group", "Intent", "MenuNode", "Service", "catalogue",
]


@dataclass(frozen=True)
class MenuNode:
    """A node of the key tree: a group menu or a service leaf."""

    path: str
    group: Group | None = None
    service: Service | None = None

    def label(self, lang: str) -> str:
        item = self.group or self.service
        assert item is not None
        return item.label[lang]


class Catalogue:
    """Index over the declarative catalogue; menus and maps are derived, never hand-kept."""

    def __init__(self, services: tuple[Service, ...], groups: tuple[Group, ...],
                 intents: tuple[Intent, ...], agent_reasons: tuple[AgentReason, ...]) -> None:
        self.services = services
        self.groups = groups
        self.intents = intents
        self.agent_reasons = agent_reasons
        self.by_id = {s.id: s for s in services}
        self.family_by_intent = {g.intent: g for g in groups if g.intent}
        self.nodes: dict[str, MenuNode] = {g.path: MenuNode(g.path, group=g) for g in groups}
        for service in services:
            for path in service.paths:
                if path in self.nodes:
                    raise ValueError(f"key path {path!r} is used twice")
                self.nodes[path] = MenuNode(path, service=service)
        for path in self.nodes:
            if path and path[:-1] not in self.nodes:
                raise ValueError(f"key path {path!r} has no parent menu")
        if len(self.by_id) != len(services):
            raise ValueError("duplicate service id")
        self.handed_over: dict[str, AgentReason] = {}
        for intent in intents:
            if not intent.hands_over:
                continue
            reason = self.reason(intent.hands_over)
            if reason is None:
                raise ValueError(f"intent {intent.id!r} hands over with an unknown reason {intent.hands_over!r}")
            self.handed_over[intent.id] = reason

    def children(self, path: str) -> list[tuple[str, MenuNode]]:
        """The keys offered at menu ``path``, in key order with 0 last."""
        kids = [(p[-1], n) for p, n in self.nodes.items() if p and p[:-1] == path]
        return sorted(kids, key=lambda kv: (kv[0] == "0", kv[0]))

    def node(self, path: str) -> MenuNode | None:
        return self.nodes.get(path)

    def members(self, path: str) -> frozenset[str]:
        """The services menu ``path`` offers by key (naming one there answers it); none off a group's menu."""
        node = self.nodes.get(path)
        if node is None or node.group is None:
            return frozenset()
        return frozenset(n.service.id for _, n in self.children(path) if n.service)

    def segment_of(self, path: str) -> str | None:
        """'1' for personal, '2' for corporate paths, None at the entry menu."""
        return path[:1] if path[:1] in (PERSONAL, CORPORATE) else None

    def intent_to_service(self) -> dict[str, str]:
        """Map of NLU intent name to catalogue service id (intents are named by id)."""
        return {s.id: s.id for s in self.services}

    def leaf_paths(self) -> list[tuple[str, Service]]:
        """Every key path that ends at a service: what the walk-every-path tests cover."""
        return sorted((p, n.service) for p, n in self.nodes.items() if n.service is not None)

    def reason(self, reason_id: str) -> AgentReason | None:
        return next((r for r in self.agent_reasons if r.id == reason_id), None)

    def hands_over(self, intent_id: str) -> AgentReason | None:
        """The agent reason a sure turn of ``intent_id`` is handed over with (None: not such an intent)."""
        return self.handed_over.get(intent_id)


@cache
def catalogue() -> Catalogue:
    return Catalogue(SERVICES, GROUPS, INTENTS, AGENT_REASONS)
