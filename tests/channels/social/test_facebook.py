"""FacebookChannel against recorded Graph API responses played back over real HTTP (resources/social/facebook)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replybench.channels import social
from replybench.channels.base import SendReceipt
from replybench.channels.facebook import (
    FacebookChannel,
    FacebookObject,
    GraphGate,
    attach_evidence,
    item_bytes,
    parse_item,
    post_id_from_url,
    usage,
)
from replybench.channels.social import MalformedSocialItem, RateLimited
from replybench.errors import ChannelError, SendFailed
from replybench.models import EmailIdentity, Endpoints, Persona, SocialEndpoint, SocialIdentity, Target
from replybench.store import RunRecord, Store, open_store
from replybench.timefmt import utcnow
from tests.asynctest import async_test
from tests.channels.social.helpers import Sink, wait_until
from tests.outbound import outbound_probe
from tests.replay import ReplayServer, load_cassette
from tests.storebuilders import planned_probes

TOKEN = "EAAB-SECRET-fb-9f3c2a7d1e"
ANNA = Persona(
    id="anna",
    display_name="Anna Example",
    email=EmailIdentity(address="anna@probe.example"),
    facebook=SocialIdentity(account="anna.example", token_env="ANNA_FB_TOKEN"),
)
BEN = Persona(
    id="ben",
    display_name="Ben Example",
    email=EmailIdentity(address="ben@probe.example"),
    facebook=SocialIdentity(account="ben.example", token_env="BEN_FB_TOKEN"),
)
ACME = Target(
    id="acme",
    name="Acme Bank",
    endpoints=Endpoints(
        facebook=SocialEndpoint(account="104000000000001", url="https://www.facebook.com/acmebank")
    ),
)
PAGE_ID = "104000000000001"
POST = "870000000000002"
OURS = f"{POST}_1200000000000003"
CONV = "t_10161352932465149"


def at(hour: int, minute: int, second: int = 0, day: int = 24) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


@asynccontextmanager
async def replay(*cassettes: str) -> AsyncIterator[ReplayServer]:
    async with ReplayServer([e for c in cassettes for e in load_cassette(Path("facebook") / c)]) as server:
        yield server


def channel_for(server: ReplayServer | str, store: Store, **kwargs: object) -> FacebookChannel:
    base = server if isinstance(server, str) else server.base_url
    return FacebookChannel(
        {"anna": ANNA, "ben": BEN},
        store,
        secrets={"anna": TOKEN},
        server=base + "/v21.0",
        **kwargs,  # type: ignore[arg-type]
    )


def attached(store: Store, external_id: str, sent_at: datetime, evidence: dict[str, object]) -> str:
    """An attached (assisted, then sent) Facebook probe of Anna, as ``replybench attach`` leaves it."""
    probe = replace(
        planned_probes("r1", 1, sent_at - timedelta(hours=1))[0], channel="facebook", persona_id="anna"
    )
    store.create_run(RunRecord("r1", "suite", sent_at, "running", 1, 86400.0, "replies"), [probe])
    assert store.mark_assisted(probe.id, {"post_to": "https://www.facebook.com/acmebank"})
    receipt = SendReceipt(sent_at, "facebook-created_time", dict(evidence), external_id=external_id)
    assert store.attach(probe.id, receipt, sent_at + timedelta(days=7))
    return probe.id


# --------------------------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.facebook.com/acmebank/posts/870000000000002",
            FacebookObject("post", POST, page="acmebank", post=POST),
        ),
        (
            "https://m.facebook.com/104000000000001/posts/870000000000002/?app=fbl",
            FacebookObject("post", f"{PAGE_ID}_{POST}", page=PAGE_ID, post=POST),
        ),
        (
            "https://www.facebook.com/permalink.php?story_fbid=870000000000002&id=104000000000001",
            FacebookObject("post", f"{PAGE_ID}_{POST}", page=PAGE_ID, post=POST),
        ),
        (
            "https://www.facebook.com/acmebank/posts/870000000000002?comment_id=1200000000000003",
            FacebookObject("comment", OURS, page="acmebank", post=POST),
        ),
        (
            "facebook.com/acmebank/posts/870000000000002?comment_id=1200000000000003&reply_comment_id=1200000000000010",
            FacebookObject("comment", f"{POST}_1200000000000010", page="acmebank", post=POST),
        ),
        (
            "https://www.facebook.com/permalink.php?story_fbid=870000000000002&id=104000000000001&comment_id=1200000000000003",
            FacebookObject("comment", OURS, page=PAGE_ID, post=f"{PAGE_ID}_{POST}"),
        ),
        (
            "https://www.facebook.com/acmebank/posts/pfbid02Xq7abCdEfGhIjKlMnOpQrStUv",
            FacebookObject(
                "post",
                "pfbid02Xq7abCdEfGhIjKlMnOpQrStUv",
                page="acmebank",
                post="pfbid02Xq7abCdEfGhIjKlMnOpQrStUv",
            ),
        ),
        (
            "https://www.facebook.com/photo/?fbid=901234567890123&set=a.1",
            FacebookObject("photo", "901234567890123"),
        ),
        (
            "https://www.facebook.com/acmebank/photos/a.555/901234567890123/",
            FacebookObject("photo", "901234567890123", page="acmebank"),
        ),
        ("https://www.facebook.com/messages/t/10161352932465149", FacebookObject("conversation", CONV)),
        ("https://www.messenger.com/t/10161352932465149/", FacebookObject("conversation", CONV)),
        ("https://m.me/acmebank", FacebookObject("conversation", "", page="acmebank")),
    ],
)
def test_post_id_from_url(url: str, expected: FacebookObject) -> None:
    assert post_id_from_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://www.facebook.com/acmebank",
        "https://www.facebook.com/profile.php?id=104000000000001",
        "https://www.facebook.com/acmebank/posts/",
        "https://www.facebook.com/acmebank/posts/870000000000002?comment_id=abc",
        "https://www.facebook.com/permalink.php?story_fbid=x&id=1",
        "https://evil.example/acmebank/posts/870000000000002",
        "https://facebook.com.evil.example/acmebank/posts/870000000000002",
        "https://m.me/",
        "mailto:help@acme.example",
        "",
    ],
)
def test_post_id_from_url_rejects_other_addresses(url: str) -> None:
    with pytest.raises(ValueError, match=r"Facebook|Messenger|URL|web address|comment id"):
        post_id_from_url(url)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_post_id_from_url_raises_only_value_error(text: str) -> None:
    with suppress(ValueError):
        found = post_id_from_url(text)
        assert found.kind in ("post", "comment", "photo", "conversation")


@settings(max_examples=100, deadline=None)
@given(
    host=st.sampled_from(["facebook.com", "www.facebook.com", "m.facebook.com", "web.facebook.com"]),
    page=st.from_regex(r"[A-Za-z][A-Za-z0-9.]{4,49}", fullmatch=True),  # Facebook user names: 5+ characters
    post=st.integers(min_value=1, max_value=10**17),
    comment=st.none() | st.integers(min_value=1, max_value=10**17),
)
def test_post_id_from_url_reads_every_post_and_comment_form(
    host: str, page: str, post: int, comment: int | None
) -> None:
    query = f"?comment_id={comment}" if comment else ""
    found = post_id_from_url(f"https://{host}/{page}/posts/{post}{query}")
    if comment:
        assert found == FacebookObject("comment", f"{post}_{comment}", page=page, post=str(post))
        assert FacebookObject.from_ref(str(found)).id == found.id
    else:
        assert found == FacebookObject("post", str(post), page=page, post=str(post))
        assert FacebookObject.from_ref(str(found)) == found


# --------------------------------------------------------------------------------------------- send and attach


@async_test
async def test_send_always_fails_without_touching_the_network(tmp_path: Path) -> None:
    async with replay() as server:
        channel = channel_for(server, open_store(str(tmp_path / "s.sqlite3")))
        with pytest.raises(SendFailed, match="cannot post as a person"):
            await channel.send(outbound_probe(ACME, ANNA, subject="Q", body="Hello"))
        await channel.aclose()
    assert server.requests == []


@async_test
async def test_lookup_reads_an_attached_comment_and_a_post_named_by_page_name(tmp_path: Path) -> None:
    async with replay("lookup.json") as server:
        channel = channel_for(server, open_store(str(tmp_path / "s.sqlite3")))
        comment = await channel.lookup(
            ANNA,
            post_id_from_url(
                "https://www.facebook.com/acmebank/posts/870000000000002?comment_id=1200000000000003"
            ),
        )
        post = await channel.lookup(
            ANNA, post_id_from_url("https://www.facebook.com/acmebank/posts/870000000000002")
        )
        with pytest.raises(ChannelError, match="Unsupported get request"):
            await channel.lookup(ANNA, f"{POST}_1299999999999999")
        with pytest.raises(ChannelError, match=r"Invalid OAuth access token.*code 190"):
            await channel.lookup(ANNA, f"{POST}_1288888888888888")
        assert await channel.lookup(BEN, OURS) is None, "Ben has no token"
        await channel.aclose()
    assert comment is not None and post is not None
    ours, raw = comment
    assert (ours.id, ours.key, ours.author, ours.author_name) == (
        OURS,
        f"facebook:{OURS}",
        "7000000000000001",
        "Anna Example",
    )
    assert ours.created_at == at(10, 0) and ours.clock == "facebook-created_time"
    assert ours.url is not None and ours.url.startswith("https://www.facebook.com/acmebank/posts/")
    assert parse_item(raw) == ours and attach_evidence(ours) == {}
    page_post, _ = post
    assert page_post.id == f"{PAGE_ID}_{POST}" and page_post.author == PAGE_ID
    assert server.calls("GET", "/v21.0/acmebank")[0].query["fields"] == ["id"]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in server.requests)
    assert all("access_token" not in r.query for r in server.requests)


@async_test
async def test_lookup_of_a_messenger_link_takes_the_pages_newest_conversation(tmp_path: Path) -> None:
    async with replay("messenger_lookup.json") as server:
        channel = channel_for(server, open_store(str(tmp_path / "s.sqlite3")))
        found = await channel.lookup(ANNA, post_id_from_url("https://m.me/acmebank"))
        await channel.aclose()
    assert found is not None
    message, raw = found
    assert message.direct and message.root == CONV and message.id.startswith("m_")
    assert message.created_at == at(10, 0) and message.author == "7000000000000001"
    assert attach_evidence(message) == {"conversation_id": CONV}
    assert parse_item(raw) == message
    assert server.unmatched == []


@async_test
async def test_the_reference_the_attach_command_passes_as_text_is_looked_up_alike(tmp_path: Path) -> None:
    async with replay("lookup.json", "messenger_lookup.json") as server:
        channel = channel_for(server, open_store(str(tmp_path / "s.sqlite3")))
        refs = [
            str(post_id_from_url(url))
            for url in (
                "https://www.facebook.com/acmebank/posts/870000000000002?comment_id=1200000000000003",
                "https://www.facebook.com/acmebank/posts/870000000000002",
                "https://m.me/acmebank",
            )
        ]
        found = [await channel.lookup(ANNA, ref) for ref in refs]
        with pytest.raises(ChannelError, match="not a Facebook object reference"):
            await channel.lookup(ANNA, "acme bank/posts")
        await channel.aclose()
    assert refs == [OURS, f"acmebank_{POST}", "t_acmebank"]
    assert [f[0].id for f in found if f is not None] == [
        OURS,
        f"{PAGE_ID}_{POST}",
        "m_AbQ4lrPL4hWxq6vAq3oMhJx8Xc2m0Zr",
    ]
    assert server.unmatched == []


# --------------------------------------------------------------------------------------------- listening


@async_test
async def test_comments_on_the_attached_comment_are_pushed_timed_by_created_time(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.sqlite3"))
    attached(store, f"facebook:{OURS}", at(10, 0), {"how": "mention", "company_accounts": [PAGE_ID]})
    async with replay("comments.json") as server:
        channel = channel_for(server, store)
        sink = Sink()
        await channel.poll_once(ANNA, sink)
        await channel.poll_once(ANNA, sink)
        await channel.aclose()
    ids = ["1200000000000010", "1200000000000011", "1200000000000012", "1200000000000013"]
    assert sink.keys == [f"facebook:{POST}_{n}" for n in ids], "each once, oldest first"
    assert [i.received_at for i in sink.items] == [at(10, 14, 5), at(10, 20), at(10, 31, 40), at(10, 33)]
    assert {i.clock for i in sink.items} == {"facebook-created_time"}
    first, *_, stranger = (parse_item(i.raw) for i in sink.items)
    assert (first.author, first.author_name, first.in_reply_to, first.root) == (
        PAGE_ID,
        "Acme Bank",
        OURS,
        OURS,
    )
    assert stranger.author == "unknown" and stranger.author_id is None
    assert json.loads(sink.items[0].raw)["object_id"] == OURS
    assert store.get_cursor(f"facebook:comments:{OURS}") == (0, int(at(10, 33).timestamp()))
    first_page = server.calls("GET", f"/v21.0/{OURS}/comments")[0]
    assert first_page.query["filter"] == ["stream"] and first_page.query["order"] == ["chronological"]
    assert all("access_token" not in r.query for r in server.requests), "the token in paging.next is dropped"
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in server.requests)


@async_test
async def test_the_messenger_conversation_is_read_newest_first_until_the_probe(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.sqlite3"))
    attached(
        store,
        "facebook:m_AbQ4lrPL4hWxq6vAq3oMhJx8Xc2m0Zr",
        at(10, 0),
        {"how": "direct", "conversation_id": CONV},
    )
    async with replay("messages.json") as server:
        channel = channel_for(server, store, poll_interval=0.02)
        sink = Sink()
        task = asyncio.create_task(channel.listen(sink))
        await wait_until(lambda: len(server.calls("GET", f"/v21.0/{CONV}/messages")) >= 3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await channel.aclose()
    assert sink.keys == [
        "facebook:m_AbQ4lrPL4hWxq6vAq3oMhJx8Xc2m0Zr",
        "facebook:m_Zq9w2Yh4dQ0rJ7sPtk3XvN1uYcE6aLb",
    ]
    reply = parse_item(sink.items[1].raw)
    assert reply.direct and reply.root == CONV and reply.author == PAGE_ID
    assert sink.items[1].received_at == at(10, 7, 31)
    calls = server.calls("GET", f"/v21.0/{CONV}/messages")
    assert [c.query.get("after") for c in calls[:3]] == [None, ["QVFIUm1fVjBnR2"], None], (
        "old pages read once"
    )
    assert server.unmatched == []


@async_test
async def test_an_attached_messenger_message_is_followed_in_its_conversation(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.sqlite3"))
    probe = replace(planned_probes("r1", 1, at(9, 0))[0], channel="facebook", persona_id="anna")
    store.create_run(RunRecord("r1", "suite", at(9, 0), "running", 1, 86400.0, "replies"), [probe])
    assert store.mark_assisted(probe.id, {"how": "direct", "company_accounts": [PAGE_ID]})
    async with replay("messenger_lookup.json", "messages.json") as server:
        channel = channel_for(server, store)
        found = await channel.lookup(ANNA, str(post_id_from_url("https://m.me/acmebank")))
        assert found is not None
        message, raw = found
        # What `replybench attach` does with a looked-up message: no conversation id in the evidence.
        receipt = SendReceipt(
            message.created_at, message.clock, {"post_id": message.id}, external_id=message.key
        )
        assert store.attach(probe.id, receipt, message.created_at + timedelta(days=7))
        store.add_inbound(social.inbound_item(message, raw, "facebook:attach"))
        sink = Sink()
        await channel.poll_once(ANNA, sink)
        await channel.aclose()
    assert sink.keys == ["facebook:m_Zq9w2Yh4dQ0rJ7sPtk3XvN1uYcE6aLb"], "our own message is stored already"
    assert server.unmatched == []


@async_test
async def test_throttling_error_codes_are_waited_out_and_repeated(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    store = open_store(str(tmp_path / "s.sqlite3"))
    attached(store, f"facebook:{OURS}", at(10, 0), {})
    async with replay("throttled_code.json") as server:
        channel = channel_for(server, store)
        channel.throttle_wait = timedelta(milliseconds=150)
        sink = Sink()
        started = time.monotonic()
        await channel.poll_once(ANNA, sink)
        elapsed = time.monotonic() - started
        await channel.aclose()
    assert sink.keys == [f"facebook:{POST}_1200000000000010"]
    assert [r.matched for r in server.calls("GET", f"/v21.0/{OURS}/comments")] == [True, True, True]
    assert channel.gate(ANNA).throttled == 2
    assert caplog.text.count("rate limit: waiting") == 2
    assert elapsed >= 0.25


@async_test
async def test_usage_at_95_percent_makes_the_next_request_wait(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    store = open_store(str(tmp_path / "s.sqlite3"))
    attached(store, f"facebook:{OURS}", at(10, 0), {})
    async with replay("usage_high.json") as server:
        channel = channel_for(server, store)
        channel.throttle_wait = timedelta(milliseconds=150)
        sink = Sink()
        await channel.poll_once(ANNA, sink)
        gate = channel.gate(ANNA)
        assert gate.resume_at is not None and gate.throttled == 0, "the answer itself was fine"
        assert "rate limit: waiting" not in caplog.text
        await channel.poll_once(ANNA, sink)
        await channel.aclose()
    assert "rate limit: waiting" in caplog.text
    assert sink.keys == [f"facebook:{POST}_1200000000000010"]


def test_business_use_case_usage_gives_the_wait_and_too_long_a_wait_is_refused() -> None:
    def answer(regain: int, status: int = 403, code: int = 80001) -> httpx.Response:
        header = {
            PAGE_ID: [
                {
                    "type": "pages",
                    "call_count": 100,
                    "total_cputime": 9,
                    "total_time": 9,
                    "estimated_time_to_regain_access": regain,
                }
            ]
        }
        body = {"error": {"message": "There have been too many calls to this Page account.", "code": code}}
        return httpx.Response(status, json=body, headers={"x-business-use-case-usage": json.dumps(header)})

    gate = GraphGate()
    before = utcnow()
    assert gate.after(answer(19)) is True
    assert gate.resume_at is not None
    assert timedelta(minutes=19) <= gate.resume_at - before <= timedelta(minutes=19, seconds=5)
    with pytest.raises(RateLimited):
        GraphGate().after(answer(60))
    assert GraphGate().after(answer(0, status=400, code=100)) is False, "other errors are not throttling"
    assert usage({"x-app-usage": "not json", "x-business-use-case-usage": "[]"}) == (0.0, 0.0)
    assert usage({"x-app-usage": '{"call_count": 12, "total_time": 97.5}'}) == (97.5, 0.0)


@async_test
async def test_network_errors_never_end_the_listener_and_never_show_the_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = open_store(str(tmp_path / "s.sqlite3"))
    attached(store, f"facebook:{OURS}", at(10, 0), {})
    listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    channel = channel_for(f"http://127.0.0.1:{port}", store, poll_interval=0.01)
    channel.max_backoff = 0.02
    task = asyncio.create_task(channel.listen(Sink()))
    await wait_until(lambda: caplog.text.count("Facebook listener for anna failed") >= 3)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(ChannelError) as refused:
        await channel.lookup(ANNA, OURS)
    await channel.aclose()
    for text in (caplog.text, str(refused.value), repr(refused.value), repr(channel.describe())):
        assert TOKEN not in text


def test_describe_names_token_variables_never_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BEN_FB_TOKEN", raising=False)
    channel = FacebookChannel(
        {"anna": ANNA, "ben": BEN}, open_store(str(tmp_path / "s.sqlite3")), secrets={"anna": TOKEN}
    )
    description = channel.describe()
    assert description.credentials == ("ANNA_FB_TOKEN", "BEN_FB_TOKEN")
    assert description.missing_credentials == ("BEN_FB_TOKEN",)
    assert "assisted only" in description.notes and TOKEN not in repr(description)
    asyncio.run(channel.aclose())


# --------------------------------------------------------------------------------------------- parse_item

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25,
)
GRAPHISH = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=20), st.just(OURS), st.just("m_abc"), st.integers()),
        "message": st.one_of(st.text(), st.integers()),
        "created_time": st.one_of(st.text(max_size=30), st.just("2026-11-24T10:00:00+0000")),
        "from": JSON,
        "parent": JSON,
        "permalink_url": JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        JSON,
        GRAPHISH,
        st.fixed_dictionaries({"data": GRAPHISH}, optional={"object_id": JSON, "edge": JSON}),
    )
)
def test_parse_item_raises_only_malformed_on_arbitrary_json(value: object) -> None:
    with suppress(MalformedSocialItem):
        parse_item(json.dumps(value).encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_parse_item_raises_only_malformed_on_arbitrary_bytes(raw: bytes) -> None:
    with suppress(MalformedSocialItem):
        parse_item(raw)


@settings(max_examples=200, deadline=None)
@given(
    comment=st.integers(min_value=1, max_value=10**17),
    author=st.integers(min_value=1, max_value=10**17),
    name=st.text(max_size=40),
    text=st.text(max_size=500),
    created=st.datetimes(
        min_value=datetime(2004, 2, 4), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    parent=st.none() | st.integers(min_value=1, max_value=10**17),
)
def test_parse_item_round_trips_a_listed_comment(
    comment: int, author: int, name: str, text: str, created: datetime, parent: int | None
) -> None:
    obj: dict[str, object] = {
        "id": f"{POST}_{comment}",
        "message": text,
        "created_time": created.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "from": {"name": name, "id": str(author)},
    }
    if parent:
        obj["parent"] = {"id": f"{POST}_{parent}", "created_time": "2026-11-24T10:00:00+0000"}
    raw = item_bytes(obj, OURS, "comments")
    post = parse_item(raw)
    assert post.key == f"facebook:{POST}_{comment}"
    assert post.author == str(author) and post.author_id == str(author) and post.author_name == name
    assert post.text == text and post.clock == "facebook-created_time"
    assert post.created_at == created.replace(microsecond=0)
    assert post.in_reply_to == (f"{POST}_{parent}" if parent else OURS) and post.root == OURS
    assert not post.direct
    assert social.parse_item("facebook", raw) == post


def test_parse_item_reads_a_bare_graph_object_and_a_message() -> None:
    post = parse_item(json.dumps({"id": "1_2", "created_time": "2026-11-24T11:00:00-0100"}).encode())
    assert post.created_at == at(12, 0) and post.text == "" and post.in_reply_to is None
    message = {
        "id": "m_x1",
        "created_time": "2026-11-24T10:07:31+0000",
        "from": {"name": "Acme Bank", "id": PAGE_ID},
    }
    read = parse_item(item_bytes(message, CONV, "messages"))
    assert read.direct and read.root == CONV and read.in_reply_to is None
    with pytest.raises(MalformedSocialItem, match="created_time"):
        parse_item(json.dumps({"id": "1_2", "created_time": "yesterday"}).encode())
