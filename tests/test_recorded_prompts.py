"""Recorded prompts: a bank's WAVs replace the synthesised voice for fixed prompts, and sentences
with a caller's data are put together from recorded pieces and fragments, as IVRs do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from voicebot.dialog import prompts, reading
from voicebot.speech.audio import write_wav
from voicebot.speech.recorded import GAP_S, RecordedPrompts
from voicebot.speech.tts import PromptCache, Synthesizer


def _record(folder: Path, name: str, level: int, seconds: float = 0.1) -> None:
    """A 'recording' that is one steady level: the level tells later which recording was played."""
    path = folder / f"{name}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, np.full(int(8000 * seconds), level, np.int16), 8000)


def _levels(audio: np.ndarray) -> list[int]:
    """The recordings played, in order (silences between them left out)."""
    out: list[int] = []
    previous = 0
    for value in audio.tolist():
        if value and value != previous:
            out.append(value)
        previous = value
    return out


def test_a_recorded_fixed_prompt_is_played_instead_of_the_synthesised_one(tmp_path: Path) -> None:
    _record(tmp_path / "recorded" / "zh-CN", "greeting", 1000)
    cache = PromptCache(tmp_path, Synthesizer(sample_rate=8000))
    greeting = prompts.text("greeting", "zh-CN")
    assert _levels(cache.get(greeting, "zh-CN")) == [1000]
    assert len(_levels(cache.get(prompts.text("greeting", "en-US"), "en-US"))) > 10  # not recorded: synthesised


def test_a_sentence_with_data_is_put_together_from_pieces_and_fragments(tmp_path: Path) -> None:
    """'您{ending}的{currency}账户余额为{balance}。' with 尾号零一零零, 人民币, 两千五百元."""
    zh = tmp_path / "recorded" / "zh-CN"
    for n, level in ((1, 101), (2, 102), (3, 103)):
        _record(zh, f"balance_line.{n}", level)
    words = {"尾号": 201, "零": 202, "一": 203, "人民币": 204, "人": 299, "两": 205, "千": 206, "五": 207, "百": 208,
             "元": 209}
    for word, level in words.items():
        _record(zh / "fragments", word, level)
    sentence = prompts.text("balance_line", "zh-CN", ending=reading.card_ending("6222020000000100", "zh-CN"),
                            currency=reading.account_currency("CNY", "zh-CN"),
                            balance=reading.money(250000, "CNY", "zh-CN"))
    assert sentence == "您尾号零一零零的人民币账户余额为两千五百元。"
    audio = PromptCache(tmp_path, Synthesizer(sample_rate=8000)).get(sentence, "zh-CN")
    assert _levels(audio) == [101, 201, 202, 203, 202, 202, 102, 204, 103, 205, 206, 207, 208, 209]
    # the fragments of a value are kept apart by a short gap; the sentence ends on its full stop's pause
    first_fragment = int(0.1 * 8000) * 2
    assert not audio[first_fragment:first_fragment + int(GAP_S * 8000)].any()
    assert not audio[-int(0.3 * 8000):].any()


def test_a_sentence_not_wholly_recorded_is_synthesised_whole(tmp_path: Path) -> None:
    zh = tmp_path / "recorded" / "zh-CN"
    for n in (1, 2, 3):
        _record(zh, f"balance_line.{n}", 100 + n)
    _record(zh / "fragments", "零", 202)  # no 尾号, no 一: the card ending cannot be said
    recorded = RecordedPrompts(tmp_path / "recorded", 8000)
    sentence = prompts.text("balance_line", "zh-CN", ending="尾号零一零零", currency="人民币", balance="两千五百元")
    assert recorded.get(sentence, "zh-CN") is None
    audio = PromptCache(tmp_path, Synthesizer(sample_rate=8000)).get(sentence, "zh-CN")
    assert len(_levels(audio)) > 100  # speech, not five steady recordings


def test_prompts_list_shows_what_is_recorded(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "voicebot.toml").write_text(f'base_dir = "{tmp_path}"\n')
    _record(tmp_path / "audio_prompts" / "recorded" / "zh-CN", "greeting", 1000)
    _record(tmp_path / "audio_prompts" / "recorded" / "zh-CN" / "fragments", "零", 1000)
    out = subprocess.run([sys.executable, "-m", "voicebot", "--config", str(tmp_path / "config" / "voicebot.toml"),
                          "prompts", "list", "--lang", "zh-CN"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("zh-CN: 1 of ")
    assert any(line.split()[:2] == ["recorded", "greeting"] for line in lines)
    assert any(line.split()[:2] == ["synthesised", "menu_speak"] for line in lines)
    assert any(line.split()[:3] == ["pieces", "0/3", "balance_line"] for line in lines)
    fragments = next(line for line in lines if "fragments:" in line)
    assert "1 of" in fragments and "零" not in fragments.split("missing:")[1]
