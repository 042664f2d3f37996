"""voicebot: an offline, self-hosted, speech-enabled phone-banking bot (95588-style)."""

__version__ = "0.1.0"

LANGUAGES = ("en-US", "zh-CN")
