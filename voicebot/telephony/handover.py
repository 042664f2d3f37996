"""The hand-over of a caller to a human: ring each agent pool in turn (3 rings each), bridge or refer.

Runs on the SIP thread. Results go to the call record (``agent_attempts``, ``agent_answer_s``,
``transfer_target``) and the per-pool metrics. The agent is told the call's context in
``X-Voicebot-*`` headers (see ``agent_context``), signed so a caller cannot forge them.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pjsua2 as pj

from voicebot.dialog.actions import Transfer
from voicebot.dialog.context import CallRecord
from voicebot.telephony import screen_pop
from voicebot.telephony.agent_context import context_headers, header_value, refer_params
from voicebot.telephony.agents import Pool
from voicebot.telephony.media import audio_media
from voicebot.telephony.queue_wait import QueueWait

if TYPE_CHECKING:
    from voicebot.telephony.call_roles import HandoverServer, TelephonyCall

log = logging.getLogger("voicebot.sip")

REFER_GRACE_S = 4.0  # set-up time a referred caller's phone gets on top of the ring allowance


class AgentLeg(pj.Call):
    """The bot's call to an agent seat (bridged mode)."""

    def __init__(self, handover: Handover, acc: pj.Account, pool: Pool) -> None:
        super().__init__(acc)
        self.handover = handover
        self.pool = pool
        self.answered = False
        self.disconnected = False
        self.media: pj.AudioMedia | None = None

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        try:
            ci = self.getInfo()
            if ci.state == pj.PJSIP_INV_STATE_EARLY and ci.lastStatusCode in (180, 183):
                self.handover.ringing(self)
            elif ci.state == pj.PJSIP_INV_STATE_CONFIRMED:
                self.answered = True
                self.handover.answered(self)
            elif ci.state == pj.PJSIP_INV_STATE_DISCONNECTED and not self.disconnected:
                self.disconnected = True
                self.handover.leg_ended(self, ci.lastStatusCode)
        except Exception:
            log.exception("agent leg state callback failed")

    def onCallRedirected(self, prm: pj.OnCallRedirectedParam) -> int:
        """A seat answering 3xx does not choose where the bot calls next (toll fraud)."""
        log.warning("agent leg redirected to %s: refused", prm.targetUri)
        return pj.PJSIP_REDIRECT_REJECT

    def onCallTransferRequest(self, prm: pj.OnCallTransferRequestParam) -> None:
        prm.statusCode = 403  # the bot never dials where a REFER points

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        try:
            media = audio_media(self)
            if media is not None and self.media is None:
                self.media = media
                self.handover.media_ready(self)
        except Exception:
            log.exception("agent leg media callback failed")

    def hang(self) -> None:
        if not self.disconnected:
            try:
                self.hangup(pj.CallOpParam(True))
            except pj.Error as exc:
                log.info("agent leg hangup: %s", exc.info())


