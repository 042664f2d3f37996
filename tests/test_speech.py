"""Speech on the real en-US Vosk model: fetching, recognition, streaming, bad audio, synthesis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from voicebot.catalogue import catalogue
from voicebot.config import PROJECT_DIR
from voicebot.speech import models as model_sources
from voicebot.speech.asr import (
    Final,
    Partial,
    Pause,
    SpeechStarted,
    StreamingRecognizer,
    VadSettings,
)
from voicebot.speech.audio import StreamUpsampler, read_wav, resample, trim_leading_silence
from voicebot.speech.models import ModelSource, ModelUnavailable, fetch
from voicebot.speech.recognizers import RecognizerPool, load_model, warm_up
from voicebot.speech.tts import PromptCache, Synthesizer
from voicebot.speech.vosk_results import text_and_confidence

MODELS = PROJECT_DIR / "models"


def speak(text: str, rate: int = 8000, voice: str = "en-us+m3") -> np.ndarray:
    """espeak-ng speech at ``rate`` Hz, as a caller's audio."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "140", "-w", str(wav), text], check=True)
        samples, src = read_wav(wav)
    return resample(samples, src, rate)


def words(text: str) -> np.ndarray:
    """Speech without espeak-ng's own lead-in and trailing silence (pauses are then the test's own)."""
    audio = speak(text)
    loud = np.flatnonzero(np.abs(audio) > 300)
    return audio[loud[0]:loud[-1] + 1]


def silence(seconds: float, rate: int = 8000) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.int16)


