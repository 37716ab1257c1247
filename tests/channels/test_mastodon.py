"""MastodonChannel end to end against the sandbox's Mastodon server, over real HTTP; parse_item with hypothesis."""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replybench.channels import social
from replybench.channels.base import Channel, OutboundProbe, ReconcilingChannel
from replybench.channels.mastodon import (
    CLOCK,
    MAX_CHARS,
    MastodonChannel,
    comparable,
    html_to_text,
    parse_item,
)
from replybench.channels.social import MalformedSocialItem
from replybench.errors import SendFailed
from replybench.models import Persona, Target
from replybench.sandbox.mastodon import SandboxMastodon
from replybench.timefmt import iso_ms, utcnow
from tests.asynctest import async_test
from tests.channels.mastodon_helpers import DOMAIN, TOKEN_ENV, company, persona, world
from tests.channels.social.helpers import wait_until
from tests.outbound import outbound_probe


def probe_for(target: Target, who: Persona | None = None, body: str | None = None) -> OutboundProbe:
    return outbound_probe(
        target,
        who or persona(),
        subject="Delivery",
        body=body or "Hello! Do you deliver on Saturdays? (ref {token})\n\nAnna",
        id_prefix="p",
    )


def replies(server: SandboxMastodon) -> list:
    return [r for r in server.truth if r.kind != "inquiry"]


# ------------------------------------------------------------------------------------------ sending


@async_test
async def test_a_mention_probe_is_a_public_status_and_its_replies_are_timed_by_created_at(tmp_path):
    acme = company("acme", also=("acmehelp",))
    async with world(tmp_path, [acme], listen=True) as w:
        probe = probe_for(acme)
        receipt = await w.channel.send(probe)
        [inquiry] = [r for r in w.server.truth if r.kind == "inquiry"]
        # sent_at is the server's created_at for our status, to the millisecond
        assert receipt.sent_at == inquiry.created_at
        assert receipt.clock == CLOCK
        assert receipt.external_id == f"mastodon:{inquiry.status_id}"
        assert receipt.evidence["visibility"] == "public"
        assert receipt.evidence["company_accounts"] == [f"acme@{DOMAIN}", f"acmehelp@{DOMAIN}"]
        assert receipt.evidence["persona_account"] == f"anna@{DOMAIN}"
        assert receipt.evidence["uri"].endswith(f"/statuses/{inquiry.status_id}")
        assert inquiry.visibility == "public"
        assert inquiry.text == social.compose_post(probe, "mastodon", MAX_CHARS)

        await wait_until(lambda: len(w.sink.items) == 2)
        by_kind = {r.kind: r for r in replies(w.server)}
        assert set(by_kind) == {"ack", "human"}
        for item in w.sink.items:
            post = social.parse_item("mastodon", item.raw)
            truth = next(r for r in replies(w.server) if r.status_id == post.id)
            assert item.received_at == truth.created_at == post.created_at
            assert item.clock == CLOCK
            assert item.key == f"mastodon:{post.id}"
            assert item.source.startswith("mastodon:127.0.0.1:") and item.source.endswith(f":anna@{DOMAIN}")
            assert post.in_reply_to == inquiry.status_id
            assert post.mentions == (f"anna@{DOMAIN}",)
            assert not post.direct
        authors = {
            social.parse_item("mastodon", i.raw).id: social.parse_item("mastodon", i.raw).author
            for i in w.sink.items
        }
        assert authors[by_kind["ack"].status_id] == f"acme@{DOMAIN}"
        assert authors[by_kind["human"].status_id] == f"acmehelp@{DOMAIN}"


@async_test
async def test_a_direct_probe_is_a_direct_status_answered_directly(tmp_path):
    acme = company("acme", how="direct")
    async with world(tmp_path, [acme], listen=True) as w:
        receipt = await w.channel.send(probe_for(acme))
        [inquiry] = [r for r in w.server.truth if r.kind == "inquiry"]
        assert receipt.sent_at == inquiry.created_at
        assert receipt.evidence["visibility"] == "direct"
        assert inquiry.visibility == "direct"
        await wait_until(lambda: len(w.sink.items) == 2)
        posts = [social.parse_item("mastodon", i.raw) for i in w.sink.items]
        assert all(p.direct for p in posts)
        assert all(p.extra["visibility"] == "direct" for p in posts)
        assert [i.received_at for i in w.sink.items] == [r.created_at for r in replies(w.server)]


