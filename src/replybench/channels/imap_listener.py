"""Read replies from an IMAP mailbox with IDLE; ``received_at`` is the server's INTERNALDATE, never our clock.

The listener keeps a cursor ``(UIDVALIDITY, last UID)`` per mailbox in a :class:`CursorStore`. On every
(re)connection it selects the mailbox, fetches every message above the cursor in UID order, hands each one
to the sink (which returns only once the raw bytes are durably stored) and advances the cursor; then it
waits in IDLE until the server reports new mail (``EXISTS``) or the IDLE period ends, and syncs again. A lost
connection is logged, retried with capped exponential backoff and followed by the same sync, so no message
is skipped; a changed UIDVALIDITY restarts from UID 0 (the store de-duplicates by Message-ID).

imapclient is blocking, so each connection gets one worker thread that runs every IMAP call in order; the
event loop stays free. Cancelling :meth:`ImapListener.run` waits at most for the IMAP call in flight (an IDLE
wait lasts at most ``idle_check`` seconds), then ends IDLE and logs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import imaplib
import logging
import os
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import quote

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import LoginError

from replybench.channels.base import InboundItem, InboundSink
from replybench.errors import ChannelError
from replybench.models import ImapInbound

__all__ = ["CLOCK", "FETCH_BATCH", "CursorStore", "ImapAccount", "ImapListener", "to_utc"]

log = logging.getLogger(__name__)

CLOCK = "imap-internaldate"
#: UIDs per FETCH (≤ 5,000, the most imapclient/servers handle well; bodies are fetched, so keep it modest).
FETCH_BATCH = 500
#: Socket timeouts: connecting, and any single read/write outside IDLE.
SOCKET_TIMEOUT = SocketTimeout(connect=30.0, read=120.0)
#: Largest pause between reconnection attempts (the delay doubles from ``reconnect_delay`` up to this).
MAX_RECONNECT_DELAY = 60.0
#: How long cancellation waits for LOGOUT (beyond the IMAP call in flight) before closing the socket.
LOGOUT_TIMEOUT = 5.0

T = TypeVar("T")


class CursorStore(Protocol):
    """Where the listener remembers how far it has read each mailbox."""

    def get_cursor(self, source: str) -> tuple[int, int] | None:
        """Return the stored ``(uidvalidity, last_uid)`` of ``source``, or None if it was never read."""
        ...

    def set_cursor(self, source: str, uidvalidity: int, last_uid: int) -> None:
        """Record that every message of ``source`` up to ``last_uid`` (under ``uidvalidity``) is stored."""
        ...


@dataclass(frozen=True)
class ImapAccount:
    """How to reach one IMAP mailbox. The password never appears in ``repr`` or in any log line."""

    host: str
    port: int
    security: Literal["none", "starttls", "tls"]
    username: str
    password: str = field(repr=False)
    mailbox: str = "INBOX"
    idle_renew: float = 29 * 60

    @classmethod
    def from_settings(cls, settings: ImapInbound, environ: Mapping[str, str] | None = None) -> ImapAccount:
        """Build an account from ``[email.imap]`` settings, reading the credentials from the environment."""
        env = os.environ if environ is None else environ
        missing = [name for name in (settings.username_env, settings.password_env) if not env.get(name)]
        if missing:
            raise ChannelError(f"IMAP listener needs the environment variable(s) {', '.join(missing)}")
        return cls(
            host=settings.host,
            port=settings.port,
            security=settings.security,
            username=env[settings.username_env],
            password=env[settings.password_env],
            mailbox=settings.mailbox,
            idle_renew=settings.idle_renew.total_seconds(),
        )

    @property
    def source(self) -> str:
        """``imap://user@host:port/MAILBOX`` (RFC 5092 style: user and mailbox percent-encoded)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"imap://{quote(self.username, safe='')}@{host}:{self.port}/{quote(self.mailbox, safe='/')}"


