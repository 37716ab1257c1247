"""A Mastodon-compatible server for the sandbox's companies, on 127.0.0.1.

It serves the part of the Mastodon REST and streaming API that replybench uses, with the shapes of the
public API documentation (docs.joinmastodon.org: entities Account, Status, Notification, Mention; methods
accounts, statuses, notifications, streaming; rate limits):

* ``GET /api/v1/accounts/verify_credentials``, ``GET /api/v1/accounts/lookup?acct=``,
  ``GET /api/v1/accounts/:id``, ``GET /api/v1/accounts/:id/statuses`` (``limit``, ``max_id``, ``since_id``,
  ``min_id``);
* ``POST /api/v1/statuses`` (form or JSON: ``status``, ``in_reply_to_id``, ``visibility``; the
  ``Idempotency-Key`` header is honoured for an hour), ``GET /api/v1/statuses/:id`` and ``/context``;
* ``GET /api/v1/notifications`` (``types[]``, ``exclude_types[]``, ``max_id``, ``since_id``, ``min_id``,
  ``limit`` up to 80; newest first, with a ``Link`` header);
* ``GET /api/v1/streaming/health`` and ``GET /api/v1/streaming/user`` (server-sent events ``update`` and
  ``notification``, heartbeat comments).

Bearer tokens only (:meth:`SandboxMastodon.register` makes an account and its token). Every REST response
carries ``X-RateLimit-Limit``/``-Remaining``/``-Reset`` counted per token (per address without one); an
exhausted quota answers 429. Like Mastodon's separate streaming server, the streaming endpoints are not
counted.

The companies' accounts answer statuses that mention them (a direct status mentions its recipients) per the
company's sandbox behaviour, like the email help desk (:mod:`replybench.sandbox.desk`) does: the same
delays, business hours and promise. Every reply's ``created_at`` is the server's clock when it is created;
:attr:`SandboxMastodon.truth` records each inquiry and reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import math
import random
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from replybench.asgiserve import LoopbackAsgiServer
from replybench.classify.social import INSTANT_REPLY_S
from replybench.models import Target
from replybench.sandbox.behaviour import PERSON_KINDS, ReplyKind, plan_replies
from replybench.sandbox.desk import NO_PROMISE, HelpDesk
from replybench.timefmt import iso_ms, utcnow, utcnow_ms

log = logging.getLogger(__name__)

DEFAULT_DOMAIN = "social.sandbox.example"
#: Mastodon's default limit: 300 requests per 5 minutes per account.
DEFAULT_RATE_LIMIT = (300, 300.0)
#: Mastodon's default status length.
MAX_CHARS = 500
#: How long a status is remembered by its ``Idempotency-Key`` (Mastodon: one hour).
IDEMPOTENCY_TTL = timedelta(hours=1)
VISIBILITIES = ("public", "unlisted", "private", "direct")
Visibility = Literal["public", "unlisted", "private", "direct"]
#: A truth record's kind: the persona's inquiry, or one of the company's replies.
RecordKind = Literal["inquiry"] | ReplyKind

_NOTIFICATIONS_LIMIT = (40, 80)  # default, maximum
_STATUSES_LIMIT = (20, 40)
# Mastodon's mention syntax: @user or @user@domain, not inside a word, an e-mail address or a URL.
_MENTION = re.compile(r"(?<![=/\w@])@(\w+(?:[\w.-]+\w+)?)(?:@([\w.-]+\w))?", re.IGNORECASE)

_ANSWERS = (
    "Yes, that works, and there is nothing you need to do in advance.",
    "Good question! In most cases the answer is yes, at no extra cost. The details are on your account page.",
    "I checked with the team: that usually takes two to three working days, and you get a confirmation by "
    "email once it is done.",
    "Unfortunately we don't offer that at the moment, but I have passed your request on to the product team.",
    "We can do that for you. I have added a note so that my colleagues know about it too.",
)


#: A person's reply never comes sooner than this after the inquiry (seconds, divided by the time scale).
PERSON_MIN_DELAY_S = INSTANT_REPLY_S + 1.5


class _ApiError(Exception):
    """An API error answered as Mastodon does: ``{"error": message}`` with a status code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(eq=False)
class _Account:
    id: str
    username: str
    domain: str | None  # None: local to this server
    display_name: str
    bot: bool
    created_at: datetime
    token: str
    company_id: str | None = None
    server_domain: str = DEFAULT_DOMAIN

    @property
    def acct(self) -> str:
        return self.username if self.domain is None else f"{self.username}@{self.domain}"

    @property
    def host(self) -> str:
        return self.domain or self.server_domain

    @property
    def url(self) -> str:
        return f"https://{self.host}/@{self.username}"