@async_test
async def test_handles_are_the_workspaces_when_accounts_live_on_another_instance(tmp_path):
    # A workspace names real instances (anna@mastodon.example); the sandbox serves those handles as they are.
    acme = company("acme", also=("help@mastodon.example",), domain="mastodon.example")
    anna = persona(domain="mastodon.example")
    async with world(tmp_path, [acme]) as w:
        token = w.server.register(anna.mastodon.account, anna.display_name)
        channel = MastodonChannel({"anna": anna}, w.store, secrets={"anna": token}, server=w.server.base_url)
        w.channel = channel
        w.listen()
        receipt = await channel.send(probe_for(acme, anna))
        await wait_until(lambda: len(w.sink.items) == 2)
        facts = receipt.evidence
        for item in w.sink.items:
            post = social.parse_item("mastodon", item.raw)
            assert post.mentions == (facts["persona_account"],) == ("anna@mastodon.example",)
            assert post.author in facts["company_accounts"]
        assert {social.parse_item("mastodon", i.raw).author for i in w.sink.items} == {
            "acme@mastodon.example",
            "help@mastodon.example",
        }


@async_test
async def test_the_same_probe_sent_twice_posts_once(tmp_path):
    # The Idempotency-Key is the probe's token: a send repeated by the transport cannot post twice.
    acme = company("acme", "never")
    async with world(tmp_path, [acme]) as w:
        probe = probe_for(acme)
        first = await w.channel.send(probe)
        second = await w.channel.send(probe)
        assert first.external_id == second.external_id
        assert first.sent_at == second.sent_at
        assert len(w.server.truth) == 1


