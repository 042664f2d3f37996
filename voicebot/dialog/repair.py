"""Repair: what the bot does when it is not sure what a caller wants, and when a caller refines
or corrects a request.

- A likely but unsure service is offered ("Did you mean a same-city transfer?"), two close
  guesses are offered together, a request for a whole family ("pay a bill") opens that family
  and asks which one, and nothing understood gets a short reprompt with examples.
- A follow-up ("and euros?", "what about last month", "and my credit card") is read against
  the request before it; a correction at a confirmation ("no, two hundred", "I said
  electricity") changes that request instead of cancelling it.

The no-match count, the keypad fallback and the agent hand-over stay the engine's; a service
accepted here still runs its own confirmation before any money moves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from voicebot.catalogue import Catalogue, Group, Service
from voicebot.dialog.actions import Collect
from voicebot.dialog.ask import Ask
from voicebot.dialog.context import CallContext, DialogSettings
from voicebot.dialog.inputs import Correction
from voicebot.dialog.menus import menu_ask, out_of_scope_text, spoken_list
from voicebot.dialog.periods import earlier
from voicebot.nlu import entities
from voicebot.nlu.parser import NOT_A_REQUEST, NluResult
from voicebot.redact import redact

if TYPE_CHECKING:
    from voicebot.dialog.steering import Steering

SUGGEST_MIN = 0.2  # below this nothing was understood
SECOND_MIN = 0.12  # a second guess at least this likely ...
CLOSE = 0.25  # ... and this close to the first is offered too
SIBLINGS_CLOSE = 0.45  # two members of one family ("the phone bill": landline or mobile?) even more so
FAMILY_MARGIN = 0.15  # "money": investments or a transfer? neither is offered
CLEAR = 0.9  # a navigation word this sure wins over an answer to "which of the two?" read in context
# the classifier's (calibrated) belief that the turn asks for nothing we offer, at or above which
# a service is asked about rather than started: "show me recent activity in my backyard"
NOT_OURS_DOUBT = 0.2
# the same for a banking matter no service answers ("why was my transfer declined"), an agent's;
# 0.25 until that class learned real customers' matters (BANKING77, CLINC150): then it stood at
# 0.25-0.3 behind plain requests ("how much is in my pnc account") and 0.3 asked 5 fewer of 1547
# English turns, acted on none more wrongly, and changed no Mandarin one
AGENTS_DOUBT = 0.3

#: Requests the caller hears as examples when nothing was understood (a test parses each one).
EXAMPLE_REQUESTS = {"en-US": ("'what's my balance'", "'I lost my card'", "'pay a bill'"),
                    "zh-CN": ("“查余额”", "“我的卡丢了”", "“我要缴费”")}

# words that mark a follow-up to the last request: "and euros?", "what about last month", "那欧元呢"
_FOLLOW_UP = {"en-US": re.compile(r"^(?:and(?: what| how)? about|what about|how about|and for|and|also)\b\s*"),
              "zh-CN": re.compile(r"^(?:那么|那(?![个就])|还有|另外)\s*")}
_TRAILING = re.compile(r"[\s?？呢吗的]+$")
# words that mark a correction at a confirmation: "no, two hundred", "I said electricity", "不是，改成两百"
_CORRECTING = re.compile(r"\b(?:no|not|nope|i said|i meant|make it|change it to|actually|rather)\b"
                         r"|不是|不对|改成|我说的是|是说")


@dataclass(frozen=True)
class Decision:
    """What to do with an understood request: start | confirm | choose | family | none."""

    action: str
    services: tuple[Service, ...] = ()
    group: Group | None = None
    reason: str | None = None  # a hand-over's agent reason ("consult"), when a turn's intent hands over


@dataclass(frozen=True)
class Offered:
    """A service the caller is asked about; accepting it starts it with the original request's slots."""

    service: Service
    nlu: NluResult
    text: str


NOT_THAT = "not_that"


