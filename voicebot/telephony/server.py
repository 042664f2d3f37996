"""`voicebot serve`: the SIP worker. Answers calls, runs each through the dialog, hands over to agents.

Threads: the SIP thread (this module's loop; every pjsua2 call happens on it), the media clock
(``FramePort`` callbacks), one ``CallRunner`` per call, a small TTS pool, the metrics server.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pjsua2 as pj

from voicebot import LANGUAGES
from voicebot.cdr import append_cdr
from voicebot.channels.voice import VoiceSession, VoiceSettings
from voicebot.dialog.actions import Say, ServiceResult, Transfer
from voicebot.dialog.context import CallRecord, DialogSettings
from voicebot.dialog.engine import DialogEngine
from voicebot.redact import mask_card, redact
from voicebot.telephony.agents import AgentDirectory, Pool
from voicebot.telephony.call_runner import CallRunner
from voicebot.telephony.media import FramePort, audio_media
from voicebot.telephony.metrics import Metrics
from voicebot.telephony.sipstack import CollectOnLoop, SipSettings, SipStack, header, register_thread, uri_user

log = logging.getLogger("voicebot.sip")

LINE_NUMBER = "95588"


@dataclass
class CallSetup:
    """What the INVITE says about a call: who, which region, which language."""

    sip_call_id: str
    caller: str | None
    region: str
    lang: str


class Services:
    """What every call of the worker shares: bank, NLU, speech models, prompt cache, TTS pool."""

    def __init__(self, bank: Any, parser: Any, models_root: Path, prompts_root: Path, settings: DialogSettings,
                 voice: VoiceSettings, endpoint_ms: int = 700, inband_dtmf: bool = False) -> None:
        from voicebot.speech.tts import PromptCache, Synthesizer

        self.bank = bank
        self.parser = parser
        self.models_root = models_root
        self.settings = settings
        self.voice = voice
        self.endpoint_ms = endpoint_ms
        self.inband_dtmf = inband_dtmf
        self.cache = PromptCache(prompts_root, Synthesizer(sample_rate=8000))
        self.renderer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="tts",
                                           initializer=lambda: register_thread("tts"))
        # NLU parses started at a caller's pause, before the endpoint (one per call at most)
        self.understander = ThreadPoolExecutor(max_workers=4, thread_name_prefix="nlu")
        self._no_model: set[str] = set()

    def recognizer(self, lang: str) -> Any:
        """A fresh streaming recogniser on the shared model, or None (keypad-only, said once in the log)."""
        from voicebot.speech.asr import StreamingRecognizer, VadSettings, load_model
        from voicebot.speech.models import ModelUnavailable

        try:
            model = load_model(self.models_root, lang)
        except ModelUnavailable as exc:
            if lang not in self._no_model:
                self._no_model.add(lang)
                log.warning("no speech model for %s, its calls run keypad-only: %s", lang, exc)
            return None
        return StreamingRecognizer(model, 8000, VadSettings(endpoint_ms=self.endpoint_ms))

    def session(self, setup: CallSetup, call_id: str) -> VoiceSession:
        engine = DialogEngine(self.bank, self.parser, lang=setup.lang, region=setup.region, call_id=call_id,
                              caller=setup.caller, settings=self.settings)
        return VoiceSession(engine, self.recognizer(setup.lang), self.cache.get, 8000, settings=self.voice,
                            on_action=lambda action: log.info("call=%s action=%s", call_id, _action_line(action)),
                            renderer=self.renderer, understander=self.understander)


def _action_line(action: Any) -> str:
    """An action for the log: what kind, never what the bot said (balances, statements) or service details."""
    if isinstance(action, Say):
        return f"say chars={len(action.text)}"
    if isinstance(action, ServiceResult):
        return f"service id={action.id} status={action.status}"
    return redact(json.dumps(action.to_json(), ensure_ascii=False))


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
    """One caller's way to a human: ring each pool in turn (3 rings each), bridge or refer.

    Runs on the SIP thread. Results go to the call record (``agent_attempts``,
    ``agent_answer_s``, ``transfer_target``) and the per-pool metrics.
    """

    def __init__(self, server: BotServer, call: BotCall, transfer: Transfer, pools: list[Pool]) -> None:
        self.server = server
        self.call = call
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

    @property
    def record(self) -> CallRecord:
        return self.call.runner.session.engine.record

    def headers(self) -> dict[str, str]:
        ctx = self.call.runner.session.engine.ctx
        services = ctx.record.services
        return {"X-Voicebot-Reason": self.transfer.reason, "X-Voicebot-Service": services[-1] if services else "agent",
                "X-Voicebot-Language": ctx.lang, "X-Voicebot-Region": ctx.region, "X-Voicebot-Call-Id": ctx.call_id,
                "X-Voicebot-Customer": mask_card(ctx.identifier) if ctx.identifier else "unidentified"}

    def start(self) -> None:
        self.next_pool()

    def next_pool(self) -> None:
        if self.done:
            return
        if not self.pools:
            self.done = True
            log.info("call=%s no agent answered: apology and call-back offer", self.call.id_text)
            self.call.runner.agents_unavailable()
            return
        self.pool = self.pools.pop(0)
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

    def _refer(self) -> None:
        params = "&".join(f"{k}={v}" for k, v in self.headers().items())
        target = f"<{self.pool.uri}?{params}>"
        try:
            self.call.xfer(target, pj.CallOpParam(True))
        except pj.Error as exc:
            log.warning("call=%s REFER to %s failed: %s", self.call.id_text, self.pool.uri, exc.info())
            self._attempt("failed")
            self.next_pool()

    def refer_status(self, code: int, final: bool) -> bool:
        """NOTIFY progress of a REFER; returns whether to keep listening."""
        if self.done or not final:
            return True
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
        port = self.call.port
        if port is not None:
            caller_media.stopTransmit(port)
            port.stopTransmit(caller_media)
        caller_media.startTransmit(leg.media)
        leg.media.startTransmit(caller_media)
        self.bridged = True
        self.call.runner.bridged()
        log.info("call=%s bridged to pool=%s", self.call.id_text, self.pool.name)

    def leg_ended(self, leg: AgentLeg, code: int) -> None:
        if leg is not self.leg:
            return
        if leg.answered:  # the agent finished the call: the caller's leg ends too
            self.server.retire(leg)
            self.call.hang()
            return
        self._attempt("busy" if code in (486, 600, 603) else "failed", code)
        self.leg = None
        self.server.retire(leg)
        self.next_pool()

    def caller_gone(self) -> None:
        """The caller hung up during the hand-over: stop ringing, or end the agent's side."""
        if not self.done:
            self.done = True
            self._attempt("caller_hung_up")
            self.record.outcome = "abandoned"
        leg, self.leg = self.leg, None
        if leg is not None:  # hanging up may call back into leg_ended at once
            self.server.retire(leg)
            leg.hang()

    # -- bookkeeping -----------------------------------------------------------------------
    def _answered_now(self) -> None:
        now = time.monotonic()
        answer_s = round(now - self.started, 3)
        self.record.agent_answer_s = answer_s
        self.record.transfer_target = self.pool.uri
        self._attempt("answered")
        log.info("call=%s agent answered pool=%s after %.1f s", self.call.id_text, self.pool.name, answer_s)

    def _attempt(self, result: str, code: int | None = None) -> None:
        now = time.monotonic()
        entry: dict[str, Any] = {"pool": self.pool.name, "uri": self.pool.uri, "result": result,
                                 "ring_s": round(now - (self.rang_at or self.dialled_at), 3)}
        if code:
            entry["sip_status"] = code
        self.record.agent_attempts.append(entry)
        self.server.metrics.agent_attempt(self.pool.name, result == "answered",
                                          now - self.started if result == "answered" else None)


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
                 default_region: str = "010", media_timeout_s: float = 30.0) -> None:
        self.services = services
        self.media_timeout_s = media_timeout_s
        self._next_media_check = 0.0
        self.agents = agents
        self.cdr_path = cdr_path
        self.metrics = metrics or Metrics()
        self.default_lang = default_lang
        self.default_region = default_region
        self.known_regions = known_regions or set()
        self.stack = SipStack(sip, _Endpoint(self.metrics))
        self.account: BotAccount | None = None
        self.calls: dict[int, BotCall] = {}
        self._retired: list[AgentLeg] = []
        self.stopping = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.account = BotAccount(self)
        self.stack.start(self.account)

    def run(self) -> None:
        """Serve until SIGINT/SIGTERM (or ``stopping`` is set), then hang up and flush."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())
        collector = CollectOnLoop()
        while not self.stopping.is_set():
            self.stack.poll(10)
            collector.tick()
            try:
                self._sweep()
                self._check_media()
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
        setup = self._setup(msg)
        call = BotCall(self, acc, prm.callId, setup)
        self.calls[prm.callId] = call  # without a reference pjsua2 hangs it up at once
        op = pj.CallOpParam()
        if self.stopping.is_set():
            op.statusCode = 503
            call.answer(op)
            return
        log.info("call=%s incoming from=%s region=%s lang=%s via %s", setup.sip_call_id, setup.caller, setup.region,
                 setup.lang, prm.rdata.srcAddress)
        self.metrics.call_started()
        call.counted = True
        op.statusCode = 200
        call.answer(op)

    def _setup(self, msg: str) -> CallSetup:
        request_line = msg.split("\r\n", 1)[0]
        dialled = uri_user(request_line.split(" ")[1]) if " " in request_line else ""
        region = header(msg, "X-Voicebot-Region") or self._region_of(dialled)
        accept = (header(msg, "Accept-Language") or "").lower()
        lang = next((code for code in LANGUAGES if accept.startswith(code[:2].lower())), self.default_lang)
        caller = uri_user(header(msg, "From") or "") or None
        return CallSetup(header(msg, "Call-ID") or "", caller, region, lang)

    def _region_of(self, dialled: str) -> str:
        """'02195588' (area code + line number) reaches region 021; plain '95588' the line's own."""
        digits = "".join(ch for ch in dialled if ch.isdigit())
        if digits.endswith(LINE_NUMBER) and digits[:-len(LINE_NUMBER)] in self.known_regions:
            return digits[:-len(LINE_NUMBER)]
        return self.default_region

    def start_dialog(self, call: BotCall) -> None:
        session = self.services.session(call.setup, call.id_text)

        def notify(kind: str, value: Any) -> None:
            self.stack.post(lambda: self._from_runner(call, kind, value))

        call.runner = CallRunner(session, call.port, notify, on_latency=self.metrics.turn_latency,
                                 inband_dtmf=self.services.inband_dtmf)
        call.runner.start()

    def _from_runner(self, call: BotCall, kind: str, value: Any) -> None:
        if kind == "hangup":
            call.hang()
        elif kind == "transfer" and not call.disconnected:
            self.metrics.inc("voicebot_transfers_total")
            region = call.runner.session.engine.ctx.region
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
        try:
            append_cdr(self.cdr_path, record)
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
                    if call.port is not None:
                        self.stack.ports.release(call.port)
                    call.runner = call.handover = call.port = None

    def retire(self, leg: AgentLeg) -> None:
        """Keep an agent leg alive until pjsua2 is done with it (it is freed at the next sweep)."""
        if leg not in self._retired:
            self._retired.append(leg)

    def _check_media(self) -> None:
        """Once a second: hang up calls whose caller has sent no RTP for ``media_timeout_s``.

        A BYE lost on the way (UDP under load, a gateway that died) would otherwise keep a call
        slot busy for ever, the dialog talking to nobody. Calls the caller holds are left alone.
        """
        now = time.monotonic()
        if not self.media_timeout_s or now < self._next_media_check:
            return
        self._next_media_check = now + 1.0
        for call in list(self.calls.values()):
            if call.disconnected or call.media_index is None:
                continue
            try:
                packets = call.getStreamStat(call.media_index).rtcp.rxStat.pkt
                held = any(mi.status == pj.PJSUA_CALL_MEDIA_REMOTE_HOLD for mi in call.getInfo().media)
            except pj.Error:  # the stream is gone (pjsua has dropped the call's media): no audio either
                packets, held = call.rx_packets, False
            if packets != call.rx_packets or held:
                call.rx_packets, call.rx_changed = packets, now
            elif now - call.rx_changed < self.media_timeout_s:
                continue
            elif not call.timed_out:
                log.warning("call=%s no audio from the caller for %.0f s: hanging up", call.id_text,
                            now - call.rx_changed)
                self.metrics.inc("voicebot_media_timeouts_total")
                call.timed_out, call.rx_changed = True, now
                call.hang()
            else:  # our BYE got no answer either: the call is over for us
                call.gone("no audio and no answer to our BYE")

    def _sweep(self) -> None:
        self._retired = [leg for leg in self._retired if not leg.disconnected]
        for call in list(self.calls.values()):
            self.forget(call)
