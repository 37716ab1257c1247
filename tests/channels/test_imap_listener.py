"""ImapListener against a real Dovecot: backlog, IDLE, dates, cursor, reconnects, UIDVALIDITY, cancel."""

from __future__ import annotations

import asyncio
import contextlib
import email
import logging
import math
import re
import statistics
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import imapclient
import pytest

from replybench.channels import imap_listener as mod
from replybench.channels.base import InboundItem
from replybench.channels.imap_listener import CLOCK, ImapAccount, ImapListener, to_utc
from replybench.errors import ChannelError
from replybench.models import ImapInbound

if TYPE_CHECKING:
    from tests.servers.dovecot import DovecotServer

# The `dovecot` fixture comes from tests/conftest.py: pytest_plugins = ["tests.servers.dovecot"].

pytestmark = [pytest.mark.timeout(60)]

USER, PASSWORD = "alice", "alice-secret"
FAST = {"reconnect_delay": 0.1, "idle_check": 0.5}


# --------------------------------------------------------------------------------------------- helpers


class MemoryCursor:
    """A CursorStore in a dict, recording every write."""

    def __init__(self) -> None:
        self.cursors: dict[str, tuple[int, int]] = {}
        self.writes: list[tuple[str, int, int]] = []

    def get_cursor(self, source: str) -> tuple[int, int] | None:
        return self.cursors.get(source)

    def set_cursor(self, source: str, uidvalidity: int, last_uid: int) -> None:
        self.writes.append((source, uidvalidity, last_uid))
        self.cursors[source] = (uidvalidity, last_uid)


class Collector:
    """An InboundSink that keeps every item with the wall-clock time it was observed."""

    def __init__(self, fail_on_uid: int | None = None) -> None:
        self.items: list[InboundItem] = []
        self.observed: list[float] = []
        self.fail_on_uid = fail_on_uid
        self._changed = asyncio.Condition()

    async def __call__(self, item: InboundItem) -> None:
        if item.uid == self.fail_on_uid:
            raise OSError("disk full")
        self.items.append(item)
        self.observed.append(time.time())
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        async def enough() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.items) >= count)

        try:
            await asyncio.wait_for(enough(), timeout)
        except TimeoutError:
            raise AssertionError(f"got {len(self.items)} of {count} items in {timeout} s") from None

    def message_ids(self) -> list[str]:
        return [email.message_from_bytes(i.raw)["Message-ID"] for i in self.items]

    def positions(self) -> list[tuple[int | None, int | None]]:
        return [(i.uidvalidity, i.uid) for i in self.items]


def account(server: DovecotServer, password: str = PASSWORD) -> ImapAccount:
    return ImapAccount(
        host=server.host, port=server.imap_port, security="none", username=USER, password=password
    )


def deliver(server: DovecotServer, n: int, tag: str) -> list[tuple[str, float, float]]:
    """Deliver n messages to alice+TOKEN; return (Message-ID, wall time before, wall time after) each."""
    out = []
    for i in range(n):
        mid = f"<{tag}-{i}@company.example>"
        rcpt = f"alice+{tag}{i}@example.test"
        before = time.time()
        server.deliver(rcpt, server.make_message(to=rcpt, subject=f"{tag} {i}", message_id=mid))
        out.append((mid, before, time.time()))
    return out


@contextlib.asynccontextmanager
async def running(listener: ImapListener, sink: Collector) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(listener.run(sink))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


