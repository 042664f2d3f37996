"""`voicebot serve`: the SIP worker. Answers calls, runs each through the dialog, hands over to agents.

It originates no call the dialog did not ask for: a caller's REFER or INVITE-with-Replaces is
refused (403), a seat's 3xx is not followed, and an offer without usable audio is declined
(488) rather than holding a call slot.

Threads: the SIP thread (this module's loop; every pjsua2 call happens on it), the media clock
(``FramePort`` callbacks), one ``CallRunner`` per call, a small TTS pool, the metrics server.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pjsua2 as pj

from voicebot import live_calls as live
from voicebot.cdr import CdrSink
from voicebot.channels.call_events import CallEvent, ReplyTimed
from voicebot.dialog.context import CallRecord
from voicebot.redact import redact
from voicebot.telephony.admission import Admission, CapacitySettings
from voicebot.telephony.agents import AgentDirectory
from voicebot.telephony.busy_line import BusyRunner
from voicebot.telephony.call_runner import CallRunner
from voicebot.telephony.handover import AgentLeg, Handover
from voicebot.telephony.invite import CallSetup, LinePlan, usable_audio
from voicebot.telephony.media import FramePort, audio_media
from voicebot.telephony.media_watch import MediaWatch
from voicebot.telephony.metrics import Metrics
from voicebot.telephony.request_checks import Refusal, refusal, refuse
from voicebot.telephony.services import Services
from voicebot.telephony.sipstack import CollectOnLoop, SipSettings, SipStack

log = logging.getLogger("voicebot.sip")
# The SIP thread waits this long for SIP events (a request or response wakes it at once, and
# pjsip's own timers are kept); jobs the call threads post (hang up, transfer) and our timers
# wait at most this. At 10 ms the loop cost an idle worker 1.5% of a core in pjsip's poll alone,
# at 50 ms 0.4% (a cluster runs a worker per 4 calls).
POLL_MS = 50


class BotAccount(pj.Account):
    def __init__(self, server: BotServer) -> None:
        super().__init__()
        self.server = server

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        try:
            self.server.incoming(self, prm)
        except Exception:
            log.exception("incoming call failed")


class BotCall(pj.Call):
    """The caller's leg: its media port, its runner, and its hand-over when there is one."""

    def __init__(self, server: BotServer, acc: pj.Account, call_id: int, setup: CallSetup) -> None:
        super().__init__(acc, call_id)
        self.server = server
        self.setup = setup
        self.id_text = setup.sip_call_id
        self.port: FramePort | None = None
        self.agent_port: FramePort | None = None  # the agent's voice, for the recording (see Handover)
        self.runner: CallRunner | None = None
        self.handover: Handover | None = None
        self.record: CallRecord | None = None
        self.disconnected = False
        self.ended = False  # runner finished and its record written
        self.counted = False  # in the metrics' active calls
        self.media_index: int | None = None  # the audio stream whose received packets are watched
        self.rx_packets = -1
        self.rx_changed = time.monotonic()
        self.timed_out = False  # hung up for want of audio
        self.busy = False  # over the line's limit: hears the busy message, no dialog
        self.answered_at = time.monotonic()
        self.hung_at = 0.0
        self.held_since: float | None = None  # held by the caller since (see MediaWatch)
        self.held_before_s = 0.0  # time on hold in this call's earlier holds

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        try:
            ci = self.getInfo()
            if ci.state == pj.PJSIP_INV_STATE_DISCONNECTED and not self.disconnected:
                self.gone(f"{ci.lastStatusCode} {ci.lastReason}")
        except Exception:
            log.exception("call=%s state callback failed", self.id_text)

    def gone(self, why: str) -> None:
        """The caller's leg is over: the dialog closes, the CDR follows."""
        self.disconnected = True
        log.info("call=%s disconnected (%s)", self.id_text, why)
        if self.handover is not None:
            self.handover.caller_gone()
        if self.runner is not None:
            self.runner.hung_up()
        else:
            self.server.forget(self)

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        try:
            media = audio_media(self)
            if media is None or self.port is not None or self.disconnected:
                return
            self.port = self.server.stack.ports.acquire("bot")
            media.startTransmit(self.port)
            self.port.startTransmit(media)
            ci = self.getInfo()
            for mi in ci.media:
                if mi.type == pj.PJMEDIA_TYPE_AUDIO:
                    self.media_index, self.rx_changed = mi.index, time.monotonic()
                    rtp = self.getMedTransportInfo(mi.index).localRtpName
                    log.info("call=%s media up rtp=%s", self.id_text, rtp)
                    break
            self.server.start_dialog(self)
        except Exception:
            log.exception("call=%s media callback failed", self.id_text)

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        try:
            if self.runner is not None:
                self.runner.key(prm.digit)
        except Exception:
            log.exception("call=%s dtmf callback failed", self.id_text)

    def onCallTransferRequest(self, prm: pj.OnCallTransferRequestParam) -> None:
        """A caller's REFER would make the bot dial anywhere from its own account (toll fraud)."""
        prm.statusCode = 403
        log.warning("call=%s REFER from the caller refused", self.id_text)
        self.server.metrics.inc("voicebot_refused_requests_total", kind="refer")

    def onCallReplaceRequest(self, prm: pj.OnCallReplaceRequestParam) -> None:
        prm.statusCode = 403
        log.warning("call=%s INVITE with Replaces refused", self.id_text)
        self.server.metrics.inc("voicebot_refused_requests_total", kind="replaces")

    def onCallRedirected(self, prm: pj.OnCallRedirectedParam) -> int:
        return pj.PJSIP_REDIRECT_REJECT

    def onCallTransferStatus(self, prm: pj.OnCallTransferStatusParam) -> None:
        try:
            if self.handover is not None:
                prm.cont = self.handover.refer_status(prm.statusCode, prm.finalNotify)
        except Exception:
            log.exception("call=%s transfer status failed", self.id_text)

    def hang(self, code: int = 200) -> None:
        if self.disconnected:
            return
        op = pj.CallOpParam(True)
        op.statusCode = code
        try:
            self.hangup(op)
        except pj.Error as exc:
            log.info("call=%s hangup: %s", self.id_text, exc.info())


