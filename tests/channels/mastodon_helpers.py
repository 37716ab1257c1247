"""Fixtures of the Mastodon tests: sandbox companies, personas, a collecting sink, and waiting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from replybench.channels.base import InboundItem
from replybench.channels.mastodon import MastodonChannel
from replybench.models import (
    EmailIdentity,
    Endpoints,
    Persona,
    SandboxBehaviour,
    SocialEndpoint,
    SocialIdentity,
    Target,
)
from replybench.sandbox.mastodon import SandboxMastodon
from replybench.store import Store, open_store
from replybench.timefmt import utcnow

DOMAIN = "social.sandbox.example"
#: Company replies in well under a second: ack ≈ 3 ms, a person's answer ≈ 30 ms (median).
SCALE = 100.0
TOKEN_ENV = "REPLYBENCH_TEST_ANNA_MASTODON_TOKEN"


def company(
    cid: str,
    profile: str = "fast",
    *,
    how: str = "mention",
    also: tuple[str, ...] = (),
    domain: str = DOMAIN,
    **overrides: Any,
) -> Target:
    """A sandbox company whose Mastodon account is ``<cid>@<domain>``."""
    return Target(
        id=cid,
        name=f"{cid.capitalize()} Inc",
        endpoints=Endpoints(
            mastodon=SocialEndpoint(
                account=f"{cid}@{domain}", also=[a if "@" in a else f"{a}@{domain}" for a in also], how=how
            )  # type: ignore[arg-type]
        ),
        sandbox=SandboxBehaviour(profile=profile, **overrides),  # type: ignore[arg-type]
    )


def persona(
    pid: str = "anna",
    display_name: str = "Anna Example",
    token_env: str | None = TOKEN_ENV,
    domain: str = DOMAIN,
) -> Persona:
    """A persona with a mailbox and a Mastodon account ``<pid>@<domain>`` (served by the sandbox server)."""
    return Persona(
        id=pid,
        display_name=display_name,
        email=EmailIdentity(address=f"{pid}@probe.example"),
        mastodon=SocialIdentity(
            account=f"{pid}@{domain}", server="https://social.sandbox.example", token_env=token_env
        ),
    )


@dataclass
class Sink:
    """Collects pushed items with the moment each was noticed; can fail on purpose."""

    items: list[InboundItem] = field(default_factory=list)
    noticed: list[datetime] = field(default_factory=list)
    fail: bool = False

    async def __call__(self, item: InboundItem) -> None:
        if self.fail:
            raise RuntimeError("the store is down")
        self.items.append(item)
        self.noticed.append(utcnow())

    def keys(self) -> list[str | None]:
        return [i.key for i in self.items]


@dataclass
class World:
    server: SandboxMastodon
    store: Store
    channel: MastodonChannel
    anna: Persona
    token: str
    sink: Sink
    listener: asyncio.Task[None] | None = None

    def listen(self) -> None:
        self.listener = asyncio.get_running_loop().create_task(self.channel.listen(self.sink))


@asynccontextmanager
async def world(
    tmp_path: Path,
    companies: list[Target],
    *,
    listen: bool = False,
    configure: Callable[[SandboxMastodon], None] | None = None,
    **channel_options: Any,
) -> AsyncIterator[World]:
    """A started sandbox server, a store, a persona registered there and a channel for her."""
    server = SandboxMastodon(companies, time_scale=SCALE, heartbeat=0.5)
    if configure is not None:
        configure(server)
    await server.start()
    store = open_store(str(tmp_path / "s.sqlite3"))
    anna = persona()
    token = server.register("anna", anna.display_name)
    options: dict[str, Any] = {"poll_interval": 0.1, "reconnect_delay": 0.05, "max_backoff": 0.2}
    options.update(channel_options)
    channel = MastodonChannel(
        {"anna": anna}, store, secrets={"anna": token}, server=server.base_url, **options
    )
    w = World(server, store, channel, anna, token, Sink())
    if listen:
        w.listen()
    try:
        yield w
    finally:
        if w.listener is not None:
            w.listener.cancel()
            await asyncio.gather(w.listener, return_exceptions=True)
        for opened in {id(channel): channel, id(w.channel): w.channel}.values():
            await opened.aclose()
        await server.stop()
        store.close()
