"""Mastodon: probes are statuses that mention the company (public, or direct); replies arrive as mentions.

Everything goes through the documented REST and streaming API with httpx (docs.joinmastodon.org):
``POST /api/v1/statuses`` with an ``Idempotency-Key`` (the probe's token) to send;
``GET /api/v1/streaming/user`` (server-sent events) to hear mentions as they happen, and
``GET /api/v1/notifications?types[]=mention&min_id=…`` to catch up from the last notification id stored as
the cursor, before every (re)connection and whenever the stream is down. A reply is therefore never lost
across disconnects, and none is pushed twice by this listener (a notification at or below the cursor is
skipped). A reply's time is its status's ``created_at``, never when it was noticed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx

from replybench.channels import social
from replybench.channels.base import (
    ChannelDescription,
    InboundItem,
    InboundSink,
    OutboundProbe,
    SendReceipt,
)
from replybench.channels.social import MalformedSocialItem, RateGate, RateLimited, SocialPost
from replybench.errors import SendFailed, SendUncertain
from replybench.models import Persona, SocialIdentity
from replybench.store import Store
from replybench.timefmt import as_utc, utcnow

log = logging.getLogger(__name__)

NAME = "mastodon"
#: Mastodon's default status length (instances may allow more; replybench keeps to the default).
MAX_CHARS = 500
#: The clock of a reply's time: the status's ``created_at`` as the server stamped it.
CLOCK = "mastodon-created_at"
#: The clock of an item that could not be read (its time is when we noticed it).
OBSERVED_CLOCK = "observed"
#: Notifications per page (Mastodon's maximum).
PAGE_LIMIT = 80
#: Refusals of the stream in a row after which the listener polls for a while before trying again.
STREAM_REFUSALS = 3
#: A stream that stayed connected this long (seconds) was healthy: the reconnection backoff starts over.
STABLE_STREAM = 30.0
#: How far before ``since`` :meth:`MastodonChannel.find_sent` still takes a post as ours (clock skew).
FIND_SENT_SLACK = timedelta(seconds=60)
#: How many pages of our own statuses :meth:`MastodonChannel.find_sent` reads at most.
FIND_SENT_PAGES = 5


# ------------------------------------------------------------------------------------------ parsing


class _PlainText(HTMLParser):
    """Mastodon's status HTML as plain text: paragraphs become blank lines, ``<br>`` line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    """The plain text of a status's ``content`` HTML (paragraph and line breaks kept)."""
    parser = _PlainText()
    parser.feed(content)
    parser.close()
    return "".join(parser.parts).strip()


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise MalformedSocialItem(f"{what} is not a string")
    return value


def _id(value: Any, what: str) -> str:
    # Mastodon's ids are strings of digits; some servers send numbers.
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value) == "":
        raise MalformedSocialItem(f"{what} is not an id")
    return str(value)


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedSocialItem(f"{what} is not an object")
    return value


def _time(value: Any, what: str) -> datetime:
    text = _text(value, what)
    try:
        return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except (ValueError, OverflowError) as exc:
        raise MalformedSocialItem(f"{what} is not an ISO 8601 time: {text[:40]!r}") from exc


def account_handle(account: Any, what: str = "account") -> str:
    """An Account's (or Mention's) handle as ``user@domain``: the domain from its ``url`` for a local one."""
    account = _object(account, what)
    username = _text(account.get("username"), f"{what}.username")
    acct = account.get("acct")
    acct = username if acct is None else _text(acct, f"{what}.acct")
    user, _, domain = acct.strip().lstrip("@").partition("@")
    if not domain:
        url = account.get("url")
        host = urlsplit(url).hostname if isinstance(url, str) else None
        if not host:
            raise MalformedSocialItem(f"{what} has neither a domain in acct nor a url with a host")
        domain = host
    handle = social.normalise_handle(f"{user or username}@{domain}")
    if handle.startswith("@") or not re.fullmatch(r"[^\s@]+@[^\s@]+", handle):
        raise MalformedSocialItem(f"{what} has no valid handle: {handle[:60]!r}")
    return handle


def parse_status(data: Any, *, notification_id: str | None = None) -> SocialPost:
    """The post a Status object describes (MalformedSocialItem for anything else)."""
    status = _object(data, "status")
    account = _object(status.get("account"), "status.account")
    visibility = status.get("visibility", "public")
    visibility = _text(visibility, "status.visibility")
    mentions = status.get("mentions") or []
    if not isinstance(mentions, list):
        raise MalformedSocialItem("status.mentions is not a list")
    bot = account.get("bot", False)
    if not isinstance(bot, bool):
        raise MalformedSocialItem("account.bot is not a boolean")
    url = status.get("url") or status.get("uri")
    name = account.get("display_name")
    reply_to = status.get("in_reply_to_id")
    extra = {"visibility": visibility}
    if notification_id is not None:
        extra["notification_id"] = notification_id
    if status.get("in_reply_to_account_id") is not None:
        extra["in_reply_to_account_id"] = _id(status["in_reply_to_account_id"], "in_reply_to_account_id")
    return SocialPost(
        network=NAME,
        id=_id(status.get("id"), "status.id"),
        author=account_handle(account),
        created_at=_time(status.get("created_at"), "status.created_at"),
        clock=CLOCK,
        text=html_to_text(_text(status.get("content", ""), "status.content")),
        url=_text(url, "status.url") if url is not None else None,
        author_id=_id(account["id"], "account.id") if account.get("id") is not None else None,
        author_name=_text(name, "account.display_name") if name is not None else None,
        in_reply_to=_id(reply_to, "status.in_reply_to_id") if reply_to is not None else None,
        mentions=tuple(account_handle(m, "mention") for m in mentions),
        direct=visibility == "direct",
        bot=bot,
        extra=extra,
    )


def parse_object(data: Any) -> SocialPost:
    """The post of a Notification (its status) or of a Status object."""
    data = _object(data, "item")
    if "type" in data:  # a Notification; a Status has no type
        kind = _text(data.get("type"), "notification.type")
        if not isinstance(data.get("status"), dict):
            raise MalformedSocialItem(f"a {kind[:40]!r} notification carries no status")
        return parse_status(data["status"], notification_id=_id(data.get("id"), "notification.id"))
    return parse_status(data)


def parse_item(raw: bytes) -> SocialPost:
    """The post one stored Mastodon object describes: a Notification (mention) or a Status."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise MalformedSocialItem(f"a Mastodon item is not JSON: {exc}") from exc
    try:
        return parse_object(data)
    except MalformedSocialItem:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError, OverflowError) as exc:
        raise MalformedSocialItem(f"not a Mastodon status or notification: {exc!r}") from exc


