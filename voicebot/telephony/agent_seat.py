"""`voicebot agent`: a simulated agent softphone for demos and tests.

It rings for a number of rings and answers (or never answers, or is busy), greets the caller,
listens, and reports each call as events: what the bot's hand-over headers said, when it
answered, how much voice it heard.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pjsua2 as pj

from voicebot.speech.audio import is_voiced
from voicebot.telephony.agent_context import context_received, trust
from voicebot.telephony.media import FRAME_LEN, RATE, FramePort, audio_media
from voicebot.telephony.sipstack import SipSettings, SipStack, header, uri_user


@dataclass
class SeatBehaviour:
    answer_after_rings: int | None = 1  # None: never answer
    busy: bool = False
    ring_s: float = 5.0
    greeting: np.ndarray | None = None  # what the agent says on answering
    hangup_after_s: float | None = None  # the agent ends the call after this long


class SeatCall(pj.Call):
    def __init__(self, seat: AgentSeat, acc: pj.Account, call_id: int, info: dict[str, Any]) -> None:
        super().__init__(acc, call_id)
        self.seat = seat
        self.info = info
        self.port: FramePort | None = None
        self.answered_at: float | None = None
        self.voice_s = 0.0
        self.disconnected = False

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        try:
            ci = self.getInfo()
            if ci.state == pj.PJSIP_INV_STATE_CONFIRMED:
                self.answered_at = time.monotonic()
                self.seat.emit("answered", call=self.info["call_id"])
            elif ci.state == pj.PJSIP_INV_STATE_DISCONNECTED and not self.disconnected:
                self.disconnected = True
                self.seat.emit("ended", call=self.info["call_id"], status=ci.lastStatusCode,
                               answered=self.answered_at is not None, voice_heard_s=round(self.voice_s, 2))
        except Exception as exc:
            self.seat.emit("error", error=str(exc))

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        try:
            media = audio_media(self)
            if media is not None and self.port is None:
                self.port = self.seat.stack.ports.acquire("agent")
                media.startTransmit(self.port)
                self.port.startTransmit(media)
                if self.seat.behaviour.greeting is not None:
                    self.port.play(self.seat.behaviour.greeting)
        except Exception as exc:
            self.seat.emit("error", error=str(exc))

    def listen(self) -> None:
        if self.port is None:
            return
        for frame in self.port.take():
            if is_voiced(frame):
                self.voice_s += FRAME_LEN / RATE


class SeatAccount(pj.Account):
    def __init__(self, seat: AgentSeat) -> None:
        super().__init__()
        self.seat = seat

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        try:
            self.seat.incoming(self, prm)
        except Exception as exc:
            self.seat.emit("error", error=str(exc))


class AgentSeat:
    """Answers every call to its address according to ``behaviour``."""

    def __init__(self, bind: str, port: int, behaviour: SeatBehaviour, emit: Callable[..., None],
                 context_secret: str | None = None) -> None:
        self.behaviour = behaviour
        self.context_secret = context_secret  # checks the bot's signature on the call context
        self._emit = emit
        self.stack = SipStack(SipSettings(bind=bind, port=port, user_agent="voicebot-agent", user="agent"))
        self.calls: list[SeatCall] = []
        self.stopping = threading.Event()
        self.started = time.monotonic()

    def emit(self, event: str, **data: Any) -> None:
        self._emit({"event": event, "t": round(time.monotonic() - self.started, 3), **data})

    def incoming(self, acc: pj.Account, prm: pj.OnIncomingCallParam) -> None:
        msg = prm.rdata.wholeMsg
        request_uri = msg.split("\r\n", 1)[0].split(" ")[1] if " " in msg else ""
        headers = context_received(msg)
        if referred := header(msg, "Referred-By"):
            headers["Referred-By"] = referred
        # a desk trusts the context only when the bot's signature checks out (see agent_context)
        context = trust(headers, self.context_secret)
        info = {"call_id": header(msg, "Call-ID"), "to": uri_user(request_uri), "from": uri_user(header(msg, "From")
                                                                                               or ""),
                "headers": headers, "context": context}
        call = SeatCall(self, acc, prm.callId, info)
        self.calls.append(call)
        self.emit("incoming", **info)
        b = self.behaviour
        op = pj.CallOpParam()
        if b.busy:
            op.statusCode = 486
            call.answer(op)
            return
        op.statusCode = 180
        call.answer(op)
        if b.answer_after_rings is not None:
            self.stack.call_later(b.answer_after_rings * b.ring_s, lambda: self._answer(call))

    def command(self, cmd: dict[str, Any]) -> None:
        """A desk's decision on one of its calls (``voicebot agent --desk``, on the SIP thread):
        ``{"do": "accept" | "decline" | "hangup", "call": CALL_ID, "status": 486}``."""
        call = next((c for c in self.calls if c.info["call_id"] == cmd.get("call") and not c.disconnected), None)
        if call is None:
            self.emit("error", error="no such call", call=cmd.get("call"))
            return
        action = cmd.get("do")
        if action == "accept" and call.answered_at is None:
            self._answer(call)
        elif action == "decline" and call.answered_at is None:
            status = cmd.get("status")
            op = pj.CallOpParam()
            op.statusCode = status if isinstance(status, int) and 400 <= status < 700 else 486
            call.hangup(op)
        elif action == "hangup":
            _hang(call)
        else:
            self.emit("error", error=f"cannot {action!r} this call now", call=call.info["call_id"])

    def _answer(self, call: SeatCall) -> None:
        if call.disconnected:
            return
        op = pj.CallOpParam()
        op.statusCode = 200
        call.answer(op)
        if self.behaviour.hangup_after_s is not None:
            self.stack.call_later(self.behaviour.hangup_after_s, lambda: _hang(call))

    def run(self, until: Callable[[], bool] | None = None) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())
        self.stack.start(SeatAccount(self))
        self.emit("ready", uri=f"sip:agent@{self.stack.settings.bind}:{self.stack.settings.port}")
        while not self.stopping.is_set() and not (until and until()):
            self.stack.poll(10)
            self._listen_all()
        self._hang_all()
        self.calls.clear()
        self.stack.shutdown()  # no SeatCall may be referenced past this point

    def _listen_all(self) -> None:
        # its own function: a loop variable left bound to a call in run() would outlive libDestroy
        for call in self.calls:
            call.listen()
            if call.disconnected and call.port is not None:
                self.stack.ports.release(call.port)
                call.port = None
        self.calls = [c for c in self.calls if not c.disconnected]

    def _hang_all(self) -> None:
        for call in self.calls:
            _hang(call)
        end = time.monotonic() + 1.0
        while time.monotonic() < end and any(not c.disconnected for c in self.calls):
            self.stack.poll(10)


def _hang(call: SeatCall) -> None:
    if not call.disconnected:
        try:
            call.hangup(pj.CallOpParam(True))
        except pj.Error:
            pass
