"""The ``voicebot`` command line: chat, db, and (as they land) nlu, serve, transcribe, mic."""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

import click

from voicebot import LANGUAGES, __version__
from voicebot.config import Config, ConfigError, load_config

log = logging.getLogger("voicebot.cli")


class UserError(click.ClickException):
    """An error the user can fix; printed as one readable line, exit code 2."""

    exit_code = 2


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


def _bank(cfg: Config, *, need_data: bool = True):
    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from voicebot.bank.bank import Bank
    from voicebot.bank.db import make_engine, migrate
    from voicebot.bank.schema import Customer

    try:
        engine = make_engine(cfg.database_url)
        migrate(engine)
        if need_data:
            with engine.connect() as conn:
                if not conn.execute(select(func.count()).select_from(Customer)).scalar():
                    raise UserError("the bank database is empty: run 'voicebot db seed --demo' first")
    except SQLAlchemyError as exc:
        url = make_url(cfg.database_url).render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise UserError(f"cannot use the database {url}: {exc.__class__.__name__}: {reason}") from exc
    return Bank(engine)


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
    from voicebot.cdr import append_cdr
    from voicebot.channels.text import as_json, as_transcript, run_chat
    from voicebot.dialog.engine import DialogEngine
    from voicebot.nlu.keywords import KeywordParser

    bank = _bank(cfg)
    engine = DialogEngine(bank, KeywordParser(), lang=lang or cfg.language, region=region or cfg.region,
                          call_id=call_id, caller=caller_id, settings=cfg.dialog)
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
        append_cdr(cfg.path(cdr), record)


@cli.group()
def db() -> None:
    """The bank database: schema migrations and demo data."""


@db.command("migrate")
@click.pass_obj
def db_migrate(cfg: Config) -> None:
    """Bring the database schema to the newest version."""
    _bank(cfg, need_data=False)
    click.echo("database schema is up to date")


@db.command("seed")
@click.option("--demo", is_flag=True, required=True, help="Create the demo bank of the interface spec.")
@click.pass_obj
def db_seed(cfg: Config, demo: bool) -> None:
    """(Re)create the demo bank: customers, accounts, cards, bills, payees, rates."""
    from voicebot.bank.demo import seed_demo

    bank = _bank(cfg, need_data=False)
    seed_demo(bank.engine)
    click.echo("demo bank created: 3 customers (cards 6222020000000001, 6222020000000003; corporate account "
               "0200000000000010)")


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
