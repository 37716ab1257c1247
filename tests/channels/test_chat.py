"""ChatChannel in real Chromium against the sandbox's real chat widgets: timing, classification, lifecycle."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import pytest

from replybench.browser import BrowserPool
from replybench.channels import chat as chat_module
from replybench.channels.base import InboundItem, OutboundProbe, PacedChannel
from replybench.channels.chat import ChatChannel
from replybench.channels.chatlog import CHAT_CLOCK, ChatMessage
from replybench.classify.chat import classify_chat
from replybench.errors import SendFailed, SendUncertain
from replybench.models import (
    ChatEndpoint,
    EmailIdentity,
    Endpoints,
    MessageClass,
    Persona,
    SandboxBehaviour,
    Target,
)
from replybench.sandbox import Sandbox
from tests.asynctest import async_test
from tests.outbound import outbound_probe

ANNA = Persona(id="anna", display_name="Anna Example", email=EmailIdentity(address="anna@probe.example"))
JONAS = Persona(
    id="jonas",
    display_name="Jonas Beispiel",
    language="de",
    locale="de-DE",
    timezone="Europe/Berlin",
    email=EmailIdentity(address="jonas@probe.example"),
)
#: How far a page stamp may be from the sandbox's socket write here. The goal is 100 ms (the chat benchmark
#: measures it); this bound only has to catch a wrong clock, time zone or unit, on a busy test machine too.
TOLERANCE_S = 0.3


def company(
    id: str, chat: str = "live", *, wait: str = "20s", after_human: str = "0.3s", **endpoint: str
) -> Target:
    return Target(
        id=id,
        name=id.title(),
        endpoints=Endpoints(
            chat=ChatEndpoint(
                url=f"https://{id}.example/chat", wait=wait, after_human=after_human, **endpoint
            )  # type: ignore[arg-type]
        ),
        sandbox=SandboxBehaviour(chat=chat, chat_human_median="1s"),  # type: ignore[arg-type]
    )


def probe_for(target: Target, persona: Persona = ANNA, body: str | None = None) -> OutboundProbe:
    return outbound_probe(
        target,
        persona,
        subject="Delivery question",
        body=body or f"Hello,\n\ndo you deliver on Saturdays? (ref {{token}})\n\n{persona.given_name}",
        id_prefix="p",
    )


@dataclass
class World:
    sandbox: Sandbox
    channel: ChatChannel
    pool: BrowserPool
    items: list[InboundItem]

    def messages(self, probe: OutboundProbe) -> list[ChatMessage]:
        return [ChatMessage.from_json(i.raw) for i in self.items if i.source == f"chat:{probe.probe_id}"]

    async def until_idle(self, timeout: float) -> float:
        """Wait until no chat session is open; returns how long that took."""
        start = time.monotonic()
        while self.channel.active:
            assert time.monotonic() - start < timeout, "the chat session did not end"
            await asyncio.sleep(0.02)
        return time.monotonic() - start


@asynccontextmanager
async def world(
    *targets: Target, sessions: int = 2, url: Callable[[Sandbox, Target], str] | None = None
) -> AsyncIterator[World]:
    pool = BrowserPool(size=4)
    async with Sandbox(list(targets), time_scale=2.0, seed=11) as sb:
        channel = ChatChannel(
            pool, sessions=sessions, url_for=lambda t: url(sb, t) if url else sb.web.url(t.id, "chat")
        )
        items: list[InboundItem] = []

        async def sink(item: InboundItem) -> None:
            items.append(item)

        listener = asyncio.create_task(channel.listen(sink))
        try:
            yield World(sb, channel, pool, items)
        finally:
            await channel.aclose()
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
            await pool.close()


def truth_of(sb: Sandbox, probe: OutboundProbe) -> list[tuple[str, str, float]]:
    """(author, text, POSIX time) of the sandbox's record of the conversation our probe's message was in."""
    records = sb.truth.web("chat_message", probe.target.id)
    ours = next(r.conversation for r in records if r.author == "visitor" and probe.token in (r.text or ""))
    return [(r.author or "", r.text or "", r.at.timestamp()) for r in records if r.conversation == ours]


# ------------------------------------------------------------------------------------------ live chat


@async_test
async def test_live_chat_bot_then_person_classified_and_timed_against_ground_truth(chromium: str) -> None:
    target = company("acme")
    async with world(target) as w:
        assert isinstance(w.channel, PacedChannel)
        probe = probe_for(target)
        receipt = await w.channel.send(probe)
        ended = await w.until_idle(10)
        messages = w.messages(probe)
        truth = truth_of(w.sandbox, probe)

    assert receipt.clock == CHAT_CLOCK
    assert receipt.horizon == timedelta(seconds=20)
    assert receipt.evidence["chat_offline"] is False
    assert receipt.evidence["delivered_status"] == "delivered"
    assert receipt.evidence["selectors"]["launcher"] == "generic"
    assert receipt.artifacts["chat.png"].startswith(b"\x89PNG")
    assert ended < 8  # after_human, not the 20 s wait

    assert [m.author for m in messages] == ["bot", "visitor", "bot", "system", "agent"]
    assert [m.seq for m in messages] == list(range(5))
    assert all(m.inquiry_at == receipt.sent_at for m in messages)
    greeting, own, handoff, joined, agent = messages
    assert own.text == probe.body.strip()
    assert agent.name != greeting.name and agent.avatar != greeting.avatar
    assert ("bot", greeting.name, handoff.text) in agent.earlier

    verdicts = [classify_chat(m) for m in (greeting, handoff, joined, agent)]
    assert [v.cls for v in verdicts] == [
        MessageClass.AUTO_ACK,
        MessageClass.AUTO_ACK,
        MessageClass.AUTO_ACK,
        MessageClass.HUMAN,
    ]
    assert [v.detail["before_inquiry"] for v in verdicts] == ["true", "false", "false", "false"]
    assert verdicts[0].rule == "chat.instant_greeting"

    # Every item: one message, stamped on the page's clock, named by its probe.
    assert all(i.channel == "chat" and i.clock == CHAT_CLOCK for i in w.items)
    assert [i.received_at for i in w.items] == [m.at for m in messages]

    # Timing: the page's stamps against the sandbox's socket writes (and its read of our message).
    assert [(a, t) for a, t, _ in truth] == [(m.author, m.text) for m in messages]
    for message, (_, _, written) in zip(messages, truth, strict=True):
        if message.author != "visitor":
            assert abs(message.at.timestamp() - written) < TOLERANCE_S
    visitor_read = truth[1][2]
    assert abs(receipt.sent_at.timestamp() - visitor_read) < TOLERANCE_S
    measured = (agent.at - receipt.sent_at).total_seconds()
    true_response = truth[4][2] - visitor_read
    assert abs(measured - true_response) < TOLERANCE_S


@async_test
async def test_widget_in_an_iframe_speaks_the_personas_language(chromium: str) -> None:
    target = company("frame", frame="iframe#chat-frame")
    async with world(target, url=lambda sb, t: sb.web.url(t.id, "chat") + "/embed") as w:
        probe = probe_for(target, JONAS, body="Hallo, liefern Sie auch samstags?")
        receipt = await w.channel.send(probe)
        await w.until_idle(10)
        messages = w.messages(probe)
    assert receipt.evidence["selectors"]["frame"] == "iframe#chat-frame"
    greeting = messages[0]
    assert "virtuelle Assistent" in greeting.text
    verdicts = {m.author: classify_chat(m).cls for m in messages if m.author != "visitor"}
    assert verdicts == {
        "bot": MessageClass.AUTO_ACK,
        "system": MessageClass.AUTO_ACK,
        "agent": MessageClass.HUMAN,
    }


# ------------------------------------------------------------------------------------------ other widgets


@async_test
async def test_offline_widget_leaves_a_message_that_reaches_the_help_desk(chromium: str) -> None:
    target = company("closed", "offline")
    async with world(target) as w:
        probe = probe_for(target)
        receipt = await w.channel.send(probe)
        await w.until_idle(5)
        received = [p for p in w.sandbox.truth.probes if p.company_id == "closed"]
        submitted = w.sandbox.truth.web("chat_offline", "closed")
    assert receipt.evidence["chat_offline"] is True
    assert {"email", "message"} <= set(receipt.evidence["offline_fields"])
    assert receipt.horizon is None  # the answer comes by email: the suite's wait applies
    assert receipt.clock == CHAT_CLOCK
    assert receipt.artifacts["chat.png"].startswith(b"\x89PNG")
    assert len(received) == 1
    assert received[0].mail_from == probe.reply_address
    assert received[0].token == probe.token
    assert [r.detail["event"] for r in submitted] == ["shown", "submitted"]
    assert submitted[1].text == probe.body.strip()
    assert w.items == []


@async_test
async def test_silent_widget_yields_only_our_message_and_ends_at_the_wait_limit(chromium: str) -> None:
    target = company("mute", "silent", wait="1s")
    async with world(target) as w:
        probe = probe_for(target)
        receipt = await w.channel.send(probe)
        ended = await w.until_idle(5)
        messages = w.messages(probe)
    assert receipt.horizon == timedelta(seconds=1)
    assert [m.author for m in messages] == ["visitor"]
    assert 0.7 < ended < 4.0


@async_test
async def test_bot_only_widget_gives_only_automatic_answers(chromium: str) -> None:
    target = company("bots", "bot_only", wait="1.2s")
    async with world(target) as w:
        probe = probe_for(target)
        await w.channel.send(probe)
        ended = await w.until_idle(5)
        messages = w.messages(probe)
    company_side = [m for m in messages if m.author != "visitor"]
    assert len(company_side) == 2
    assert {classify_chat(m).cls for m in company_side} == {MessageClass.AUTO_ACK}
    assert ended > 0.8  # nobody answered, so the session ran to the wait limit


# ------------------------------------------------------------------------------------------ lifecycle


@async_test
async def test_ready_is_false_while_every_session_is_busy_and_aclose_ends_them(chromium: str) -> None:
    target = company("mute", "silent", wait="30s")
    async with world(target, sessions=1) as w:
        assert w.channel.ready()
        assert w.channel.describe().concurrency == 1 and w.channel.describe().needs_browser
        await w.channel.send(probe_for(target))
        assert w.channel.active == 1
        assert not w.channel.ready()
        with pytest.raises(SendFailed, match="busy"):
            await w.channel.send(probe_for(target))
        await w.channel.aclose()
        assert w.channel.active == 0
        assert w.pool.in_use == 0
        assert not w.channel.ready()
        with pytest.raises(SendFailed, match="closed"):
            await w.channel.send(probe_for(target))


def _data_page(html: str) -> str:
    return "data:text/html," + quote(f"<!doctype html><body>{html}</body>")


_NEVER_DELIVERED = """
<ol role="log"></ol><textarea></textarea><button onclick="
  const li = document.createElement('li'); li.dataset.author = 'visitor'; li.dataset.status = 'sending';
  li.textContent = document.querySelector('textarea').value; document.querySelector('ol').appendChild(li);