def decide(nlu: NluResult, cat: Catalogue, settings: DialogSettings, members: frozenset[str] = frozenset(),
           member_min: float = SUGGEST_MIN) -> Decision:
    """From the classifier's ranking to an action; ``members`` are the services of the menu the
    caller is answering (naming one of them there is an answer, not a guess, when at least
    ``member_min`` sure: see ``menu_members``)."""
    ranking = nlu.ranking or ((nlu.intent, nlu.confidence),)
    top, confidence = ranking[0]
    runner_up = ranking[1][1] if len(ranking) > 1 else 0.0
    an_agents = max((c for i, c in ranking if cat.hands_over(i)), default=0.0)
    if members:
        answer = _member_named(ranking, members, settings, cat, an_agents, member_min)
        if answer is not None:
            return Decision("start", (cat.by_id[answer],))
    handed = cat.hands_over(top)
    if handed is not None:  # a banking matter no service answers: an agent's, when sure
        sure = confidence >= settings.min_confidence
        return Decision("start", (cat.by_id["agent"],), reason=handed.id) if sure else Decision("none")
    if top in cat.family_by_intent:  # a family only when it clearly beats the next guess
        sure = confidence >= SUGGEST_MIN and confidence - runner_up >= FAMILY_MARGIN
        return Decision("family", group=cat.family_by_intent[top]) if sure else Decision("none")
    service = cat.by_id.get(top)
    if service is None or confidence < SUGGEST_MIN:
        return Decision("none")
    needed = settings.min_confidence_money if service.moves_money else settings.min_confidence
    not_ours = max((c for i, c in ranking if i in NOT_A_REQUEST), default=0.0)
    if confidence >= needed and ((not_ours < NOT_OURS_DOUBT and an_agents < AGENTS_DOUBT) or service.id == "agent"):
        return Decision("start", (service,))
    second = next(((cat.by_id[i], c) for i, c in ranking[1:] if i in cat.by_id), None)
    if second is not None and second[1] >= SECOND_MIN:
        siblings = {p[:-1] for p in service.paths} & {p[:-1] for p in second[0].paths}
        if confidence - second[1] <= (SIBLINGS_CLOSE if siblings else CLOSE):
            return Decision("choose", (service, second[0]))
    return Decision("confirm", (service,))


def menu_members(cat: Catalogue, path: str, settings: DialogSettings) -> tuple[frozenset[str], float]:
    """The services naming which answers menu ``path``, and how sure that must be. The entry menu
    asks an open question ("tell me what you need, or press a key"): naming the loss report (key 3)
    or an agent (key 0) there needs the confidence any request needs ("clear what i owe on my card"
    is no loss report at 0.42); a submenu's closed question is answered by a word ("gas")."""
    return cat.members(path), settings.min_confidence if path == "" else SUGGEST_MIN


def _member_named(ranking: tuple[tuple[str, float], ...], members: frozenset[str], settings: DialogSettings,
                  cat: Catalogue, an_agents: float, member_min: float) -> str | None:
    """The menu's service a turn names, answering the menu: the first guess, or the second when the
    first is no sure reading of its own ("gas" at the bill menu, heard as the bill family), each as
    sure as the menu asks (``member_min``: at the entry menu, as sure as any request). Not when
    the turn may be a matter for an agent: at the entry menu, where every call's first request is
    heard, "my card keeps getting refused" is no loss report, nor "the machine rejected my card"
    (a replacement, surely) one because the loss report came second."""
    if an_agents >= AGENTS_DOUBT:
        return None
    (top, confidence), *rest = ranking
    if top in members:
        return top if confidence >= member_min else None
    if not rest or confidence >= settings.min_confidence or cat.hands_over(top):
        return None
    second, likelihood = rest[0]
    return second if second in members and likelihood >= member_min else None


def with_reason(nlu: NluResult, reason: str | None) -> NluResult:
    """The request with a hand-over's reason as its ``agent_reason`` slot (the agent flow asks none)."""
    if reason is None:
        return nlu
    return replace(nlu, entities=[*nlu.entities, {"entity": "agent_reason", "value": reason}])


def examples(lang: str) -> str:
    return spoken_list(list(EXAMPLE_REQUESTS[lang]), lang)


