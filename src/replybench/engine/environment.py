"""Build the channels a run uses: against the embedded sandbox (default) or the real world (``mode = "live"``).

In sandbox mode the simulated companies run in this process on loopback: their relay receives the probes and
their replies come back to our inbound SMTP server on a free port. Nothing leaves the machine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from replybench.channels.base import Channel
from replybench.channels.email import EmailChannel
from replybench.models import EmailSettings, SmtpInbound, SmtpOutbound, Workspace
from replybench.netutil import free_port
from replybench.sandbox import Route, Sandbox
from replybench.store import Store


@dataclass(frozen=True)
class Environment:
    """The channels of a run, and the sandbox behind them when there is one."""

    channels: Mapping[str, Channel]
    sandbox: Sandbox | None = None


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


@asynccontextmanager
async def open_environment(
    ws: Workspace, store: Store, *, seed: int = 0, time_scale: float = 1.0
) -> AsyncIterator[Environment]:
    """Start what a run needs (the sandbox in sandbox mode) and yield its channels; stop it all afterwards."""
    if ws.settings.mode == "live":
        yield Environment({"email": EmailChannel(ws.settings.email, cursor=store)})
        return
    inbound_port = free_port()
    companies = [t for t in ws.targets.values() if t.endpoints.email is not None]
    sandbox = Sandbox(
        companies, default_route=Route("127.0.0.1", inbound_port), seed=seed, time_scale=time_scale
    )
    await sandbox.start()
    try:
        settings = sandbox_email_settings(ws.settings.email, sandbox.relay, inbound_port)
        yield Environment({"email": EmailChannel(settings, cursor=store)}, sandbox)
    finally:
        await sandbox.stop()
