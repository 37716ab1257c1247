"""The sandbox's web server: each simulated company's contact page and chat widget, on 127.0.0.1.

A small Starlette (ASGI) app served by uvicorn inside the sandbox's event loop, on a free loopback port.
The contact forms (:mod:`replybench.sandbox.forms`) and chat widgets (:mod:`replybench.sandbox.chatdesk`)
contribute their routes; pages live under ``/<company id>/``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Route

from replybench.asgiserve import LoopbackAsgiServer

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
        companies = sorted(sandbox.desks)

        async def index(_request: Request) -> HTMLResponse:
            return _index(companies)

        routes: list[BaseRoute] = [Route("/", index), *forms.routes(sandbox), *chatdesk.routes(sandbox)]
        self.app = Starlette(routes=routes)
        self._server = LoopbackAsgiServer(
            self.app, shutdown_timeout=shutdown_timeout, name="sandbox web server"
        )

    async def start(self) -> None:
        """Serve on 127.0.0.1 on a free port (bound before this returns)."""
        await self._server.start()
        log.info("sandbox web pages on %s", self.base_url)

    async def stop(self) -> None:
        """Stop serving; open chat connections are closed."""
        await self._server.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self._server.base_url

    def url(self, company_id: str, kind: PageKind) -> str:
        """The URL of a company's contact page (``form``) or chat page (``chat``)."""
        if company_id not in self.sandbox.desks:
            raise KeyError(f"no sandbox company {company_id!r}")
        return f"{self.base_url}/{company_id}/{'contact' if kind == 'form' else 'chat'}"
