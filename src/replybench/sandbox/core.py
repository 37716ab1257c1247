"""The :class:`Sandbox`: a relay, a help desk per simulated company, and delivery to routes, on loopback."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping, Sequence
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, formataddr
from types import TracebackType
from typing import Any

from replybench.models import Target
from replybench.sandbox.desk import (
    HelpDesk,
    InboundProbe,
    OutgoingReply,
    bounce_reply,
    domain_of,
    parse_probe,
    unknown_recipient_delay,
)
from replybench.sandbox.mastodon import SandboxMastodon
from replybench.sandbox.mta import Mta, Route
from replybench.sandbox.smtpd import LoopbackServer
from replybench.sandbox.truth import GroundTruth, ProbeRecord, ReplyRecord
from replybench.sandbox.web import SandboxWeb
from replybench.timefmt import utcnow

log = logging.getLogger(__name__)

RELAY_HOSTNAME = "relay.sandbox.invalid"


class _RelayHandler:
    """aiosmtpd handler of the relay: recipients are checked at RCPT, messages handed over at DATA."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if not self.sandbox.accepts(address):
            return f"550 5.7.1 <{address}>: Relay access denied"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            # aiosmtpd reports the null reverse path as "<>"; everything downstream means it by "".
            mail_from = "" if envelope.mail_from in (None, "<>") else envelope.mail_from
            queue_id = self.sandbox.receive(mail_from, tuple(envelope.rcpt_tos), raw)
        except Exception:
            log.exception("sandbox relay could not take a message")
            return "451 4.3.0 Error: internal error in the sandbox"
        return f"250 2.0.0 Ok: queued as {queue_id}"