def comparable(text: str) -> str:
    """Text as compared when looking for our own post: no mentions, whitespace collapsed.

    Mastodon shows a mention of ``@user@domain`` as ``@user``, so mentions cannot be compared.
    """
    return " ".join(re.sub(r"(?<![\w/])@[\w.-]+(?:@[\w.-]+\w)?", " ", text).split())


# ------------------------------------------------------------------------------------------ the channel


class _StreamUnavailable(Exception):
    """The server has no streaming API (404)."""


class _StreamRefused(Exception):
    """The server refused the stream for now (e.g. 503)."""


@dataclass
class _Account:
    persona: Persona
    identity: SocialIdentity
    server: str
    secret: str | None
    source: str
    gate: RateGate

    def url(self, path: str) -> str:
        return f"{self.server}{path}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"} if self.secret else {}


def _api_error(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        data = None
    message = data.get("error") if isinstance(data, dict) else None
    return str(message) if message else (response.reason_phrase or "error")


class MastodonChannel:
    """Mention or direct-message companies on Mastodon, and hear their replies (stream + polling)."""

    name = NAME

    def __init__(
        self,
        personas: Mapping[str, Persona],
        store: Store,
        *,
        secrets: Mapping[str, str] | None = None,
        server: str | None = None,
        poll_interval: float = 60.0,
        reconnect_delay: float = 1.0,
        max_backoff: float = 60.0,
        stream_retry: float | None = None,
        stream_timeout: float = 90.0,
        first_pages: int = 3,
        timeout: float = 30.0,
    ) -> None:
        self.store = store
        self.poll_interval = poll_interval
        self.reconnect_delay = reconnect_delay
        self.max_backoff = max_backoff
        #: While streaming is unavailable, try it again this often (seconds).
        self.stream_retry = stream_retry if stream_retry is not None else max(300.0, 5 * poll_interval)
        self.stream_timeout = stream_timeout
        self.first_pages = first_pages
        self._personas = dict(personas)
        self._secrets = dict(secrets or {})
        self._accounts: dict[str, _Account] = {}
        for persona in personas.values():
            identity = persona.social(NAME)
            if identity is None:
                continue
            base = (server or persona.social_server(NAME)).rstrip("/")
            host = urlsplit(base).netloc or base
            self._accounts[persona.id] = _Account(
                persona=persona,
                identity=identity,
                server=base,
                secret=self._secrets.get(persona.id) or social.secret_of(identity),
                source=f"{NAME}:{host}:{social.normalise_handle(identity.account)}",
                gate=RateGate(),
            )
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), headers={"User-Agent": "replybench"})

    # ------------------------------------------------------------------------------------------- send

    def _account(self, persona: Persona) -> _Account:
        social.identity_of(persona, NAME)
        account = self._accounts.get(persona.id)
        if account is None:  # a persona that was not among the workspace's when the channel was made
            raise SendFailed(f"persona {persona.id!r} is not known to the Mastodon channel")
        if not account.secret:
            env = account.identity.token_env
            where = f"set the environment variable {env}" if env else "configure mastodon.token_env"
            raise SendFailed(f"persona {persona.id!r} has no Mastodon access token: {where}")
        return account

    async def send(self, probe: OutboundProbe) -> SendReceipt:
        """Post the probe's status (a public mention, or direct) and return its receipt."""
        text = social.compose_post(probe, NAME, MAX_CHARS)
        facts = social.probe_facts(probe, NAME)
        account = self._account(probe.persona)
        endpoint = social.endpoint_of(probe.target, NAME)
        visibility = "direct" if endpoint.how == "direct" else "public"
        try:
            response = await social.send_request(
                self._client,
                account.gate,
                "POST",
                account.url("/api/v1/statuses"),
                data={"status": text, "visibility": visibility},
                # Mastodon keeps the key for an hour: a request repeated by the transport posts once.
                headers={**account.headers, "Idempotency-Key": probe.token},
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise SendFailed(f"could not reach the Mastodon server {account.server}: {exc!r}") from exc
        except httpx.HTTPError as exc:
            raise SendUncertain(
                f"the Mastodon status of probe {probe.probe_id} may have been posted: {exc!r}",
                evidence={**facts, "visibility": visibility},
            ) from exc
        except RateLimited as exc:
            raise SendFailed(f"Mastodon rate limit: {exc}") from exc
        if response.status_code == 429:
            raise SendFailed("Mastodon kept answering 429 Too many requests; nothing was posted")
        if response.status_code >= 500:
            raise SendUncertain(
                f"the Mastodon server answered {response.status_code}; the status may have been posted",
                evidence={**facts, "visibility": visibility, "status_code": response.status_code},
            )
        if not response.is_success:
            raise SendFailed(
                f"Mastodon refused the status ({response.status_code}): {_api_error(response)}",
                evidence={**facts, "visibility": visibility, "status_code": response.status_code},
            )
        try:
            data = response.json()
            post = parse_status(data)
        except (ValueError, MalformedSocialItem) as exc:
            raise SendUncertain(
                f"Mastodon accepted the status but its answer is unreadable: {exc}",
                evidence={**facts, "visibility": visibility},
            ) from exc
        return social.receipt_for(post, facts, visibility=visibility, uri=data.get("uri"))

    async def find_sent(self, probe: OutboundProbe, since: datetime) -> SendReceipt | None:
        """Our own status with the probe's text made at/after ``since`` (minus a minute), if there is one."""
        text = comparable(social.compose_post(probe, NAME, MAX_CHARS))
        facts = social.probe_facts(probe, NAME)
        account = self._account(probe.persona)
        me = await self._get(account, "/api/v1/accounts/verify_credentials")
        if not isinstance(me, dict) or not me.get("id"):
            raise MalformedSocialItem("verify_credentials returned no account id")
        earliest = as_utc(since) - FIND_SENT_SLACK
        params: dict[str, str] = {"limit": "40"}
        for _ in range(FIND_SENT_PAGES):
            page = await self._get(account, f"/api/v1/accounts/{me['id']}/statuses", params)
            if not isinstance(page, list) or not page:
                return None
            oldest: datetime | None = None
            for data in page:
                try:
                    post = parse_status(data)
                except MalformedSocialItem:
                    continue
                oldest = post.created_at if oldest is None else min(oldest, post.created_at)
                # The text is compared without mentions (Mastodon shows @user@domain as @user), so the
                # mention of this probe's company must be there too: two probes may share a body.
                addressed = facts["company_accounts"][0] in post.mentions
                if post.created_at >= earliest and addressed and comparable(post.text) == text:
                    visibility = post.extra.get("visibility")
                    return social.receipt_for(post, facts, visibility=visibility, uri=data.get("uri"))
            last_id = _notification_id(page[-1])  # any object's numeric id
            if last_id is None or (oldest is not None and oldest < earliest):
                return None
            params["max_id"] = str(last_id)
        return None

    async def _get(self, account: _Account, path: str, params: Mapping[str, Any] | None = None) -> Any:
        response = await social.send_request(
            self._client, account.gate, "GET", account.url(path), params=params, headers=account.headers
        )
        if not response.is_success:
            raise httpx.HTTPStatusError(
                f"GET {path}: {response.status_code} {_api_error(response)}",
                request=response.request,
                response=response,
            )
        return response.json()

    # ------------------------------------------------------------------------------------------- listen

    async def listen(self, sink: InboundSink) -> None:
        """Follow every persona's mentions until cancelled (stream, with polling to catch up)."""
        accounts = [a for a in self._accounts.values() if a.secret]
        for account in self._accounts.values():
            if not account.secret:
                log.warning("mastodon: persona %s has no access token; not listening", account.persona.id)
        if not accounts:
            await asyncio.Event().wait()
        async with asyncio.TaskGroup() as group:
            for account in accounts:
                group.create_task(self._follow(account, sink), name=f"mastodon-{account.persona.id}")

    async def _follow(self, account: _Account, sink: InboundSink) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        refusals = 0
        stream_after = 0.0
        while True:
            connected_at: float | None = None
            if loop.time() >= stream_after:
                try:
                    async for _ in self._stream(account, sink):
                        connected_at = loop.time()
                        refusals = 0
                    log.info("mastodon: the stream of %s ended; catching up", account.persona.id)
                except _StreamUnavailable:
                    log.info(
                        "mastodon: %s has no streaming API; polling every %.0f s",
                        account.server,
                        self.poll_interval,
                    )
                    stream_after = loop.time() + self.stream_retry
                except _StreamRefused as exc:
                    refusals += 1
                    log.info("mastodon: stream refused for %s (%s)", account.persona.id, exc)
                    if refusals >= STREAM_REFUSALS:
                        refusals = 0
                        stream_after = loop.time() + self.stream_retry
                except asyncio.CancelledError:
                    raise
                except RateLimited as exc:
                    await asyncio.sleep(max(0.0, (exc.until - utcnow()).total_seconds()))
                except Exception as exc:
                    log.info("mastodon: the stream of %s was lost: %r", account.persona.id, exc)
                # A stream that held for a while starts the backoff over; one that keeps dropping does not.
                if connected_at is not None and loop.time() - connected_at >= STABLE_STREAM:
                    failures = 0
            try:
                await self._catch_up(account, sink)
            except asyncio.CancelledError:
                raise
            except RateLimited as exc:
                await asyncio.sleep(max(0.0, (exc.until - utcnow()).total_seconds()))
            except Exception as exc:
                log.warning("mastodon: could not read the notifications of %s: %r", account.persona.id, exc)
            if loop.time() < stream_after:
                await asyncio.sleep(min(self.poll_interval, max(0.0, stream_after - loop.time())))
            else:
                failures += 1
                await asyncio.sleep(min(self.max_backoff, self.reconnect_delay * 2 ** (failures - 1)))

    async def _stream(self, account: _Account, sink: InboundSink) -> AsyncIterator[None]:
        """Open the user stream, catch up, then push its mentions; yields once connected."""
        await account.gate.before()
        timeout = httpx.Timeout(self._client.timeout.connect, read=self.stream_timeout)
        async with self._client.stream(
            "GET", account.url("/api/v1/streaming/user"), headers=account.headers, timeout=timeout
        ) as response:
            if response.status_code == 404:
                raise _StreamUnavailable()
            if response.status_code != 200 or account.gate.after(response):
                raise _StreamRefused(f"{response.status_code} {response.reason_phrase}")
            # The stream is open before we poll, so whatever the poll misses the stream brings.
            await self._catch_up(account, sink)
            yield
            async for event, data in _events(response.aiter_lines()):
                if event != "notification":
                    continue
                raw = data.encode()
                try:
                    notification = json.loads(raw)
                except ValueError:
                    log.warning("mastodon: unreadable stream event for %s", account.persona.id)
                    await self._push(account, sink, raw)
                    continue
                await self._deliver(account, sink, notification, raw)

    async def _catch_up(self, account: _Account, sink: InboundSink) -> None:
        """Push every mention after the stored cursor (on the first start: the newest few pages)."""
        cursor = self.store.get_cursor(account.source)
        params: dict[str, Any] = {"types[]": "mention", "limit": str(PAGE_LIMIT)}
        if cursor is None:
            found: list[Any] = []
            for _ in range(self.first_pages):
                page = await self._get(account, "/api/v1/notifications", params)
                if not isinstance(page, list) or not page:
                    break
                found.extend(page)
                oldest = _notification_id(page[-1])
                if len(page) < PAGE_LIMIT or oldest is None:
                    break
                params["max_id"] = str(oldest)
            for notification in sorted(found, key=lambda n: _notification_id(n) or 0):
                await self._deliver(account, sink, notification)
            if self.store.get_cursor(account.source) is None:
                self.store.set_cursor(account.source, 0, 0)
            return
        while True:
            last = (self.store.get_cursor(account.source) or (0, 0))[1]
            params["min_id"] = str(last)
            page = await self._get(account, "/api/v1/notifications", params)
            if not isinstance(page, list) or not page:
                return
            for notification in sorted(page, key=lambda n: _notification_id(n) or 0):
                await self._deliver(account, sink, notification)
            if len(page) < PAGE_LIMIT or (self.store.get_cursor(account.source) or (0, 0))[1] <= last:
                return

    async def _deliver(
        self, account: _Account, sink: InboundSink, notification: Any, raw: bytes | None = None
    ) -> None:
        """Push one mention notification not yet pushed, then move the cursor past it."""
        number = _notification_id(notification)
        cursor = self.store.get_cursor(account.source)
        if number is not None and cursor is not None and number <= cursor[1]:
            return  # already pushed (the poll and the stream overlap)
        if not isinstance(notification, dict) or notification.get("type") == "mention" or number is None:
            await self._push(account, sink, raw or json.dumps(notification, ensure_ascii=False).encode())
        if number is not None:
            self.store.set_cursor(account.source, 0, number)

    async def _push(self, account: _Account, sink: InboundSink, raw: bytes) -> None:
        try:
            item = social.inbound_item(parse_item(raw), raw, account.source)
        except MalformedSocialItem as exc:
            log.warning(
                "mastodon: an item for %s could not be read (%s); stored as observed", account.source, exc
            )
            item = InboundItem(
                channel=NAME, raw=raw, received_at=utcnow(), clock=OBSERVED_CLOCK, source=account.source
            )
        await sink(item)

    # ------------------------------------------------------------------------------------------- describe

    def describe(self) -> ChannelDescription:
        """Credentials the personas need, and how replies are heard."""
        return ChannelDescription(
            name=NAME,
            credentials=social.credential_names(self._personas, NAME),
            missing_credentials=tuple(social.missing_secrets(self._personas, NAME, self._secrets)),
            listens_with="streaming API (user stream) with notifications polling",
            notes=(
                "Posts a public mention, or a direct status when the target's how = 'direct'; replies are"
                " timed by their created_at."
            ),
        )

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()


def _notification_id(notification: Any) -> int | None:
    if not isinstance(notification, dict):
        return None
    value = notification.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


async def _events(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, str]]:
    """Server-sent events as (event, data); comment lines (heartbeats) are skipped."""
    event = "message"
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
