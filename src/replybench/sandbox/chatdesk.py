"""Chat widgets of the sandbox's companies: a company page with a "Chat with us" launcher, and a WebSocket.

Routes, for every company that has a chat endpoint:

* ``GET /<id>/chat`` — the company page with the widget in it (``/<id>/chat/embed`` puts the widget in an
  iframe, ``/<id>/chat/widget`` is the widget alone);
* ``GET /<id>/chat/widget.js`` — the widget's script;
* ``WS /<id>/chat/ws`` — the conversation, opened when the widget is opened;
* ``POST /<id>/chat/offline`` — the "leave a message" form (JSON), entered into the company's help desk,
  which answers by email.

What the widget does follows ``target.sandbox.chat`` (:data:`~replybench.models.SandboxChat`): ``live`` — the
bot greets at once, says "connecting you to an agent" on the visitor's first message, and a person (a new name
and avatar) answers after a log-normal delay with median ``chat_human_median`` divided by the time scale;
``business_hours`` — the same while the company is open, else the "leave a message" form; ``offline`` — the
form always; ``bot_only`` — the bot, and nobody ever comes; ``silent`` — nothing is ever said.

Every message is recorded in ground truth (``chat_message``) with the time the server wrote it to the socket
(or, for the visitor's, read it from the socket); a visitor's message is acknowledged (``ack``) at once, and
the widget marks it ``data-status="delivered"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from replybench.clock import BusinessClock
from replybench.models import SandboxChat, Target
from replybench.sandbox.desk import AGENTS
from replybench.sandbox.truth import WebRecord
from replybench.timefmt import utcnow

if TYPE_CHECKING:
    from replybench.sandbox.core import Sandbox

log = logging.getLogger(__name__)

#: Median of the human agent's first answer when the company sets no ``chat_human_median`` (real seconds).
DEFAULT_HUMAN_MEDIAN = 4.0
#: Log-normal sigma of the agent's delay (chats are answered faster and more evenly than email).
HUMAN_SIGMA = 0.5
#: The bot's greeting after the widget connects, and its "connecting you" after the visitor's first message
#: (real seconds, not scaled: bots are quick whatever the simulated pace).
GREETING_DELAY = 0.15
CONNECTING_DELAY = 0.25
#: The agent never answers before the bot said "connecting you" plus this gap.
_AGENT_AFTER_BOT = 0.05
#: A follow-up question is answered this much faster than the first one.
_FOLLOW_UP_FACTOR = 0.5

BOT_NAME = "Sunny"

Lang = Literal["en", "de"]

#: Page and bot wording per language (the agent answers in English).
TEXTS: Mapping[Lang, Mapping[str, str]] = {
    "en": {
        "launcher": "Chat with us",
        "title": "Customer service",
        "intro": "Questions about an order, a delivery or your account? Our team is happy to help.",
        "connecting": "Connecting…",
        "online": "Online",
        "placeholder": "Type your message…",
        "send": "Send",
        "offline": "We're offline right now. Leave us a message and we'll get back to you by email.",
        "name": "Your name",
        "email": "Email",
        "message": "Message",
        "leave": "Leave a message",
        "thanks": "Thank you! We'll get back to you by email.",
        "greeting": "Hi! I'm {bot}, the virtual assistant of {company}. How can I help you today?",
        "handoff": "Thanks! Connecting you to an agent… Please wait, an agent will be with you shortly.",
        "joined": "{agent} joined the chat",
    },
    "de": {
        "launcher": "Chat mit uns",
        "title": "Kundenservice",
        "intro": "Fragen zu einer Bestellung, einer Lieferung oder Ihrem Konto? Unser Team hilft gern.",
        "connecting": "Verbinde…",
        "online": "Online",
        "placeholder": "Ihre Nachricht…",
        "send": "Senden",
        "offline": "Wir sind gerade offline. Hinterlassen Sie uns eine Nachricht, wir antworten per E-Mail.",
        "name": "Ihr Name",
        "email": "E-Mail",
        "message": "Nachricht",
        "leave": "Nachricht hinterlassen",
        "thanks": "Vielen Dank! Wir melden uns per E-Mail.",
        "greeting": "Hallo! Ich bin {bot}, der virtuelle Assistent von {company}. Wie kann ich Ihnen helfen?",
        "handoff": "Danke! Ich verbinde Sie mit einem Mitarbeiter… Bitte warten Sie einen Moment.",
        "joined": "{agent} ist dem Chat beigetreten",
    },
}


#: The agent's first answers (free of the bot's stock phrases, as a person's words are).
_ANSWERS = (
    "I've checked that for you: yes, it works the way you describe, nothing to do in advance.",
    "Good question. On the standard plan that is included at no extra cost.",
    "I've looked it up: it usually takes two to three working days, and you get a confirmation then.",
    "Unfortunately we don't offer that at the moment, but I've passed your idea on to the product team.",
    "Yes, we can do that. I've added a note so that my colleagues know about it too.",
    "That depends a little on the model, but for yours the answer is yes.",
)
_FOLLOW_UPS = (
    "Sure, let me look into that as well.",
    "Of course. One moment, I'm checking.",
    "Happy to help with that too.",
)

_PALETTE = ("#2f6fde", "#c2410c", "#15803d", "#7c3aed", "#be123c", "#0e7490", "#a16207", "#4338ca")


def avatar_url(name: str) -> str:
    """A small SVG avatar with the name's initials, as a data: URL (distinct per name)."""
    initials = "".join(word[0] for word in name.split()[:2]).upper() or "?"
    color = _PALETTE[sum(map(ord, name)) % len(_PALETTE)]
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><circle cx="16" cy="16" r="16" '
        f'fill="{color}"/><text x="16" y="21" font-size="13" text-anchor="middle" fill="#fff" '
        f'font-family="sans-serif">{initials}</text></svg>'
    )
    return "data:image/svg+xml;utf8," + quote(svg)


