"""The Channel protocol (send / listen / describe), the values that cross it, and the channel registry.

A channel does one real action per probe and reports evidence; it never decides probe states. The dispatcher
commits ``sending`` (with the pre-generated Message-ID) before calling :meth:`Channel.send`, so a crash inside
``send`` can never lead to a second send.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from replybench.errors import ChannelError
from replybench.models import Persona, Target


@dataclass(frozen=True)
class OutboundProbe:
    """Everything a channel needs to send one inquiry."""

    probe_id: str
    token: str
    target: Target
    persona: Persona
    subject: str
    body: str
    message_id: str
    reply_address: str


@dataclass(frozen=True)
class SendReceipt:
    """Proof that the company's side accepted the inquiry, with the authoritative ``sent_at``.

    ``evidence`` is JSON-ready and stored on the probe; ``artifacts`` (name → bytes, such as screenshots) are
    stored beside it. ``horizon`` shortens the suite's wait limit for this probe (a chat is watched for
    minutes, not days). ``external_id`` is the network's id of what was posted (``mastodon:1234``): replies
    that thread to it find the probe.
    """

    sent_at: datetime
    clock: str
    evidence: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)
    horizon: timedelta | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class InboundItem:
    """One observed inbound item, exactly as received: the raw bytes plus how and when it arrived.

    ``received_at`` is server-side (our SMTP server's receipt time, IMAP INTERNALDATE, an API's created_at);
    ``clock`` names which. ``source``/``uidvalidity``/``uid`` identify a mailbox position for de-duplication.
    ``key`` is a network's own id of the item (``mastodon:1234``): an item seen twice (stream and poll) is
    stored once, and later replies thread to it.
    """

    channel: str
    raw: bytes
    received_at: datetime
    clock: str
    source: str
    uidvalidity: int | None = None
    uid: int | None = None
    envelope_from: str | None = None
    envelope_to: tuple[str, ...] = ()
    key: str | None = None


InboundSink = Callable[[InboundItem], Awaitable[None]]
"""Receives every inbound item; it returns only once the raw item is durably stored."""


@dataclass(frozen=True)
class ChannelDescription:
    """What a channel can do and needs, shown by ``replybench check`` and used by the planner."""

    name: str
    needs_browser: bool = False
    credentials: tuple[str, ...] = ()
    missing_credentials: tuple[str, ...] = ()
    listens_with: str = ""
    notes: str = ""
    concurrency: int = 1


@runtime_checkable
class Channel(Protocol):
    """One way of asking a company something and hearing back."""

    name: str

    async def send(self, probe: OutboundProbe) -> SendReceipt:
        """Do the one real action, or raise why not.

        SendFailed: certainly not sent. SendUncertain: may have been sent. SendBlocked: a CAPTCHA or a login
        wall stood in the way.
        """
        ...

    async def listen(self, sink: InboundSink) -> None:
        """Run until cancelled, pushing every inbound item into ``sink`` (raw first)."""
        ...

    def describe(self) -> ChannelDescription:
        """Capabilities and requirements."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class PacedChannel(Channel, Protocol):
    """A channel whose sends hold a resource after they return (a chat being watched).

    The engine claims a probe for such a channel only while :meth:`ready` is true, so a probe never waits
    in ``sending`` for a free slot (a crash there would make an unsent probe look uncertain).
    """

    def ready(self) -> bool:
        """True when a send could start right now."""
        ...


@runtime_checkable
class ReconcilingChannel(Channel, Protocol):
    """A channel that can look, after a crash, for what an interrupted send posted (a social network).

    ``find_sent`` returns the receipt of the probe's post when it finds one made at or after ``since``.
    """

    async def find_sent(self, probe: OutboundProbe, since: datetime) -> SendReceipt | None:
        """The receipt of the probe's post, if the network shows it was made."""
        ...


def channel_classes() -> dict[str, type]:
    """Channel implementations registered under the ``replybench.channels`` entry-point group."""
    found: dict[str, type] = {}
    for ep in entry_points(group="replybench.channels"):
        found[ep.name] = ep.load()
    return found


def channel_class(name: str) -> type:
    """The implementation of channel ``name``, or a ChannelError that lists the known channels."""
    classes = channel_classes()
    if name not in classes:
        raise ChannelError(
            f"unknown channel {name!r}; installed channels: {', '.join(sorted(classes)) or 'none'}"
        )
    return classes[name]
