"""The built-in inbound SMTP server, exercised with a real aiosmtplib client on a free loopback port."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

import aiosmtplib
import pytest

from replybench.channels.base import InboundItem
from replybench.channels.smtp_inbound import TEMPORARY_FAILURE, InboundSmtpServer
from tests.asynctest import async_test

P = ParamSpec("P")
R = TypeVar("R")


class Store:
    """A sink that keeps what it is given (and can be told to fail or block)."""

    def __init__(self) -> None:
        self.items: list[InboundItem] = []
        self.fail_next = 0
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()

    async def __call__(self, item: InboundItem) -> None:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_next:
            self.fail_next -= 1
            raise OSError("disk full")
        self.items.append(item)


MESSAGE = (
    b"From: Help Desk <help@acme.example>\r\n"
    b"To: anna+abcdefghjk23@probe.example\r\n"
    b"Subject: Re: Question\r\n"
    b"Message-ID: <reply-1@acme.example>\r\n"
    b"\r\n"
    b"Thanks for asking.\r\n"
)


async def send(port: int, data: bytes, *, sender: str = "help@acme.example", to: str | None = None) -> Any:
    return await aiosmtplib.send(
        data,
        sender=sender,
        recipients=[to or "anna+abcdefghjk23@probe.example"],
        hostname="127.0.0.1",
        port=port,
        start_tls=False,
        timeout=10,
    )


async def transaction(port: int, sender: str, recipients: list[str], data: bytes) -> aiosmtplib.SMTPResponse:
    """One transaction in explicit steps (no SIZE option, so limits are enforced at DATA)."""
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=10)
    async with client:
        await client.ehlo()
        await client.mail(sender)
        for rcpt in recipients:
            await client.rcpt(rcpt)
        return await client.data(data)


# ------------------------------------------------------------------------------------------ basics


@async_test
async def test_message_is_stored_with_envelope_and_receipt_time() -> None:
    store = Store()
    async with InboundSmtpServer(store) as server:
        assert server.port > 0
        before = datetime.now(UTC)
        _, reply = await send(server.port, MESSAGE)
        after = datetime.now(UTC)
    assert reply.startswith("OK")
    (item,) = store.items
    assert item.channel == "email"
    assert item.raw == MESSAGE
    assert item.clock == "smtp-receipt"
    assert item.source == f"smtp://127.0.0.1:{server.port}"
    assert item.envelope_from == "help@acme.example"
    assert item.envelope_to == ("anna+abcdefghjk23@probe.example",)
    assert item.received_at.utcoffset() == timedelta(0)
    assert item.received_at.microsecond % 1000 == 0
    # Millisecond truncation may put the stamp up to 1 ms before the client's own "before".
    assert before - timedelta(milliseconds=1) <= item.received_at <= after
    # a few ms on an idle machine; generous so a loaded CI runner does not flake
    assert after - item.received_at < timedelta(milliseconds=100)


@async_test
async def test_receipt_time_is_taken_when_the_data_ends() -> None:
    store = Store()
    async with InboundSmtpServer(store) as server:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=server.port, start_tls=False, timeout=10)
        await client.connect()
        await client.ehlo()
        await client.mail("help@acme.example")
        await client.rcpt("anna@probe.example")
        await asyncio.sleep(0.3)  # a slow client: the clock must not start at MAIL or RCPT
        sent = datetime.now(UTC)
        await client.data(MESSAGE)
        answered = datetime.now(UTC)
        await client.quit()
    (item,) = store.items
    assert sent - timedelta(milliseconds=1) <= item.received_at <= answered
    assert item.received_at - sent < timedelta(milliseconds=100)


@async_test
async def test_port_and_source() -> None:
    server = InboundSmtpServer(Store(), port=0, source="smtp://mx.probe.example")
    assert server.port == 0
    await server.start()
    try:
        assert server.port != 0
        assert server.is_serving
        assert server.source == "smtp://mx.probe.example"
        with pytest.raises(RuntimeError):
            await server.start()
    finally:
        await server.stop()
    assert not server.is_serving
    await server.stop()  # idempotent


# ------------------------------------------------------------------------------------------ durability


@async_test
async def test_sink_is_awaited_before_250() -> None:
    store = Store()
    store.gate = asyncio.Event()
    async with InboundSmtpServer(store) as server:
        client = asyncio.create_task(send(server.port, MESSAGE))
        await asyncio.wait_for(store.entered.wait(), 5)
        await asyncio.sleep(0.2)
        assert not client.done(), "the client got an answer before the sink had stored the message"
        assert store.items == []
        store.gate.set()
        _, reply = await client
    assert reply.startswith("OK")
    assert len(store.items) == 1


@async_test
async def test_sink_failure_answers_451_and_the_retry_is_stored_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store()
    store.fail_next = 1
    async with InboundSmtpServer(store) as server:
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await send(server.port, MESSAGE)
        assert refused.value.code == 451
        assert f"{refused.value.code} {refused.value.message}" == TEMPORARY_FAILURE
        assert store.items == []
        _, reply = await send(server.port, MESSAGE)  # the sending MTA retries
    assert reply.startswith("OK")
    assert [i.raw for i in store.items] == [MESSAGE]
    assert any("451" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


@async_test
async def test_stop_waits_for_a_message_being_stored() -> None:
    store = Store()
    store.gate = asyncio.Event()
    server = InboundSmtpServer(store)
    await server.start()
    client = asyncio.create_task(send(server.port, MESSAGE))
    await asyncio.wait_for(store.entered.wait(), 5)
    stopping = asyncio.create_task(server.stop())
    await asyncio.sleep(0.1)
    assert not stopping.done()
    store.gate.set()
    await stopping
    _, reply = await client
    assert reply.startswith("OK")
    assert len(store.items) == 1


@async_test
async def test_stop_ends_idle_sessions_promptly() -> None:
    server = InboundSmtpServer(Store())
    await server.start()
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=server.port, start_tls=False, timeout=10)
    await client.connect()
    await client.ehlo()
    await asyncio.wait_for(server.stop(), 2)
    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        await client.noop()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", server.port)


@async_test
async def test_serve_forever_runs_until_cancelled() -> None:
    store = Store()
    server = InboundSmtpServer(store)
    task = asyncio.create_task(server.serve_forever())
    for _ in range(100):
        if server.is_serving:
            break
        await asyncio.sleep(0.01)
    port = server.port
    await send(port, MESSAGE)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not server.is_serving
    assert len(store.items) == 1


# ------------------------------------------------------------------------------------------ malformed


def _garbage(size: int) -> bytes:
    """Random bytes (NULs and 8-bit included) in CRLF lines, some starting with a dot."""
    body = os.urandom(size).replace(b"\r", b"").replace(b"\n", b"")
    lines = [body[i : i + 70] for i in range(0, len(body), 70)]
    lines[1::7] = [b"." + line for line in lines[1::7]]
    lines.append(b".")
    return b"\r\n".join(lines) + b"\r\n"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(_garbage(4000), id="garbage"),
        pytest.param("Grüße, ein Mensch – ☃ 日本語\r\n".encode() * 3, id="8bit-no-headers"),
        pytest.param(
            b"Subject: no blank line and no end\r\nX-Broken header\r\n\x00\xff\xfe\r\n", id="broken-headers"
        ),
        pytest.param(b"\r\n", id="empty"),
        pytest.param(b"Subject: long\r\n\r\n" + b"y" * 5000 + b"\r\n", id="overlong-line"),
    ],
)
@async_test
async def test_malformed_messages_are_stored_raw(raw: bytes) -> None:
    store = Store()
    async with InboundSmtpServer(store) as server:
        await send(server.port, raw)
        # and the server still works afterwards
        await send(server.port, MESSAGE)
    assert [i.raw for i in store.items] == [raw, MESSAGE]


@async_test
async def test_null_sender_and_multiple_recipients() -> None:
    store = Store()
    async with InboundSmtpServer(store) as server:
        await transaction(server.port, "", ["a+abcdefghjk23@probe.example", "b@probe.example"], MESSAGE)
    (item,) = store.items
    assert item.envelope_from == ""
    assert item.envelope_to == ("a+abcdefghjk23@probe.example", "b@probe.example")


@async_test
async def test_oversized_message_is_refused_without_reaching_the_sink() -> None:
    store = Store()
    async with InboundSmtpServer(store, data_size_limit=1000) as server:
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await transaction(
                server.port, "x@y.example", ["a@probe.example"], MESSAGE + b"z" * 2000 + b"\r\n"
            )
        assert refused.value.code == 552
        await send(server.port, MESSAGE)
    assert [i.raw for i in store.items] == [MESSAGE]


@async_test
async def test_recipient_filter() -> None:
    store = Store()
    async with InboundSmtpServer(store, accept_recipient=lambda a: a.endswith("@probe.example")) as server:
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
            await send(server.port, MESSAGE, to="someone@elsewhere.example")
        await send(server.port, MESSAGE)
    assert len(store.items) == 1


# ------------------------------------------------------------------------------------------ concurrency


@async_test
async def test_concurrent_clients_are_all_stored() -> None:
    store = Store()

    async def client(n: int, server: InboundSmtpServer) -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=server.port, start_tls=False, timeout=10)
        async with smtp:
            for k in range(3):
                msg = MESSAGE.replace(b"reply-1@", f"reply-{n}-{k}@".encode())
                await smtp.sendmail("help@acme.example", [f"u{n}@probe.example"], msg)

    async with InboundSmtpServer(store) as server:
        await asyncio.gather(*(client(n, server) for n in range(20)))
    assert len(store.items) == 60
    assert len({i.raw for i in store.items}) == 60
    assert {i.envelope_to for i in store.items} == {(f"u{n}@probe.example",) for n in range(20)}


@async_test
async def test_sink_runs_on_the_callers_loop() -> None:
    loop = asyncio.get_running_loop()
    seen: list[asyncio.AbstractEventLoop] = []

    async def sink(item: InboundItem) -> None:
        seen.append(asyncio.get_running_loop())

    async with InboundSmtpServer(sink) as server:
        await send(server.port, MESSAGE)
    assert seen == [loop]


def test_binding_a_taken_port_fails() -> None:
    async def main() -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            server = InboundSmtpServer(Store(), port=taken.getsockname()[1])
            with pytest.raises(OSError, match="in use"):
                await server.start()
            assert not server.is_serving

    asyncio.run(main())