@dataclass(eq=False)
class _Status:
    id: int
    account: _Account
    text: str
    content: str
    created_at: datetime
    visibility: Visibility
    in_reply_to: _Status | None
    mentions: list[_Account]


@dataclass(eq=False)
class _Notification:
    id: int
    type: str
    recipient: _Account
    account: _Account
    status: _Status
    created_at: datetime


@dataclass(eq=False)
class _Stream:
    account: _Account
    events: asyncio.Queue[tuple[float, bytes]] = field(default_factory=asyncio.Queue)
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    abrupt: bool = False


@dataclass(frozen=True)
class MastodonRecord:
    """One inquiry a company's account received, or one reply it posted, as the server recorded it.

    ``status_id`` is the status; ``inquiry_id`` the inquiry it is about (its own id for an inquiry);
    ``in_reply_to`` the status it replies to (None for an inquiry that starts a thread and for a ``followup``,
    which only mentions the persona). ``account`` is the author's ``acct``; ``created_at`` the status's
    ``created_at`` (the server's clock when it was created, to the millisecond).
    """

    kind: RecordKind
    company_id: str
    status_id: str
    inquiry_id: str
    account: str
    created_at: datetime
    in_reply_to: str | None
    visibility: str
    text: str


class _Ids:
    """Snowflake-like ids, like Mastodon's: milliseconds shifted left 16 bits, strictly increasing.

    Time-based, so a second sandbox run into the same store never reuses an id a cursor has passed.
    """

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = max(self._last + 1, int(time.time() * 1000) << 16)
        return self._last


@dataclass(eq=False)
class _Company:
    target: Target
    desk: HelpDesk
    main: _Account
    person: _Account
    accounts: tuple[_Account, ...]
    rng: random.Random


def _first_name(account: _Account) -> str:
    words = account.display_name.split()
    return words[0] if words else account.username


