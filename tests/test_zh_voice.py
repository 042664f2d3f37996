"""The line's Mandarin voice (voicebot/speech/zh_neural.py): understood by a recogniser, weights pinned."""

from __future__ import annotations

import shutil
import statistics
from pathlib import Path

import numpy as np
import pytest

from tests.test_mandarin_speech import _whisper
from tests.voices import ulaw_roundtrip
from voicebot.dialog.static_prompts import static_sentences
from voicebot.speech import zh_neural
from voicebot.speech.scoring import error_rate
from voicebot.speech.tts import Synthesizer, voice_name


def test_digits_are_read_out_and_latin_script_goes_to_the_english_voice() -> None:
    assert zh_neural.spoken_digits("欢迎致电95588，7乘24小时，请按1，二〇二六年，第10个") == (
        "欢迎致电九五五八八，七乘二十四小时，请按一，二零二六年，第十个")
    assert zh_neural.segments("个人客户请按1。 For English, press 9. 人工服务请按0。") == [
        ("个人客户请按1。 ", False), ("For English, press 9.", True), (" 人工服务请按0。", False)]


def test_a_weight_file_that_differs_from_the_pinned_one_is_refused(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "asset"
    shutil.copytree(zh_neural.assets(), folder)
    vocoder = folder / "mb_melgan.tflite"
    data = bytearray(vocoder.read_bytes())
    data[len(data) // 2] ^= 0xFF
    vocoder.write_bytes(bytes(data))
    with pytest.raises(zh_neural.WeightsMismatch, match="mb_melgan"):
        zh_neural.MandarinVoice(folder)
    monkeypatch.setattr(zh_neural, "assets", lambda: folder)
    zh_neural.usable.cache_clear()
    try:  # the line refuses the voice and speaks Mandarin with espeak-ng, as before it
        assert voice_name("zh-CN") == "sit/cmn"
    finally:
        monkeypatch.undo()
        zh_neural.usable.cache_clear()
    assert voice_name("zh-CN") == zh_neural.VOICE_ID


def test_the_lines_mandarin_prompts_come_back_from_a_recogniser() -> None:
    """Fixed sentences rendered as calls play them, through 8 kHz µ-law with a little silence either
    side, recognised by Whisper base: espeak-ng's Mandarin came back at a median CER of 100%."""
    assert voice_name("zh-CN") == zh_neural.VOICE_ID
    synth, model = Synthesizer(sample_rate=8000), _whisper().model
    sentences = [t for t in static_sentences("zh-CN") if t.endswith("。") and len(t) <= 30][:24]
    pad = np.zeros(2400, np.int16)
    rates = []
    for text in sentences:
        audio = ulaw_roundtrip(np.concatenate([pad, synth.render(text, "zh-CN"), pad]))
        rates.append(error_rate(text, model.transcribe(audio, 8000, "zh-CN").text, "zh-CN"))
    assert len(rates) == 24 and statistics.median(rates) <= 0.35, sorted(zip(rates, sentences, strict=True))


def test_a_mixed_prompt_says_its_english_part_in_the_english_voice() -> None:
    synth = Synthesizer(sample_rate=8000)
    chinese = synth.render("人工服务请按0。", "zh-CN")
    mixed = synth.render("For English, press 9. 人工服务请按0。", "zh-CN")
    english = synth.render("For English, press 9.", "en-US")
    assert abs(len(mixed) - (len(english) + len(chinese))) < 0.5 * 8000  # both parts, a short gap between


def test_a_sentence_with_data_plays_clause_by_clause_and_a_fixed_one_whole(tmp_path: Path) -> None:
    from voicebot.speech.tts import PromptCache

    fixed = "请输入六位数字密码。"
    cache = PromptCache(tmp_path, Synthesizer(sample_rate=8000), keep=lambda text, lang: text == fixed)
    balance = "交易成功，您的人民币余额为两千五百元。"
    assert cache.parts(balance, "zh-CN") == ["交易成功，", "您的人民币余额为两千五百元。"]
    assert cache.parts(fixed, "zh-CN") == [fixed]
    assert cache.parts("Done. Your balance is 2,500.00 yuan.", "en-US") == ["Done. Your balance is 2,500.00 yuan."]
    first, rest = (cache.get(part, "zh-CN") for part in cache.parts(balance, "zh-CN"))
    assert not first[-int(0.1 * 8000):].any()  # the comma's pause ends the first clause
    assert len(rest) > len(first)


def test_the_first_words_of_a_reply_go_before_the_rest_of_another_sentence() -> None:
    """Two calls wait for the voice: one for the rest of a sentence already playing, one for the
    first clause of its reply (its caller is waiting in silence). The reply goes first."""
    import threading
    import time

    order: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with zh_neural._turn(True):
            holding.set()
            release.wait(5)

    def use(name: str, urgent: bool) -> None:
        with zh_neural._turn(urgent):
            order.append(name)

    threads = [threading.Thread(target=hold)]
    threads[0].start()
    holding.wait(5)
    threads.append(threading.Thread(target=use, args=("rest", False)))
    threads[1].start()
    time.sleep(0.1)  # the rest of a sentence asked first ...
    threads.append(threading.Thread(target=use, args=("reply", True)))
    threads[2].start()
    time.sleep(0.1)
    release.set()
    for thread in threads:
        thread.join(5)
    assert order == ["reply", "rest"]


def test_the_english_menus_chinese_offer_is_said_in_mandarin() -> None:
    """The English main menu offers Chinese service in Chinese ("中文服务请按9。"): in the Mandarin
    voice, not spelt out by the English one."""
    text = "中文服务请按9。"
    audio = Synthesizer(sample_rate=8000).render(f"For an agent, press 0. {text}", "en-US")
    pad = np.zeros(2400, np.int16)
    heard = _whisper().model.transcribe(ulaw_roundtrip(np.concatenate([pad, audio[-int(2.5 * 8000):], pad])), 8000,
                                        "zh-CN").text
    assert error_rate(text, heard, "zh-CN") <= 0.5, heard
