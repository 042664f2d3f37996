"""``voicebot call``: a softphone on SIP, scripted (recordings, keys, waits) or live on the sound card."""

from __future__ import annotations

from pathlib import Path

import click

from voicebot import LANGUAGES
from voicebot.cli_common import UserError
from voicebot.config import Config


@click.command("call")
@click.argument("uri")
@click.option("--play", "plays", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Say this recording after the greeting (repeatable; each waits for the reply).")
@click.option("--keys", default=None, help="Press these keys after the recordings, e.g. 1# (RFC 4733).")
@click.option("--script", default=None, help="Steps: 'listen; play a.wav; keys 1#; info 2; wait 2; hangup'.")
@click.option("--record", type=click.Path(dir_okay=False), default=None, help="Save what you heard to this WAV.")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None, help="Ask for this language (Accept-Language).")
@click.option("--caller-id", default="13800000000", show_default=True, help="Your number (From header).")
@click.option("--header", "headers", multiple=True, help="Extra SIP header 'Name: value' (repeatable).")
@click.option("--tcp", is_flag=True, help="Use SIP over TCP.")
@click.option("--bind", "bind", default="127.0.0.1", show_default=True, help="Address to call from.")
@click.option("--jsonl", is_flag=True, help="Print one JSON object per call event.")
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Give up after this many seconds.")
@click.pass_obj
def call_cmd(cfg: Config, uri: str, plays: tuple[str, ...], keys: str | None, script: str | None, record: str | None,
             lang: str | None, caller_id: str, headers: tuple[str, ...], tcp: bool, bind: str, jsonl: bool,
             timeout: float) -> None:
    """Phone a SIP address: scripted (--play/--keys/--script) or live on your microphone and speaker."""
    from voicebot.telephony import softphone as sp

    extra = {}
    for h in headers:
        name, sep, value = h.partition(":")
        if not sep:
            raise UserError(f"a header looks like 'Name: value', not {h!r}")
        extra[name.strip()] = value.strip()
    if not uri.startswith(("sip:", "sips:")):
        raise UserError(f"not a SIP address: {uri!r} (e.g. sip:95588@127.0.0.1:5060)")
    if script is None and (plays or keys):
        script = "; ".join(["listen", *(f"play {p}; listen" for p in plays), *([f"keys {keys}", "listen"] if keys
                                                                              else []), "hangup"])
    try:
        steps = sp.parse_script(script) if script is not None else None
    except sp.ScriptError as exc:
        raise UserError(str(exc)) from exc
    phone = sp.Softphone(uri, caller=caller_id, lang=lang, tcp=tcp, headers=extra, emit=sp.print_event(jsonl),
                         bind=bind)
    try:
        if steps is None:
            from voicebot.channels.mic import NoSoundDevice
            from voicebot.telephony.live import run_live

            try:
                run_live(phone, timeout)
            except NoSoundDevice as exc:
                raise UserError(f"{exc}; use --play/--keys/--script for a scripted call") from exc
        else:
            sp.run_script(phone, steps, timeout)
            if not phone.connected.is_set():  # a script that never reached anyone has not run
                raise UserError(f"the call to {uri} was not answered")
    except UserError:
        raise
    except Exception as exc:
        import pjsua2 as pj

        if isinstance(exc, pj.Error):
            raise UserError(f"SIP error: {exc.info().strip()}") from exc
        raise
    finally:
        if record:
            sp.save_wav(Path(record), phone.recording())
        phone.close()
