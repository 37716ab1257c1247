"""The built-in inbound SMTP server: receives replies for a dedicated probe domain, timed to the millisecond.

aiosmtpd's :class:`~aiosmtpd.smtp.SMTP` protocol runs directly in the caller's running event loop (not in
aiosmtpd's threaded ``Controller``), so the sink — the store — is awaited on the engine's own loop. A message
is acknowledged with ``250`` only after the sink has stored its raw bytes; if storing fails the sender gets a
``451`` and retries later, so a reply is never lost between "accepted" and "stored".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from replybench.channels.base import InboundItem, InboundSink
from replybench.timefmt import utcnow_ms

log = logging.getLogger(__name__)

#: Largest message accepted (bytes); bigger ones get aiosmtpd's ``552``.
DATA_SIZE_LIMIT = 25 * 1024 * 1024
#: Reply when the sink could not store the message; the sending MTA keeps it and retries.
TEMPORARY_FAILURE = "451 4.3.0 try again later"


class _InboundSMTP(SMTP):
    # RFC 5321 limits lines to 1,000 octets, but real mailers exceed it; refusing such a message would make
    # the sender bounce a reply we exist to measure. Size is still bounded by data_size_limit.
    line_length_limit = 1024 * 1024
    # Tracked so stop() can end open sessions: Server.close() leaves accepted connections running.
    on_lost: Callable[[_InboundSMTP], None] | None = None

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        if self.on_lost is not None:
            self.on_lost(self)


class _Handler:
    """aiosmtpd hooks: optional recipient filter and the DATA handler that stores before it answers."""

    def __init__(
        self,
        server: InboundSmtpServer,
        accept_recipient: Callable[[str], bool] | None,
    ) -> None:
        self._server = server
        self._accept_recipient = accept_recipient

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        """Accept the recipient (any, unless a filter was given); ``550`` if the filter refuses it."""
        if self._accept_recipient is not None and not self._accept_recipient(address):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Stamp the receipt time, hand the raw message to the sink, and only then answer ``250``."""
        received_at = utcnow_ms()
        raw = envelope.original_content
        if raw is None:
            content = envelope.content
            raw = content.encode("utf-8", "surrogateescape") if isinstance(content, str) else content or b""
        item = InboundItem(
            channel="email",
            raw=bytes(raw),
            received_at=received_at,
            clock="smtp-receipt",
            source=self._server.source,
            # The null reverse-path (bounces, auto-replies) as "", like other addresses without brackets.
            envelope_from="" if envelope.mail_from == "<>" else envelope.mail_from,
            envelope_to=tuple(envelope.rcpt_tos),
        )
        try:
            async with self._server._storing_one():
                await self._server.sink(item)
        except Exception:
            log.exception(
                "could not store an inbound message (%d bytes); answered 451 so it is retried", len(raw)
            )
            return TEMPORARY_FAILURE
        return "250 OK stored"


class InboundSmtpServer:
    """An SMTP server on ``host:port`` that pushes every message it receives into ``sink`` before ``250``.

    Use as ``async with InboundSmtpServer(sink) as server: ...`` or run :meth:`serve_forever` as a task.
    Every recipient is accepted unless ``accept_recipient`` is given; malformed messages (garbage, 8-bit data,
    missing headers) are stored raw exactly like well-formed ones.
    """

    def __init__(
        self,
        sink: InboundSink,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        source: str | None = None,
        hostname: str | None = None,
        accept_recipient: Callable[[str], bool] | None = None,
        data_size_limit: int = DATA_SIZE_LIMIT,
        idle_timeout: float = 300.0,
        stop_grace: float = 5.0,
    ) -> None:
        self.sink = sink
        self.host = host
        self._requested_port = port
        self._source = source
        self._hostname = hostname
        self._handler = _Handler(self, accept_recipient)
        self._data_size_limit = data_size_limit
        self._idle_timeout = idle_timeout
        self._server: asyncio.Server | None = None
        self._bound_port: int | None = None
        self._connections: set[_InboundSMTP] = set()
        self._stop_grace = stop_grace
        self._storing = 0
        self._nothing_storing = asyncio.Event()
        self._nothing_storing.set()

    @property
    def port(self) -> int:
        """The port actually bound (useful with ``port=0``); the requested port before the first start."""
        return self._bound_port if self._bound_port is not None else self._requested_port

    @property
    def source(self) -> str:
        """Where items come from, recorded on each :class:`InboundItem` (default ``smtp://host:port``)."""
        return self._source or f"smtp://{self.host}:{self.port}"

    @property
    def is_serving(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._server is not None and self._server.is_serving()

    async def start(self) -> None:
        """Bind and start accepting connections on the running event loop."""
        if self._server is not None:
            raise RuntimeError("the inbound SMTP server is already running")
        loop = asyncio.get_running_loop()
        if self._hostname is None:
            # getfqdn may block on DNS; aiosmtpd would otherwise call it for every connection.
            self._hostname = await loop.run_in_executor(None, socket.getfqdn)
        self._server = await loop.create_server(self._new_protocol, self.host, self._requested_port)
        self._bound_port = int(self._server.sockets[0].getsockname()[1])
        log.info("inbound SMTP server listening on %s", self.source)

    async def stop(self) -> None:
        """Stop accepting, drop open sessions (a message not yet answered ``250`` stays with its sender)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        if self._storing:
            # Let messages that are being stored finish, so their senders get the 250 they are owed.
            try:
                await asyncio.wait_for(self._nothing_storing.wait(), self._stop_grace)
            except TimeoutError:
                log.warning(
                    "stopping with %d message(s) still being stored; senders will retry", self._storing
                )
            await asyncio.sleep(0)
        tasks: list[asyncio.Task[Any]] = []
        for protocol in list(self._connections):
            task = protocol._handler_coroutine
            if task is not None and not task.done():
                task.cancel()
                tasks.append(task)
            if protocol.transport is not None:
                protocol.transport.close()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._connections.clear()
        await server.wait_closed()
        log.info("inbound SMTP server on %s stopped", self.source)

    async def serve_forever(self) -> None:
        """Start, serve until cancelled, then stop."""
        await self.start()
        try:
            await asyncio.Future()
        finally:
            await self.stop()

    async def __aenter__(self) -> InboundSmtpServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @contextlib.asynccontextmanager
    async def _storing_one(self) -> AsyncIterator[None]:
        # Counts sink calls in progress, so stop() can let them finish.
        self._storing += 1
        self._nothing_storing.clear()
        try:
            yield
        finally:
            self._storing -= 1
            if not self._storing:
                self._nothing_storing.set()

    def _new_protocol(self) -> _InboundSMTP:
        protocol = _InboundSMTP(
            self._handler,
            data_size_limit=self._data_size_limit,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=self._hostname,
            timeout=self._idle_timeout,
            loop=asyncio.get_running_loop(),
        )
        protocol.on_lost = self._connections.discard
        self._connections.add(protocol)
        return protocol
