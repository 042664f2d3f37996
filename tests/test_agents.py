"""Agent pools and the hand-over rules that do not need a phone line: routing by region and hours,
the apology and call-back after nobody answered, and where a dialled number lands."""

from __future__ import annotations

from datetime import datetime

import pytest

from voicebot.dialog.actions import Collect, Hangup
from voicebot.telephony.agents import AgentConfigError, AgentDirectory, Hours

CONFIG = {
    "central": "sip:central@10.0.0.1", "ring_s": 5, "rings": 3,
    "regions": {"010": {"uri": "sip:bj@10.0.0.2", "hours": ["Mon-Fri 08:00-20:00"]},
                "852": {"hosted_centrally": True}},
}
MONDAY_NOON, MONDAY_NIGHT = datetime(2026, 11, 30, 12), datetime(2026, 11, 30, 23)
SUNDAY_NOON = datetime(2026, 11, 29, 12)


def test_a_regional_seat_is_rung_first_in_its_hours_then_the_central_pool() -> None:
    d = AgentDirectory.from_config(CONFIG, "sip:agents-{region}@127.0.0.1")
    assert [p.name for p in d.route("010", MONDAY_NOON)] == ["010", "central"]
    assert [p.name for p in d.route("010", MONDAY_NIGHT)] == ["central"]  # nights hosted centrally
    assert [p.name for p in d.route("010", SUNDAY_NOON)] == ["central"]
    assert [p.name for p in d.route("852", MONDAY_NOON)] == ["central"]  # hosted at head office
    # a region the table does not list keeps its own seats, named by the template
    assert [p.uri for p in d.route("020", MONDAY_NOON)] == ["sip:agents-020@127.0.0.1", "sip:central@10.0.0.1"]
    assert d.ring_timeout_s == 15


@pytest.mark.parametrize("text", ["Mon-Fri 8-20", "Fri-Mon 20:00-08:00", "Xyz 08:00-09:00", "Mon 10:00-09:00"])
def test_bad_hours_are_a_readable_error(text: str) -> None:
    with pytest.raises(AgentConfigError, match="hours"):
        Hours.parse(text)


def test_hours_may_wrap_the_week_and_end_at_midnight() -> None:
    h = Hours.parse("Sat-Mon 00:00-24:00")
    assert h.open_at(SUNDAY_NOON) and h.open_at(MONDAY_NIGHT)
    assert not h.open_at(datetime(2026, 12, 1, 12))  # Tuesday


def test_nobody_answering_brings_an_apology_and_a_call_back_offer(call) -> None:
    c = call()
    c.path("01")  # agent, urgent loss report
    assert c.transfers() and c.engine.ended
    actions = c.engine.agents_unavailable()
    assert "busy" in " ".join(a.text for a in actions if hasattr(a, "text"))
    assert isinstance(actions[-1], Collect) and actions[-1].expect == "confirm"
    last = c.keys("1")
    assert c.engine.record.callback_requested is True
    assert isinstance(last[-1], Hangup)
    assert c.engine.close().outcome == "failed"
    assert c.engine.agents_unavailable() == []  # only once, only after a hand-over


def test_a_second_failed_hand_over_does_not_offer_again(call) -> None:
    c = call()
    c.path("01")
    c.engine.agents_unavailable()
    for _ in range(3):  # silence at the offer: the third failure hands over again
        c.silence()
    assert c.engine.ended and len(c.transfers()) == 2
    actions = c.engine.agents_unavailable()
    assert isinstance(actions[-1], Hangup) and not any(isinstance(a, Collect) for a in actions)


def test_the_dialled_number_selects_the_region() -> None:
    from voicebot.telephony.invite import LinePlan

    line = LinePlan({"010", "021", "852"}, "010", "en-US")
    msg = ("INVITE sip:02195588@10.0.0.1 SIP/2.0\r\nFrom: \"x\" <sip:13912345678@10.0.0.9>;tag=1\r\n"
           "Call-ID: abc\r\nAccept-Language: zh-CN, en;q=0.5\r\n\r\n")
    setup = line.setup(msg)
    assert (setup.region, setup.lang, setup.caller, setup.sip_call_id) == ("021", "zh-CN", "13912345678", "abc")
    assert line.setup(msg.replace("02195588", "95588")).region == "010"
    assert line.setup(msg.replace("02195588", "99995588")).region == "010"  # unknown area code
    with_header = msg.replace("Call-ID: abc", "X-Voicebot-Region: 852\r\nCall-ID: abc")
    assert line.setup(with_header, "10.0.0.9:5060").region == "021"  # from anyone: ignored
    gateway = LinePlan({"010", "021", "852"}, "010", "en-US", ["10.0.0.0/29"])
    assert gateway.setup(with_header, "10.0.0.5:5060").region == "852"  # from a gateway of [sip] region_header_from
    assert gateway.setup(with_header, "10.0.0.9:5060").region == "021"


