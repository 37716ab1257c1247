"""Pathological mail through the real inbound SMTP server: stored whole, marked, and never a stalled listener.

Messages go over 127.0.0.1 with aiosmtplib into :class:`InboundSmtpServer`, whose sink is the engine's
:class:`Ingestor` (raw bytes stored first, then parsed on the event loop). Each pathological message must be
stored byte for byte and marked ``limited``; a normal reply sent right after must be accepted and processed
as usual. The server's own size limit (``DATA_SIZE_LIMIT``, 25 MB) refuses bigger messages with 552.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import aiosmtplib
import pytest

from replybench.channels.smtp_inbound import DATA_SIZE_LIMIT, InboundSmtpServer
from replybench.engine.ingest import Ingestor
from replybench.mailparse import LIMIT_DEPTH, LIMIT_HEADER, LIMIT_HEADERS, LIMIT_SIZE
from replybench.models import MessageClass
from replybench.store import open_store
from tests.asynctest import async_test

HEAD = "From: Help Desk <help@acme.example>\r\nTo: anna+k3m9x2p7qrtv@probe.example\r\n"


def deeply_nested() -> bytes:
    levels = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(10_000)
    )
    return (
        f"{HEAD}Subject: nested\r\nMessage-ID: <deep@acme.example>\r\n{levels}"
        "Content-Type: text/plain\r\n\r\nten thousand levels down\r\n"
    ).encode()


def huge_header() -> bytes:
    trace = "".join(
        f"Received: from relay{i}.example by mx.example; Tue, 4 Mar 2025\r\n" for i in range(5000)
    )
    folded = "Subject: " + "\r\n ".join(["words " * 150] * 4000)  # one 3.6 MB field in 900-byte lines
    return f"{trace}{HEAD}Message-ID: <header@acme.example>\r\n{folded}\r\n\r\nbody\r\n".encode()


def twelve_megabytes() -> bytes:
    line = "We are looking into it and will get back to you shortly. " * 15 + "\r\n"  # 857 bytes
    body = line * (12 * 1024 * 1024 // len(line))
    return f"{HEAD}Subject: big\r\nMessage-ID: <big@acme.example>\r\n\r\n{body}".encode()


NORMAL = (
    f"{HEAD}Subject: Re: Your question\r\nMessage-ID: <normal@acme.example>\r\n"
    "In-Reply-To: <rb.k3m9x2p7qrtv.1@probe.example>\r\n\r\n"
    "Hello Anna,\r\n\r\nyes, we deliver on Saturdays.\r\n\r\nKind regards,\r\nSam\r\n"
).encode()


async def send(port: int, raw: bytes) -> aiosmtplib.SMTPResponse:
    """One SMTP transaction in explicit steps (no SIZE option: the size limit is enforced at DATA)."""
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=60)
    async with client:
        await client.ehlo()
        await client.mail("help@acme.example")
        await client.rcpt("anna+k3m9x2p7qrtv@probe.example")
        return await client.data(raw)


@pytest.mark.timeout(120)  # a hang guard, not a speed target (see tests/perf/parse_bench.py)
@async_test
async def test_pathological_messages_are_stored_marked_and_do_not_stall_the_listener(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "inbound.db"))
    ingestor = Ingestor(store, wait_limits=lambda _run: None)
    sent = {"deep": deeply_nested(), "header": huge_header(), "big": twelve_megabytes(), "normal": NORMAL}
    assert 10 * 1024 * 1024 < len(sent["big"]) < DATA_SIZE_LIMIT
    too_big = (
        HEAD.encode() + b"Subject: too big\r\n\r\n" + (b"z" * 998 + b"\r\n") * (DATA_SIZE_LIMIT // 1000 + 10)
    )

    async with InboundSmtpServer(ingestor.accept, hostname="mx.probe.example") as server:
        for name in ("deep", "header", "big"):
            reply = await send(server.port, sent[name])
            assert reply.code == 250, (name, reply)
        with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
            await send(server.port, too_big)
        assert refused.value.code == 552
        reply = await send(server.port, sent["normal"])  # the listener still takes mail
        assert reply.code == 250
        await ingestor.drain()

    stored = {m.sha256: m for m in store.messages()}
    assert len(stored) == 4  # the refused one never reached the store
    by_name = {name: stored[hashlib.sha256(raw).hexdigest()] for name, raw in sent.items()}
    for name, raw in sent.items():
        assert by_name[name].raw == raw, name  # byte for byte

    expected = {"deep": LIMIT_DEPTH, "header": LIMIT_HEADER, "big": LIMIT_SIZE}
    for name, limit in expected.items():
        message = by_name[name]
        assert message.status == "limited", (name, message.status, message.error)
        assert message.error is not None and message.error.startswith("cut by parsing limits: "), name
        assert limit in message.error, (name, message.error)
        assert message.sender == "help@acme.example", name
        assert message.cls is not None and message.rule, name
    assert LIMIT_HEADERS in (by_name["header"].error or "")
    assert by_name["deep"].subject == "nested"
    assert by_name["big"].subject == "big"
    assert (by_name["big"].text or "").startswith("We are looking into it")

    normal = by_name["normal"]
    assert (normal.status, normal.error) == ("parsed", None)
    assert (normal.sender, normal.subject) == ("help@acme.example", "Re: Your question")
    assert normal.text is not None and "we deliver on Saturdays" in normal.text
    assert normal.cls is MessageClass.HUMAN and normal.rule
    store.close()
