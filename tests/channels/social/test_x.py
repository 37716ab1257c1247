"""XChannel against recorded X API v2 responses played back over real HTTP (tests/resources/social/x)."""

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

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replybench.channels import social
from replybench.channels.base import SendReceipt
from replybench.channels.social import MalformedSocialItem
from replybench.channels.x import (
    MAX_CHARS,
    XChannel,
    attach_evidence,
    item_bytes,
    parse_item,
    post_id_from_url,
)
from replybench.errors import ChannelError, SendFailed, SendUncertain
from replybench.models import EmailIdentity, Endpoints, Persona, SocialEndpoint, SocialIdentity, Target
from replybench.store import RunRecord, Store, open_store
from tests.asynctest import async_test
from tests.channels.social.helpers import Sink, wait_until
from tests.outbound import outbound_probe
from tests.replay import ReplayServer, load_cassette
from tests.storebuilders import planned_probes

TOKEN = "xtok-SECRET-4c1d9e77f0"
ANNA = Persona(
    id="anna",
    display_name="Anna Example",
    email=EmailIdentity(address="anna@probe.example"),
    x=SocialIdentity(account="@anna_probe", token_env="ANNA_X_TOKEN", mode="automatic"),
)
BEN = Persona(
    id="ben",
    display_name="Ben Example",
    email=EmailIdentity(address="ben@probe.example"),
    x=SocialIdentity(account="ben_probe", token_env="BEN_X_TOKEN"),
)
ACME = Target(id="acme", name="Acme", endpoints=Endpoints(x=SocialEndpoint(account="AcmeHelp")))
ACME_DM = Target(
    id="acme", name="Acme", endpoints=Endpoints(x=SocialEndpoint(account="@AcmeHelp", how="direct"))
)
BODY = "Hello, do you ship replacement parts & manuals to Norway? Order 7Q2K"

ANNA_ID = "1580661436132757504"
POST = "1869001234567890101"
R1, R2, R3 = "1869001234567890202", "1869001234567890303", "1869001234567890404"
FRESH = "1869001234567890505"
DM_CONV = "1460988412310163456-1580661436132757504"


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 11, 24, hour, minute, second, tzinfo=UTC)


@asynccontextmanager
async def replay(*cassettes: str, reset_in: float | None = None) -> AsyncIterator[ReplayServer]:
    """A replay server for cassettes; ``RESET`` rate-limit headers become ``reset_in`` seconds from now."""
    exchanges = [e for c in cassettes for e in load_cassette(Path("x") / c)]
    reset = str(int(time.time() + (reset_in or 0)) + 1)
    for exchange in exchanges:
        exchange.headers = {k: reset if v == "RESET" else v for k, v in exchange.headers.items()}
    async with ReplayServer(exchanges) as server:
        yield server


def channel_for(server: ReplayServer | str, store: Store, **kwargs: object) -> XChannel:
    base = server if isinstance(server, str) else server.base_url
    return XChannel(
        {"anna": ANNA, "ben": BEN},
        store,
        secrets={"anna": TOKEN},
        server=base,
        **kwargs,  # type: ignore[arg-type]
    )


def watched(store: Store, external_id: str, sent_at: datetime, evidence: dict[str, object]) -> str:
    """A sent X probe of Anna in the store, as the engine leaves it."""
    probe = replace(
        planned_probes("r1", 1, sent_at - timedelta(minutes=1))[0], channel="x", persona_id="anna"
    )
    run = RunRecord("r1", "suite", sent_at, "running", 1, 86400.0, "replies")
    store.create_run(run, [probe])
    assert store.mark_sending(probe.id, sent_at)
    receipt = SendReceipt(sent_at, "x-created_at", dict(evidence), external_id=external_id)
    assert store.mark_sent(probe.id, receipt, sent_at + timedelta(days=7))
    return probe.id


async def closed_port() -> str:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    return f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------------------------- sending


