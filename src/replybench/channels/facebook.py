"""Facebook Pages (Graph API over httpx): always assisted; replies read where the persona's token allows.

The Graph API only lets a Page message people who wrote first and cannot post as a person to a company's
Page, so a person posts the probe (a comment on the Page's post, or a Messenger message) and runs
``replybench attach PROBE URL``: :func:`post_id_from_url` tells what the URL points at and
:meth:`FacebookChannel.lookup` reads it. When the persona has a token, the listener then reads the replies:
the comments on the attached object (``filter=stream``, so replies to comments come too) and, for a Messenger
probe, the conversation's messages (that needs a Page token: a company testing its own Page). Otherwise the
person records the replies they see.

A stored raw item is one Graph API object (a comment or a message) exactly as the API listed it.
Throttling follows the Graph API: usage headers (``X-App-Usage``, ``X-Business-Use-Case-Usage``, ...) at or
above 95 % make the next request wait, and the throttling error codes (4, 17, 32, 613, 80001) are waited out
and repeated (they created nothing).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from replybench.channels import social
from replybench.channels.base import ChannelDescription, InboundItem, InboundSink, OutboundProbe, SendReceipt
from replybench.channels.social import MalformedSocialItem, RateGate, SocialPost, normalise_handle, post_key
from replybench.errors import ChannelError, SendFailed
from replybench.models import Persona
from replybench.store import Store
from replybench.timefmt import utcnow

log = logging.getLogger(__name__)

NAME = "facebook"
#: Facebook's limit for a comment (a Messenger message allows 2000; the script must fit where it goes).
MAX_CHARS = 8000
#: Clock of an object's own ``created_time``.
CLOCK = "facebook-created_time"

OBJECT_FIELDS = "id,message,created_time,from,permalink_url"
COMMENT_FIELDS = "id,message,created_time,from,parent,permalink_url"
MESSAGE_FIELDS = "id,message,created_time,from"
#: Graph API error codes that mean "throttled": app, user, Page, custom-rate and Pages business-use-case.
THROTTLE_CODES = frozenset({4, 17, 32, 613, 80001})
#: Usage headers whose percentages the Graph API reports (JSON objects).
USAGE_HEADERS = ("x-app-usage", "x-page-usage", "x-ad-account-usage", "x-business-use-case-usage")
#: Pages of one listing read per poll at most.
MAX_PAGES = 20

_HOSTS = frozenset(
    {
        "facebook.com",
        "www.facebook.com",
        "m.facebook.com",
        "mobile.facebook.com",
        "web.facebook.com",
        "mbasic.facebook.com",
        "business.facebook.com",
        "fb.com",
        "www.fb.com",
    }
)
_MESSENGER_HOSTS = frozenset({"messenger.com", "www.messenger.com"})
_NUMBER = re.compile(r"[0-9]{1,25}")
_OBJECT_ID = re.compile(r"[0-9]{1,25}(_[0-9]{1,25}){0,2}|pfbid[0-9A-Za-z]{10,80}")
_NAME_SEGMENT = re.compile(r"[0-9A-Za-z.\-]{1,100}")
_GRAPH_ID = re.compile(r"[0-9A-Za-z_.\-:$]{1,200}")
_FORM = (
    "https://facebook.com/<page>/posts/<id>, a comment's link (…?comment_id=…), a photo or"
    " facebook.com/messages/t/<id>"
)


# --------------------------------------------------------------------------------------------- URLs


@dataclass(frozen=True)
class FacebookObject:
    """What a Facebook URL points at, as the Graph API names it.

    ``kind`` is ``post``, ``comment``, ``photo`` or ``conversation`` (Messenger). ``id`` is the Graph API
    id (a Page post ``<page-id>_<post-id>``, a comment ``<post-id>_<comment-id>``, a photo's id, a
    Messenger conversation ``t_<id>``) except when the URL names the Page only by its user name: then ``id``
    is the bare post id and ``page`` the name, and :meth:`FacebookChannel.lookup` asks the Graph API for the
    Page's id. For a Messenger link that names the other party instead of a thread (``m.me/<page>``),
    ``id`` is empty and ``page`` names the Page; lookup then takes that Page's newest conversation.

    ``str()`` gives a one-string reference that :meth:`from_ref` (and so ``lookup``) reads back: the Graph id,
    or ``<page-name>_<post-id>`` / ``t_<page-name>`` while the Page's id is still to be asked for.
    """

    kind: Literal["post", "comment", "photo", "conversation"]
    id: str
    page: str | None = None
    post: str | None = None

    @property
    def needs_page_id(self) -> bool:
        """True when the Graph id still needs the Page's numeric id (the URL named the Page by name)."""
        return self.kind == "post" and self.page is not None and not self.id.count("_")

    def __str__(self) -> str:
        """The reference :meth:`from_ref` reads back."""
        if self.kind == "conversation" and not self.id:
            return f"t_{self.page}"
        if self.needs_page_id and not self.id.startswith("pfbid"):
            return f"{self.page}_{self.id}"
        return self.id

    @classmethod
    def from_ref(cls, ref: str) -> FacebookObject:
        """The object a reference (``str()`` of one, or a Graph API id) names; ValueError otherwise."""
        ref = ref.strip()
        head, _, tail = ref.partition("_")
        if head == "t" and _NUMBER.fullmatch(tail):
            return cls("conversation", ref)
        if head == "t" and _NAME_SEGMENT.fullmatch(tail):
            return cls("conversation", "", page=tail)
        named_page = head not in ("m", "t") and not _NUMBER.fullmatch(head) and _NAME_SEGMENT.fullmatch(head)
        if named_page and _NUMBER.fullmatch(tail):
            return cls("post", tail, page=head, post=tail)
        if _GRAPH_ID.fullmatch(ref):
            return cls("post", ref)
        raise ValueError(f"{ref!r} is not a Facebook object reference")


