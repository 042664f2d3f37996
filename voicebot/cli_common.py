"""What every ``voicebot`` subcommand shares: the user-error type, the bank, the language choice.

A module of its own so that ``cli.py`` can import its subcommand modules and they can import
these without importing ``cli.py`` back.
"""

from __future__ import annotations

import click

from voicebot import LANGUAGES
from voicebot.bank.bank import Bank
from voicebot.config import Config


class CallIdCommand(click.Command):
    """A command whose argument is a SIP Call-ID, which may begin with '-' (callers choose them):
    a word that begins with '-' and names none of the command's options is read as the argument."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        names = {name: opt.is_flag or opt.count for opt in self.get_params(ctx) if isinstance(opt, click.Option)
                 for name in (*opt.opts, *opt.secondary_opts)}
        kept: list[str] = []
        loose: list[str] = []
        words = iter(args)
        for word in words:
            if word == "--":
                loose.extend(words)
                break
            if word.startswith("-") and len(word) > 1 and word.split("=")[0] not in names and word[:2] not in names:
                loose.append(word)
                continue
            kept.append(word)
            if names.get(word) is False:  # an option that takes a value: the next word is that value
                value = next(words, None)
                if value is not None:
                    kept.append(value)
        return super().parse_args(ctx, [*kept, "--", *loose] if loose else kept)


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