@async_test
async def test_send_without_a_token_fails_naming_the_variable_only(tmp_path, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    acme = company("acme")
    async with world(tmp_path, [acme]) as w:
        channel = MastodonChannel({"anna": w.anna}, w.store, server=w.server.base_url)
        try:
            with pytest.raises(SendFailed, match=TOKEN_ENV):
                await channel.send(probe_for(acme))
            assert channel.describe().missing_credentials == (TOKEN_ENV,)
            assert channel.describe().credentials == (TOKEN_ENV,)
            # the token named by the variable is used once it is set
            monkeypatch.setenv(TOKEN_ENV, w.token)
            fresh = MastodonChannel({"anna": w.anna}, w.store, server=w.server.base_url)
            assert fresh.describe().missing_credentials == ()
            assert (await fresh.send(probe_for(acme))).external_id
            await fresh.aclose()
        finally:
            await channel.aclose()
        assert w.channel.describe().missing_credentials == ()  # passed in
        assert "streaming API (user stream)" in w.channel.describe().listens_with
        assert isinstance(w.channel, Channel) and isinstance(w.channel, ReconcilingChannel)


@async_test
async def test_a_refused_token_and_an_unreachable_server_fail_without_leaking_the_token(tmp_path):
    acme = company("acme")
    async with world(tmp_path, [acme]) as w:
        bad = MastodonChannel(
            {"anna": w.anna}, w.store, secrets={"anna": "not-a-token"}, server=w.server.base_url
        )
        with pytest.raises(SendFailed, match="The access token is invalid") as refused:
            await bad.send(probe_for(acme))
        assert "not-a-token" not in str(refused.value) and "not-a-token" not in json.dumps(
            refused.value.evidence
        )
        await bad.aclose()
        base = w.server.base_url
    gone = MastodonChannel({"anna": w.anna}, w.store, secrets={"anna": "secret-xyz"}, server=base)
    with pytest.raises(SendFailed, match="could not reach") as unreachable:
        await gone.send(probe_for(acme))
    assert "secret-xyz" not in str(unreachable.value)
    await gone.aclose()


@async_test
async def test_a_too_long_post_is_not_sent(tmp_path):
    acme = company("acme")
    async with world(tmp_path, [acme]) as w:
        with pytest.raises(SendFailed, match="500"):
            await w.channel.send(probe_for(acme, body="x" * 600))
        assert w.server.truth == []


@async_test
async def test_find_sent_finds_the_post_of_an_interrupted_send(tmp_path):
    acme = company("acme", "never")
    async with world(tmp_path, [acme]) as w:
        probe, other = probe_for(acme), probe_for(acme)
        since = utcnow()
        # The process crashed after posting and before storing the receipt: a new channel looks.
        posted = await w.channel.send(probe)
        for i in range(45):  # push our post to the second page of our statuses
            w.server.post_as("anna", f"unrelated post {i}")
        fresh = MastodonChannel(
            {"anna": w.anna}, w.store, secrets={"anna": w.token}, server=w.server.base_url
        )
        found = await fresh.find_sent(probe, since)
        assert found is not None
        assert found.external_id == posted.external_id
        assert found.sent_at == posted.sent_at
        assert found.evidence["visibility"] == "public"
        assert await fresh.find_sent(other, since) is None
        # a post made long before the interrupted attempt is not this attempt's
        assert await fresh.find_sent(probe, since + timedelta(minutes=5)) is None
        await fresh.aclose()


# ------------------------------------------------------------------------------------------ listening


@async_test
async def test_the_stream_brings_replies_and_the_cursor_follows(tmp_path):
    acme = company("acme")
    # Polling only happens when (re)connecting: whatever arrives later comes by the stream.
    async with world(tmp_path, [acme], listen=True, poll_interval=3600) as w:
        await wait_until(lambda: w.server.open_streams == 1)
        await w.channel.send(probe_for(acme))
        await wait_until(lambda: len(w.sink.items) == 2)
        w.server.post_as("acme", "@anna one more thing")
        await wait_until(lambda: len(w.sink.items) == 3)
        assert w.server.open_streams == 1
        keys = w.sink.keys()
        assert len(set(keys)) == 3
        source = w.sink.items[0].source
        newest = max(int(n["id"]) for n in await notifications(w))
        assert w.store.get_cursor(source) == (0, newest)


async def notifications(w) -> list[dict]:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {w.token}"}) as client:
        response = await client.get(f"{w.server.base_url}/api/v1/notifications")
    return response.json()


@async_test
async def test_without_streaming_the_listener_polls(tmp_path):
    acme = company("acme", also=("acmehelp",))

    def no_streaming(server: SandboxMastodon) -> None:
        server.streaming = False

    async with world(tmp_path, [acme], listen=True, configure=no_streaming, poll_interval=0.05) as w:
        await w.channel.send(probe_for(acme))
        await wait_until(lambda: len(w.sink.items) == 2)
        assert w.server.open_streams == 0
        assert [i.received_at for i in w.sink.items] == [r.created_at for r in replies(w.server)]
        w.server.post_as("acmehelp", "@anna and another")
        await wait_until(lambda: len(w.sink.items) == 3)
        assert len(set(w.sink.keys())) == 3


@async_test
async def test_a_dropped_stream_loses_no_reply_and_pushes_none_twice(tmp_path):
    acme = company("acme", "never")
    async with world(tmp_path, [acme], listen=True, poll_interval=0.05, stream_retry=0.3) as w:
        await wait_until(lambda: w.server.open_streams == 1)
        first = w.server.post_as("acme", "@anna before the drop")
        await wait_until(lambda: len(w.sink.items) == 1)

        w.server.refuse_streams = True
        w.server.drop_streams()
        await wait_until(lambda: w.server.open_streams == 0)
        missed = [w.server.post_as("acme", f"@anna while disconnected {i}") for i in range(5)]
        await wait_until(lambda: len(w.sink.items) == 6)  # caught up by polling
        assert w.server.open_streams == 0

        w.server.refuse_streams = False
        await wait_until(lambda: w.server.open_streams == 1)
        last = w.server.post_as("acme", "@anna after reconnecting")
        await wait_until(lambda: len(w.sink.items) == 7)

        expected = [s["id"] for s in (first, *missed, last)]
        assert [social.parse_item("mastodon", i.raw).id for i in w.sink.items] == expected
        newest = max(int(n["id"]) for n in await notifications(w))
        assert w.store.get_cursor(w.sink.items[0].source) == (0, newest)


@async_test
async def test_a_new_listener_resumes_from_the_stored_cursor(tmp_path):
    acme = company("acme", "never")
    async with world(tmp_path, [acme], listen=True) as w:
        w.server.post_as("acme", "@anna first")
        await wait_until(lambda: len(w.sink.items) == 1)
        w.listener.cancel()
        with pytest.raises(BaseException):  # noqa: B017, PT011 - the listener ends by cancellation
            await w.listener
        w.listener = None
        w.server.post_as("acme", "@anna while nobody listened")
        w.sink.items.clear()
        w.listen()
        await wait_until(lambda: len(w.sink.items) == 1)
        assert "while nobody listened" in social.parse_item("mastodon", w.sink.items[0].raw).text


@async_test
async def test_a_failing_sink_does_not_move_the_cursor(tmp_path):
    acme = company("acme", "never")
    async with world(tmp_path, [acme], listen=True) as w:
        w.sink.fail = True
        w.server.post_as("acme", "@anna kept until stored")
        await wait_until(lambda: w.server.open_streams == 1)
        source = f"mastodon:{w.server.base_url.removeprefix('http://')}:anna@{DOMAIN}"
        assert (w.store.get_cursor(source) or (0, 0))[1] == 0
        w.sink.fail = False
        await wait_until(lambda: len(w.sink.items) == 1, timeout=3)
        assert w.store.get_cursor(source)[1] > 0


@async_test
async def test_the_listener_waits_out_the_rate_limit_and_misses_nothing(tmp_path):
    acme = company("acme", "never")
    async with world(tmp_path, [acme], poll_interval=0.05) as w:
        for i in range(170):  # three pages of notifications
            w.server.post_as("acme", f"@anna note {i}")
        w.server.set_rate_limit(2, 0.5)
        w.server.streaming = False
        w.listen()
        await wait_until(lambda: len(w.sink.items) == 170, timeout=8)
        assert len(set(w.sink.keys())) == 170
        assert w.listener is not None and not w.listener.done()
        # the quota was used up and waited for without a single 429: the headers announced it
        assert w.server.rate_limited == 0
        assert w.channel._accounts["anna"].gate.waits >= 1
        w.listener.cancel()
        await asyncio.gather(w.listener, return_exceptions=True)
        w.listener = None

        # someone else's use of the token makes our send meet a 429: it waits for the reset and repeats
        w.server.set_rate_limit(2, 1.0)
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {w.token}"}) as other:
            for _ in range(2):
                assert (await other.get(f"{w.server.base_url}/api/v1/accounts/verify_credentials")).is_success
        receipt = await w.channel.send(probe_for(acme))
        assert receipt.external_id
        assert w.server.rate_limited == 1
        assert len([r for r in w.server.truth if r.kind == "inquiry"]) == 1


@async_test
async def test_the_first_start_reads_only_the_newest_pages(tmp_path):
    acme = company("acme", "never")
    async with world(tmp_path, [acme], first_pages=1) as w:
        posted = [w.server.post_as("acme", f"@anna old {i}")["id"] for i in range(100)]
        w.listen()
        await wait_until(lambda: len(w.sink.items) == 80)
        w.server.post_as("acme", "@anna new")
        await wait_until(lambda: len(w.sink.items) == 81)
        ids = [social.parse_item("mastodon", i.raw).id for i in w.sink.items]
        assert ids[:80] == posted[20:]  # oldest first
        assert "new" in social.parse_item("mastodon", w.sink.items[-1].raw).text


@async_test
async def test_replies_are_timed_by_the_network_not_by_when_they_were_noticed(tmp_path):
    acme = company("acme", also=("acmehelp",))

    def late_stream(server: SandboxMastodon) -> None:
        server.stream_delay = 1.0

    async with world(tmp_path, [acme], listen=True, configure=late_stream, poll_interval=3600) as w:
        await wait_until(lambda: w.server.open_streams == 1)
        await w.channel.send(probe_for(acme))
        await wait_until(lambda: len(w.sink.items) == 2, timeout=5)
        truth = {r.status_id: r for r in replies(w.server)}
        for item, noticed in zip(w.sink.items, w.sink.noticed, strict=True):
            post = social.parse_item("mastodon", item.raw)
            assert item.received_at == truth[post.id].created_at
            assert noticed - item.received_at >= timedelta(seconds=0.9)


# ------------------------------------------------------------------------------------------ parsing

USER = st.from_regex(r"[a-z0-9_]{1,20}", fullmatch=True)
HOST = st.from_regex(r"[a-z][a-z0-9]{0,10}(\.[a-z][a-z0-9]{0,10}){1,2}", fullmatch=True)
IDS = st.integers(min_value=1, max_value=2**63 - 1).map(str)
TIMES = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000, tzinfo=UTC)
)
PARAGRAPH = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\x85"),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)