def _page_post(page: str, post: str) -> FacebookObject:
    if _NUMBER.fullmatch(page) and _NUMBER.fullmatch(post):
        return FacebookObject("post", f"{page}_{post}", page=page, post=post)
    return FacebookObject("post", post, page=page, post=post)


def post_id_from_url(url: str) -> FacebookObject:
    """What a Facebook or Messenger URL points at (see :class:`FacebookObject`); ValueError otherwise.

    Accepted: ``facebook.com/<page>/posts/<id>``, ``permalink.php?story_fbid=…&id=…``, either with
    ``?comment_id=…`` (or ``reply_comment_id``) for a comment, ``/photo?fbid=…`` and
    ``/<page>/photos/…/<id>`` (photos), ``facebook.com/messages/t/<id>``, ``messenger.com/t/<id>`` and
    ``m.me/<page>``; ``www.``, ``m.`` and ``mobile.`` hosts alike.
    """
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        query = dict(parse_qsl(parts.query))
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a URL; expected {_FORM}") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"{url!r} is not a web address; expected {_FORM}")
    segments = [s for s in parts.path.split("/") if s]
    if host == "m.me" or host in _MESSENGER_HOSTS:
        return _messenger(url, host, segments)
    if host not in _HOSTS:
        raise ValueError(f"{url!r} is not a Facebook address; expected {_FORM}")
    lowered = [s.lower() for s in segments]
    if lowered[:2] == ["messages", "t"] and len(segments) >= 3:
        return _thread(url, segments[2])
    found = _post_or_photo(lowered, segments, query)
    if found is None:
        raise ValueError(
            f"{url!r} does not point at a Facebook post, comment, photo or conversation; expected {_FORM}"
        )
    comment = query.get("reply_comment_id") or query.get("comment_id")
    if comment is None:
        return found
    if not _OBJECT_ID.fullmatch(comment) or comment.startswith("pfbid"):
        raise ValueError(f"{url!r}: comment id {comment!r} is not a Facebook id")
    post = found.post or found.id
    graph = comment if "_" in comment or not _NUMBER.fullmatch(post) else f"{post}_{comment}"
    return FacebookObject("comment", graph, page=found.page, post=found.id)


