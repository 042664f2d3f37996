"""``voicebot agent``: an agent seat on SIP, scripted (tests, demos) or driven by the console's desk."""

from __future__ import annotations

import json
import sys
import threading
from typing import TYPE_CHECKING

import click

from voicebot.cli_common import UserError
from voicebot.config import Config

if TYPE_CHECKING:
    from voicebot.telephony.agent_seat import AgentSeat


@click.command()
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--sip-port", type=int, default=5070, show_default=True, help="SIP port of the seat(s).")
@click.option("--answer-after", type=int, default=1, show_default=True, help="Answer after this many rings.")
@click.option("--never", is_flag=True, help="Ring and never answer (the bot's overflow rule takes over).")
@click.option("--busy", is_flag=True, help="Reject every call with 486 Busy Here.")
@click.option("--desk", is_flag=True,
              help="Ring until told what to do: one JSON command per line on stdin, "
                   '{"do": "accept"|"decline"|"hangup", "call": CALL_ID} (the console\'s agent desk).')
@click.option("--ring-s", type=float, default=5.0, show_default=True, help="Length of one ring.")
@click.option("--say", default="Hello, this is the agent desk. How can I help you?", show_default=True,
              help="What the agent says on answering ('' for nothing).")
@click.option("--hangup-after", type=float, default=None, help="The agent hangs up this long after answering.")
@click.option("--jsonl", is_flag=True, help="One JSON object per event (default: readable lines).")
@click.pass_obj
def agent(cfg: Config, bind: str, sip_port: int, answer_after: int, never: bool, busy: bool, desk: bool,
          ring_s: float, say: str, hangup_after: float | None, jsonl: bool) -> None:
    """A simulated agent softphone: rings, answers (or not), shows the bot's hand-over headers."""
    import pjsua2 as pj

    from voicebot.telephony.agent_seat import AgentSeat, SeatBehaviour
    from voicebot.telephony.softphone import print_event

    greeting = None
    if say:
        from voicebot.speech.tts import Synthesizer

        greeting = Synthesizer(sample_rate=8000).render(say, "zh-CN" if any(ord(c) > 0x2E80 for c in say)
                                                         else "en-US")
    behaviour = SeatBehaviour(None if never or desk else answer_after, busy, ring_s, greeting, hangup_after)
    show = print_event(jsonl)
    secret = cfg.agents.context_secret if cfg.agents else None
    seat = AgentSeat(bind, sip_port, behaviour, emit=show, context_secret=secret)
    if desk:
        threading.Thread(target=_read_commands, args=(seat,), name="desk-commands", daemon=True).start()
    try:
        seat.run()
    except pj.Error as exc:
        raise UserError(f"cannot run the agent seat on {bind}:{sip_port}: {exc.info().strip()}") from exc


def _read_commands(seat: AgentSeat) -> None:
    """The desk's commands, handed to the SIP thread; the end of stdin (the desk is gone) stops the seat."""
    for line in sys.stdin:
        try:
            cmd = json.loads(line)
        except ValueError:
            seat.emit("error", error="a desk command is one JSON object per line")
            continue
        if isinstance(cmd, dict):
            seat.stack.post(lambda cmd=cmd: seat.command(cmd))
    seat.stopping.set()
