"""Serve an ASGI app with uvicorn inside the running event loop, on 127.0.0.1 on a free port."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import uvicorn


class LoopbackAsgiServer:
    """One uvicorn server on loopback: :meth:`start` binds before it returns; :meth:`stop` shuts it down."""

    def __init__(self, app: Any, *, shutdown_timeout: int = 2, name: str = "server") -> None:
        self.app = app
        self.name = name
        self._shutdown_timeout = shutdown_timeout
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._address: tuple[str, int] | None = None

    async def start(self) -> None:
        """Serve on 127.0.0.1 on a free port (bound before this returns)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._address = ("127.0.0.1", int(sock.getsockname()[1]))
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="off",
            interface="asgi3",
            access_log=False,
            ws="websockets-sansio",
            timeout_graceful_shutdown=self._shutdown_timeout,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.get_running_loop().create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError(f"the {self.name} stopped while starting")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop serving; open connections (streams, sockets) are closed."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self._task), timeout=self._shutdown_timeout + 3)
        if not self._task.done():
            self._server.force_exit = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._server = None
        self._task = None

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        if self._address is None:
            raise RuntimeError(f"the {self.name} is not started")
        return f"http://{self._address[0]}:{self._address[1]}"
