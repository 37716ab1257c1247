"""What every social channel shares: the normalised post, raw items, composing, receipts, rate limits.

Each network (``mastodon``, ``bluesky``, ``x``, ``facebook``) is a channel of the same name. Its module turns
the network's raw API objects into :class:`SocialPost` (``parse_item``) and implements the Channel protocol
with the helpers here. The raw API object is what is stored (exactly the bytes received); a post is always
re-derivable from it. Times are the network's own (``created_at``), never when we noticed a post.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
from collections.abc import Awaitable, Callable, Collection, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from replybench.channels.base import InboundItem, InboundSink, OutboundProbe, SendReceipt
from replybench.errors import ReplybenchError, SendFailed
from replybench.models import SOCIAL_NETWORKS, Persona, SocialEndpoint, SocialIdentity, Target
from replybench.timefmt import utcnow

log = logging.getLogger(__name__)

#: Clock name of a time a person typed in (assisted mode without API access).
MANUAL_CLOCK = "manual"


class MalformedSocialItem(ReplybenchError):
    """A stored social item that is not the API object its channel expects."""


def normalise_handle(handle: str) -> str:
    """A handle as replybench compares it: no leading ``@``, no spaces, lower case."""
    return handle.strip().lstrip("@").lower()


@dataclass(frozen=True)
class SocialPost:
    """One post, reply, comment or direct message, as every social channel describes it.

    ``author`` and ``mentions`` are normalised handles (:func:`normalise_handle`); on Mastodon they are
    always ``user@domain``. ``in_reply_to`` is the id of the post this one answers; ``root`` the id of the
    thread's first post (Bluesky root, X conversation id, Facebook top-level object) when the network says.
    ``created_at`` is the network's timestamp, named by ``clock`` (e.g. ``mastodon-created_at``). ``bot`` is
    true when the network itself marks the account as automated. ``extra`` keeps other facts worth showing
    (e.g. Bluesky's ``indexed_at``).
    """

    network: str
    id: str
    author: str
    created_at: datetime
    clock: str
    text: str
    url: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    in_reply_to: str | None = None
    root: str | None = None
    mentions: tuple[str, ...] = ()
    direct: bool = False
    bot: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The post's id across networks (``network:id``): the store de-duplicates and threads by it."""
        return post_key(self.network, self.id)


def post_key(network: str, post_id: str) -> str:
    """The store's key of a network's post id."""
    return f"{network}:{post_id}"


# ------------------------------------------------------------------------------------------ raw items


@dataclass(frozen=True)
class ManualReply:
    """A reply a person saw and typed in (``replybench add-reply``), stored as raw JSON like an API object."""

    probe_id: str
    author: str
    text: str
    created_at: datetime
    url: str | None = None
    who: str | None = None

    @property
    def post_id(self) -> str:
        """The reply's id in the store: from its URL when the person gave one, else probe and time."""
        return "manual-" + (self.url or f"{self.probe_id}-{int(self.created_at.timestamp() * 1000)}")

    def to_json(self) -> bytes:
        """The stored form (the raw item)."""
        return json.dumps(
            {
                "replybench_manual_reply": {
                    "probe_id": self.probe_id,
                    "author": self.author,
                    "text": self.text,
                    "created_at": self.created_at.astimezone(UTC).isoformat(timespec="milliseconds"),
                    "url": self.url,
                    "who": self.who,
                }
            },
            ensure_ascii=False,
            sort_keys=True,
        ).encode()


def manual_reply_of(raw: bytes) -> ManualReply | None:
    """The manual reply a raw item holds, or None when it is an API object."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    entry = data.get("replybench_manual_reply") if isinstance(data, dict) else None
    if not isinstance(entry, dict):
        return None
    try:
        return ManualReply(
            probe_id=str(entry["probe_id"]),
            author=normalise_handle(str(entry["author"])),
            text=str(entry["text"]),
            created_at=datetime.fromisoformat(str(entry["created_at"])),
            url=entry.get("url"),
            who=entry.get("who"),
        )
    except (KeyError, ValueError) as exc:
        raise MalformedSocialItem(f"manual reply without a valid {exc}") from exc


def parse_item(network: str, raw: bytes) -> SocialPost:
    """The post a stored raw API object of ``network`` describes (raises MalformedSocialItem)."""
    if network not in SOCIAL_NETWORKS:
        raise MalformedSocialItem(f"{network!r} is not a social network")
    manual = manual_reply_of(raw)
    if manual is not None:
        return SocialPost(
            network=network,
            id=manual.post_id,
            author=manual.author,
            created_at=manual.created_at,
            clock=MANUAL_CLOCK,
            text=manual.text,
            url=manual.url,
        )
    module = importlib.import_module(f"replybench.channels.{network}")
    post: SocialPost = module.parse_item(raw)
    return post


def inbound_item(post: SocialPost, raw: bytes, source: str) -> InboundItem:
    """The inbound item of a post: the raw API object, timed by the network's own timestamp."""
    return InboundItem(
        channel=post.network,
        raw=raw,
        received_at=post.created_at,
        clock=post.clock,
        source=source,
        key=post.key,
    )


# ------------------------------------------------------------------------------------------ composing


def endpoint_of(target: Target, network: str) -> SocialEndpoint:
    """The target's account on ``network`` (SendFailed when it has none)."""
    endpoint = getattr(target.endpoints, network, None)
    if not isinstance(endpoint, SocialEndpoint):
        raise SendFailed(f"target {target.id!r} has no {network} account")
    return endpoint


def identity_of(persona: Persona, network: str) -> SocialIdentity:
    """The persona's account on ``network`` (SendFailed when it has none)."""
    identity = persona.social(network)
    if identity is None:
        raise SendFailed(f"persona {persona.id!r} has no {network} account")
    return identity


def mention_handle(network: str, account: str) -> str:
    """How a post names an account so the network links it: ``@user@domain``, ``@handle``."""
    return "@" + account.strip().lstrip("@")


def compose_post(probe: OutboundProbe, network: str, max_chars: int) -> str:
    """The text of a probe's post: a mention of the company first (for a public mention), then the body.

    Raises SendFailed (certainly not sent) when the text is longer than the network allows; the script's
    body must be written for the channel.
    """
    endpoint = endpoint_of(probe.target, network)
    body = probe.body.strip()
    # A Mastodon direct message is a status that mentions its recipient; an X or Facebook message and a
    # Facebook comment on the Page's post need no mention.
    mentions = network == "mastodon" or (endpoint.how == "mention" and network != "facebook")
    text = f"{mention_handle(network, endpoint.account)} {body}" if mentions else body
    if len(text) > max_chars:
        raise SendFailed(
            f"the {network} post of probe {probe.probe_id} is {len(text)} characters; {network} allows"
            f" {max_chars}. Shorten the body of script for this channel."
        )
    return text


def company_accounts(target: Target, network: str) -> list[str]:
    """The normalised handles whose replies count as the company's on ``network``.

    On Mastodon an ``also`` account written without a domain lives on the main account's instance.
    """
    endpoint = endpoint_of(target, network)
    main = normalise_handle(endpoint.account)
    accounts = [main]
    for other in endpoint.also:
        handle = normalise_handle(other)
        if network == "mastodon" and "@" not in handle and "@" in main:
            handle += "@" + main.split("@", 1)[1]
        accounts.append(handle)
    return accounts


def probe_facts(probe: OutboundProbe, network: str) -> dict[str, Any]:
    """The facts about a probe's post that matching needs later, kept in its send evidence.

    ``company_accounts``: whose replies count; ``persona_account``: our own account (its posts are copies of
    ours, not replies); ``how``: mention or direct.
    """
    endpoint = endpoint_of(probe.target, network)
    identity = identity_of(probe.persona, network)
    return {
        "network": network,
        "company_accounts": company_accounts(probe.target, network),
        "persona_account": normalise_handle(identity.account),
        "how": endpoint.how,
    }


def max_chars(network: str) -> int:
    """The longest post ``network`` takes (its channel module's ``MAX_CHARS``)."""
    limit: int = importlib.import_module(f"replybench.channels.{network}").MAX_CHARS
    return limit


def assisted_instructions(probe: OutboundProbe, network: str) -> dict[str, Any]:
    """What a person needs to post a probe by hand, kept as the probe's evidence until it is attached.

    Raises SendFailed when the text cannot be posted (too long, no account).
    """
    endpoint = endpoint_of(probe.target, network)
    text = compose_post(probe, network, max_chars(network))
    persona = identity_of(probe.persona, network).account
    where = endpoint.url or mention_handle(network, endpoint.account)
    kind = {"mention": "a public post mentioning", "direct": "a direct message to"}[endpoint.how]
    if network == "facebook":
        kind = {"mention": "a comment on a post of", "direct": "a Messenger message to"}[endpoint.how]
    return {
        **probe_facts(probe, network),
        "text": text,
        "post_to": where,
        "instruction": f"Post {kind} {where} as {mention_handle(network, persona)}",
    }


def receipt_for(post: SocialPost, facts: Mapping[str, Any], **evidence: Any) -> SendReceipt:
    """The receipt of a post we made: ``sent_at`` is the network's ``created_at`` for it."""
    return SendReceipt(
        sent_at=post.created_at,
        clock=post.clock,
        evidence={**facts, "post_id": post.id, "url": post.url, **evidence},
        external_id=post.key,
    )


def secret_of(identity: SocialIdentity) -> str | None:
    """The token or password an identity names, from the environment (None when unset or empty)."""
    if identity.token_env is None:
        return None
    return os.environ.get(identity.token_env) or None


def missing_secrets(
    personas: Mapping[str, Persona], network: str, supplied: Collection[str] = ()
) -> list[str]:
    """Names of the environment variables the personas' ``network`` accounts need and that are unset.

    Personas whose id is in ``supplied`` got their secret another way (the sandbox issues its own).
    """
    missing: list[str] = []
    for persona in personas.values():
        identity = persona.social(network)
        if identity is None or persona.id in supplied:
            continue
        if identity.token_env is None:
            if persona.social_mode(network) == "automatic":
                missing.append(f"{persona.id}.{network}.token_env (not configured)")
        elif not os.environ.get(identity.token_env):
            missing.append(identity.token_env)
    return sorted(set(missing))


# ------------------------------------------------------------------------------------------ rate limits


class RateLimitHeaders(Protocol):
    """Reads a network's rate-limit headers."""

    def __call__(self, response: httpx.Response, now: datetime) -> datetime | None:
        """When requests may resume, if the response says to wait (None: go on)."""
        ...


def retry_after(response: httpx.Response, now: datetime) -> datetime | None:
    """The time a ``Retry-After`` header (seconds or an HTTP date) names, if any."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def reset_time(value: str | None) -> datetime | None:
    """A rate-limit reset header: epoch seconds (X, Bluesky) or an ISO 8601 time (Mastodon)."""
    if not value:
        return None
    value = value.strip()
    try:
        if value.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(value), UTC)
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class RateLimited(ReplybenchError):
    """The network asked us to wait longer than we are willing to (``until``)."""

    def __init__(self, message: str, until: datetime):
        super().__init__(message)
        self.until = until


@dataclass
class RateGate:
    """Honours a network's rate limits for one account: waits on 429 + Retry-After and on exhausted quotas.

    ``remaining`` / ``reset`` name the headers that announce the quota (e.g. ``x-ratelimit-remaining`` and
    ``x-ratelimit-reset``); when the quota is used up, the next request waits for the reset. A 429 waits for
    ``Retry-After``, else the reset, else ``fallback``. Waits longer than ``max_wait`` raise RateLimited.
    """

    remaining: str = "x-ratelimit-remaining"
    reset: str = "x-ratelimit-reset"
    fallback: timedelta = timedelta(seconds=60)
    max_wait: timedelta = timedelta(minutes=20)
    resume_at: datetime | None = None
    waits: int = 0

    async def before(self) -> None:
        """Sleep until the network allows the next request."""
        if self.resume_at is None:
            return
        delay = (self.resume_at - utcnow()).total_seconds()
        self.resume_at = None
        if delay > 0:
            self.waits += 1
            log.info("rate limit: waiting %.1f s", delay)
            await asyncio.sleep(delay)

    def after(self, response: httpx.Response) -> bool:
        """Read a response's headers; True when it was a 429 (the request should be repeated later)."""
        now = utcnow()
        reset = reset_time(response.headers.get(self.reset))
        if response.status_code == 429:
            until = retry_after(response, now) or reset or now + self.fallback
            self._wait_until(until, now)
            return True
        remaining = response.headers.get(self.remaining)
        if remaining is not None and remaining.strip().isdigit() and int(remaining) <= 0 and reset:
            self._wait_until(reset, now)
        return False

    def _wait_until(self, until: datetime, now: datetime) -> None:
        if until - now > self.max_wait:
            raise RateLimited(
                f"rate limited until {until.isoformat(timespec='seconds')}; longer than the"
                f" {self.max_wait.total_seconds():.0f} s we wait",
                until,
            )
        self.resume_at = max(until, self.resume_at or until)


async def send_request(
    client: httpx.AsyncClient,
    gate: RateGate,
    method: str,
    url: str,
    *,
    attempts: int = 5,
    **kwargs: Any,
) -> httpx.Response:
    """One API request that honours the rate gate; a 429 is waited out and repeated (it created nothing).

    Any other response is returned as it is, for the caller to judge.
    """
    for _ in range(attempts):
        await gate.before()
        response = await client.request(method, url, **kwargs)
        if not gate.after(response):
            return response
    return response


# ------------------------------------------------------------------------------------------ listening


async def poll_forever(
    label: str,
    poll_once: Callable[[], Awaitable[None]],
    *,
    interval: float,
    max_backoff: float,
    scrub: Callable[[str], str] = str,
) -> None:
    """Run ``poll_once`` every ``interval`` seconds until cancelled; a failed round never ends it.

    A rate limit is waited out until its reset; any other error is logged (through ``scrub``, which removes
    secrets) and retried with a doubling delay up to ``max_backoff``.
    """
    delay = interval
    while True:
        try:
            await poll_once()
        except asyncio.CancelledError:
            raise
        except RateLimited as exc:
            wait = max((exc.until - utcnow()).total_seconds(), interval)
            log.warning("%s: %s; resuming in %.0f s", label, exc, wait)
            await asyncio.sleep(wait)
            continue
        except Exception as exc:  # network trouble or a bug in one round must not end the listener
            log.warning(
                "%s failed (%s); retrying in %.0f s", label, scrub(f"{type(exc).__name__}: {exc}"), delay
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_backoff)
            continue
        delay = interval
        await asyncio.sleep(interval)


async def listen_per_persona(
    personas: Sequence[Persona], listen_one: Callable[[Persona], Coroutine[Any, Any, None]]
) -> None:
    """Run one listener per persona until cancelled (with none, just wait to be cancelled)."""
    if not personas:
        await asyncio.Event().wait()
    async with asyncio.TaskGroup() as group:
        for persona in personas:
            group.create_task(listen_one(persona))


def credential_names(personas: Mapping[str, Persona], network: str) -> tuple[str, ...]:
    """The environment variables the personas' ``network`` accounts name, sorted."""
    return tuple(
        sorted(
            {i.token_env for p in personas.values() if (i := p.social(network)) and i.token_env is not None}
        )
    )


class PersonaAccounts:
    """The personas' accounts on one network: their secrets, API base URLs and cursor sources.

    For a channel that sets ``name``, ``personas``, ``_secrets`` (persona id → secret passed in, overriding
    the environment) and ``_server`` (an API URL overriding every persona's, or None).
    """

    name: str
    personas: dict[str, Persona]
    _secrets: dict[str, str]
    _server: str | None

    def _identity_personas(self) -> list[Persona]:
        return [p for p in self.personas.values() if p.social(self.name) is not None]

    def _secret(self, persona: Persona) -> str | None:
        if persona.id in self._secrets:
            return self._secrets[persona.id]
        identity = persona.social(self.name)
        return secret_of(identity) if identity is not None else None

    def _base(self, persona: Persona) -> str:
        return self._server or persona.social_server(self.name)

    def _source(self, persona: Persona) -> str:
        identity = identity_of(persona, self.name)
        host = urlsplit(self._base(persona)).netloc or self._base(persona)
        return f"{self.name}:{host}:{normalise_handle(identity.account)}"

    def _scrub(self, text: str) -> str:
        """``text`` without any secret this channel knows (for logs and exception messages)."""
        for persona in self._identity_personas():
            secret = self._secret(persona)
            if secret:
                text = text.replace(secret, "***")
        return text


class PollingChannel(PersonaAccounts):
    """A social channel that hears replies by polling: one loop per persona that has a secret.

    Sets ``poll_interval``, ``max_backoff`` and ``label`` (the network's name in logs) and implements
    :meth:`poll_once`.
    """

    label: str
    poll_interval: float
    max_backoff: float

    async def poll_once(self, persona: Persona, sink: InboundSink) -> None:
        """One round of reading a persona's replies."""
        raise NotImplementedError

    async def listen(self, sink: InboundSink) -> None:
        """Poll, until cancelled, for every persona that has a secret (a failed round never ends it)."""
        personas = [p for p in self._identity_personas() if self._secret(p) is not None]
        await listen_per_persona(
            personas,
            lambda persona: poll_forever(
                f"{self.label} listener for {persona.id}",
                lambda: self.poll_once(persona, sink),
                interval=self.poll_interval,
                max_backoff=self.max_backoff,
                scrub=self._scrub,
            ),
        )
