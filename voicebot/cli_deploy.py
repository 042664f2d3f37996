"""Roles that run alone on a host of a multi-host line: the front door and a shared NLU server.

Each replaces itself with the program that does the work (Kamailio, Rasa), so a service manager
(deploy/systemd/) supervises and signals that program directly. Workers are `voicebot serve`
and the console `voicebot console`, as on one machine; every host reads its own configuration
file (deploy/hosts/).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import click

from voicebot import LANGUAGES
from voicebot.cli_common import UserError
from voicebot.config import Config


def _host_port(item: str, what: str) -> tuple[str, int]:
    host, sep, port = item.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise UserError(f"{what} looks like 10.20.0.21:5070, not {item!r}")
    return host, int(port)


@click.command("front-door")
@click.option("--check", is_flag=True, help="Render and check the Kamailio configuration, then exit.")
@click.pass_obj
def front_door(cfg: Config, check: bool) -> None:
    """Kamailio in front of the worker hosts listed in [front_door] workers (this host's SIP entry)."""
    from voicebot.cluster.processes import ClusterError, kamailio_child, render_kamailio

    door = cfg.front_door
    if not door.workers:
        raise UserError("[front_door] workers lists no worker hosts (e.g. workers = [\"10.20.0.21:5070\"])")
    workers = [_host_port(w, "a worker in [front_door] workers") for w in door.workers]
    folder = cfg.path(door.run_dir)
    try:
        rendered = render_kamailio(folder / "kamailio", door.bind, door.port, workers, door,
                                   cfg.capacity.max_calls, cfg.capacity)
    except (ClusterError, OSError) as exc:
        raise UserError(str(exc)) from exc
    click.echo(f"front door sip:95588@{door.bind}:{door.port} -> {', '.join(door.workers)} ({rendered})", err=True)
    if check:
        return
    child = kamailio_child(folder, rendered)
    os.execv(child.argv[0], child.argv)


@click.command("serve")
@click.option("--lang", type=click.Choice(LANGUAGES), required=True)
@click.pass_obj
def nlu_serve(cfg: Config, lang: str) -> None:
    """A shared NLU server for the workers (the Rasa model behind parse and status only, the token from
    VOICEBOT_NLU_TOKEN), at this language's address in [nlu] http_urls."""
    from voicebot.cluster.processes import nlu_argv, nlu_env
    from voicebot.config import nlu_paths

    url = cfg.nlu.http_urls.get(lang)
    if not url:
        raise UserError(f"[nlu] http_urls has no address for {lang}: the workers would not find this server")
    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        raise UserError(f"[nlu] http_urls {lang} looks like http://10.20.0.31:5005, not {url!r}")
    if not cfg.nlu.token:
        raise UserError("no NLU token: set VOICEBOT_NLU_TOKEN (the same on the workers), so only they may parse")
    model = nlu_paths(cfg).model(lang)
    if not model.exists():
        raise UserError(f"no NLU model for {lang} in {model}: run 'voicebot nlu train --lang {lang}'")
    click.echo(f"NLU server for {lang} on {parts.hostname}:{parts.port} with {model.name}", err=True)
    argv = nlu_argv(model, parts.hostname, parts.port)  # the token goes in the environment, not on the line
    os.execve(argv[0], argv, nlu_env(cfg.nlu.token))
