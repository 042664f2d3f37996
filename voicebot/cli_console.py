"""``voicebot console`` (the web console for people) and ``voicebot users add`` (its operators)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import click

from voicebot import LANGUAGES
from voicebot.cli_common import UserError, open_bank
from voicebot.config import Config
from voicebot.console.operators import ROLES

log = logging.getLogger("voicebot.cli")


@click.command()
@click.option("--bind", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback: only this machine; put a TLS proxy in front otherwise).")
@click.option("--port", type=int, default=8080, show_default=True, help="HTTP port.")
@click.option("--cdr", type=click.Path(dir_okay=False), default=None, help="CDR file (default: the SIP worker's).")
@click.option("--desk/--no-desk", default=True, show_default=True,
              help="Answer the agent pools' SIP addresses ([agents] in the config) for the agent desk.")
@click.pass_obj
def console(cfg: Config, bind: str, port: int, cdr: str | None, desk: bool) -> None:
    """The web console: a browser phone to talk to the bot, and the agent desk (sign-in required)."""
    from aiohttp import web

    from voicebot.cdr import CdrSink
    from voicebot.config import nlu_paths
    from voicebot.console.operators import DEMO_OPERATOR, check_password
    from voicebot.console.server import build_app
    from voicebot.console.web_safety import Access

    bank = open_bank(cfg)
    cdr_path = cfg.path(cdr or cfg.sip.cdr)
    phone = phone_parts(cfg, bank, CdrSink(cdr_path, bank.engine).write)
    url = f"http://{'localhost' if bind in ('127.0.0.1', '::1') else bind}:{port}/"
    access = Access.for_binding(bind, cfg.console_hosts, _device_key(cfg))
    name, _role, password = DEMO_OPERATOR
    demo_works = check_password(bank.engine, name, password) is not None
    click.echo(f"voicebot console: {url} (browser phone at {url}phone, agent desk at {url}desk)", err=True)
    if demo_works and access.demo_operator:
        click.echo(f"  sign in as an operator of 'voicebot users add', or the demo operator: {name} / {password}",
                   err=True)
    elif demo_works:
        click.echo(f"  the demo operator '{name}' cannot sign in here (not the loopback demo set-up): "
                   f"remove it with 'voicebot users remove {name}'", err=True)
        log.warning("console: the demo operator exists but is refused off loopback")
    log.info("console listening on %s:%s (host names %s)", bind, port, ", ".join(sorted(access.hosts)))
    try:
        web.run_app(build_app(bank.engine, phone, cfg.agents if desk else None, nlu_paths(cfg), cfg.reports,
                              access, str(cfg.source) if cfg.source else None),
                    host=bind, port=port, print=None, handle_signals=True)
    except OSError as exc:
        raise UserError(f"cannot listen on {bind}:{port}: {exc.strerror or exc}") from exc


def phone_parts(cfg: Config, bank: Any, cdr: Callable[[Any], None]) -> Any:
    """The browser phone's calls, built from the configuration (``[voice]`` as browser calls read it);
    NLU and speech models are loaded now, not on the first caller's words."""
    from concurrent.futures import ThreadPoolExecutor

    from voicebot.channels.call import CallKit, SpeechModels
    from voicebot.config import make_parser
    from voicebot.console.phone import RATE, PhoneParts
    from voicebot.dialog.static_prompts import is_static
    from voicebot.nlu.parser import NluUnavailable
    from voicebot.recording.recordings import line_recordings
    from voicebot.recording.sealing import SealingError
    from voicebot.speech.tts import PromptCache, Synthesizer

    parser = make_parser(cfg)
    for lang in LANGUAGES:
        try:
            if hasattr(parser, "load"):
                parser.load(lang)
        except NluUnavailable as exc:
            log.warning("console: NLU unavailable for %s (%s): keypad only", lang, exc)
    voice = cfg.voice("browser")
    models = SpeechModels(cfg.path("models"), voice)
    for lang in LANGUAGES:
        models.backend(lang)
    voices = PromptCache(cfg.path("audio_prompts"), Synthesizer(sample_rate=RATE), keep=is_static)
    try:
        recordings = line_recordings(cfg.recording, cfg.path)
    except SealingError as exc:
        raise UserError(str(exc)) from exc
    if recordings is not None:
        recordings.purging()  # for as long as the console runs
    kit = CallKit("browser", RATE, bank, lambda lang: parser, models, voices.get, voice, cfg.dialog, cfg.region,
                  parts=voices.parts, renderer=ThreadPoolExecutor(max_workers=2, thread_name_prefix="tts"),
                  understander=ThreadPoolExecutor(max_workers=2, thread_name_prefix="nlu"),
                  starts=[recordings.for_channel("browser", RATE)] if recordings is not None else [])
    return PhoneParts(kit, cdr, recordings=recordings.store if recordings is not None else None)


def _device_key(cfg: Config) -> bytes:
    """The key that signs the console's "known device" cookies: var/console-device.key, made once."""
    import os
    import secrets
    import time

    path = cfg.path("var/console-device.key")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made before (or by a console starting beside this one)
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    for _ in range(50):
        if key := path.read_text().strip():
            return bytes.fromhex(key)
        time.sleep(0.02)
    raise UserError(f"{path} is empty: delete it and start again")


