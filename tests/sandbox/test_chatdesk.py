"""The sandbox's chat widgets over real HTTP and WebSocket: pages, each variant, ground truth, determinism."""

from __future__ import annotations

import asyncio
import json
import statistics
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from replybench.models import BusinessHours, ChatEndpoint, Endpoints, SandboxBehaviour, Target
from replybench.sandbox import Sandbox
from replybench.sandbox.chatdesk import BOT_NAME, plan_agent
from tests.asynctest import async_test


def company(
    id: str, chat: str = "live", *, median: str = "0.4s", hours: BusinessHours | None = None, name: str = ""
) -> Target:
    extra: dict[str, Any] = {"hours": hours} if hours is not None else {}
    return Target(
        id=id,
        name=name or id.title(),
        endpoints=Endpoints(chat=ChatEndpoint(url=f"https://{id}.example/chat")),
        sandbox=SandboxBehaviour(chat=chat, chat_human_median=median),  # type: ignore[arg-type]
        **extra,
    )


ALWAYS = BusinessHours(**{day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
NEVER = BusinessHours(weekdays=[], holidays=False)


@asynccontextmanager
async def sandbox(*targets: Target, time_scale: float = 1.0, seed: int = 3) -> AsyncIterator[Sandbox]:
    async with Sandbox(list(targets), time_scale=time_scale, seed=seed) as sb:
        yield sb


def ws_url(sb: Sandbox, company_id: str) -> str:
    return sb.web.url(company_id, "chat").replace("http://", "ws://") + "/ws"


async def receive(ws: ClientConnection, timeout: float = 3.0) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return data


async def receive_until(ws: ClientConnection, author: str, timeout: float = 3.0) -> list[dict[str, Any]]:
    """Every event up to and including the first message by ``author``."""
    seen = []
    while True:
        event = await receive(ws, timeout)
        seen.append(event)
        if event.get("type") == "message" and event["author"] == author:
            return seen


async def silence(ws: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """Events that arrive within ``seconds``."""
    got = []
    try:
        while True:
            got.append(await receive(ws, seconds))
    except TimeoutError:
        return got


# ------------------------------------------------------------------------------------------ pages


@async_test
async def test_page_has_launcher_log_and_compose_and_is_escaped() -> None:
    plain = Target(id="plain", name="Plain", endpoints=Endpoints(chat=None))
    async with (
        sandbox(company("acme", name="Acme <script>x</script>"), plain) as sb,
        httpx.AsyncClient() as client,
    ):
        page = await client.get(sb.web.url("acme", "chat"))
        german = await client.get(sb.web.url("acme", "chat"), headers={"Accept-Language": "de-DE,de;q=0.9"})
        embed = await client.get(sb.web.url("acme", "chat") + "/embed")
        script = await client.get(sb.web.url("acme", "chat") + "/widget.js")
        missing = await client.get(f"{sb.web.base_url}/plain/chat")
    assert page.status_code == 200
    html = page.text
    assert 'aria-label="Chat with us"' in html
    assert 'role="log"' in html
    assert "<textarea" in html and ">Send</button>" in html
    assert 'class="agent-name"' in html and 'class="agent-avatar"' in html
    assert "<script>x</script>" not in html and "Acme &lt;script&gt;" in html
    assert 'aria-label="Chat mit uns"' in german.text
    assert '<iframe id="chat-frame"' in embed.text
    assert script.status_code == 200 and "WebSocket" in script.text
    assert missing.status_code == 404


# ------------------------------------------------------------------------------------------ live


@async_test
async def test_live_chat_greets_hands_over_and_a_person_answers_with_truth_recorded() -> None:
    async with sandbox(company("acme", median="0.4s"), time_scale=2.0) as sb:
        async with connect(ws_url(sb, "acme")) as ws:
            mode = await receive(ws)
            assert mode["type"] == "mode" and mode["mode"] == "online"
            greeting = await receive(ws)
            assert greeting["author"] == "bot" and greeting["name"] == BOT_NAME
            assert "virtual assistant" in greeting["text"]
            await ws.send(
                json.dumps({"type": "message", "client_id": "c1", "text": "Do you ship to Norway?"})
            )
            ack = await receive(ws)
            assert ack == {"type": "ack", "client_id": "c1", "id": ack["id"]}
            events = await receive_until(ws, "agent")
        conversation = mode["conversation"]

    messages = [e for e in events if e["type"] == "message"]
    assert [m["author"] for m in messages] == ["bot", "system", "agent"]
    assert "Connecting you to an agent" in messages[0]["text"]
    header = next(e for e in events if e["type"] == "agent")
    agent = messages[-1]
    assert agent["name"] == header["name"] != BOT_NAME
    assert agent["avatar"] == header["avatar"] != greeting["avatar"]
    assert header["name"] in messages[1]["text"]  # "Maria Keller joined the chat"

    truth = [w for w in sb.truth.web(company_id="acme") if w.conversation == conversation]
    assert truth[0].kind == "chat_opened"
    said = [(w.author, w.text) for w in truth if w.kind == "chat_message"]
    assert said == [
        ("bot", greeting["text"]),
        ("visitor", "Do you ship to Norway?"),
        ("bot", messages[0]["text"]),
        ("system", messages[1]["text"]),
        ("agent", agent["text"]),
    ]
    visitor_at = next(w.at for w in truth if w.author == "visitor")
    agent_at = next(w.at for w in truth if w.author == "agent")
    expected = plan_agent(company("acme", median="0.4s"), 3, 0, 2.0).delay
    assert abs((agent_at - visitor_at).total_seconds() - max(expected, 0.3)) < 0.25


@async_test
async def test_visitor_follow_up_is_answered_by_the_same_agent() -> None:
    async with sandbox(company("acme", median="0.2s")) as sb, connect(ws_url(sb, "acme")) as ws:
        await receive_until(ws, "bot")
        await ws.send(json.dumps({"type": "message", "client_id": "c1", "text": "First"}))
        first = (await receive_until(ws, "agent"))[-1]
        await ws.send(json.dumps({"type": "message", "client_id": "c2", "text": "Second"}))
        later = await receive_until(ws, "agent")
    assert later[0] == {"type": "ack", "client_id": "c2", "id": later[0]["id"]}
    assert later[-1]["name"] == first["name"]
    assert not [e for e in later if e.get("author") in ("bot", "system")]  # no second hand-over


def test_agent_plan_is_deterministic_per_seed_and_log_normal_around_the_median() -> None:
    target = company("acme", median="4s")
    assert plan_agent(target, 7, 3, 1.0) == plan_agent(target, 7, 3, 1.0)
    assert {plan_agent(target, seed, 0, 1.0) for seed in range(20)} != {plan_agent(target, 0, 0, 1.0)}
    delays = [plan_agent(target, 1, n, 4.0).delay for n in range(600)]
    assert abs(statistics.median(delays) - 1.0) < 0.12  # 4 s median / time scale 4
    assert max(delays) > 2 * statistics.median(delays)  # a tail, not clockwork


# ------------------------------------------------------------------------------------------ other variants


@async_test
async def test_bot_only_never_brings_a_person() -> None:
    async with sandbox(company("bots", "bot_only", median="0.05s")) as sb, connect(ws_url(sb, "bots")) as ws:
        assert (await receive(ws))["mode"] == "online"
        assert (await receive(ws))["author"] == "bot"
        await ws.send(json.dumps({"type": "message", "client_id": "c1", "text": "Hello?"}))
        later = await silence(ws, 0.6)
    assert [e["type"] for e in later] == ["ack", "message"]
    assert later[1]["author"] == "bot" and "Connecting you" in later[1]["text"]
    authors = [w.author for w in sb.truth.web("chat_message")]
    assert authors == ["bot", "visitor", "bot"]


@async_test
async def test_silent_widget_says_nothing_but_acknowledges_delivery() -> None:
    async with sandbox(company("mute", "silent", median="0.05s")) as sb, connect(ws_url(sb, "mute")) as ws:
        assert (await receive(ws))["mode"] == "online"
        await ws.send(json.dumps({"type": "message", "client_id": "c1", "text": "Anyone there?"}))
        later = await silence(ws, 0.6)
    assert [e["type"] for e in later] == ["ack"]
    assert [w.author for w in sb.truth.web("chat_message")] == ["visitor"]


@async_test
async def test_offline_widget_takes_a_message_into_the_help_desk() -> None:
    async with sandbox(company("closed", "offline")) as sb:
        async with connect(ws_url(sb, "closed")) as ws:
            mode = await receive(ws)
            assert mode["mode"] == "offline"
            await ws.send(json.dumps({"type": "message", "client_id": "c1", "text": "ignored"}))
            assert await silence(ws, 0.3) == []
        url = sb.web.url("closed", "chat") + "/offline"
        async with httpx.AsyncClient() as client:
            bad = await client.post(url, json={"name": "", "email": "nope", "message": "Hi"})
            good = await client.post(
                url,
                json={"name": "Anna Example", "email": "anna+tok@probe.example", "message": "Open Sunday?"},
            )
        assert bad.status_code == 422 and set(bad.json()["errors"]) == {"name", "email"}
        assert good.json() == {"ok": True}
        await asyncio.sleep(0)
        received = [p for p in sb.truth.probes if p.company_id == "closed"]
    assert len(received) == 1
    assert received[0].mail_from == "anna+tok@probe.example"
    assert received[0].subject == "Chat message from Anna Example"
    events = [(w.kind, w.detail.get("event")) for w in sb.truth.web(company_id="closed")]
    assert events == [("chat_opened", None), ("chat_offline", "shown"), ("chat_offline", "submitted")]
    assert sb.truth.web("chat_message") == []


@async_test
async def test_business_hours_chat_is_live_when_open_and_offline_when_closed() -> None:
    async with sandbox(
        company("open", "business_hours", hours=ALWAYS), company("shut", "business_hours", hours=NEVER)
    ) as sb:
        async with connect(ws_url(sb, "open")) as ws:
            assert (await receive(ws))["mode"] == "online"
            assert (await receive(ws))["author"] == "bot"
        async with connect(ws_url(sb, "shut")) as ws:
            assert (await receive(ws))["mode"] == "offline"
            assert await silence(ws, 0.3) == []


@async_test
async def test_german_widget_speaks_german_and_unknown_company_socket_is_refused() -> None:
    async with sandbox(company("acme")) as sb:
        async with connect(ws_url(sb, "acme") + "?lang=de-DE") as ws:
            await receive(ws)
            greeting = await receive(ws)
        assert "virtuelle Assistent" in greeting["text"]
        refused = False
        try:
            async with connect(ws_url(sb, "acme").replace("/acme/", "/nobody/")) as ws:
                await ws.recv()
        except Exception:
            refused = True
        assert refused
