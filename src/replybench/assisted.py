"""Assisted mode: a person posts a probe (X, Facebook), attaches its URL, and may type in the replies.

The engine never posts for an assisted persona: it renders the inquiry and leaves the probe ``assisted``, with
the text and where to post it. :func:`attach` makes it ``sent``: ``sent_at`` is the network's ``created_at``
of the post when the persona's credentials let replybench look it up, else the time the person gives (clock
``manual``). From then on the channel's listener tracks replies through the API where it can; otherwise
:func:`add_reply` records a reply the person saw, with its time, exactly like an observed one (stored raw
first, then matched and classified).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from replybench.channels.base import InboundItem, SendReceipt, channel_class
from replybench.channels.social import MANUAL_CLOCK, ManualReply, inbound_item, normalise_handle, post_key
from replybench.engine.ingest import Ingestor
from replybench.engine.runs import run_persona
from replybench.errors import ReplybenchError
from replybench.models import SOCIAL_NETWORKS, ProbeState, Workspace
from replybench.store import MessageRecord, ProbeRecord, RunRecord, Store
from replybench.timefmt import utcnow


class AssistedError(ReplybenchError):
    """An assisted-mode step that cannot be done as asked (the message says what to do instead)."""


class TimeNeeded(AssistedError):
    """The post cannot be looked up (no credentials): the person must say when it was posted."""


@dataclass(frozen=True)
class Attached:
    """What :func:`attach` did: the probe, when it was sent by which clock, and how that was learnt."""

    probe_id: str
    external_id: str
    sent_at: datetime
    clock: str
    looked_up: bool


def parse_when(text: str, tz: str | None = None) -> datetime:
    """A time a person typed, as UTC.

    ISO 8601 (``2026-11-24T10:03:00+01:00``; without an offset it is read in ``tz``, by default this
    machine's zone), or ``now``.
    """
    text = text.strip()
    if text.lower() == "now":
        return utcnow()
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise AssistedError(
            f"cannot read the time {text!r}; write it like 2026-11-24T10:03 or 2026-11-24T10:03:00+01:00"
        ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz)) if tz else when.astimezone()
    return when.astimezone(UTC)


def waiting(store: Store, run_id: str | None = None) -> list[ProbeRecord]:
    """Probes waiting for a person to post them, in due order."""
    return store.probes(run_id, [ProbeState.ASSISTED])


def _assisted_probe(store: Store, probe_id: str) -> tuple[ProbeRecord, RunRecord]:
    probe = store.get_probe(probe_id)
    if probe is None:
        raise AssistedError(f"no probe {probe_id!r} in this workspace's store")
    if probe.channel not in SOCIAL_NETWORKS:
        raise AssistedError(f"probe {probe_id} is a {probe.channel} probe; only social probes are attached")
    if probe.state is not ProbeState.ASSISTED:
        extra = f" (its post: {probe.external_id})" if probe.external_id else ""
        raise AssistedError(f"probe {probe_id} is {probe.state.value}, not waiting to be posted{extra}")
    run = store.get_run(probe.run_id)
    if run is None:
        raise AssistedError(f"probe {probe_id} belongs to a run that is not in the store")
    return probe, run


def post_id_from_url(network: str, url: str) -> str:
    """The network's id of the post (or message) a URL shows; AssistedError names the URLs understood."""
    module: Any = importlib.import_module(f"replybench.channels.{network}")
    try:
        return str(module.post_id_from_url(url))
    except ValueError as exc:
        raise AssistedError(str(exc)) from exc


async def attach(
    ws: Workspace, store: Store, probe_id: str, url: str, *, at: datetime | None = None
) -> Attached:
    """Record that a person posted an assisted probe at ``url``; it becomes ``sent``.

    With the persona's credentials the post is looked up: its author must be the persona, and ``sent_at`` is
    the network's ``created_at`` (``at`` is then ignored). Without them ``at`` is required.
    """
    probe, run = _assisted_probe(store, probe_id)
    network = probe.channel
    persona = run_persona(ws, run, probe.persona_id)
    post_id = post_id_from_url(network, url)
    channel = channel_class(network)(ws.personas, store)
    try:
        found = await channel.lookup(persona, post_id)
    finally:
        await channel.aclose()
    if found is not None:
        post, raw = found
        own = normalise_handle(probe.evidence.get("persona_account", ""))
        # Facebook reports app-scoped numeric ids, not the user names people write in a workspace.
        if own and network != "facebook" and normalise_handle(post.author) != own:
            raise AssistedError(
                f"the post at {url} was written by @{post.author}, not by the persona's account @{own}"
            )
        receipt = SendReceipt(
            sent_at=post.created_at,
            clock=post.clock,
            evidence={"post_id": post.id, "url": post.url or url, "attached": "looked up"},
            external_id=post.key,
        )
    elif at is None:
        raise TimeNeeded(
            f"replybench cannot look the post up (no {network} credentials for persona {persona.id});"
            " say when it was posted with --at (e.g. --at 2026-11-24T10:03)"
        )
    else:
        raw = None
        receipt = SendReceipt(
            sent_at=at,
            clock=MANUAL_CLOCK,
            evidence={"post_id": post_id, "url": url, "attached": "time given by a person"},
            external_id=post_key(network, post_id),
        )
    if store.probe_by_external_id(receipt.external_id or "") is not None:
        raise AssistedError(f"{url} is already attached to another probe")
    if not store.attach(probe.id, receipt, receipt.sent_at + timedelta(seconds=run.wait_limit_s)):
        raise AssistedError(f"probe {probe_id} changed state while attaching; look at `replybench status`")
    if raw is not None and found is not None:
        # Our own post is kept like every observed item (it is recognised as our copy).
        ingestor = Ingestor(store)
        message_id, _ = store.add_inbound(inbound_item(found[0], raw, f"{network}:attach"))
        ingestor.safe_process(message_id)
    return Attached(probe.id, receipt.external_id or "", receipt.sent_at, receipt.clock, found is not None)


def not_posted(store: Store, probe_id: str, reason: str) -> None:
    """A person decided not to post an assisted probe: it is skipped, with the reason."""
    probe, _ = _assisted_probe(store, probe_id)
    store.mark_skipped(probe.id, f"not posted: {reason}")


def add_reply(
    store: Store,
    probe_id: str,
    *,
    at: datetime,
    text: str,
    author: str,
    url: str | None = None,
    who: str | None = None,
) -> MessageRecord:
    """Record a reply a person saw on the network, with its time; matched to the probe and classified."""
    probe = store.get_probe(probe_id)
    if probe is None:
        raise AssistedError(f"no probe {probe_id!r} in this workspace's store")
    if probe.channel not in SOCIAL_NETWORKS:
        raise AssistedError(
            f"probe {probe_id} is a {probe.channel} probe; replies are typed in for social ones"
        )
    if probe.sent_at is None:
        raise AssistedError(f"probe {probe_id} is {probe.state.value}: attach its post first")
    if at < probe.sent_at:
        raise AssistedError(
            f"the reply's time {at.isoformat()} is before the probe was posted ({probe.sent_at.isoformat()})"
        )
    if not text.strip():
        raise AssistedError("the reply's text is empty")
    reply = ManualReply(probe.id, normalise_handle(author), text, at, url, who)
    raw = reply.to_json()
    key = post_key(probe.channel, reply.post_id)
    message_id, _ = store.add_inbound(
        InboundItem(probe.channel, raw, at, MANUAL_CLOCK, source=f"{probe.channel}:manual", key=key)
    )
    Ingestor(store).safe_process(message_id)
    record = store.get_message(message_id)
    assert record is not None
    return record