class Handover:
    """One caller's way to a human: ring each pool in turn (3 rings each), bridge or refer."""

    def __init__(self, server: HandoverServer, call: TelephonyCall, transfer: Transfer, pools: list[Pool]) -> None:
        self.server = server
        self.call = call
        self.session = call.runner.session  # the caller's dialog: its context, record and transcript
        self.transfer = transfer
        self.pools = list(pools)
        self.directory = server.agents
        self.started = time.monotonic()
        self.leg: AgentLeg | None = None
        self.pool: Pool | None = None
        self.dialled_at = 0.0
        self.rang_at: float | None = None
        self.generation = 0
        self.done = False
        self.bridged = False
        self.pop_body: dict[str, Any] | None = None  # what the agent's screen pop shows
        self.pop_token: str | None = None  # where the ringing pool's desk finds it (one token per pool)
        self.queue: QueueWait | None = None  # every pool was busy: the caller waits in the queue

    @property
    def queued_since(self) -> datetime | None:
        return self.queue.since if self.queue is not None else None

    @property
    def record(self) -> CallRecord:
        return self.session.ctx.record

    def headers(self) -> dict[str, str]:
        ctx = self.session.ctx
        services = ctx.record.services
        return context_headers(reason=self.transfer.reason, service=services[-1] if services else "agent",
                               lang=ctx.lang, region=ctx.region, call_id=ctx.call_id, identifier=ctx.identifier,
                               secret=self.directory.context_secret, through_caller=self.directory.mode == "refer",
                               pool=self.pool.name if self.pool else "", context=self.pop_token)

    def start(self) -> None:
        # the screen pop's context, taken now and written off this (the SIP) thread: the desk that
        # rings waits briefly for it; without it the agent still gets the headers, and the call goes on
        try:
            self.pop_body = screen_pop.context_of(self.session.engine, self.transfer.reason)
        except Exception:
            log.exception("call=%s cannot take the screen pop's context", self.call.id_text)
        self.next_pool()

    def _save_pop_for(self, pool: Pool) -> None:
        """A token of its own for ``pool``'s desk, which takes it once (see ``screen_pop``)."""
        self.pop_token = None
        if self.pop_body is None or not self.directory.context_secret:
            return  # unsigned headers carry no token: a desk would not load it
        self.pop_token = screen_pop.new_token()
        ctx = self.session.ctx
        self.server.db_writes.submit(_save_pop, self.server.services.bank.engine, self.pop_body, self.pop_token,
                                     pool.name, header_value(ctx.call_id), self.call.id_text)

    def next_pool(self) -> None:
        if self.done:
            return
        if not self.pools:
            self.leg, self.pool = None, None
            if self.directory.queue.enabled and self.directory.mode == "bridge":
                if self.queue is None:
                    self.queue = QueueWait(self)
                    self.queue.start()
                return  # (already waiting: the queue rings the pools again in turn)
            self.done = True
            log.info("call=%s no agent answered: apology and call-back offer", self.call.id_text)
            self.call.runner.agents_unavailable()
            return
        self.pool = self.pools.pop(0)
        self._save_pop_for(self.pool)
        self.generation += 1
        self.dialled_at, self.rang_at = time.monotonic(), None
        log.info("call=%s ringing agents pool=%s uri=%s mode=%s", self.call.id_text, self.pool.name, self.pool.uri,
                 self.directory.mode)
        if self.directory.mode == "refer":
            self._refer()
            return
        self.leg = AgentLeg(self, self.server.account, self.pool)
        op = pj.CallOpParam(True)
        for name, value in self.headers().items():
            h = pj.SipHeader()
            h.hName, h.hValue = name, value
            op.txOption.headers.append(h)
        self.call.runner.agent_ringing()
        try:
            self.leg.makeCall(self.pool.uri, op)
        except pj.Error as exc:
            log.warning("call=%s cannot call %s: %s", self.call.id_text, self.pool.uri, exc.info())
            self._attempt("failed")
            self.leg = None
            self.next_pool()
            return
        # no 180 at all (seat unreachable) also counts against the ring allowance, with set-up grace
        gen = self.generation
        self.server.stack.call_later(self.directory.ring_timeout_s + 4.0, lambda: self._timeout(gen))

    def ring_again(self) -> None:
        """First in the queue: ring the pools again (the caller keeps hearing the hold music)."""
        if self.leg is None and not self.done:
            self.pools = list(self.directory.route(self.session.ctx.region))
            self.next_pool()

    def _refer(self) -> None:
        target = f"<{self.pool.uri}?{refer_params(self.headers())}>"
        try:
            self.call.xfer(target, pj.CallOpParam(True))
        except pj.Error as exc:
            log.warning("call=%s REFER to %s failed: %s", self.call.id_text, self.pool.uri, exc.info())
            self._attempt("failed")
            self.next_pool()
            return
        # a REFER whose final NOTIFY never comes (a phone that accepted and went quiet) must not
        # hold the caller for ever: past the ring allowance it counts as unanswered
        gen = self.generation
        self.server.stack.call_later(self.directory.ring_timeout_s + REFER_GRACE_S, lambda: self._refer_timeout(gen))

    def _refer_timeout(self, gen: int) -> None:
        if gen != self.generation or self.done or self.call is None:
            return
        log.info("call=%s REFER to pool=%s got no final NOTIFY in time: overflow", self.call.id_text, self.pool.name)
        self._attempt("no_answer")
        self.next_pool()

    def refer_status(self, code: int, final: bool) -> bool:
        """NOTIFY progress of a REFER; returns whether to keep listening."""
        if self.done or not final:
            return not self.done
        if 200 <= code < 300:
            self._answered_now()
            self.done = True
            # the caller is with the agent now; hang up after pjsua has finished this NOTIFY
            # (a BYE from inside its transfer callback ends the dialog under its feet)
            self.server.stack.post(self.call.hang)
            return False
        self._attempt("busy" if code in (486, 600, 603) else "failed", code)
        self.next_pool()
        return False

    # -- agent leg events ----------------------------------------------------------------
    def ringing(self, leg: AgentLeg) -> None:
        if leg is not self.leg or self.rang_at is not None:
            return
        self.rang_at = time.monotonic()
        gen = self.generation
        self.server.stack.call_later(self.directory.ring_timeout_s, lambda: self._timeout(gen))

    def _timeout(self, gen: int) -> None:
        if gen != self.generation or self.done or self.leg is None or self.leg.answered:
            return
        log.info("call=%s pool=%s did not answer within %d rings: overflow", self.call.id_text, self.pool.name,
                 self.directory.rings)
        self._attempt("no_answer")
        leg, self.leg = self.leg, None
        self.server.retire(leg)
        leg.hang()
        self.next_pool()

    def answered(self, leg: AgentLeg) -> None:
        if leg is not self.leg or self.done:
            return
        self._answered_now()
        self.done = True
        self.media_ready(leg)

    def media_ready(self, leg: AgentLeg) -> None:
        if leg is not self.leg or not leg.answered or self.bridged or leg.media is None:
            return
        caller_media = audio_media(self.call)
        if caller_media is None:
            return
        port, runner = self.call.port, self.call.runner
        recorded = runner is not None and runner.recorded
        if port is not None:
            port.stopTransmit(caller_media)
            if not recorded:  # a recorded call's port goes on hearing the caller, for the recording
                caller_media.stopTransmit(port)
        caller_media.startTransmit(leg.media)
        leg.media.startTransmit(caller_media)
        if self.queue is not None:  # answered from the queue
            self.record.queue_outcome, self.record.queue_wait_s = "answered", round(self.queue.waited_s, 1)
        if recorded:  # the agent's voice on a port of its own: the recording's agent channel
            self.call.agent_port = self.server.stack.ports.acquire("agent-heard")
            leg.media.startTransmit(self.call.agent_port)
        self.bridged = True
        runner.bridged(self.call.agent_port)
        log.info("call=%s bridged to pool=%s", self.call.id_text, self.pool.name)

    def leg_ended(self, leg: AgentLeg, code: int) -> None:
        if leg is not self.leg:
            return
        if leg.answered:  # the agent finished the call: back to the bot for the survey, or the caller's leg ends
            self.server.retire(leg)
            self.leg = None
            if self.bridged and not self.call.disconnected and self._back_to_bot():
                self.call.runner.agent_finished()
            else:
                self.call.hang()
            return
        self._attempt("busy" if code in (486, 600, 603) else "failed", code)
        self.leg = None
        self.server.retire(leg)
        self.next_pool()

    def _back_to_bot(self) -> bool:
        """Connect the caller to the bot's port again (the agent's leg is gone); False if it cannot."""
        caller_media, port = audio_media(self.call), self.call.port
        if caller_media is None or port is None:
            return False
        caller_media.startTransmit(port)
        port.startTransmit(caller_media)
        self.bridged = False
        log.info("call=%s agent hung up: the caller is back with the bot", self.call.id_text)
        return True

    def caller_gone(self) -> None:
        """The caller hung up during the hand-over: stop ringing, or end the agent's side."""
        rec = self.record
        if self.queue is not None and rec.queue_wait_s is None:  # hung up waiting, or asked for a call-back
            rec.queue_wait_s = round(self.queue.waited_s, 1)
            rec.queue_outcome = rec.queue_outcome or "abandoned"
        if not self.done:
            self.done = True
            if self.pool is not None:
                self._attempt("caller_hung_up")
            if rec.queue_outcome != "callback":
                rec.outcome = "abandoned"
        leg, self.leg = self.leg, None
        if leg is not None:  # hanging up may call back into leg_ended at once
            self.server.retire(leg)
            leg.hang()

    # -- bookkeeping -----------------------------------------------------------------------
    def _answered_now(self) -> None:
        now = time.monotonic()
        answer_s = round(now - self.started, 3)
        self.record.agent_answer_s = answer_s
        self.record.agent_connected_at = datetime.now().astimezone()
        self.record.transfer_target = self.pool.uri
        self._attempt("answered")
        log.info("call=%s agent answered pool=%s after %.1f s", self.call.id_text, self.pool.name, answer_s)

    def _attempt(self, result: str, code: int | None = None) -> None:
        now = time.monotonic()
        entry: dict[str, Any] = {"pool": self.pool.name, "uri": self.pool.uri, "result": result,
                                 "ring_s": round(now - (self.rang_at or self.dialled_at), 3)}
        if code:
            entry["sip_status"] = code
        if self.directory.mode == "refer":  # the bot never sees the agent's leg: the caller's phone says how it went
            entry["reported_by"] = "caller"
        self.record.agent_attempts.append(entry)
        self.server.metrics.agent_attempt(self.pool.name, result == "answered",
                                          now - self.started if result == "answered" else None)


def _save_pop(db: Any, body: dict[str, Any], token: str, pool: str, call_id: str, call: str) -> None:
    try:
        screen_pop.save(db, body, pool=pool, call_id=call_id, token=token)
    except Exception:
        log.exception("call=%s cannot save the screen pop's context", call)
