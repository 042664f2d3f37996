"""The caller's survey after an agent conversation: one question, 1 to 5 by key or voice, skippable.

The voice session calls ``agent_finished`` (with the call's engine) when the agent hangs up a bridged
call; the call is open again for this one question (``[dialog] survey = true``). The score
goes into the call record (CDR ``survey_score``); no answer, "#" or silence is no score.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voicebot.dialog.actions import Action
from voicebot.dialog.ask import Ask
from voicebot.dialog.context import CallContext
from voicebot.dialog.flows import Flow

if TYPE_CHECKING:
    from voicebot.dialog.steering import Steering

SCORE_WORDS = {
    "en-US": {1: ("one", "poor", "very poor", "bad"), 2: ("two",), 3: ("three", "okay", "average"),
              4: ("four", "good"), 5: ("five", "excellent", "very good")},
    "zh-CN": {1: ("一分", "一", "幺", "很差", "不满意"), 2: ("二", "两分", "两"), 3: ("三", "一般"),
              4: ("四", "满意"), 5: ("五", "非常满意", "很好")},
}
SKIP_WORDS = {"en-US": ("skip", "no thanks", "no thank you"), "zh-CN": ("跳过", "不用了", "不评")}


def survey_ask(lang: str, prompt: str) -> Ask:
    """The question: keys 1-5 (or what each means, said), '#' to skip."""
    words = {str(n): (*said, str(n)) for n, said in SCORE_WORDS[lang].items()}
    return Ask("menu", prompt, options={**{str(n): n for n in range(1, 6)}, "#": 0},
               words={**words, "#": SKIP_WORDS[lang]}, step="survey", optional=True)


def survey(ctx: CallContext) -> Flow:
    score = yield survey_ask(ctx.lang, ctx.t("survey_ask"))
    ctx.record.survey_score = score or None
    ctx.say("survey_thanks" if score else "survey_skipped")
    ctx.say("goodbye")
    ctx.hangup()


def agent_finished(engine: Steering) -> list[Action]:
    """The engine's answer to an agent hanging up: the survey once, or [] (the call just ends)."""
    ctx = engine.ctx
    rec = ctx.record
    if not engine.ended or rec.outcome != "transferred" or not ctx.settings.survey or rec.survey_asked:
        return []
    rec.survey_asked = True
    ctx.ended = False
    engine.mode, engine.service, engine.flow = "flow", None, survey(ctx)
    engine.advance(None, first=True)
    return engine.finish()