class Repair:
    """The engine's helper for unsure requests, family requests, follow-ups and corrections."""

    def __init__(self, engine: Steering) -> None:
        self.engine = engine
        self.last: tuple[Service, str] | None = None  # the last service started and the words that asked
        # the "which of the two?" the caller is answering: that Ask, the request it came from, the two
        self.asked: tuple[Ask, str, frozenset[str]] | None = None

    @property
    def ctx(self) -> CallContext:
        return self.engine.ctx

    def remember(self, service: Service, text: str) -> None:
        if text:
            self.last = (service, text)

    # -- unsure requests -------------------------------------------------------------------
    def understood(self, nlu: NluResult, text: str) -> bool:
        """Act on a request outside a flow's own answers; False if nothing was understood."""
        engine = self.engine
        if engine.mode == "after" and self.follow_up(text):
            return True
        members, member_min = menu_members(engine.cat, engine.menu_path, self.ctx.settings) \
            if engine.mode == "menu" else (frozenset(), SUGGEST_MIN)
        decision = decide(nlu, engine.cat, self.ctx.settings, members, member_min)
        if decision.action != "start" and self.answered_in_context(text):
            return True
        if engine.mode == "flow":  # in a flow only a sure request for another service interrupts it
            if decision.action != "start" or decision.reason:
                return False
            if decision.services[0] is engine.service:  # "same city" at the card prompt of that transfer
                self.ctx.say("service_under_way", label=engine.service.label[self.ctx.lang])
                engine.present(engine.current)
            else:  # "my cell" at the card prompt of the landline bill: said, so the caller knows
                self.ctx.say("service_corrected", label=decision.services[0].label[self.ctx.lang])
                engine.start_service(decision.services[0], nlu, text)
            return True
        if decision.action == "start":
            engine.start_service(decision.services[0], with_reason(nlu, decision.reason), text)
        elif decision.action == "family" and decision.group is not None:
            self.open_family(decision.group)
        elif decision.action in ("confirm", "choose"):
            self.offer(decision, nlu, text)
        else:
            return False
        return True

    def offer(self, decision: Decision, nlu: NluResult, text: str) -> None:
        lang, engine = self.ctx.lang, self.engine
        first = decision.services[0]
        if decision.action == "confirm":
            ask = Ask("confirm", self.ctx.t("did_you_mean", label=first.label[lang]),
                      options={"1": Offered(first, nlu, text), "2": NOT_THAT},
                      words={"1": (first.label[lang], *first.keywords.get(lang, ()))}, step="did_you_mean")
        else:
            second = decision.services[1]
            ask = Ask("menu", self.ctx.t("which_of_two", first=first.label[lang], second=second.label[lang]),
                      options={"1": Offered(first, nlu, text), "2": Offered(second, nlu, text)},
                      words={"1": (first.label[lang], *first.keywords.get(lang, ()), "前面那个"),
                             "2": (second.label[lang], *second.keywords.get(lang, ()), "后面那个")},
                      step="which_service")
        engine.mode, engine.ask, engine.failures = "menu", ask, 0
        if decision.action == "choose":  # (not after "did you mean": 'nah mate' read with the request is a yes)
            self.asked = (ask, text, frozenset(s.id for s in decision.services))
        engine.present(ask)

    def open_family(self, group: Group) -> None:
        """'Pay a bill': the family's menu, asked as a question that names its members."""
        lang, engine = self.ctx.lang, self.engine
        kids = engine.cat.children(group.path)
        options = spoken_list([n.label(lang) for _, n in kids], lang)
        engine.mode, engine.menu_path, engine.failures = "menu", group.path, 0
        ask = menu_ask(engine.cat, lang, group.path)
        family = group.label[lang]
        ask.prompt = self.ctx.t("family_which", family=family[:1].upper() + family[1:], options=options,
                                first=kids[0][0], last=kids[-1][0])
        engine.ask = ask
        engine.present(ask)

    def answered_in_context(self, text: str) -> bool:
        """An answer to "which of the two?" read together with the request it answers: '家里的'
        alone is nothing (or a same-city transfer), after '话费' it is the landline bill. The
        choice is taken when the two together name it surely and clearly before the other.
        (Not for a family's question: there the family's own words outweigh the answer.)"""
        if self.asked is None or self.asked[0] is not self.engine.ask or self.ctx.nlu is None:
            return False
        _, request, choices = self.asked
        said = f"{request} {text}"
        try:
            combined = self.ctx.nlu.parse(redact(said, for_nlu=True), self.ctx.lang)
        except Exception:  # the NLU is gone: the answer alone has been understood as far as it goes
            return False
        ranked = [(i, c) for i, c in combined.ranking if i in choices]
        if not ranked or ranked[0][1] < self.ctx.settings.min_confidence or (
                len(ranked) > 1 and ranked[0][1] - ranked[1][1] < CLOSE):
            return False
        self.engine.start_service(self.engine.cat.by_id[ranked[0][0]], combined, said)
        return True

    def not_that(self) -> None:
        """The caller said no to 'did you mean': ask again briefly, at the menu they were at."""
        engine = self.engine
        engine.ask = menu_ask(engine.cat, self.ctx.lang, engine.menu_path)
        self.ctx.say("not_that", examples=examples(self.ctx.lang))
        self.ctx.out.append(Collect(engine.ask.expect))

    def not_understood(self, nlu: NluResult) -> None:
        """A turn nothing could act on. A caller surely asking for something the line does not
        offer ("what's the weather tomorrow") hears so, with what it does offer and how to reach
        an agent; any other turn gets the no-match reprompt."""
        brief = self.brief_reprompt()
        if nlu.intent == "out_of_scope" and nlu.confidence >= self.ctx.settings.min_confidence:
            said = out_of_scope_text(self.engine.cat, self.ctx.lang)
            self.engine.fail("out_of_scope", said, brief=said if brief else None)
        else:
            self.engine.fail("no_match", brief=brief)

    def brief_reprompt(self) -> str | None:
        """After speech nobody understood at a menu: examples instead of the whole menu again."""
        engine = self.engine
        if engine.mode != "menu" or engine.ask is None or engine.ask.step.split(":")[0] != "menu":
            return None
        return self.ctx.t("examples_hint", examples=examples(self.ctx.lang))

    # -- follow-ups ------------------------------------------------------------------------
    def follow_up(self, text: str) -> bool:
        """'and euros?' after the rates, 'what about last month' (or 'the month before that') after
        the history: the last request again with the new details, or the service the two requests
        name together."""
        if self.last is None or self.ctx.nlu is None:
            return False
        lang = self.ctx.lang
        lowered = text.lower().strip()
        lead = _FOLLOW_UP[lang].match(lowered)
        rest = _TRAILING.sub("", lowered[lead.end():] if lead else lowered)
        if not rest or (lead is None and not (lang == "zh-CN" and lowered.endswith("呢"))):
            return False
        service, said = self.last
        combined = self.ctx.nlu.parse(redact(f"{said} {rest}", for_nlu=True), lang)
        decision = decide(combined, self.engine.cat, self.ctx.settings)
        found = entities.extract(rest, today=self.ctx.bank.clock().date())
        back = earlier(rest, self.ctx.last_period) if self.ctx.last_period else None
        if back and not any(e["entity"] == "date_range" for e in found):
            found.append({"entity": "date_range", "value": f"{back[0].isoformat()}/{back[1].isoformat()}"})
        if decision.action == "start" and decision.services[0] is not service and not found:
            service = decision.services[0]
        elif not found:
            return False
        details = NluResult(rest, service.id, 1.0, service.id, found)
        self.engine.start_service(service, details, rest)
        return True

    # -- corrections at a confirmation ------------------------------------------------------
    def correction(self, nlu: NluResult | None, text: str) -> Correction | None:
        """'no, two hundred' or 'I said electricity' while a request is read back for confirmation."""
        engine, lowered = self.engine, text.lower()
        if engine.ask is None or engine.ask.step != "confirm" or engine.service is None:
            return None
        marked = bool(_CORRECTING.search(lowered))
        found = {e["entity"]: e["value"] for e in entities.extract(text, today=self.ctx.bank.clock().date())}
        if "amount" in found and (marked or nlu is None or nlu.intent not in ("affirm",)):
            return Correction(amount=Decimal(found["amount"]))
        if nlu is None or not marked:
            return None
        family = engine.service.paths[0][:-1] if engine.service.paths else None
        for intent, confidence in nlu.ranking[:3]:
            other = engine.cat.by_id.get(intent)
            if (other is not None and other is not engine.service and confidence >= SUGGEST_MIN
                    and family is not None and any(p[:-1] == family for p in other.paths)):
                return Correction(service=other, request=(nlu, text))
        return None
