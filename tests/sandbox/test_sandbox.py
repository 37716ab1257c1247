"""The sandbox end to end: aiosmtplib clients, the relay, help desks and a collecting sink on loopback."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.utils import parseaddr, parsedate_to_datetime

import aiosmtplib
import pytest

from replybench.clock import BusinessClock
from replybench.models import BusinessHours
from replybench.sandbox import Sandbox
from replybench.timefmt import utcnow
from replybench.tokens import token_from_address, token_from_message_id
from tests.asynctest import async_test
from tests.sandbox.helpers import (
    PROBE_DOMAIN,
    Sink,
    company,
    make_probe,
    submit,
    wait_until,
)

SCALE = 50.0  # fast: ack ≈ 6 ms, human median 60 ms


def kinds(sandbox: Sandbox, token: str) -> list[str]:
    return sorted(r.kind for r in sandbox.truth.replies_for(token))


def delivered(sandbox: Sandbox, token: str, n: int):
    return lambda: sum(r.status == "delivered" for r in sandbox.truth.replies_for(token)) >= n


@async_test
async def test_fast_company_acknowledges_then_a_person_answers_in_the_thread():
    sink = await Sink().start()
    async with Sandbox([company("acme")], routes={PROBE_DOMAIN: sink.route}, time_scale=SCALE) as sb:
        probe = make_probe("support@acme.example", reply_local="replies")
        await submit(sb, probe)
        await wait_until(delivered(sb, probe.token, 2))
    await sink.stop()

    assert [m.rcpt_tos for m in sink.messages] == [[f"replies+{probe.token}@{PROBE_DOMAIN}"]] * 2
    ack, human = sink.messages[0].message, sink.messages[1].message
    # acknowledgement: RFC 3834 headers and a ticket number
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["X-Autoreply"] == "yes"
    assert re.fullmatch(r"\[#\d{6,9}\] We received your request: Do you ship to Austria\?", ack["Subject"])
    assert ack["In-Reply-To"] == probe.message_id
    # human reply: an agent at the support address, threaded, quoting the question
    name, address = parseaddr(human["From"])
    assert address == "support@acme.example"
    assert len(name.split()) == 2
    assert human["Subject"] == "Re: Do you ship to Austria?"
    assert human["In-Reply-To"] == probe.message_id
    assert probe.message_id in human["References"].split()
    assert human["Message-ID"].endswith("@acme.example>")
    assert human["Message-ID"] not in (ack["Message-ID"], probe.message_id)
    assert parsedate_to_datetime(human["Date"]).tzinfo is not None
    assert human["Auto-Submitted"] is None
    assert human["X-Autoreply"] is None
    body = human.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("Hi Anna,")
    assert "Do you ship to Austria, and how long does it take?" in body
    assert "> I would like to order a bike." in body
    assert name in body

    truth = sb.truth
    [record] = truth.probes
    assert (record.company_id, record.token, record.message_id) == ("acme", probe.token, probe.message_id)
    assert record.mail_from == probe.mail_from
    replies = {r.kind: r for r in truth.replies_for(probe.token)}
    assert set(replies) == {"ack", "human"}
    assert replies["ack"].message_id == ack["Message-ID"]
    assert replies["human"].message_id == human["Message-ID"]
    for reply, msg in ((replies["ack"], sink.messages[0]), (replies["human"], sink.messages[1])):
        assert reply.delivered_at is not None
        assert reply.sent_at is not None
        assert record.received_at <= reply.planned_at <= reply.sent_at <= reply.delivered_at
        # the sandbox's delivered_at is the sink's own receipt, to within a few milliseconds
        assert abs((msg.received_at - reply.delivered_at).total_seconds()) < 0.2


@async_test
async def test_replies_go_to_from_when_there_is_no_reply_to_and_tokens_are_found_in_the_message_id():
    sink = await Sink().start()
    async with Sandbox([company("acme")], default_route=sink.route, time_scale=SCALE) as sb:
        probe = make_probe("support@acme.example")
        await submit(sb, probe)
        await wait_until(delivered(sb, probe.token, 2))
    await sink.stop()
    assert {tuple(m.rcpt_tos) for m in sink.messages} == {(probe.mail_from,)}
    assert token_from_message_id(probe.message_id) == sb.truth.probes[0].token == probe.token


@async_test
async def test_delays_follow_the_profile_scaled_by_time_scale():
    sink = await Sink().start()
    companies = [company("quick"), company("sluggish", "slow", human_probability=1.0)]
    async with Sandbox(companies, routes={PROBE_DOMAIN: sink.route}, time_scale=SCALE, seed=5) as sb:
        probes = [make_probe("support@quick.example") for _ in range(6)]
        probes += [make_probe("support@sluggish.example") for _ in range(6)]
        await asyncio.gather(*(submit(sb, p) for p in probes))
        await wait_until(lambda: all(delivered(sb, p.token, 2)() for p in probes), timeout=10)
    await sink.stop()

    received = {p.token: p.received_at for p in sb.truth.probes}
    for reply in sb.truth.replies:
        offset = (reply.planned_at - received[reply.probe_token]).total_seconds()
        assert offset == pytest.approx(reply.delay, abs=1e-5)
        # each reply reaches the route soon after its planned time, never before
        lag = (reply.delivered_at - reply.planned_at).total_seconds()
        assert 0 <= lag < 0.5
        if reply.kind == "ack":
            assert 0.8 * 0.3 / SCALE <= reply.delay <= 1.2 * 1.0 / SCALE
    humans = {
        cid: [r.delay * SCALE for r in sb.truth.replies if r.kind == "human" and r.company_id == cid]
        for cid in ("quick", "sluggish")
    }
    # log-normal medians 3 s and 15 s: six samples each are far apart on average
    assert sum(humans["sluggish"]) / 6 > 2 * sum(humans["quick"]) / 6
    assert all(0.3 < d < 60 for d in humans["quick"])


@async_test
async def test_ack_only_and_never_send_no_human_reply():
    sink = await Sink().start()
    companies = [company("robot", "ack_only"), company("void", "never")]
    async with Sandbox(companies, routes={PROBE_DOMAIN: sink.route}, time_scale=SCALE) as sb:
        robot, void = make_probe("support@robot.example"), make_probe("support@void.example")
        await submit(sb, robot)
        await submit(sb, void)
        await wait_until(delivered(sb, robot.token, 1))
        await asyncio.sleep(20 / SCALE)  # far beyond a fast human's 3 s median
    await sink.stop()
    assert kinds(sb, robot.token) == ["ack"]
    assert kinds(sb, void.token) == []
    assert [m.message["Auto-Submitted"] for m in sink.messages] == ["auto-replied"]
    assert {p.company_id for p in sb.truth.probes} == {"robot", "void"}


@async_test
async def test_out_of_office_notice_then_a_human_reply():
    sink = await Sink().start()
    async with Sandbox([company("away", "out_of_office")], default_route=sink.route, time_scale=SCALE) as sb:
        probe = make_probe("support@away.example")
        await submit(sb, probe)
        await wait_until(delivered(sb, probe.token, 2))
    await sink.stop()
    ooo, human = (m.message for m in sink.messages)
    assert ooo["Subject"] == "Automatic reply: Do you ship to Austria?"
    assert ooo["Auto-Submitted"] == "auto-replied"
    assert ooo["In-Reply-To"] == probe.message_id
    assert human["Subject"] == "Re: Do you ship to Austria?"
    assert human["Auto-Submitted"] is None
    assert [r.kind for r in sorted(sb.truth.replies, key=lambda r: r.planned_at)] == ["ooo", "human"]


@async_test
async def test_bounce_profile_sends_an_rfc3464_dsn_to_the_envelope_sender():
    sink = await Sink().start()
    async with Sandbox([company("gone", "bounce")], default_route=sink.route, time_scale=SCALE) as sb:
        probe = make_probe("support@gone.example", reply_local="replies")
        await submit(sb, probe)
        await wait_until(delivered(sb, probe.token, 1))
        await asyncio.sleep(10 / SCALE)
    await sink.stop()

    [dsn_mail] = sink.messages
    assert dsn_mail.mail_from == ""  # null return path
    assert dsn_mail.rcpt_tos == [probe.mail_from]  # the envelope sender, not the Reply-To
    assert token_from_address(dsn_mail.rcpt_tos[0]) == probe.token
    dsn = dsn_mail.message
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"
    assert parseaddr(dsn["From"])[1] == "MAILER-DAEMON@gone.example"
    human_part, status_part, headers_part = dsn.get_payload()
    assert human_part.get_content_type() == "text/plain"
    assert status_part.get_content_type() == "message/delivery-status"
    per_message, per_recipient = status_part.get_payload()
    assert per_message["Reporting-MTA"] == "dns; mx.gone.example"
    assert per_recipient["Final-Recipient"] == "rfc822; support@gone.example"
    assert per_recipient["Action"] == "failed"
    assert per_recipient["Status"] == "5.1.1"
    assert per_recipient["Diagnostic-Code"].startswith("smtp; 550 5.1.1")
    assert headers_part.get_content_type() == "text/rfc822-headers"
    original = message_from_bytes(headers_part.get_content().encode(), policy=policy.default)
    assert original["Message-ID"] == probe.message_id
    assert kinds(sb, probe.token) == ["bounce"]


@async_test
async def test_a_mailbox_the_company_does_not_have_bounces_with_511():
    sink = await Sink().start()
    async with Sandbox([company("acme")], default_route=sink.route, time_scale=SCALE) as sb:
        probe = make_probe("sales@acme.example")
        await submit(sb, probe)
        await wait_until(delivered(sb, probe.token, 1))
        await asyncio.sleep(10 / SCALE)
    await sink.stop()
    [dsn_mail] = sink.messages
    assert dsn_mail.mail_from == ""
    assert dsn_mail.rcpt_tos == [probe.mail_from]
    _, status_part, _ = dsn_mail.message.get_payload()
    per_recipient = status_part.get_payload()[1]
    assert per_recipient["Final-Recipient"] == "rfc822; sales@acme.example"
    assert per_recipient["Status"] == "5.1.1"
    [record] = sb.truth.probes
    assert record.company_id is None
    assert record.rcpt_tos == ("sales@acme.example",)


@async_test
async def test_mail_with_a_null_sender_is_never_bounced():
    sink = await Sink().start()
    async with Sandbox(
        [company("acme"), company("gone", "bounce")], default_route=sink.route, time_scale=SCALE
    ) as sb:
        host, port = sb.relay
        for to in ("sales@acme.example", "support@gone.example"):
            probe = make_probe(to)
            await aiosmtplib.send(
                probe.message, sender="", recipients=[to], hostname=host, port=port, start_tls=False
            )
        await asyncio.sleep(10 / SCALE)
        assert sb.pending == 0
    await sink.stop()
    assert sink.messages == []
    assert len(sb.truth.probes) == 2
    assert all(p.mail_from == "" for p in sb.truth.probes)
    assert sb.truth.replies == []


@async_test
async def test_recipients_neither_at_a_company_nor_routed_are_refused_at_rcpt():
    async with Sandbox([company("acme")], routes={}, time_scale=SCALE) as sb:
        probe = make_probe("someone@elsewhere.example")
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await submit(sb, probe)
        assert refused.value.recipients[0].code == 550
        # a company recipient in the same transaction is still accepted, the stranger refused
        probe2 = make_probe("support@acme.example")
        host, port = sb.relay
        errors, _ = await aiosmtplib.send(
            probe2.message,
            sender=probe2.mail_from,
            recipients=["support@acme.example", "x@elsewhere.example"],
            hostname=host,
            port=port,
            start_tls=False,
        )
        assert errors["x@elsewhere.example"].code == 550
    assert [p.token for p in sb.truth.probes] == [probe2.token]
    assert sb.truth.received_count(probe.token) == 0


@async_test
async def test_mail_for_a_routed_domain_is_relayed_to_its_route():
    sink = await Sink().start()
    async with Sandbox([company("acme", "never")], routes={PROBE_DOMAIN: sink.route}, time_scale=SCALE) as sb:
        probe = make_probe("support@acme.example")
        copy = f"anna+{probe.token}.sent@{PROBE_DOMAIN}"
        await submit(sb, probe, extra_rcpts=[copy])
        await wait_until(lambda: len(sink.messages) == 1)
    await sink.stop()
    [relayed] = sink.messages
    assert relayed.rcpt_tos == [copy]
    assert relayed.mail_from == probe.mail_from
    assert relayed.message["Message-ID"] == probe.message_id
    [delivery] = sb.truth.deliveries
    assert delivery.status == "delivered"
    assert delivery.message_id == probe.message_id
    assert sb.truth.probes[0].rcpt_tos == ("support@acme.example",)


@async_test
async def test_replies_queue_while_the_route_is_down_and_arrive_once_when_it_is_back():
    sink = await Sink().start()
    route = sink.route
    await sink.stop()  # the inbound server "crashes"; nothing listens on its port now
    async with Sandbox(
        [company("acme")], routes={PROBE_DOMAIN: route}, time_scale=SCALE, retry_interval=0.05
    ) as sb:
        probe = make_probe("support@acme.example")
        await submit(sb, probe)
        await wait_until(lambda: sum(d.attempts >= 3 for d in sb.truth.deliveries) == 2)
        assert all(r.status == "sent" and r.delivered_at is None for r in sb.truth.replies)
        assert "Connect call failed" in (sb.truth.deliveries[0].last_error or "")

        back = Sink(port=route.port)
        await back.start()
        restarted = utcnow()
        await wait_until(delivered(sb, probe.token, 2))
        await asyncio.sleep(0.3)  # more retry intervals: nothing may arrive twice
        await back.stop()
    assert sorted(str(m.message["Message-ID"]) for m in back.messages) == sorted(
        r.message_id for r in sb.truth.replies
    )
    assert len(back.messages) == 2
    assert all(r.delivered_at >= restarted for r in sb.truth.replies)
    assert all(d.status == "delivered" for d in sb.truth.deliveries)
    assert sb.truth.received_count(probe.token) == 1


@async_test
async def test_lmtp_route():
    sink = await Sink(protocol="lmtp").start()
    async with Sandbox([company("acme")], routes={PROBE_DOMAIN: sink.route}, time_scale=SCALE) as sb:
        probe = make_probe("support@acme.example")
        await submit(sb, probe)
        await wait_until(delivered(sb, probe.token, 2))
    await sink.stop()
    assert len(sink.messages) == 2
    assert all(d.route.startswith("lmtp://") for d in sb.truth.deliveries)


def _closed_now_hours() -> BusinessHours:
    start = (datetime.now(UTC).hour + 3) % 24
    interval = [f"{start:02d}:00-{start + 1:02d}:00"]
    days = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), interval)
    return BusinessHours(holidays=False, **days)


@async_test
async def test_business_hours_company_closed_now_answers_at_the_next_opening():
    target = company("office", "business_hours", hours=_closed_now_hours())
    clock = BusinessClock.for_target(target)
    assert not clock.is_open(utcnow())
    sink = await Sink().start()
    async with Sandbox([target], default_route=sink.route, time_scale=SCALE) as sb:
        probe = make_probe("support@office.example")
        await submit(sb, probe)
        await wait_until(delivered(sb, probe.token, 1))
        await asyncio.sleep(10 / SCALE)
        received = sb.truth.probes[0].received_at
        replies = {r.kind: r for r in sb.truth.replies_for(probe.token)}
        # the acknowledgement goes out at once; the person only once the office has opened
        assert replies["ack"].status == "delivered"
        human = replies["human"]
        assert human.status == "planned"
        opening = clock.next_open(received)
        assert opening is not None
        assert opening > received + timedelta(hours=1)
        assert human.planned_at == clock.add_business_time(received, human.delay)
        assert opening < human.planned_at < opening + timedelta(seconds=1)
        stop_started = time.monotonic()
    assert time.monotonic() - stop_started < 1.0  # stop() cancels the waiting reply promptly
    await sink.stop()
    assert len(sink.messages) == 1
    assert sb.truth.reply(human.message_id).status == "cancelled"


@async_test
async def test_business_hours_company_open_now_answers_at_once():
    hours = BusinessHours(
        holidays=False, **{key: ["00:00-24:00"] for key in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    )
    sink = await Sink().start()
    async with Sandbox(
        [company("allday", "business_hours", hours=hours)], default_route=sink.route, time_scale=SCALE
    ) as sb:
        probe = make_probe("support@allday.example")
        await submit(sb, probe)
        await wait_until(delivered(sb, probe.token, 2))
    await sink.stop()
    assert kinds(sb, probe.token) == ["ack", "human"]


@async_test
async def test_some_companies_send_human_replies_with_bulk_headers():
    companies = [company(f"shop{i}") for i in range(10)]
    sink = await Sink().start()
    async with Sandbox(companies, default_route=sink.route, time_scale=SCALE, seed=11) as sb:
        bulk = {c.id: sb.desk(c.id).bulk_headers for c in companies}
        assert any(bulk.values())
        assert not all(bulk.values())
        probes = [make_probe(f"support@{c.id}.example") for c in companies]
        await asyncio.gather(*(submit(sb, p) for p in probes))
        await wait_until(lambda: all(delivered(sb, p.token, 2)() for p in probes), timeout=10)
    await sink.stop()
    humans = [m.message for m in sink.messages if m.message["Subject"].startswith("Re:")]
    assert len(humans) == 10
    for msg in humans:
        cid = parseaddr(msg["From"])[1].split("@")[1].removesuffix(".example")
        assert (msg["Precedence"] == "bulk") == bulk[cid]
        assert (msg["List-Unsubscribe"] is not None) == bulk[cid]
        assert msg["Auto-Submitted"] is None  # bulk headers, yet written by a person


@async_test
async def test_automatic_mail_gets_no_automatic_answer():
    sink = await Sink().start()
    async with Sandbox([company("acme")], default_route=sink.route, time_scale=SCALE) as sb:
        probe = make_probe("support@acme.example", extra_headers={"Auto-Submitted": "auto-generated"})
        await submit(sb, probe)
        await wait_until(delivered(sb, probe.token, 1))
        await asyncio.sleep(5 / SCALE)
    await sink.stop()
    assert kinds(sb, probe.token) == ["human"]


async def _delays(seed: int) -> list[tuple[str, str, float]]:
    companies = [company("acme"), company("slowco", "slow"), company("away", "out_of_office")]
    async with Sandbox(companies, time_scale=1000.0, seed=seed) as sb:  # no route: replies are dropped
        for target in ("acme", "slowco", "away", "acme", "slowco"):
            await submit(sb, make_probe(f"support@{target}.example"))
        await wait_until(lambda: sb.pending == 0)
    return [(r.company_id, r.kind, r.delay) for r in sb.truth.replies]


@async_test
async def test_the_same_seed_gives_the_same_delays():
    first, again, other = await _delays(1), await _delays(1), await _delays(2)
    assert first == again
    assert len(first) >= 8
    assert [d for *_, d in first] != [d for *_, d in other]


@async_test
async def test_ground_truth_counts_receipts_and_dumps_to_json(tmp_path):
    sink = await Sink().start()
    async with Sandbox([company("acme", "never")], default_route=sink.route, time_scale=SCALE) as sb:
        once, twice = make_probe("support@acme.example"), make_probe("support@acme.example")
        await submit(sb, once)
        await submit(sb, twice)
        await submit(sb, twice)  # a re-send: exactly what crash tests must never see
    await sink.stop()
    assert sb.truth.received_count(once.token) == 1
    assert sb.truth.received_count(twice.token) == 2
    assert sb.truth.receipt_counts == {once.token: 1, twice.token: 2}
    path = sb.truth.dump(tmp_path / "truth" / "sandbox.json")
    data = json.loads(path.read_text())
    assert data["receipts"] == {once.token: 1, twice.token: 2}
    assert [p["token"] for p in data["probes"]] == [once.token, twice.token, twice.token]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["probes"][0]["received_at"])


@async_test
async def test_a_reply_to_an_unrouted_domain_is_recorded_as_unroutable():
    async with Sandbox([company("acme")], time_scale=SCALE) as sb:
        probe = make_probe("support@acme.example")
        await submit(sb, probe)
        await wait_until(lambda: sb.pending == 0 and len(sb.truth.replies) == 2)
    assert {r.status for r in sb.truth.replies} == {"unroutable"}


@async_test
async def test_stop_cancels_pending_replies_promptly():
    sb = Sandbox([company("slowco", "slow", human_probability=1.0)], time_scale=1.0)
    await sb.start()
    probe = make_probe("support@slowco.example")
    await submit(sb, probe)
    started = time.monotonic()
    await sb.stop()
    assert time.monotonic() - started < 0.5
    assert sb.pending == 0
    assert {r.status for r in sb.truth.replies} == {"cancelled"}
    with pytest.raises(RuntimeError):
        _ = sb.relay