async def idle_or_fail(listener: ImapListener, task: asyncio.Task[None], timeout: float = 10.0) -> None:
    waiter = asyncio.create_task(listener.wait_idle())
    done, _ = await asyncio.wait({waiter, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if waiter not in done:
        waiter.cancel()
        if task in done:
            task.result()  # raises the listener's error
        raise AssertionError("listener did not reach IDLE")


@pytest.fixture
def client_tz() -> Iterator[None]:
    """Run the test process in a zone that is neither UTC nor the server's (catches naive-local dates)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TZ", "XST+7")  # UTC-07:00, POSIX syntax
    time.tzset()
    try:
        yield
    finally:
        mp.undo()
        time.tzset()


# --------------------------------------------------------------------------------------------- unit


def test_account_hides_password_and_builds_source() -> None:
    acc = ImapAccount("imap.example.com", 993, "tls", "me@example.com", "hunter2", mailbox="Replies/2026")
    assert "hunter2" not in repr(acc)
    listener = ImapListener(acc, MemoryCursor())
    assert listener.source == "imap://me%40example.com@imap.example.com:993/Replies/2026"
    assert "hunter2" not in listener.source
    assert "hunter2" not in repr(listener)


def test_account_from_settings_reads_environment() -> None:
    settings = ImapInbound(host="imap.example.com", username_env="U", password_env="P")
    acc = ImapAccount.from_settings(settings, {"U": "me", "P": "pw"})
    assert (acc.username, acc.password, acc.port, acc.security, acc.idle_renew) == (
        "me",
        "pw",
        993,
        "tls",
        29 * 60,
    )
    with pytest.raises(ChannelError, match="P"):
        ImapAccount.from_settings(settings, {"U": "me"})


def test_to_utc_uses_the_offset_of_internaldate() -> None:
    local = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=5, minutes=45)))
    assert to_utc(local) == datetime(2026, 3, 3, 23, 21, 7, tzinfo=UTC)
    assert to_utc(local).utcoffset() == timedelta(0)


# --------------------------------------------------------------------------------------------- dovecot


@pytest.mark.dovecot
def test_backlog_then_idle_with_internaldate(dovecot: DovecotServer, client_tz: None) -> None:
    # Two replies arrive before we listen; one is APPENDed with a past INTERNALDATE in a third zone.
    backlog = deliver(dovecot, 2, "early")
    past = datetime(2021, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=2)))
    with imapclient.IMAPClient(dovecot.host, dovecot.imap_port, ssl=False) as c:
        c.login(USER, PASSWORD)
        c.append(
            "INBOX",
            dovecot.make_message(to="alice+old@example.test", message_id="<old@company.example>"),
            (),
            past,
        )
    time.sleep(1.1)  # so "noticed now" and "received then" cannot agree by accident

    live: list[tuple[str, float, float]] = []

    async def scenario() -> tuple[Collector, list[float]]:
        sink, cursor = Collector(), MemoryCursor()
        listener = ImapListener(account(dovecot), cursor, **FAST)
        async with running(listener, sink) as task:
            await sink.wait_for(3)
            await idle_or_fail(listener, task)
            latencies = []
            for k in range(3):
                (sent,) = await asyncio.to_thread(deliver, dovecot, 1, f"live{k}")
                live.append(sent)
                await sink.wait_for(4 + k, timeout=5)
                latencies.append(sink.observed[-1] - sent[2])
                await idle_or_fail(listener, task)
        assert cursor.cursors[listener.source][1] == 6
        return sink, latencies

    sink, latencies = asyncio.run(scenario())
    print(f"IDLE latency (delivery done -> sink): {[round(x, 3) for x in latencies]}")
    assert statistics.median(latencies) < 1.5

    assert [i.uid for i in sink.items] == [1, 2, 3, 4, 5, 6]
    assert sink.message_ids()[:3] == [
        "<early-0@company.example>",
        "<early-1@company.example>",
        "<old@company.example>",
    ]
    assert len({i.uidvalidity for i in sink.items}) == 1
    for item in sink.items:
        assert (item.channel, item.clock) == ("email", CLOCK)
        assert item.source == f"imap://alice@127.0.0.1:{dovecot.imap_port}/INBOX"
        assert item.received_at.utcoffset() == timedelta(0)
        assert item.received_at.microsecond == 0  # INTERNALDATE has whole seconds
    # The APPENDed message keeps its own INTERNALDATE, converted to UTC exactly.
    assert sink.items[2].received_at == datetime(2021, 3, 4, 3, 6, 7, tzinfo=UTC)
    # LMTP deliveries: INTERNALDATE is the delivery second, not the moment we noticed.
    for item, (_, before, after) in zip(sink.items[:2] + sink.items[3:], backlog + live, strict=True):
        ts = item.received_at.timestamp()
        assert math.floor(before) <= ts <= after, (item.received_at, before, after)
    for item, observed in zip(sink.items, sink.observed, strict=True):
        assert item.received_at.timestamp() <= observed
    assert all(sink.observed[0] - i.received_at.timestamp() >= 1 for i in sink.items[:2])
    # Reading is invisible to the mailbox's owner: BODY.PEEK[] leaves every message unread.
    with imapclient.IMAPClient(dovecot.host, dovecot.imap_port, ssl=False) as c:
        c.login(USER, PASSWORD)
        c.select_folder("INBOX", readonly=True)
        assert c.search(["SEEN"]) == []
    delivered_to = [email.message_from_bytes(i.raw)["Delivered-To"] for i in sink.items]
    assert delivered_to[0] == "alice+early0@example.test"
    assert delivered_to[3:] == [
        "alice+live00@example.test",
        "alice+live10@example.test",
        "alice+live20@example.test",
    ]


@pytest.mark.dovecot
def test_restart_with_stored_cursor_has_no_duplicates_or_gaps(
    dovecot: DovecotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mod, "FETCH_BATCH", 3)  # exercise several FETCH batches
    cursor = MemoryCursor()
    sinks = [Collector(), Collector()]

    async def scenario() -> None:
        deliver(dovecot, 4, "a")
        first = ImapListener(account(dovecot), cursor, **FAST)
        async with running(first, sinks[0]) as task:
            await sinks[0].wait_for(4)
            await idle_or_fail(first, task)
            await asyncio.to_thread(deliver, dovecot, 1, "b")
            await sinks[0].wait_for(5)
        await asyncio.to_thread(deliver, dovecot, 7, "c")  # while nobody listens
        second = ImapListener(account(dovecot), cursor, **FAST)
        async with running(second, sinks[1]) as task:
            await sinks[1].wait_for(7)
            await idle_or_fail(second, task)
            await asyncio.sleep(0.3)

    asyncio.run(scenario())
    assert [i.uid for i in sinks[0].items] == [1, 2, 3, 4, 5]
    assert [i.uid for i in sinks[1].items] == list(range(6, 13))
    assert sinks[1].message_ids() == [f"<c-{i}@company.example>" for i in range(7)]
    source = f"imap://alice@127.0.0.1:{dovecot.imap_port}/INBOX"
    assert cursor.cursors[source][1] == 12
    uids_written = [w[2] for w in cursor.writes]
    assert uids_written == sorted(uids_written)  # the cursor only moves forward


@pytest.mark.dovecot
def test_connection_dropped_during_idle_loses_nothing(
    dovecot: DovecotServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # imapclient's protocol log too: the password must appear nowhere
    sink, cursor = Collector(), MemoryCursor()
    expected: list[str] = []

    async def scenario() -> None:
        expected.extend(m for m, _, _ in deliver(dovecot, 3, "before"))
        listener = ImapListener(account(dovecot), cursor, reconnect_delay=0.3, idle_check=0.5)
        async with running(listener, sink) as task:
            await sink.wait_for(3)
            for round_ in range(2):
                await idle_or_fail(listener, task)
                expected.extend(
                    m for m, _, _ in await asyncio.to_thread(deliver, dovecot, 1, f"idle{round_}-")
                )

                def kick_and_deliver(r: int = round_) -> list[tuple[str, float, float]]:
                    dovecot.kick(USER)
                    return deliver(dovecot, 3, f"during{r}-")  # the listener is disconnected now

                expected.extend(m for m, _, _ in await asyncio.to_thread(kick_and_deliver))
                await sink.wait_for(len(expected))
            await idle_or_fail(listener, task)
            expected.extend(m for m, _, _ in await asyncio.to_thread(deliver, dovecot, 2, "after"))
            await sink.wait_for(len(expected))
            await idle_or_fail(listener, task)
            await asyncio.sleep(0.3)  # anything extra would show up now

    asyncio.run(scenario())
    assert sink.message_ids() == expected  # each exactly once, in delivery order
    assert [i.uid for i in sink.items] == list(range(1, len(expected) + 1))
    lost = [r for r in caplog.records if "connection lost" in r.getMessage()]
    assert len(lost) >= 2, "the kicks must have been noticed"
    assert any("LOGIN" in r.getMessage() for r in caplog.records)
    assert PASSWORD not in caplog.text


@pytest.mark.dovecot
def test_burst_during_startup_is_complete(dovecot: DovecotServer) -> None:
    """Deliveries racing the first SEARCH/FETCH/IDLE must neither be lost nor wait for the next IDLE renew."""
    sink, cursor = Collector(), MemoryCursor()

    async def scenario() -> None:
        listener = ImapListener(account(dovecot), cursor, **FAST)
        burst = threading.Thread(target=deliver, args=(dovecot, 40, "burst"))
        async with running(listener, sink):
            burst.start()
            await asyncio.to_thread(burst.join)
            await sink.wait_for(40, timeout=5)

    asyncio.run(scenario())
    assert [i.uid for i in sink.items] == list(range(1, 41))


@pytest.mark.dovecot
def test_connection_ending_without_bye_is_noticed(dovecot: DovecotServer) -> None:
    """A dead connection (process killed, no BYE) during IDLE leads to a reconnect, not a silent stall."""
    sink = Collector()

    async def scenario() -> None:
        listener = ImapListener(account(dovecot), MemoryCursor(), **FAST)
        async with running(listener, sink) as task:
            await idle_or_fail(listener, task)
            assert await asyncio.to_thread(dovecot.crash_imap, USER) == 1
            await asyncio.to_thread(deliver, dovecot, 2, "after-crash")
            await sink.wait_for(2, timeout=5)

    asyncio.run(scenario())
    assert [i.uid for i in sink.items] == [1, 2]


@pytest.mark.dovecot
def test_mail_arriving_while_the_sink_works_is_not_left_waiting(dovecot: DovecotServer) -> None:
    """Dovecot reports it (EXISTS) in the next SEARCH response, not in the SEARCH result, and never again."""
    deliver(dovecot, 1, "first")

    class DeliveringSink(Collector):
        async def __call__(self, item: InboundItem) -> None:
            await super().__call__(item)
            if len(self.items) == 1:  # a reply lands while we are still storing the first one
                await asyncio.to_thread(deliver, dovecot, 1, "meanwhile")

    sink = DeliveringSink()

    async def scenario() -> float:
        listener = ImapListener(account(dovecot), MemoryCursor(), **FAST)
        async with running(listener, sink):
            await sink.wait_for(2, timeout=3)
        return sink.observed[1] - sink.observed[0]

    gap = asyncio.run(scenario())
    assert sink.message_ids() == ["<first-0@company.example>", "<meanwhile-0@company.example>"]
    assert gap < 1.0  # found by the sync itself, without waiting for an IDLE notification


@pytest.mark.dovecot
def test_uidvalidity_change_resyncs(dovecot: DovecotServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="replybench.channels.imap_listener")
    sink, cursor = Collector(), MemoryCursor()

    async def scenario() -> None:
        deliver(dovecot, 2, "v1-")
        listener = ImapListener(account(dovecot), cursor, reconnect_delay=0.2, idle_check=0.5)
        async with running(listener, sink) as task:
            await sink.wait_for(2)
            await idle_or_fail(listener, task)
            await asyncio.to_thread(dovecot.reset_uidvalidity, USER)  # stop, drop uidlist, start
            await asyncio.to_thread(deliver, dovecot, 1, "v2-")
            await sink.wait_for(5)
            await idle_or_fail(listener, task)

    asyncio.run(scenario())
    first_uv, second_uv = sink.items[0].uidvalidity, sink.items[2].uidvalidity
    assert first_uv != second_uv
    assert sink.positions() == [(first_uv, 1), (first_uv, 2), (second_uv, 1), (second_uv, 2), (second_uv, 3)]
    # Under the new UIDVALIDITY the whole mailbox comes again (the store de-duplicates by Message-ID);
    # Dovecot renumbers in its own order, so compare as sets.
    assert sorted(sink.message_ids()[2:]) == [
        "<v1--0@company.example>",
        "<v1--1@company.example>",
        "<v2--0@company.example>",
    ]
    assert second_uv is not None
    assert next(iter(cursor.cursors.values())) == (second_uv, 3)
    assert any("UIDVALIDITY changed" in r.getMessage() for r in caplog.records)


@pytest.mark.dovecot
def test_cancellation_is_prompt_and_logs_out(dovecot: DovecotServer) -> None:
    idle_check = 2.0

    async def scenario() -> float:
        listener = ImapListener(account(dovecot), MemoryCursor(), idle_check=idle_check)
        task = asyncio.create_task(listener.run(Collector()))
        await idle_or_fail(listener, task)
        await asyncio.sleep(0.2)  # inside an IDLE wait of up to idle_check seconds
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        return time.monotonic() - started

    elapsed = asyncio.run(scenario())
    print(f"cancellation took {elapsed:.3f} s (idle_check {idle_check} s)")
    assert elapsed <= idle_check + 0.5
    # A clean LOGOUT, not a dropped connection (Dovecot logs the session end a moment later).
    deadline = time.monotonic() + 3
    while not re.search(r"imap\(alice\).*Disconnected: Logged out", dovecot.log_text()):
        assert time.monotonic() < deadline, dovecot.log_text()[-2000:]
        time.sleep(0.05)


@pytest.mark.dovecot
def test_sink_failure_stops_run_and_keeps_the_cursor(dovecot: DovecotServer) -> None:
    cursor = MemoryCursor()
    deliver(dovecot, 4, "m")

    async def scenario() -> Collector:
        failing = Collector(fail_on_uid=3)
        with pytest.raises(OSError, match="disk full"):
            await asyncio.wait_for(ImapListener(account(dovecot), cursor, **FAST).run(failing), 10)
        assert [i.uid for i in failing.items] == [1, 2]
        assert next(iter(cursor.cursors.values()))[1] == 2
        retry = Collector()
        listener = ImapListener(account(dovecot), cursor, **FAST)
        async with running(listener, retry):
            await retry.wait_for(2)
        return retry

    retry = asyncio.run(scenario())
    assert [i.uid for i in retry.items] == [3, 4]


@pytest.mark.dovecot
def test_rejected_login_is_a_channel_error(dovecot: DovecotServer) -> None:
    async def scenario() -> None:
        listener = ImapListener(account(dovecot, password="wrong"), MemoryCursor(), **FAST)
        with pytest.raises(ChannelError, match="login refused") as info:
            await asyncio.wait_for(listener.run(Collector()), 10)
        assert "wrong" not in str(info.value)

    asyncio.run(scenario())


@pytest.mark.dovecot
def test_reconnects_after_server_outage(dovecot: DovecotServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="replybench.channels.imap_listener")
    sink = Collector()

    async def scenario() -> None:
        listener = ImapListener(account(dovecot), MemoryCursor(), reconnect_delay=0.1, idle_check=0.5)
        async with running(listener, sink) as task:
            await idle_or_fail(listener, task)
            await asyncio.to_thread(dovecot.stop)
            await asyncio.sleep(0.8)  # several refused attempts with growing delays
            await asyncio.to_thread(dovecot.start)
            await asyncio.to_thread(deliver, dovecot, 1, "back")
            await sink.wait_for(1, timeout=5)

    asyncio.run(scenario())
    delays = [r.args[-1] for r in caplog.records if "connection lost" in r.getMessage()]
    assert len(delays) >= 2
    assert delays[1] > delays[0]  # backoff grows while the server is down
