"""The Bluesky channel: a public post mentioning the company, replies from notifications and thread lookups.

Everything goes through the ``atproto`` SDK (``AsyncClient``): login with the persona's handle and app password
(``com.atproto.server.createSession``; the SDK then talks to the PDS its session's DID document names), the
company's handle resolved to a DID (``com.atproto.identity.resolveHandle``) for the mention facet, and the post
created as an ``app.bsky.feed.post`` record. The receipt's ``sent_at`` is the record's ``createdAt``.

Listening polls ``app.bsky.notification.listNotifications`` (mentions, replies, quotes) and, now and then, the
thread of every watched probe (``app.bsky.feed.getPostThread``), because a reply to a reply notifies only the
author of the parent. Each notification or thread post view is pushed as its own raw JSON object, exactly as the
API sent it (the reads use the SDK's ``invoke_query`` so the stored bytes are not re-serialised by its models).

Times come from the records: ``createdAt`` as the author's client wrote it, unless it is later than the
AppView's ``indexedAt`` or more than ten minutes before it (a lying clock, a backdated post); then ``indexedAt``.

Bluesky limits a post to 300 graphemes (and 3000 UTF-8 bytes). :func:`~replybench.channels.social.compose_post`
counts code points, which are never fewer than graphemes: the check is conservative (a text it accepts always
fits; a 300-grapheme text of composed emoji may be refused), and 300 code points are at most 1200 bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from atproto_client import AsyncClient, models  # type: ignore[import-untyped]
from atproto_client.exceptions import (  # type: ignore[import-untyped]
    InvokeTimeoutError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.request import AsyncRequest  # type: ignore[import-untyped]
from atproto_client.utils import facet_detection  # type: ignore[import-untyped]

from replybench.channels import social
from replybench.channels.base import ChannelDescription, InboundItem, InboundSink, OutboundProbe, SendReceipt
from replybench.channels.social import MalformedSocialItem, RateGate, RateLimited, SocialPost
from replybench.errors import ChannelError, SendFailed, SendOutcomeError, SendUncertain
from replybench.models import Persona, SocialIdentity
from replybench.store import Store
from replybench.timefmt import utcnow

log = logging.getLogger(__name__)

NETWORK = "bluesky"
#: Bluesky's limit is 300 graphemes; compose_post counts code points (conservative, see the module doc).
MAX_CHARS = 300
#: Clock of a post timed by its record's ``createdAt`` (the author's client).
CREATED_CLOCK = "bluesky-createdAt"
#: Clock of a post timed by the AppView's ``indexedAt`` (when ``createdAt`` cannot be trusted).
INDEXED_CLOCK = "bluesky-indexedAt"
#: How far ``createdAt`` may precede ``indexedAt`` before it is taken for a lie (federation can lag).
MAX_INDEX_LAG = timedelta(minutes=10)
#: Notification reasons that can be an answer to a probe.
REASONS = ("mention", "reply", "quote")

POST_COLLECTION = "app.bsky.feed.post"
_MENTION_FEATURE = "app.bsky.richtext.facet#mention"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HANDLE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_THREAD_DEPTH = 100
_PAGE = 100
_MAX_BACKOFF = 300.0

T = TypeVar("T")


# ------------------------------------------------------------------------------------------ parsing


def _parse_time(value: Any) -> datetime | None:
    """An atproto datetime (RFC 3339, with a zone) as aware UTC; None when it is not one."""
    if not isinstance(value, str) or not 10 < len(value) < 64:
        return None
    try:
        when = datetime.fromisoformat(value)
        if when.tzinfo is None or when.utcoffset() is None:
            return None
        return when.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _epoch_ms(value: Any) -> int | None:
    """An atproto datetime as milliseconds since the epoch (the listener's cursor)."""
    when = _parse_time(value)
    return None if when is None else (when - _EPOCH) // timedelta(milliseconds=1)


def _str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def web_url(handle: str, uri: str) -> str | None:
    """The bsky.app address of a post (``https://bsky.app/profile/<handle>/post/<rkey>``)."""
    parts = uri.removeprefix("at://").split("/")
    if not uri.startswith("at://") or len(parts) != 3 or parts[1] != POST_COLLECTION or not parts[2]:
        return None
    return f"https://bsky.app/profile/{handle}/post/{parts[2]}"


def _mentions(text: str, record: Mapping[str, Any], author_did: str, author_handle: str) -> tuple[str, ...]:
    """Handles a post mentions: its mention facets, then ``@handle`` in the text.

    A facet names a DID; its handle is the author's when the DID is the author's, else the ``@handle`` the
    facet covers in the text, else the DID itself is kept.
    """
    found: list[str] = []
    encoded = text.encode()
    facets = record.get("facets")
    for facet in facets if isinstance(facets, list) else []:
        if not isinstance(facet, dict) or not isinstance(facet.get("features"), list):
            continue
        for feature in facet["features"]:
            if not isinstance(feature, dict) or feature.get("$type") != _MENTION_FEATURE:
                continue
            did = _str(feature, "did")
            if not did:
                continue
            handle = author_handle if did == author_did else _covered_handle(encoded, facet.get("index"))
            found.append(handle or did)
    found.extend(m.handle for m in facet_detection.detect_mentions(text))
    unique: dict[str, None] = {}
    for mention in found:
        unique.setdefault(social.normalise_handle(mention))
    return tuple(m for m in unique if m)


def _covered_handle(encoded: bytes, index: Any) -> str | None:
    """The handle an ``@handle`` facet covers, read from the UTF-8 text by its byte slice."""
    if not isinstance(index, dict):
        return None
    start, end = index.get("byteStart"), index.get("byteEnd")
    if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(encoded):
        return None
    try:
        covered = encoded[start:end].decode()
    except UnicodeDecodeError:
        return None
    handle = covered[1:] if covered.startswith("@") else ""
    return handle if _HANDLE.match(handle) and "." in handle else None


def _reply_uri(reply: Any, which: str) -> str | None:
    ref = reply.get(which) if isinstance(reply, dict) else None
    return _str(ref, "uri") if isinstance(ref, dict) else None


def _quoted_uri(record: Mapping[str, Any]) -> str | None:
    """The post a quote embeds (``app.bsky.embed.record``, or the record of ``recordWithMedia``)."""
    embed = record.get("embed")
    if not isinstance(embed, dict):
        return None
    inner = embed.get("record")
    if isinstance(inner, dict) and isinstance(inner.get("record"), dict):  # recordWithMedia
        inner = inner["record"]
    return _str(inner, "uri") if isinstance(inner, dict) else None


def post_time(created: Any, indexed: Any) -> tuple[datetime, str]:
    """The time of a post and its clock: ``createdAt`` unless ``indexedAt`` shows it cannot be trusted.

    ``createdAt`` is used when it is at most ``indexedAt`` and at most ten minutes before it; otherwise (a
    client clock ahead, or a backdated post) ``indexedAt``. Raises MalformedSocialItem when neither is a time.
    """
    created_at, indexed_at = _parse_time(created), _parse_time(indexed)
    if created_at is None and indexed_at is None:
        raise MalformedSocialItem("the Bluesky item has neither a record createdAt nor an indexedAt time")
    if indexed_at is None:
        assert created_at is not None
        return created_at, CREATED_CLOCK
    if created_at is None or created_at > indexed_at or indexed_at - created_at > MAX_INDEX_LAG:
        return indexed_at, INDEXED_CLOCK
    return created_at, CREATED_CLOCK


def parse_item(raw: bytes) -> SocialPost:
    """The post a stored raw Bluesky object describes: a notification or a post view (``app.bsky.feed.defs``).

    Raises MalformedSocialItem for anything else (a follow or like notification, broken JSON, missing fields).
    """
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedSocialItem(f"a Bluesky item must be a JSON object: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedSocialItem("a Bluesky item must be a JSON object (a notification or a post view)")
    uri = _str(data, "uri")
    if not uri or not uri.startswith("at://"):
        raise MalformedSocialItem("the Bluesky item has no at:// uri")
    author = data.get("author")
    if not isinstance(author, dict):
        raise MalformedSocialItem(f"the Bluesky item {uri} has no author")
    did, handle = _str(author, "did"), _str(author, "handle")
    if not did or not handle:
        raise MalformedSocialItem(f"the author of the Bluesky item {uri} has no did or handle")
    record = data.get("record")
    if not isinstance(record, dict) or record.get("$type") != POST_COLLECTION:
        kind = record.get("$type") if isinstance(record, dict) else type(record).__name__
        raise MalformedSocialItem(f"the Bluesky item {uri} is not a post (its record is {kind!r})")
    text = record.get("text")
    if not isinstance(text, str):
        raise MalformedSocialItem(f"the Bluesky post {uri} has no text")
    created_raw, indexed_raw = record.get("createdAt"), data.get("indexedAt")
    created_at, clock = post_time(created_raw, indexed_raw)
    # Bluesky shows "handle.invalid" for an account whose handle no longer verifies: the DID is its name.
    name = did if handle.lower() == "handle.invalid" else handle
    extra = {
        "created_at": created_raw,
        "indexed_at": indexed_raw,
        "cid": data.get("cid"),
        "reason": data.get("reason"),
        "quote_of": _quoted_uri(record),
    }
    labels = author.get("labels")
    return SocialPost(
        network=NETWORK,
        id=uri,
        author=social.normalise_handle(name),
        created_at=created_at,
        clock=clock,
        text=text,
        url=web_url(name, uri),
        author_id=did,
        author_name=_str(author, "displayName"),
        in_reply_to=_reply_uri(record.get("reply"), "parent"),
        root=_reply_uri(record.get("reply"), "root"),
        mentions=_mentions(text, record, did, name),
        bot=isinstance(labels, list) and any(isinstance(x, dict) and x.get("val") == "bot" for x in labels),
        extra={k: v for k, v in extra.items() if isinstance(v, str)},
    )


# ------------------------------------------------------------------------------------------ facets


def mention_spans(text: str, handle: str) -> list[tuple[int, int]]:
    """UTF-8 byte ranges (start inclusive, end exclusive) of each ``@handle`` in ``text``, as facets count.

    A match must not continue a word or an e-mail address before the ``@``, nor a longer handle after it.
    """
    pattern = re.compile(
        r"(?<![\w.@-])@" + re.escape(handle.lstrip("@")) + r"(?![\w-]|\.[\w-])", re.IGNORECASE
    )
    spans = []
    for match in pattern.finditer(text):
        if not match.group().isascii():
            continue  # re's case folding lets look-alikes (Kelvin sign, dotted I) match a handle
        start = len(text[: match.start()].encode())
        spans.append((start, start + len(match.group().encode())))
    return spans


def post_facets(text: str, handle: str, did: str) -> list[Any]:
    """The facets of a probe's post: the company's mention (its DID), then links and tags, in text order."""
    facets = [
        models.AppBskyRichtextFacet.Main(
            features=[models.AppBskyRichtextFacet.Mention(did=did)],
            index=models.AppBskyRichtextFacet.ByteSlice(byte_start=start, byte_end=end),
        )
        for start, end in mention_spans(text, handle)
    ]
    facets.extend(facet_detection.detect_facets(text))
    return sorted(facets, key=lambda f: f.index.byte_start)


# ------------------------------------------------------------------------------------------ the channel


class _SinkFailed(Exception):
    """The sink raised: that ends ``listen`` (the cursor stays at the last item it accepted)."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


@dataclass(eq=False)
class _Account:
    """One persona's Bluesky account: its SDK client (session), rate gate and listener state."""

    persona: Persona
    identity: SocialIdentity
    server: str
    secret: str | None
    gate: RateGate = field(
        default_factory=lambda: RateGate(remaining="ratelimit-remaining", reset="ratelimit-reset")
    )
    client: Any = None
    did: str | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seen: set[str] = field(default_factory=set)
    next_poll: float = 0.0
    next_threads: float = 0.0
    failures: int = 0

    @property
    def handle(self) -> str:
        """The persona's handle, normalised."""
        return social.normalise_handle(self.identity.account)

    @property
    def source(self) -> str:
        """The cursor's name: ``bluesky:<server>:<handle>``."""
        return f"{NETWORK}:{self.server}:{self.handle}"

    async def on_response(self, response: httpx.Response) -> None:
        """Read the quota headers of every answer (a 429 is handled where the SDK raises it)."""
        if response.status_code == 429:
            return
        try:
            self.gate.after(response)
        except RateLimited as exc:
            # The next request will be answered 429 and wait (or give up) there.
            log.info("bluesky %s: quota used up until %s", self.handle, exc.until.isoformat())


def _as_httpx(exc: RequestErrorBase) -> httpx.Response:
    """The SDK's error response as an httpx response, for the rate gate."""
    response = exc.response
    return httpx.Response(
        response.status_code if response is not None else 429,
        headers=dict(response.headers) if response is not None else {},
    )


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _never_sent(exc: BaseException) -> bool:
    """True when a transport error happened before the request could reach the server."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.UnsupportedProtocol):
            return True
        cause = cause.__cause__
    return False


def _create_outcome(exc: BaseException) -> SendOutcomeError:
    """What a failed createRecord means: refused (4xx, unreachable) or perhaps posted (timeout, 5xx, other)."""
    status = _status(exc)
    evidence: dict[str, Any] = {"status": status, "error": type(exc).__name__}
    if isinstance(exc, RateLimited):
        return SendFailed(f"Bluesky rate limit: {exc}", evidence=evidence)
    if status is not None and 400 <= status < 500:
        return SendFailed(f"Bluesky refused the post: {exc}", evidence=evidence)
    if _never_sent(exc):
        return SendFailed(f"could not connect to Bluesky; nothing was sent: {exc!r}", evidence=evidence)
    if isinstance(exc, InvokeTimeoutError):
        return SendUncertain("Bluesky did not answer in time; the post may exist", evidence=evidence)
    return SendUncertain(f"the Bluesky post may have been created: {exc!r}", evidence=evidence)


class BlueskyChannel:
    """Posts probes as public Bluesky mentions and collects replies (see the module documentation).

    ``thread_interval`` (default: every ten polls) spaces the thread lookups; ``first_pages`` bounds how many
    pages of notifications a first start reads, when there is no cursor yet.
    """

    name = NETWORK

    def __init__(
        self,
        personas: Mapping[str, Persona],
        store: Store,
        *,
        secrets: Mapping[str, str] | None = None,
        server: str | None = None,
        poll_interval: float = 30.0,
        thread_interval: float | None = None,
        timeout: float = 30.0,
        first_pages: int = 10,
    ) -> None:
        self.personas = dict(personas)
        self.store = store
        self._secrets = dict(secrets or {})
        self.poll_interval = poll_interval
        self.thread_interval = poll_interval * 10 if thread_interval is None else thread_interval
        self.timeout = timeout
        self.first_pages = first_pages
        self._accounts: dict[str, _Account] = {}
        for persona in self.personas.values():
            identity = persona.social(NETWORK)
            if identity is None:
                continue
            secret = self._secrets.get(persona.id) or social.secret_of(identity)
            base = (server or persona.social_server(NETWORK)).rstrip("/")
            self._accounts[persona.id] = _Account(persona, identity, base, secret)

    # ------------------------------------------------------------------ sessions and requests

    def _account(self, persona: Persona) -> _Account:
        account = self._accounts.get(persona.id)
        if account is None:
            social.identity_of(persona, NETWORK)  # raises SendFailed: no Bluesky account
            raise SendFailed(f"persona {persona.id!r} is not one of this channel's personas")
        return account

    async def _gated(self, account: _Account, call: Callable[[], Awaitable[T]], attempts: int = 5) -> T:
        """One SDK call that honours the rate gate: a 429 is waited out and repeated (it created nothing)."""
        for _ in range(attempts):
            await account.gate.before()
            try:
                return await call()
            except RateLimitExceededError as exc:
                account.gate.after(_as_httpx(exc))  # raises RateLimited when the wait is too long
        raise RateLimited(f"Bluesky answered 429 {attempts} times in a row", utcnow())

    async def _client(self, account: _Account) -> Any:
        """The persona's logged-in SDK client (one session per persona, created on first use)."""
        async with account.lock:
            if account.client is not None:
                return account.client
            if not account.secret:
                raise SendFailed(
                    f"no Bluesky app password for persona {account.persona.id!r}: set the environment variable"
                    f" {account.identity.token_env or '(bluesky.token_env is not configured)'}"
                )
            request = AsyncRequest(timeout=self.timeout, event_hooks={"response": [account.on_response]})
            client = AsyncClient(base_url=account.server, request=request)

            def remember(_event: Any, session: Any) -> None:
                account.did = session.did

            client.on_session_change(remember)
            try:
                # Only createSession: the SDK then switches to the PDS named by the session's DID document.
                await self._gated(
                    account,
                    lambda: client.login(account.handle, account.secret, fetch_bsky_profile=False),
                )
                if not account.did:
                    raise ChannelError(f"the Bluesky session of {account.handle} names no DID")
            except BaseException:
                await client.request.close()
                raise
            account.client = client
            return client

    async def _drop_session(self, account: _Account) -> None:
        async with account.lock:
            client, account.client = account.client, None
        if client is not None:
            await client.request.close()

    async def _call(self, account: _Account, call: Callable[[Any], Awaitable[T]]) -> T:
        """An SDK call as the persona; a rejected session (401: nothing was done) logs in again once."""
        client = await self._client(account)
        try:
            return await self._gated(account, lambda: call(client))
        except UnauthorizedError:
            await self._drop_session(account)
            client = await self._client(account)
            return await self._gated(account, lambda: call(client))

    async def _query(self, account: _Account, nsid: str, params: Any) -> dict[str, Any]:
        """A read whose answer is kept as the API's own JSON (not re-serialised by the SDK's models)."""
        response = await self._call(
            account, lambda c: c.invoke_query(nsid, params=params, output_encoding="application/json")
        )
        content = response.content
        if not isinstance(content, dict):
            raise ChannelError(f"{nsid} answered with {type(content).__name__}, not a JSON object")
        return content

    # ------------------------------------------------------------------ send

    async def send(self, probe: OutboundProbe) -> SendReceipt:
        """Post the probe as a public mention of the company; the receipt is timed by the record's createdAt."""
        text = social.compose_post(probe, NETWORK, MAX_CHARS)
        endpoint = social.endpoint_of(probe.target, NETWORK)
        facts = social.probe_facts(probe, NETWORK)
        account = self._account(probe.persona)
        company = social.normalise_handle(endpoint.account)
        # Whatever fails before createRecord, nothing was posted.
        try:
            await self._client(account)
        except SendFailed:
            raise
        except Exception as exc:
            raise SendFailed(
                f"Bluesky login of @{account.handle} failed: {exc}", evidence={"status": _status(exc)}
            ) from exc
        try:
            resolved = await self._call(
                account,
                lambda c: c.com.atproto.identity.resolve_handle(
                    models.ComAtprotoIdentityResolveHandle.Params(handle=company)
                ),
            )
        except Exception as exc:
            what = "does not resolve" if _status(exc) == 400 else "could not be resolved"
            raise SendFailed(
                f"the company's handle @{company} {what}; nothing was posted: {exc}",
                evidence={"status": _status(exc)},
            ) from exc
        company_did = str(resolved.did)
        stamp = utcnow()
        created_iso = stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        record = models.AppBskyFeedPost.Record(
            text=text,
            created_at=created_iso,
            facets=post_facets(text, company, company_did) or None,
            langs=[probe.persona.language],
        )
        try:
            created = await self._call(account, lambda c: c.app.bsky.feed.post.create(account.did, record))
        except Exception as exc:
            raise _create_outcome(exc) from exc
        uri, cid = str(created.uri), str(created.cid)
        post = SocialPost(
            network=NETWORK,
            id=uri,
            author=account.handle,
            created_at=datetime.fromisoformat(created_iso),
            clock=CREATED_CLOCK,
            text=text,
            url=web_url(account.handle, uri),
            author_id=account.did,
            mentions=(company,),
        )
        return social.receipt_for(
            post, facts, uri=uri, cid=cid, created_at=created_iso, company_did=company_did
        )

    async def find_sent(self, probe: OutboundProbe, since: datetime) -> SendReceipt | None:
        """The probe's post among the persona's recent posts (``getAuthorFeed``), made at or after ``since - 60 s``."""
        text = social.compose_post(probe, NETWORK, MAX_CHARS)
        facts = social.probe_facts(probe, NETWORK)
        account = self._account(probe.persona)
        await self._client(account)  # the feed is asked for by the session's DID
        cutoff = since - timedelta(seconds=60)
        cursor: str | None = None
        for _ in range(5):
            page = await self._query(
                account,
                "app.bsky.feed.getAuthorFeed",
                models.AppBskyFeedGetAuthorFeed.Params(actor=account.did, limit=50, cursor=cursor),
            )
            feed = page.get("feed")
            older = False
            for item in feed if isinstance(feed, list) else []:
                view = item.get("post") if isinstance(item, dict) else None
                if not isinstance(view, dict):
                    continue
                try:
                    post = parse_item(json.dumps(view, ensure_ascii=False).encode())
                except MalformedSocialItem:
                    continue
                if post.author_id != account.did:
                    continue  # a repost of someone else's post
                if post.created_at < cutoff:
                    # A repost or a pinned post shows an old post among new ones: only a plain one ends the look.
                    older = older or item.get("reason") is None
                elif post.text == text:
                    return social.receipt_for(
                        post, facts, uri=post.id, cid=post.extra.get("cid"), found_by="getAuthorFeed"
                    )
            cursor = _str(page, "cursor")
            if older or not cursor:
                break
        return None

    # ------------------------------------------------------------------ listen

    async def listen(self, sink: InboundSink) -> None:
        """Poll notifications (and watched probes' threads) of every persona with a secret until cancelled."""
        accounts = [a for a in self._accounts.values() if a.secret]
        for account in self._accounts.values():
            if not account.secret:
                log.warning(
                    "bluesky: persona %s has no app password; not listening for it", account.persona.id
                )
        if not accounts:
            log.info("bluesky: no persona with an app password; nothing to listen to")
            await asyncio.Event().wait()
        while True:
            for account in accounts:
                if account.next_poll <= time.monotonic():
                    account.next_poll = time.monotonic() + await self._listen_once(account, sink)
            await asyncio.sleep(max(0.0, min(a.next_poll for a in accounts) - time.monotonic()))

    async def _listen_once(self, account: _Account, sink: InboundSink) -> float:
        """One poll of an account; returns the delay before the next (longer after errors)."""
        try:
            await self._poll_notifications(account, sink)
            if account.next_threads <= time.monotonic():
                await self._poll_threads(account, sink)
                account.next_threads = time.monotonic() + self.thread_interval
        except _SinkFailed as exc:
            raise exc.error from None
        except Exception as exc:  # network and API errors never end the listener
            account.failures += 1
            delay = min(
                self.poll_interval * 2.0 ** min(account.failures, 16), max(_MAX_BACKOFF, self.poll_interval)
            )
            if isinstance(exc, RateLimited):
                delay = max(delay, (exc.until - utcnow()).total_seconds())
            if isinstance(exc, UnauthorizedError):
                await self._drop_session(account)
            log.warning("bluesky listener %s: %s; again in %.1f s", account.source, exc, delay)
            return delay
        account.failures = 0
        return self.poll_interval

    async def _push(self, account: _Account, obj: Any, sink: InboundSink) -> None:
        """Hand one raw API object to the sink, timed by its record (an unreadable one is kept as observed)."""
        raw = json.dumps(obj, ensure_ascii=False).encode()
        try:
            post = parse_item(raw)
            item = social.inbound_item(post, raw, account.source)
            seen = post.key
        except MalformedSocialItem as exc:
            log.warning("bluesky %s: storing an item that cannot be read: %s", account.source, exc)
            item = InboundItem(
                channel=NETWORK, raw=raw, received_at=utcnow(), clock="observed", source=account.source
            )
            seen = "sha256:" + hashlib.sha256(raw).hexdigest()
        try:
            await sink(item)
        except Exception as exc:
            raise _SinkFailed(exc) from exc
        account.seen.add(seen)

    def _known(self, account: _Account, obj: Any) -> bool:
        """Whether an object was pushed already (this run, or stored by an earlier one)."""
        raw = json.dumps(obj, ensure_ascii=False).encode()
        if "sha256:" + hashlib.sha256(raw).hexdigest() in account.seen:
            return True  # an item that could not be read, pushed once already
        uri = obj.get("uri") if isinstance(obj, dict) else None
        if not isinstance(uri, str):
            return False
        key = social.post_key(NETWORK, uri)
        return key in account.seen or self.store.message_by_key(key) is not None

    async def _poll_notifications(self, account: _Account, sink: InboundSink) -> None:
        """Read notifications newer than the cursor (paging back until one already seen), push oldest first.

        The cursor is the newest ``indexedAt`` pushed, in epoch milliseconds, advanced after each push.
        """
        stored = self.store.get_cursor(account.source)
        mark = stored[1] if stored else None
        fresh: list[tuple[int | None, Any, bool]] = []
        cursor: str | None = None
        for _ in range(self.first_pages if mark is None else 1000):
            page = await self._query(
                account,
                "app.bsky.notification.listNotifications",
                models.AppBskyNotificationListNotifications.Params(
                    limit=_PAGE, reasons=list(REASONS), cursor=cursor
                ),
            )
            items = page.get("notifications")
            items = items if isinstance(items, list) else []
            reached = False
            for obj in items:
                ms = _epoch_ms(obj.get("indexedAt")) if isinstance(obj, dict) else None
                if mark is not None and ms is not None and ms < mark:
                    reached = True
                    continue
                if isinstance(obj, dict) and obj.get("reason") not in REASONS:
                    continue  # a server that ignores the reasons parameter
                fresh.append((ms, obj, not self._known(account, obj)))
            cursor = _str(page, "cursor")
            if reached or not items or not cursor:
                break
        for ms, obj, new in reversed(fresh):  # the API lists newest first
            if new:
                await self._push(account, obj, sink)
            if ms is not None and (mark is None or ms > mark):
                mark = ms
                self.store.set_cursor(account.source, 0, ms)

    async def _poll_threads(self, account: _Account, sink: InboundSink) -> None:
        """Push the replies in the threads of this persona's watched probes (a reply to a reply notifies no one)."""
        for probe in self.store.watched_probes(NETWORK):
            if probe.persona_id != account.persona.id or not (probe.external_id or "").startswith(
                "bluesky:at://"
            ):
                continue
            uri = (probe.external_id or "").removeprefix("bluesky:")
            try:
                answer = await self._query(
                    account,
                    "app.bsky.feed.getPostThread",
                    models.AppBskyFeedGetPostThread.Params(uri=uri, depth=_THREAD_DEPTH, parent_height=0),
                )
            except RequestErrorBase as exc:
                if _status(exc) != 400:
                    raise
                log.info("bluesky: the thread of probe %s is gone: %s", probe.id, exc)
                continue
            for view in thread_replies(answer.get("thread")):
                if not self._known(account, view):
                    await self._push(account, view, sink)

    # ------------------------------------------------------------------ describe / close

    def describe(self) -> ChannelDescription:
        """Credentials the personas need and how replies are collected."""
        return ChannelDescription(
            name=NETWORK,
            credentials=social.credential_names(self.personas, NETWORK),
            missing_credentials=tuple(social.missing_secrets(self.personas, NETWORK, self._secrets)),
            listens_with=(
                f"app.bsky.notification.listNotifications every {self.poll_interval:g} s (mentions, replies,"
                f" quotes) and app.bsky.feed.getPostThread of watched probes every {self.thread_interval:g} s"
            ),
            notes=(
                "Public mentions only (Bluesky has no direct messages in its public API). Times are the"
                " records' createdAt, or the AppView's indexedAt when createdAt is later than it or more than"
                " 10 minutes earlier. Login with the persona's handle and an app password."
            ),
        )

    async def aclose(self) -> None:
        """Close every persona's HTTP connections."""
        for account in self._accounts.values():
            await self._drop_session(account)


def thread_replies(thread: Any) -> Iterator[Any]:
    """The post views of every reply under a ``threadViewPost`` (depth first), not the thread's own post."""
    stack = [thread] if isinstance(thread, dict) else []
    while stack:
        node = stack.pop()
        replies = node.get("replies")
        children = [r for r in replies if isinstance(r, dict)] if isinstance(replies, list) else []
        for child in children:
            if isinstance(child.get("post"), dict):  # not a notFoundPost or blockedPost
                yield child["post"]
        stack.extend(reversed(children))