@st.composite
def accounts(draw) -> tuple[dict, str]:
    user, host = draw(USER), draw(HOST)
    local = draw(st.booleans())
    server = "social.sandbox.example"
    account = {
        "id": draw(IDS),
        "username": user,
        "acct": user if local else f"{user}@{host}",
        "display_name": draw(st.text(max_size=20)),
        "url": f"https://{server if local else host}/@{user}",
        "bot": draw(st.booleans()),
    }
    return account, f"{user}@{server if local else host}"


@st.composite
def statuses(draw) -> tuple[dict, dict]:
    account, handle = draw(accounts())
    mentioned = draw(st.lists(accounts(), max_size=3))
    paragraphs = draw(st.lists(st.lists(PARAGRAPH, min_size=1, max_size=3), min_size=1, max_size=3))
    content = "".join(
        "<p>" + "<br />".join(html.escape(line) for line in lines) + "</p>" for lines in paragraphs
    )
    created = draw(TIMES)
    reply_to = draw(st.none() | IDS)
    visibility = draw(st.sampled_from(["public", "unlisted", "private", "direct"]))
    status = {
        "id": draw(IDS),
        "created_at": iso_ms(created),
        "in_reply_to_id": reply_to,
        "in_reply_to_account_id": None if reply_to is None else draw(IDS),
        "visibility": visibility,
        "content": content,
        "url": f"https://x.example/@{account['username']}/1",
        "account": account,
        "mentions": [
            {"id": m["id"], "username": m["username"], "acct": m["acct"], "url": m["url"]}
            for m, _ in mentioned
        ],
    }
    expected = {
        "author": handle,
        "created_at": created,
        "text": "\n\n".join("\n".join(lines) for lines in paragraphs),
        "mentions": tuple(h for _, h in mentioned),
        "in_reply_to": reply_to,
        "direct": visibility == "direct",
        "bot": account["bot"],
    }
    return status, expected


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(statuses(), st.booleans())
def test_parse_item_reads_statuses_and_notifications(case, wrapped):
    status, expected = case
    item = {"id": "77", "type": "mention", "created_at": "2000-01-01T00:00:00.000Z", "status": status}
    post = parse_item(json.dumps(item if wrapped else status).encode())
    assert post.network == "mastodon"
    assert post.id == status["id"]
    assert post.key == f"mastodon:{status['id']}"
    assert post.clock == CLOCK
    for name, value in expected.items():
        assert getattr(post, name) == value, name
    assert post.created_at.utcoffset() == timedelta(0)
    assert (post.extra.get("notification_id") == "77") is wrapped


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300)
@given(st.one_of(st.binary(max_size=200), JSON.map(lambda v: json.dumps(v).encode())))
def test_parse_item_raises_only_malformed_social_item(raw):
    with contextlib.suppress(MalformedSocialItem):
        parse_item(raw)


