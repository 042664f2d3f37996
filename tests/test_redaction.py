"""Secrets never leave the call: one redaction for logs, tracebacks, CDRs, the NLU and agent headers."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tests.calls import DEMO_CARD, DEMO_PIN, Call
from voicebot.bank.bank import Bank
from voicebot.bank.db import make_engine
from voicebot.cdr import cdr_line
from voicebot.logs import setup_logging
from voicebot.nlu.keywords import KeywordParser
from voicebot.redact import mask_card, redact


@pytest.fixture
def log_file(tmp_path: Path):
    path = tmp_path / "voicebot.log"
    setup_logging("INFO", path)
    yield path
    setup_logging("WARNING", None)


@pytest.mark.parametrize("raw", [
    DEMO_CARD + DEMO_PIN,  # card and PIN keyed as one 22-digit entry
    DEMO_CARD + DEMO_PIN + "1234567",
    "6222 0200 0000 0001 135790",  # typed in groups
])
def test_a_run_longer_than_a_card_number_is_masked_whole(raw: str) -> None:
    masked = redact(f"keys={raw}#")
    assert not any(ch.isdigit() for ch in masked), masked
    assert mask_card(raw) == "*" * sum(ch.isdigit() for ch in raw)


def test_card_numbers_keep_their_last_four_and_caller_digits_are_withheld() -> None:
    assert redact(f"card {DEMO_CARD} ok") == "card ************0001 ok"
    assert redact(f"pin {DEMO_PIN}", caller_input=True) == "pin ******"
    assert redact("six two two two zero two zero zero", caller_input=False) == "<digits>"
    assert redact("one three five seven", caller_input=True) == "<digits>"
    assert redact("i want to pay 200 yuan to my mother") == "i want to pay 200 yuan to my mother"  # amounts stay


def test_a_22_digit_entry_at_the_card_prompt_never_reaches_the_log(bank: Bank, log_file: Path) -> None:
    c = Call(bank, call_id="long-entry")
    c.path("111")
    c.keys(DEMO_CARD + DEMO_PIN)  # no '#' between card and PIN
    c.hangup()
    logged = log_file.read_text()
    assert "keys=" in logged
    for secret in (DEMO_PIN, DEMO_CARD, DEMO_PIN[-4:] + "#", "0001" + DEMO_PIN[:2]):
        assert secret not in logged, logged


def test_tracebacks_are_redacted_and_sql_errors_hide_their_parameters(db_url: str, log_file: Path) -> None:
    log = logging.getLogger("voicebot.test")
    try:
        raise ValueError(f"card {DEMO_CARD} pin {DEMO_CARD}{DEMO_PIN}")
    except ValueError:
        log.exception("failed")
    engine = make_engine(db_url)
    value = "-".join(("secret", "value", "42"))  # not in this file's source, which the traceback quotes
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO credentials (identifier) VALUES (:x)"), {"x": value})
    except SQLAlchemyError:
        log.exception("sql failed")
    engine.dispose()
    logged = log_file.read_text()
    assert "Traceback" in logged and "************0001" in logged
    assert DEMO_CARD not in logged and DEMO_PIN not in logged
    assert "secret-value-42" not in logged and "hidden due to hide_parameters" in logged


class RecordingParser(KeywordParser):
    """The keyword NLU, keeping every text it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def parse(self, text: str, lang: str):
        self.seen.append(text)
        return super().parse(text, lang)


def test_the_nlu_never_sees_a_spoken_card_number_or_pin(bank: Bank, log_file: Path) -> None:
    nlu = RecordingParser()
    c = Call(bank, nlu=nlu)
    c.say("my card is six two two two zero two zero zero zero zero zero zero zero zero zero one")
    c.say("the pin is one three five seven nine zero")
    c.say("6222020000000001 what is my balance")
    assert len(nlu.seen) == 3
    for seen in nlu.seen:
        assert "six two two two" not in seen and "one three five seven" not in seen and DEMO_CARD not in seen
    assert "balance" in nlu.seen[-1]
    assert "one three five seven" not in log_file.read_text()


def test_what_the_bot_says_is_not_logged(tmp_path: Path, bank: Bank, log_file: Path) -> None:
    from voicebot.channels.call import log_event
    from voicebot.channels.call_events import BotActed

    c = Call(bank)
    c.path("111")
    c.login()
    balance_words = [a.text for a in c.actions if a.__class__.__name__ == "Say" and "12,345" in a.text]
    assert balance_words
    for action in c.actions:  # every channel's call log writes its actions through log_event
        log_event(BotActed("call-1", None, action))
    logged = log_file.read_text()
    says = [line for line in logged.splitlines() if "action=say" in line]
    assert says and not any("balance" in line.lower() for line in says)
    assert "12,345" not in logged
    record = c.engine.close()
    record.caller = DEMO_CARD + DEMO_PIN  # whatever a caller put in their From header
    assert DEMO_PIN not in cdr_line(record)


