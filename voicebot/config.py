"""Configuration: config/voicebot.toml (or --config / VOICEBOT_CONFIG), then environment overrides."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicebot import PROJECT_DIR as PROJECT_DIR  # (re-exported: where most modules look for it)
from voicebot.channels.voice_settings import ChannelVoices, VoiceSettings, VoiceSettingsError, voice_settings
from voicebot.console.reports import ReportSettings
from voicebot.dialog.context import DialogSettings
from voicebot.nlu.parser import Parser
from voicebot.nlu.training import NluPaths
from voicebot.recording.settings import RecordingSettings, RecordingSettingsError, recording_settings
from voicebot.telephony.admission import BUSY_MODES, CapacitySettings
from voicebot.telephony.agents import AgentConfigError, AgentDirectory

DEFAULT_CONFIG = PROJECT_DIR / "config" / "voicebot.toml"


class ConfigError(Exception):
    """The configuration cannot be used; the message says what to fix."""


@dataclass
class NluConfig:
    backend: str = "rasa"
    models_dir: str = "models/nlu"
    timeout_s: float = 2.0
    http_urls: dict[str, str] = field(default_factory=dict)
    token: str | None = None  # the shared NLU servers' bearer token (VOICEBOT_NLU_TOKEN)


@dataclass
class SipConfig:
    bind: str = "127.0.0.1"
    port: int = 5060
    cdr: str = "var/cdr.jsonl"
    metrics_port: int = 0  # 0: no Prometheus endpoint
    metrics_bind: str = "127.0.0.1"  # the metrics endpoint listens here, not on the SIP address
    inband_dtmf: bool = False  # also hear keys as tones in the audio (for gateways without RFC 4733/INFO)
    media_timeout_s: float = 30.0  # no audio from the caller this long: hang up (a lost BYE); 0: never
    max_hold_s: float = 120.0  # a caller who holds the call this long is hung up; 0: never
    warm_up_s: float = 20.0  # prompt audio each worker decodes at start, so first callers get a warm recogniser
    region_header_from: list[str] = field(default_factory=list)  # CIDRs whose X-Voicebot-Region is honoured


@dataclass
class FrontDoorLimits:
    """What the cluster's front door lets one outside source do (trusted networks are not limited)."""

    trusted: list[str] = field(default_factory=list)  # CIDRs; when given, only these (and workers) may send SIP
    pike_density: int = 30  # requests per 2 s from one source before it is ignored for a while
    max_calls_per_source: int = 8  # concurrent calls from one address
    # `voicebot front-door` alone on a host (the cluster command sets these itself)
    bind: str = "127.0.0.1"
    port: int = 5060
    workers: list[str] = field(default_factory=list)  # "host:port" of each worker host's `voicebot serve`
    run_dir: str = "var/front-door"  # where the rendered Kamailio configuration goes