class _Endpoint(pj.Endpoint):
    """Counts calls pjsua2 turns away itself (486 once all call slots are taken)."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__()
        self.metrics = metrics

    def onRejectedIncomingCall(self, prm: pj.OnRejectedIncomingCallParam) -> None:
        try:
            self.metrics.inc("voicebot_calls_rejected_total", status=str(prm.statusCode))
            log.info("incoming call rejected by the stack: %s %s", prm.statusCode, prm.reason)
        except Exception:
            pass


class BotServer:
    """The SIP worker: accepts calls, starts their dialogs, hands over, writes CDRs, stops cleanly."""

    def __init__(self, services: Services, sip: SipSettings, agents: AgentDirectory, cdr_path: Path,
                 metrics: Metrics | None = None, default_lang: str = "en-US", known_regions: set[str] | None = None,
                 default_region: str = "010", media_timeout_s: float = 30.0, max_hold_s: float = 120.0,
                 region_header_from: list[str] | None = None, capacity: CapacitySettings | None = None) -> None:
        self.services = services
        self.agents = agents
        self.cdr_path = cdr_path
        self.db_writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writes")  # off the SIP thread
        self.cdrs = CdrSink(cdr_path, getattr(services.bank, "engine", None), self.db_writes)  # file now, db behind
        self.board = live.LiveBoard(getattr(services.bank, "engine", None), f"{sip.bind}:{sip.port}")
        self.metrics = metrics or Metrics()
        self.line = LinePlan(known_regions or set(), default_region, default_lang, region_header_from or [])
        self.stack = SipStack(sip, _Endpoint(self.metrics))
        self.media_watch = MediaWatch(self.metrics, media_timeout_s, max_hold_s)
        self.admission = Admission(capacity or CapacitySettings(), sip.max_calls)
        self.account: BotAccount | None = None
        self.calls: dict[int, BotCall] = {}
        self._retired: list[AgentLeg] = []
        self.stopping = threading.Event()
        self.draining = threading.Event()  # SIGUSR2: take no new calls, stop once the last one ends

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.account = BotAccount(self)
        self.stack.start(self.account)

    def run(self) -> None:
        """Serve until SIGINT/SIGTERM (or ``stopping`` is set), then hang up and flush."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())
        signal.signal(signal.SIGUSR2, lambda *_: self.draining.set())
        collector, published = CollectOnLoop(), 0.0
        while not self.stopping.is_set():
            self.stack.poll(POLL_MS)
            collector.tick()
            if self.draining.is_set() and not self.calls:
                log.info("drained: no calls left, stopping")
                self.stopping.set()
            try:
                self._sweep()
                self.media_watch.check(list(self.calls.values()))
                if time.monotonic() - published >= live.EVERY_S:
                    published = time.monotonic()
                    self.board.publish([s for c in self.calls.values() if (s := _live_state(c)) is not None])
            except Exception:  # a bug in bookkeeping must not take the other calls down
                log.exception("sweep failed")
        self.shutdown()

    def shutdown(self, grace_s: float = 3.0) -> None:
        log.info("stopping: hanging up %d call(s)", len(self.calls))
        self._hang_up_all()
        end = time.monotonic() + grace_s
        while self.calls and time.monotonic() < end:  # runners write their CDRs as their calls end
            self.stack.poll(10)
            self._sweep()
        self._record_leftovers()
        self.calls.clear()
        self._retired.clear()
        self.stack.shutdown()  # no BotCall may be referenced past this point
        self.services.renderer.shutdown(wait=False, cancel_futures=True)
        self.services.understander.shutdown(wait=False, cancel_futures=True)
        self.db_writes.shutdown(wait=True)  # CDRs and screen pops still on their way
        self.board.clear()
        log.info("stopped")

    def _hang_up_all(self) -> None:
        for call in list(self.calls.values()):
            if call.handover is not None:
                call.handover.caller_gone()
            call.hang()

    def _record_leftovers(self) -> None:
        """Calls whose runner did not finish within the grace time: record them now."""
        for call in list(self.calls.values()):
            if call.runner is not None and not call.ended:
                call.runner.hung_up()
                call.runner.join(1.0)
                if not call.ended:
                    call.ended = True
                    self._write(call.runner.record)
            call.runner = None
            call.handover = None

    # -- calls -----------------------------------------------------------------------------
    def incoming(self, acc: pj.Account, prm: pj.OnIncomingCallParam) -> None:
        msg = prm.rdata.wholeMsg
        setup = self.line.setup(msg, prm.rdata.srcAddress)
        call = BotCall(self, acc, prm.callId, setup)
        self.calls[prm.callId] = call  # without a reference pjsua2 hangs it up at once
        op = pj.CallOpParam()
        closing = self.stopping.is_set() or self.draining.is_set()  # the front door tries another worker
        if (refused := refusal(msg)) is not None:
            refuse(call, refused, f"call={redact(setup.sip_call_id)} from {prm.rdata.srcAddress}")
            self.metrics.inc("voicebot_calls_rejected_total", status=str(refused.status))
            return
        if closing or not usable_audio(msg):
            op.statusCode = 503 if closing else 488
            if op.statusCode == 488:
                log.warning("call=%s offer without usable audio from %s: 488", redact(setup.sip_call_id),
                            prm.rdata.srcAddress)
                self.metrics.inc("voicebot_calls_rejected_total", status="488")
            call.answer(op)
            return
        verdict = self.admission.decide(msg, *self._slots_held(call))
        if not verdict.admit:
            self.metrics.inc("voicebot_calls_refused_total", reason=verdict.reason,
                             answer="message" if verdict.busy_message else str(verdict.status))
            log.info("call=%s line full: %s", setup.sip_call_id,
                     "busy message" if verdict.busy_message else f"refused {verdict.status}")
            if not verdict.busy_message:
                refuse(call, Refusal(verdict.status, "Busy Here" if verdict.status == 486 else "Service Unavailable",
                                     self.admission.retry_after()), f"call={setup.sip_call_id}", "line full:")
                return
            call.busy = True
        log.info("call=%s incoming from=%s region=%s lang=%s via %s", setup.sip_call_id, setup.caller, setup.region,
                 setup.lang, prm.rdata.srcAddress)
        self.metrics.call_started()
        call.counted = True
        op.statusCode = 200
        call.answer(op)

    def _slots_held(self, new: BotCall) -> tuple[int, int]:
        """Dialog calls and busy messages in progress, besides ``new``."""
        live = [c for c in self.calls.values() if c is not new and c.counted and not c.disconnected]
        return sum(not c.busy for c in live), sum(c.busy for c in live)

    def start_dialog(self, call: BotCall) -> None:
        def notify(kind: str, value: Any) -> None:
            self.stack.post(lambda: self._from_runner(call, kind, value))

        if call.busy:
            setup = call.setup
            record = CallRecord(call.id_text, setup.caller, setup.lang, setup.region, outcome="busy", channel="sip")
            call.runner = BusyRunner(record, self.services.busy_message(setup.lang), call.port, notify)
            call.runner.start()
            return
        session = self.services.session(call.setup, call.id_text)

        session.events.subscribe(self._watch)
        call.runner = CallRunner(session, call.port, notify, inband_dtmf=self.services.inband_dtmf)
        call.runner.start()

    def _watch(self, event: CallEvent) -> None:
        """Every call's events, on its own thread: the reply latencies go to the metrics."""
        if isinstance(event, ReplyTimed):
            self.metrics.turn_latency(event.reply_ms / 1000)

    def _from_runner(self, call: BotCall, kind: str, value: Any) -> None:
        if kind == "hangup":
            call.hang()
        elif kind == "transfer" and not call.disconnected:
            self.metrics.inc("voicebot_transfers_total")
            region = call.runner.session.ctx.region
            call.handover = Handover(self, call, value, self.agents.route(region))
            call.handover.start()
        elif kind == "ended":
            call.ended = True
            if value is not None:
                self._write(value)
            if not call.disconnected:
                call.hang()
            self.forget(call)

    def _write(self, record: CallRecord | None) -> None:
        if record is None:
            return
        record.worker = f"{self.stack.settings.bind}:{self.stack.settings.port}"
        record.channel = "sip"
        try:
            self.cdrs.write(record)
        except OSError:
            log.exception("cannot write the CDR to %s", self.cdr_path)
        self.metrics.call_ended(record.outcome or "abandoned")
        log.info("call=%s ended outcome=%s services=%s", record.call_id, record.outcome, ",".join(record.services))

    def forget(self, call: BotCall) -> None:
        """Drop the call once both its SIP side and its runner are done (ports die with it)."""
        if call.disconnected and (call.runner is None or call.ended):
            for key, known in list(self.calls.items()):
                if known is call:
                    del self.calls[key]
                    if call.runner is None and call.counted:  # gone before its media started
                        self.metrics.call_ended("abandoned")
                    if call.handover is not None:  # no cycles: the call dies here, on the SIP thread
                        call.handover.call = call.handover.leg = None
                    for port in (call.port, call.agent_port):
                        if port is not None:
                            self.stack.ports.release(port)
                    call.runner = call.handover = call.port = call.agent_port = None

    def retire(self, leg: AgentLeg) -> None:
        """Keep an agent leg alive until pjsua2 is done with it (it is freed at the next sweep)."""
        if leg not in self._retired:
            self._retired.append(leg)

    def _sweep(self) -> None:
        self._retired = [leg for leg in self._retired if not leg.disconnected]
        for call in list(self.calls.values()):
            self.forget(call)


def _live_state(call: BotCall) -> live.CallState | None:
    """What the wallboard shows of a call in progress (None once it is over)."""
    runner, handover = call.runner, call.handover
    if runner is None or runner.session is None or call.disconnected:
        return None  # over, or a busy message: not on the board
    waiting = None
    queued = handover is not None and handover.queued_since is not None and not handover.done
    if queued:
        waiting = handover.queued_since
    elif handover is not None and not handover.done:
        waiting = datetime.now() - timedelta(seconds=time.monotonic() - handover.started)
    with_agent = handover is not None and handover.done and handover.record.agent_answer_s is not None
    return live.state_of(runner.session.ctx, runner.session.dialog_step, "sip", call.id_text, waiting, with_agent,
                         queued)
