"""The Bluesky channel: the real atproto AsyncClient against recorded API responses played back over HTTP.

The channel's server is ``<replay>/entryway`` (like https://bsky.social); the recorded session's DID document
names the replay server itself as the PDS, so every request after createSession shows that the SDK followed it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replybench.channels import bluesky
from replybench.channels import social as social_mod
from replybench.channels.base import InboundItem, SendReceipt
from replybench.channels.bluesky import (
    CREATED_CLOCK,
    INDEXED_CLOCK,
    BlueskyChannel,
    mention_spans,
    parse_item,
    post_facets,
)
from replybench.channels.social import MalformedSocialItem, post_key
from replybench.errors import SendFailed, SendUncertain
from replybench.models import EmailIdentity, Endpoints, Persona, SocialEndpoint, SocialIdentity, Target
from replybench.store import RunRecord, Store, open_store
from tests.asynctest import async_test
from tests.outbound import outbound_probe
from tests.replay import RESOURCES, Exchange, ReplayServer, load_cassette
from tests.storebuilders import planned_probes

pytestmark = [pytest.mark.timeout(60)]

APP_PASSWORD = "abcd-efgh-ijkl-mnop"
TOKEN_ENV = "RB_TEST_BSKY_ALICE"
ALICE_DID = "did:plc:4ysni2g3iitn5xvktftdhwzx"
ACME_DID = "did:plc:uyxxapwo37d2xcu656yrzxa5"
PROBE_URI = f"at://{ALICE_DID}/app.bsky.feed.post/3mtwjpe5pzumq"
PROBE_BODY = "Hello, my order 1234 has not arrived after two weeks. Can you help?"
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def cassette(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RESOURCES / "bluesky" / name).read_text(encoding="utf-8"))
    return data


def notifications(name: str) -> dict[str, dict[str, Any]]:
    """The notification objects of a cassette, by uri."""
    found = {}
    for exchange in cassette(name)["exchanges"]:
        for n in (exchange.get("body") or {}).get("notifications", []):
            found[n["uri"]] = n
    return found


def by_text(objects: dict[str, dict[str, Any]], start: str) -> dict[str, Any]:
    (found,) = [o for o in objects.values() if o["record"].get("text", "").startswith(start)]
    return found


def when(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def target() -> Target:
    return Target(
        id="acme",
        name="Acme Outdoor",
        endpoints=Endpoints(bluesky=SocialEndpoint(account="acme.bsky.social", also=["help.acme.com"])),
    )


def persona(language: str = "en") -> Persona:
    return Persona(
        id="alice",
        display_name="Alice Martin",
        language=language,
        email=EmailIdentity(address="alice@probe.example"),
        bluesky=SocialIdentity(account="alice-probe.bsky.social", token_env=TOKEN_ENV),
    )


@contextlib.asynccontextmanager
async def replay(*cassettes: str) -> AsyncIterator[ReplayServer]:
    exchanges: list[Exchange] = []
    for name in cassettes:
        exchanges.extend(load_cassette(f"bluesky/{name}"))
    async with ReplayServer(exchanges) as server:
        yield server


def channel(server: ReplayServer, store: Store, **kwargs: Any) -> BlueskyChannel:
    options: dict[str, Any] = {"secrets": {"alice": APP_PASSWORD}, "poll_interval": 0.02, **kwargs}
    return BlueskyChannel({"alice": persona()}, store, server=server.base_url + "/entryway", **options)


def prepend(server: ReplayServer, *cassettes: str) -> None:
    """Exchanges the next requests get before any older ``repeat`` one (a later state of the network)."""
    fresh: list[Exchange] = []
    for name in cassettes:
        fresh.extend(load_cassette(f"bluesky/{name}"))
    server.exchanges[:0] = fresh


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(str(tmp_path / "s.sqlite3"))
    yield s
    s.close()


class StoringSink:
    """Stores every item durably (like the ingestor) and keeps it; can fail on one key like a full disk."""

    def __init__(self, store: Store, fail_on: str | None = None) -> None:
        self.store = store
        self.fail_on = fail_on
        self.items: list[InboundItem] = []

    async def __call__(self, item: InboundItem) -> None:
        if item.key is not None and item.key == self.fail_on:
            raise OSError("disk full")
        self.store.add_inbound(item)
        self.items.append(item)

    async def wait_for(self, n: int) -> None:
        async def enough() -> None:
            while len(self.items) < n:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(enough(), 10)

    @property
    def keys(self) -> list[str | None]:
        return [i.key for i in self.items]


async def listen_until(ch: BlueskyChannel, sink: StoringSink, n: int) -> None:
    """Run the listener until the sink holds ``n`` items, then cancel it as the engine does."""
    task = asyncio.create_task(ch.listen(sink))
    try:
        await sink.wait_for(n)
        # A few more polls: nothing else may arrive.
        await asyncio.sleep(0.1)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await ch.aclose()


def ms(value: str) -> int:
    return (when(value) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


# ------------------------------------------------------------------------------------------ send


@async_test
async def test_send_logs_in_resolves_the_company_and_posts_a_mention_facet(store: Store) -> None:
    body = "Où est ma commande 📦 ? Suivi : https://acme.example/track/1234"
    probe = outbound_probe(target(), persona("fr"), subject="", body=body)
    async with replay("session.json", "send.json") as server:
        ch = channel(server, store)
        receipt = await ch.send(probe)
        await ch.aclose()
    assert server.unmatched == []
    (login,) = server.calls("POST", "/entryway/xrpc/com.atproto.server.createSession")
    assert login.json() == {"identifier": "alice-probe.bsky.social", "password": APP_PASSWORD}
    (resolve,) = server.calls("GET", "/xrpc/com.atproto.identity.resolveHandle")
    assert resolve.query == {"handle": ["acme.bsky.social"]}
    (create,) = server.calls("POST", "/xrpc/com.atproto.repo.createRecord")
    # The PDS named by the session's DID document got the post, with the session's access token.
    assert create.headers["authorization"].startswith("Bearer ey")
    sent = create.json()
    assert (sent["repo"], sent["collection"]) == (ALICE_DID, "app.bsky.feed.post")
    record = sent["record"]
    text = f"@acme.bsky.social {body}"
    assert record["$type"] == "app.bsky.feed.post"
    assert record["text"] == text
    assert record["langs"] == ["fr"]
    encoded = text.encode()
    mention, link = record["facets"]
    assert mention["index"] == {"$type": "app.bsky.richtext.facet#byteSlice", "byteStart": 0, "byteEnd": 17}
    assert mention["features"] == [{"$type": "app.bsky.richtext.facet#mention", "did": ACME_DID}]
    # The link comes after an accent and an emoji: its offsets count UTF-8 bytes, not characters.
    start, end = link["index"]["byteStart"], link["index"]["byteEnd"]
    assert encoded[start:end].decode() == "https://acme.example/track/1234"
    assert start != text.index("https://")
    assert link["features"] == [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://acme.example/track/1234"}
    ]
    # The receipt is timed by the record's createdAt and names the post.
    uri = f"at://{ALICE_DID}/app.bsky.feed.post/3lfjsa3aimhrp"
    assert receipt.sent_at == when(record["createdAt"])
    assert receipt.clock == CREATED_CLOCK
    assert receipt.external_id == f"bluesky:{uri}"
    assert receipt.evidence["uri"] == uri
    assert receipt.evidence["cid"] == "bafyreiabajgrh5l5mkyocmbopkku2dknfbgh6ie7qdlnoxy5pbks6ovdlv"
    assert receipt.evidence["url"] == "https://bsky.app/profile/alice-probe.bsky.social/post/3lfjsa3aimhrp"
    assert receipt.evidence["company_accounts"] == ["acme.bsky.social", "help.acme.com"]
    assert receipt.evidence["persona_account"] == "alice-probe.bsky.social"
    assert receipt.evidence["company_did"] == ACME_DID
    assert APP_PASSWORD not in json.dumps(receipt.evidence)


@async_test
async def test_send_without_an_app_password_fails_naming_the_variable(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    probe = outbound_probe(target(), persona(), subject="", body=PROBE_BODY)
    async with replay("session.json", "send.json") as server:
        ch = BlueskyChannel({"alice": persona()}, store, server=server.base_url + "/entryway")
        assert ch.describe().missing_credentials == (TOKEN_ENV,)
        with pytest.raises(SendFailed, match=TOKEN_ENV):
            await ch.send(probe)
        await ch.aclose()
    assert server.requests == []


@async_test
async def test_an_app_password_from_the_environment_is_used_and_never_shown(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, APP_PASSWORD)
    probe = outbound_probe(target(), persona(), subject="", body=PROBE_BODY)
    async with replay("session_401.json") as server:
        ch = BlueskyChannel({"alice": persona()}, store, server=server.base_url + "/entryway")
        assert ch.describe().credentials == (TOKEN_ENV,)
        assert ch.describe().missing_credentials == ()
        with pytest.raises(SendFailed, match="Invalid identifier or password") as failed:
            await ch.send(probe)
        await ch.aclose()
    assert APP_PASSWORD not in str(failed.value) + json.dumps(failed.value.evidence)
    assert server.calls("POST", "/xrpc/com.atproto.repo.createRecord") == []


@async_test
async def test_a_company_handle_that_does_not_resolve_fails_before_posting(store: Store) -> None:
    probe = outbound_probe(target(), persona(), subject="", body=PROBE_BODY)
    exchanges = load_cassette("bluesky/resolve_400.json") + load_cassette("bluesky/session.json")
    async with ReplayServer(exchanges) as server:
        ch = channel(server, store)
        with pytest.raises(SendFailed, match=r"@acme\.bsky\.social does not resolve"):
            await ch.send(probe)
        await ch.aclose()
    assert server.calls("POST", "/xrpc/com.atproto.repo.createRecord") == []


@async_test
async def test_a_post_the_pds_refuses_with_400_is_send_failed_with_its_message(store: Store) -> None:
    probe = outbound_probe(target(), persona(), subject="", body=PROBE_BODY)
    async with replay("session.json", "send_400.json") as server:
        ch = channel(server, store)
        with pytest.raises(SendFailed, match="must not be longer than 300 graphemes") as failed:
            await ch.send(probe)
        await ch.aclose()
    assert failed.value.evidence["status"] == 400
    assert len(server.calls("POST", "/xrpc/com.atproto.repo.createRecord")) == 1


@async_test
async def test_a_server_error_after_the_post_went_out_is_uncertain_and_not_repeated(store: Store) -> None:
    probe = outbound_probe(target(), persona(), subject="", body=PROBE_BODY)
    async with replay("session.json", "send_500.json") as server:
        ch = channel(server, store)
        with pytest.raises(SendUncertain):
            await ch.send(probe)
        await ch.aclose()
    assert len(server.calls("POST", "/xrpc/com.atproto.repo.createRecord")) == 1


@async_test
async def test_a_429_is_waited_out_until_ratelimit_reset_then_the_post_is_made(store: Store) -> None:
    reset = int(time.time()) + 1
    exchanges = load_cassette("bluesky/session.json") + load_cassette("bluesky/send_429.json")
    for e in exchanges:
        if e.headers.get("ratelimit-reset") == "{{RESET}}":
            e.headers["ratelimit-reset"] = str(reset)
    probe = outbound_probe(target(), persona(), subject="", body=PROBE_BODY)
    async with ReplayServer(exchanges) as server:
        ch = channel(server, store)
        receipt = await ch.send(probe)
        await ch.aclose()
    assert time.time() >= reset
    first, second = server.calls("POST", "/xrpc/com.atproto.repo.createRecord")
    assert first.json() == second.json()  # the same record, repeated once the window reset
    assert receipt.external_id == f"bluesky:at://{ALICE_DID}/app.bsky.feed.post/3lucz6ebqipsk"
    assert receipt.sent_at == when(second.json()["record"]["createdAt"])


def test_a_post_longer_than_300_characters_is_refused_before_anything_is_sent(store: Store) -> None:
    probe = outbound_probe(target(), persona(), subject="", body="x" * 290)
    ch = BlueskyChannel(
        {"alice": persona()}, store, secrets={"alice": APP_PASSWORD}, server="http://127.0.0.1:9"
    )
    with pytest.raises(SendFailed, match="300"):
        asyncio.run(ch.send(probe))


# ------------------------------------------------------------------------------------------ listen


@async_test
async def test_listen_pushes_mentions_replies_and_quotes_timed_by_their_records(store: Store) -> None:
    objects = notifications("notifications.json")
    async with replay("session.json", "notifications.json") as server:
        sink = StoringSink(store)
        await listen_until(channel(server, store), sink, 3)
    assert server.unmatched == []
    mention = by_text(objects, "@alice-probe")
    quote = by_text(objects, "Same here")
    reply = by_text(objects, "Hi Alice!")
    # Oldest first; the follow and the like are not pushed.
    assert sink.keys == [post_key("bluesky", o["uri"]) for o in (mention, quote, reply)]
    for item, obj in zip(sink.items, (mention, quote, reply), strict=True):
        assert json.loads(item.raw) == obj  # the API's own object, one per item
        assert item.received_at == when(obj["record"]["createdAt"])  # not when it was polled
        assert item.clock == CREATED_CLOCK
        assert item.source == f"bluesky:{server.base_url}/entryway:alice-probe.bsky.social"
    first = server.calls("GET", "/xrpc/app.bsky.notification.listNotifications")[0]
    assert first.query["reasons"] == ["mention", "reply", "quote"]
    source = sink.items[0].source
    assert store.get_cursor(source) == (0, ms(reply["indexedAt"]))
    post = parse_item(sink.items[2].raw)
    assert (post.author, post.in_reply_to, post.root) == ("acme.bsky.social", PROBE_URI, PROBE_URI)
    assert parse_item(sink.items[0].raw).mentions == ("alice-probe.bsky.social",)
    assert parse_item(sink.items[1].raw).extra["quote_of"] == PROBE_URI


@async_test
async def test_the_listener_resumes_from_its_cursor_after_a_restart(store: Store) -> None:
    later = notifications("notifications_later.json")
    async with replay("session.json", "notifications.json") as server:
        first = StoringSink(store)
        await listen_until(channel(server, store), first, 3)
        prepend(server, "session.json", "notifications_later.json")
        second = StoringSink(store)
        await listen_until(channel(server, store), second, 1)
    newest = by_text(later, "Update: the courier")
    assert second.keys == [post_key("bluesky", newest["uri"])]  # nothing again, nothing skipped
    assert len(set(first.keys + second.keys)) == 4
    assert store.message_count() == 4
    assert store.get_cursor(second.items[0].source) == (0, ms(newest["indexedAt"]))
    # Paging stopped at the first notification already seen: the later second page was never asked for.
    cursors = [
        c.query.get("cursor") for c in server.calls("GET", "/xrpc/app.bsky.notification.listNotifications")
    ]
    assert ["2026-11-20T09:30:00.901Z"] not in cursors


@async_test
async def test_a_failing_sink_ends_listen_and_the_cursor_stays_at_the_last_stored_item(store: Store) -> None:
    objects = notifications("notifications.json")
    mention, quote, reply = (by_text(objects, s) for s in ("@alice-probe", "Same here", "Hi Alice!"))
    async with replay("session.json", "notifications.json") as server:
        ch = channel(server, store)
        failing = StoringSink(store, fail_on=post_key("bluesky", quote["uri"]))
        with pytest.raises(OSError, match="disk full"):
            await asyncio.wait_for(ch.listen(failing), 10)
        await ch.aclose()
        assert failing.keys == [post_key("bluesky", mention["uri"])]
        source = failing.items[0].source
        assert store.get_cursor(source) == (0, ms(mention["indexedAt"]))
        prepend(server, "session.json", "notifications.json")
        again = StoringSink(store)
        await listen_until(channel(server, store), again, 2)
    assert again.keys == [post_key("bluesky", o["uri"]) for o in (quote, reply)]
    assert store.message_count() == 3


def watch(store: Store, probes: list[tuple[str, str, str]]) -> None:
    """Sent Bluesky probes (id, persona, post uri) being watched."""
    run = RunRecord("run1", "suite", T0, "running", 1, 86400.0, "human", {"targets": {}})
    planned = planned_probes("run1", len(probes), T0, id_prefix="p")
    records = [
        dataclasses.replace(p, id=pid, channel="bluesky", persona_id=who)
        for p, (pid, who, _) in zip(planned, probes, strict=True)
    ]
    store.create_run(run, records)
    for pid, _, uri in probes:
        store.mark_sending(pid, T0)
        receipt = SendReceipt(T0 + timedelta(hours=1), CREATED_CLOCK, {}, external_id=f"bluesky:{uri}")
        assert store.mark_sent(pid, receipt, T0 + timedelta(days=7))


@async_test
async def test_a_thread_lookup_finds_a_company_reply_that_never_notified(store: Store) -> None:
    thread = cassette("thread.json")["exchanges"][0]["body"]["thread"]
    acme_reply, bob_reply = (r["post"] for r in thread["replies"][:2])
    reply_to_reply = thread["replies"][1]["replies"][0]["post"]
    other = f"at://{ALICE_DID}/app.bsky.feed.post/3lzzzzzzzzzzz"
    watch(store, [("p-alice", "alice", PROBE_URI), ("p-other", "someone-else", other)])
    async with replay("session.json", "thread.json") as server:
        sink = StoringSink(store)
        await listen_until(channel(server, store, thread_interval=0.05), sink, 3)
    assert server.unmatched == []  # the other persona's probe was not looked up
    assert all(
        c.query["uri"] == [PROBE_URI] for c in server.calls("GET", "/xrpc/app.bsky.feed.getPostThread")
    )
    assert sink.keys == [post_key("bluesky", p["uri"]) for p in (acme_reply, bob_reply, reply_to_reply)]
    assert json.loads(sink.items[2].raw) == reply_to_reply
    post = parse_item(sink.items[2].raw)
    assert (post.author, post.in_reply_to, post.root) == ("acme.bsky.social", bob_reply["uri"], PROBE_URI)
    assert sink.items[2].received_at == when(reply_to_reply["record"]["createdAt"])
    # The thread's root names the probe by the external id its receipt recorded.
    assert post.root is not None
    found = store.probe_by_external_id(post_key("bluesky", post.root))
    assert found is not None and found.id == "p-alice"
    # Later lookups find the same posts and push nothing twice.
    assert len(server.calls("GET", "/xrpc/app.bsky.feed.getPostThread")) >= 2
    assert store.message_count() == 3


@async_test
async def test_a_createdAt_later_than_indexedAt_or_long_before_it_gives_way_to_indexedAt(
    store: Store,
) -> None:
    objects = notifications("notifications_clocks.json")
    ahead = by_text(objects, "We have refunded")
    backdated = by_text(objects, "@alice-probe")
    lagging = by_text(objects, "Anything else")
    async with replay("session.json", "notifications_clocks.json") as server:
        sink = StoringSink(store)
        await listen_until(channel(server, store), sink, 3)
    got = {json.loads(i.raw)["uri"]: i for i in sink.items}
    assert (got[ahead["uri"]].clock, got[ahead["uri"]].received_at) == (
        INDEXED_CLOCK,
        when(ahead["indexedAt"]),
    )
    assert (got[backdated["uri"]].clock, got[backdated["uri"]].received_at) == (
        INDEXED_CLOCK,
        when(backdated["indexedAt"]),
    )
    assert (got[lagging["uri"]].clock, got[lagging["uri"]].received_at) == (
        CREATED_CLOCK,
        when(lagging["record"]["createdAt"]),
    )
    extra = parse_item(got[ahead["uri"]].raw).extra
    assert (extra["created_at"], extra["indexed_at"]) == (ahead["record"]["createdAt"], ahead["indexedAt"])


@async_test
async def test_an_item_that_cannot_be_read_is_still_stored_as_observed(store: Store) -> None:
    exchanges = [
        *load_cassette("bluesky/session.json"),
        Exchange(
            "GET",
            "/xrpc/app.bsky.notification.listNotifications",
            body={"notifications": [{"uri": "at://did:plc:x/app.bsky.feed.post/1", "reason": "reply"}]},
        ),
    ]
    async with ReplayServer(exchanges) as server:
        # Every later poll lists the same unreadable item: it is stored once.
        server.exchanges[-1].repeat = True
        sink = StoringSink(store)
        await listen_until(channel(server, store), sink, 1)
    assert len(server.calls("GET", "/xrpc/app.bsky.notification.listNotifications")) > 1
    (item,) = sink.items
    assert (item.key, item.clock) == (None, "observed")
    assert json.loads(item.raw)["uri"] == "at://did:plc:x/app.bsky.feed.post/1"


@async_test
async def test_network_errors_never_end_the_listener(store: Store) -> None:
    objects = notifications("notifications.json")
    exchanges = [
        *load_cassette("bluesky/session.json"),
        Exchange("GET", "/xrpc/app.bsky.notification.listNotifications", status=502, body_text="Bad Gateway"),
        Exchange(
            "GET",
            "/xrpc/app.bsky.notification.listNotifications",
            status=429,
            headers={"ratelimit-remaining": "0", "ratelimit-reset": str(int(time.time()))},
            body={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        ),
        *load_cassette("bluesky/notifications.json"),
    ]
    async with ReplayServer(exchanges) as server:
        sink = StoringSink(store)
        await listen_until(channel(server, store), sink, 3)
    assert sink.keys[-1] == post_key("bluesky", by_text(objects, "Hi Alice!")["uri"])


# ------------------------------------------------------------------------------------------ find_sent


@async_test
async def test_find_sent_finds_the_probe_post_in_the_persona_feed(store: Store) -> None:
    probe = outbound_probe(target(), persona(), subject="", body=PROBE_BODY)
    async with replay("session.json", "author_feed.json") as server:
        ch = channel(server, store)
        receipt = await ch.find_sent(probe, datetime(2026, 11, 20, 9, 0, 30, tzinfo=UTC))
        await ch.aclose()
    assert receipt is not None
    assert receipt.external_id == f"bluesky:{PROBE_URI}"
    assert (receipt.sent_at, receipt.clock) == (when("2026-11-20T09:00:00.123Z"), CREATED_CLOCK)
    assert receipt.evidence["url"] == "https://bsky.app/profile/alice-probe.bsky.social/post/3mtwjpe5pzumq"
    assert server.calls("GET", "/xrpc/app.bsky.feed.getAuthorFeed")[0].query["actor"] == [ALICE_DID]


@async_test
async def test_find_sent_ignores_posts_made_before_the_attempt_and_other_texts(store: Store) -> None:
    probe = outbound_probe(target(), persona(), subject="", body=PROBE_BODY)
    other = outbound_probe(target(), persona(), subject="", body="A question never asked")
    async with replay("session.json", "author_feed.json", "author_feed.json") as server:
        ch = channel(server, store)
        assert await ch.find_sent(probe, datetime(2026, 11, 20, 9, 5, tzinfo=UTC)) is None
        assert await ch.find_sent(other, datetime(2026, 11, 18, tzinfo=UTC)) is None
        await ch.aclose()
    feeds = server.calls("GET", "/xrpc/app.bsky.feed.getAuthorFeed")
    # The first look stops at posts older than the attempt; the second pages through the whole feed.
    assert [f.query.get("cursor") for f in feeds] == [None, None, ["2026-11-20T09:00:00.456Z"]]


# ------------------------------------------------------------------------------------------ parse_item


def test_parse_item_reads_a_notification_and_dispatch_finds_it() -> None:
    reply = by_text(notifications("notifications.json"), "Hi Alice!")
    raw = json.dumps(reply, ensure_ascii=False).encode()
    post = social_mod.parse_item("bluesky", raw)
    assert post == parse_item(raw)
    assert post.key == post_key("bluesky", reply["uri"])
    assert post.url == f"https://bsky.app/profile/acme.bsky.social/post/{reply['uri'].rsplit('/', 1)[1]}"
    assert (post.author_id, post.author_name, post.bot, post.direct) == (
        reply["author"]["did"],
        "Acme Outdoor",
        False,
        False,
    )


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"\xff", "JSON"),
        (b"[]", "JSON object"),
        (b'{"uri": "https://x"}', "at://"),
        (b'{"uri": "at://did:plc:x/app.bsky.feed.post/1", "author": {"did": "did:plc:x"}}', "did or handle"),
    ],
)
def test_parse_item_names_what_is_wrong(raw: bytes, why: str) -> None:
    with pytest.raises(MalformedSocialItem, match=why):
        parse_item(raw)


def test_a_follow_notification_is_not_a_post() -> None:
    follow = next(n for n in notifications("notifications.json").values() if n["reason"] == "follow")
    with pytest.raises(MalformedSocialItem, match=r"app\.bsky\.graph\.follow"):
        parse_item(json.dumps(follow).encode())


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@given(st.binary())
def test_parse_item_of_arbitrary_bytes_raises_only_malformed(raw: bytes) -> None:
    with contextlib.suppress(MalformedSocialItem):
        parse_item(raw)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    JSON,
    st.sampled_from([(), ("record",), ("author",), ("record", "reply"), ("record", "facets")]),
    st.data(),
)
def test_parse_item_of_arbitrary_json_raises_only_malformed(
    value: Any, path: tuple[str, ...], data: Any
) -> None:
    # Arbitrary JSON, and a real notification with one part replaced by arbitrary JSON.
    with contextlib.suppress(MalformedSocialItem):
        parse_item(json.dumps(value).encode())
    reply = json.loads(json.dumps(by_text(notifications("notifications.json"), "Hi Alice!")))
    holder = reply
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1] if path else data.draw(st.sampled_from(sorted(reply)))] = value
    try:
        post = parse_item(json.dumps(reply).encode())
    except MalformedSocialItem:
        return
    assert post.created_at.tzinfo is not None


HANDLE = st.from_regex(r"[a-z][a-z0-9-]{0,12}\.(bsky\.social|example\.com|co\.uk)", fullmatch=True)
TIMES = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC))


def iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@given(
    author=HANDLE,
    mentioned=HANDLE,
    prefix=st.text(max_size=40),
    created=TIMES,
    lag=st.timedeltas(min_value=timedelta(minutes=-30), max_value=timedelta(minutes=30)),
    kind=st.sampled_from(["notification", "post view"]),
    reply=st.booleans(),
)
def test_valid_objects_round_trip(
    author: str, mentioned: str, prefix: str, created: datetime, lag: timedelta, kind: str, reply: bool
) -> None:
    text = f"{prefix} @{mentioned} thanks"
    did = "did:plc:" + "a" * 24
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": iso(created),
        "facets": [
            {
                "index": {"byteStart": s, "byteEnd": e},
                "features": [{"$type": bluesky._MENTION_FEATURE, "did": did}],
            }
            for s, e in mention_spans(text, mentioned)
        ],
    }
    if reply:
        record["reply"] = {
            "root": {"uri": PROBE_URI, "cid": "c1"},
            "parent": {"uri": PROBE_URI + "x", "cid": "c2"},
        }
    indexed = created + lag
    obj: dict[str, Any] = {
        "uri": f"at://{did}/app.bsky.feed.post/3kabc",
        "cid": "bafyreia",
        "author": {"did": "did:plc:" + "b" * 24, "handle": author.upper()},
        "record": record,
        "indexedAt": iso(indexed),
    }
    if kind == "notification":
        obj.update(reason="reply", isRead=False)
    post = parse_item(json.dumps(obj, ensure_ascii=False).encode())
    assert (post.id, post.author, post.text) == (obj["uri"], author, text)
    c, i = when(iso(created)), when(iso(indexed))
    expected = (c, CREATED_CLOCK) if timedelta(0) <= i - c <= timedelta(minutes=10) else (i, INDEXED_CLOCK)
    assert (post.created_at, post.clock) == expected
    assert mentioned in post.mentions
    assert (post.in_reply_to, post.root) == ((PROBE_URI + "x", PROBE_URI) if reply else (None, None))


# ------------------------------------------------------------------------------------------ facets


@given(prefix=st.text(max_size=30), suffix=st.text(max_size=30), handle=HANDLE, upper=st.booleans())
def test_mention_offsets_count_utf8_bytes_whatever_comes_before(
    prefix: str, suffix: str, handle: str, upper: bool
) -> None:
    text = f"{prefix} @{handle.upper() if upper else handle} {suffix}"
    spans = mention_spans(text, handle)
    encoded = text.encode()
    assert spans, text
    for start, end in spans:
        assert encoded[start:end].decode().lower() == "@" + handle
    expected = len(f"{prefix} ".encode())
    assert expected in [s for s, _ in spans]


@given(text=st.text(max_size=60), handle=HANDLE)
def test_mention_spans_only_cover_the_mention(text: str, handle: str) -> None:
    encoded = text.encode()
    for start, end in mention_spans(text, handle):
        assert encoded[start:end].decode().lower() == "@" + handle


def test_a_longer_handle_or_an_email_address_is_not_the_mention() -> None:
    assert mention_spans("@acme.bsky.socialite hi", "acme.bsky.social") == []
    assert mention_spans("mail bob@acme.bsky.social", "acme.bsky.social") == []
    assert mention_spans("ciao @acme.bsky.social.", "acme.bsky.social") == [(5, 22)]


@given(prefix=st.text(max_size=20))
def test_post_facets_put_the_mention_did_at_the_byte_offsets(prefix: str) -> None:
    text = f"{prefix} @acme.bsky.social see https://acme.example/x"
    facets = post_facets(text, "acme.bsky.social", ACME_DID)
    mentions = [f for f in facets if f.features[0].py_type == bluesky._MENTION_FEATURE]
    assert mentions
    assert all(f.features[0].did == ACME_DID for f in mentions)
    assert [f.index.byte_start for f in facets] == sorted(f.index.byte_start for f in facets)
    encoded = text.encode()
    assert encoded[mentions[-1].index.byte_start : mentions[-1].index.byte_end] == b"@acme.bsky.social"


def test_describe_lists_the_variables_and_leaves_out_secrets_passed_in(store: Store) -> None:
    ch = BlueskyChannel({"alice": persona()}, store, secrets={"alice": APP_PASSWORD}, poll_interval=20)
    d = ch.describe()
    assert (d.name, d.credentials, d.missing_credentials) == ("bluesky", (TOKEN_ENV,), ())
    assert "listNotifications every 20 s" in d.listens_with
