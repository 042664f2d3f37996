"""Card and account numbers said as people say them: in groups, with pauses and corrections, read back."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.calls import DEMO_CARD, DEMO_PIN, Call
from voicebot.bank.bank import Bank
from voicebot.dialog.spoken_number import SpokenNumber

EN = ["six two two two", "zero two zero zero", "zero zero zero zero", "zero zero zero one"]
ZH = ["六二二二", "零二零零", "零零零零", "零零零幺"]
ZH_WHISPER = ["6222", "0200", "0000", "0001"]  # how Whisper writes the same groups: Arabic numerals


def at_card_prompt(bank: Bank, lang: str = "en-US") -> Call:
    c = Call(bank, lang=lang)
    c.path("111")  # personal -> accounts -> balance: asks for the card
    assert c.expecting == "card_number"
    return c


@pytest.mark.parametrize("lang,groups,yes", [("en-US", EN, "yes"), ("zh-CN", ZH, "对"),
                                             ("zh-CN", ZH_WHISPER, "是的")])
def test_groups_said_across_pauses_make_one_number_read_back_in_groups(bank: Bank, lang: str, groups: list[str],
                                                                        yes: str) -> None:
    c = at_card_prompt(bank, lang)
    for group in groups:
        assert c.say(group) == []  # the bot waits for the rest
        assert c.engine.gathering
    c.silence()  # the caller stopped: the number is read back before it counts
    assert c.expecting == "confirm"
    if lang == "en-US":
        assert "6 2 2 2, 0 2 0 0, 0 0 0 0, 0 0 0 1" in c.said and "right" in c.said
    else:
        assert "六二二二，零二零零，零零零零，零零零一" in c.said
    c.say(yes)
    assert c.expecting == "pin"
    c.keys(DEMO_PIN)
    assert any(a.id == "account.balance" and a.status == "ok" for a in c.services())


@pytest.mark.parametrize("confidence", [0.41, 0.2])  # free text above and below the unsure-recognition bar
def test_a_group_free_recognition_garbled_is_taken_as_the_digit_grammar_heard_it(bank: Bank,
                                                                                 confidence: float) -> None:
    """A quiet caller's first group: the digit grammar heard "six two two" unsure, free recognition
    made "the" of it. Before, that turn failed (and with it the number so far); now its digits count."""
    c = at_card_prompt(bank)
    c.say("six two")
    c.garbled("the", confidence, "two two", 0.56)
    assert c.engine.gathering and c.engine.failures == 0
    for group in EN[1:]:
        c.say(group)
    c.silence()
    assert "6 2 2 2, 0 2 0 0, 0 0 0 0, 0 0 0 1" in c.said


def test_a_request_at_the_card_prompt_is_not_taken_for_the_digits_under_it(bank: Bank) -> None:
    c = at_card_prompt(bank)
    c.garbled("i want to talk to an agent", 0.9, "eight two", 0.3)
    assert c.expecting == "menu" and "questions about our services" in c.said and not c.engine.gathering


def test_nothing_understood_and_no_digits_heard_still_fails(bank: Bank) -> None:
    c = at_card_prompt(bank)
    c.garbled("the weather", 0.8, "", 0.0)
    assert c.engine.failures == 1


def test_a_correction_replaces_what_was_just_said(bank: Bank) -> None:
    c = at_card_prompt(bank)
    c.say("six two two two zero two zero one")
    c.say("no zero two zero zero")  # the last four were wrong
    c.say("zero zero zero zero, zero zero zero two")
    c.say("sorry, zero zero zero one")
    c.silence()
    assert "6 2 2 2, 0 2 0 0, 0 0 0 0, 0 0 0 1" in c.said
    c.keys("1")
    assert c.expecting == "pin"


def test_oh_double_and_triple(bank: Bank) -> None:
    c = at_card_prompt(bank)
    c.say("six triple two")
    c.say("oh two oh oh")
    c.say("double oh double oh")
    c.say("triple oh one")
    c.silence()
    assert "6 2 2 2, 0 2 0 0, 0 0 0 0, 0 0 0 1" in c.said


def test_speech_finished_on_the_keypad_is_read_back(bank: Bank) -> None:
    c = at_card_prompt(bank)
    c.say("six two two two")
    c.keys(DEMO_CARD[4:] + "#")
    assert c.expecting == "confirm" and "6 2 2 2, 0 2 0 0" in c.said
    c.keys("1")
    assert c.expecting == "pin"


def test_no_at_the_read_back_asks_again_and_keys_need_no_read_back(bank: Bank) -> None:
    c = at_card_prompt(bank)
    for group in EN[:3] + ["zero zero zero two"]:
        c.say(group)
    c.silence()
    c.say("no")
    assert "say the number again" in c.said and c.expecting == "card_number"
    c.keys(DEMO_CARD + "#")  # keyed: taken as it is
    assert c.expecting == "pin"


def test_a_read_back_refused_twice_moves_the_caller_to_the_keypad(bank: Bank) -> None:
    c = at_card_prompt(bank)
    for group in EN[:3] + ["zero zero zero three"]:
        c.say(group)
    c.silence()
    c.say("no")  # once: asked again briefly, not the whole prompt after it
    assert c.said == "Please say the number again, or key it in and press hash." and c.expecting == "card_number"
    for group in EN[:3] + ["zero zero zero four"]:
        c.say(group)
    c.silence()
    assert "0 0 0 4. Is that right" in c.said
    c.say("no")
    assert "still have it wrong" in c.said and "Please use your keypad" in c.said and c.expecting == "card_number"
    c.keys(DEMO_CARD + "#")
    assert c.expecting == "pin"


def test_too_few_digits_are_judged_only_when_the_caller_stops(bank: Bank) -> None:
    c = at_card_prompt(bank)
    c.say("six two two two")
    c.say("zero two zero zero")
    assert c.say("") == []  # a cough or an 'um' between groups loses nothing
    c.silence()
    assert "I heard 8 digits" in c.said and "sixteen to nineteen" in c.said
    assert c.expecting == "card_number" and not c.engine.gathering


def test_a_whole_number_in_one_breath_is_read_back_at_once(bank: Bank) -> None:
    c = at_card_prompt(bank)
    c.say("six two two two zero two zero zero zero zero zero zero zero zero zero one")
    assert c.expecting == "confirm"


def test_commands_still_work_at_the_card_prompt(bank: Bank) -> None:
    c = at_card_prompt(bank)
    c.say("six two two two")
    c.say("main menu")
    assert c.expecting == "menu"


def test_the_correction_rule() -> None:
    n = SpokenNumber(16, 19)
    n.hear("six two two two, no, six two two zero")
    assert n.digits == "6220"
    n.hear("zero two zero zero zero two zero zero")
    n.hear("no")  # drops the last group said
    assert n.digits == "6220"
    assert not n.hear("what is my balance")


def test_a_spoken_card_through_voicebot_chat_jsonl(tmp_path, demo_db_template) -> None:
    import shutil

    shutil.copy(demo_db_template, tmp_path / "bank.db")
    lines = ["dtmf:1", "dtmf:1", "dtmf:1", *EN, "silence", "yes", f"dtmf:{DEMO_PIN}"]
    env = {"VOICEBOT_DB_URL": f"sqlite:///{tmp_path / 'bank.db'}", "VOICEBOT_NLU_BACKEND": "keywords",
           "VOICEBOT_LOG_FILE": str(tmp_path / "log")}
    import os

    out = subprocess.run([sys.executable, "-m", "voicebot", "chat", "--jsonl", "--lang", "en-US"],
                         input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120,
                         env={**os.environ, **env})
    actions = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    said = " ".join(a["text"] for a in actions if a["type"] == "say")
    assert "I heard 6 2 2 2, 0 2 0 0, 0 0 0 0, 0 0 0 1" in said, out.stderr[-2000:]
    assert {"type": "service", "id": "account.balance", "status": "ok"}.items() <= next(
        a for a in actions if a["type"] == "service").items()


def test_a_card_read_in_groups_of_three_is_not_logged_a_group_a_line(bank: Bank, tmp_path) -> None:
    from voicebot.logs import setup_logging

    setup_logging("INFO", tmp_path / "log")
    try:
        c = at_card_prompt(bank)
        for group in ("six two two", "two zero two", "zero zero zero", "zero zero zero", "zero zero one"):
            c.say(group)
        c.silence()
        c.say("yes")
    finally:
        setup_logging("WARNING", None)
    logged = (tmp_path / "log").read_text()
    assert "speech=" in logged and "two zero two" not in logged and "zero zero one" not in logged


def test_a_lone_no_at_the_card_prompt_is_answered(bank: Bank) -> None:
    c = at_card_prompt(bank)
    assert c.say("no") != []  # not swallowed as a correction of nothing
    assert not c.engine.gathering


def _words(text: str, unsure: dict[int, float] | None = None) -> list[tuple[str, float]]:
    """Recogniser output: every word sure, but those ``unsure`` (word index -> confidence)."""
    return [(w, (unsure or {}).get(i, 1.0)) for i, w in enumerate(text.split())]


def test_a_number_said_again_after_a_refused_read_back_is_merged_with_the_first_reading(bank: Bank) -> None:
    c = at_card_prompt(bank)
    # first reading: the second group's last digit misheard (unsure), the rest right
    for group, unsure in zip(EN, [None, {3: 0.55}, None, None], strict=True):
        words = _words(group if unsure is None else "zero two zero eight", unsure)
        c.hear(*words)
    c.silence()
    assert "0 2 0 8" in c.said
    c.say("no")
    # second reading: that group right this time, but another digit misheard, again unsure
    for group, unsure in zip(EN, [None, None, None, {2: 0.6}], strict=True):
        c.hear(*_words(group if unsure is None else "zero zero five one", unsure))
    c.silence()
    assert "6 2 2 2, 0 2 0 0, 0 0 0 0, 0 0 0 1" in c.said  # the surer digit of each reading
    c.say("yes")
    assert c.expecting == "pin"


def test_two_short_readings_dropping_different_digits_make_the_whole_number(bank: Bank) -> None:
    c = at_card_prompt(bank)  # (a number of no card range here: its start is not put right by one)
    groups = ["one two three four", "five six seven eight", "nine zero one two", "three four five six"]
    for group in ("one two three", *groups[1:]):  # the four lost
        c.say(group)
    c.silence()
    assert "I heard 15 digits" in c.said and c.expecting == "card_number"
    for group in (groups[0], "five six eight", *groups[2:]):  # the seven lost this time
        c.say(group)
    c.silence()
    assert "1 2 3 4, 5 6 7 8, 9 0 1 2, 3 4 5 6" in c.said and c.expecting == "confirm"


def test_the_merge_rule() -> None:
    from voicebot.dialog.spoken_number import digit_confidences, merged

    sure16 = [1.0] * 16
    # a substitution: the surer reading wins; a tie goes to the new one
    assert merged(("6222020800000001", [1.0] * 7 + [0.5] + [1.0] * 8),
                  ("6222020000000001", sure16))[0] == "6222020000000001"
    assert merged(("6222020000000001", sure16), ("6222020000000007", [1.0] * 15 + [0.4]))[0] == "6222020000000001"
    # a refused reading is never given back unchanged, even when it looked surer
    assert merged(("6222020000000001", sure16), ("6222020000000007", [1.0] * 15 + [0.9]),
                  refused=True)[0] == "6222020000000007"
    # digits only one reading has are kept up to the valid length, the least sure dropped first
    assert merged(("622202000000001", [1.0] * 15), ("622202000000001", [1.0] * 15), shortest=16)[0] \
        == "622202000000001"  # the same digits lost both times: nothing to recover
    assert merged(("622020000000001", [1.0] * 15), ("622202000000001", [1.0] * 15), shortest=16)[0] \
        == "6222020000000001"
    # another number altogether is not merged
    assert merged(("12345678", [1.0] * 8), ("6222020000000001", [0.5] * 16))[0] == "6222020000000001"
    # each digit has the confidence of the word it came from; 'double' counts with its digit
    assert digit_confidences((("six", 0.9), ("double", 1.0), ("two", 0.7), ("oh", 0.5))) == [0.9, 0.7, 0.7, 0.5]


@pytest.mark.parametrize("first", ["eight two two two", "two two two", "six two two"])
def test_a_misheard_start_is_put_right_by_the_banks_card_ranges(bank: Bank, first: str) -> None:
    c = at_card_prompt(bank)
    for group in (first, *EN[1:]):
        c.say(group)
    c.silence()
    assert "6 2 2 2, 0 2 0 0, 0 0 0 0, 0 0 0 1" in c.said and c.expecting == "confirm"  # still read back
    c.say("yes")
    assert c.expecting == "pin"


def test_a_number_outside_the_card_ranges_is_read_back_as_heard(bank: Bank) -> None:
    c = at_card_prompt(bank)
    for group in ("one two three four", "five six seven eight", "nine zero one two", "three four five six"):
        c.say(group)
    c.silence()
    assert "1 2 3 4, 5 6 7 8, 9 0 1 2, 3 4 5 6" in c.said


def test_the_card_range_rule(bank: Bank) -> None:
    from voicebot.dialog.spoken_number import PRIOR_CONFIDENCE, in_card_range

    ranges = bank.card_ranges()
    assert ranges == {("622202", 16), ("622588", 16)}  # the demo bank's debit and credit cards

    def fixed(digits: str) -> str:
        return in_card_range((digits, [0.9] * len(digits)), ranges)[0]

    assert fixed("8222020000000001") == "6222020000000001"  # a digit of the prefix changed
    assert fixed("222020000000001") == "6222020000000001"  # one lost
    assert fixed("66222020000000001") == "6222020000000001"  # one too many
    assert fixed("6225890000000002") == "6225880000000002"  # the credit card range
    assert fixed("622202000000001") == "622202000000001"  # right start: a digit lost later stays lost
    assert fixed("8822020000000001") == "8822020000000001"  # two digits away: not ours to guess
    assert fixed("1234567890123456") == "1234567890123456"
    assert in_card_range(("8222020000000001", [0.9] * 16), ranges)[1][:2] == [PRIOR_CONFIDENCE, 0.9]
    # two ranges one digit from what was heard: no guess
    assert in_card_range(("1222020000000001", [0.9] * 16), frozenset({("622202", 16), ("722202", 16)}))[0] \
        == "1222020000000001"


@pytest.mark.parametrize("heard", ["6222 0200 0000 0001", "6222,0200,0000,0001", "6222020000000001。"])
def test_a_card_number_whisper_wrote_in_one_turn_is_read_back(bank: Bank, heard: str) -> None:
    """Whisper writes a Mandarin card number read in one breath as numerals, with spaces or commas."""
    c = at_card_prompt(bank, "zh-CN")
    c.say(heard)
    c.silence()
    assert c.expecting == "confirm" and "六二二二，零二零零，零零零零，零零零一" in c.said