@async_test
async def test_automatic_send_posts_the_mention_and_dates_it_by_xs_created_at(tmp_path: Path) -> None:
    async with replay("create_post.json") as server:
        channel = channel_for(server, open_store(str(tmp_path / "s.sqlite3")))
        probe = outbound_probe(ACME, ANNA, subject="Q", body=BODY)
        receipt = await channel.send(probe)
        await channel.aclose()
    (create,) = server.calls("POST", "/2/tweets")
    assert create.json() == {"text": "@AcmeHelp " + BODY}
    assert create.headers["authorization"] == f"Bearer {TOKEN}"
    (read,) = server.calls("GET", f"/2/tweets/{POST}")
    assert "created_at" in read.query["tweet.fields"][0] and read.query["expansions"] == ["author_id"]
    assert receipt.sent_at == at(10, 0) and receipt.clock == "x-created_at"
    assert receipt.external_id == f"x:{POST}"
    assert receipt.evidence["company_accounts"] == ["acmehelp"]
    assert receipt.evidence["persona_account"] == "anna_probe"
    assert receipt.evidence["conversation_id"] == POST
    assert receipt.evidence["url"] == f"https://x.com/anna_probe/status/{POST}"
    assert server.unmatched == []


@async_test
async def test_a_failed_read_back_still_reports_the_post_dated_by_the_response(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with replay("create_post_lookup_fails.json") as server:
        channel = channel_for(server, open_store(str(tmp_path / "s.sqlite3")))
        before = datetime.now(UTC).replace(microsecond=0)
        receipt = await channel.send(outbound_probe(ACME, ANNA, subject="Q", body=BODY))
        after = datetime.now(UTC)
        await channel.aclose()
    assert len(server.calls("GET", f"/2/tweets/{POST}")) == 1, "the read-back is not retried"
    assert receipt.external_id == f"x:{POST}"
    assert receipt.clock == "x-response-date"
    # An HTTP date has whole seconds, and uvicorn refreshes its Date header once a second.
    assert before - timedelta(seconds=1) <= receipt.sent_at <= after
    assert "reading it back failed" in caplog.text


@async_test
async def test_a_429_on_create_is_waited_out_until_the_reset_and_repeated(tmp_path: Path) -> None:
    async with replay("create_post_rate_limited.json", reset_in=0) as server:
        reset = int(server.exchanges[0].headers["x-rate-limit-reset"])
        channel = channel_for(server, open_store(str(tmp_path / "s.sqlite3")))
        receipt = await channel.send(outbound_probe(ACME, ANNA, subject="Q", body=BODY))
        await channel.aclose()
    assert time.time() >= reset
    assert len(server.calls("POST", "/2/tweets")) == 2
    assert receipt.sent_at == at(10, 0)


@async_test
async def test_a_refused_post_is_failed_with_xs_words_and_not_repeated(tmp_path: Path) -> None:
    async with replay("create_post_refused.json") as server:
        channel = channel_for(server, open_store(str(tmp_path / "s.sqlite3")))
        with pytest.raises(SendFailed, match="duplicate content"):
            await channel.send(outbound_probe(ACME, ANNA, subject="Q", body=BODY))
        await channel.aclose()
    assert len(server.calls("POST", "/2/tweets")) == 1


@async_test
async def test_a_server_error_after_the_post_went_out_is_uncertain(tmp_path: Path) -> None:
    async with replay("create_post_unavailable.json") as server:
        channel = channel_for(server, open_store(str(tmp_path / "s.sqlite3")))
        with pytest.raises(SendUncertain, match="503"):
            await channel.send(outbound_probe(ACME, ANNA, subject="Q", body=BODY))
        await channel.aclose()
    assert len(server.calls("POST", "/2/tweets")) == 1


@async_test
async def test_a_connection_lost_after_the_request_is_uncertain_and_a_refused_one_failed(
    tmp_path: Path,
) -> None:
    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    mute = await asyncio.start_server(swallow, "127.0.0.1", 0)
    store = open_store(str(tmp_path / "s.sqlite3"))
    probe = outbound_probe(ACME, ANNA, subject="Q", body=BODY)
    try:
        channel = channel_for(f"http://127.0.0.1:{mute.sockets[0].getsockname()[1]}", store)
        with pytest.raises(SendUncertain, match="may have been posted"):
            await channel.send(probe)
        await channel.aclose()
    finally:
        mute.close()
        await mute.wait_closed()
    channel = channel_for(await closed_port(), store)
    with pytest.raises(SendFailed, match="nothing was posted"):
        await channel.send(probe)
    await channel.aclose()


@async_test
async def test_send_needs_a_token_and_an_automatic_persona(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANNA_X_TOKEN", raising=False)
    monkeypatch.setenv("BEN_X_TOKEN", "ben-token")
    async with replay() as server:
        channel = XChannel(
            {"anna": ANNA, "ben": BEN}, open_store(str(tmp_path / "s.sqlite3")), server=server.base_url
        )
        with pytest.raises(SendFailed, match="ANNA_X_TOKEN"):
            await channel.send(outbound_probe(ACME, ANNA, subject="Q", body=BODY))
        with pytest.raises(SendFailed, match="assisted mode"):
            await channel.send(outbound_probe(ACME, BEN, subject="Q", body=BODY))
        await channel.aclose()
        channel = channel_for(server, open_store(str(tmp_path / "s.sqlite3")))
        with pytest.raises(SendFailed, match="allows 280"):
            await channel.send(outbound_probe(ACME, ANNA, subject="Q", body="x" * MAX_CHARS))
        await channel.aclose()
    assert server.requests == []


@async_test
async def test_a_direct_probe_is_a_dm_to_the_company_dated_by_its_event(tmp_path: Path) -> None:
    async with replay("direct_message.json") as server:
        channel = channel_for(server, open_store(str(tmp_path / "s.sqlite3")))
        receipt = await channel.send(outbound_probe(ACME_DM, ANNA, subject="Q", body=BODY))
        await channel.aclose()
    (dm,) = server.calls("POST", "/2/dm_conversations/with/1460988412310163456/messages")
    assert dm.json() == {"text": BODY}, "a DM does not mention the company"
    assert receipt.external_id == "x:1869001234567891001"
    assert receipt.sent_at == at(10, 0, 1) and receipt.clock == "x-created_at"
    assert receipt.evidence["dm_conversation_id"] == DM_CONV
    assert receipt.evidence["how"] == "direct"
    assert server.unmatched == []


@async_test
async def test_find_sent_finds_our_post_by_its_text(tmp_path: Path) -> None:
    async with replay("own_timeline.json") as server:
        channel = channel_for(server, open_store(str(tmp_path / "s.sqlite3")))
        probe = outbound_probe(ACME, ANNA, subject="Q", body=BODY)
        found = await channel.find_sent(probe, at(10, 0))
        missing = await channel.find_sent(probe, at(11, 0))
        await channel.aclose()
    assert found is not None and found.external_id == f"x:{POST}" and found.sent_at == at(10, 0)
    assert found.evidence["conversation_id"] == POST
    assert missing is None
    assert server.calls("GET", f"/2/users/{ANNA_ID}/tweets")[0].query["start_time"] == [
        "2026-11-24T09:59:00Z"
    ]


# --------------------------------------------------------------------------------------------- attach


@pytest.mark.parametrize(
    ("url", "post_id"),
    [
        ("https://x.com/AcmeHelp/status/1869001234567890101", "1869001234567890101"),
        ("https://twitter.com/AcmeHelp/status/1869001234567890101?s=20&t=abc", "1869001234567890101"),
        ("https://mobile.twitter.com/anna_probe/status/1869001234567890101/", "1869001234567890101"),
        ("x.com/anna_probe/status/1869001234567890101/photo/1", "1869001234567890101"),
        ("https://www.x.com/i/web/status/1869001234567890101#reply", "1869001234567890101"),
        ("http://twitter.com/anna_probe/statuses/20", "20"),
    ],
)
def test_post_id_from_url(url: str, post_id: str) -> None:
    assert post_id_from_url(url) == post_id


@pytest.mark.parametrize(
    "url",
    [
        "https://x.com/AcmeHelp",
        "https://x.com/AcmeHelp/status/",
        "https://x.com/AcmeHelp/status/abc",
        "https://x.com/AcmeHelp/status/0123",
        "https://example.com/AcmeHelp/status/1869001234567890101",
        "https://x.com.evil.example/a/status/1",
        "ftp://x.com/a/status/1",
        "https://[x.com/a/status/1",
        "",
    ],
)
def test_post_id_from_url_rejects_other_addresses(url: str) -> None:
    with pytest.raises(ValueError, match=r"X post|URL"):
        post_id_from_url(url)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_post_id_from_url_raises_only_value_error(text: str) -> None:
    try:
        found = post_id_from_url(text)
    except ValueError:
        return
    assert found.isdigit() and found.isascii()


@settings(max_examples=100, deadline=None)
@given(
    host=st.sampled_from(["x.com", "twitter.com", "mobile.twitter.com", "www.x.com"]),
    user=st.from_regex(r"[A-Za-z0-9_]{1,15}", fullmatch=True),
    post_id=st.integers(min_value=1, max_value=2**63 - 1),
    query=st.sampled_from(["", "?s=20", "?s=46&t=x1Y", "#m"]),
)
def test_post_id_from_url_reads_every_status_form(host: str, user: str, post_id: int, query: str) -> None:
    assert post_id_from_url(f"https://{host}/{user}/status/{post_id}{query}") == str(post_id)


@async_test
async def test_lookup_for_attach_reads_the_post_persons_posted(tmp_path: Path) -> None:
    async with replay("lookup.json") as server:
        channel = channel_for(server, open_store(str(tmp_path / "s.sqlite3")))
        found = await channel.lookup(
            ANNA, post_id_from_url("https://x.com/anna_probe/status/1869001234567890999")
        )
        with pytest.raises(ChannelError, match="Could not find tweet"):
            await channel.lookup(ANNA, "1869001234567890777")
        with pytest.raises(ChannelError, match="Unauthorized"):
            await channel.lookup(ANNA, "1869001234567890666")
        assert await channel.lookup(BEN, "1869001234567890999") is None, "Ben has no token"
        await channel.aclose()
    assert found is not None
    post, raw = found
    assert post.id == "1869001234567890999" and post.author == "anna_probe"
    assert post.created_at == at(9, 30) and post.clock == "x-created_at"
    assert post.root == "1869001234567890888" and post.in_reply_to == "1869001234567890888"
    assert parse_item(raw) == post
    assert attach_evidence(post) == {"conversation_id": "1869001234567890888"}
    assert set(json.loads(raw)) == {"data", "includes"}


# --------------------------------------------------------------------------------------------- listening


@async_test
async def test_listener_pushes_conversation_replies_and_mentions_timed_by_created_at(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.sqlite3"))
    watched(store, f"x:{POST}", at(10, 0), {"conversation_id": POST, "how": "mention"})
    async with replay("conversation.json") as server:
        channel = channel_for(server, store, poll_interval=0.02)
        sink = Sink()
        task = asyncio.create_task(channel.listen(sink))
        # Two rounds: the second asks only for what is newer than the first one's newest post.
        await wait_until(lambda: bool(server.calls("GET", f"/2/users/{ANNA_ID}/mentions")[1:]))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await channel.aclose()
    assert sink.keys == [f"x:{R1}", f"x:{R2}", f"x:{R3}", f"x:{FRESH}"]
    times = {i.key: i.received_at for i in sink.items}
    assert times == {
        f"x:{R1}": at(10, 4, 12),
        f"x:{R2}": at(10, 5),
        f"x:{R3}": at(10, 9, 30),
        f"x:{FRESH}": at(10, 12),
    }
    assert {i.clock for i in sink.items} == {"x-created_at"}
    port = server.base_url.rsplit(":", 1)[1]
    assert {i.source for i in sink.items} == {f"x:127.0.0.1:{port}:anna_probe"}
    reply = parse_item(sink.items[0].raw)
    assert (reply.author, reply.in_reply_to, reply.root) == ("acmehelp", POST, POST)
    assert store.get_cursor(f"x:conv:{POST}") == (0, int(R3))
    assert store.get_cursor(f"x:mentions:{ANNA_ID}") == (0, int(FRESH))
    searches = server.calls("GET", "/2/tweets/search/recent")
    assert [s.query["since_id"] for s in searches[:3]] == [[POST], [POST], [R3]]
    assert searches[1].query["next_token"] == ["b26v89c19zqg8o3fpds0g7bu7o6lw9xv4a"]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in server.requests)
    assert server.unmatched == []


@async_test
async def test_listener_resumes_each_conversation_from_its_cursor_without_duplicates(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.sqlite3"))
    watched(store, f"x:{POST}", at(10, 0), {"conversation_id": POST})
    store.set_cursor(f"x:conv:{POST}", 0, int(R1))
    async with replay("conversation_resumed.json") as server:
        channel = channel_for(server, store)
        sink = Sink()
        await channel.poll_once(ANNA, sink)
        await channel.poll_once(ANNA, sink)
        await channel.aclose()
    assert sink.keys == [f"x:{R2}", f"x:{R3}"]
    searches = server.calls("GET", "/2/tweets/search/recent")
    assert [s.query["since_id"] for s in searches] == [[R1], [R3]]
    assert server.unmatched == []


@async_test
async def test_an_attached_post_is_followed_in_the_thread_it_joined(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.sqlite3"))
    probe = replace(planned_probes("r1", 1, at(9, 0))[0], channel="x", persona_id="anna")
    store.create_run(RunRecord("r1", "suite", at(9, 0), "running", 1, 86400.0, "replies"), [probe])
    assert store.mark_assisted(probe.id, {"persona_account": "anna_probe", "company_accounts": ["acmehelp"]})
    async with replay("attached_reply.json") as server:
        channel = channel_for(server, store)
        found = await channel.lookup(
            ANNA, post_id_from_url("https://x.com/anna_probe/status/1869001234567890999")
        )
        assert found is not None
        post, raw = found
        # What `replybench attach` does with a looked-up post: no conversation id in the evidence.
        receipt = SendReceipt(post.created_at, post.clock, {"post_id": post.id}, external_id=post.key)
        assert store.attach(probe.id, receipt, post.created_at + timedelta(days=7))
        store.add_inbound(social.inbound_item(post, raw, "x:attach"))
        sink = Sink()
        await channel.poll_once(ANNA, sink)
        await channel.aclose()
    assert sink.keys == ["x:1869001234567891200"], "found in the thread and in the mentions, pushed once"
    (search,) = server.calls("GET", "/2/tweets/search/recent")
    assert search.query["query"] == ["conversation_id:1869001234567890888"]
    assert server.unmatched == []


@async_test
async def test_a_429_with_a_reset_is_waited_out_by_the_listener(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.sqlite3"))
    watched(store, f"x:{POST}", at(10, 0), {"conversation_id": POST})
    async with replay("search_rate_limited.json", reset_in=0) as server:
        reset = int(server.exchanges[1].headers["x-rate-limit-reset"])
        channel = channel_for(server, store)
        sink = Sink()
        await channel.poll_once(ANNA, sink)
        await channel.aclose()
    assert time.time() >= reset
    assert sink.keys == [f"x:{R1}"]
    assert len(server.calls("GET", "/2/tweets/search/recent")) == 2


@async_test
async def test_the_dm_conversation_of_a_direct_probe_is_read_newest_first_until_our_message(
    tmp_path: Path,
) -> None:
    store = open_store(str(tmp_path / "s.sqlite3"))
    watched(store, "x:1869001234567891001", at(10, 0, 1), {"dm_conversation_id": DM_CONV, "how": "direct"})
    async with replay("dm_events.json") as server:
        channel = channel_for(server, store)
        sink = Sink()
        await channel.poll_once(ANNA, sink)
        await channel.aclose()
    assert sink.keys == ["x:1869001234567891555"]
    assert sink.items[0].received_at == datetime(2026, 11, 24, 10, 20, 45, tzinfo=UTC)
    post = parse_item(sink.items[0].raw)
    assert post.direct and post.author == "acmehelp" and post.root == DM_CONV
    assert len(server.calls("GET", f"/2/dm_conversations/{DM_CONV}/dm_events")) == 1, (
        "older pages are not read"
    )
    assert store.get_cursor(f"x:dm:{DM_CONV}") == (0, 1869001234567891555)


@async_test
async def test_an_unreadable_post_is_still_pushed_raw(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.sqlite3"))
    watched(store, f"x:{POST}", at(10, 0), {"conversation_id": POST})
    exchanges = load_cassette("x/conversation_resumed.json")
    exchanges[1].body = {**exchanges[1].body, "includes": {"users": []}}  # the authors are missing
    store.set_cursor(f"x:conv:{POST}", 0, int(R1))
    async with ReplayServer(exchanges) as server:
        channel = channel_for(server, store)
        sink = Sink()
        await channel.poll_once(ANNA, sink)
        await channel.aclose()
    assert [(i.key, i.clock) for i in sink.items] == [(None, "observed"), (None, "observed")]
    assert [json.loads(i.raw)["data"]["id"] for i in sink.items] == [R2, R3]
    assert store.get_cursor(f"x:conv:{POST}") == (0, int(R3))


@async_test
async def test_network_errors_never_end_the_listener_and_never_show_the_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = open_store(str(tmp_path / "s.sqlite3"))
    watched(store, f"x:{POST}", at(10, 0), {"conversation_id": POST})
    channel = channel_for(await closed_port(), store, poll_interval=0.01)
    channel.max_backoff = 0.02
    task = asyncio.create_task(channel.listen(Sink()))
    await wait_until(lambda: caplog.text.count("X listener for anna failed") >= 3)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await channel.aclose()
    assert TOKEN not in caplog.text


@async_test
async def test_no_token_in_logs_exceptions_or_evidence(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    async with replay("create_post_refused.json", "lookup.json", "create_post_lookup_fails.json") as server:
        channel = channel_for(server, open_store(str(tmp_path / "s.sqlite3")))
        probe = outbound_probe(ACME, ANNA, subject="Q", body=BODY)
        for attempt in (channel.send(probe), channel.lookup(ANNA, "1869001234567890666")):
            try:
                await attempt
            except (SendFailed, ChannelError) as exc:
                texts.append(f"{exc!s} {exc!r} {exc.__cause__!r} {exc.__context__!r}")
        receipt = await channel.send(probe)
        texts += [json.dumps(receipt.evidence), repr(receipt), repr(channel.describe())]
        await channel.aclose()
    assert len(texts) == 5
    assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}", "the token is really used"
    for text in [caplog.text, *texts]:
        assert TOKEN not in text


def test_describe_names_token_variables_never_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BEN_X_TOKEN", raising=False)
    monkeypatch.delenv("ANNA_X_TOKEN", raising=False)
    channel = XChannel(
        {"anna": ANNA, "ben": BEN}, open_store(str(tmp_path / "s.sqlite3")), secrets={"anna": TOKEN}
    )
    description = channel.describe()
    assert description.name == "x"
    assert description.credentials == ("ANNA_X_TOKEN", "BEN_X_TOKEN")
    assert description.missing_credentials == ("BEN_X_TOKEN",)
    assert "assisted" in description.notes and TOKEN not in repr(description)
    asyncio.run(channel.aclose())


# --------------------------------------------------------------------------------------------- parse_item

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25,
)
TWEETISH = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(
            st.text(max_size=20), st.from_regex(r"[1-9][0-9]{0,18}", fullmatch=True), st.integers()
        ),
        "text": st.one_of(st.text(), st.integers()),
        "created_at": st.one_of(st.text(max_size=30), st.just("2026-11-24T10:00:00.000Z")),
        "author_id": st.sampled_from(["1", "x", "", None]),
        "conversation_id": JSON,
        "referenced_tweets": JSON,
        "entities": JSON,
        "event_type": JSON,
        "dm_conversation_id": JSON,
        "sender_id": JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        JSON,
        st.fixed_dictionaries({"data": TWEETISH, "includes": JSON}),
        st.fixed_dictionaries(
            {"data": TWEETISH, "includes": st.fixed_dictionaries({"users": st.lists(JSON, max_size=3)})}
        ),
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
    post_id=st.integers(min_value=1, max_value=2**63 - 1),
    author_id=st.integers(min_value=1, max_value=2**63 - 1),
    username=st.from_regex(r"[A-Za-z0-9_]{1,15}", fullmatch=True),
    text=st.text(max_size=280),
    created=st.datetimes(
        min_value=datetime(2006, 3, 21), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    reply_to=st.none() | st.integers(min_value=1, max_value=2**63 - 1),
)
def test_parse_item_round_trips_a_post(
    post_id: int, author_id: int, username: str, text: str, created: datetime, reply_to: int | None
) -> None:
    tweet: dict[str, object] = {
        "id": str(post_id),
        "text": text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}Z",
        "author_id": str(author_id),
        "conversation_id": str(reply_to or post_id),
    }
    if reply_to:
        tweet["referenced_tweets"] = [
            {"type": "quoted", "id": "5"},
            {"type": "replied_to", "id": str(reply_to)},
        ]
    includes = {"users": [{"id": "9", "username": "someone"}, {"id": str(author_id), "username": username}]}
    raw = item_bytes(tweet, includes)
    post = parse_item(raw)
    assert post.id == str(post_id) and post.key == f"x:{post_id}"
    assert post.author == username.lower() and post.author_id == str(author_id)
    assert post.text == text
    assert post.created_at == created.replace(microsecond=created.microsecond // 1000 * 1000)
    assert post.clock == "x-created_at"
    assert post.in_reply_to == (str(reply_to) if reply_to else None)
    assert post.root == str(reply_to or post_id)
    assert post.url == f"https://x.com/{username}/status/{post_id}"
    assert json.loads(raw)["includes"]["users"] == [{"id": str(author_id), "username": username}]
    assert social.parse_item("x", raw) == post


def test_parse_item_reads_a_dm_event() -> None:
    event = {
        "id": "1869001234567891555",
        "event_type": "MessageCreate",
        "text": "Hi Anna",
        "sender_id": "1460988412310163456",
        "dm_conversation_id": DM_CONV,
        "created_at": "2026-11-24T10:20:45.000Z",
    }
    post = parse_item(
        item_bytes(event, {"users": [{"id": "1460988412310163456", "username": "AcmeHelp"}]}, "sender_id")
    )
    assert post.direct and post.author == "acmehelp" and post.root == DM_CONV and post.in_reply_to is None
    with pytest.raises(MalformedSocialItem, match="not a message"):
        parse_item(item_bytes({**event, "event_type": "ParticipantsJoin"}, {}, "sender_id"))