@click.group()
def users() -> None:
    """Console operators: agents, supervisors and NLU trainers."""


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("password", hide_input=True, confirmation_prompt=True)


def _pool_list(text: str | None) -> list[str] | None:
    """'010,central' -> ['010', 'central']; '*' -> None (every pool)."""
    return None if text is None or text.strip() == "*" else text.split(",")


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="agent: the desk; supervisor: everything; trainer: the NLU inbox; qa: quality review.")
@click.option("--pools", default=None,
              help="Agent pools this operator may take calls in: '010,central', or '*' for every pool "
                   "(agents must be given theirs; others default to '*').")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin (scripts).")
@click.pass_obj
def users_add(cfg: Config, name: str, role: str, pools: str | None, password_stdin: bool) -> None:
    """Create a console operator; the password is asked twice and stored as a salted scrypt hash."""
    from voicebot.console.operators import OperatorError, add_operator

    if role == "agent" and pools is None:
        raise UserError("an agent works in the pools you name: --pools 010,central (or --pools '*' for every pool)")
    try:
        who = add_operator(open_bank(cfg, need_data=False).engine, name, role, _password(password_stdin),
                           _pool_list(pools))
    except OperatorError as exc:
        raise UserError(str(exc)) from exc
    where = "every pool" if who.pools is None else "pools " + ", ".join(sorted(who.pools))
    click.echo(f"operator {who.name} ({who.role}, {where}) created")


@users.command("pools")
@click.argument("name")
@click.argument("pools")
@click.pass_obj
def users_pools(cfg: Config, name: str, pools: str) -> None:
    """Set the agent pools NAME may take calls in: '010,central', or '*' for every pool."""
    from voicebot.console.operators import set_pools

    _change_operator(cfg, lambda engine: set_pools(engine, name, _pool_list(pools)), f"operator {name}: pools {pools}")


def _change_operator(cfg: Config, change: Callable[[Any], None], done: str) -> None:
    """Run ``change`` on the bank's engine; an operator error is a readable one, then ``done`` is said."""
    from voicebot.console.operators import OperatorError

    try:
        change(open_bank(cfg, need_data=False).engine)
    except OperatorError as exc:
        raise UserError(str(exc)) from exc
    click.echo(done)


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
@click.pass_obj
def users_list(cfg: Config, as_json: bool) -> None:
    """The console's operators: name, role and when each was created (never a password)."""
    import json

    from voicebot.console.operators import list_operators

    rows = list_operators(open_bank(cfg, need_data=False).engine)
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(f"{row['name']:<24} {row['role']:<11} {row['pools']:<20} {row['created_at']}")
    if not rows:
        click.echo("no operators: add one with 'voicebot users add NAME --role ROLE'", err=True)


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of stdin.")
@click.pass_obj
def users_passwd(cfg: Config, name: str, password_stdin: bool) -> None:
    """Give an operator a new password; their console sessions end within half a minute."""
    from voicebot.console.operators import set_password

    password = _password(password_stdin)
    _change_operator(cfg, lambda engine: set_password(engine, name, password), f"operator {name}: password changed")


@users.command("remove")
@click.argument("name")
@click.pass_obj
def users_remove(cfg: Config, name: str) -> None:
    """Remove an operator (the demo operator too); their console sessions end within half a minute."""
    from voicebot.console.operators import remove_operator

    _change_operator(cfg, lambda engine: remove_operator(engine, name), f"operator {name} removed")


@click.command()
@click.option("--port", type=int, default=8080, show_default=True, help="The console's HTTP port (loopback).")
@click.option("--sip-port", type=int, default=None, help="The SIP worker's port (default from config).")
@click.pass_context
def up(ctx: click.Context, port: int, sip_port: int | None) -> None:
    """The line as a product on embedded defaults: a SIP worker in the background and the web console."""
    import os
    import secrets
    import signal
    import subprocess

    started: list[subprocess.Popen[bytes]] = []

    def stop(signum: int, _frame: object) -> None:
        # Until the console serves (its own handler then takes over) a stop ends the worker and this
        # process here: an exception raised from a signal handler can land in a garbage-collector
        # callback of the libraries loading now, which swallows it, and the start would go on
        for worker in started:
            _stop_worker(worker)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    cfg: Config = ctx.obj
    parent = click.get_current_context().find_root().params
    if cfg.agents is not None and not cfg.agents.context_secret:
        # the worker signs what it tells the desk's seat, which checks it: one secret for this run
        cfg.agents.context_secret = os.environ["VOICEBOT_AGENT_SECRET"] = secrets.token_urlsafe(32)
    env = {**os.environ, **({"VOICEBOT_CONFIG": parent["config_path"]} if parent.get("config_path") else {})}
    worker = subprocess.Popen([sys.executable, "-m", "voicebot", "serve",
                               *(["--sip-port", str(sip_port)] if sip_port else [])], env=env)
    started.append(worker)
    click.echo(f"SIP worker started (pid {worker.pid}) on port {sip_port or cfg.sip.port}: call it with a softphone "
               f"or 'voicebot call sip:95588@127.0.0.1:{sip_port or cfg.sip.port}'", err=True)
    try:
        ctx.invoke(console, port=port)
    finally:
        _stop_worker(worker)


def _stop_worker(worker: Any) -> None:
    """SIGTERM, and SIGKILL if the worker has not stopped within 20 s."""
    import subprocess

    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
