"""``voicebot recordings``: list, export and purge the line's call recordings."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from voicebot.cli_common import CallIdCommand, UserError, open_bank
from voicebot.config import Config

if TYPE_CHECKING:
    from voicebot.recording.store import RecordingStore


@click.group()
def recordings() -> None:
    """Call recordings ([recording] in the configuration): sealed FLAC, card-data steps paused."""


def _open(cfg: Config, *, key: bool) -> RecordingStore:
    from voicebot.recording.recordings import Recordings
    from voicebot.recording.sealing import SealingError

    try:
        found = Recordings(cfg.recording, cfg.path, writing=False)
    except (SealingError, OSError) as exc:
        raise UserError(str(exc)) from exc
    if key and found.store.key is None:
        raise UserError(f"no recording key: set VOICEBOT_RECORDING_KEY or put it in {cfg.path(cfg.recording.key_file)}")
    return found.store


@recordings.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def recordings_list(cfg: Config, as_json: bool) -> None:
    """One line per recorded call: id, start, duration, language, region, services, paused spans."""
    store = _open(cfg, key=False)
    count = 0
    for info in store.infos():
        count += 1
        if as_json:
            click.echo(json.dumps({"call_id": info.call_id, "started_at": info.started_at,
                                   "duration_s": info.duration_s, "language": info.language, "region": info.region,
                                   "channel": info.channel, "services": info.services, "outcome": info.outcome,
                                   "paused_spans": info.paused_spans}, ensure_ascii=False))
        else:
            spans = " ".join(f"{a:.1f}-{b:.1f}" for a, b in info.paused_spans) or "-"
            click.echo(f"{info.call_id}  {info.started_at[:19]}  {info.duration_s:7.1f}s  {info.language}  "
                       f"{info.region}  {info.channel:7}  {','.join(info.services) or '-'}  paused {spans}")
    if not count and not as_json:
        click.echo(f"no recordings in {store.root}")


@recordings.command("export", cls=CallIdCommand)
@click.argument("call_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True,
              help="WAV file to write.")
@click.option("--keep-channels", is_flag=True,
              help="One WAV channel each for caller, bot and agent (default: mixed to one).")
@click.pass_obj
def recordings_export(cfg: Config, call_id: str, output: str, keep_channels: bool) -> None:
    """Decrypt one call's recording to a WAV file (the paused spans stay silent); written to the audit log."""
    import getpass
    import socket

    import soundfile as sf
    from sqlalchemy.exc import SQLAlchemyError

    from voicebot.recording.audit import write_audit
    from voicebot.recording.sealing import SealingError
    from voicebot.recording.store import RecordingNotFound, mixed

    store = _open(cfg, key=True)
    try:
        info = store.find(call_id)
        samples = store.audio(info)
    except RecordingNotFound as exc:
        raise UserError(f"no recording of call {call_id} (see 'voicebot recordings list')") from exc
    except (SealingError, OSError) as exc:
        raise UserError(f"cannot open the recording of {call_id}: {exc}") from exc
    try:  # no export that is not written down
        write_audit(open_bank(cfg, need_data=False).engine, f"cli:{getpass.getuser()}", "cli", "export", call_id,
                    socket.gethostname())
    except SQLAlchemyError as exc:
        raise UserError(f"cannot write the export to the audit log ({type(exc).__name__}): nothing exported") from exc
    if not keep_channels:
        samples = mixed(samples)
    sf.write(output, samples, info.rate, subtype="PCM_16")
    click.echo(f"{output}: {info.duration_s:.1f} s at {info.rate} Hz, "
               f"{'channels ' + ', '.join(info.channels) if keep_channels else 'mixed'}; "
               f"paused {len(info.paused_spans)} time(s) for card data")


@recordings.command("purge")
@click.pass_obj
def recordings_purge(cfg: Config) -> None:
    """Remove recordings older than [recording] keep_days now (serving processes also do it hourly)."""
    store = _open(cfg, key=False)
    gone = store.purge()
    click.echo(f"{gone} recording(s) older than {cfg.recording.keep_days} days removed from {store.root}")
