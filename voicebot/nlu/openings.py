"""A request behind a greeting: "hi, yes, good morning, I just wanted to see how much money I've got".

A sentence classifier reads such a turn as a greeting (every opening word is one) and the
request is lost. So the opening is taken off before the turn is understood: any run of
greetings (the ``greet`` examples of the training data, the one list trainers keep), hesitations
("um", "well"; "嗯", "那个") and, next to those, acknowledgements ("yes", "okay"; "对", "好的").
What is left is understood when it says something; a turn that is all opening stays whole (a
greeting is answered as one). A lone "yes" or "okay" before a request is not an opening: at a
question it is the answer.
"""

from __future__ import annotations

import re
from functools import cache

from voicebot import PROJECT_DIR
from voicebot.nlu.data import load_examples

HESITATIONS = {
    "en-US": ("um", "uh", "er", "erm", "hmm", "ah", "well", "so", "right so"),  # not "oh": a digit
    "zh-CN": ("嗯", "呃", "啊", "哦", "额", "那个", "这个", "就是", "请问", "麻烦问一下", "我想问一下"),
}
ACKNOWLEDGEMENTS = {
    "en-US": ("yes", "yeah", "yep", "ok", "okay", "right", "sure", "thanks", "thank you"),
    "zh-CN": ("对", "对的", "是", "是的", "好", "好的", "谢谢"),
}
_SEPARATORS = " ,.;:!?，。、；：！？~"
REQUEST_UNIT = {"en-US": r"[\w']+", "zh-CN": r"[\u4e00-\u9fff]"}  # a request after an opening has two at least


@cache
def _greetings(lang: str) -> tuple[str, ...]:
    data = PROJECT_DIR / "nlu_data" / lang
    examples = load_examples(data) if data.is_dir() else []
    return tuple(e.text.lower() for e in examples if e.intent == "greet")


@cache
def _openers(lang: str) -> tuple[tuple[str, bool], ...]:
    """Each opening phrase, longest first, with whether it opens a turn by itself (not a mere 'yes')."""
    own = {p: True for p in (*_greetings(lang), *HESITATIONS.get(lang, ()))}
    own.update({p: False for p in ACKNOWLEDGEMENTS.get(lang, ()) if p not in own})
    return tuple(sorted(own.items(), key=lambda item: -len(item[0])))


def _strip_one(text: str, lang: str) -> tuple[str, bool] | None:
    """``text`` without one opening phrase at its start (and whether it was a greeting or hesitation)."""
    lowered = text.lower()
    for phrase, opens in _openers(lang):
        if not lowered.startswith(phrase):
            continue
        rest = text[len(phrase):]
        # a whole word: "hi" is not the start of "history"; in Chinese, which has no spaces, a
        # one-character opening needs a pause after it ("额" opens "额度", "对" opens "对账单")
        # or another opening ("喂你好")
        if rest and rest[0] not in _SEPARATORS and (lang != "zh-CN" or len(phrase) == 1) \
                and not (lang == "zh-CN" and _strip_one(rest, lang)):
            continue
        return rest.lstrip(_SEPARATORS), opens
    return None


def request_part(text: str, lang: str) -> str:
    """``text`` after its opening of greetings and hesitations, or ``text`` itself."""
    rest, opened = text.strip(_SEPARATORS), False
    while rest and (step := _strip_one(rest, lang)) is not None:
        rest, opens = step
        opened = opened or opens
    if not opened or len(re.findall(REQUEST_UNIT[lang] if lang in REQUEST_UNIT else r"\w+", rest)) < 2:
        return text  # nothing left that says something ("hello anyone", "good morning there")
    return rest
