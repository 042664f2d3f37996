"""Audio dialog (what the microphone and SIP channels run): barge-in, keys, timeouts, speech end to end."""

from __future__ import annotations

import re
from collections import deque

import numpy as np
import pytest

from tests.calls import DEMO_CARD
from tests.test_speech import silence, speak
from voicebot.bank.bank import Bank
from voicebot.channels.call_events import BotActed, CallEvent, CallEvents
from voicebot.channels.voice import VoiceSession
from voicebot.channels.voice_settings import VoiceSettings
from voicebot.config import PROJECT_DIR
from voicebot.dialog.actions import Action, Say, ServiceResult
from voicebot.dialog.engine import DialogEngine
from voicebot.nlu.keywords import KeywordParser
from voicebot.nlu.rasa_backend import RasaInProcess
from voicebot.speech.asr import StreamingRecognizer
from voicebot.speech.recognizers import load_model

RATE, FRAME = 8000, 160


def tone(text: str, lang: str) -> np.ndarray:
    """A stand-in voice: 60 ms of tone per character, so long prompts take long to play."""
    t = np.arange(int(0.06 * len(text) * RATE)) / RATE
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)


@pytest.fixture(scope="module")
def model() -> object:
    return load_model(PROJECT_DIR / "models", "en-US")


def session(bank: Bank, model: object | None, nlu: object = None,
            **settings: float | bool) -> tuple[VoiceSession, list]:
    said: list[Action] = []
    engine = DialogEngine(bank, nlu or KeywordParser())
    rec = StreamingRecognizer(model, RATE) if model is not None else None

    def acted(event: CallEvent) -> None:
        if isinstance(event, BotActed):
            said.append(event.action)

    events = CallEvents(engine.ctx.call_id, [acted])
    return VoiceSession(engine, rec, tone, RATE, VoiceSettings(**settings), events=events), said


def play(s: VoiceSession, audio: np.ndarray) -> list[np.ndarray]:
    return [s.step(audio[i:i + FRAME]) for i in range(0, len(audio) - FRAME + 1, FRAME)]


def texts(actions: list[Action]) -> str:
    return " ".join(a.text for a in actions if isinstance(a, Say))


def test_speech_barges_in_on_the_greeting_within_300_ms(bank: Bank, model: object) -> None:
    s, _ = session(bank, model)
    assert s.speaking
    before = play(s, silence(0.5))
    assert all(np.abs(f).max() > 0 for f in before)  # the greeting is playing
    out = play(s, speak("yes"))
    quiet_from = next(i for i, f in enumerate(out) if not np.abs(f).any())
    assert quiet_from * 20 <= 300


def test_without_barge_in_the_prompt_plays_on_and_the_answer_still_counts(bank: Bank, model: object) -> None:
    s, said = session(bank, model, barge_in=False)
    play(s, silence(0.5))
    out = play(s, speak("yes"))
    assert all(np.abs(f).max() > 0 for f in out)  # the greeting did not stop for the caller's words
    s.key("1")  # a key still does
    assert "account enquiries" in texts(said)


def test_a_key_stops_the_prompt_and_menus_act_at_once(bank: Bank) -> None:
    s, said = session(bank, None)
    s.key("1")
    assert "account enquiries" in texts(said) and s.engine.menu_path == "1"
    s.key("1")
    s.key("1")
    assert s.engine.expecting == "card_number"
    for d in DEMO_CARD:
        s.key(d)
    assert s.engine.expecting == "card_number"  # still gathering
    s.key("#")
    assert s.engine.expecting == "pin"


def test_an_entry_without_hash_ends_after_the_interdigit_pause(bank: Bank) -> None:
    s, _ = session(bank, None, interdigit_s=1.0)
    for k in "111":
        s.key(k)
    for d in DEMO_CARD:
        s.key(d)
    play(s, silence(1.1))
    assert s.engine.expecting == "pin"


def test_silence_after_a_prompt_is_no_input(bank: Bank) -> None:
    s, said = session(bank, None, no_input_s=2.0)
    while s.speaking:
        s.step(silence(0.02))
    play(s, silence(1.9))
    assert "didn't hear" not in texts(said)
    play(s, silence(0.2))
    assert "didn't hear" in texts(said)


def test_noise_heard_as_nothing_gets_a_reprompt(bank: Bank, model: object) -> None:
    s, said = session(bank, model)
    while s.speaking:
        s.step(silence(0.02))
    rng = np.random.default_rng(3)
    burst = np.clip(rng.normal(0, 12000, RATE), -32768, 32767).astype(np.int16)
    play(s, np.concatenate([burst, silence(1.5)]))
    assert "didn't catch" in texts(said) or "didn't hear" in texts(said)
    assert not s.engine.ended


def test_hang_up_mid_prompt(bank: Bank) -> None:
    s, _ = session(bank, None)
    s.step(silence(0.02))
    s.hang_up()
    assert s.finished and s.engine.close().outcome == "abandoned"


