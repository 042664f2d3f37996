"""``voicebot cdr``: call detail records in the database (loading lines a worker could not store)."""

from __future__ import annotations

import click

from voicebot.cli_common import UserError, open_bank
from voicebot.config import Config


@click.group()
def cdr() -> None:
    """Call detail records: the JSON-lines file and the database's cdrs table."""


@cdr.command("load")
@click.option("--cdr", "path", type=click.Path(dir_okay=False), default=None,
              help="CDR file (default: [sip] cdr of the configuration).")
@click.pass_obj
def cdr_load(cfg: Config, path: str | None) -> None:
    """Load the lines of a CDR file the database is missing (a worker that could not reach it)."""
    from sqlalchemy.exc import SQLAlchemyError

    from voicebot.cdr import load_file

    source = cfg.path(path or cfg.sip.cdr)
    if not source.exists():
        raise UserError(f"no CDR file at {source}")
    try:
        loaded = load_file(open_bank(cfg, need_data=False).engine, source)
    except SQLAlchemyError as exc:
        raise UserError(f"cannot reach the database: {type(exc).__name__} (run 'voicebot db migrate'?)") from exc
    click.echo(f"{loaded} CDR lines loaded from {source} (the others were there already)")