@dataclass
class Config:
    db_url: str = "sqlite:///var/voicebot.db"
    language: str = "en-US"
    region: str = "010"
    log_file: str = "var/log/voicebot.log"
    log_level: str = "INFO"
    dialog: DialogSettings = field(default_factory=DialogSettings)
    nlu: NluConfig = field(default_factory=NluConfig)
    sip: SipConfig = field(default_factory=SipConfig)
    agents: AgentDirectory | None = None
    front_door: FrontDoorLimits = field(default_factory=FrontDoorLimits)
    capacity: CapacitySettings = field(default_factory=CapacitySettings)
    reports: ReportSettings | None = None
    voices: ChannelVoices = field(default_factory=ChannelVoices)  # [voice] and its per-channel overrides
    console_hosts: list[str] = field(default_factory=list)  # names a TLS proxy serves the console under
    recording: RecordingSettings = field(default_factory=RecordingSettings)
    source: Path | None = None  # the file this came from (child processes get the same)
    base_dir: Path = PROJECT_DIR

    def path(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else self.base_dir / p

    def voice(self, channel: str) -> VoiceSettings:
        """How calls on ``channel`` (sip, browser, mic) listen and wait: ``[voice]`` and its overrides."""
        return self.voices.for_channel(channel)

    @property
    def speech_engines(self) -> dict[str, str]:
        """Which recogniser hears each language (``[voice] engines``)."""
        return self.voices.common.engines

    @property
    def database_url(self) -> str:
        """The URL with a relative SQLite path resolved against the project folder."""
        prefix = "sqlite:///"
        rest = self.db_url[len(prefix):]
        if self.db_url.startswith(prefix) and not rest.startswith("/") and ":memory:" not in rest:
            return prefix + str(self.path(rest))
        return self.db_url


def load_config(path: str | Path | None = None) -> Config:
    path = Path(path or os.environ.get("VOICEBOT_CONFIG") or DEFAULT_CONFIG)
    data: dict = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
    elif path != DEFAULT_CONFIG:
        raise ConfigError(f"configuration file not found: {path}")
    db, dialog, logging_ = data.get("database", {}), data.get("dialog", {}), data.get("logging", {})
    nlu = data.get("nlu", {})
    defaults = DialogSettings()
    cfg = Config(
        db_url=os.environ.get("VOICEBOT_DB_URL", db.get("url", Config.db_url)),
        language=dialog.get("default_language", "en-US"),
        region=os.environ.get("VOICEBOT_REGION", dialog.get("default_region", "010")),
        log_file=os.environ.get("VOICEBOT_LOG_FILE", logging_.get("file", Config.log_file)),
        log_level=logging_.get("level", "INFO"),
        dialog=DialogSettings(
            agent_uri=dialog.get("agent_uri", defaults.agent_uri),
            min_confidence=float(dialog.get("min_confidence", defaults.min_confidence)),
            min_confidence_money=float(dialog.get("min_confidence_money", defaults.min_confidence_money)),
            min_asr_confidence=float(dialog.get("min_asr_confidence", defaults.min_asr_confidence)),
            inbox_keep_days=int(data.get("inbox", {}).get("keep_days", defaults.inbox_keep_days))
            if data.get("inbox", {}).get("enabled", True) else 0,
            survey=bool(dialog.get("survey", defaults.survey)),
        ),
        nlu=NluConfig(backend=os.environ.get("VOICEBOT_NLU_BACKEND", nlu.get("backend", "rasa")),
                      models_dir=os.environ.get("VOICEBOT_NLU_MODELS", nlu.get("models_dir", "models/nlu")),
                      timeout_s=float(nlu.get("timeout_s", 2.0)),
                      http_urls=_urls(os.environ.get("VOICEBOT_NLU_URLS")) or dict(nlu.get("http_urls", {})),
                      token=os.environ.get("VOICEBOT_NLU_TOKEN") or nlu.get("token") or None),
        base_dir=Path(data["base_dir"]) if "base_dir" in data else path.parent.parent if path.exists() else PROJECT_DIR,
    )
    cfg.source = path if path.exists() else None
    hosts = os.environ.get("VOICEBOT_CONSOLE_HOSTS")
    cfg.console_hosts = [h.strip() for h in hosts.split(",") if h.strip()] if hosts is not None else \
        [str(h) for h in data.get("console", {}).get("hosts", [])]
    try:
        cfg.voices = _voices(data)
    except VoiceSettingsError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    sip = data.get("sip", {})
    cfg.sip = SipConfig(bind=sip.get("bind", SipConfig.bind), port=int(sip.get("port", SipConfig.port)),
                        metrics_bind=sip.get("metrics_bind", SipConfig.metrics_bind),
                        cdr=sip.get("cdr", SipConfig.cdr), metrics_port=int(sip.get("metrics_port", 0)),
                        inband_dtmf=bool(sip.get("inband_dtmf", False)),
                        media_timeout_s=float(sip.get("media_timeout_s", SipConfig.media_timeout_s)),
                        max_hold_s=float(sip.get("max_hold_s", SipConfig.max_hold_s)),
                        warm_up_s=float(sip.get("warm_up_s", SipConfig.warm_up_s)),
                        region_header_from=[str(c) for c in sip.get("region_header_from", [])])
    try:
        for cidr in cfg.sip.region_header_from:
            ipaddress.ip_network(cidr, strict=False)
    except ValueError as exc:
        raise ConfigError(f"{path}: [sip] region_header_from: {exc}") from exc
    cfg.capacity = _capacity(data.get("capacity", {}), path)
    try:
        cfg.recording = recording_settings(data.get("recording", {}), os.environ.get("VOICEBOT_RECORDING_KEY"))
    except RecordingSettingsError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    door = data.get("front_door", {})
    cfg.front_door = FrontDoorLimits(trusted=list(door.get("trusted", [])),
                                     pike_density=int(door.get("pike_density", FrontDoorLimits.pike_density)),
                                     max_calls_per_source=int(door.get("max_calls_per_source",
                                                                       FrontDoorLimits.max_calls_per_source)),
                                     bind=door.get("bind", FrontDoorLimits.bind),
                                     port=int(door.get("port", FrontDoorLimits.port)),
                                     workers=[str(w) for w in door.get("workers", [])],
                                     run_dir=door.get("run_dir", FrontDoorLimits.run_dir))
    try:
        cfg.agents = AgentDirectory.from_config(data.get("agents", {}), cfg.dialog.agent_uri)
    except AgentConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    cfg.dialog.agent_target = cfg.agents.first_target
    cfg.reports = _reports(data.get("reports", {}), cfg.agents)
    if cfg.nlu.backend not in ("rasa", "http", "keywords"):
        raise ConfigError(f"nlu.backend must be rasa, http or keywords, not {cfg.nlu.backend!r}")
    if cfg.language not in ("en-US", "zh-CN"):
        raise ConfigError(f"default_language must be en-US or zh-CN, not {cfg.language!r}")
    return cfg


def _voices(data: dict[str, Any]) -> ChannelVoices:
    """``[voice]``, with two older spellings still read: ``[speech] engines`` (the recogniser per
    language) and ``[sip] no_input_s`` / ``endpoint_ms`` (as overrides for SIP calls only)."""
    table = dict(data.get("voice", {}))
    older = {"engines": data["speech"]["engines"]} if "engines" in data.get("speech", {}) else {}
    common = voice_settings(older, where="[speech]")
    common = voice_settings(table, common)
    overrides = {channel: dict(table.get(channel, {})) for channel in ("sip", "browser", "mic")}
    sip = data.get("sip", {})
    for key in ("no_input_s", "endpoint_ms"):
        if key in sip:
            overrides["sip"].setdefault(key, sip[key])
    voices = ChannelVoices(common, {k: v for k, v in overrides.items() if v})
    for channel in voices.overrides:
        voices.for_channel(channel)  # refused now, not on the first call
    return voices


def _capacity(data: dict[str, Any], path: Path) -> CapacitySettings:
    """``[capacity]``: the line's call limit (0: measured) and what a caller over it gets."""
    busy = str(data.get("busy", CapacitySettings.busy))
    if busy not in BUSY_MODES:
        raise ConfigError(f"{path}: [capacity] busy must be one of {', '.join(BUSY_MODES)}, not {busy!r}")
    try:
        settings = CapacitySettings(int(data.get("max_calls", 0)), busy,
                                    int(data.get("retry_after_s", CapacitySettings.retry_after_s)))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: [capacity] max_calls and retry_after_s are whole numbers ({exc})") from exc
    if settings.max_calls < 0 or settings.retry_after_s < 0:
        raise ConfigError(f"{path}: [capacity] values cannot be negative")
    return settings


def join_urls(urls: dict[str, str]) -> str:
    """NLU server addresses per language as VOICEBOT_NLU_URLS holds them (read back by ``_urls``)."""
    return ",".join(f"{lang}={url}" for lang, url in urls.items())


def _urls(text: str | None) -> dict[str, str]:
    """'en-US=http://127.0.0.1:5005,zh-CN=http://...' (VOICEBOT_NLU_URLS) as a dict."""
    if not text:
        return {}
    pairs = [item.split("=", 1) for item in text.split(",") if "=" in item]
    return {lang.strip(): url.strip() for lang, url in pairs}


def make_parser(cfg: Config) -> Parser:
    """The NLU back end the configuration names (each imports its heavy libraries lazily)."""
    if cfg.nlu.backend == "keywords":
        from voicebot.nlu.keywords import KeywordParser

        return KeywordParser(settings=cfg.dialog)
    if cfg.nlu.backend == "http":
        from voicebot.nlu.rasa_backend import RasaHttp

        return RasaHttp(cfg.nlu.http_urls, cfg.nlu.timeout_s, settings=cfg.dialog, token=cfg.nlu.token)
    from voicebot.nlu.rasa_backend import RasaInProcess

    return RasaInProcess(cfg.path(cfg.nlu.models_dir), settings=cfg.dialog)


def nlu_paths(cfg: Config) -> NluPaths:
    return NluPaths(cfg.base_dir, cfg.path(cfg.nlu.models_dir))


def _reports(data: dict[str, Any], agents: AgentDirectory) -> ReportSettings:
    """``[reports]``: the hosted branches' price per transaction and which regions are hosted."""
    from decimal import Decimal, InvalidOperation

    try:
        price = Decimal(str(data.get("price_per_transaction", "0.50")))
    except InvalidOperation as exc:
        raise ConfigError("reports.price_per_transaction must be an amount such as \"0.50\"") from exc
    if price < 0:
        raise ConfigError("reports.price_per_transaction cannot be negative")
    hosted = data.get("hosted_regions")
    if hosted is None:
        hosted = [code for code, seats in agents.regions.items() if seats.pool is None]
    return ReportSettings(price, frozenset(str(h) for h in hosted))