def human_median(target: Target) -> float:
    """The company's median agent delay in real seconds (before the time scale)."""
    spec = target.sandbox
    if spec is not None and spec.chat_human_median is not None:
        return spec.chat_human_median.total_seconds()
    return DEFAULT_HUMAN_MEDIAN


def chat_variant(target: Target) -> SandboxChat:
    """How the company's chat widget behaves (``live`` when the target sets nothing)."""
    return target.sandbox.chat if target.sandbox is not None else "live"


def page_language(accept_language: str | None) -> Lang:
    """``de`` when the browser prefers German, else ``en``."""
    first = (accept_language or "").split(",")[0].strip().lower()
    return "de" if first.startswith("de") else "en"


@dataclass(frozen=True)
class AgentPlan:
    """Who answers one conversation, with which words, and after how many real seconds."""

    agent: str
    answer: str
    delay: float


def plan_agent(target: Target, seed: int, conversation_index: int, time_scale: float) -> AgentPlan:
    """The agent of a company's n-th conversation: deterministic for the seed, company and n."""
    rng = random.Random(f"replybench-chat:{seed}:{target.id}:{conversation_index}")
    z = rng.gauss(0.0, 1.0)
    agent = rng.choice(AGENTS)
    answer = rng.choice(_ANSWERS)
    delay = human_median(target) * math.exp(HUMAN_SIGMA * z) / time_scale
    return AgentPlan(agent, answer, delay)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("replybench.sandbox", "pages"),
        autoescape=jinja2.select_autoescape(["html"], default=True),
        undefined=jinja2.StrictUndefined,
    )