def _post_or_photo(
    lowered: list[str], segments: list[str], query: Mapping[str, str]
) -> FacebookObject | None:
    if lowered and lowered[0] in ("permalink.php", "story.php"):
        story, page = query.get("story_fbid", ""), query.get("id", "")
        if not _OBJECT_ID.fullmatch(story) or (page and not _NUMBER.fullmatch(page)):
            return None
        return _page_post(page, story) if page else FacebookObject("post", story, post=story)
    if lowered and lowered[0] in ("photo", "photo.php"):
        fbid = query.get("fbid", "")
        return FacebookObject("photo", fbid) if _NUMBER.fullmatch(fbid) else None
    if len(segments) >= 3 and lowered[1] == "posts" and _NAME_SEGMENT.fullmatch(segments[0]):
        post = segments[2]
        return _page_post(segments[0], post) if _OBJECT_ID.fullmatch(post) and "_" not in post else None
    if len(segments) >= 3 and lowered[1] == "photos" and _NAME_SEGMENT.fullmatch(segments[0]):
        numbers = [s for s in segments[2:] if _NUMBER.fullmatch(s)]
        return FacebookObject("photo", numbers[-1], page=segments[0]) if numbers else None
    return None


def _thread(url: str, thread: str) -> FacebookObject:
    if _NUMBER.fullmatch(thread):
        return FacebookObject("conversation", f"t_{thread}")
    if _NAME_SEGMENT.fullmatch(thread):
        return FacebookObject("conversation", "", page=thread)
    raise ValueError(f"{url!r}: {thread!r} is not a Messenger thread id")


def _messenger(url: str, host: str, segments: list[str]) -> FacebookObject:
    if host == "m.me" and segments and _NAME_SEGMENT.fullmatch(segments[0]):
        return FacebookObject("conversation", "", page=segments[0])
    if host in _MESSENGER_HOSTS and len(segments) >= 2 and segments[0].lower() == "t":
        return _thread(url, segments[1])
    raise ValueError(f"{url!r} is not a Messenger conversation; expected {_FORM}")


# --------------------------------------------------------------------------------------------- parsing


