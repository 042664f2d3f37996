"""A worker's side of the shared speech server (``whisper_server.py``): the same ``transcribe`` as
a Whisper model loaded in process, one HTTP request per endpointed turn.

The cluster starts the server and hands its workers ``VOICEBOT_SPEECH_URL`` and
``VOICEBOT_SPEECH_TOKEN``. A server that cannot be reached, or does not answer in time, gives an
empty, dropped result: the dialog asks again and offers the keypad, as for a turn it did not hear.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.parse
import urllib.request
from typing import Any

import numpy as np
from numpy.typing import NDArray

from voicebot.service_token import bearer
from voicebot.speech.whisper import Transcript

log = logging.getLogger("voicebot.speech")
URL_ENV, TOKEN_ENV = "VOICEBOT_SPEECH_URL", "VOICEBOT_SPEECH_TOKEN"


class RemoteWhisper:
    """Transcribes through the shared speech server at ``url``."""

    def __init__(self, url: str, token: str, timeout_s: float = 10.0) -> None:
        self.url, self.token, self.timeout_s = url.rstrip("/"), token, timeout_s

    def transcribe(self, samples: NDArray[Any], rate: int, lang: str, hint: str = "") -> Transcript:
        query = urllib.parse.urlencode({"lang": lang, "rate": rate, "hint": hint})
        body = np.ascontiguousarray(samples, dtype=np.int16).tobytes()
        request = urllib.request.Request(f"{self.url}/transcribe?{query}", data=body, method="POST",
                                         headers={**bearer(self.token), "Content-Type": "application/octet-stream"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                answer = json.loads(response.read())
            return Transcript(str(answer["text"]), float(answer["confidence"]), float(answer["no_speech"]),
                              str(answer.get("dropped", "")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("speech server %s did not transcribe a turn: %s", self.url, exc)
            return Transcript("", 0.0, 1.0, "the speech server did not answer")


def from_environment() -> RemoteWhisper | None:
    """The cluster's shared speech server, if this process was started with one."""
    url = os.environ.get(URL_ENV, "").strip()
    return RemoteWhisper(url, os.environ.get(TOKEN_ENV, "").strip()) if url else None
