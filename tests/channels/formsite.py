"""A sandbox with one company per contact-form variant, a reply sink and a browser pool, shared by a module.

Playwright objects belong to the event loop that made them, and each ``async_test`` runs in a fresh loop;
so a module's sandbox, sink and pool live on one event loop in a background thread, and tests hand it
coroutines with :meth:`FormSite.run`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from replybench.browser import BrowserPool
from replybench.channels.base import OutboundProbe
from replybench.channels.webform import WebFormChannel
from replybench.models import (
    EmailIdentity,
    Endpoints,
    FormEndpoint,
    FormFields,
    Persona,
    SandboxBehaviour,
    SandboxForm,
    Target,
)
from replybench.sandbox import Sandbox
from replybench.sandbox.truth import WebRecord
from tests.outbound import outbound_probe
from tests.sandbox.helpers import Sink

T = TypeVar("T")

PROBE_DOMAIN = "probes.example"
VARIANTS: tuple[SandboxForm, ...] = (
    "labels",
    "placeholders",
    "multistep",
    "honeypot",
    "captcha",
    "login",
    "validation",
)

ANNA = Persona(
    id="anna",
    display_name="Anna Berg",
    language="en",
    locale="en-GB",
    timezone="Europe/Vienna",
    phone="+43 660 1234567",
    email=EmailIdentity(address=f"anna.berg@{PROBE_DOMAIN}"),
)
JONAS = Persona(
    id="jonas",
    display_name="Jonas Weber",
    language="de",
    locale="de-DE",
    timezone="Europe/Berlin",
    email=EmailIdentity(address=f"jonas.weber@{PROBE_DOMAIN}"),
)


def company(cid: str, variant: SandboxForm, **form: Any) -> Target:
    """A sandbox company with a contact form of ``variant`` (its URL is replaced by the sandbox's)."""
    return Target(
        id=cid,
        name=f"{cid.title()} GmbH",
        endpoints=Endpoints(form=FormEndpoint(url="http://sandbox.invalid/contact", **form)),
        sandbox=SandboxBehaviour(profile="fast", form=variant),
    )


#: One company per variant (id = variant), plus configured ones reusing a variant's markup.
COMPANIES: tuple[Target, ...] = (
    *(company(v, v) for v in VARIANTS),
    company(
        "explicit",
        "labels",
        fields=FormFields(name="#cf-name", email="input[name='email']", message="form#contact-form textarea"),
        submit="#contact-form button.btn",
        topic="Returns and refunds",
        success_text=r"ticket number is #\d+",
        success_url=r"/contact/thanks\?ticket=\d+$",
    ),
    company("ordered", "validation", extra={"#cf-order": "12345678"}),
    company("misordered", "validation", extra={"#cf-order": "12345670"}),
    company("unconfirmed", "labels", success_text="Ticket created", timeout="2s"),
    company("misconfigured", "labels", fields=FormFields(message="#no-such-field")),
)


class LoopThread:
    """An event loop running in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="formsite-loop", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run ``coro`` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@dataclass
class FormSite:
    """The sandbox, its reply sink and (with a Chromium) a browser pool and a web-form channel."""

    loop: LoopThread
    sandbox: Sandbox
    sink: Sink
    pool: BrowserPool | None = None
    channels: list[WebFormChannel] = field(default_factory=list)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return self.loop.run(coro, timeout)

    @property
    def base(self) -> str:
        return self.sandbox.web.base_url

    def url(self, cid: str) -> str:
        return self.sandbox.web.url(cid, "form")

    def target(self, cid: str) -> Target:
        return self.sandbox.desk(cid).company

    def channel(self, *, screenshots: bool = True) -> WebFormChannel:
        assert self.pool is not None, "this site has no browser"
        channel = WebFormChannel(self.pool, url_for=lambda t: self.url(t.id), screenshots=screenshots)
        self.channels.append(channel)
        return channel

    def probe(
        self,
        cid: str,
        *,
        persona: Persona = ANNA,
        subject: str = "Do you ship to Austria?",
        body: str = "Hello,\n\nI would like to order a bike. Do you ship to Austria?\n\nAnna",
    ) -> OutboundProbe:
        return outbound_probe(
            self.target(cid), persona, subject=subject, body=body, domain=PROBE_DOMAIN, id_prefix="probe"
        )

    def web(self, kind: str, token: str) -> list[WebRecord]:
        """Form events whose submitted email carries ``token``."""
        return [
            r
            for r in self.sandbox.truth.web(kind)  # type: ignore[arg-type]
            if token in str(r.detail.get("fields", {}).get("email", ""))
        ]

    def company_events(self, cid: str) -> list[WebRecord]:
        return self.sandbox.truth.web(company_id=cid)


def start_site(chromium: str | None, *, pool_size: int = 4) -> FormSite:
    """Start the sandbox (replies routed to a sink) and, given a Chromium, a browser pool."""
    loop = LoopThread()

    async def start() -> FormSite:
        sink = await Sink().start()
        sandbox = Sandbox(list(COMPANIES), default_route=sink.route, time_scale=200)
        await sandbox.start()
        pool = BrowserPool(size=pool_size, executable=chromium) if chromium else None
        return FormSite(loop, sandbox, sink, pool)

    return loop.run(start())


def stop_site(site: FormSite) -> None:
    async def stop() -> None:
        if site.pool is not None:
            await site.pool.close()
        await site.sandbox.stop()
        await site.sink.stop()

    try:
        site.run(stop())
    finally:
        site.loop.close()
