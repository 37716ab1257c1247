"""The sandbox's Mastodon-compatible server over real HTTP: API shapes, auth, rate limits, streams, companies."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import httpx
import pytest

from replybench.channels.social import reset_time
from replybench.models import (
    BusinessHours,
    EmailEndpoint,
    Endpoints,
    SandboxBehaviour,
    SocialEndpoint,
    Target,
)
from replybench.sandbox import Sandbox
from replybench.sandbox.mastodon import SandboxMastodon
from replybench.timefmt import utcnow
from tests.asynctest import async_test
from tests.channels.mastodon_helpers import DOMAIN, SCALE, company
from tests.channels.social.helpers import wait_until

ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@asynccontextmanager
async def server(
    *companies: Target, **options
) -> AsyncIterator[tuple[SandboxMastodon, httpx.AsyncClient, str]]:
    """A started server with persona ``anna`` and a client that sends her token."""
    options.setdefault("time_scale", SCALE)
    sb = SandboxMastodon(list(companies), heartbeat=0.2, **options)
    await sb.start()
    token = sb.register("anna", "Anna Example")
    client = httpx.AsyncClient(base_url=sb.base_url, headers={"Authorization": f"Bearer {token}"})
    try:
        yield sb, client, token
    finally:
        await client.aclose()
        await sb.stop()


def kinds(sb: SandboxMastodon) -> list[str]:
    return [r.kind for r in sb.truth]


async def post(client: httpx.AsyncClient, text: str, **fields) -> dict:
    response = await client.post("/api/v1/statuses", data={"status": text, **fields})
    assert response.status_code == 200, response.text
    return response.json()


# ------------------------------------------------------------------------------------------ REST API


@async_test
async def test_accounts_have_mastodons_shape_and_need_a_token():
    async with server(company("acme", also=("acmehelp",))) as (sb, client, _):
        me = (await client.get("/api/v1/accounts/verify_credentials")).json()
        assert {k: me[k] for k in ("username", "acct", "display_name", "bot", "url")} == {
            "username": "anna",
            "acct": "anna",
            "display_name": "Anna Example",
            "bot": False,
            "url": f"https://{DOMAIN}/@anna",
        }
        assert me["id"].isdigit() and ISO_MS.fullmatch(me["created_at"])
        assert me["source"]["privacy"] == "public"

        for acct in ("acme", f"acme@{DOMAIN}", "@acmehelp"):
            found = await client.get("/api/v1/accounts/lookup", params={"acct": acct})
            assert found.status_code == 200
            assert found.json()["username"] in ("acme", "acmehelp")
        missing = await client.get("/api/v1/accounts/lookup", params={"acct": "nobody"})
        assert (missing.status_code, missing.json()) == (404, {"error": "Record not found"})

        async with httpx.AsyncClient(base_url=sb.base_url) as anonymous:
            refused = await anonymous.get("/api/v1/notifications")
            assert (refused.status_code, refused.json()) == (401, {"error": "The access token is invalid"})
            bad = await anonymous.get(
                "/api/v1/accounts/verify_credentials", headers={"Authorization": "Bearer x"}
            )
            assert bad.status_code == 401


@async_test
async def test_a_company_on_another_domain_is_a_remote_account():
    remote = company("globex", domain="mastodon.example")
    async with server(remote) as (sb, client, _):
        account = (
            await client.get("/api/v1/accounts/lookup", params={"acct": "globex@mastodon.example"})
        ).json()
        assert (account["acct"], account["url"]) == (
            "globex@mastodon.example",
            "https://mastodon.example/@globex",
        )
        status = await post(client, "@globex@mastodon.example hello")
        assert status["mentions"] == [
            {
                "id": account["id"],
                "username": "globex",
                "url": account["url"],
                "acct": "globex@mastodon.example",
            }
        ]
        await wait_until(lambda: "human" in kinds(sb))


@async_test
async def test_statuses_render_like_mastodon_and_honour_the_idempotency_key():
    async with server(company("acme", "never")) as (_, client, _token):
        text = "@acme@social.sandbox.example Hi <team> & co,\nline two\n\nWrite to anna@probe.example @nobody"
        response = await client.post(
            "/api/v1/statuses",
            data={"status": text, "visibility": "unlisted"},
            headers={"Idempotency-Key": "k-1"},
        )
        status = response.json()
        assert status["visibility"] == "unlisted"
        assert ISO_MS.fullmatch(status["created_at"])
        assert status["in_reply_to_id"] is None and status["in_reply_to_account_id"] is None
        assert status["content"] == (
            '<p><span class="h-card" translate="no"><a href="https://social.sandbox.example/@acme"'
            ' class="u-url mention">@<span>acme</span></a></span> Hi &lt;team&gt; &amp; co,<br />line two</p>'
            "<p>Write to anna@probe.example @nobody</p>"
        )
        assert [m["acct"] for m in status["mentions"]] == ["acme"]
        assert status["url"] == f"https://{DOMAIN}/@anna/{status['id']}"
        assert status["uri"] == f"https://{DOMAIN}/users/anna/statuses/{status['id']}"
        assert status["account"]["acct"] == "anna"

        again = await client.post(
            "/api/v1/statuses", json={"status": "different"}, headers={"Idempotency-Key": "k-1"}
        )
        assert again.json()["id"] == status["id"]
        other = await client.post(
            "/api/v1/statuses", json={"status": "different"}, headers={"Idempotency-Key": "k-2"}
        )
        assert other.json()["id"] != status["id"]

        blank = await client.post("/api/v1/statuses", data={"status": "  "})
        assert (blank.status_code, blank.json()) == (422, {"error": "Validation failed: Text can't be blank"})
        long = await client.post("/api/v1/statuses", data={"status": "x" * 501})
        assert long.status_code == 422 and "500" in long.json()["error"]
        # a mention counts by its user name only
        assert (
            await client.post(
                "/api/v1/statuses", data={"status": "@acme@social.sandbox.example " + "x" * 494}
            )
        ).is_success
        wrong = await client.post("/api/v1/statuses", data={"status": "x", "visibility": "secret"})
        assert wrong.status_code == 422
        orphan = await client.post("/api/v1/statuses", data={"status": "x", "in_reply_to_id": "12345"})
        assert (orphan.status_code, orphan.json()) == (404, {"error": "Record not found"})


@async_test
async def test_direct_statuses_are_seen_only_by_those_they_mention_and_threads_have_context():
    async with server(company("acme", "never")) as (sb, client, _):
        bob_token = sb.register("bob", "Bob")
        secret = await post(client, "@acme a secret", visibility="direct")
        reply = sb.post_as("acme", "@anna answer", in_reply_to_id=secret["id"], visibility="direct")
        assert reply["in_reply_to_account_id"] == secret["account"]["id"]
        async with httpx.AsyncClient(
            base_url=sb.base_url, headers={"Authorization": f"Bearer {bob_token}"}
        ) as bob:
            assert (await bob.get(f"/api/v1/statuses/{secret['id']}")).status_code == 404
            context = await bob.get(f"/api/v1/statuses/{secret['id']}/context")
            assert context.status_code == 404
        mine = (await client.get(f"/api/v1/statuses/{secret['id']}/context")).json()
        assert ([s["id"] for s in mine["ancestors"]], [s["id"] for s in mine["descendants"]]) == (
            [],
            [reply["id"]],
        )
        up = (await client.get(f"/api/v1/statuses/{reply['id']}/context")).json()
        assert [s["id"] for s in up["ancestors"]] == [secret["id"]]
        assert (await client.get(f"/api/v1/statuses/{secret['id']}")).json()["replies_count"] == 1


@async_test
async def test_account_statuses_page_newest_first():
    async with server() as (sb, client, _):
        ids = [sb.post_as("anna", f"post {i}")["id"] for i in range(5)]
        me = (await client.get("/api/v1/accounts/verify_credentials")).json()
        url = f"/api/v1/accounts/{me['id']}/statuses"
        first = await client.get(url, params={"limit": 2})
        assert [s["id"] for s in first.json()] == [ids[4], ids[3]]
        nxt = first.links["next"]["url"]
        assert [s["id"] for s in (await client.get(nxt)).json()] == [ids[2], ids[1]]
        assert [s["id"] for s in (await client.get(url, params={"since_id": ids[2]})).json()] == [
            ids[4],
            ids[3],
        ]
        assert [s["id"] for s in (await client.get(url, params={"min_id": ids[0], "limit": 2})).json()] == [
            ids[2],
            ids[1],
        ]


@async_test
async def test_notifications_page_by_id_with_link_headers_and_filter_by_type():
    async with server(company("acme", "never")) as (sb, client, _):
        for i in range(5):
            sb.post_as("acme", f"@anna note {i}")
        everything = (await client.get("/api/v1/notifications")).json()
        assert len(everything) == 5
        ids = [n["id"] for n in everything]
        assert ids == sorted(ids, key=int, reverse=True)
        note = everything[0]
        assert set(note) >= {"id", "type", "created_at", "account", "status"}
        assert note["type"] == "mention" and note["account"]["acct"] == "acme"
        assert note["created_at"] == note["status"]["created_at"]
        assert "note 4" in note["status"]["content"]

        page = await client.get("/api/v1/notifications", params={"types[]": "mention", "limit": 2})
        assert [n["id"] for n in page.json()] == ids[:2]
        assert "types%5B%5D=mention" in page.links["next"]["url"]
        older = await client.get(page.links["next"]["url"])
        assert [n["id"] for n in older.json()] == ids[2:4]
        newer = await client.get(older.links["prev"]["url"])
        assert [n["id"] for n in newer.json()] == ids[:2]
        # min_id pages forward from the cursor: the oldest above it, newest first
        forward = await client.get("/api/v1/notifications", params={"min_id": ids[4], "limit": 2})
        assert [n["id"] for n in forward.json()] == [ids[2], ids[3]]
        since = await client.get("/api/v1/notifications", params={"since_id": ids[4], "limit": 2})
        assert [n["id"] for n in since.json()] == ids[:2]
        empty = await client.get("/api/v1/notifications", params={"min_id": ids[0]})
        assert empty.json() == [] and "link" not in empty.headers
        assert (await client.get("/api/v1/notifications", params={"exclude_types[]": "mention"})).json() == []
        assert (await client.get("/api/v1/notifications", params={"types[]": "follow"})).json() == []
        assert len((await client.get("/api/v1/notifications", params={"limit": 500})).json()) == 5
        one = await client.get(f"/api/v1/notifications/{ids[1]}")
        assert one.json()["id"] == ids[1]


@async_test
async def test_every_response_carries_rate_limit_headers_and_an_exhausted_quota_answers_429():
    async with server() as (sb, client, _):
        first = await client.get("/api/v1/accounts/verify_credentials")
        assert first.headers["x-ratelimit-limit"] == "300"
        assert first.headers["x-ratelimit-remaining"] == "299"
        reset = reset_time(first.headers["x-ratelimit-reset"])
        assert reset is not None and 290 < (reset - utcnow()).total_seconds() <= 300.01
        assert ISO_MS.fullmatch(first.headers["x-ratelimit-reset"])

        sb.set_rate_limit(2, 0.3)
        assert (await client.get("/api/v1/notifications")).headers["x-ratelimit-remaining"] == "1"
        assert (await client.get("/api/v1/notifications")).headers["x-ratelimit-remaining"] == "0"
        refused = await client.get("/api/v1/notifications")
        assert (refused.status_code, refused.json()) == (429, {"error": "Too many requests"})
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert sb.rate_limited == 1
        # another token has a quota of its own
        other = sb.register("bob", "Bob")
        assert (
            await client.get("/api/v1/notifications", headers={"Authorization": f"Bearer {other}"})
        ).is_success
        # after the reset the quota is whole again
        until = reset_time(refused.headers["x-ratelimit-reset"])
        assert until is not None
        await asyncio.sleep(max(0.0, (until - utcnow()).total_seconds()))
        again = await client.get("/api/v1/notifications")
        assert again.status_code == 200 and again.headers["x-ratelimit-remaining"] == "1"


# ------------------------------------------------------------------------------------------ streaming


async def read_events(response: httpx.Response, count: int) -> list[tuple[str, dict]]:
    events: list[tuple[str, dict]] = []
    event = None
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            events.append((event or "", json.loads(line.removeprefix("data: "))))
            if len(events) == count:
                return events
    return events


@async_test
async def test_the_user_stream_sends_notifications_and_updates_as_server_sent_events():
    async with server(company("acme", "never")) as (sb, client, _):
        health = await client.get("/api/v1/streaming/health")
        assert (health.status_code, health.text) == (200, "OK")
        async with client.stream("GET", "/api/v1/streaming/user") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert "x-ratelimit-limit" not in stream.headers  # like Mastodon's own streaming server
            lines = stream.aiter_lines()
            assert await anext(lines) == ":)"
            sb.post_as("acme", "@anna over the stream")
            assert await anext(lines) == "event: notification"
            data = json.loads((await anext(lines)).removeprefix("data: "))
            assert data["type"] == "mention" and "over the stream" in data["status"]["content"]
            assert await anext(lines) == ""
            await post(client, "my own public post")
            assert await anext(lines) == "event: update"
            update = json.loads((await anext(lines)).removeprefix("data: "))
            assert update["content"] == "<p>my own public post</p>"
            assert await anext(lines) == ""
            assert await anext(lines) == ":thump"  # heartbeat after a quiet moment


@async_test
async def test_stream_hooks_refuse_disable_drop_and_delay_streams():
    async with server(company("acme", "never")) as (sb, client, token):
        sb.refuse_streams = True
        assert (await client.get("/api/v1/streaming/user")).status_code == 503
        sb.refuse_streams = False
        sb.streaming = False
        assert (await client.get("/api/v1/streaming/user")).status_code == 404
        assert (await client.get("/api/v1/streaming/health")).status_code == 404
        sb.streaming = True
        async with httpx.AsyncClient(base_url=sb.base_url) as anonymous:
            assert (await anonymous.get("/api/v1/streaming/user")).status_code == 401
            # the token may also come as a query parameter, as Mastodon's streaming server allows
            async with anonymous.stream(
                "GET", "/api/v1/streaming/user", params={"access_token": token}
            ) as ok:
                assert ok.status_code == 200

        async with client.stream("GET", "/api/v1/streaming/user") as stream:
            await wait_until(lambda: sb.open_streams == 1)
            sb.drop_streams()
            with pytest.raises(httpx.RemoteProtocolError):
                async for _ in stream.aiter_lines():
                    pass
        await wait_until(lambda: sb.open_streams == 0)

        sb.stream_delay = 0.5
        async with client.stream("GET", "/api/v1/streaming/user") as stream:
            await wait_until(lambda: sb.open_streams == 1)
            status = sb.post_as("acme", "@anna late")
            [(event, data)] = await read_events(stream, 1)
            written = utcnow()
        created = datetime.fromisoformat(status["created_at"].replace("Z", "+00:00"))
        assert event == "notification" and data["status"]["created_at"] == status["created_at"]
        assert (written - created).total_seconds() >= 0.45


# ------------------------------------------------------------------------------------------ companies


async def inquire(sb: SandboxMastodon, client: httpx.AsyncClient, who: str, **fields) -> dict:
    return await post(client, f"@{who} Do you deliver on Saturdays?", **fields)


@async_test
async def test_a_fast_company_acknowledges_and_a_person_answers_in_the_thread_from_its_help_account():
    acme = company("acme", also=("acmehelp",))
    async with server(acme) as (sb, client, _):
        inquiry = await inquire(sb, client, "acme")
        await wait_until(lambda: kinds(sb) == ["inquiry", "ack", "human"])
        records = sb.truth
        assert records[0].status_id == inquiry["id"] and records[0].company_id == "acme"
        ack, human = records[1], records[2]
        assert (ack.account, human.account) == ("acme", "acmehelp")
        assert ack.in_reply_to == human.in_reply_to == inquiry["id"]
        assert ack.inquiry_id == human.inquiry_id == inquiry["id"]
        assert ack.created_at <= human.created_at
        assert ack.text.startswith("@anna Thanks for reaching out! We've received your message")
        assert human.text.startswith("@anna Hi Anna!")
        assert sb.truth_for(inquiry["id"]) == [ack, human]
        # what the persona sees: mention notifications whose statuses match the records exactly
        notes = (await client.get("/api/v1/notifications")).json()
        by_id = {n["status"]["id"]: n["status"] for n in notes}
        for record in (ack, human):
            status = by_id[record.status_id]
            assert status["created_at"] == record.created_at.strftime("%Y-%m-%dT%H:%M:%S.") + (
                f"{record.created_at.microsecond // 1000:03d}Z"
            )
            assert status["in_reply_to_id"] == inquiry["id"]
            assert status["visibility"] == "public"
            assert [m["acct"] for m in status["mentions"]] == ["anna"]


@async_test
async def test_the_acknowledgement_states_the_companys_promise():
    acme = company("acme", "ack_only", promise="within 3 hours")
    async with server(acme) as (sb, client, _):
        await inquire(sb, client, "acme")
        await wait_until(lambda: kinds(sb) == ["inquiry", "ack"])
        assert "within 3 hours" in sb.truth[1].text
        await asyncio.sleep(0.2)  # a person would have answered by now at this scale; nobody does
        assert kinds(sb) == ["inquiry", "ack"] and sb.pending == 0


@async_test
async def test_a_company_that_never_answers_posts_nothing():
    async with server(company("acme", "never"), company("bouncy", "bounce")) as (sb, client, _):
        await inquire(sb, client, "acme")
        await inquire(sb, client, "bouncy")
        assert kinds(sb) == ["inquiry", "inquiry"]
        assert sb.pending == 0


@async_test
async def test_a_deflecting_company_points_elsewhere_in_the_thread():
    acme = company("acme", "fast", ack=False, human_style="deflect")
    async with server(acme) as (sb, client, _):
        inquiry = await inquire(sb, client, "acme")
        await wait_until(lambda: kinds(sb) == ["inquiry", "deflection"])
        reply = sb.truth[1]
        assert reply.in_reply_to == inquiry["id"]
        assert "please send us a DM" in reply.text and "contact our support at" in reply.text


@async_test
async def test_a_holding_reply_is_threaded_and_the_answer_comes_later_only_as_a_mention():
    acme = company("acme", "fast", ack=False, human_style="holding", human_median="1s")
    async with server(acme) as (sb, client, _):
        inquiry = await inquire(sb, client, "acme", visibility="direct")
        await wait_until(lambda: kinds(sb) == ["inquiry", "holding", "followup"], timeout=8)
        holding, followup = sb.truth[1], sb.truth[2]
        assert holding.in_reply_to == inquiry["id"] and "looking into it" in holding.text
        assert followup.in_reply_to is None and followup.inquiry_id == inquiry["id"]
        assert followup.text.startswith("@anna ")
        # a direct inquiry is answered directly, and the unthreaded answer still notifies the persona
        assert holding.visibility == followup.visibility == "direct"
        notes = (await client.get("/api/v1/notifications")).json()
        status = next(n["status"] for n in notes if n["status"]["id"] == followup.status_id)
        assert status["in_reply_to_id"] is None and status["visibility"] == "direct"


@async_test
async def test_out_of_office_and_business_hours():
    away = company("away", "out_of_office")
    closed = Target(
        id="closed",
        name="Closed Inc",
        hours=BusinessHours(weekdays=[], sat=[], sun=[]),
        endpoints=Endpoints(mastodon=SocialEndpoint(account=f"closed@{DOMAIN}")),
        sandbox=SandboxBehaviour(profile="business_hours"),
    )
    async with server(away, closed) as (sb, client, _):
        await inquire(sb, client, "away")
        await inquire(sb, client, "closed")
        await wait_until(lambda: {"ooo", "ack"} <= set(kinds(sb)))
        ooo = next(r for r in sb.truth if r.kind == "ooo")
        assert "away until" in ooo.text
        # the closed company acknowledges at once, but its people never answer within the horizon
        await asyncio.sleep(0.1)
        assert [r.kind for r in sb.truth if r.company_id == "closed"] == ["inquiry", "ack"]


@async_test
async def test_replies_do_not_answer_the_companies_own_posts():
    async with server(company("acme"), company("globex")) as (sb, client, _):
        sb.post_as("acme", "@globex hello neighbour")
        assert sb.truth == []
        await post(client, "@acme @globex both of you?")
        await wait_until(
            lambda: sorted(r.company_id for r in sb.truth if r.kind == "human") == ["acme", "globex"]
        )


@async_test
async def test_the_sandbox_serves_mastodon_when_a_company_has_an_account():
    mixed = Target(
        id="acme",
        name="Acme",
        endpoints=Endpoints(
            email=EmailEndpoint(address="support@acme.example"),
            mastodon=SocialEndpoint(account=f"acme@{DOMAIN}"),
        ),
    )
    async with Sandbox([mixed], time_scale=SCALE) as sandbox:
        token = sandbox.mastodon.register("anna", "Anna")
        async with httpx.AsyncClient(base_url=sandbox.mastodon.base_url) as client:
            me = await client.get(
                "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"}
            )
            assert me.json()["acct"] == "anna"
        assert sandbox.mastodon.time_scale == SCALE
    plain = Target(
        id="plain", name="Plain", endpoints=Endpoints(email=EmailEndpoint(address="a@plain.example"))
    )
    async with Sandbox([plain]) as email_only:
        with pytest.raises(RuntimeError, match="no Mastodon"):
            _ = email_only.mastodon