@pytest.mark.parametrize("forged", ['999', '010" x="1', "010 region=852", "sip:premium@evil", "x" * 300])
def test_a_region_header_the_line_does_not_know_is_ignored(forged: str) -> None:
    """It picks the agent pool, a SIP URI, a metric label and log fields: only known regions pass."""
    from voicebot.telephony.invite import LinePlan

    line = LinePlan({"010", "021", "852"}, "010", "en-US", ["10.0.0.9/32"])
    msg = (f"INVITE sip:02195588@10.0.0.1 SIP/2.0\r\nFrom: <sip:a b=c@10.0.0.9>;tag=1\r\nX-Voicebot-Region: {forged}"
           f"\r\nCall-ID: id with spaces\r\n\r\n")
    setup = line.setup(msg, "10.0.0.9:5060")
    assert setup.region == "021" and setup.caller is None
    assert " " not in setup.sip_call_id and setup.sip_call_id.startswith("invalid-")


def test_offers_without_usable_audio_are_recognised() -> None:
    from voicebot.telephony.invite import usable_audio

    head = "INVITE sip:95588@h SIP/2.0\r\nContent-Type: application/sdp\r\n\r\n"
    sdp = "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio {port} RTP/AVP {fmt}\r\n{extra}"
    assert usable_audio(head + sdp.format(port=4000, fmt="0 101", extra=""))
    assert usable_audio(head + sdp.format(port=4000, fmt="96", extra="a=rtpmap:96 L16/8000\r\n"))
    assert usable_audio(head)  # no offer: ours goes in the answer
    assert not usable_audio(head + sdp.format(port=0, fmt="0", extra=""))
    assert not usable_audio(head + sdp.format(port=4000, fmt="18", extra=""))  # G.729 only
    assert not usable_audio(head + "v=0\r\nm=video 4000 RTP/AVP 96\r\n")


def test_the_agent_context_is_signed_escaped_and_forgeries_are_told_apart() -> None:
    from urllib.parse import unquote

    from voicebot.telephony.agent_context import context_headers, refer_params, verify

    secret, now = "desk-secret", 1_000_000.0
    headers = context_headers(reason="emergency_loss", service="card.report_loss", lang="en-US", region="010",
                              call_id="abc@host", identifier="6222020000000001", secret=secret, now=now,
                              through_caller=True)
    assert headers["X-Voicebot-Customer"] == "************0001"
    assert verify(headers, secret, now=now + 10)
    assert not verify({**headers, "X-Voicebot-Customer": "************0003"}, secret, now=now + 10)  # forged
    assert not verify({**headers, "X-Voicebot-Region": "852"}, secret, now=now + 10)
    assert not verify(headers, "another-secret", now=now + 10)
    assert not verify(headers, secret, now=now + 3600)  # too late: replayed from an old call
    # a value that tries to break out of the Refer-To URI or a header is neutralised
    odd = context_headers(reason='x>&X-Voicebot-Customer=me\r\nVia: evil', service="s", lang="en-US",
                          region="010", call_id="c", identifier=None, secret=None, through_caller=True)
    assert "X-Voicebot-Customer" not in odd  # no secret: the customer is not named
    bridged = context_headers(reason="r", service="s", lang="en-US", region="010", call_id="c",
                              identifier="6222020000000001", secret=None, through_caller=False)
    assert bridged["X-Voicebot-Customer"] == "************0001"  # the bot's own INVITE: named, masked
    params = refer_params(odd)
    assert all(ch not in params for ch in "<>\r\n ") and params.count("&") == len(odd) - 1
    assert unquote(params.split("&")[0].split("=", 1)[1]) == odd["X-Voicebot-Reason"]


def test_metric_labels_are_escaped_so_the_scrape_stays_whole() -> None:
    from voicebot.telephony.metrics import Metrics

    metrics = Metrics()
    metrics.agent_attempt('010"} evil 1\n# x', answered=False, answer_s=None)
    lines = metrics.render().splitlines()
    offered = [line for line in lines if line.startswith("voicebot_agent_offered_total")]
    assert offered == ['voicebot_agent_offered_total{pool="010\\"} evil 1\\n# x"} 1']
    assert not any(line.startswith("# x") for line in lines)
