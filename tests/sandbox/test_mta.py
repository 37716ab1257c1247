"""Delivery to routes: SMTP and LMTP answers per recipient, retries, permanent failures, expiry."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from typing import Any

from replybench.sandbox import GroundTruth, Route, Sandbox
from replybench.sandbox.mta import Mta, deliver_lmtp, deliver_smtp
from tests.asynctest import async_test
from tests.sandbox.helpers import PROBE_DOMAIN, Sink, company, make_probe, submit, wait_until


def _message(body: str = "hello\n") -> bytes:
    msg = EmailMessage()
    msg["From"] = "support@acme.example"
    msg["To"] = f"anna@{PROBE_DOMAIN}"
    msg["Subject"] = "test"
    msg["Message-ID"] = "<m1@acme.example>"
    msg.set_content(body)
    return msg.as_bytes()


class FlakyLmtpSink(Sink):
    """LMTP sink that answers DATA per recipient: ``full`` mailboxes get 452 until ``full`` is emptied."""

    def __init__(self) -> None:
        super().__init__(protocol="lmtp")
        self.full: set[str] = set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answers = []
        for rcpt in envelope.rcpt_tos:
            if rcpt in self.full:
                answers.append("452 4.2.2 Mailbox full")
            else:
                self.messages.append(_delivered(envelope, rcpt))
                answers.append("250 2.0.0 Ok")
        return "\r\n".join(answers)


def _delivered(envelope: Any, rcpt: str):
    from replybench.timefmt import utcnow
    from tests.sandbox.helpers import Delivered

    return Delivered(envelope.mail_from, [rcpt], bytes(envelope.original_content), utcnow())


@async_test
async def test_lmtp_gives_each_recipient_its_own_answer_and_keeps_dot_lines_intact():
    sink = FlakyLmtpSink()
    await sink.start()
    sink.reject = lambda rcpt: "550 5.1.1 No such user" if rcpt.startswith("nobody@") else None
    sink.full = {f"full@{PROBE_DOMAIN}"}
    rcpts = [f"a@{PROBE_DOMAIN}", f"nobody@{PROBE_DOMAIN}", f"full@{PROBE_DOMAIN}"]
    data = _message(".leading dot\n..two dots\n")
    results = await deliver_lmtp(sink.route, "support@acme.example", rcpts, data, time_limit=5, hostname="t")
    await sink.stop()
    assert {r: code for r, (code, _, _) in results.items()} == {rcpts[0]: 250, rcpts[1]: 550, rcpts[2]: 452}
    [got] = sink.messages
    assert b"\n.leading dot\n..two dots\n" in got.data.replace(b"\r\n", b"\n")


@async_test
async def test_smtp_reports_refused_recipients_per_address():
    sink = await Sink().start()
    sink.reject = lambda rcpt: "550 5.1.1 No such user" if rcpt.startswith("nobody@") else None
    rcpts = [f"a@{PROBE_DOMAIN}", f"nobody@{PROBE_DOMAIN}"]
    results = await deliver_smtp(sink.route, "", rcpts, _message(), time_limit=5, hostname="t")
    await sink.stop()
    assert results[rcpts[0]][0] == 250
    assert results[rcpts[1]][0] == 550
    assert sink.messages[0].mail_from == ""


@async_test
async def test_a_temporary_failure_is_retried_only_for_the_recipients_that_failed():
    sink = FlakyLmtpSink()
    await sink.start()
    full = f"full@{PROBE_DOMAIN}"
    sink.full = {full}
    truth = GroundTruth()
    mta = Mta(truth, lambda domain: sink.route, retry_interval=0.05)
    mta.submit(
        "support@acme.example", [f"a@{PROBE_DOMAIN}", full], _message(), message_id="<m1@acme.example>"
    )
    await wait_until(lambda: truth.deliveries[0].attempts >= 3)
    assert [m.rcpt_tos for m in sink.messages] == [[f"a@{PROBE_DOMAIN}"]]
    sink.full.clear()
    await wait_until(lambda: truth.deliveries[0].status == "delivered")
    await mta.close()
    await sink.stop()
    assert [m.rcpt_tos for m in sink.messages] == [[f"a@{PROBE_DOMAIN}"], [full]]


@async_test
async def test_a_permanent_failure_is_not_retried_and_marks_the_reply_failed():
    sink = await Sink().start()
    sink.data_status = "554 5.7.1 Rejected as spam"
    async with Sandbox([company("acme")], default_route=sink.route, time_scale=50, retry_interval=0.02) as sb:
        probe = make_probe("support@acme.example")
        await submit(sb, probe)
        await wait_until(lambda: len(sb.truth.deliveries) == 2 and sb.pending == 0)
    await sink.stop()
    assert [(d.status, d.attempts) for d in sb.truth.deliveries] == [("failed", 1), ("failed", 1)]
    assert all(d.last_error.startswith("554") for d in sb.truth.deliveries)
    assert {r.status for r in sb.truth.replies} == {"failed"}


@async_test
async def test_a_message_older_than_max_queue_age_expires():
    sink = await Sink().start()
    route = sink.route
    await sink.stop()
    truth = GroundTruth()
    mta = Mta(truth, lambda domain: route, retry_interval=0.05, max_queue_age=0.3)
    mta.submit("support@acme.example", [f"a@{PROBE_DOMAIN}"], _message(), message_id=None)
    await wait_until(lambda: mta.pending == 0)
    [delivery] = truth.deliveries
    assert delivery.status == "expired"
    assert 3 <= delivery.attempts <= 8


@async_test
async def test_set_route_redirects_mail_still_in_the_queue():
    dead = await Sink().start()
    dead_route = dead.route
    await dead.stop()
    live = await Sink().start()
    async with Sandbox(
        [company("acme", "ack_only")], routes={PROBE_DOMAIN: dead_route}, time_scale=50, retry_interval=0.05
    ) as sb:
        probe = make_probe("support@acme.example")
        await submit(sb, probe)
        await wait_until(lambda: sb.truth.deliveries and sb.truth.deliveries[0].attempts >= 2)
        sb.set_route(PROBE_DOMAIN.upper(), live.route)
        await wait_until(lambda: sb.truth.replies[0].status == "delivered")
        assert sb.truth.deliveries[0].route == str(live.route)
        assert sb.truth.deliveries[0].last_error.startswith("ConnectionError")
    await live.stop()
    assert len(live.messages) == 1


@async_test
async def test_unknown_domains_have_no_route_and_company_domains_are_never_routed():
    sink = await Sink().start()
    sb = Sandbox([company("acme")], routes={"Probe.Example": sink.route}, default_route=None)
    assert sb.route_for(PROBE_DOMAIN) == sink.route
    assert sb.route_for("elsewhere.example") is None
    assert sb.accepts("support@acme.example")
    assert sb.accepts(f"x@{PROBE_DOMAIN}")
    assert not sb.accepts("x@elsewhere.example")
    assert not sb.accepts("no-at-sign")
    catch_all = Sandbox([company("acme")], default_route=Route("127.0.0.1", 1))
    assert catch_all.route_for("anything.example") == Route("127.0.0.1", 1)
    assert catch_all.route_for("acme.example") is None
    await sink.stop()
    await asyncio.sleep(0)
