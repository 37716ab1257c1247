"""An aiosmtpd SMTP or LMTP server on the running event loop (not aiosmtpd's thread-based Controller).

Running on the caller's loop keeps handlers and the ground truth on one thread, and lets :meth:`stop` close
client connections still open, which a plain ``Server.close()`` leaves running.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Any, Literal

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

#: The name a loopback server announces. Given explicitly because aiosmtpd would otherwise look up the
#: machine's fully qualified name, which may query DNS.
DEFAULT_HOSTNAME = "sandbox.invalid"


class LoopbackServer:
    """An SMTP (or LMTP) server bound to ``host`` (loopback by default) serving an aiosmtpd handler.

    ``port=0`` picks a free port; :attr:`address` tells which after :meth:`start`.
    """

    def __init__(
        self,
        handler: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        protocol: Literal["smtp", "lmtp"] = "smtp",
        hostname: str = DEFAULT_HOSTNAME,
    ) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.protocol = protocol
        self.hostname = hostname
        self._server: asyncio.Server | None = None
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` the server listens on."""
        return self.host, self.port

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections."""
        return self._server is not None

    def _make_session(self) -> SMTP:
        cls = LMTP if self.protocol == "lmtp" else SMTP
        session = cls(
            self.handler,
            hostname=self.hostname,
            ident="replybench sandbox",
            enable_SMTPUTF8=True,
            loop=asyncio.get_running_loop(),
        )
        self._sessions.add(session)
        return session

    async def start(self) -> tuple[str, int]:
        """Bind and listen; returns the address (with the real port when 0 was asked for)."""
        if self._server is not None:
            return self.address
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._make_session, self.host, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.address

    async def stop(self) -> None:
        """Stop listening, close open client connections and wait for their session tasks to end."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks: list[asyncio.Task[None]] = []
        for session in list(self._sessions):
            transport = getattr(session, "transport", None)
            if transport is not None:
                transport.close()
            task = getattr(session, "_handler_coroutine", None)
            if task is not None and not task.done():
                task.cancel()
                tasks.append(task)
        self._sessions.clear()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await server.wait_closed()
