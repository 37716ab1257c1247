"""Build the channels a run uses: against the embedded sandbox (default) or the real world (``mode = "live"``).

In sandbox mode the simulated companies run in this process on loopback: their relay receives the probes and
their replies come back to our inbound SMTP server on a free port; their contact forms and chat widgets are
served on another loopback port, and the browser channels are pointed there; their Mastodon accounts live on a
Mastodon-compatible server on a third. Nothing leaves the machine.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from replybench.browser import BrowserPool, browser_unavailable_reason
from replybench.channels.base import Channel, channel_class
from replybench.channels.chat import ChatChannel
from replybench.channels.email import EmailChannel
from replybench.channels.webform import WebFormChannel
from replybench.models import SOCIAL_NETWORKS, EmailSettings, SmtpInbound, SmtpOutbound, Target, Workspace
from replybench.netutil import free_port
from replybench.sandbox import Route, Sandbox
from replybench.store import Store

log = logging.getLogger(__name__)

BROWSER_CHANNELS = ("form", "chat")


@dataclass(frozen=True)
class Environment:
    """The channels of a run and the sandbox behind them when there is one.

    ``unavailable`` names the channels this machine cannot offer (name → why); their probes are skipped with
    that reason.
    """

    channels: Mapping[str, Channel]
    sandbox: Sandbox | None = None
    unavailable: Mapping[str, str] = field(default_factory=dict)


def sandbox_email_settings(base: EmailSettings, relay: tuple[str, int], inbound_port: int) -> EmailSettings:
    """Email settings that send through the sandbox relay and listen on a loopback inbound SMTP port."""
    return base.model_copy(
        update={
            "outbound": SmtpOutbound(
                host=relay[0],
                port=relay[1],
                security="none",
                connections=base.outbound.connections,
                sent_copy=base.outbound.sent_copy,
            ),
            "listener": "smtp",
            "smtp": SmtpInbound(host="127.0.0.1", port=inbound_port),
            "imap": None,
        }
    )


def _uses_browser(ws: Workspace) -> bool:
    return any(t.endpoints.form or t.endpoints.chat for t in ws.targets.values())


@asynccontextmanager
async def _browser_channels(
    ws: Workspace,
    form_url: Callable[[Target], str] | None,
    chat_url: Callable[[Target], str] | None,
) -> AsyncIterator[tuple[dict[str, Channel], dict[str, str]]]:
    """The web-form and chat channels over one shared browser pool, or why they cannot run here."""
    if not _uses_browser(ws):
        yield {}, {}
        return
    settings = ws.settings.browser
    reason = await browser_unavailable_reason(settings.executable)
    if reason is not None:
        log.warning("web-form and chat probes will be skipped: %s", reason)
        yield {}, dict.fromkeys(BROWSER_CHANNELS, reason)
        return
    pool = BrowserPool(size=settings.contexts, executable=settings.executable)
    channels: dict[str, Channel] = {
        "form": WebFormChannel(pool, url_for=form_url, screenshots=settings.screenshots),
        "chat": ChatChannel(
            pool, sessions=settings.chat_sessions, url_for=chat_url, screenshots=settings.screenshots
        ),
    }
    try:
        yield channels, {}
    finally:
        await pool.close()


def social_networks(ws: Workspace) -> list[str]:
    """The social networks some target of the workspace has an account on."""
    return [n for n in SOCIAL_NETWORKS if any(getattr(t.endpoints, n) for t in ws.targets.values())]


def _social_channels(
    ws: Workspace, store: Store, sandbox: Sandbox | None
) -> tuple[dict[str, Channel], dict[str, str]]:
    """The channels of the social networks the workspace uses, or why they cannot run here.

    Live: each network's real client with the personas' own accounts. Sandbox: Mastodon talks to the sandbox's
    Mastodon-compatible server, where every persona gets an account; the other networks have no simulation.
    """
    channels: dict[str, Channel] = {}
    unavailable: dict[str, str] = {}
    poll = ws.settings.social.poll_interval.total_seconds()
    for network in social_networks(ws):
        cls = channel_class(network)
        if sandbox is None:
            channels[network] = cls(ws.personas, store, poll_interval=poll)
        elif network == "mastodon":
            server = sandbox.mastodon
            secrets = {
                p.id: server.register(p.mastodon.account, p.display_name)
                for p in ws.personas.values()
                if p.mastodon is not None
            }
            channels[network] = cls(
                ws.personas, store, secrets=secrets, server=server.base_url, poll_interval=min(poll, 1.0)
            )
        else:
            unavailable[network] = f"the sandbox simulates Mastodon only; {network} probes need mode = 'live'"
    return channels, unavailable


@asynccontextmanager
async def open_environment(
    ws: Workspace, store: Store, *, seed: int = 0, time_scale: float = 1.0
) -> AsyncIterator[Environment]:
    """Start what a run needs (the sandbox in sandbox mode) and yield its channels; stop it all afterwards."""
    if ws.settings.mode == "live":
        social, social_unavailable = _social_channels(ws, store, None)
        async with _browser_channels(ws, None, None) as (browser, unavailable):
            yield Environment(
                {"email": EmailChannel(ws.settings.email, cursor=store), **browser, **social},
                None,
                {**unavailable, **social_unavailable},
            )
        return
    inbound_port = free_port()
    sandbox = Sandbox(
        list(ws.targets.values()),
        default_route=Route("127.0.0.1", inbound_port),
        seed=seed,
        time_scale=time_scale,
    )
    await sandbox.start()
    try:
        settings = sandbox_email_settings(ws.settings.email, sandbox.relay, inbound_port)
        email = EmailChannel(settings, cursor=store)
        web = sandbox.web if _uses_browser(ws) else None
        form_url = (lambda t: web.url(t.id, "form")) if web else None
        chat_url = (lambda t: web.url(t.id, "chat")) if web else None
        social, social_unavailable = _social_channels(ws, store, sandbox)
        async with _browser_channels(ws, form_url, chat_url) as (browser, unavailable):
            yield Environment(
                {"email": email, **browser, **social}, sandbox, {**unavailable, **social_unavailable}
            )
    finally:
        await sandbox.stop()
