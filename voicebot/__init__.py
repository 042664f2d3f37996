"""voicebot: an offline, self-hosted, speech-enabled phone-banking bot (95588-style)."""

import os
from pathlib import Path

__version__ = "0.1.0"

# Rasa 3.6 (our NLU) uses SQLAlchemy 1.4's legacy API and would print a migration notice on
# every command; SQLAlchemy reads this switch once, when it is first imported.
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

LANGUAGES = ("en-US", "zh-CN")
SPEECH_ENGINES = ("auto", "vosk", "whisper")  # which recogniser hears a language ([voice] engines)

PROJECT_DIR = Path(__file__).resolve().parent.parent  # the checkout: nlu_data/, models/, audio_prompts/