@settings(max_examples=200)
@given(
    statuses(), st.sampled_from(["id", "created_at", "account", "content", "mentions", "visibility"]), JSON
)
def test_a_status_with_a_broken_field_raises_only_malformed_social_item(case, key, value):
    status, _ = case
    status[key] = value
    with contextlib.suppress(MalformedSocialItem):
        parse_item(json.dumps(status).encode())


def test_malformed_items_say_what_is_wrong():
    with pytest.raises(MalformedSocialItem, match="not JSON"):
        parse_item(b"\xff")
    with pytest.raises(MalformedSocialItem, match="carries no status"):
        parse_item(b'{"id": "1", "type": "follow", "account": {}}')
    with pytest.raises(MalformedSocialItem, match="created_at"):
        parse_item(b'{"id": "1", "created_at": "yesterday", "account": {"username": "a", "acct": "a@b.c"}}')
    with pytest.raises(MalformedSocialItem, match="domain"):
        parse_item(
            b'{"id": "1", "created_at": "2026-01-01T00:00:00Z", "content": "",'
            b' "account": {"username": "a", "acct": "a"}}'
        )


def test_plain_text_keeps_paragraphs_line_breaks_and_mentions():
    content = (
        '<p><span class="h-card" translate="no"><a href="https://s.example/@anna" class="u-url mention">'
        "@<span>anna</span></a></span> Hi Anna &amp; co,</p><p>line one<br />line two</p>"
        '<p><a href="https://x.example/a"><span class="invisible">https://</span>'
        '<span class="">x.example/a</span><span class="invisible"></span></a></p>'
    )
    assert html_to_text(content) == "@anna Hi Anna & co,\n\nline one\nline two\n\nhttps://x.example/a"
    assert (
        comparable("@acme@social.example Hello,\n\nanna@probe.example  asks")
        == "Hello, anna@probe.example asks"
    )
