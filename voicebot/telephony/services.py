"""What every call of a SIP worker shares: bank, NLU, speech models, prompt cache, TTS pool."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.channels.call import CallKit, CallStart, SpeechModels
from voicebot.channels.voice import VoiceSession
from voicebot.channels.voice_settings import VoiceSettings
from voicebot.dialog import prompts
from voicebot.dialog.context import DialogSettings
from voicebot.telephony.invite import CallSetup
from voicebot.telephony.media import RATE
from voicebot.telephony.sipstack import register_thread


class Services:
    """What every call of the worker shares: bank, NLU, speech models, prompt cache, TTS pool."""

    def __init__(self, bank: Any, parser: Any, models_root: Path, prompts_root: Path, settings: DialogSettings,
                 voice: VoiceSettings, inband_dtmf: bool = False, region: str = "010",
                 starts: list[CallStart] | None = None) -> None:
        """``starts``: given each new call's events (its recording)."""
        from voicebot.dialog.static_prompts import is_static
        from voicebot.speech.tts import PromptCache, Synthesizer

        self.bank = bank
        self.inband_dtmf = inband_dtmf
        # fixed prompts are cached; a sentence with a caller's data (a balance) is never written down
        self.cache = PromptCache(prompts_root, Synthesizer(sample_rate=RATE), keep=is_static)
        self.renderer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="tts",
                                           initializer=lambda: register_thread("tts"))
        # NLU parses started at a caller's pause, before the endpoint (one per call at most)
        self.understander = ThreadPoolExecutor(max_workers=4, thread_name_prefix="nlu")
        self.models = SpeechModels(models_root, voice)
        self.kit = CallKit("sip", RATE, bank, lambda lang: parser, self.models, self.cache.get, voice, settings,
                           region, parts=self.cache.parts, renderer=self.renderer, understander=self.understander,
                           starts=list(starts or ()))

    def session(self, setup: CallSetup, call_id: str) -> VoiceSession:
        return self.kit.call(setup.lang, region=setup.region, caller=setup.caller, call_id=call_id)

    def busy_message(self, lang: str) -> np.ndarray[Any, Any]:
        """"All our lines are busy": a fixed prompt, rendered at set-up like the greeting."""
        return self.cache.get(prompts.text("line_busy", lang), lang)
