"""The ``voicebot`` command line: chat, db, and (as they land) nlu, serve, transcribe, mic."""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn

import click

from voicebot import LANGUAGES, __version__
from voicebot.cli_common import UserError, open_bank
from voicebot.config import Config, ConfigError, load_config
from voicebot.nlu.parser import Parser

if TYPE_CHECKING:
    from voicebot.channels.call import CallKit

log = logging.getLogger("voicebot.cli")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="voicebot")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="VOICEBOT_CONFIG",
              help="Configuration file (default: config/voicebot.toml).")
@click.option("-v", "--verbose", is_flag=True, help="Also print the log on stderr.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """Offline phone-banking bot modelled on the 95588 line."""
    from voicebot.logs import setup_logging

    try:
        cfg = load_config(config_path)
    except ConfigError as exc:
        raise UserError(str(exc)) from exc
    setup_logging(cfg.log_level, cfg.path(cfg.log_file), stderr=verbose)
    ctx.obj = cfg


@cli.command()
@click.option("--lang", type=click.Choice(LANGUAGES), default=None, help="Caller's language (default from config).")
@click.option("--jsonl", is_flag=True, help="Print one JSON object per bot action instead of a transcript.")
@click.option("--caller-id", default=None, help="Caller's number, recorded in the CDR.")
@click.option("--call-id", default=None, help="Call id (idempotency keys derive from it); random by default.")
@click.option("--region", default=None, help="Area code of the line's region (default from config).")
@click.option("--cdr", type=click.Path(dir_okay=False), default=None, help="Append the call's CDR line to this file.")
@click.pass_obj
def chat(cfg: Config, lang: str | None, jsonl: bool, caller_id: str | None, call_id: str | None,
         region: str | None, cdr: str | None) -> None:
    """Talk to the bot in text: free text is speech, 'dtmf:123#' keys, 'silence' a timeout.

    End of input (Ctrl-D) hangs up.
    """
    from voicebot.cdr import CdrSink
    from voicebot.channels.text import as_json, as_transcript, run_chat
    from voicebot.dialog.engine import DialogEngine

    bank = open_bank(cfg)
    lang = lang or cfg.language
    parser = _ready_parser(cfg, lang)
    engine = DialogEngine(bank, parser, lang=lang, region=region or cfg.region, call_id=call_id, caller=caller_id,
                          settings=cfg.dialog)
    interactive = sys.stdin.isatty() and not jsonl

    def emit(action) -> None:  # noqa: ANN001
        line = as_json(action) if jsonl else as_transcript(action)
        if line is not None:
            click.echo(line)
            sys.stdout.flush()

    def prompt(expect: str | None) -> None:
        if interactive and expect:
            click.echo(f"you ({expect})> ", nl=False)

    record = run_chat(engine, sys.stdin, emit, before_read=prompt)
    if cdr:
        sink = CdrSink(cfg.path(cdr), bank.engine)
        sink.write(record)
        sink.close()


def _ready_parser(cfg: Config, lang: str) -> Parser:
    """The configured NLU, loaded now; if it cannot be, the call still runs on keys (and says so)."""
    from voicebot.config import make_parser
    from voicebot.nlu.parser import NluUnavailable

    parser = make_parser(cfg)
    if hasattr(parser, "load"):
        try:
            parser.load(lang)
        except NluUnavailable as exc:
            click.echo(f"warning: {exc}; speech will fall back to the keypad", err=True)
            log.warning("nlu unavailable: %s", exc)
    return parser


@cli.command()
@click.option("--lang", type=click.Choice(LANGUAGES), default=None, help="Caller's language (default from config).")
@click.pass_obj
def mic(cfg: Config, lang: str | None) -> None:
    """Talk to the bot with your microphone and speaker (16 kHz); type keys + Enter for DTMF, q to hang up."""
    from voicebot.channels import mic as mic_channel
    from voicebot.channels.call_events import BotActed, CallEvent
    from voicebot.channels.text import as_transcript

    lang = lang or cfg.language
    try:
        stream = mic_channel.open_default_stream()
    except mic_channel.NoSoundDevice as exc:
        raise UserError(str(exc)) from exc
    kit = mic_kit(cfg, open_bank(cfg), lang)
    if kit.models is not None and kit.models.backend(lang) is None:
        click.echo(f"warning: no speech model for {lang}; keys only", err=True)

    def show(event: CallEvent) -> None:
        line = as_transcript(event.action) if isinstance(event, BotActed) else None
        if line:
            click.echo(line)

    session = kit.call(lang, subscribers=[show])
    click.echo("listening; type keys and Enter for DTMF, q to hang up", err=True)
    with stream:
        mic_channel.run(session, stream, mic_channel.keyboard_keys())
    session.close()
    if kit.understander is not None:
        kit.understander.shutdown(wait=False, cancel_futures=True)


def mic_kit(cfg: Config, bank: Any, lang: str) -> CallKit:
    """The microphone's call, built from the configuration (``[voice]`` as mic calls read it)."""
    from concurrent.futures import ThreadPoolExecutor

    from voicebot.channels.call import CallKit, SpeechModels
    from voicebot.channels.mic import MIC_RATE
    from voicebot.dialog.static_prompts import is_static
    from voicebot.speech.tts import PromptCache, Synthesizer

    voice = cfg.voice("mic")
    parser = _ready_parser(cfg, lang)
    cache = PromptCache(cfg.path("audio_prompts"), Synthesizer(sample_rate=MIC_RATE), keep=is_static)
    return CallKit("mic", MIC_RATE, bank, lambda _lang: parser, SpeechModels(cfg.path("models"), voice), cache.get,
                   voice, cfg.dialog, cfg.region,
                   understander=ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu"))  # NLU at a pause


@cli.command()
@click.option("--bind", default=None, help="Address to listen on (default from config [sip]).")
@click.option("--sip-port", type=int, default=None, help="SIP port, UDP and TCP (default from config).")
@click.option("--cdr", type=click.Path(dir_okay=False), default=None, help="CDR file, one JSON line per call.")
@click.option("--metrics-port", type=int, default=None, help="Prometheus /metrics port (0: off).")
@click.option("--metrics-bind", default=None, help="Address of /metrics (default from config: 127.0.0.1).")
@click.option("--media-bind", default=None, help="Address for RTP if not the SIP address (a worker behind a proxy).")
@click.option("--instance", type=click.IntRange(0, 63), default=0, show_default=True,
              help="The Nth worker of this host: SIP and metrics ports are the configured ones + N.")
@click.pass_obj
def serve(cfg: Config, bind: str | None, sip_port: int | None, cdr: str | None, metrics_port: int | None,
          metrics_bind: str | None, media_bind: str | None, instance: int) -> None:
    """Answer phone calls over SIP (at most 4 at once per worker); Ctrl-C hangs up and stops."""
    from voicebot.telephony.serve import ServeOptions, run_server

    metrics = cfg.sip.metrics_port + instance if cfg.sip.metrics_port else 0
    options = ServeOptions(bind=bind or cfg.sip.bind, port=cfg.sip.port + instance if sip_port is None else sip_port,
                           cdr=cfg.path(cdr or cfg.sip.cdr),
                           metrics_port=metrics if metrics_port is None else metrics_port,
                           metrics_bind=metrics_bind or cfg.sip.metrics_bind, media_bind=media_bind)
    try:
        run_server(cfg, open_bank(cfg), options, echo=lambda line: click.echo(line, err=True))
    except RuntimeError as exc:
        raise UserError(str(exc)) from exc


@cli.command()
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="SIP workers (4 calls each); default: enough for the line's calls, and one more.")
@click.option("--calls", type=click.IntRange(1, 252), default=None,
              help="Calls the line admits at once (the rest hear the busy message); default: [capacity] "
                   "max_calls, else measured from this machine.")
@click.option("--bind", default=None, help="Address of the front door, and of RTP (default from config).")
@click.option("--worker-bind", default="127.0.0.1", show_default=True,
              help="Internal address the workers' SIP listens on (callers reach them only through the front door).")
@click.option("--trusted", "trusted", multiple=True, metavar="CIDR",
              help="Accept SIP only from these networks (an SBC or carrier trunk), repeatable; "
                   "default: [front_door] trusted, else any.")
@click.option("--sip-port", type=int, default=None, help="The front door's SIP port; workers use the next ones.")
@click.option("--cdr", type=click.Path(dir_okay=False), default=None, help="CDR file all workers append to.")
@click.option("--nlu-url", "nlu_urls", multiple=True, metavar="LANG=URL",
              help="Use a Rasa server that already runs for LANG (repeatable) instead of starting one.")
@click.option("--lang", "langs", multiple=True, type=click.Choice(LANGUAGES),
              help="Start shared NLU servers only for these languages (default: both).")
@click.option("--status-every", type=float, default=30.0, show_default=True, help="Seconds between status lines.")
@click.option("--shared-model/--no-shared-model", "share_model", default=True, show_default=True,
              help="One copy of each speech model: workers forked from one process holding Vosk's, and "
                   "one shared server for Whisper's; or each worker a process with models of its own.")
@click.pass_obj
def cluster(cfg: Config, workers: int | None, calls: int | None, bind: str | None, worker_bind: str,
            trusted: tuple[str, ...], sip_port: int | None, cdr: str | None, nlu_urls: tuple[str, ...],
            langs: tuple[str, ...], status_every: float, share_model: bool) -> None:
    """Kamailio in front of N `voicebot serve` workers sharing Rasa NLU servers; restarts workers that die."""
    from voicebot.cluster.processes import ClusterError
    from voicebot.cluster.supervisor import Cluster, ClusterOptions
    from voicebot.config import nlu_paths
    from voicebot.speech.backends import whisper_to_share

    open_bank(cfg).engine.dispose()  # migrate once here, before the workers start; no connection outlives it
    urls = {}
    for item in nlu_urls:
        lang, sep, url = item.partition("=")
        if not sep or lang not in LANGUAGES:
            raise UserError(f"--nlu-url looks like en-US=http://127.0.0.1:5005, not {item!r}")
        urls[lang] = url
    models = {}
    if cfg.nlu.backend == "rasa":
        paths = nlu_paths(cfg)
        for lang in langs or LANGUAGES:
            if lang not in urls:
                model = paths.model(lang)
                if not model.exists():
                    raise UserError(f"no NLU model for {lang} in {model}: run 'voicebot nlu train --lang {lang}'")
                models[lang] = model
    port = cfg.sip.port if sip_port is None else sip_port
    from voicebot.cluster.line_plan import plan_line

    workers, line_calls = plan_line(cfg, lambda line: click.echo(line, err=True), calls=calls, workers=workers,
                                    nlu_servers=len(models), shared_model=share_model)
    options = ClusterOptions(workers, bind or cfg.sip.bind, port, cfg.path(cdr or cfg.sip.cdr),
                             cfg.path(f"var/cluster-{port}"), config=cfg.source, nlu_models=models, nlu_urls=urls,
                             status_every_s=status_every, worker_bind=worker_bind,
                             front_door=replace(cfg.front_door, trusted=list(trusted) or cfg.front_door.trusted),
                             models_root=cfg.path("models") if share_model else None,
                             whisper_model=whisper_to_share(cfg.path("models"), cfg.speech_engines, LANGUAGES)
                             if share_model else None,
                             line_calls=line_calls, capacity=cfg.capacity)
    echo = lambda line: click.echo(line, err=True)  # noqa: E731
    supervisor = Cluster(options, echo)
    try:
        supervisor.start()
        print(f"ready sip:95588@{options.bind}:{options.port} workers={workers} calls={line_calls or workers * 4}",
              flush=True)
        echo(f"cluster serving sip:{options.bind}:{options.port} with {workers} workers; logs in {options.folder}")
        supervisor.run()
    except ClusterError as exc:
        raise UserError(str(exc)) from exc
    finally:
        supervisor.stop()
    echo("cluster stopped")


@cli.command()
@click.pass_obj
def demo(cfg: Config) -> None:
    """Watch a whole call over real SIP on loopback: bot, scripted caller and agent seat in one command."""
    from voicebot.telephony.demo import run_demo

    open_bank(cfg)  # a readable error now if the database is not set up
    if run_demo(cfg, echo=click.echo) != 0:
        raise UserError("the demo could not run; the message above says where to look")


@cli.command()
@click.option("--lang", type=click.Choice(LANGUAGES), required=True)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.pass_obj
def transcribe(cfg: Config, lang: str, files: tuple[str, ...]) -> None:
    """Recognise WAV files (any rate, mono or stereo) offline; one JSON line per file."""
    import json

    from voicebot.speech import backends
    from voicebot.speech.audio import read_wav
    from voicebot.speech.models import ModelUnavailable

    try:
        backend = backends.load(cfg.path("models"), lang, cfg.speech_engines.get(lang, "auto"))
    except ModelUnavailable as exc:
        raise UserError(str(exc)) from exc
    failed = 0
    for name in files:
        try:
            samples, rate = read_wav(name)
        except (ValueError, OSError) as exc:
            failed += 1
            click.echo(json.dumps({"file": name, "error": f"not a readable WAV file: {exc}"}))
            continue
        text, confidence = backend.transcribe(samples, rate)
        click.echo(json.dumps({"file": name, "text": text, "confidence": confidence}, ensure_ascii=False))
    if failed:
        raise UserError(f"{failed} of {len(files)} files could not be read")


def main() -> NoReturn:
    """Entry point: user errors and unexpected failures end in one readable line, not a traceback."""
    try:
        cli(standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        log.exception("unexpected error")
        click.echo(f"Error: {exc.__class__.__name__}: {exc} (the log has the details; -v prints it here)", err=True)
        sys.exit(1)
    sys.exit(0)


from voicebot.cli_agent import agent  # noqa: E402
from voicebot.cli_call import call_cmd  # noqa: E402 - these need cli's helpers defined above
from voicebot.cli_console import console, up, users  # noqa: E402
from voicebot.cli_deploy import front_door, nlu_serve  # noqa: E402
from voicebot.cli_nlu import nlu  # noqa: E402
from voicebot.cli_recordings import recordings  # noqa: E402
from voicebot.cli_reports import cdr  # noqa: E402
from voicebot.cli_setup import db, models, prompts, say  # noqa: E402

for _command in (call_cmd, db, models, prompts, say, nlu, agent, console, users, up, cdr, front_door,
                 recordings):
    cli.add_command(_command)
nlu.add_command(nlu_serve)
