"""The sandbox's web server: each simulated company's contact page and chat widget, on 127.0.0.1.

A small Starlette (ASGI) app served by uvicorn inside the sandbox's event loop, on a free loopback port.
The contact forms (:mod:`replybench.sandbox.forms`) and chat widgets (:mod:`replybench.sandbox.chatdesk`)
contribute their routes; pages live under ``/<company id>/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from replybench.sandbox.core import Sandbox

log = logging.getLogger(__name__)

PageKind = Literal["form", "chat"]
"""The pages a sandbox company has: its contact page and its chat page."""


def _index(companies: Sequence[str]) -> HTMLResponse:
    links = "".join(
        f'<li><a href="/{c}/contact">{c}</a> · <a href="/{c}/chat">chat</a></li>' for c in companies
    )
    return HTMLResponse(f"<!doctype html><title>replybench sandbox</title><ul>{links}</ul>")


class SandboxWeb:
    """The web pages of the sandbox's companies. Start it with :meth:`start`; :meth:`url` gives page URLs."""

    def __init__(self, sandbox: Sandbox, *, shutdown_timeout: int = 2) -> None:
        from replybench.sandbox import chatdesk, forms

        self.sandbox = sandbox
        self._shutdown_timeout = shutdown_timeout
        companies = sorted(sandbox.desks)

        async def index(_request: Request) -> HTMLResponse:
            return _index(companies)

        routes: list[BaseRoute] = [Route("/", index), *forms.routes(sandbox), *chatdesk.routes(sandbox)]
        self.app = Starlette(routes=routes)
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
            access_log=False,
            ws="websockets-sansio",
            timeout_graceful_shutdown=self._shutdown_timeout,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.get_running_loop().create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the sandbox web server stopped while starting")
            await asyncio.sleep(0.01)
        log.info("sandbox web pages on %s", self.base_url)

    async def stop(self) -> None:
        """Stop serving; open chat connections are closed."""
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
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        if self._address is None:
            raise RuntimeError("the sandbox web server is not started")
        return f"http://{self._address[0]}:{self._address[1]}"

    def url(self, company_id: str, kind: PageKind) -> str:
        """The URL of a company's contact page (``form``) or chat page (``chat``)."""
        if company_id not in self.sandbox.desks:
            raise KeyError(f"no sandbox company {company_id!r}")
        return f"{self.base_url}/{company_id}/{'contact' if kind == 'form' else 'chat'}"