@pytest.mark.parametrize("said", [
    "my pin is thirteen fifty-seven ninety",  # in pairs and tens
    "the pin is one three five uh seven nine zero",  # split by a filler word
    "密码是十三五十七九十",  # Chinese tens
    "pin 135,790",  # written with a comma
    "135790",  # typed as digits (the text channel, the browser): before, the NLU got it as it was
])
def test_a_pin_said_in_pairs_split_or_with_commas_reaches_no_transcript_log_or_nlu(bank: Bank, log_file: Path,
                                                                                    said: str) -> None:
    import json

    nlu = RecordingParser()
    c = Call(bank, nlu=nlu)
    c.say(said)
    record = c.engine.close()
    kept = [json.dumps(c.engine.records.transcript.to_json(), ensure_ascii=False), log_file.read_text(),
            cdr_line(record), *nlu.seen]
    for written in kept:
        for secret in ("thirteen", "fifty", "ninety", "five uh seven", "十三", "五十七", "135,790", DEMO_PIN):
            assert secret not in written, (secret, written)
    assert nlu.seen  # the turn still went to the NLU, without the number


def test_amounts_stay_readable_for_the_nlu_and_the_transcript() -> None:
    assert redact("send 200000 yuan to my mother", for_nlu=True) == "send 200000 yuan to my mother"
    assert redact("转账¥135790", for_nlu=True) == "转账¥135790"
    assert redact("transfer twenty five dollars", caller_input=True) == "transfer twenty five dollars"
    assert redact("the last thirty days", caller_input=True) == "the last thirty days"
    assert redact("两千五百元", caller_input=True) == "两千五百元"
    assert redact("Your balance is 12,345.67 yuan") == "Your balance is 12,345.67 yuan"


@pytest.mark.parametrize("lang,groups", [("en-US", ["six two two two", "zero two zero zero", "zero zero zero zero",
                                                     "zero zero zero one"]),
                                         ("zh-CN", ["六二二二", "零二零零", "零零零零", "零零零幺"])])
def test_a_card_number_the_bot_reads_back_is_masked_in_the_transcript(bank: Bank, lang: str,
                                                                      groups: list[str]) -> None:
    """The read-back ('I heard 6 2 2 2, 0 2 0 0, ...') is the bot's line: its groups, split by a
    comma and a space or a Chinese comma, are one card number, not four short runs."""
    import json

    c = Call(bank, lang=lang)
    c.path("111")
    for group in groups:
        c.say(group)
    c.silence()
    assert c.engine.ask.step.endswith(":read_back"), c.said
    bot = [line["text"] for line in c.engine.records.transcript.to_json() if line["who"] == "bot"]
    kept = json.dumps(bot, ensure_ascii=False)
    for shown in ("6 2 2 2", "0 2 0 0, 0 0 0 0", "六二二二", "零二零零"):
        assert shown not in kept, (shown, kept)


def test_a_cdr_line_stays_json_with_its_reply_times_and_still_masks_a_card_number() -> None:
    import json

    from voicebot.dialog.context import CallRecord

    record = CallRecord("call-7", DEMO_CARD, "en-US", "010")
    record.reply_ms = [622, 601, 700, 121, 843, 590]  # a long call: read as one digit run it was masked
    record.transfer_reason = f"card {DEMO_CARD} refused"
    line = json.loads(cdr_line(record))
    assert line["reply_ms"] == [622, 601, 700, 121, 843, 590]
    assert DEMO_CARD not in json.dumps(line) and line["caller"].endswith(DEMO_CARD[-4:])


def test_a_call_id_is_never_masked_as_a_card_number(monkeypatch: pytest.MonkeyPatch) -> None:
    """A uuid's hex holds a run of twelve digits in about one call in thirty: the CDR and the
    recording index then masked the call's own id (a clean-clone failure). Such a draw is redrawn."""
    from voicebot.dialog import context

    draws = iter(["2a10705f9e0248108088814ac9357683", "2a10705f9e02481080ab814ac9357683"])
    monkeypatch.setattr(context.secrets, "token_hex", lambda n: next(draws))
    assert context.new_call_id() == "2a10705f9e02481080ab814ac9357683"
    monkeypatch.undo()
    ids = [context.new_call_id() for _ in range(3000)] + [context.new_call_id(16) for _ in range(1000)]
    assert [i for i in ids if redact(i) != i] == [] and len(set(ids)) == len(ids)