class Sandbox:
    """Simulated companies answering email, all on 127.0.0.1 and without any account anywhere.

    Probes are submitted to :attr:`relay` (plain SMTP, no AUTH). Mail for a company's domain goes to that
    company's :class:`~replybench.sandbox.desk.HelpDesk`; mail for a routed domain is delivered to its
    :class:`Route` (retrying while it is down); other recipients are refused at RCPT. Replies are delivered
    to the routes too. :attr:`truth` records what really happened.

    ``time_scale`` divides every help-desk delay; it does not compress the calendar, so a business-hours
    company that is closed still answers only once it opens.
    """

    def __init__(
        self,
        companies: Sequence[Target],
        *,
        routes: Mapping[str, Route] | None = None,
        default_route: Route | None = None,
        seed: int = 0,
        time_scale: float = 1.0,
        retry_interval: float = 0.5,
        max_queue_age: float = 600.0,
    ) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {time_scale!r}")
        if retry_interval <= 0:
            raise ValueError(f"retry_interval must be positive, got {retry_interval!r}")
        self.seed = seed
        self.time_scale = time_scale
        self.truth = GroundTruth()
        self._desks: dict[str, HelpDesk] = {}
        self._by_address: dict[str, HelpDesk] = {}
        self._domains: dict[str, list[HelpDesk]] = {}
        for company in companies:
            desk = HelpDesk(company, seed=seed, time_scale=time_scale)
            if company.id in self._desks:
                raise ValueError(f"two sandbox companies share the id {company.id!r}")
            if desk.address.lower() in self._by_address:
                raise ValueError(f"two sandbox companies share the address {desk.address!r}")
            self._desks[company.id] = desk
            self._by_address[desk.address.lower()] = desk
            self._domains.setdefault(desk.domain, []).append(desk)
        self._routes: dict[str, Route] = {d.lower(): r for d, r in (routes or {}).items()}
        self.default_route = default_route
        self._mta = Mta(
            self.truth, self.route_for, retry_interval=retry_interval, max_queue_age=max_queue_age
        )
        self._server = LoopbackServer(_RelayHandler(self), hostname=RELAY_HOSTNAME)
        self._tasks: set[asyncio.Task[None]] = set()
        self._web_companies = [c.id for c in companies if c.endpoints.form or c.endpoints.chat]
        self._web: SandboxWeb | None = None
        mastodon_companies = [c for c in companies if c.endpoints.mastodon is not None]
        self._mastodon = (
            SandboxMastodon(mastodon_companies, seed=seed, time_scale=time_scale)
            if mastodon_companies
            else None
        )

    # ------------------------------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Start the relay on 127.0.0.1 on a free port."""
        await self._server.start()
        log.info("sandbox relay on %s:%d with %d companies", *self._server.address, len(self._desks))
        if self._web_companies:
            web = SandboxWeb(self)
            await web.start()
            self._web = web
        if self._mastodon is not None:
            await self._mastodon.start()

    async def stop(self) -> None:
        """Stop the relay, cancel every pending reply and queued delivery, and wait until all have ended."""
        if self._mastodon is not None:
            await self._mastodon.stop()
        if self._web is not None:
            await self._web.stop()
            self._web = None
        await self._server.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._mta.close()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def relay(self) -> tuple[str, int]:
        """``(host, port)`` that probes are submitted to (plain SMTP, no AUTH)."""
        if not self._server.running:
            raise RuntimeError("the sandbox is not started")
        return self._server.address

    @property
    def web(self) -> SandboxWeb:
        """The web server of the companies' contact pages and chat widgets (when any company has one)."""
        if self._web is None:
            raise RuntimeError("the sandbox serves no web pages (no company has a form or chat endpoint)")
        return self._web

    @property
    def mastodon(self) -> SandboxMastodon:
        """The Mastodon-compatible server of the companies' social accounts (when any company has one)."""
        if self._mastodon is None:
            raise RuntimeError("the sandbox serves no Mastodon API (no company has a mastodon endpoint)")
        return self._mastodon

    @property
    def pending(self) -> int:
        """Replies not yet sent plus deliveries not yet finished."""
        social = self._mastodon.pending if self._mastodon is not None else 0
        return len(self._tasks) + self._mta.pending + social

    # ------------------------------------------------------------------------------------------- routing

    @property
    def desks(self) -> Mapping[str, HelpDesk]:
        """The help desks by company id."""
        return dict(self._desks)

    def desk(self, company_id: str) -> HelpDesk:
        """Return the help desk of one company."""
        return self._desks[company_id]

    def set_route(self, domain: str, route: Route) -> None:
        """Send mail for ``domain`` to ``route`` from now on (messages already queued follow it too)."""
        self._routes[domain.lower()] = route

    def route_for(self, domain: str) -> Route | None:
        """Return the route for a domain: ``None`` for a company domain or an unrouted one."""
        domain = domain.lower()
        if domain in self._domains:
            return None
        return self._routes.get(domain, self.default_route)

    def accepts(self, address: str) -> bool:
        """Whether the relay takes mail for ``address`` (a company domain, or a routed one)."""
        domain = domain_of(address)
        return bool(domain) and (domain in self._domains or self.route_for(domain) is not None)

    # ------------------------------------------------------------------------------------------- receiving

    def receive(self, mail_from: str, rcpt_tos: tuple[str, ...], raw: bytes) -> str:
        """Take one message from the relay: hand it to help desks and routes; returns a queue id."""
        received_at = utcnow()
        queue_id = secrets.token_hex(5).upper()
        company_rcpts = [r for r in rcpt_tos if domain_of(r) in self._domains]
        routed = [r for r in rcpt_tos if domain_of(r) not in self._domains]
        if company_rcpts:
            probe = parse_probe(mail_from, tuple(company_rcpts), raw, received_at)
            self.truth.count_receipt(probe.token)
            by_desk: dict[str, list[str]] = {}
            unknown: list[str] = []
            for rcpt in company_rcpts:
                desk = self._by_address.get(rcpt.lower())
                if desk is None:
                    unknown.append(rcpt)
                else:
                    by_desk.setdefault(desk.id, []).append(rcpt)
            for company_id, rcpts in by_desk.items():
                self._record(probe, company_id, rcpts)
                for reply in self._desks[company_id].plan(probe):
                    self._schedule(reply)
            for rcpt in unknown:
                self._record(probe, None, [rcpt])
                if mail_from:
                    delay = unknown_recipient_delay(self.time_scale)
                    self._schedule(bounce_reply(domain_of(rcpt), probe, rcpt, delay, None))
        if routed:
            headers = BytesHeaderParser(policy=policy.default).parsebytes(raw)
            message_id = str(headers.get("Message-ID", "")).strip() or None
            unroutable = self._mta.submit(mail_from, routed, raw, message_id=message_id)
            if unroutable:
                log.warning("no route for %s any more; dropped", ", ".join(unroutable))
        return queue_id

    def submit_inquiry(
        self, company_id: str, *, name: str, email: str, subject: str, body: str, source: str
    ) -> str:
        """Enter an inquiry made on a company's web page into its help desk; returns the queue id.

        A contact form or a chat's "leave a message" form: the desk treats it exactly as if it had come by
        email from ``email``, and answers that address by email.
        """
        desk = self._desks[company_id]
        message = EmailMessage()
        message["From"] = formataddr((name, email)) if name else email
        message["To"] = desk.address
        message["Subject"] = subject or f"Web inquiry from {name or email}"
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = f"<{source}-{secrets.token_hex(8)}@{desk.domain}>"
        message["X-Sandbox-Source"] = source
        message.set_content(body)
        return self.receive(email, (desk.address,), message.as_bytes(policy=policy.SMTP))

    def _record(self, probe: InboundProbe, company_id: str | None, rcpts: list[str]) -> None:
        self.truth.record_probe(
            ProbeRecord(
                company_id=company_id,
                mail_from=probe.mail_from,
                rcpt_tos=tuple(rcpts),
                message_id=probe.message_id,
                token=probe.token,
                subject=probe.subject,
                reply_address=probe.reply_address,
                received_at=probe.received_at,
            )
        )

    # ------------------------------------------------------------------------------------------- sending

    def _schedule(self, reply: OutgoingReply) -> None:
        self.truth.record_reply(
            ReplyRecord(
                kind=reply.kind,
                company_id=reply.company_id,
                probe_token=reply.probe.token,
                probe_message_id=reply.probe.message_id,
                message_id=reply.message_id,
                mail_from=reply.mail_from,
                rcpt_to=reply.rcpt_to,
                planned_at=reply.planned_at,
                delay=reply.delay,
            )
        )
        task = asyncio.get_running_loop().create_task(self._send_later(reply))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_later(self, reply: OutgoingReply) -> None:
        try:
            await asyncio.sleep(max(0.0, (reply.planned_at - utcnow()).total_seconds()))
        except asyncio.CancelledError:
            self.truth.update_reply(reply.message_id, status="cancelled")
            raise
        now = utcnow()
        try:
            data = reply.compose(now)
        except Exception:
            log.exception("could not write the %s reply %s", reply.kind, reply.message_id)
            self.truth.update_reply(reply.message_id, status="failed")
            return
        self.truth.update_reply(reply.message_id, status="sent", sent_at=now)
        if self._mta.submit(reply.mail_from, [reply.rcpt_to], data, message_id=reply.message_id):
            log.warning("no route for the %s reply to %s; dropped", reply.kind, reply.rcpt_to)
            self.truth.update_reply(reply.message_id, status="unroutable")
