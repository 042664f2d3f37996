"""A request after a story: "I was at the shop yesterday and my card got declined, what's my balance".

The classifier weighs every word, and a story that names another service ("my card got
declined") can outweigh the short request at its end. When a turn goes on, after a story of
some length, with an explicit request ("what's", "how much", "can you", "I want", "please";
"帮我", "我要", "请"), that part is understood on its own as well. If the classifier is sure it
names a service of another family than the whole turn's reading, it is what the caller asked
for; a vague request ("can you help", "what is the cost") leaves the whole turn's reading.
Within one family the whole turn is kept: its story carries details the request leaves out
("my daughter studies in another city and I need to send her money": a remote transfer).
"""

from __future__ import annotations

import re

from voicebot.nlu.parser import NluResult

_CUES = {
    "en-US": re.compile(r"\b(?:what(?:'s| is| are| was)|how (?:much|many|do|can)|(?:can|could|would) (?:you|i)|"
                        r"i (?:want|need|would like)|i'd like|please|tell me|show me|check)\b", re.IGNORECASE),
    "zh-CN": re.compile(r"帮我|请帮|麻烦你|我要|我想|我需要|能不能|可不可以|查一下|查查"),
}
STORY_MIN = {"en-US": 4, "zh-CN": 5}  # words (characters in Chinese) before the request, at least
REQUEST_MIN = {"en-US": 2, "zh-CN": 3}


def _size(text: str, lang: str) -> int:
    if lang == "zh-CN":
        return len(re.findall(r"[\u4e00-\u9fff]", text))
    return len(re.findall(r"[\w']+", text))


def request_clause(text: str, lang: str) -> str | None:
    """The part of ``text`` from its first request cue after a story; else None."""
    cue = _CUES.get(lang)
    if cue is None:
        return None
    for match in cue.finditer(text):
        clause = text[match.start():].strip(" ,.，。!?！？")
        if _size(text[:match.start()], lang) >= STORY_MIN[lang] and _size(clause, lang) >= REQUEST_MIN[lang]:
            return clause
    return None


def _family(result: NluResult) -> str:
    return (result.service or result.intent).split(".")[0]


SURE = 0.9  # how sure the classifier must be of the request alone (vaguer ones, "can you help", are not)


def prefer_request(whole: NluResult, request: NluResult) -> NluResult:
    """The request clause's reading when it surely names a service of another family (surer than the
    whole turn's reading), else the whole's."""
    if request.service is not None and _family(request) != _family(whole) \
            and request.confidence >= max(SURE, whole.confidence):
        return request
    return whole