class _Conversation:
    """One WebSocket conversation with a company's widget."""

    def __init__(self, sandbox: Sandbox, target: Target, ws: WebSocket, index: int, lang: Lang) -> None:
        self.sandbox = sandbox
        self.target = target
        self.ws = ws
        self.lang = lang
        self.id = f"{target.id}-{index}-{secrets.token_hex(4)}"
        self.plan = plan_agent(target, sandbox.seed, index, sandbox.time_scale)
        self.variant = chat_variant(target)
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._seq = 0
        self._visitor_messages = 0
        self._agent_joined = False

    def _record(self, kind: Literal["chat_opened", "chat_message", "chat_offline"], **fields: Any) -> None:
        self.sandbox.truth.record_web(
            WebRecord(kind=kind, company_id=self.target.id, conversation=self.id, **fields)
        )

    def online(self) -> bool:
        """Whether a conversation opened now is a live chat (else: the "leave a message" form)."""
        if self.variant == "offline":
            return False
        if self.variant == "business_hours":
            return BusinessClock.for_target(self.target).is_open(utcnow())
        return True

    async def _write(self, payload: dict[str, Any]) -> None:
        await self.ws.send_text(json.dumps(payload, ensure_ascii=False))

    async def say(self, author: str, name: str | None, text: str) -> None:
        """Write one company-side message and record when it went onto the socket."""
        async with self._lock:
            self._seq += 1
            seq = self._seq
            avatar = avatar_url(name) if name else None
            payload = {
                "type": "message",
                "id": seq,
                "author": author,
                "name": name,
                "avatar": avatar,
                "text": text,
            }
            at = utcnow()
            await self._write(payload)
        self._record("chat_message", at=at, author=author, text=text, detail={"name": name, "seq": seq})

    async def _later(self, delay: float, action: Callable[[], Awaitable[None]]) -> None:
        await asyncio.sleep(max(0.0, delay))
        # The visitor may have left before the company spoke.
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await action()

    def _schedule(self, delay: float, action: Callable[[], Awaitable[None]]) -> None:
        task = asyncio.get_running_loop().create_task(self._later(delay, action))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _agent_answers(self, text: str) -> None:
        if not self._agent_joined:
            self._agent_joined = True
            async with self._lock:
                await self._write(
                    {"type": "agent", "name": self.plan.agent, "avatar": avatar_url(self.plan.agent)}
                )
            await self.say("system", None, TEXTS[self.lang]["joined"].format(agent=self.plan.agent))
        await self.say("agent", self.plan.agent, text)

    async def _on_visitor(self, data: Mapping[str, Any]) -> None:
        received = utcnow()
        text = str(data.get("text", ""))[:10_000]
        client_id = str(data.get("client_id", ""))[:100]
        self._record(
            "chat_message", at=received, author="visitor", text=text, detail={"client_id": client_id}
        )
        async with self._lock:
            self._seq += 1
            await self._write({"type": "ack", "client_id": client_id, "id": self._seq})
        self._visitor_messages += 1
        if self.variant == "silent":
            return
        words = TEXTS[self.lang]
        if self._visitor_messages == 1:
            self._schedule(CONNECTING_DELAY, lambda: self.say("bot", BOT_NAME, words["handoff"]))
            if self.variant != "bot_only":
                first = self.plan.answer
                greeting = f"Hi, this is {self.plan.agent.split()[0]} from {self.target.name}. {first}"
                delay = max(self.plan.delay, CONNECTING_DELAY + _AGENT_AFTER_BOT)
                self._schedule(delay, lambda: self._agent_answers(greeting))
        elif self.variant != "bot_only":
            follow_up = _FOLLOW_UPS[self._visitor_messages % len(_FOLLOW_UPS)]
            self._schedule(self.plan.delay * _FOLLOW_UP_FACTOR, lambda: self._agent_answers(follow_up))

    async def run(self) -> None:
        """Serve the conversation until the visitor leaves."""
        online = self.online()
        mode = "online" if online else "offline"
        self._record("chat_opened", at=utcnow(), detail={"mode": mode, "variant": self.variant})
        async with self._lock:
            await self._write({"type": "mode", "mode": mode, "conversation": self.id})
        if not online:
            self._record("chat_offline", at=utcnow(), detail={"event": "shown"})
        elif self.variant != "silent":
            greeting = TEXTS[self.lang]["greeting"].format(bot=BOT_NAME, company=self.target.name)
            self._schedule(GREETING_DELAY, lambda: self.say("bot", BOT_NAME, greeting))
        try:
            while True:
                message = await self.ws.receive_text()
                try:
                    data = json.loads(message)
                except json.JSONDecodeError:
                    continue
                if online and isinstance(data, dict) and data.get("type") == "message":
                    await self._on_visitor(data)
        except WebSocketDisconnect:
            pass
        finally:
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)