def stream(rec: StreamingRecognizer, audio: np.ndarray, frame: int = 160) -> list[tuple[int, object]]:
    """Feed 20 ms frames; (millisecond, event) pairs."""
    out = []
    for i in range(0, len(audio) - frame + 1, frame):
        for event in rec.feed(audio[i:i + frame]):
            out.append((i * 1000 // rec.rate, event))
    return out


@pytest.fixture(scope="module")
def model() -> object:
    fetch(MODELS, "en-US")  # set-up has fetched it; this only checks
    return load_model(MODELS, "en-US")


def test_fetched_model_is_recorded_with_its_source() -> None:
    path, record = fetch(MODELS, "en-US")
    assert (path / "am" / "final.mdl").exists() and record["name"]
    if "Maven" in record["name"]:
        assert record["sha256"] == model_sources.SOURCES["en-US"][1].sha256


def test_unreachable_sources_name_the_folder_to_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(model_sources.SOURCES, "zh-CN",
                        (ModelSource("test", "http://127.0.0.1:9/model.zip", "model"),))
    with pytest.raises(ModelUnavailable) as err:
        fetch(tmp_path, "zh-CN", timeout_s=2)
    assert str(tmp_path / "vosk" / "zh-CN") in str(err.value)


def test_a_corrupt_download_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "m.zip"
    import zipfile

    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("model/README", "no model here")
    monkeypatch.setitem(model_sources.SOURCES, "zh-CN", (ModelSource("test", archive.as_uri(), "model"),))
    with pytest.raises(ModelUnavailable, match="no model under model/"):
        fetch(tmp_path / "root", "zh-CN")
    assert not (tmp_path / "root" / "vosk" / "zh-CN").exists()


def test_transcribe_command_takes_any_rate_and_channel_count(model: object, tmp_path: Path) -> None:
    voice = np.concatenate([silence(0.3, 22050), speak("i lost my card", 22050), silence(0.3, 22050)])
    files = {"8k.wav": (8000, resample(voice, 22050, 8000)),
             "44k-stereo.wav": (44100, np.stack([resample(voice, 22050, 44100)] * 2, axis=1)),
             "16k-float.wav": (16000, resample(voice, 22050, 16000).astype(np.float32) / 32768)}
    for name, (rate, data) in files.items():
        wavfile.write(tmp_path / name, rate, data)
    env = {**os.environ, "VOICEBOT_LOG_FILE": str(tmp_path / "log")}
    result = subprocess.run([sys.executable, "-m", "voicebot", "transcribe", "--lang", "en-US",
                             *(str(tmp_path / n) for n in files)], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(x["file"]).name for x in lines] == list(files)
    for line in lines:
        assert "card" in line["text"] and 0 < line["confidence"] <= 1, line


def test_streaming_recognition_endpoints_after_trailing_silence(model: object) -> None:
    audio = np.concatenate([silence(1.0), speak("i lost my card"), silence(1.5)])
    rec = StreamingRecognizer(model, 8000, VadSettings(endpoint_ms=700))
    rec.set_grammar(None, settle_early=True)
    events = stream(rec, audio)
    kinds = [type(e) for _, e in events]
    assert kinds[0] is SpeechStarted and kinds.count(Final) == 1 and Partial in kinds
    [(at, final)] = [(t, e) for t, e in events if isinstance(e, Final)]
    assert final.text == "i lost my card"  # the pre-roll kept the first word
    loud = np.flatnonzero(np.abs(audio) > 300)  # espeak pads its own silence: find where speech really ends
    speech_end_ms = loud[-1] * 1000 // 8000
    assert 600 <= at - speech_end_ms <= 1000
    # the turn settled at the pause: its words are known early enough to understand them before the endpoint
    [(paused_at, pause)] = [(t, e) for t, e in events if isinstance(e, Pause)]
    assert pause.text == final.text and at - paused_at >= 400


def test_a_turn_settled_at_a_pause_is_decoded_again_when_the_caller_goes_on(model: object) -> None:
    from voicebot.speech.grammars import grammar_for, settles_at_pause

    assert settles_at_pause("menu") and settles_at_pause("confirm") and not settles_at_pause("card_number")
    assert not settles_at_pause("pin") and not settles_at_pause("amount")
    rec = StreamingRecognizer(model, 8000, VadSettings(endpoint_ms=700))
    rec.set_grammar(grammar_for("menu", "en-US"), settle_early=True)

    audio = np.concatenate([silence(0.5), words("i want to"), silence(0.45), words("talk to an agent"), silence(1.0)])
    events = stream(rec, audio)
    pauses = [e.text for _, e in events if isinstance(e, Pause)]
    finals = [e.text for _, e in events if isinstance(e, Final)]
    assert len(pauses) == 2 and pauses[-1] == finals[-1]  # settled at each pause, the first one undone
    assert finals == [pauses[-1]] and "talk to an agent" in finals[0] and finals[0].startswith("i want")
    assert sum(rec.fallbacks.values()) + rec.command_turns <= 1  # the undone decision is not counted


def test_a_pause_is_decoded_only_when_the_caller_goes_on(model: object) -> None:
    from voicebot.speech.grammars import grammar_for

    vad = VadSettings(endpoint_ms=700)
    rec = StreamingRecognizer(model, 8000, vad, grammar=grammar_for("card_number", "en-US"))

    audio = np.concatenate([silence(0.5), words("one two three"), silence(0.45), words("four five six"),
                            silence(1.0)])
    [final] = [e for _, e in stream(rec, audio) if isinstance(e, Final)]
    assert final.text == "one two three four five six"
    # each word comes with its own confidence (a read-back said again is merged digit by digit)
    assert [w for w, _ in final.words] == final.text.split() and all(0 < c <= 1 for _, c in final.words)
    loud = np.flatnonzero(np.abs(audio) > 300)
    span_ms = (loud[-1] - loud[0]) * 1000 // 8000
    # the half-second pause inside the turn was held back, then decoded when the caller went on;
    # of the endpoint's 700 ms only the first 200 were (before: all of it, ~500 ms more audio)
    assert span_ms <= rec.fed_ms <= span_ms + vad.pre_roll_ms + vad.trailing_fed_ms + 60
    rec.close()


def test_barge_in_is_signalled_within_300_ms_of_speech_onset(model: object) -> None:
    onset_ms = 2000
    audio = np.concatenate([silence(onset_ms / 1000), speak("yes"), silence(1.0)])
    events = stream(StreamingRecognizer(model, 8000), audio)
    first = next(t for t, e in events if isinstance(e, SpeechStarted))
    assert 0 <= first - onset_ms <= 300


def test_silence_costs_nothing_and_quiet_noise_is_not_speech(model: object) -> None:
    rec = StreamingRecognizer(model, 8000)
    rng = np.random.default_rng(1)
    hiss = (rng.normal(0, 20, 8000 * 5)).astype(np.int16)  # about -64 dBFS line noise
    assert stream(rec, silence(5)) == [] and stream(rec, hiss) == []
    assert rec.fed_ms == 0


def test_clipped_noise_and_a_monologue_stay_bounded(model: object) -> None:
    rec = StreamingRecognizer(model, 8000, VadSettings(max_turn_s=3))
    rng = np.random.default_rng(2)
    blast = np.clip(rng.normal(0, 30000, 8000 * 20), -32768, 32767).astype(np.int16)  # 20 s, clipped
    events = stream(rec, blast)
    finals = [e for _, e in events if isinstance(e, Final)]
    assert len(finals) >= 6  # cut into turns of at most 3 s, so the recogniser never grows without end
    after = stream(rec, np.concatenate([silence(1.0), speak("talk to an agent"), silence(1.5)]))
    assert any(isinstance(e, Final) and "agent" in e.text for _, e in after)


def test_recognisers_are_reused_across_calls_and_forget_what_they_heard(model: object) -> None:
    pool = RecognizerPool(model, 16000, per_grammar=2, max_idle=3)
    first = StreamingRecognizer(model, 8000, pool=pool)
    first.set_grammar(("yes", "no"))
    # the first call hangs up mid-sentence: its recognisers go back with half a turn in them
    stream(first, np.concatenate([silence(0.5), speak("i lost my")]))
    assert first.in_speech
    first.close()
    first.close()  # idempotent
    assert pool.created == 2 and pool.idle() == 2
    second = StreamingRecognizer(model, 8000, pool=pool)  # the next call gets the same free recogniser
    assert pool.created == 2
    finals = [e for _, e in stream(second, np.concatenate([silence(0.5), speak("talk to an agent"), silence(1.0)]))
              if isinstance(e, Final)]
    assert [f.text for f in finals] == ["talk to an agent"]  # nothing of the first call's words
    third = StreamingRecognizer(model, 8000, pool=pool)  # a call beside it borrows the same one between turns
    finals = [e for _, e in stream(third, np.concatenate([silence(0.5), speak("i lost my card"), silence(1.0)]))
              if isinstance(e, Final)]
    assert [f.text for f in finals] == ["i lost my card"] and pool.created == 2
    third.close()
    second.set_grammar(("yes", "no"))  # the same grammar: the idle biased one again
    assert pool.created == 2
    second.close()
    for grammar in [("one",), ("two",), ("three",)]:  # idle ones are bounded, the oldest go first
        pool.release(grammar, pool.acquire(grammar))
    assert pool.idle() == 3


def test_a_recogniser_given_back_mid_word_leaks_nothing_into_its_next_call(model: object) -> None:
    from voicebot.speech.audio import resample

    def pcm(audio: np.ndarray) -> bytes:
        return resample(audio, 8000, 16000).astype(np.int16).tobytes()

    pool = RecognizerPool(model, 16000)
    for grammar in (None, ("yes", "no", "talk to an agent", "i lost my card")):
        rec = pool.acquire(grammar)
        cut = speak("i lost my")
        loud = np.flatnonzero(np.abs(cut) > 300)
        rec.AcceptWaveform(pcm(np.concatenate([silence(0.3), cut[loud[0]:loud[-1] + 1]])))  # hung up on "my"
        pool.release(grammar, rec)
        again = pool.acquire(grammar)
        assert again is rec
        again.AcceptWaveform(pcm(np.concatenate([silence(0.3), speak("talk to an agent"), silence(0.3)])))
        assert json.loads(again.FinalResult())["text"] == "talk to an agent"  # with Reset(): "my talk to an agent"
        pool.release(grammar, again)


def test_a_worker_warms_its_free_recogniser_on_prompt_audio(model: object, tmp_path: Path) -> None:
    recordings = []
    for i, text in enumerate(["please enter your card number", "tell me what you need", "goodbye"]):
        recordings.append(tmp_path / f"{i}.wav")
        wavfile.write(recordings[-1], 8000, speak(text))
    pool = RecognizerPool(model, 16000)
    heard = warm_up(pool, recordings, budget_s=2.0)
    assert 2.0 <= heard < sum(len(speak(t)) for t in ["please enter your card number", "tell me what you need",
                                                      "goodbye"]) / 8000  # stops once the budget is spent
    assert pool.created == 1 and pool.idle() == 1
    caller = StreamingRecognizer(model, 8000, pool=pool)  # the first caller's turn gets the warmed one
    finals = [e for _, e in stream(caller, np.concatenate([silence(0.5), speak("i lost my card"), silence(1.0)]))
              if isinstance(e, Final)]
    assert [f.text for f in finals] == ["i lost my card"] and pool.created == 1


def test_out_of_grammar_speech_is_decoded_freely_while_it_is_spoken(model: object) -> None:
    rec = StreamingRecognizer(model, 8000, grammar=("yes", "no"))

    def finals(text: str) -> list[str]:
        audio = np.concatenate([silence(0.5), speak(text), silence(1.0)])
        return [e.text for _, e in stream(rec, audio) if isinstance(e, Final)]

    assert finals("yes") == ["yes"] and rec.fallbacks == {"early": 0, "late": 0}
    # the grammar's partial shows unknown words: the free recogniser follows the turn, not after it
    assert finals("talk to an agent") == ["talk to an agent"] and rec.fallbacks == {"early": 1, "late": 0}
    assert rec.last_fallback == "early"
    assert finals("no") == ["no"]  # the free recogniser was left clean for the next fallback
    assert finals("i lost my card") == ["i lost my card"]
    rec.close()


def test_words_out_of_the_grammar_lower_the_confidence() -> None:
    four_of_four = {"result": [{"word": "four", "conf": 1.0}, {"word": "[unk]", "conf": 1.0}], "text": "four [unk]"}
    assert text_and_confidence(four_of_four) == ("four", 0.5)  # not a sure "four": the free recogniser hears it
    assert text_and_confidence({"result": [{"word": "yes", "conf": 0.9}], "text": "yes"}) == ("yes", 0.9)
    assert text_and_confidence({"text": "[unk]"}) == ("", 0.0)


def test_navigation_at_a_digit_prompt_is_heard_without_free_recognition(model: object) -> None:
    from voicebot.speech.grammars import commands_for, grammar_for

    assert commands_for("menu", "en-US") is None and commands_for("pin", "en-US") is None
    rec = StreamingRecognizer(model, 8000, grammar=grammar_for("card_number", "en-US"),
                              commands=commands_for("card_number", "en-US"))

    def finals(text: str) -> list[str]:
        audio = np.concatenate([silence(0.5), speak(text), silence(1.0)])
        return [e.text for _, e in stream(rec, audio) if isinstance(e, Final)]

    assert finals("one two three four five six") == ["one two three four five six"]
    # any digit may follow any digit (the grammar is given as digit pairs): with the digits as
    # single phrases these came out as "[unk] three" and "nine eight [unk] five four"
    assert finals("seven seven six three") == ["seven seven six three"]
    assert finals("nine eight seven six five four") == ["nine eight seven six five four"]
    assert rec.command_turns == 0  # digits: the step's own grammar answers
    assert rec.command_decodes == 0  # ... and the command recogniser never decoded them (its CPU saved)
    assert finals("go back to the main menu") == ["go back to the main menu"]
    assert finals("let me talk to a person") == ["let me talk to a person"]
    assert rec.command_turns == 2 and rec.command_decodes == 2 and rec.fallbacks == {"early": 0, "late": 0}
    # neither digits nor a command: the free recogniser still hears it
    heard = finals("i lost my card")
    assert heard and heard[0] and sum(rec.fallbacks.values()) == 1 and rec.command_turns == 2
    rec.close()


class CountingPool(RecognizerPool):
    """A recogniser pool whose recognisers count the audio (bytes) each grammar's one decodes."""

    def __init__(self, model: object) -> None:
        super().__init__(model, 16000)
        self.fed: dict[object, int] = {}

    def acquire(self, grammar: tuple[str, ...] | None) -> object:
        rec, pool = super().acquire(grammar), self

        class Counted:
            def AcceptWaveform(self, pcm: bytes) -> bool:
                pool.fed[grammar] = pool.fed.get(grammar, 0) + len(pcm)
                return bool(rec.AcceptWaveform(pcm))

            def __getattr__(self, name: str) -> object:
                return getattr(rec, name)

        return Counted()


def test_the_digit_recogniser_waits_while_the_command_one_follows_a_turn(model: object) -> None:
    """A command at a digit prompt is decoded once, not twice: once the command recogniser follows
    the turn, the digit one stops, and catches up only if no command was surely heard."""
    from voicebot.speech.grammars import commands_for, grammar_for

    pool = CountingPool(model)
    rec = StreamingRecognizer(model, 8000, pool=pool, grammar=grammar_for("card_number", "en-US"),
                              commands=commands_for("card_number", "en-US"))
    digits, commands = rec._biased_grammar, rec._commands_grammar

    def turn(text: str) -> tuple[list[int], list[str]]:
        before = dict(pool.fed)
        audio = np.concatenate([silence(0.5), speak(text), silence(1.0)])
        finals = [e.text for _, e in stream(rec, audio) if isinstance(e, Final)]
        return [pool.fed.get(g, 0) - before.get(g, 0) for g in (digits, commands)], finals

    (by_digits, by_commands), heard = turn("go back to the main menu")
    assert heard == ["go back to the main menu"] and rec.command_turns == 1
    assert 0 < by_digits < by_commands  # the digit recogniser stopped part way
    (by_digits, by_commands), heard = turn("four four five six")
    assert heard == ["four four five six"] and by_commands == 0  # digits: the command one never started
    (by_digits, by_commands), heard = turn("i lost my card")
    assert heard and rec.command_turns == 1 and sum(rec.fallbacks.values()) == 1
    assert by_commands > 0 and by_digits == by_commands  # no sure command: the digit one heard it all
    rec.close()


def test_answers_by_position_are_heard_at_a_menu(model: object) -> None:
    """The menu grammar holds the answers by position that the dialog reads (inputs.ORDINAL_PHRASES):
    without them the small model made 'report options' of 'the fourth option'."""
    from voicebot.dialog.inputs import from_speech
    from voicebot.dialog.menus import menu_ask
    from voicebot.speech.grammars import grammar_for

    rec = StreamingRecognizer(model, 8000, grammar=grammar_for("menu", "en-US"))
    bills = menu_ask(catalogue(), "en-US", "13")
    for said, member in (("the fourth option", "bill.electricity"), ("the last one", "bill.gas")):
        [heard] = [e.text for _, e in stream(rec, np.concatenate([silence(0.5), speak(said), silence(1.0)]))
                   if isinstance(e, Final)]
        chosen = from_speech(bills, heard, None, date(2026, 11, 30))
        assert chosen is not None and chosen.service.id == member, heard  # what was heard, when it fails
    rec.close()


def test_sample_rates(model: object) -> None:
    with pytest.raises(ValueError):
        StreamUpsampler(11025, 16000)
    mic = StreamingRecognizer(model, 16000)  # the microphone mode's rate
    audio = np.concatenate([silence(1.0, 16000), speak("i lost my card", 16000), silence(1.5, 16000)])
    finals = [e for _, e in stream(mic, audio, frame=320) if isinstance(e, Final)]
    assert finals and "card" in finals[0].text


def test_upsampling_keeps_the_top_of_the_phone_band_without_images() -> None:
    """8 kHz -> 16 kHz in 20 ms frames: a 3.8 kHz tone (the phone band's top, which the wideband
    models lean on) passes whole, and its mirror image at 4.2 kHz is gone."""
    rate, tone = 8000, 3800
    audio = (10000 * np.sin(2 * np.pi * tone * np.arange(rate) / rate)).astype(np.int16)
    up = StreamUpsampler(rate, 16000)
    out = np.concatenate([up(audio[i:i + 160]) for i in range(0, rate, 160)])[4000:]  # past the filter's start
    spectrum = np.abs(np.fft.rfft(out * np.hanning(len(out))))
    level = {f: spectrum[round(f * len(out) / 16000)] for f in (tone, 8000 - tone)}
    full = 10000 * np.hanning(len(out)).sum() / 2
    assert level[tone] / full > 0.97
    assert level[8000 - tone] / full < 0.01


@pytest.mark.parametrize(("rate", "target"), [(22050, 8000), (8000, 16000), (44100, 16000), (48000, 8000)])
def test_resampling_matches_scipy_without_loading_it(rate: int, target: int) -> None:
    """The numpy polyphase resampler (so that a worker never loads SciPy) gives SciPy's
    ``resample_poly`` output to within one step of an int16 sample."""
    from math import gcd

    from scipy.signal import resample_poly

    audio = (8000 * np.random.default_rng(7).standard_normal(rate // 2)).astype(np.int16)
    g = gcd(rate, target)
    reference = np.clip(resample_poly(audio.astype(np.float32), target // g, rate // g), -32768, 32767)
    ours = resample(audio, rate, target)
    assert len(ours) == len(reference)
    assert np.max(np.abs(ours.astype(np.int32) - reference.astype(np.int32))) <= 1


def test_synthesis_in_both_languages_and_the_cache(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, Synthesizer())
    samples = {"en-US": "Your balance is 12,345.67 yuan.", "zh-CN": "您的余额为一万二千三百四十五元六角七分。"}
    for lang, text in samples.items():
        audio = cache.get(text, lang)
        assert audio.dtype == np.int16 and len(audio) > 8000 and np.abs(audio).max() > 1000
        assert cache.path(text, lang).exists()
    assert cache.render_all(["Your balance is 12,345.67 yuan.", "Goodbye."], "en-US") == (1, 1)
    assert cache.path("a", "en-US") != cache.path("b", "en-US") != PromptCache(tmp_path, Synthesizer(120)).path(
        "b", "en-US")


def test_replies_start_without_lead_in_silence() -> None:
    """The silence a synthesiser puts before the first sound is latency the caller hears."""
    tone = (3000 * np.cos(np.arange(800) / 3)).astype(np.int16)  # loud from its first sample
    padded = np.concatenate([np.zeros(400, np.int16), tone])
    assert len(trim_leading_silence(padded, 8000)) == len(tone) + 40  # 5 ms kept before the sound
    assert len(trim_leading_silence(np.zeros(80, np.int16), 8000)) == 80  # all silence: left as it is
    audio = Synthesizer().render("Goodbye.", "en-US")  # espeak-ng leads this one with 45 ms of silence
    assert np.flatnonzero(np.abs(audio.astype(np.int32)) > 64)[0] <= 40


_RENDERS_IN_A_ROW = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
from pyttsx3.drivers import _espeak
from voicebot.speech.tts import Synthesizer

cancels, empty = [], []
cancel = _espeak.Cancel
_espeak.Cancel = lambda: cancels.append(1) or cancel()
read = Synthesizer._read
Synthesizer._read = lambda self, wav: read(self, wav) if wav.stat().st_size > 44 else empty.append(1)
synths = (Synthesizer(), Synthesizer())  # two owners in one process share pyttsx3's one engine
with ThreadPoolExecutor(2) as pool:
    audio = list(pool.map(lambda i: synths[i % 2].render(f"Your balance is {i} yuan.", ("en-US", "zh-CN")[i % 2]),
                          range(40)))
print(json.dumps({"cancels": len(cancels), "empty": len(empty), "shortest": min(map(len, audio))}))
"""


def test_renders_in_a_row_never_cancel_one_another() -> None:
    """pyttsx3 cancels a job when espeak-ng's thread still looks busy, and the cancel changes
    espeak-ng's state under that running thread (the likely cause of a worker's crash): renders
    wait for it instead.
    In a child process: the old fault could also hang a render for good."""
    run = subprocess.run([sys.executable, "-c", _RENDERS_IN_A_ROW], capture_output=True, text=True, timeout=60,
                         cwd=PROJECT_DIR)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.splitlines()[-1])
    assert (result["cancels"], result["empty"]) == (0, 0)
    assert result["shortest"] > 4000  # every render has its sentence


def test_a_silent_pyttsx3_render_falls_back_to_espeak(monkeypatch: pytest.MonkeyPatch) -> None:
    synth = Synthesizer()
    monkeypatch.setattr(synth, "_pyttsx3", lambda text, lang, wav: wav.write_bytes(b""))
    assert len(synth.render("hello", "en-US")) > 1000


def test_static_prompts_are_complete_sentences() -> None:
    from voicebot.dialog.static_prompts import static_sentences

    for lang in ("en-US", "zh-CN"):
        texts = static_sentences(lang)
        assert len(texts) > 60 and not any("{" in t for t in texts)
        assert any("1" in t and ("press" in t or "请按" in t) for t in texts)


def test_quiet_callers_on_a_hissy_line_are_heard_through_noise_suppression(model: object) -> None:
    """Real voices (FSDD) at -45 dBFS over -60 dBFS hiss: the gain that brings them up lifts the
    hiss too, so noise suppression steps in for them; callers at their recorded level go without."""
    from tests.voices import Reading, fsdd_available, spoken_number
    from voicebot.nlu.numbers import parse_digits
    from voicebot.speech.grammars import grammar_for

    if not fsdd_available():
        pytest.fail("../shared/data/fsdd is missing: the real-voice recordings", pytrace=False)

    def digits_right(vad: VadSettings, how: Reading) -> tuple[int, int]:
        rng, right, suppressed = np.random.default_rng(3), 0, 0
        for _ in range(8):  # groups of four digits, each its own call
            group = "".join(str(d) for d in rng.integers(0, 10, 4))
            audio = np.concatenate([spoken_number(group, how, rng, lead_s=0.5), silence(1.0)])
            rec = StreamingRecognizer(model, 8000, vad, grammar=grammar_for("card_number", "en-US"))
            heard = "".join(parse_digits(e.text) for _, e in stream(rec, audio) if isinstance(e, Final))
            right += sum(a == b for a, b in zip(heard, group, strict=True)) if len(heard) == 4 else 0
            suppressed += rec._denoise is not None
            rec.close()
        return right, suppressed

    with_ns = [digits_right(VadSettings(), Reading(s, level_dbfs=-45.0)) for s in ("jackson", "george")]
    without = [digits_right(VadSettings(noise_suppression=0), Reading(s, level_dbfs=-45.0))
               for s in ("jackson", "george")]
    assert all(suppressed == 8 for _, suppressed in with_ns) and not any(s for _, s in without)
    assert sum(r for r, _ in with_ns) >= sum(r for r, _ in without) + 6  # measured: 17 of 64 digits against 7
    recorded = digits_right(VadSettings(), Reading("jackson"))
    assert recorded[1] == 0 and recorded[0] >= 28  # at a good level: untouched, and heard


def test_when_free_recognition_answers_the_grammar_reading_goes_with_it(model: object) -> None:
    """A turn whose step grammar was unsure is answered by free recognition; what the grammar
    heard goes along (Final.grammar), so a digit prompt can still take a quiet caller's digits."""
    from tests.voices import Reading, fsdd_available, spoken_number
    from voicebot.nlu.numbers import parse_digits
    from voicebot.speech.grammars import grammar_for

    if not fsdd_available():
        pytest.fail("../shared/data/fsdd is missing: the real-voice recordings", pytrace=False)
    audio = np.concatenate([spoken_number("6222", Reading("lucas"), np.random.default_rng(1), lead_s=0.5),
                            silence(1.0)])
    for unsure in (False, True):
        rec = StreamingRecognizer(model, 8000, grammar=grammar_for("card_number", "en-US"))
        if unsure:
            rec.BIAS_MIN_CONFIDENCE = 1.01  # no grammar result is sure enough: free recognition answers
        finals = [e for _, e in stream(rec, audio) if isinstance(e, Final)]  # one turn or more (FSDD's pauses)
        rec.close()
        if unsure:
            assert rec.fallbacks["late"] == len(finals) and all(f.grammar is not None for f in finals)
            assert "".join(parse_digits(f.grammar.text) for f in finals) == "6222"
        else:
            assert not any(rec.fallbacks.values()) and all(f.grammar is None for f in finals)
            assert "".join(parse_digits(f.text) for f in finals) == "6222"


def test_voicebot_say_writes_the_lines_voice_and_a_recogniser_hears_it_back(model: object, tmp_path: Path) -> None:
    """`voicebot say` gives anyone (and any check) the sentence as a caller hears it: 8 kHz, the
    line's voice; a static prompt comes from the prompt cache, as calls play it."""
    from voicebot.dialog.static_prompts import static_sentences

    def say(text: str, out: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "voicebot", "say", "--lang", "en-US", "-o", str(out), text],
                              cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)

    dynamic = say("Your balance is twelve thousand yuan.", tmp_path / "balance.wav")
    assert dynamic.returncode == 0, dynamic.stderr
    samples, rate = read_wav(tmp_path / "balance.wav")
    assert rate == 8000 and len(samples) > rate and "rendered now" in dynamic.stderr
    rec = StreamingRecognizer(model, 8000)
    heard = " ".join(e.text for _, e in stream(rec, np.concatenate([silence(0.5), samples, silence(1.0)]))
                     if isinstance(e, Final))
    rec.close()
    # the amount comes back; the small model makes "your now in" of "your balance is" in this voice
    # (issue 33's bench measures the voice itself)
    assert "twelve thousand" in heard, heard
    prompt = sorted(static_sentences("en-US"))[0]
    cached = say(prompt, tmp_path / "prompt.wav")
    assert cached.returncode == 0 and "cached static prompt" in cached.stderr, cached.stderr
    nothing = say("  ", tmp_path / "nothing.wav")
    assert nothing.returncode == 2 and "nothing to say" in nothing.stderr and "Traceback" not in nothing.stderr


def test_float_samples_saturate_to_int16_like_clip() -> None:
    from voicebot.speech.audio import saturated_int16

    x = np.random.default_rng(3).normal(0, 30000, 4000)
    for samples in (x, x.astype(np.float32)):
        out = saturated_int16(samples)
        assert out.dtype == np.int16 and np.array_equal(out, np.clip(samples, -32768, 32767).astype(np.int16))
    assert saturated_int16(np.array([1e9, -1e9, 0.4])).tolist() == [32767, -32768, 0]
