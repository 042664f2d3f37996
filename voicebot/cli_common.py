"""What every ``voicebot`` subcommand shares: the user-error type, the bank, the language choice.

A module of its own so that ``cli.py`` can import its subcommand modules and they can import
these without importing ``cli.py`` back.
"""

from __future__ import annotations

import click

from voicebot import LANGUAGES
from voicebot.bank.bank import Bank
from voicebot.config import Config


class UserError(click.ClickException):
    """An error the user can fix; printed as one readable line, exit code 2."""

    exit_code = 2


def open_bank(cfg: Config, *, need_data: bool = True) -> Bank:
    """The configured bank, migrated; a readable UserError if it cannot be used (or is empty)."""
    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

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


LANG_OR_ALL = click.Choice([*LANGUAGES, "all"])


def langs(lang: str) -> list[str]:
    return list(LANGUAGES) if lang == "all" else [lang]