def test_spoken_request_end_to_end_on_the_real_models(bank: Bank, model: object,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="voicebot.voice")
    nlu = RasaInProcess(PROJECT_DIR / "models" / "nlu")
    nlu.load("en-US")
    for phrase, service in (("i lost my card", "card.report_loss"), ("talk to an agent", "agent"),
                            ("pay my electricity bill", "bill.electricity")):
        s, said = session(bank, model, nlu=nlu)
        while s.speaking:
            s.step(silence(0.02))
        play(s, np.concatenate([silence(0.5), speak(phrase), silence(1.2)]))
        started = s.engine.service.id if s.engine.service else None
        done = [a.id for a in said if isinstance(a, ServiceResult)]
        assert service in (started, *done), (phrase, texts(said))
    # each turn's time after the endpoint is logged by stage, for grep and tail-latency hunts
    timings = [r.getMessage() for r in caplog.records if "turn timing" in r.getMessage()]
    stages = re.compile(r"final_ms=\d+ understand_ms=\d+ free=(no|early|late)$")
    assert len(timings) == 3 and all(stages.search(t) for t in timings)


def test_sentences_render_off_the_media_loop(bank: Bank) -> None:
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    gate = threading.Event()
    loop_thread = threading.get_ident()
    rendered_on: list[int] = []

    def slow_voice(text: str, lang: str) -> np.ndarray:
        rendered_on.append(threading.get_ident())
        gate.wait(5)
        return tone(text, lang)

    with ThreadPoolExecutor(1) as pool:
        engine = DialogEngine(bank, KeywordParser())
        s = VoiceSession(engine, None, slow_voice, RATE, renderer=pool)
        first = s.step(silence(0.02))  # the greeting is still rendering: the loop is not blocked
        assert not np.abs(first).any() and s.speaking
        gate.set()
        for _ in range(250):  # a media loop ticks every 20 ms
            if np.abs(s.step(silence(0.02))).any():
                break
            time.sleep(0.02)
        else:
            raise AssertionError("the rendered greeting never played")
    assert rendered_on and loop_thread not in rendered_on


def test_confirmation_vocabulary_biases_recognition(bank: Bank, model: object) -> None:
    """Free recognition hears espeak's "correct" as "your man"; the step grammar hears it right."""
    s, said = session(bank, model)
    for key in ("1", "2", "1"):
        s.key(key)
    for key in f"{DEMO_CARD}#":
        s.key(key)
    for key in "135790":
        s.key(key)
    s.end_entry()
    s.key("1")  # payee: mother
    for key in "500#":
        s.key(key)
    assert s.engine.expecting == "confirm"
    while s.speaking:
        s.step(silence(0.02))
    play(s, np.concatenate([silence(0.3), speak("correct"), silence(1.2)]))
    done = [a for a in said if isinstance(a, ServiceResult)]
    assert done and done[0].id == "transfer.local" and done[0].status == "ok", texts(said)


def test_grammars_come_from_the_catalogue(model: object) -> None:
    from voicebot.speech.grammars import grammar_for, in_vocabulary

    confirm = grammar_for("confirm", "en-US")
    assert {"yes", "no", "cancel", "correct"} <= set(confirm)
    menu = grammar_for("menu", "en-US")  # how callers ask: the NLU training sentences
    assert "i lost my card" in menu and "what's the weather tomorrow" not in menu
    assert grammar_for("pin", "en-US") is None  # never spoken
    from voicebot.dialog.periods import PHRASES  # a date prompt hears periods as well as digits
    date_step = grammar_for("date", "en-US")
    assert "one two" in date_step and set(PHRASES["en-US"]) <= set(date_step)
    assert in_vocabulary(model, PHRASES["en-US"]) == PHRASES["en-US"]
    assert in_vocabulary(model, ["yes", "zorglubbish"]) == ("yes",)


class _BackloggedPort:
    """A call's media port holding ``n`` received frames at once (a call that fell behind)."""

    def __init__(self, n: int) -> None:
        self.received = deque(np.zeros(FRAME, dtype=np.int16).tobytes() for _ in range(n))
        self.outgoing: deque[bytes] = deque()

    def take(self) -> list[np.ndarray]:
        out = [np.frombuffer(b, dtype=np.int16) for b in self.received]
        self.received.clear()
        return out

    @property
    def backlog(self) -> int:
        return len(self.received)


def test_a_hang_up_stops_a_call_that_fell_behind_at_once(bank: Bank) -> None:
    from voicebot.telephony.call_runner import CallRunner

    class HungUpOnTheThirdFrame(VoiceSession):
        """A session whose caller hangs up (the SIP thread hears the BYE) while 10 s of audio wait."""

        steps = 0

        def step(self, frame: np.ndarray) -> np.ndarray:
            self.steps += 1
            if self.steps == 3:
                runner.hung_up()
            return super().step(frame)

    s = HungUpOnTheThirdFrame(DialogEngine(bank, KeywordParser()), None, tone, RATE)
    ended: list = []
    runner = CallRunner(s, _BackloggedPort(500), lambda kind, value: ended.append((kind, value)))
    runner.start()
    runner.join(10)
    assert [kind for kind, _ in ended] == ["ended"] and ended[0][1].outcome == "abandoned"
    assert s.steps == 3  # the rest of the backlog was dropped, not decoded for a caller who has gone