def to_utc(internaldate: datetime) -> datetime:
    """Convert an INTERNALDATE from imapclient (``normalise_times=False``) to an aware UTC datetime.

    INTERNALDATE always carries a zone offset; a naive value (a broken server) is taken as UTC.
    """
    if internaldate.tzinfo is None or internaldate.utcoffset() is None:
        return internaldate.replace(tzinfo=UTC)
    return internaldate.astimezone(UTC)


class _ConnectionLost(Exception):
    """An IMAP call failed: the connection is unusable and must be re-established."""


class _SelectRefused(Exception):
    """The server answered NO/BAD to SELECT (e.g. the mailbox does not exist)."""


#: Response codes (RFC 5530) that mark a refusal as temporary.
_TRANSIENT_CODES = ("UNAVAILABLE", "SERVERBUG", "INUSE", "LIMIT", "CONTACTADMIN", "OVERQUOTA")


def _is_permanent(exc: BaseException | None) -> str | None:
    """Return a user-fixable reason if ``exc`` will not go away by reconnecting, else None."""
    if isinstance(exc, LoginError | _SelectRefused):
        text = str(exc)
        if not any(f"[{code}" in text.upper() for code in _TRANSIENT_CODES):
            what = "login" if isinstance(exc, LoginError) else "SELECT"
            return f"IMAP {what} refused: {text}"
    return None