def routes(sandbox: Sandbox) -> list[BaseRoute]:
    """The chat routes of every sandbox company (pages of companies without a chat endpoint are 404)."""
    env = _environment()
    script = resources.files("replybench.sandbox").joinpath("pages").joinpath("chat_widget.js").read_bytes()
    counters: dict[str, int] = {}

    def company(company_id: str) -> Target | None:
        desk = sandbox.desks.get(company_id)
        if desk is None or desk.company.endpoints.chat is None:
            return None
        return desk.company

    def render(request: Request, template: str, **extra: Any) -> Response:
        target = company(request.path_params["company_id"])
        if target is None:
            return HTMLResponse(
                "<!doctype html><title>Not found</title><p>No such page.</p>", status_code=404
            )
        lang = page_language(request.headers.get("accept-language"))
        base = f"/{target.id}/chat"
        html = env.get_template(template).render(
            company=target,
            lang=lang,
            t=TEXTS[lang],
            base=base,
            bot_avatar=avatar_url(BOT_NAME),
            bot_name=BOT_NAME,
            **extra,
        )
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    async def page(request: Request) -> Response:
        return render(request, "chat.html", embed=False)

    async def embed(request: Request) -> Response:
        return render(request, "chat.html", embed=True)

    async def widget(request: Request) -> Response:
        return render(request, "chat_frame.html")

    async def widget_js(request: Request) -> Response:
        if company(request.path_params["company_id"]) is None:
            return Response("not found", status_code=404)
        return Response(script, media_type="text/javascript", headers={"Cache-Control": "no-store"})

    async def socket(ws: WebSocket) -> None:
        target = company(ws.path_params["company_id"])
        if target is None:
            await ws.close(code=4404)
            return
        await ws.accept()
        index = counters.get(target.id, 0)
        counters[target.id] = index + 1
        lang: Lang = "de" if ws.query_params.get("lang", "").lower().startswith("de") else "en"
        await _Conversation(sandbox, target, ws, index, lang).run()

    async def offline(request: Request) -> Response:
        target = company(request.path_params["company_id"])
        if target is None:
            return JSONResponse({"ok": False, "error": "not found"}, status_code=404)
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return JSONResponse({"ok": False, "errors": {"form": "expected JSON"}}, status_code=400)
        if not isinstance(data, dict):
            return JSONResponse({"ok": False, "errors": {"form": "expected an object"}}, status_code=400)
        name, email, message = (str(data.get(k, "")).strip() for k in ("name", "email", "message"))
        errors = {
            key: "required" if not value else "invalid"
            for key, value, valid in (
                ("name", name, bool(name)),
                ("email", email, "@" in email and "." in email.rsplit("@", 1)[-1]),
                ("message", message, bool(message)),
            )
            if not valid
        }
        if errors:
            return JSONResponse({"ok": False, "errors": errors}, status_code=422)
        queue_id = sandbox.submit_inquiry(
            target.id,
            name=name,
            email=email,
            subject=f"Chat message from {name}",
            body=message,
            source="chat-offline",
        )
        sandbox.truth.record_web(
            WebRecord(
                kind="chat_offline",
                company_id=target.id,
                at=utcnow(),
                author="visitor",
                text=message,
                detail={"event": "submitted", "name": name, "email": email, "queue_id": queue_id},
            )
        )
        return JSONResponse({"ok": True})

    return [
        Route("/{company_id}/chat", page),
        Route("/{company_id}/chat/embed", embed),
        Route("/{company_id}/chat/widget", widget),
        Route("/{company_id}/chat/widget.js", widget_js),
        Route("/{company_id}/chat/offline", offline, methods=["POST"]),
        WebSocketRoute("/{company_id}/chat/ws", socket),
    ]


__all__ = [
    "BOT_NAME",
    "DEFAULT_HUMAN_MEDIAN",
    "TEXTS",
    "AgentPlan",
    "avatar_url",
    "chat_variant",
    "human_median",
    "page_language",
    "plan_agent",
    "routes",
]