def _int_param(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


def _limit(value: str | None, bounds: tuple[int, int]) -> int:
    number = _int_param(value)
    return bounds[0] if number is None or number < 1 else min(number, bounds[1])


class SandboxMastodon:
    """A Mastodon-compatible server: the companies' accounts, persona accounts, statuses and notifications.

    ``companies`` are the targets with ``endpoints.mastodon``: each gets its ``account`` (and every ``also``
    account) with the part before ``@`` as user name; an account on another domain than ``domain`` is shown
    as a remote account (``acct`` = ``user@domain``), as a real server shows it. ``time_scale`` divides every
    reply delay.

    Test hooks: :meth:`drop_streams`, :attr:`refuse_streams`, :attr:`streaming`, :attr:`stream_delay`,
    :meth:`set_rate_limit`, :meth:`post_as`.
    """

    def __init__(
        self,
        companies: Sequence[Target],
        *,
        seed: int = 0,
        time_scale: float = 1.0,
        domain: str = DEFAULT_DOMAIN,
        rate_limit: tuple[int, float] = DEFAULT_RATE_LIMIT,
        heartbeat: float = 15.0,
        shutdown_timeout: int = 2,
    ) -> None:
        if time_scale <= 0 or not math.isfinite(time_scale):
            raise ValueError(f"time_scale must be a positive number, got {time_scale!r}")
        self.domain = domain.lower()
        self.seed = seed
        self.time_scale = time_scale
        self.heartbeat = heartbeat
        #: While False the streaming endpoints answer 404 (clients must poll).
        self.streaming = True
        #: While True the streaming endpoints answer 503.
        self.refuse_streams = False
        #: Events are written to streams this many seconds after they happened.
        self.stream_delay = 0.0
        self._ids = _Ids()
        self._accounts: dict[str, _Account] = {}  # by id
        self._by_acct: dict[str, _Account] = {}  # by lower-cased acct
        self._by_token: dict[str, _Account] = {}
        self._statuses: dict[int, _Status] = {}
        self._statuses_count: dict[str, int] = {}  # by account id
        self._replies_count: dict[int, int] = {}  # by status id
        self._last_status_at: dict[str, datetime] = {}  # by account id
        self._notifications: dict[str, list[_Notification]] = {}  # by recipient id, oldest first
        self._idempotent: dict[tuple[str, str], tuple[datetime, int]] = {}
        self._streams: set[_Stream] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._truth: list[MastodonRecord] = []
        self._truth_lock = threading.Lock()
        self._rate_limit = rate_limit
        self._windows: dict[str, tuple[float, int]] = {}
        #: How many requests were answered 429 so far.
        self.rate_limited = 0
        self._companies: dict[str, _Company] = {}
        self._company_of: dict[str, _Company] = {}  # by account id
        for target in companies:
            self._add_company(target)
        self.app = _RateLimiter(self._starlette(), self)
        self._server = LoopbackAsgiServer(
            self.app, shutdown_timeout=shutdown_timeout, name="sandbox Mastodon"
        )

    # ------------------------------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Serve on 127.0.0.1 on a free port (bound before this returns)."""
        await self._server.start()
        log.info("sandbox Mastodon on %s with %d companies", self.base_url, len(self._companies))

    async def stop(self) -> None:
        """End every stream, stop serving, and cancel every reply not yet posted."""
        for stream in list(self._streams):
            stream.closing.set()
        await self._server.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> SandboxMastodon:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the API base URL clients use."""
        return self._server.base_url

    @property
    def pending(self) -> int:
        """Company replies planned but not yet posted."""
        return len(self._tasks)

    @property
    def truth(self) -> list[MastodonRecord]:
        """Every inquiry and reply so far, in the order they were created (a copy)."""
        with self._truth_lock:
            return list(self._truth)

    def truth_for(self, inquiry_id: str) -> list[MastodonRecord]:
        """The replies to one inquiry (by the inquiry's status id), in the order they were posted."""
        return [r for r in self.truth if r.inquiry_id == inquiry_id and r.kind != "inquiry"]

    # ------------------------------------------------------------------------------------------- accounts

    def register(self, username: str, display_name: str, *, bot: bool = False) -> str:
        """Create a persona's account (or find it again) and return its access token.

        ``username`` is a user name (an account of :attr:`domain`) or a whole handle ``user@domain``: an
        account on another domain keeps it (``acct`` and ``url`` name that domain), so the handles the server
        shows are the ones the workspace names.
        """
        name, _, domain = username.strip().lstrip("@").partition("@")
        remote = domain.lower() if domain and domain.lower() != self.domain else None
        existing = self._by_acct.get(name.lower() if remote is None else f"{name}@{remote}".lower())
        if existing is not None:
            if existing.company_id is not None:
                raise ValueError(f"{username!r} is a company account")
            return existing.token
        return self._add_account(name, remote, display_name, bot=bot).token

    def token_of(self, acct: str) -> str:
        """The access token of any account (a company's too), by ``user`` or ``user@domain``."""
        return self._account_by_acct(acct).token

    def account_json(self, acct: str) -> dict[str, Any]:
        """The Account entity of an account, by ``user`` or ``user@domain``."""
        return self._account_entity(self._account_by_acct(acct))

    def _account_by_acct(self, acct: str) -> _Account:
        name, _, domain = acct.strip().lstrip("@").lower().partition("@")
        key = name if not domain or domain == self.domain else f"{name}@{domain}"
        account = self._by_acct.get(key)
        if account is None:
            raise KeyError(f"no account {acct!r}")
        return account

    def _add_account(
        self, username: str, domain: str | None, display_name: str, *, bot: bool, company: str | None = None
    ) -> _Account:
        if not re.fullmatch(r"\w+(?:[\w.-]+\w+)?", username):
            raise ValueError(f"{username!r} is not a valid Mastodon user name")
        now = utcnow()
        account = _Account(
            id=str(self._ids.next()),
            username=username,
            domain=domain,
            display_name=display_name,
            bot=bot,
            created_at=now.replace(hour=0, minute=0, second=0, microsecond=0),
            token=secrets.token_urlsafe(32),
            company_id=company,
            server_domain=self.domain,
        )
        key = account.acct.lower()
        if key in self._by_acct:
            raise ValueError(f"two sandbox accounts are both {account.acct!r}")
        self._accounts[account.id] = account
        self._by_acct[key] = account
        self._by_token[account.token] = account
        self._notifications[account.id] = []
        return account

    def _company_account(self, handle: str, display_name: str, company: str) -> _Account:
        name, _, domain = handle.strip().lstrip("@").partition("@")
        remote = domain.lower() if domain and domain.lower() != self.domain else None
        return self._add_account(name, remote, display_name, bot=False, company=company)

    def _add_company(self, target: Target) -> None:
        endpoint = target.endpoints.mastodon
        if endpoint is None:
            return
        if target.id in self._companies:
            raise ValueError(f"two sandbox companies share the id {target.id!r}")
        main = self._company_account(endpoint.account, target.name, target.id)
        others = [self._company_account(a, f"{target.name} Support", target.id) for a in endpoint.also]
        company = _Company(
            target=target,
            desk=HelpDesk(target, seed=self.seed, time_scale=self.time_scale),
            main=main,
            person=others[0] if others else main,
            accounts=(main, *others),
            rng=random.Random(f"replybench-sandbox-mastodon:{self.seed}:{target.id}"),
        )
        self._companies[target.id] = company
        for account in company.accounts:
            self._company_of[account.id] = company

    # ------------------------------------------------------------------------------------------- test hooks

    def drop_streams(self) -> None:
        """Close every open stream abruptly (the response ends without its last chunk)."""
        for stream in list(self._streams):
            stream.abrupt = True
            stream.closing.set()

    @property
    def open_streams(self) -> int:
        """How many streams are connected."""
        return len(self._streams)

    def set_rate_limit(self, limit: int, window_s: float) -> None:
        """Allow ``limit`` REST requests per ``window_s`` seconds per token from now on (counts restart)."""
        if limit < 1 or window_s <= 0:
            raise ValueError("a rate limit needs limit >= 1 and a positive window")
        self._rate_limit = (limit, window_s)
        self._windows.clear()

    def post_as(
        self,
        username: str,
        text: str,
        *,
        in_reply_to_id: str | None = None,
        visibility: Visibility = "public",
    ) -> dict[str, Any]:
        """Post a status on behalf of any account (e.g. a reply a test injects); returns the Status entity."""
        account = self._account_by_acct(username)
        reply_to = self._statuses.get(int(in_reply_to_id)) if in_reply_to_id else None
        if in_reply_to_id and reply_to is None:
            raise KeyError(f"no status {in_reply_to_id}")
        status = self._create_status(account, text, visibility=visibility, in_reply_to=reply_to)
        return self._status_entity(status, account)

    # ------------------------------------------------------------------------------------------- statuses

    def _resolve(self, username: str, domain: str | None) -> _Account | None:
        key = username.lower() if not domain or domain.lower() == self.domain else f"{username}@{domain}"
        return self._by_acct.get(key.lower())

    def _render(self, text: str) -> tuple[str, list[_Account]]:
        """Mastodon's HTML for plain text: paragraphs, line breaks, linked mentions; and who is mentioned."""
        mentioned: list[_Account] = []
        paragraphs: list[str] = []
        for paragraph in re.split(r"\n{2,}", text.strip()):
            out: list[str] = []
            pos = 0
            for match in _MENTION.finditer(paragraph):
                account = self._resolve(match.group(1), match.group(2))
                if account is None:
                    continue
                out.append(html.escape(paragraph[pos : match.start()], quote=False))
                out.append(
                    f'<span class="h-card" translate="no"><a href="{html.escape(account.url)}"'
                    f' class="u-url mention">@<span>{html.escape(account.username)}</span></a></span>'
                )
                pos = match.end()
                if account not in mentioned:
                    mentioned.append(account)
            out.append(html.escape(paragraph[pos:], quote=False))
            paragraphs.append("<p>" + "".join(out).replace("\n", "<br />") + "</p>")
        return "".join(paragraphs), mentioned

    def _create_status(
        self,
        account: _Account,
        text: str,
        *,
        visibility: Visibility,
        in_reply_to: _Status | None,
    ) -> _Status:
        content, mentioned = self._render(text)
        status = _Status(
            id=self._ids.next(),
            account=account,
            text=text,
            content=content,
            created_at=utcnow_ms(),
            visibility=visibility,
            in_reply_to=in_reply_to,
            mentions=mentioned,
        )
        self._statuses[status.id] = status
        self._statuses_count[account.id] = self._statuses_count.get(account.id, 0) + 1
        self._last_status_at[account.id] = status.created_at
        if in_reply_to is not None:
            self._replies_count[in_reply_to.id] = self._replies_count.get(in_reply_to.id, 0) + 1
        if visibility != "direct":
            self._publish(account, "update", self._status_entity(status, account))
        for recipient in mentioned:
            if recipient is account:
                continue
            note = _Notification(
                id=self._ids.next(),
                type="mention",
                recipient=recipient,
                account=account,
                status=status,
                created_at=status.created_at,
            )
            self._notifications[recipient.id].append(note)
            self._publish(recipient, "notification", self._notification_entity(note))
        if account.id not in self._company_of:
            companies: list[_Company] = []
            for recipient in mentioned:
                company = self._company_of.get(recipient.id)
                if company is not None and company not in companies:
                    companies.append(company)
            for company in companies:
                self._plan(company, status)
        return status

    def _visible(self, status: _Status, viewer: _Account | None) -> bool:
        if status.visibility in ("public", "unlisted"):
            return True
        return viewer is not None and (viewer is status.account or viewer in status.mentions)

    # ------------------------------------------------------------------------------------------- companies

    def _record(self, kind: RecordKind, company: _Company, status: _Status, inquiry: _Status) -> None:
        with self._truth_lock:
            self._truth.append(
                MastodonRecord(
                    kind=kind,
                    company_id=company.target.id,
                    status_id=str(status.id),
                    inquiry_id=str(inquiry.id),
                    account=status.account.acct,
                    created_at=status.created_at,
                    in_reply_to=str(status.in_reply_to.id) if status.in_reply_to else None,
                    visibility=status.visibility,
                    text=status.text,
                )
            )

    def _plan(self, company: _Company, inquiry: _Status) -> None:
        """Plan the company's replies to an inquiry, like its email help desk would answer it."""
        self._record("inquiry", company, inquiry, inquiry)
        desk = company.desk
        rng = random.Random(company.rng.getrandbits(64))
        planned = plan_replies(desk.behaviour, rng, time_scale=self.time_scale)
        agent = rng.choice(desk.agents)
        answer = rng.choice(_ANSWERS)
        last_person = 0.0
        for item in planned:
            if item.kind == "bounce":
                continue  # a social account that does not exist cannot be mentioned at all
            delay = item.delay
            if item.kind in PERSON_KINDS:
                # A person needs time to read and type: on a social network a reply within seconds is a
                # bot's (the classifier's instant rule), so the sandbox's people are never that quick; an
                # answer after a holding reply still comes after it.
                least = PERSON_MIN_DELAY_S / self.time_scale
                delay = max(delay, least, last_person + least / 2)
                last_person = delay
            if item.business_time and desk.clock is not None:
                at = desk.clock.add_business_time(inquiry.created_at, delay)
            else:
                at = inquiry.created_at + timedelta(seconds=delay)
            if at is None:
                log.info("%s never opens within the horizon; no %s reply", company.target.id, item.kind)
                continue
            self._schedule(at, self._reply(company, inquiry, item.kind, agent, answer))

    def _reply(
        self, company: _Company, inquiry: _Status, kind: ReplyKind, agent: str, answer: str
    ) -> Callable[[], None]:
        persona = inquiry.account
        hello = f"@{persona.acct}"
        first = _first_name(persona)
        sign = "^" + "".join(word[0] for word in agent.split())
        name = company.target.name
        if kind == "ack":
            promise = company.desk.promise or NO_PROMISE
            text = (
                f"{hello} Thanks for reaching out! We've received your message and one of our team will get "
                f"back to you {promise}. \u2013 {name} Support"
            )
            author, reply_to = company.main, inquiry
        elif kind == "ooo":
            back = (utcnow().astimezone(company.target.tz) + timedelta(days=3)).strftime("%A, %d %B")
            text = (
                f"{hello} Thanks for your message! Our social media team is away until {back}; we will "
                "answer as soon as we are back. (automatic reply)"
            )
            author, reply_to = company.person, inquiry
        elif kind == "holding":
            text = f"{hello} Hi {first}, we're looking into it and will get back to you here shortly. {sign}"
            author, reply_to = company.person, inquiry
        elif kind == "followup":
            text = f"{hello} Hi {first}, following up on your question: {answer} {sign}"
            author, reply_to = company.person, None
        elif kind == "deflection":
            text = (
                f"{hello} Hi {first}, please send us a DM with your order number, or contact our support at "
                f"{company.desk.address}. {sign}"
            )
            author, reply_to = company.person, inquiry
        else:
            text = f"{hello} Hi {first}! {answer} {sign}"
            author, reply_to = company.person, inquiry

        def post() -> None:
            if reply_to is not None and reply_to.id not in self._statuses:
                return
            status = self._create_status(author, text, visibility=inquiry.visibility, in_reply_to=reply_to)
            self._record(kind, company, status, inquiry)

        return post

    def _schedule(self, at: datetime, post: Callable[[], None]) -> None:
        async def later() -> None:
            await asyncio.sleep(max(0.0, (at - utcnow()).total_seconds()))
            try:
                post()
            except Exception:
                log.exception("the sandbox Mastodon could not post a company reply")

        task = asyncio.get_running_loop().create_task(later())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------------------------------- entities

    def _account_entity(self, account: _Account) -> dict[str, Any]:
        last = self._last_status_at.get(account.id)
        return {
            "id": account.id,
            "username": account.username,
            "acct": account.acct,
            "display_name": account.display_name,
            "locked": False,
            "bot": account.bot,
            "discoverable": True,
            "group": False,
            "created_at": iso_ms(account.created_at),
            "note": "",
            "url": account.url,
            "uri": f"https://{account.host}/users/{account.username}",
            "avatar": f"https://{self.domain}/avatars/original/missing.png",
            "avatar_static": f"https://{self.domain}/avatars/original/missing.png",
            "header": f"https://{self.domain}/headers/original/missing.png",
            "header_static": f"https://{self.domain}/headers/original/missing.png",
            "followers_count": 0,
            "following_count": 0,
            "statuses_count": self._statuses_count.get(account.id, 0),
            "last_status_at": last.date().isoformat() if last else None,
            "emojis": [],
            "fields": [],
        }

    def _status_entity(self, status: _Status, viewer: _Account | None) -> dict[str, Any]:
        account = status.account
        return {
            "id": str(status.id),
            "created_at": iso_ms(status.created_at),
            "in_reply_to_id": str(status.in_reply_to.id) if status.in_reply_to else None,
            "in_reply_to_account_id": status.in_reply_to.account.id if status.in_reply_to else None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": status.visibility,
            "language": "en",
            "uri": f"https://{account.host}/users/{account.username}/statuses/{status.id}",
            "url": f"https://{account.host}/@{account.username}/{status.id}",
            "replies_count": self._replies_count.get(status.id, 0),
            "reblogs_count": 0,
            "favourites_count": 0,
            "edited_at": None,
            "content": status.content,
            "reblog": None,
            "application": None,
            "account": self._account_entity(account),
            "media_attachments": [],
            "mentions": [
                {"id": m.id, "username": m.username, "url": m.url, "acct": m.acct} for m in status.mentions
            ],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }

    def _notification_entity(self, note: _Notification) -> dict[str, Any]:
        return {
            "id": str(note.id),
            "type": note.type,
            "group_key": f"ungrouped-{note.id}",
            "created_at": iso_ms(note.created_at),
            "account": self._account_entity(note.account),
            "status": self._status_entity(note.status, note.recipient),
        }

    # ------------------------------------------------------------------------------------------- streaming

    def _publish(self, account: _Account, event: str, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        chunk = f"event: {event}\ndata: {data}\n\n".encode()
        due = asyncio.get_running_loop().time() + self.stream_delay
        for stream in self._streams:
            if stream.account is account:
                stream.events.put_nowait((due, chunk))

    async def _serve_stream(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        try:
            if not self.streaming:
                raise _ApiError(404, "Not Found")
            account = self._viewer(request, query_token=True)
            if self.refuse_streams:
                raise _ApiError(503, "Service Unavailable")
        except _ApiError as error:
            await JSONResponse({"error": error.message}, status_code=error.status)(scope, receive, send)
            return
        stream = _Stream(account)
        self._streams.add(stream)
        try:
            await self._write_stream(stream, receive, send)
        finally:
            self._streams.discard(stream)

    async def _write_stream(self, stream: _Stream, receive: Any, send: Any) -> None:
        loop = asyncio.get_running_loop()

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        gone = loop.create_task(disconnected())
        closing = loop.create_task(stream.closing.wait())
        getting: asyncio.Task[tuple[float, bytes]] | None = None
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"text/event-stream"),
                        (b"cache-control", b"no-store"),
                        (b"x-accel-buffering", b"no"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b":)\n", "more_body": True})
            while True:
                if getting is None:
                    getting = loop.create_task(stream.events.get())
                done, _ = await asyncio.wait(
                    {getting, gone, closing}, timeout=self.heartbeat, return_when=asyncio.FIRST_COMPLETED
                )
                if gone in done or closing in done:
                    break
                if getting not in done:
                    await send({"type": "http.response.body", "body": b":thump\n\n", "more_body": True})
                    continue
                due, chunk = getting.result()
                getting = None
                wait = due - loop.time()
                if wait > 0:
                    done, _ = await asyncio.wait({gone, closing}, timeout=wait)
                    if done:
                        break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if not stream.abrupt and not gone.done():
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            for task in (gone, closing, getting):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    # ------------------------------------------------------------------------------------------- rate limits

    def _rate_key(self, scope: dict[str, Any]) -> str:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                token = bytes(value).decode("latin-1").removeprefix("Bearer ").strip()
                if token in self._by_token:
                    return "token:" + token
        client = scope.get("client") or ("?", 0)
        return f"address:{client[0]}"

    def _count(self, key: str) -> tuple[list[tuple[bytes, bytes]], bool]:
        """Count one request against ``key``'s window: its rate-limit headers, and whether it may go on."""
        limit, window = self._rate_limit
        now = time.time()
        start, used = self._windows.get(key, (now, 0))
        if now >= start + window:
            start, used = now, 0
        used += 1
        self._windows[key] = (start, used)
        # Rounded up to the millisecond: a client that waits until the reset is never a moment early.
        reset_ms = math.ceil((start + window) * 1000)
        reset = iso_ms(datetime.fromtimestamp(reset_ms / 1000, tz=UTC))
        headers = [
            (b"x-ratelimit-limit", str(limit).encode()),
            (b"x-ratelimit-remaining", str(max(0, limit - used)).encode()),
            (b"x-ratelimit-reset", str(reset).encode()),
        ]
        return headers, used <= limit

    # ------------------------------------------------------------------------------------------- REST API

    def _viewer(self, request: Request, *, query_token: bool = False) -> _Account:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not token and query_token:
            token = request.query_params.get("access_token", "")
        account = self._by_token.get(token) if token else None
        if account is None:
            raise _ApiError(401, "The access token is invalid")
        return account

    def _status_or_404(self, status_id: str, viewer: _Account | None) -> _Status:
        number = _int_param(status_id)
        status = self._statuses.get(number) if number is not None else None
        if status is None or not self._visible(status, viewer):
            raise _ApiError(404, "Record not found")
        return status

    def _page(
        self, request: Request, items: list[Any], key: Callable[[Any], int], bounds: tuple[int, int]
    ) -> tuple[list[Any], dict[str, str]]:
        """Mastodon's id pagination of items (oldest first): newest first, and a ``Link`` header."""
        params = request.query_params
        limit = _limit(params.get("limit"), bounds)
        max_id, since_id, min_id = (_int_param(params.get(n)) for n in ("max_id", "since_id", "min_id"))
        chosen = [
            i
            for i in items
            if (max_id is None or key(i) < max_id)
            and (since_id is None or key(i) > since_id)
            and (min_id is None or key(i) > min_id)
        ]
        # min_id pages forward from it (the oldest above it); the others page backward from the newest.
        page = list(reversed(chosen[:limit])) if min_id is not None else list(reversed(chosen))[:limit]
        headers: dict[str, str] = {}
        if page:
            kept = [(k, v) for k, v in params.multi_items() if k not in ("max_id", "since_id", "min_id")]
            base = str(request.url.replace(query=""))
            nxt = f"{base}?{urlencode([*kept, ('max_id', str(key(page[-1])))])}"
            prev = f"{base}?{urlencode([*kept, ('min_id', str(key(page[0])))])}"
            headers["Link"] = f'<{nxt}>; rel="next", <{prev}>; rel="prev"'
        return page, headers

    async def _verify_credentials(self, request: Request) -> Response:
        viewer = self._viewer(request)
        entity = self._account_entity(viewer)
        entity["source"] = {
            "privacy": "public",
            "sensitive": False,
            "language": "en",
            "note": "",
            "fields": [],
        }
        return JSONResponse(entity)

    async def _lookup(self, request: Request) -> Response:
        acct = request.query_params.get("acct", "")
        try:
            account = self._account_by_acct(acct)
        except KeyError:
            raise _ApiError(404, "Record not found") from None
        return JSONResponse(self._account_entity(account))

    async def _account(self, request: Request) -> Response:
        account = self._accounts.get(request.path_params["id"])
        if account is None:
            raise _ApiError(404, "Record not found")
        return JSONResponse(self._account_entity(account))

    async def _account_statuses(self, request: Request) -> Response:
        viewer = self._viewer(request)
        account = self._accounts.get(request.path_params["id"])
        if account is None:
            raise _ApiError(404, "Record not found")
        own = [s for s in self._statuses.values() if s.account is account and self._visible(s, viewer)]
        page, headers = self._page(request, own, lambda s: s.id, _STATUSES_LIMIT)
        return JSONResponse([self._status_entity(s, viewer) for s in page], headers=headers)

    async def _post_status(self, request: Request) -> Response:
        viewer = self._viewer(request)
        form = await _form(request)
        key = request.headers.get("idempotency-key")
        now = utcnow()
        self._idempotent = {k: v for k, v in self._idempotent.items() if now - v[0] < IDEMPOTENCY_TTL}
        if key and (viewer.id, key) in self._idempotent:
            earlier = self._statuses[self._idempotent[(viewer.id, key)][1]]
            return JSONResponse(self._status_entity(earlier, viewer))
        text = form.get("status", "")
        if not text.strip():
            raise _ApiError(422, "Validation failed: Text can't be blank")
        # Mastodon counts a mention by its user name only.
        length = len(_MENTION.sub(lambda m: "@" + m.group(1), text))
        if length > MAX_CHARS:
            raise _ApiError(422, f"Validation failed: Text character limit of {MAX_CHARS} exceeded")
        visibility = form.get("visibility") or "public"
        if visibility not in VISIBILITIES:
            raise _ApiError(422, f"Validation failed: Visibility is not included in the list ({visibility})")
        reply_to = None
        if form.get("in_reply_to_id"):
            reply_to = self._status_or_404(form["in_reply_to_id"], viewer)
        status = self._create_status(
            viewer, text, visibility=cast(Visibility, visibility), in_reply_to=reply_to
        )
        if key:
            self._idempotent[(viewer.id, key)] = (now, status.id)
        return JSONResponse(self._status_entity(status, viewer))

    async def _get_status(self, request: Request) -> Response:
        viewer = self._optional_viewer(request)
        status = self._status_or_404(request.path_params["id"], viewer)
        return JSONResponse(self._status_entity(status, viewer))

    async def _context(self, request: Request) -> Response:
        viewer = self._optional_viewer(request)
        status = self._status_or_404(request.path_params["id"], viewer)
        ancestors: list[_Status] = []
        parent = status.in_reply_to
        while parent is not None:
            if self._visible(parent, viewer):
                ancestors.insert(0, parent)
            parent = parent.in_reply_to
        descendants: list[_Status] = []
        frontier = [status]
        while frontier:
            children = [s for s in self._statuses.values() if s.in_reply_to in frontier]
            descendants.extend(s for s in children if self._visible(s, viewer))
            frontier = children
        descendants.sort(key=lambda s: s.id)
        return JSONResponse(
            {
                "ancestors": [self._status_entity(s, viewer) for s in ancestors],
                "descendants": [self._status_entity(s, viewer) for s in descendants],
            }
        )

    def _optional_viewer(self, request: Request) -> _Account | None:
        if "authorization" not in request.headers:
            return None
        return self._viewer(request)

    async def _list_notifications(self, request: Request) -> Response:
        viewer = self._viewer(request)
        types = set(request.query_params.getlist("types[]"))
        excluded = set(request.query_params.getlist("exclude_types[]"))
        notes = [
            n
            for n in self._notifications[viewer.id]
            if (not types or n.type in types) and n.type not in excluded
        ]
        page, headers = self._page(request, notes, lambda n: n.id, _NOTIFICATIONS_LIMIT)
        return JSONResponse([self._notification_entity(n) for n in page], headers=headers)

    async def _get_notification(self, request: Request) -> Response:
        viewer = self._viewer(request)
        for note in self._notifications[viewer.id]:
            if str(note.id) == request.path_params["id"]:
                return JSONResponse(self._notification_entity(note))
        raise _ApiError(404, "Record not found")

    async def _streaming_health(self, request: Request) -> Response:
        if not self.streaming:
            raise _ApiError(404, "Not Found")
        return PlainTextResponse("OK")

    def _starlette(self) -> Starlette:
        async def api_error(_request: Request, exc: Exception) -> Response:
            assert isinstance(exc, _ApiError)
            return JSONResponse({"error": exc.message}, status_code=exc.status)

        async def not_found(_request: Request, _exc: Exception) -> Response:
            return JSONResponse({"error": "Not Found"}, status_code=404)

        routes = [
            Route("/api/v1/accounts/verify_credentials", self._verify_credentials),
            Route("/api/v1/accounts/lookup", self._lookup),
            Route("/api/v1/accounts/{id}", self._account),
            Route("/api/v1/accounts/{id}/statuses", self._account_statuses),
            Route("/api/v1/statuses", self._post_status, methods=["POST"]),
            Route("/api/v1/statuses/{id}", self._get_status),
            Route("/api/v1/statuses/{id}/context", self._context),
            Route("/api/v1/notifications", self._list_notifications),
            Route("/api/v1/notifications/{id}", self._get_notification),
            Route("/api/v1/streaming/health", self._streaming_health),
            Route("/api/v1/streaming/user", _AsgiEndpoint(self._serve_stream)),
        ]
        handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
            _ApiError: api_error,
            404: not_found,
        }
        return Starlette(routes=routes, exception_handlers=handlers)


class _AsgiEndpoint:
    """A plain ASGI callable as a Starlette route endpoint (Starlette calls it with scope, receive, send)."""

    def __init__(self, handler: Callable[[dict[str, Any], Any, Any], Awaitable[None]]) -> None:
        self.handler = handler

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.handler(scope, receive, send)


class _RateLimiter:
    """ASGI middleware: Mastodon's rate-limit headers on every REST response, 429 once the quota is used."""

    def __init__(self, app: Any, server: SandboxMastodon) -> None:
        self.app = app
        self.server = server

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith("/api/") or path.startswith("/api/v1/streaming"):
            await self.app(scope, receive, send)
            return
        headers, allowed = self.server._count(self.server._rate_key(scope))
        if not allowed:
            self.server.rate_limited += 1
            response = JSONResponse({"error": "Too many requests"}, status_code=429)
            response.raw_headers.extend(headers)
            await response(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _form(request: Request) -> dict[str, str]:
    """A POST's parameters: a JSON object or an urlencoded form (the first value of each name)."""
    body = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise _ApiError(400, "Invalid JSON") from None
        if not isinstance(data, dict):
            raise _ApiError(400, "Invalid JSON")
        return {str(k): "" if v is None else str(v) for k, v in data.items()}
    pairs: Iterable[tuple[str, str]] = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form
