"""X (API v2 over httpx): assisted by default, automatic for accounts allowed to post by program.

X requires automated interactions to be user-initiated and bills API use, so a persona's X probes are
assisted unless its identity says ``mode = "automatic"`` (``persona.social_mode("x")``; the engine decides and
never calls :meth:`XChannel.send` for an assisted persona). In assisted mode a person posts the rendered
inquiry and runs ``replybench attach PROBE URL``, which calls :func:`post_id_from_url` and
:meth:`XChannel.lookup`. From then on, when the persona has an access token, replies are read through the API:
the conversation of each watched post (recent search ``conversation_id:<id>``), the persona's mentions
timeline (a company answering with a fresh mention) and, for a direct probe, its direct-message conversation.

The bearer token is the persona's OAuth 2.0 user-context access token (the variable ``token_env`` names).
Every stored raw item is ``{"data": <post or DM event>, "includes": {"users": [<its author>]}}``: the parts of
an API response that describe that one post (:func:`parse_item` reads it back).
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from replybench.channels import social
from replybench.channels.base import ChannelDescription, InboundItem, InboundSink, OutboundProbe, SendReceipt
from replybench.channels.social import MalformedSocialItem, RateGate, SocialPost, normalise_handle
from replybench.errors import ChannelError, SendFailed, SendUncertain
from replybench.models import Persona
from replybench.store import Store
from replybench.timefmt import utcnow

log = logging.getLogger(__name__)

NAME = "x"
#: X's limit for one post.
MAX_CHARS = 280
#: Clock of a post's or DM's own ``created_at``.
CLOCK = "x-created_at"
#: Clock of a post whose ``created_at`` could not be read back: the ``Date`` of X's answer to the create.
RESPONSE_DATE_CLOCK = "x-response-date"

TWEET_FIELDS = "created_at,conversation_id,author_id,in_reply_to_user_id,referenced_tweets,entities"
DM_EVENT_FIELDS = "id,text,event_type,created_at,sender_id,dm_conversation_id"
USER_FIELDS = "username,name"

_HOSTS = frozenset(
    {"x.com", "www.x.com", "mobile.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com"}
)
_POST_ID = re.compile(r"[1-9][0-9]{0,18}")
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,50}")
_DM_CONVERSATION = re.compile(r"[0-9]{1,19}-[0-9]{1,19}|[0-9]{1,19}")
#: Pages of one listing read per poll at most (reads are billed).
MAX_PAGES = 10
#: How far a lookup's rate-limit wait may be before a post we just made is dated by the response instead.
_LOOKUP_PATIENCE = timedelta(seconds=5)


# --------------------------------------------------------------------------------------------- URLs


def post_id_from_url(url: str) -> str:
    """The id of the X post a URL shows (``https://x.com/<user>/status/<id>``; twitter.com works too).

    Query strings and fragments are ignored; ``/photo/1`` and similar suffixes are allowed. Raises ValueError
    naming the accepted form for anything else.
    """
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a URL; expected https://x.com/<user>/status/<id>") from exc
    if parts.scheme.lower() not in ("http", "https") or host not in _HOSTS:
        raise ValueError(f"{url!r} is not an X post address; expected https://x.com/<user>/status/<id>")
    segments = [s for s in parts.path.split("/") if s]
    for i, segment in enumerate(segments[:-1]):
        if segment.lower() in ("status", "statuses") and _POST_ID.fullmatch(segments[i + 1]):
            return segments[i + 1]
    raise ValueError(f"{url!r} does not name an X post; expected https://x.com/<user>/status/<id>")


# --------------------------------------------------------------------------------------------- parsing


def _load(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedSocialItem(f"an X item is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedSocialItem("an X item must be a JSON object")
    return data


def _id(value: Any, what: str, pattern: re.Pattern[str] = _POST_ID) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise MalformedSocialItem(f"an X item has no valid {what} (got {value!r:.40})")
    return value


def _time(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise MalformedSocialItem(f"an X item has no {what}")
    try:
        when = datetime.fromisoformat(value)
        if when.tzinfo is None:
            raise ValueError("no time zone")
        return when.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise MalformedSocialItem(f"an X item's {what} {value!r:.40} is not an ISO 8601 time: {exc}") from exc


def _users(item: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    includes = item.get("includes")
    users = includes.get("users") if isinstance(includes, dict) else None
    found: dict[str, Mapping[str, Any]] = {}
    for user in users if isinstance(users, list) else []:
        if isinstance(user, dict) and isinstance(user.get("id"), str):
            found[user["id"]] = user
    return found


def _author(
    users: Mapping[str, Mapping[str, Any]], user_id: str, post_id: str
) -> tuple[str, str, str | None]:
    """(username as written, normalised handle, display name) of an author the item includes."""
    user = users.get(user_id)
    username = user.get("username") if user is not None else None
    if not isinstance(username, str) or not normalise_handle(username) or any(c.isspace() for c in username):
        raise MalformedSocialItem(f"X item {post_id}: its author {user_id} is not in includes.users")
    name = user.get("name") if user is not None else None
    return username.strip().lstrip("@"), normalise_handle(username), name if isinstance(name, str) else None


def parse_item(raw: bytes) -> SocialPost:
    """The post a stored X item describes: ``{"data": <post or DM event>, "includes": {"users": [...]}}``.

    ``author`` is the author's username (normalised), ``in_reply_to`` the post it replies to, ``root`` the
    conversation id, ``created_at`` X's own ``created_at`` (clock ``x-created_at``). A DM event gives a
    ``direct`` post whose root is the DM conversation. Raises MalformedSocialItem for anything else.
    """
    item = _load(raw)
    data = item.get("data")
    if not isinstance(data, dict):
        raise MalformedSocialItem("an X item needs a 'data' object (a post or a DM event)")
    users = _users(item)
    if "event_type" in data or "dm_conversation_id" in data:
        return _parse_dm_event(data, users)
    return _parse_post(data, users)


def _parse_post(data: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]]) -> SocialPost:
    post_id = _id(data.get("id"), "post id")
    text = data.get("text")
    if not isinstance(text, str):
        raise MalformedSocialItem(f"X post {post_id} has no text")
    created_at = _time(data.get("created_at"), "created_at")
    author_id = _id(data.get("author_id"), "author_id")
    username, author, name = _author(users, author_id, post_id)
    in_reply_to = None
    references = data.get("referenced_tweets")
    for ref in references if isinstance(references, list) else []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to":
            in_reply_to = _id(ref.get("id"), "replied_to id")
            break
    conversation = data.get("conversation_id")
    root = _id(conversation, "conversation_id") if conversation is not None else None
    mentions: list[str] = []
    entities = data.get("entities")
    listed = entities.get("mentions") if isinstance(entities, dict) else None
    for mention in listed if isinstance(listed, list) else []:
        handle = mention.get("username") if isinstance(mention, dict) else None
        if isinstance(handle, str) and normalise_handle(handle):
            mentions.append(normalise_handle(handle))
    extra: dict[str, str] = {}
    if isinstance(data.get("in_reply_to_user_id"), str):
        extra["in_reply_to_user_id"] = data["in_reply_to_user_id"]
    return SocialPost(
        network=NAME,
        id=post_id,
        author=author,
        created_at=created_at,
        clock=CLOCK,
        text=html.unescape(text),
        url=f"https://x.com/{username}/status/{post_id}",
        author_id=author_id,
        author_name=name,
        in_reply_to=in_reply_to,
        root=root,
        mentions=tuple(dict.fromkeys(mentions)),
        extra=extra,
    )


def _parse_dm_event(data: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]]) -> SocialPost:
    event_id = _id(data.get("id"), "DM event id")
    if data.get("event_type", "MessageCreate") != "MessageCreate":
        raise MalformedSocialItem(f"X DM event {event_id} is a {data.get('event_type')!r:.40}, not a message")
    text = data.get("text")
    if not isinstance(text, str):
        raise MalformedSocialItem(f"X DM event {event_id} has no text")
    created_at = _time(data.get("created_at"), "created_at")
    sender_id = _id(data.get("sender_id"), "sender_id")
    _, author, name = _author(users, sender_id, event_id)
    conversation = _id(data.get("dm_conversation_id"), "dm_conversation_id", _DM_CONVERSATION)
    return SocialPost(
        network=NAME,
        id=event_id,
        author=author,
        created_at=created_at,
        clock=CLOCK,
        text=html.unescape(text),
        url=f"https://x.com/messages/{conversation}",
        author_id=sender_id,
        author_name=name,
        root=conversation,
        direct=True,
    )


def item_bytes(data: Mapping[str, Any], includes: Any, author_key: str = "author_id") -> bytes:
    """The stored raw item of one post or DM event from a response: it and its author from ``includes``."""
    users = _users({"includes": includes})
    author = users.get(str(data.get(author_key)))
    item = {"data": dict(data), "includes": {"users": [dict(author)] if author is not None else []}}
    return json.dumps(item, ensure_ascii=False).encode()


def attach_evidence(post: SocialPost) -> dict[str, str]:
    """Evidence ``replybench attach`` should keep with a looked-up post, so the listener finds its thread."""
    if post.direct:
        return {"dm_conversation_id": post.root or ""}
    return {"conversation_id": post.root or post.id}


# --------------------------------------------------------------------------------------------- helpers


def _api_message(response: httpx.Response) -> str:
    """The error X gave, in X's words (problem ``detail`` / ``title``, or the v1-style ``errors``)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    parts: list[str] = []
    if isinstance(body, dict):
        for key in ("detail", "title"):
            if isinstance(body.get(key), str):
                parts.append(body[key])
                break
        errors = body.get("errors")
        for error in errors if isinstance(errors, list) else []:
            if isinstance(error, dict):
                text = error.get("detail") or error.get("message") or error.get("title")
                if isinstance(text, str) and text not in parts:
                    parts.append(text)
    if not parts:
        parts.append(response.reason_phrase or response.text[:200] or "no details")
    return f"HTTP {response.status_code}: " + "; ".join(parts)


def _response_time(response: httpx.Response) -> tuple[datetime, str]:
    """When X answered (its ``Date`` header, clock ``x-response-date``), else now (``observed``)."""
    value = response.headers.get("date")
    if value:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None:
            return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC), RESPONSE_DATE_CLOCK
    return utcnow(), "observed"


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _unsent_transport_error(exc: httpx.HTTPError) -> bool:
    """True for errors that mean the request never reached X (nothing can have been created)."""
    return isinstance(
        exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout | httpx.UnsupportedProtocol
    )


