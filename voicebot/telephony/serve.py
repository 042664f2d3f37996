"""Wiring for `voicebot serve`: load the models once, start the worker, report where it listens."""

from __future__ import annotations

import faulthandler
import logging
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pjsua2 as pj

from voicebot import LANGUAGES
from voicebot.config import Config, make_parser
from voicebot.nlu.parser import NluUnavailable
from voicebot.recording.recordings import Recordings, line_recordings
from voicebot.recording.sealing import SealingError
from voicebot.speech.recognizers import warm_up
from voicebot.telephony.media import RATE
from voicebot.telephony.metrics import serve_metrics
from voicebot.telephony.server import BotServer
from voicebot.telephony.services import Services
from voicebot.telephony.sipstack import SipSettings

log = logging.getLogger("voicebot.sip")


@dataclass
class ServeOptions:
    bind: str
    port: int
    cdr: Path
    metrics_port: int = 0
    metrics_bind: str = "127.0.0.1"
    media_bind: str | None = None


def services_for(cfg: Config, bank: object, parser: object, recordings: Recordings | None = None) -> Services:
    """What the worker's calls share, from the configuration (``[voice]`` as SIP calls read it)."""
    return Services(bank, parser, cfg.path("models"), cfg.path("audio_prompts"), cfg.dialog, cfg.voice("sip"),
                    inband_dtmf=cfg.sip.inband_dtmf, region=cfg.region,
                    starts=[recordings.for_channel("sip", RATE)] if recordings is not None else [])


def run_server(cfg: Config, bank: object, options: ServeOptions, echo: Callable[[str], None]) -> None:
    """Load NLU and speech for both languages, listen, serve until a signal; RuntimeError if it cannot."""
    faulthandler.enable()  # a crash in native code still leaves every thread's Python stack on stderr
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 PID`: every thread's stack on stderr
    parser = make_parser(cfg)
    for lang in LANGUAGES:
        if hasattr(parser, "load"):
            echo(f"loading the {lang} NLU model ...")
            try:
                parser.load(lang)
            except NluUnavailable as exc:
                echo(f"warning: {exc}; {lang} speech falls back to the keypad")
                log.warning("nlu unavailable for %s: %s", lang, exc)
    try:
        recordings = line_recordings(cfg.recording, cfg.path)
    except SealingError as exc:
        raise RuntimeError(str(exc)) from exc
    services = services_for(cfg, bank, parser, recordings)
    purge = recordings.purging() if recordings is not None else None
    for lang in LANGUAGES:  # in memory now: a caller over the limit is never rendered for on the SIP thread
        services.busy_message(lang)
    for lang in LANGUAGES:
        if (recognizer := services.models.recognizer(lang, RATE)) is not None:
            recognizer.close()
            if cfg.sip.warm_up_s > 0 and hasattr(recognizer, "pool"):  # Vosk: its pooled recognisers
                echo(f"warming the {lang} speech recogniser on {cfg.sip.warm_up_s:.0f} s of prompt audio ...")
                started = time.monotonic()
                heard = warm_up(recognizer.pool, sorted((cfg.path("audio_prompts") / lang).glob("*.wav")),
                                cfg.sip.warm_up_s)
                log.info("speech recogniser for %s warmed on %.0f s of prompt audio in %.1f s", lang, heard,
                         time.monotonic() - started)
        else:
            echo(f"warning: no speech model for {lang}: its callers use the keypad "
                 f"(run 'voicebot models fetch --lang {lang}')")
    # A neural voice loads now, not on the first caller's first reply; but only where TensorFlow is
    # already loaded (an in-process NLU): a worker whose NLU is a shared server stays light until
    # a Mandarin caller needs the voice.
    for lang in LANGUAGES if "tensorflow" in sys.modules else ():
        started = time.monotonic()
        if services.cache.synth.warm_up(lang):
            log.info("voice for %s loaded in %.1f s", lang, time.monotonic() - started)
    server = BotServer(services, SipSettings(bind=options.bind, port=options.port, media_bind=options.media_bind),
                       cfg.agents, options.cdr,
                       default_lang=cfg.language, default_region=cfg.region, known_regions=set(bank.regions()),
                       media_timeout_s=cfg.sip.media_timeout_s, max_hold_s=cfg.sip.max_hold_s,
                       region_header_from=cfg.sip.region_header_from, capacity=cfg.capacity)
    try:
        server.start()
    except pj.Error as exc:
        raise RuntimeError(f"cannot listen for SIP on {options.bind}:{options.port}: {exc.info().strip()}") from exc
    metrics_server = None
    if options.metrics_port:
        try:
            metrics_server = serve_metrics(server.metrics, options.metrics_bind, options.metrics_port, lambda: {
                "status": "stopping" if server.stopping.is_set() else "draining" if server.draining.is_set() else "ok",
                "calls": len(server.calls),
                "slots": server.stack.settings.max_calls})
        except OSError as exc:
            echo(f"warning: no metrics endpoint on port {options.metrics_port}: {exc}")
    echo(f"voicebot serving sip:{options.bind}:{options.port} (UDP and TCP), CDRs to {options.cdr}"
         + (f", metrics and health on http://{options.metrics_bind}:{options.metrics_port}/metrics, /health"
            if metrics_server else ""))
    print(f"ready sip:95588@{options.bind}:{options.port}", flush=True)  # what scripts and tests wait for
    sys.stdout.flush()
    server.run()
    if metrics_server is not None:
        metrics_server.shutdown()
    if purge is not None:
        purge.stop()
    echo("stopped: calls hung up, CDRs written")