">Send</button>
"""


_RERENDERS = """
<ol role="log"></ol><textarea></textarea><button id="send">Send</button>
<script>
  const said = [];
  const render = () => {
    document.querySelector("ol").innerHTML = said.map((m) => `<li data-author="${m[0]}">${m[1]}</li>`).join("");
  };
  document.getElementById("send").onclick = () => {
    said.push(["visitor", document.querySelector("textarea").value]);
    render();
    setTimeout(() => { said.push(["agent", "Yes, we do."]); render(); }, 200);
    setTimeout(render, 400);
  };
</script>
"""


@async_test
async def test_a_widget_that_re_renders_its_whole_list_reports_each_message_once(chromium: str) -> None:
    target = company("redraw", wait="1s")
    async with world(target, url=lambda sb, t: _data_page(_RERENDERS)) as w:
        probe = probe_for(target, body="Do you deliver on Saturdays?")
        receipt = await w.channel.send(probe)
        await w.until_idle(5)
        messages = w.messages(probe)
    assert [(m.author, m.text) for m in messages] == [
        ("visitor", probe.body.strip()),
        ("agent", "Yes, we do."),
    ]
    assert receipt.evidence["delivered_status"] == "(none)"  # no delivery mark: rendering it is delivery
    assert classify_chat(messages[1]).cls is MessageClass.HUMAN


@async_test
async def test_sends_that_fail_before_typing_or_are_never_delivered(chromium: str) -> None:
    targets = [company(id, timeout="2s") for id in ("missing", "nowidget", "undelivered")]
    pages: dict[str, Callable[[Sandbox], str]] = {
        "missing": lambda sb: f"{sb.web.base_url}/nobody/chat",
        "nowidget": lambda sb: _data_page("<p>We have no chat.</p>"),
        "undelivered": lambda sb: _data_page(_NEVER_DELIVERED),
    }
    async with world(*targets, sessions=3, url=lambda sb, t: pages[t.id](sb)) as w:
        outcomes = await asyncio.gather(
            *(w.channel.send(probe_for(t)) for t in targets), return_exceptions=True
        )
        await w.until_idle(5)
    missing, nowidget, undelivered = outcomes
    assert isinstance(missing, SendFailed) and "404" in str(missing)
    assert isinstance(nowidget, SendFailed) and "could not open the chat" in str(nowidget)
    assert isinstance(undelivered, SendUncertain) and "never showed as delivered" in str(undelivered)
    assert undelivered.evidence["own_message_status"] == "sending"
    assert undelivered.artifacts["chat.png"].startswith(b"\x89PNG")


@async_test
async def test_send_before_listen_fails_without_opening_a_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chat_module, "_SINK_WAIT_S", 0.05)
    pool = BrowserPool(size=1)
    channel = ChatChannel(pool, url_for=lambda t: "http://127.0.0.1:9/chat")
    with pytest.raises(SendFailed, match="listen"):
        await channel.send(probe_for(company("acme")))
    assert channel.active == 0 and pool.in_use == 0
    no_chat = Target(id="plain", name="Plain")
    with pytest.raises(SendFailed, match="no chat endpoint"):
        await ChatChannel(pool).send(probe_for(no_chat))