# --------------------------------------------------------------------------------------------- channel


class XChannel(social.PollingChannel):
    """Posts probes on X (automatic personas only), looks up attached posts and listens for replies."""

    name = NAME
    label = "X"

    def __init__(
        self,
        personas: Mapping[str, Persona],
        store: Store,
        *,
        secrets: Mapping[str, str] | None = None,
        server: str | None = None,
        poll_interval: float = 60.0,
    ) -> None:
        self.personas = dict(personas)
        self.store = store
        self.poll_interval = poll_interval
        #: The listener's longest pause after network errors (it doubles from one poll interval).
        self.max_backoff = 600.0
        self._secrets = {k: v for k, v in (secrets or {}).items() if v}
        self._server = server.rstrip("/") if server else None
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(30.0), headers={"user-agent": "replybench"})
        self._gates: dict[tuple[str, str], RateGate] = {}
        self._me: dict[str, str] = {}
        self._user_ids: dict[tuple[str, str], str] = {}
        self._pushed: set[str] = set()

    # ------------------------------------------------------------------------------------ plumbing

    def _gate(self, persona: Persona, family: str) -> RateGate:
        # X limits each endpoint separately, so one exhausted quota must not hold back the others.
        key = (persona.id, family)
        if key not in self._gates:
            self._gates[key] = RateGate(remaining="x-rate-limit-remaining", reset="x-rate-limit-reset")
        return self._gates[key]

    async def _request(
        self,
        persona: Persona,
        secret: str,
        family: str,
        method: str,
        path: str,
        *,
        attempts: int = 5,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = {"authorization": f"Bearer {secret}"}
        return await social.send_request(
            self._client,
            self._gate(persona, family),
            method,
            self._base(persona) + path,
            attempts=attempts,
            headers=headers,
            **kwargs,
        )

    async def _get_json(
        self, persona: Persona, secret: str, family: str, path: str, params: Mapping[str, str]
    ) -> dict[str, Any]:
        """A GET that must succeed; ChannelError with X's message otherwise."""
        response = await self._request(persona, secret, family, "GET", path, params=dict(params))
        if response.status_code != 200:
            raise ChannelError(f"X {path}: {self._scrub(_api_message(response))}")
        return _json_object(response)

    async def _me_id(self, persona: Persona, secret: str) -> str:
        """The persona's X user id (``GET /2/users/me``), read once."""
        if persona.id not in self._me:
            body = await self._get_json(persona, secret, "users:me", "/2/users/me", {})
            data = body.get("data")
            user_id = data.get("id") if isinstance(data, dict) else None
            if not isinstance(user_id, str) or not _POST_ID.fullmatch(user_id):
                raise ChannelError("X /2/users/me did not name the persona's user id")
            self._me[persona.id] = user_id
        return self._me[persona.id]

    async def _user_id(self, persona: Persona, secret: str, account: str) -> str:
        """The user id of an account (``GET /2/users/by/username/:username``)."""
        username = account.strip().lstrip("@")
        if not _USERNAME.fullmatch(username):
            raise ChannelError(f"{account!r} is not an X username")
        key = (persona.id, username.lower())
        if key not in self._user_ids:
            body = await self._get_json(
                persona, secret, "users:lookup", f"/2/users/by/username/{username}", {}
            )
            data = body.get("data")
            user_id = data.get("id") if isinstance(data, dict) else None
            if not isinstance(user_id, str) or not _POST_ID.fullmatch(user_id):
                raise ChannelError(f"X does not know the account @{username}")
            self._user_ids[key] = user_id
        return self._user_ids[key]

    # ------------------------------------------------------------------------------------ sending

    async def send(self, probe: OutboundProbe) -> SendReceipt:
        """Post the probe as its (automatic) persona: a public post, or a DM when the target says ``direct``.

        ``sent_at`` is X's ``created_at`` of the post, read back after the create; if that read fails the
        post was still made and its time is the ``Date`` of X's answer (clock ``x-response-date``).
        """
        persona = probe.persona
        identity = social.identity_of(persona, NAME)
        if persona.social_mode(NAME) != "automatic":
            raise SendFailed(
                f"persona {persona.id!r} posts on X in assisted mode: a person posts the inquiry and runs"
                " `replybench attach`; replybench posts only for identities with mode = 'automatic'"
            )
        secret = self._secret(persona)
        if secret is None:
            raise SendFailed(
                f"persona {persona.id!r} has no X access token: set the environment variable"
                f" {identity.token_env or '(x.token_env is not configured)'}"
            )
        text = social.compose_post(probe, NAME, MAX_CHARS)
        facts = social.probe_facts(probe, NAME)
        endpoint = social.endpoint_of(probe.target, NAME)
        if endpoint.how == "direct":
            return await self._send_direct(persona, secret, endpoint.account, text, facts)
        response = await self._create(persona, secret, "tweets:create", "/2/tweets", {"text": text})
        data = _json_object(response).get("data")
        post_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(post_id, str) or not _POST_ID.fullmatch(post_id):
            raise SendUncertain(
                f"X accepted the post (HTTP {response.status_code}) but did not name its id; it may exist",
                evidence={"status": response.status_code},
            )
        post = await self._read_back(persona, secret, post_id, response, text, identity.account)
        return social.receipt_for(post, facts, conversation_id=post.root or post_id)

    async def _create(
        self, persona: Persona, secret: str, family: str, path: str, body: dict[str, Any]
    ) -> httpx.Response:
        """POST something new; sorts every failure into certainly-not-sent and may-have-been-sent."""
        try:
            response = await self._request(persona, secret, family, "POST", path, json=body)
        except social.RateLimited as exc:
            raise SendFailed(f"X rate limit: {exc}; nothing was posted") from None
        except httpx.HTTPError as exc:
            reason = self._scrub(f"{type(exc).__name__}: {exc}")
            if _unsent_transport_error(exc):
                raise SendFailed(f"could not reach X ({reason}); nothing was posted") from None
            raise SendUncertain(
                f"the request to X failed after it was sent ({reason}); it may have been posted"
            ) from None
        status = response.status_code
        if status == 429:
            raise SendFailed(
                f"X kept refusing with 429 (rate limit); nothing was posted: {self._scrub(_api_message(response))}"
            )
        if 400 <= status < 500:
            raise SendFailed(
                f"X refused the post: {self._scrub(_api_message(response))}", evidence={"status": status}
            )
        if not 200 <= status < 300:
            raise SendUncertain(
                f"X answered {self._scrub(_api_message(response))}; the post may have been made",
                evidence={"status": status},
            )
        return response

    async def _read_back(
        self, persona: Persona, secret: str, post_id: str, created: httpx.Response, text: str, account: str
    ) -> SocialPost:
        """Our new post with X's created_at; if reading fails, dated by the create response (never raises)."""
        try:
            gate = self._gate(persona, "tweets:lookup")
            if gate.resume_at is not None and gate.resume_at - utcnow() > _LOOKUP_PATIENCE:
                raise ChannelError("the post lookup is rate limited")
            post, _ = await self._lookup_post(persona, secret, post_id, attempts=1)
            return post
        except Exception as exc:  # the post exists: whatever went wrong reading it back, report it as made
            when, clock = _response_time(created)
            log.warning(
                "X post %s was made but reading it back failed (%s); dating it by X's response (%s)",
                post_id,
                self._scrub(str(exc)),
                clock,
            )
            username = account.strip().lstrip("@")
            return SocialPost(
                network=NAME,
                id=post_id,
                author=normalise_handle(account),
                created_at=when,
                clock=clock,
                text=text,
                url=f"https://x.com/{username}/status/{post_id}",
                root=post_id,
            )

    async def _send_direct(
        self, persona: Persona, secret: str, account: str, text: str, facts: dict[str, Any]
    ) -> SendReceipt:
        try:
            participant = await self._user_id(persona, secret, account)
        except (ChannelError, social.RateLimited) as exc:
            raise SendFailed(f"cannot message @{account.lstrip('@')} on X: {exc}") from None
        except httpx.HTTPError as exc:
            raise SendFailed(
                f"could not look up @{account.lstrip('@')} on X ({type(exc).__name__}); nothing was sent"
            ) from None
        response = await self._create(
            persona, secret, "dm:create", f"/2/dm_conversations/with/{participant}/messages", {"text": text}
        )
        data = _json_object(response).get("data")
        event_id = data.get("dm_event_id") if isinstance(data, dict) else None
        conversation = data.get("dm_conversation_id") if isinstance(data, dict) else None
        if (
            not isinstance(event_id, str)
            or not _POST_ID.fullmatch(event_id)
            or not isinstance(conversation, str)
        ):
            raise SendUncertain(
                f"X accepted the message (HTTP {response.status_code}) but did not name it; it may exist",
                evidence={"status": response.status_code},
            )
        try:
            body = await self._get_json(
                persona,
                secret,
                "dm:lookup",
                f"/2/dm_events/{event_id}",
                {"dm_event.fields": DM_EVENT_FIELDS, "expansions": "sender_id", "user.fields": USER_FIELDS},
            )
            event = body.get("data")
            if not isinstance(event, dict):
                raise ChannelError("X did not return the message")
            post = parse_item(item_bytes(event, body.get("includes"), "sender_id"))
        except Exception as exc:  # the message was sent: date it by the create response instead of failing
            when, clock = _response_time(response)
            log.warning(
                "X message %s was sent but reading it back failed (%s)", event_id, self._scrub(str(exc))
            )
            post = SocialPost(
                network=NAME,
                id=event_id,
                author=normalise_handle(social.identity_of(persona, NAME).account),
                created_at=when,
                clock=clock,
                text=text,
                url=f"https://x.com/messages/{conversation}",
                root=conversation,
                direct=True,
            )
        return social.receipt_for(post, facts, dm_conversation_id=conversation, participant_id=participant)

    # ------------------------------------------------------------------------------------ look-ups

    async def _lookup_post(
        self, persona: Persona, secret: str, post_id: str, *, attempts: int = 5
    ) -> tuple[SocialPost, bytes]:
        response = await self._request(
            persona,
            secret,
            "tweets:lookup",
            "GET",
            f"/2/tweets/{post_id}",
            attempts=attempts,
            params={"tweet.fields": TWEET_FIELDS, "expansions": "author_id", "user.fields": USER_FIELDS},
        )
        body = _json_object(response)
        data = body.get("data")
        if response.status_code != 200 or not isinstance(data, dict):
            raise ChannelError(f"X could not show post {post_id}: {self._scrub(_api_message(response))}")
        raw = item_bytes(data, body.get("includes"))
        return parse_item(raw), raw

    async def lookup(self, persona: Persona, post_id: str) -> tuple[SocialPost, bytes] | None:
        """The post with this id and its raw item, read with the persona's token (for ``replybench attach``).

        None when the persona has no X account or no token (the person then records replies themselves).
        Raises ChannelError with X's message when X refuses (unknown post, bad token) or cannot be reached.
        """
        identity = persona.social(NAME)
        secret = self._secret(persona) if identity is not None else None
        if secret is None:
            return None
        if not _POST_ID.fullmatch(post_id):
            raise ChannelError(f"{post_id!r} is not an X post id")
        try:
            return await self._lookup_post(persona, secret, post_id)
        except social.RateLimited as exc:
            raise ChannelError(f"X rate limit: {exc}") from None
        except httpx.HTTPError as exc:
            raise ChannelError(self._scrub(f"could not reach X ({type(exc).__name__}: {exc})")) from None
        except MalformedSocialItem as exc:
            raise ChannelError(f"X returned post {post_id} in a form replybench cannot read: {exc}") from None

    async def find_sent(self, probe: OutboundProbe, since: datetime) -> SendReceipt | None:
        """Our post (or DM) of this probe made at/after ``since`` − 60 s, if X has it (crash recovery).

        Raises ChannelError when X cannot be asked (no token, refused, unreachable): "not found" is only
        answered when X said so.
        """
        persona = probe.persona
        secret = self._secret(persona)
        if secret is None:
            raise ChannelError(
                f"persona {persona.id!r} has no X token; cannot check whether probe was posted"
            )
        text = social.compose_post(probe, NAME, MAX_CHARS)
        facts = social.probe_facts(probe, NAME)
        endpoint = social.endpoint_of(probe.target, NAME)
        start = since.astimezone(UTC) - timedelta(seconds=60)
        try:
            me = await self._me_id(persona, secret)
            if endpoint.how == "direct":
                participant = await self._user_id(persona, secret, endpoint.account)
                path = f"/2/dm_conversations/with/{participant}/dm_events"
                params = {
                    "dm_event.fields": DM_EVENT_FIELDS,
                    "expansions": "sender_id",
                    "user.fields": USER_FIELDS,
                    "event_types": "MessageCreate",
                    "max_results": "100",
                }
                items = await self._listing(
                    persona, secret, "dm:read", path, params, "pagination_token", "sender_id"
                )
            else:
                params = {
                    "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "tweet.fields": TWEET_FIELDS,
                    "expansions": "author_id",
                    "user.fields": USER_FIELDS,
                    "max_results": "100",
                }
                path = f"/2/users/{me}/tweets"
                items = await self._listing(persona, secret, "timeline", path, params, "pagination_token")
        except social.RateLimited as exc:
            raise ChannelError(f"X rate limit: {exc}") from None
        except httpx.HTTPError as exc:
            raise ChannelError(self._scrub(f"could not reach X ({type(exc).__name__}: {exc})")) from None
        for _, raw in items:
            try:
                post = parse_item(raw)
            except MalformedSocialItem:
                continue
            if post.author_id == me and post.text.strip() == text.strip() and post.created_at >= start:
                extra = attach_evidence(post)
                return social.receipt_for(post, facts, **extra)
        return None

    # ------------------------------------------------------------------------------------ listening

    async def _listing(
        self,
        persona: Persona,
        secret: str,
        family: str,
        path: str,
        params: dict[str, str],
        page_param: str,
        author_key: str = "author_id",
        stop_at: int | None = None,
    ) -> list[tuple[int, bytes]]:
        """(id, raw item) of every post a paged listing returns, oldest first.

        ``stop_at``: stop paging once a page reaches ids at or below it (listings without ``since_id``).
        """
        found: dict[int, bytes] = {}
        query = dict(params)
        for _ in range(MAX_PAGES):
            body = await self._get_json(persona, secret, family, path, query)
            data = body.get("data")
            lowest: int | None = None
            for entry in data if isinstance(data, list) else []:
                if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                    continue
                if not _POST_ID.fullmatch(entry["id"]):
                    continue
                number = int(entry["id"])
                lowest = number if lowest is None else min(lowest, number)
                if stop_at is None or number > stop_at:
                    found[number] = item_bytes(entry, body.get("includes"), author_key)
            meta = body.get("meta")
            token = meta.get("next_token") if isinstance(meta, dict) else None
            if (
                not isinstance(token, str)
                or not token
                or (stop_at is not None and lowest is not None and lowest <= stop_at)
            ):
                break
            query[page_param] = token
        return sorted(found.items())

    def _inbound(self, raw: bytes, source: str) -> InboundItem:
        try:
            post = parse_item(raw)
        except MalformedSocialItem as exc:
            log.warning("X item kept unparsed (%s)", exc)
            return InboundItem(channel=NAME, raw=raw, received_at=utcnow(), clock="observed", source=source)
        return social.inbound_item(post, raw, source)

    async def _push(
        self, items: list[tuple[int, bytes]], sink: InboundSink, source: str, cursor_key: str, cursor: int
    ) -> None:
        """Hand items to the sink oldest first; the cursor moves only after the sink stored each one."""
        for number, raw in items:
            if number <= cursor:
                continue
            if str(number) not in self._pushed:
                await sink(self._inbound(raw, source))
                self._pushed.add(str(number))
            self.store.set_cursor(cursor_key, 0, number)
            cursor = number

    async def _poll_conversation(
        self, persona: Persona, secret: str, conversation: str, since: int, sink: InboundSink, source: str
    ) -> None:
        key = f"x:conv:{conversation}"
        stored = self.store.get_cursor(key)
        cursor = max(stored[1], since) if stored else since
        params = {
            "query": f"conversation_id:{conversation}",
            "since_id": str(cursor),
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
            "max_results": "100",
        }
        items = await self._listing(
            persona, secret, "search", "/2/tweets/search/recent", params, "next_token"
        )
        await self._push(items, sink, source, key, cursor)

    async def _poll_mentions(
        self, persona: Persona, secret: str, since: int, sink: InboundSink, source: str
    ) -> None:
        me = await self._me_id(persona, secret)
        key = f"x:mentions:{me}"
        stored = self.store.get_cursor(key)
        cursor = max(stored[1], since) if stored else since
        params = {
            "since_id": str(cursor),
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
            "max_results": "100",
        }
        items = await self._listing(
            persona, secret, "mentions", f"/2/users/{me}/mentions", params, "pagination_token"
        )
        await self._push(items, sink, source, key, cursor)

    async def _poll_dm(
        self, persona: Persona, secret: str, conversation: str, since: int, sink: InboundSink, source: str
    ) -> None:
        key = f"x:dm:{conversation}"
        stored = self.store.get_cursor(key)
        cursor = max(stored[1], since) if stored else since
        params = {
            "dm_event.fields": DM_EVENT_FIELDS,
            "expansions": "sender_id",
            "user.fields": USER_FIELDS,
            "event_types": "MessageCreate",
            "max_results": "100",
        }
        path = f"/2/dm_conversations/{conversation}/dm_events"
        items = await self._listing(
            persona, secret, "dm:read", path, params, "pagination_token", "sender_id", stop_at=cursor
        )
        await self._push(items, sink, source, key, cursor)

    def _stored_post(self, post_id: str) -> SocialPost | None:
        """Our own post as the store keeps it (``replybench attach`` stores it), if it is there and readable."""
        record = self.store.message_by_key(social.post_key(NAME, post_id))
        if record is None:
            return None
        try:
            return parse_item(record.raw)
        except MalformedSocialItem:
            return None

    async def poll_once(self, persona: Persona, sink: InboundSink) -> None:
        """One round of reading replies for a persona's watched X probes (the listener repeats it)."""
        secret = self._secret(persona)
        if secret is None:
            return
        source = self._source(persona)
        posts: list[int] = []
        conversations: dict[str, int] = {}
        dms: dict[str, int] = {}
        for probe in self.store.watched_probes(NAME):
            if probe.persona_id != persona.id or not probe.external_id:
                continue
            post_id = probe.external_id.removeprefix(f"{NAME}:")
            if not _POST_ID.fullmatch(post_id):
                continue
            ours = self._stored_post(post_id)
            dm = probe.evidence.get("dm_conversation_id")
            if (not isinstance(dm, str) or not dm) and ours is not None and ours.direct:
                dm = ours.root
            if isinstance(dm, str) and _DM_CONVERSATION.fullmatch(dm):
                dms[dm] = min(dms.get(dm, int(post_id)), int(post_id))
                continue
            # `replybench attach` keeps our post in the store; its conversation may be the company's thread.
            conversation = probe.evidence.get("conversation_id") or (ours.root if ours is not None else None)
            if not isinstance(conversation, str) or not _POST_ID.fullmatch(conversation):
                conversation = post_id
            conversations[conversation] = min(conversations.get(conversation, int(post_id)), int(post_id))
            posts.append(int(post_id))
        # A refused listing (e.g. a post older than recent search's seven days) must not stop the others.
        for conversation, since in conversations.items():
            try:
                await self._poll_conversation(persona, secret, conversation, since, sink, source)
            except ChannelError as exc:
                log.warning("X conversation %s: %s", conversation, exc)
        for conversation, since in dms.items():
            try:
                await self._poll_dm(persona, secret, conversation, since, sink, source)
            except ChannelError as exc:
                log.warning("X DM conversation %s: %s", conversation, exc)
        if posts:
            try:
                await self._poll_mentions(persona, secret, min(posts), sink, source)
            except ChannelError as exc:
                log.warning("X mentions of %s: %s", persona.id, exc)

    # ------------------------------------------------------------------------------------ the rest

    def describe(self) -> ChannelDescription:
        """Token variables the personas use (and which are unset), how replies are read, the modes."""
        return ChannelDescription(
            name=NAME,
            credentials=social.credential_names(self.personas, NAME),
            missing_credentials=tuple(social.missing_secrets(self.personas, NAME, self._secrets)),
            listens_with=(
                f"X API v2 recent search by conversation, mentions timeline and DM events,"
                f" polled every {self.poll_interval:.0f} s"
            ),
            notes=(
                "assisted by default (X requires user-initiated posts and bills API use): a person posts and"
                " runs `replybench attach`; identities with mode = 'automatic' are posted by replybench"
            ),
        )

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()
