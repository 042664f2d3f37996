"""What a caller wants when they first say what they do not want.

"Not my balance, I want my transactions", "I don't want to transfer anything, I just want my
balance", "不是查余额，我要看明细": a sentence classifier weighs the refused service as much as the
wanted one, and the refused one often wins. When a turn opens with a refusal and later turns to
what the caller wants ("I want", "just", "but", "instead"; "我要", "就想", "而是"), only that part is
understood. A turn that describes a situation ("I don't have my card", "我不记得密码") is left whole:
only refusals open the rule.
"""

from __future__ import annotations

import re

_REFUSAL = {
    "en-US": re.compile(r"^\W*(?:no|nope|not (?:my|the|a|an|to|for|about|that|this|your)|"
                        r"i(?:'m| am) not (?:calling|asking|phoning) (?:about|for)|"
                        r"i (?:don'?t|do not) (?:want|need)|i didn'?t (?:want|ask for))\b", re.IGNORECASE),
    "zh-CN": re.compile(r"^\W*(?:不是|不要|不用|不想|我不要|我不想|我不是)"),
}
_TURN = {
    "en-US": re.compile(r"\b(?:i (?:just |only |really )?(?:want|need|would like)|i'd (?:just )?like|"
                        r"just|only|but|instead|rather)\b", re.IGNORECASE),
    "zh-CN": re.compile(r"我(?:就|只)?(?:要|想)|就想|只想|而是|是要|是想"),
}


def wanted_part(text: str, lang: str) -> str:
    """The part of ``text`` after a refusal that names what the caller wants, else ``text`` itself."""
    refusal, turn = _REFUSAL.get(lang), _TURN.get(lang)
    if refusal is None or turn is None:
        return text
    opened = refusal.match(text)
    if not opened:
        return text
    wanted = turn.search(text, opened.end())
    if wanted is None:
        return text
    rest = text[wanted.start():].strip(" ,.，。!?！？")
    said = rest[wanted.end() - wanted.start():].strip(" ,.，。!?！？")  # what follows the turn itself
    return rest if said else text
