"""Helpers for the sandbox tests: a collecting SMTP/LMTP sink, companies, probes, and polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Literal

import aiosmtplib

from replybench.models import EmailEndpoint, Endpoints, SandboxBehaviour, Target
from replybench.sandbox import LoopbackServer, Route, Sandbox
from replybench.timefmt import utcnow
from replybench.tokens import message_id_for, new_token, plus_address

PROBE_DOMAIN = "probe.example"
PERSONA = f"anna@{PROBE_DOMAIN}"


@dataclass
class Delivered:
    """One message the sink received."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    received_at: datetime

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


class Sink:
    """A tiny collecting SMTP or LMTP server standing in for replybench's inbound server."""

    def __init__(self, protocol: Literal["smtp", "lmtp"] = "smtp", port: int = 0) -> None:
        self.protocol = protocol
        self.messages: list[Delivered] = []
        self.server = LoopbackServer(self, port=port, protocol=protocol)
        self.reject: Callable[[str], str | None] = lambda rcpt: None
        self.data_status: str | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        refusal = self.reject(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_status:
            return self.data_status
        self.messages.append(
            Delivered(
                "" if envelope.mail_from == "<>" else envelope.mail_from,  # aiosmtpd's null path
                list(envelope.rcpt_tos),
                bytes(envelope.original_content),
                utcnow(),
            )
        )
        if self.protocol == "lmtp":
            return "\r\n".join("250 2.0.0 Ok" for _ in envelope.rcpt_tos)
        return "250 2.0.0 Ok"

    async def start(self) -> Sink:
        await self.server.start()
        return self

    async def stop(self) -> None:
        await self.server.stop()

    @property
    def route(self) -> Route:
        return Route(self.server.host, self.server.port, self.protocol)

    def of_kind(self, subject_start: str) -> list[Delivered]:
        return [m for m in self.messages if str(m.message["Subject"]).startswith(subject_start)]


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.01) -> None:
    """Poll ``predicate`` until true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


def company(
    cid: str,
    profile: str = "fast",
    *,
    address: str | None = None,
    timezone: str = "UTC",
    hours: Any = None,
    **overrides: Any,
) -> Target:
    """A sandbox company ``support@<cid>.example`` with a profile and overrides."""
    extra: dict[str, Any] = {"hours": hours} if hours is not None else {}
    return Target(
        id=cid,
        name=f"{cid.capitalize()} Inc",
        timezone=timezone,
        endpoints=Endpoints(email=EmailEndpoint(address=address or f"support@{cid}.example")),
        sandbox=SandboxBehaviour(profile=profile, **overrides),  # type: ignore[arg-type]
        **extra,
    )


@dataclass
class Probe:
    """A probe as replybench would send it: plus-addressed sender and Reply-To, token in the Message-ID."""

    token: str
    message: EmailMessage
    mail_from: str
    to: str

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


def make_probe(
    to: str,
    *,
    subject: str = "Do you ship to Austria?",
    token: str | None = None,
    reply_local: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> Probe:
    token = token or new_token()
    mail_from = plus_address(PERSONA, token)
    msg = EmailMessage()
    msg["From"] = f"Anna Probe <{mail_from}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id_for(token, PROBE_DOMAIN)
    msg["Date"] = "Mon, 23 Nov 2026 10:00:00 +0000"
    if reply_local:
        msg["Reply-To"] = plus_address(f"{reply_local}@{PROBE_DOMAIN}", token)
    for name, value in (extra_headers or {}).items():
        msg[name] = value
    msg.set_content(
        "Hello,\n\nI would like to order a bike. Do you ship to Austria, and how long does it take?\n\nAnna\n"
    )
    return Probe(token, msg, mail_from, to)


async def submit(sandbox: Sandbox, probe: Probe, *, extra_rcpts: list[str] | None = None) -> None:
    host, port = sandbox.relay
    await aiosmtplib.send(
        probe.message,
        sender=probe.mail_from,
        recipients=[probe.to, *(extra_rcpts or [])],
        hostname=host,
        port=port,
        start_tls=False,
        local_hostname="client.test",
    )
