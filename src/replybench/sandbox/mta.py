"""The sandbox's outbound mail: routes, SMTP and LMTP delivery, and an in-memory queue that retries.

A real MTA keeps a message it could not deliver and tries again later; the sandbox does the same every
``retry_interval`` seconds while a route refuses connections or answers 4xx, so a receiving server that is
down for a while (a crash test) still gets its mail, once, when it comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import aiosmtplib

from replybench.sandbox.smtpd import DEFAULT_HOSTNAME
from replybench.sandbox.truth import DeliveryRecord, GroundTruth
from replybench.timefmt import utcnow

log = logging.getLogger(__name__)

#: A per-recipient answer of the route: SMTP code (0 when there was no answer at all), text, and when.
Outcome = tuple[int, str, datetime]


@dataclass(frozen=True)
class Route:
    """Where mail for a domain that is not a sandbox company goes (e.g. the probe domain's inbound server)."""

    host: str
    port: int
    protocol: Literal["smtp", "lmtp"] = "smtp"

    def __str__(self) -> str:
        return f"{self.protocol}://{self.host}:{self.port}"


def _normalise(data: bytes) -> bytes:
    """CRLF line endings and a final CRLF, as the wire needs."""
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join(line + b"\r\n" for line in lines)


async def _read_reply(reader: asyncio.StreamReader) -> tuple[int, str]:
    """Read one (possibly multi-line) SMTP/LMTP reply."""
    texts: list[str] = []
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("the server closed the connection")
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        texts.append(text[4:])
        if len(text) < 4 or text[3] != "-":
            try:
                return int(text[:3]), "\n".join(texts)
            except ValueError as exc:
                raise ConnectionError(f"malformed reply {text!r}") from exc


async def _command(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: str) -> tuple[int, str]:
    writer.write(line.encode("utf-8") + b"\r\n")
    await writer.drain()
    return await _read_reply(reader)


async def deliver_lmtp(
    route: Route, sender: str, recipients: Sequence[str], data: bytes, *, time_limit: float, hostname: str
) -> dict[str, Outcome]:
    """One LMTP transaction (RFC 2033): returns each recipient's own answer to DATA, or its RCPT refusal.

    Raises :class:`OSError` (or :class:`TimeoutError`) when the server cannot be reached or hangs up.
    """
    reader, writer = await asyncio.wait_for(asyncio.open_connection(route.host, route.port), time_limit)
    results: dict[str, Outcome] = {}
    try:
        async with asyncio.timeout(time_limit):
            code, text = await _read_reply(reader)
            if code == 220:
                code, text = await _command(reader, writer, f"LHLO {hostname}")
            if code == 250:
                code, text = await _command(reader, writer, f"MAIL FROM:<{sender}>")
            if code != 250:
                return {r: (code, text, utcnow()) for r in recipients}
            accepted: list[str] = []
            for rcpt in recipients:
                code, text = await _command(reader, writer, f"RCPT TO:<{rcpt}>")
                if code == 250:
                    accepted.append(rcpt)
                else:
                    results[rcpt] = (code, text, utcnow())
            if accepted:
                code, text = await _command(reader, writer, "DATA")
                if code != 354:
                    results.update({r: (code, text, utcnow()) for r in accepted})
                else:
                    body = b"".join(
                        b"." + line if line.startswith(b".") else line
                        for line in _normalise(data).splitlines(keepends=True)
                    )
                    writer.write(body + b".\r\n")
                    await writer.drain()
                    for rcpt in accepted:
                        code, text = await _read_reply(reader)
                        results[rcpt] = (code, text, utcnow())
            with contextlib.suppress(OSError, ConnectionError, TimeoutError):
                await _command(reader, writer, "QUIT")
    finally:
        writer.close()
        with contextlib.suppress(OSError, ConnectionError):
            await writer.wait_closed()
    return results


async def deliver_smtp(
    route: Route, sender: str, recipients: Sequence[str], data: bytes, *, time_limit: float, hostname: str
) -> dict[str, Outcome]:
    """One SMTP transaction with aiosmtplib (plain, no AUTH): returns each recipient's answer.

    Raises :class:`OSError` (or :class:`TimeoutError`) when the server cannot be reached or hangs up.
    """
    smtp = aiosmtplib.SMTP(
        hostname=route.host,
        port=route.port,
        timeout=time_limit,
        use_tls=False,
        start_tls=False,
        local_hostname=hostname,
    )
    try:
        await smtp.connect()
    except aiosmtplib.SMTPConnectResponseError as exc:
        return {r: (exc.code, exc.message, utcnow()) for r in recipients}
    except aiosmtplib.SMTPException as exc:
        raise ConnectionError(str(exc)) from exc
    try:
        errors, message = await smtp.sendmail(sender, list(recipients), _normalise(data))
        at = utcnow()
        return {
            r: (errors[r].code, errors[r].message, at) if r in errors else (250, message, at)
            for r in recipients
        }
    except aiosmtplib.SMTPRecipientsRefused as exc:
        at = utcnow()
        return {e.recipient: (e.code, e.message, at) for e in exc.recipients}
    except aiosmtplib.SMTPResponseException as exc:
        return {r: (exc.code, exc.message, utcnow()) for r in recipients}
    except aiosmtplib.SMTPException as exc:
        raise ConnectionError(str(exc)) from exc
    finally:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await smtp.quit()
        smtp.close()


class Mta:
    """Delivers messages to routes, retrying temporary failures until ``max_queue_age`` seconds have passed.

    ``route_for`` maps a recipient domain (lower case) to its route, or ``None`` when the domain has none.
    Every delivery is recorded in the ground truth, with the instant the route answered 250.
    """

    def __init__(
        self,
        truth: GroundTruth,
        route_for: Callable[[str], Route | None],
        *,
        retry_interval: float = 0.5,
        max_queue_age: float = 600.0,
        timeout: float = 30.0,
        hostname: str = DEFAULT_HOSTNAME,
    ) -> None:
        self.truth = truth
        self.route_for = route_for
        self.retry_interval = retry_interval
        self.max_queue_age = max_queue_age
        self.timeout = timeout
        self.hostname = hostname
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        """How many deliveries are still queued or in progress."""
        return len(self._tasks)

    def submit(
        self, sender: str, recipients: Sequence[str], data: bytes, *, message_id: str | None
    ) -> list[str]:
        """Queue ``data`` for every recipient that has a route; returns the recipients that have none.

        Recipients are queued per domain, and each attempt looks the domain's route up again.
        """
        groups: dict[str, list[str]] = {}
        unroutable: list[str] = []
        for rcpt in recipients:
            domain = rcpt.rsplit("@", 1)[-1].lower()
            if self.route_for(domain) is None:
                unroutable.append(rcpt)
            else:
                groups.setdefault(domain, []).append(rcpt)
        for domain, rcpts in groups.items():
            route = self.route_for(domain)
            assert route is not None
            index = self.truth.record_delivery(
                DeliveryRecord(
                    message_id=message_id,
                    mail_from=sender,
                    rcpt_tos=tuple(rcpts),
                    route=str(route),
                    queued_at=utcnow(),
                )
            )
            task = asyncio.get_running_loop().create_task(
                self._deliver(index, domain, route, sender, rcpts, data)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return unroutable

    async def _attempt(
        self, route: Route, sender: str, rcpts: Sequence[str], data: bytes
    ) -> dict[str, Outcome]:
        deliver = deliver_lmtp if route.protocol == "lmtp" else deliver_smtp
        try:
            return await deliver(route, sender, rcpts, data, time_limit=self.timeout, hostname=self.hostname)
        except (OSError, TimeoutError) as exc:
            return {r: (0, f"{type(exc).__name__}: {exc}", utcnow()) for r in rcpts}

    async def _deliver(
        self, index: int, domain: str, route: Route, sender: str, rcpts: list[str], data: bytes
    ) -> None:
        queued = utcnow()
        pending = list(rcpts)
        attempts = 0
        delivered_at: datetime | None = None
        failed = False
        error: str | None = None
        try:
            while pending:
                attempts += 1
                # A queued message follows a route changed meanwhile (set_route), like an MTA re-resolving MX.
                route = self.route_for(domain) or route
                outcomes = await self._attempt(route, sender, pending, data)
                retry: list[str] = []
                for rcpt in pending:
                    code, text, at = outcomes.get(rcpt, (0, "no answer for this recipient", utcnow()))
                    if 200 <= code < 300:
                        delivered_at = at
                    elif code >= 500:
                        failed, error = True, f"{code} {text}"
                    else:
                        retry.append(rcpt)
                        error = f"{code} {text}" if code else text
                pending = retry
                self.truth.update_delivery(index, attempts=attempts, last_error=error, route=str(route))
                if not pending:
                    break
                if (utcnow() - queued).total_seconds() + self.retry_interval > self.max_queue_age:
                    log.warning("giving up on %s after %d attempts: %s", route, attempts, error)
                    self.truth.update_delivery(index, status="expired")
                    return
                log.debug("route %s: %s; retrying in %.2f s", route, error, self.retry_interval)
                await asyncio.sleep(self.retry_interval)
        except asyncio.CancelledError:
            self.truth.update_delivery(index, status="cancelled", attempts=attempts)
            raise
        status: Literal["delivered", "failed"] = "failed" if failed or delivered_at is None else "delivered"
        self.truth.update_delivery(index, status=status, delivered_at=delivered_at)

    async def close(self) -> None:
        """Cancel every queued delivery and wait until they have stopped."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