def _batches(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _enable_keepalive(sock: socket.socket) -> None:
    """TCP keepalive so a silently dropped connection is noticed within minutes, even during IDLE."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 15), ("TCP_KEEPCNT", 4)):
            if hasattr(socket, name):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


class _Session:
    """One IMAP connection and the single worker thread that runs all of its (blocking) calls in order."""

    def __init__(self, account: ImapAccount) -> None:
        self.account = account
        self.client: Any = None
        self.idling = False  # touched only on the worker thread
        self.synced = False  # a full sync succeeded on this connection
        self.capabilities: tuple[bytes, ...] = ()
        self.closed = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imap-listener")

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the worker; any failure means the connection is lost (or unusable)."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, functools.partial(fn, *args))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise _ConnectionLost(f"{type(exc).__name__}: {exc}") from exc

    # ------------------------------------------------------------------ blocking parts (worker thread)

    def connect(self) -> dict[bytes, Any]:
        a = self.account
        client = IMAPClient(a.host, a.port, ssl=a.security == "tls", timeout=SOCKET_TIMEOUT)
        self.client = client
        client.normalise_times = False  # keep INTERNALDATE's own offset; we convert to UTC ourselves
        if a.security == "starttls":
            client.starttls(ssl.create_default_context())
        _enable_keepalive(client.socket())
        client.login(a.username, a.password)
        self.capabilities = tuple(client.capabilities())
        try:
            return dict(client.select_folder(a.mailbox, readonly=False))
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            raise _SelectRefused(f"mailbox {a.mailbox!r}: {exc}") from exc

    def search_above(self, last_uid: int) -> tuple[list[int], bool]:
        """UIDs > ``last_uid``, and whether the server reported new mail (EXISTS) while searching."""
        untagged = getattr(getattr(self.client, "_imap", None), "untagged_responses", None)
        if isinstance(untagged, dict):
            untagged.pop("EXISTS", None)  # reports from earlier commands are covered by this search
        uids = self.client.search(["UID", f"{last_uid + 1}:*"])
        changed = isinstance(untagged, dict) and untagged.pop("EXISTS", None) is not None
        # "N:*" always includes the highest UID, even when it is below N.
        return sorted(u for u in uids if u > last_uid), changed

    def fetch(self, uids: Sequence[int]) -> dict[int, dict[bytes, Any]]:
        return dict(self.client.fetch(list(uids), ["BODY.PEEK[]", "INTERNALDATE"]))

    def idle_start(self) -> None:
        self.client.idle()
        self.idling = True

    def idle_check(self, timeout: float) -> list[tuple[Any, ...]]:
        return list(self.client.idle_check(timeout=timeout))

    def idle_done(self) -> None:
        self.idling = False
        self.client.idle_done()

    def logout(self) -> None:
        """End IDLE if needed and log out; on any failure just close the socket."""
        client = self.client
        if client is None or self.closed:
            return
        self.closed = True
        try:
            if self.idling:
                self.idling = False
                client.idle_done()
            client.logout()
        except Exception:
            with contextlib.suppress(Exception):
                client.shutdown()

    # ------------------------------------------------------------------ teardown (event loop)

    async def close(self, in_flight_bound: float) -> None:
        """Log out once the call in flight ends; never raises, also while being cancelled.

        ``in_flight_bound`` is how long the call in flight may still take (an IDLE wait's timeout); after
        that plus :data:`LOGOUT_TIMEOUT` the socket is shut down instead.
        """
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(self._executor, self.logout)
        cancelled = False
        try:
            await asyncio.wait_for(asyncio.shield(fut), LOGOUT_TIMEOUT + in_flight_bound)
        except asyncio.CancelledError:
            cancelled = True
        except Exception:  # noqa: S110 - a timeout; logout() itself never raises
            pass
        if not fut.done():  # stuck: shutting the socket down wakes the worker, which then finishes
            client = self.client
            if client is not None:
                with contextlib.suppress(Exception):
                    client.socket().shutdown(socket.SHUT_RDWR)
        self._executor.shutdown(wait=False)
        if cancelled:
            raise asyncio.CancelledError


class ImapListener:
    """Watches one IMAP mailbox and pushes every message into an :data:`InboundSink`, exactly once per UID."""

    def __init__(
        self,
        account: ImapAccount,
        cursor: CursorStore,
        *,
        reconnect_delay: float = 1.0,
        idle_check: float = 5.0,
        max_reconnect_delay: float = MAX_RECONNECT_DELAY,
    ) -> None:
        if min(idle_check, reconnect_delay, account.idle_renew) <= 0:
            raise ValueError("idle_check, reconnect_delay and idle_renew must be positive")
        self.account = account
        self.cursor = cursor
        self.reconnect_delay = reconnect_delay
        self.idle_check = idle_check
        self.max_reconnect_delay = max(max_reconnect_delay, reconnect_delay)
        self.source: str = account.source
        self._idle_event: asyncio.Event | None = None

    def __repr__(self) -> str:
        return f"ImapListener({self.source!r})"

    # ------------------------------------------------------------------------------------------ public

    async def wait_idle(self) -> None:
        """Return once the listener has caught up and is waiting in IDLE (for tests and health checks)."""
        await self._event().wait()

    @property
    def idling(self) -> bool:
        """Whether the listener is currently caught up and waiting in IDLE."""
        return self._idle_event is not None and self._idle_event.is_set()

    async def run(self, sink: InboundSink) -> None:
        """Deliver every message above the cursor, then every new one, until cancelled.

        Connection problems are logged and retried forever (backoff from ``reconnect_delay`` doubling up to
        ``max_reconnect_delay``). A login the server rejects raises :class:`ChannelError`; an exception from
        ``sink`` ends ``run`` with that exception (the cursor stays at the last message the sink accepted).
        """
        failures = 0
        while True:
            session = _Session(self.account)
            try:
                await self._serve(session, sink)
            except _ConnectionLost as exc:
                reason = _is_permanent(exc.__cause__)
                if reason is not None:
                    raise ChannelError(f"{self.source}: {reason}") from exc.__cause__
                if session.synced:
                    failures = 0
                delay = min(self.reconnect_delay * 2 ** min(failures, 30), self.max_reconnect_delay)
                failures += 1
                log.warning("%s: connection lost (%s); reconnecting in %.1f s", self.source, exc, delay)
            finally:
                self._event().clear()
                await session.close(self.idle_check)
            await asyncio.sleep(delay)

    # ------------------------------------------------------------------------------------------ internals

    def _event(self) -> asyncio.Event:
        if self._idle_event is None:
            self._idle_event = asyncio.Event()
        return self._idle_event

    async def _serve(self, s: _Session, sink: InboundSink) -> None:
        """Connect, then sync and IDLE forever; returns only by an exception."""
        selected = await s.call(s.connect)
        uidvalidity = selected.get(b"UIDVALIDITY")
        if not isinstance(uidvalidity, int):
            raise ChannelError(f"{self.source}: the server did not report UIDVALIDITY for the mailbox")
        stored = self.cursor.get_cursor(self.source)
        if stored is None:
            last = 0
            self.cursor.set_cursor(self.source, uidvalidity, 0)
            log.info("%s: connected (UIDVALIDITY %d), first sync from the start", self.source, uidvalidity)
        elif stored[0] != uidvalidity:
            last = 0
            self.cursor.set_cursor(self.source, uidvalidity, 0)
            log.warning(
                "%s: UIDVALIDITY changed %d -> %d; resyncing the whole mailbox",
                self.source,
                stored[0],
                uidvalidity,
            )
        else:
            last = stored[1]
            log.info("%s: connected (UIDVALIDITY %d), syncing above UID %d", self.source, uidvalidity, last)
        has_idle = b"IDLE" in s.capabilities
        if not has_idle:
            log.warning("%s: server lacks IDLE; polling every %.1f s", self.source, self.idle_check)
        while True:
            last = await self._sync(s, sink, uidvalidity, last)
            s.synced = True
            if has_idle:
                await self._idle(s)
            else:
                await asyncio.sleep(self.idle_check)

    async def _sync(self, s: _Session, sink: InboundSink, uidvalidity: int, last: int) -> int:
        """Deliver every message above ``last`` in UID order; return the new last UID."""
        while True:
            uids, changed = await s.call(s.search_above, last)
            for batch in _batches(uids, FETCH_BATCH):
                last = await self._deliver(s, sink, uidvalidity, last, batch)
            if not uids and not changed:
                return last

    async def _deliver(
        self, s: _Session, sink: InboundSink, uidvalidity: int, last: int, batch: Sequence[int]
    ) -> int:
        fetched = await s.call(s.fetch, batch)
        stored = last
        try:
            for uid in batch:
                data = fetched.get(uid)
                if data is None:  # expunged between SEARCH and FETCH
                    continue
                raw = data.get(b"BODY[]")
                internaldate = data.get(b"INTERNALDATE")
                if not isinstance(raw, bytes) or not isinstance(internaldate, datetime):
                    log.error("%s: UID %d came without body or INTERNALDATE; skipped", self.source, uid)
                    continue
                await sink(
                    InboundItem(
                        channel="email",
                        raw=raw,
                        received_at=to_utc(internaldate),
                        clock=CLOCK,
                        source=self.source,
                        uidvalidity=uidvalidity,
                        uid=uid,
                    )
                )
                stored = uid
            stored = max(stored, batch[-1])
        finally:
            if stored > last:
                self.cursor.set_cursor(self.source, uidvalidity, stored)
        return stored

    async def _idle(self, s: _Session) -> None:
        """Wait in IDLE until new mail, the end of the IDLE period, or a sign that the connection broke."""
        loop = asyncio.get_running_loop()
        await s.call(s.idle_start)
        self._event().set()
        deadline = loop.time() + self.account.idle_renew
        try:
            while (remaining := deadline - loop.time()) > 0:
                timeout = min(self.idle_check, remaining)
                started = time.monotonic()
                responses = await s.call(s.idle_check, timeout)
                if any(len(r) > 1 and r[1] == b"EXISTS" for r in responses):
                    break
                if any(r and r[0] == b"BYE" for r in responses):
                    raise _ConnectionLost(f"server said BYE: {responses}")
                if not responses and time.monotonic() - started < timeout * 0.9:
                    break  # woken without a response: EOF or a socket error; IDLE DONE will tell
        finally:
            self._event().clear()
        await s.call(s.idle_done)