def _time(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise MalformedSocialItem(f"a Facebook item has no {what}")
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise MalformedSocialItem(f"a Facebook item's {what} {value!r:.40} is not a Graph API time") from exc


def item_bytes(obj: Mapping[str, Any], object_id: str | None = None, edge: str | None = None) -> bytes:
    """The stored raw item of one Graph API object: ``{"data": <object>}``.

    For an object a listing returned, it also names the object whose edge listed it (``object_id``) and the
    edge (``comments`` or ``messages``): what the comment answers is in the request, not in the comment.
    """
    item: dict[str, Any] = {"data": dict(obj)}
    if object_id is not None:
        item["object_id"] = object_id
    if edge is not None:
        item["edge"] = edge
    return json.dumps(item, ensure_ascii=False).encode()


def parse_item(raw: bytes) -> SocialPost:
    """The post a stored Facebook item describes (see :func:`item_bytes`; a bare Graph object works too).

    ``created_time`` (``2026-11-24T10:00:00+0000``) is the time (clock ``facebook-created_time``). The author
    is the ``from`` object: ``author`` is its id (Graph API objects name Pages and people by id; put the
    Page's id in the target's ``account`` or ``also``), ``author_name`` its name. A comment's ``in_reply_to``
    is its parent comment, else the object it was listed on, which is also its ``root``. A message (edge
    ``messages``, or an id ``m_…``) is ``direct`` with its conversation as ``root``. Raises
    MalformedSocialItem for anything else.
    """
    try:
        item = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedSocialItem(f"a Facebook item is not JSON: {exc}") from exc
    if not isinstance(item, dict):
        raise MalformedSocialItem("a Facebook item must be a JSON object")
    data = item.get("data", item)
    if not isinstance(data, dict):
        raise MalformedSocialItem("a Facebook item's 'data' must be a Graph API object")
    listed_on = item.get("object_id")
    if listed_on is not None and (not isinstance(listed_on, str) or not _GRAPH_ID.fullmatch(listed_on)):
        raise MalformedSocialItem(f"a Facebook item's object_id {listed_on!r:.40} is not a Graph API id")
    object_id = data.get("id")
    if not isinstance(object_id, str) or not _GRAPH_ID.fullmatch(object_id):
        raise MalformedSocialItem(f"a Facebook item has no valid id (got {object_id!r:.40})")
    created_at = _time(data.get("created_time"), "created_time")
    text = data.get("message", "")
    if not isinstance(text, str):
        raise MalformedSocialItem(f"Facebook item {object_id}: message is not text")
    sender = data.get("from")
    author_id = sender.get("id") if isinstance(sender, dict) else None
    author_name = sender.get("name") if isinstance(sender, dict) else None
    author_id = author_id if isinstance(author_id, str) and author_id.strip() else None
    author_name = author_name if isinstance(author_name, str) else None
    # Without a Page token the Graph API may leave out who wrote an object; keep it, unattributed.
    author = normalise_handle(author_id or "".join((author_name or "").split())) or "unknown"
    direct = item.get("edge") == "messages" or object_id.startswith("m_")
    parent = data.get("parent")
    parent_id = parent.get("id") if isinstance(parent, dict) else None
    in_reply_to = parent_id if isinstance(parent_id, str) and _GRAPH_ID.fullmatch(parent_id) else None
    if not direct:
        in_reply_to = in_reply_to or listed_on
    link = data.get("permalink_url")
    return SocialPost(
        network=NAME,
        id=object_id,
        author=author,
        created_at=created_at,
        clock=CLOCK,
        text=text,
        url=link if isinstance(link, str) and link.startswith("https://") else None,
        author_id=author_id,
        author_name=author_name,
        in_reply_to=in_reply_to,
        root=listed_on,
        direct=direct,
    )


def attach_evidence(post: SocialPost) -> dict[str, str]:
    """Evidence ``replybench attach`` should keep with a looked-up object, so the listener knows what to read.

    A Messenger message needs its conversation (``conversation_id``); comments are read on the attached
    object itself.
    """
    return {"conversation_id": post.root} if post.direct and post.root else {}


# --------------------------------------------------------------------------------------------- throttling


def _error(response: httpx.Response) -> dict[str, Any]:
    if response.status_code < 400:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _api_message(response: httpx.Response) -> str:
    """The error the Graph API gave, in its words (``error.message``, code and subcode)."""
    error = _error(response)
    message = error.get("message")
    if isinstance(message, str):
        code = error.get("code")
        return f"HTTP {response.status_code}: {message} (code {code})"
    return f"HTTP {response.status_code}: {response.reason_phrase or response.text[:200] or 'no details'}"


def usage(headers: Mapping[str, str]) -> tuple[float, float]:
    """(highest usage percentage, minutes until access returns) the Graph API's usage headers report.

    ``X-App-Usage`` / ``X-Page-Usage`` hold ``{"call_count": %, "total_time": %, "total_cputime": %}``;
    ``X-Business-Use-Case-Usage`` holds ``{"<id>": [{"type": …, "call_count": %, …,
    "estimated_time_to_regain_access": minutes}]}``. Unreadable headers count as 0.
    """
    highest, regain = 0.0, 0.0

    def read(entry: Any) -> None:
        nonlocal highest, regain
        if not isinstance(entry, dict):
            return
        for key in ("call_count", "total_time", "total_cputime", "acc_id_util_pct"):
            value = entry.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                highest = max(highest, float(value))
        wait = entry.get("estimated_time_to_regain_access")
        if isinstance(wait, int | float) and not isinstance(wait, bool):
            regain = max(regain, float(wait))

    for name in USAGE_HEADERS:
        value = headers.get(name)
        if not value:
            continue
        try:
            data = json.loads(value)
        except ValueError:
            continue
        if name == "x-business-use-case-usage" and isinstance(data, dict):
            for entries in data.values():
                for entry in entries if isinstance(entries, list) else []:
                    read(entry)
        else:
            read(data)
    return highest, regain


@dataclass
class GraphGate(RateGate):
    """The Graph API's throttling on top of :class:`~replybench.channels.social.RateGate`.

    A response whose usage header reaches ``threshold`` percent makes the next request wait (for the
    ``estimated_time_to_regain_access`` the header gives, else ``fallback``); a throttling error code (HTTP
    400/403 with ``{"error": {"code": 4|17|32|613|80001}}``) or a 429 is waited out likewise and repeated.
    """

    threshold: float = 95.0
    throttled: int = field(default=0)

    def after(self, response: httpx.Response) -> bool:
        """Read a response; True when it was throttled (the request should be repeated after the wait)."""
        now = utcnow()
        percent, regain = usage(response.headers)
        code = _error(response).get("code")
        limited = response.status_code == 429 or (isinstance(code, int) and code in THROTTLE_CODES)
        if limited or percent >= self.threshold:
            wait = timedelta(minutes=regain) if regain > 0 else self.fallback
            until = social.retry_after(response, now) or now + wait
            self._wait_until(until, now)
        if limited:
            self.throttled += 1
        return limited


# --------------------------------------------------------------------------------------------- channel


class FacebookChannel(social.PollingChannel):
    """Looks up attached Facebook objects and listens for the replies; never posts (always assisted)."""

    name = NAME
    label = "Facebook"

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
        #: How long a throttled request waits when the Graph API does not say.
        self.throttle_wait = timedelta(seconds=60)
        self._secrets = {k: v for k, v in (secrets or {}).items() if v}
        self._server = server.rstrip("/") if server else None
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(30.0), headers={"user-agent": "replybench"})
        self._gates: dict[str, GraphGate] = {}
        self._pages: dict[tuple[str, str], str] = {}
        self._pushed: set[str] = set()

    # ------------------------------------------------------------------------------------ plumbing

    def gate(self, persona: Persona) -> GraphGate:
        """The throttling state of a persona's token (one per token: the Graph API counts per token)."""
        if persona.id not in self._gates:
            self._gates[persona.id] = GraphGate(fallback=self.throttle_wait)
        return self._gates[persona.id]

    def _next_url(self, persona: Persona, link: Any) -> str | None:
        """A ``paging.next`` link to follow, without any token in it; None when it leaves the API's host."""
        if not isinstance(link, str):
            return None
        try:
            parts = urlsplit(link)
            base = urlsplit(self._base(persona))
        except ValueError:
            return None
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
            log.warning("Facebook paging link leaves %s; not followed", base.netloc)
            return None
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "access_token"]
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))

    async def _get(
        self, persona: Persona, secret: str, url: str, params: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """A Graph API GET (throttling waited out); ChannelError with the API's message on any refusal."""
        response = await social.send_request(
            self._client,
            self.gate(persona),
            "GET",
            url,
            params=dict(params) if params else None,
            headers={"authorization": f"Bearer {secret}"},
        )
        if response.status_code != 200:
            raise ChannelError(f"Facebook: {self._scrub(_api_message(response))}")
        try:
            body = response.json()
        except ValueError:
            raise ChannelError("Facebook answered with something that is not JSON") from None
        if not isinstance(body, dict):
            raise ChannelError("Facebook answered with something that is not a JSON object")
        return body

    async def _listing(
        self,
        persona: Persona,
        secret: str,
        path: str,
        params: Mapping[str, str],
        *,
        newest_first_until: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Every object of a paged Graph API listing (following ``paging.next``), as listed.

        ``newest_first_until``: the listing is newest first; stop after the page that reaches this time.
        """
        found: list[dict[str, Any]] = []
        url: str | None = self._base(persona) + path
        query: Mapping[str, str] | None = params
        for _ in range(MAX_PAGES):
            if url is None:
                break
            body = await self._get(persona, secret, url, query)
            data = body.get("data")
            entries = [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []
            found.extend(entries)
            paging = body.get("paging")
            url = self._next_url(persona, paging.get("next") if isinstance(paging, dict) else None)
            query = None
            if newest_first_until is not None and entries:
                last = entries[-1].get("created_time")
                try:
                    if isinstance(last, str) and _time(last, "created_time") < newest_first_until:
                        break
                except MalformedSocialItem:
                    pass
        return found

    # ------------------------------------------------------------------------------------ sending

    async def send(self, probe: OutboundProbe) -> SendReceipt:
        """Always SendFailed: the Graph API cannot post as a person to a Page (the engine never asks)."""
        raise SendFailed(
            f"probe {probe.probe_id}: the Graph API cannot post as a person to a company's Page or message a"
            " Page first; a person posts it (comment or Messenger) and runs `replybench attach`"
        )

    # ------------------------------------------------------------------------------------ look-ups

    async def _page_id(self, persona: Persona, secret: str, page: str) -> str:
        key = (persona.id, page.lower())
        if key not in self._pages:
            body = await self._get(persona, secret, f"{self._base(persona)}/{page}", {"fields": "id"})
            page_id = body.get("id")
            if not isinstance(page_id, str) or not _NUMBER.fullmatch(page_id):
                raise ChannelError(f"Facebook did not give the id of Page {page!r}")
            self._pages[key] = page_id
        return self._pages[key]

    async def _graph_id(self, persona: Persona, secret: str, target: FacebookObject) -> str:
        if target.kind == "conversation":
            if target.id:
                return target.id
            page = target.page or ""
            if not _NAME_SEGMENT.fullmatch(page):
                raise ChannelError("a Messenger link must name a thread or a Page")
            body = await self._get(
                persona,
                secret,
                f"{self._base(persona)}/{page}/conversations",
                {"fields": "id,updated_time", "limit": "1"},
            )
            data = body.get("data")
            first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
            conversation = first.get("id")
            if not isinstance(conversation, str) or not _GRAPH_ID.fullmatch(conversation):
                raise ChannelError(f"Facebook shows no Messenger conversation of Page {page!r}")
            return conversation
        if target.needs_page_id and target.page is not None and not target.id.startswith("pfbid"):
            return f"{await self._page_id(persona, secret, target.page)}_{target.id}"
        return target.id

    async def lookup(
        self, persona: Persona, post_id: str | FacebookObject
    ) -> tuple[SocialPost, bytes] | None:
        """The object a person attached and its raw item, read with the persona's token.

        ``post_id`` is a Graph API id or what :func:`post_id_from_url` returned. For a Messenger
        conversation this is the conversation's newest message (the one the person just sent), with the
        conversation as its ``root``. None when the persona has no Facebook account or token; ChannelError
        with the Graph API's message when it refuses or cannot be reached.
        """
        identity = persona.social(NAME)
        secret = self._secret(persona) if identity is not None else None
        if secret is None:
            return None
        try:
            target = post_id if isinstance(post_id, FacebookObject) else FacebookObject.from_ref(post_id)
        except ValueError as exc:
            raise ChannelError(str(exc)) from None
        try:
            graph_id = await self._graph_id(persona, secret, target)
            if not _GRAPH_ID.fullmatch(graph_id):
                raise ChannelError(f"{graph_id!r} is not a Graph API id")
            if target.kind == "conversation":
                body = await self._get(
                    persona,
                    secret,
                    f"{self._base(persona)}/{graph_id}/messages",
                    {"fields": MESSAGE_FIELDS, "limit": "1"},
                )
                data = body.get("data")
                if not isinstance(data, list) or not data or not isinstance(data[0], dict):
                    raise ChannelError(f"Facebook shows no message in conversation {graph_id}")
                raw = item_bytes(data[0], graph_id, "messages")
                return parse_item(raw), raw
            body = await self._get(
                persona, secret, f"{self._base(persona)}/{graph_id}", {"fields": OBJECT_FIELDS}
            )
            raw = item_bytes(body)
            return parse_item(raw), raw
        except social.RateLimited as exc:
            raise ChannelError(f"Facebook rate limit: {exc}") from None
        except httpx.HTTPError as exc:
            raise ChannelError(
                self._scrub(f"could not reach Facebook ({type(exc).__name__}: {exc})")
            ) from None
        except MalformedSocialItem as exc:
            raise ChannelError(f"Facebook returned an object replybench cannot read: {exc}") from None

    # ------------------------------------------------------------------------------------ listening

    def _inbound(self, raw: bytes, source: str) -> InboundItem:
        try:
            post = parse_item(raw)
        except MalformedSocialItem as exc:
            log.warning("Facebook item kept unparsed (%s)", exc)
            return InboundItem(channel=NAME, raw=raw, received_at=utcnow(), clock="observed", source=source)
        return social.inbound_item(post, raw, source)

    async def _push(
        self,
        entries: list[dict[str, Any]],
        listed_on: tuple[str, str],
        sink: InboundSink,
        source: str,
        cursor_key: str,
        cursor: int,
    ) -> None:
        """Hand the objects at/after the cursor (epoch seconds) to the sink, oldest first; then move it."""
        timed: list[tuple[int, str, bytes]] = []
        for entry in entries:
            raw = item_bytes(entry, *listed_on)
            object_id = entry.get("id")
            ident = object_id if isinstance(object_id, str) else raw.decode()
            try:
                second = int(_time(entry.get("created_time"), "created_time").timestamp())
            except MalformedSocialItem:
                second = cursor
            if second >= cursor:
                timed.append((second, ident, raw))
        for second, ident, raw in sorted(timed, key=lambda t: t[0]):
            # The cursor is only a second, and our own attached post is stored already: ask the store.
            stored = self.store.message_by_key(post_key(NAME, ident)) is not None
            if ident not in self._pushed and not stored:
                await sink(self._inbound(raw, source))
                self._pushed.add(ident)
            if second > cursor:
                self.store.set_cursor(cursor_key, 0, second)
                cursor = second

    async def _poll_comments(
        self, persona: Persona, secret: str, object_id: str, since: int, sink: InboundSink, source: str
    ) -> None:
        key = f"facebook:comments:{object_id}"
        stored = self.store.get_cursor(key)
        cursor = stored[1] if stored else since
        params = {"fields": COMMENT_FIELDS, "filter": "stream", "order": "chronological", "limit": "100"}
        entries = await self._listing(persona, secret, f"/{object_id}/comments", params)
        await self._push(entries, (object_id, "comments"), sink, source, key, cursor)

    async def _poll_messages(
        self, persona: Persona, secret: str, conversation: str, since: int, sink: InboundSink, source: str
    ) -> None:
        key = f"facebook:messages:{conversation}"
        stored = self.store.get_cursor(key)
        cursor = stored[1] if stored else since
        params = {"fields": MESSAGE_FIELDS, "limit": "100"}
        until = datetime.fromtimestamp(cursor, UTC)
        entries = await self._listing(
            persona, secret, f"/{conversation}/messages", params, newest_first_until=until
        )
        await self._push(entries, (conversation, "messages"), sink, source, key, cursor)

    def _stored_conversation(self, object_id: str) -> str | None:
        """The conversation of our own Messenger message as the store keeps it (``replybench attach``)."""
        record = self.store.message_by_key(post_key(NAME, object_id))
        if record is None:
            return None
        try:
            post = parse_item(record.raw)
        except MalformedSocialItem:
            return None
        return post.root if post.direct else None

    async def poll_once(self, persona: Persona, sink: InboundSink) -> None:
        """One round of reading replies for a persona's watched Facebook probes (the listener repeats it)."""
        secret = self._secret(persona)
        if secret is None:
            return
        source = self._source(persona)
        for probe in self.store.watched_probes(NAME):
            if probe.persona_id != persona.id or not probe.external_id:
                continue
            object_id = probe.external_id.removeprefix(f"{NAME}:")
            # Objects older than our post cannot answer it; a minute of slack covers clock rounding.
            since = int(probe.sent_at.timestamp()) - 60 if probe.sent_at else 0
            conversation = probe.evidence.get("conversation_id")
            if not isinstance(conversation, str) or not conversation:
                conversation = self._stored_conversation(object_id)
            try:
                if isinstance(conversation, str) and _GRAPH_ID.fullmatch(conversation):
                    await self._poll_messages(persona, secret, conversation, since, sink, source)
                elif probe.evidence.get("how") == "direct" or object_id.startswith("m_"):
                    log.warning("Facebook probe %s: a Messenger probe without its conversation_id", probe.id)
                elif _GRAPH_ID.fullmatch(object_id):
                    await self._poll_comments(persona, secret, object_id, since, sink, source)
            except ChannelError as exc:
                log.warning("Facebook probe %s: %s", probe.id, exc)

    # ------------------------------------------------------------------------------------ the rest

    def describe(self) -> ChannelDescription:
        """Token variables the personas use (and which are unset), how replies are read, the limits."""
        return ChannelDescription(
            name=NAME,
            credentials=social.credential_names(self.personas, NAME),
            missing_credentials=tuple(social.missing_secrets(self.personas, NAME, self._secrets)),
            listens_with=(
                f"Graph API comments and Messenger messages, polled every {self.poll_interval:.0f} s"
            ),
            notes=(
                "assisted only: the Graph API cannot post as a person to a Page; a person posts and runs"
                " `replybench attach`. Replies are read where the persona's token allows (Messenger needs a"
                " Page token); the Page's replies are recognised by its numeric id in the target's account or"
                " also"
            ),
        )

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()
