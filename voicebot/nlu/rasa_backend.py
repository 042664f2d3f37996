"""Rasa back ends: the model in this process (default) or a shared Rasa HTTP server."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voicebot.catalogue import Catalogue, catalogue
from voicebot.dialog.context import DialogSettings
from voicebot.nlu import entities
from voicebot.nlu.focus import focus
from voicebot.nlu.parser import NluResult, NluUnavailable
from voicebot.nlu.request_clause import prefer_request, request_clause
from voicebot.nlu.routing import route

log = logging.getLogger("voicebot.nlu")
RELOAD_CHECK_S = 5.0  # how often a process looks whether its model file was replaced


def prepare_environment(cache_dir: Path | None = None) -> None:
    """Quiet, offline Rasa: no telemetry, no TensorFlow chatter, the cache out of the work tree."""
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    if cache_dir is not None:
        os.environ.setdefault("RASA_CACHE_DIRECTORY", str(cache_dir))


def quiet_rasa_logging() -> None:
    import jieba
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    jieba.setLogLevel(logging.WARNING)
    for name in ("rasa", "tensorflow", "absl", "matplotlib", "h5py"):
        logging.getLogger(name).setLevel(logging.WARNING)


class _ResultMaker:
    def __init__(self, settings: DialogSettings | None, cat: Catalogue | None) -> None:
        self.settings = settings or DialogSettings()
        self.cat = cat or catalogue()

    def result(self, text: str, raw: dict[str, Any]) -> NluResult:
        intent = raw.get("intent") or {}
        name, confidence = intent.get("name") or "nlu_fallback", float(intent.get("confidence") or 0.0)
        ranking = tuple((str(r["name"]), float(r["confidence"])) for r in raw.get("intent_ranking") or ()
                        if r.get("name") and r["name"] != "nlu_fallback")
        return NluResult(text, name, confidence, route(name, confidence, self.settings, self.cat),
                         entities.extract(text, raw.get("entities")), ranking)

    def understand(self, text: str, lang: str, raw_parse: Callable[[str], dict[str, Any]]) -> NluResult:
        """A turn past its opening and any refusal; a request after a story is read on its own too.

        The classifier reads lower case, as the recogniser writes and the training data is written:
        typed text ("How many steps have I walked") would otherwise be read as another sentence.
        """
        text = focus(text, lang)
        whole = self.result(text, raw_parse(text.lower()))
        clause = request_clause(text, lang)
        return whole if clause is None else prefer_request(whole, self.result(clause, raw_parse(clause.lower())))


class RasaInProcess(_ResultMaker):
    """One loaded Rasa agent per language, shared by every call in this process.

    A model file replaced on disk (a retrained model that was not worse, see ``promotion``)
    is loaded on a background thread and swapped in; calls meanwhile use the old one.
    """

    def __init__(self, models_dir: Path, settings: DialogSettings | None = None, cat: Catalogue | None = None) -> None:
        super().__init__(settings, cat)
        self.models_dir = models_dir
        self._agents: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._loaded: dict[str, int] = {}  # the model file's mtime when it was loaded
        self._checked: dict[str, float] = {}
        self._reloading: set[str] = set()

    def model_path(self, lang: str) -> Path:
        return self.models_dir / f"{lang}.tar.gz"

    def load(self, lang: str) -> None:
        """Load a language's model now (a few seconds) rather than on the first caller's words."""
        with self._lock:
            if lang in self._agents:
                return
            path = self.model_path(lang)
            if not path.exists():
                raise NluUnavailable(f"no NLU model for {lang} at {path}: run 'voicebot nlu train --lang {lang}'")
            self._loaded[lang] = path.stat().st_mtime_ns
            self._agents[lang] = self._load_agent(path)

    def _load_agent(self, path: Path) -> Any:
        prepare_environment()
        from rasa.core.agent import Agent

        quiet_rasa_logging()
        log.info("loading NLU model %s", path)
        agent = Agent.load(str(path))
        quiet_rasa_logging()
        return agent

    def _watch(self, lang: str) -> None:
        """Reload ``lang`` in the background if its model file changed (checked every few seconds)."""
        now = time.monotonic()
        if now - self._checked.get(lang, 0.0) < RELOAD_CHECK_S or lang in self._reloading:
            return
        self._checked[lang] = now
        try:
            mtime = self.model_path(lang).stat().st_mtime_ns
        except OSError:
            return
        if mtime != self._loaded.get(lang):
            self._reloading.add(lang)
            threading.Thread(target=self._reload, args=(lang, mtime), name=f"nlu-reload-{lang}", daemon=True).start()

    def _reload(self, lang: str, mtime: int) -> None:
        try:
            agent = self._load_agent(self.model_path(lang))
            with self._lock:
                self._agents[lang] = agent
            log.info("NLU model for %s replaced on disk: the new one is in use", lang)
        except Exception:
            log.exception("NLU model for %s changed on disk but cannot be loaded: keeping the old one", lang)
        finally:
            self._loaded[lang] = mtime
            self._reloading.discard(lang)

    def parse(self, text: str, lang: str) -> NluResult:
        return self.understand(text, lang, lambda part: self.raw_parse(part, lang))

    def _ready(self, lang: str) -> None:
        """The language's model is loaded, and a newer one on disk is being picked up."""
        if lang not in self._agents:
            self.load(lang)
        self._watch(lang)

    def raw_parse(self, text: str, lang: str) -> dict[str, Any]:
        """Rasa's own parse of ``text`` (what the shared NLU server sends its workers)."""
        self._ready(lang)
        with self._lock:  # the calls of this process take turns with the agent
            return self._loop.run_until_complete(self._agents[lang].parse_message(text))

    async def raw_parse_here(self, text: str, lang: str) -> dict[str, Any]:
        """``raw_parse`` on the caller's own event loop and thread (the shared NLU server's way: one
        thread, so no hand-over to a parsing thread and back for each request)."""
        self._ready(lang)
        with self._lock:
            agent = self._agents[lang]
        result: dict[str, Any] = await agent.parse_message(text)
        return result


class RasaHttp(_ResultMaker):
    """A shared NLU server per language (``voicebot.nlu.server``), shared by workers.

    The token (``VOICEBOT_NLU_TOKEN``) keeps anyone else from parsing; it is sent in the
    ``Authorization`` header, never in a URL that proxies and logs keep.
    """

    def __init__(self, urls: dict[str, str], timeout_s: float = 2.0, settings: DialogSettings | None = None,
                 cat: Catalogue | None = None, token: str | None = None) -> None:
        super().__init__(settings, cat)
        self.urls = urls
        self.timeout_s = timeout_s
        self.token = token

    def parse(self, text: str, lang: str) -> NluResult:
        return self.understand(text, lang, lambda part: self._post(part, lang))

    def _post(self, text: str, lang: str) -> dict[str, Any]:
        base = self.urls.get(lang)
        if not base:
            raise NluUnavailable(f"no NLU server configured for {lang}")
        auth = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        request = urllib.request.Request(f"{base.rstrip('/')}/model/parse", method="POST",
                                         data=json.dumps({"text": text}).encode(),
                                         headers={"Content-Type": "application/json", **auth})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                raw = json.loads(response.read())
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise NluUnavailable(f"NLU server {base} did not answer: {exc}") from exc
        return dict(raw)
