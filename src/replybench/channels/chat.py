"""The live-chat channel: ask a company's chat widget in a real browser, then watch the conversation.

Each probe gets a fresh browser context (the persona's locale and time zone) from the shared
:class:`~replybench.browser.BrowserPool`. Before any page script runs, an init script installs a
MutationObserver (``chat_observer.js``; no polling) that reports every new message of the widget's log
(``[role=log]`` unless the endpoint names another), stamped with the page's high-resolution clock
(``performance.timeOrigin + performance.now()``) when the observer saw it, with the author the markup gives
(``data-author``, ``data-sender``, classes like ``from-bot``), name, avatar and text, and every change of a
message's delivery status (``data-status``).

:meth:`ChatChannel.send` opens the widget (the endpoint's selectors, else the ``generic`` preset: a button
named "chat", the log, a textarea, a send button or Enter), types the inquiry, presses send and waits until
the message shows as delivered; ``sent_at`` is that moment on the page's clock (:data:`CHAT_CLOCK`). A
"leave a message" form instead of a chat (the endpoint's ``offline`` selector, or a form with an email field
and offline wording in several languages) is filled with the persona's reply address and submitted; the
answer then comes by email, so the probe keeps the suite's wait.

After ``send`` returns, the session keeps watching in the background and pushes every message — ours
included — to the sink as a :class:`~replybench.channels.chatlog.ChatMessage`, until ``after_human`` past the
first answer from a person, or ``wait`` past the inquiry, or :meth:`ChatChannel.aclose`. ``page_opened_at``
of the messages is the moment the widget was opened (the launcher clicked; the page's navigation start when
the widget was open already), which is what an "instant greeting" is measured from.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

from replybench.browser import BrowserPool
from replybench.channels.base import (
    ChannelDescription,
    InboundItem,
    InboundSink,
    OutboundProbe,
    SendReceipt,
)
from replybench.channels.chatlog import CHAT_CLOCK, ChatAuthor, ChatMessage
from replybench.classify.chat import classify_chat
from replybench.errors import SendFailed, SendOutcomeError, SendUncertain
from replybench.models import ChatEndpoint, MessageClass, Target
from replybench.timefmt import iso_ms

if TYPE_CHECKING:
    from playwright.async_api import Frame, Locator, Page

__all__ = ["BINDING", "GENERIC", "ChatChannel"]

log = logging.getLogger(__name__)

#: The name of the function the page's observer reports to (exposed with ``page.expose_binding``).
BINDING = "__replybenchChatReport"


@dataclass(frozen=True)
class Preset:
    """CSS selectors of a chat widget's parts; ``launcher``/``send`` of None mean "find it by its name"."""

    log: str
    input: str
    offline: str
    item: str = "[data-author], [data-sender], [data-from]"
    text: str = "[data-role=text], [data-message-text], .msg-text, .message-text, .message-body, .text, p"
    name: str = "[data-name], .author-name, .sender-name, .author, .sender, .name"
    avatar: str = "img"
    agent_name: str = "[data-agent-name], .agent-name, .operator-name"
    agent_avatar: str = "[data-agent-avatar], img.agent-avatar, .agent-avatar img, .operator-avatar img"


_IN_EMAIL_FORM = ":is(form:has(input[type=email]) *)"

#: The ``generic`` preset: ARIA roles and plain form controls, nothing vendor-specific.
GENERIC = Preset(
    log="[role=log]",
    input=", ".join(
        f"{control}:not({_IN_EMAIL_FORM})"
        for control in (
            "textarea",
            "[contenteditable=true]",
            "[contenteditable='']",
            "input[placeholder*=message i]",
            "input[aria-label*=message i]",
        )
    ),
    offline="form:has(input[type=email]):has(textarea)",
)

_LAUNCHER_NAME = re.compile(r"chat|talk to us|message us|live (?:help|support)", re.IGNORECASE)
_SEND_NAME = re.compile(
    r"^\W*(?:send|senden|absenden|envoyer|enviar|invia|inviare|verzenden|verstuur)\b", re.I
)
_OFFLINE_WORDS = re.compile(
    r"leave (?:us )?a message|offline|not available right now|outside (?:of )?(?:our )?(?:business|opening) hours"
    r"|nachricht hinterlassen|au[sß]erhalb (?:unserer )?(?:öffnungs|geschäfts)zeiten|laissez-nous un message"
    r"|hors ligne|d[eé]j(?:a|enos) un mensaje|fuera de l[ií]nea|lascia(?:ci)? un messaggio"
    r"|laat een bericht achter",
    re.IGNORECASE,
)
_THANKS_WORDS = re.compile(
    r"thank|we(?:'ll| will) get back|received your message|danke|merci|gracias|grazie|bedankt", re.I
)
#: Run in the page before a "leave a message" form is submitted: a promise (``window.__replybenchOffline``)
#: that resolves when the form closes or a new thank-you text shows outside it, or to null after 60 s.
_CONFIRMATION_JS = """([form, pattern]) => {
  const words = new RegExp(pattern, "i");
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const thanks = () => {
    const found = [];
    for (const el of document.body.querySelectorAll("*")) {
      if (form.contains(el) || el.contains(form) || el.children.length) continue;
      if (words.test(el.textContent || "") && visible(el)) found.push(el);
    }
    return found;
  };
  const before = new Set(thanks());
  const check = () => {
    if (!form.isConnected || !visible(form)) return "the form closed";
    const fresh = thanks().find((el) => !before.has(el));
    return fresh ? fresh.textContent.trim().slice(0, 200) : null;
  };
  window.__replybenchOffline = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      const result = check();
      if (result) { observer.disconnect(); resolve(result); }
    });
    observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
    setTimeout(() => { observer.disconnect(); resolve(check()); }, 60000);
  });
}"""
_NAME_FIELD = "input[autocomplete=name], input[name*=name i], input[id*=name i], input[aria-label*=name i]"
_EMAIL_FIELD = "input[type=email], input[autocomplete=email], input[name*=mail i]"
_SUBJECT_FIELD = "input[name*=subject i], input[id*=subject i]"
_SUBMIT = "button[type=submit], input[type=submit], button:not([type])"

_DELIVERED = frozenset({"", "sent", "delivered", "received", "read", "seen"})
_FAILED = frozenset({"failed", "error", "undelivered"})
_AUTHORS: frozenset[str] = frozenset({"visitor", "bot", "agent", "system", "unknown"})

#: How long a send waits for :meth:`ChatChannel.listen` to hand over the sink.
_SINK_WAIT_S = 5.0
#: Before typing, wait until the widget has said nothing for this long (its greeting comes first, as a person
#: reading it would let it), but never longer than the second figure.
_QUIET_S = 0.8
_SETTLE_MAX_S = 4.0
#: After a session ends, how long reports already on their way are still taken in.
_DRAIN_S = 0.5


def _observer_script(preset: Preset, log_selector: str) -> str:
    source = resources.files("replybench.channels").joinpath("chat_observer.js").read_text(encoding="utf-8")
    config = {
        "binding": BINDING,
        "log": log_selector,
        "item": preset.item,
        "text": preset.text,
        "name": preset.name,
        "avatar": preset.avatar,
        "agentName": preset.agent_name,
        "agentAvatar": preset.agent_avatar,
    }
    return source.replace("__CONFIG__", json.dumps(config))


def _page_time(ms: float) -> datetime:
    """A page timestamp (milliseconds since the epoch, ``performance.timeOrigin + now()``) as UTC."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _is_ours(rendered: str, body: str) -> bool:
    """Whether a rendered message is our inquiry (widgets may trim, reflow or shorten it)."""
    a, b = _squash(rendered), _squash(body)
    return a == b or (len(a) >= 12 and (a in b or b in a))


@dataclass
class _Seen:
    """One message the observer reported."""

    key: int
    author: ChatAuthor
    text: str
    at: datetime
    name: str | None
    avatar: str | None
    status: str


@dataclass(eq=False)
class _Session:
    """One probe's chat: the page, what it reported, and where the send stands."""

    probe: OutboundProbe
    endpoint: ChatEndpoint
    url: str
    sink: InboundSink
    receipt: asyncio.Future[SendReceipt]
    reports: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    page: Page | None = None
    opened_at: datetime | None = None
    pressed: bool = False
    settled: bool = False
    own: _Seen | None = None
    inquiry_at: datetime | None = None
    delivered: asyncio.Event = field(default_factory=asyncio.Event)
    undelivered: str | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    human_deadline: float | None = None
    seq: int = 0
    by_key: dict[int, _Seen] = field(default_factory=dict)
    pending: list[_Seen] = field(default_factory=list)
    earlier: list[tuple[str, str | None, str]] = field(default_factory=list)
    stop_reason: str | None = None
    last_report: float = 0.0
    reported: asyncio.Event = field(default_factory=asyncio.Event)

    # ------------------------------------------------------------------------------------------- reports

    def on_report(self, source: dict[str, Any], payload: Any) -> None:
        """The page's observer calls this (through the exposed binding) for every message and status change."""
        frame = source.get("frame")
        page = self.page
        in_main = page is not None and frame is page.main_frame
        if isinstance(payload, dict) and in_main == (self.endpoint.frame is None):
            self.reports.put_nowait(payload)
            self.last_report = asyncio.get_running_loop().time()
            self.reported.set()

    async def quiet(self, quiet_s: float, limit_s: float) -> None:
        """Wait until nothing was reported for ``quiet_s`` (at most ``limit_s`` in all)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + limit_s
        self.last_report = max(self.last_report, loop.time())
        while (now := loop.time()) < give_up:
            remaining = min(self.last_report + quiet_s, give_up) - now
            if remaining <= 0:
                return
            self.reported.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.reported.wait(), remaining)

    async def consume(self) -> None:
        """Turn reports into chat messages, in the order the page saw them."""
        while True:
            payload = await self.reports.get()
            try:
                await self._handle(payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("chat session of probe %s could not handle a report", self.probe.probe_id)
                self.stop_reason = self.stop_reason or "sink error"
                self.changed.set()
            finally:
                self.reports.task_done()

    async def _handle(self, payload: dict[str, Any]) -> None:
        kind = payload.get("kind")
        at = _page_time(float(payload.get("at", 0.0)))
        if kind == "message":
            author = str(payload.get("author", "unknown"))
            text = str(payload.get("text", ""))
            company_side = author in ("bot", "agent", "unknown")
            seen = _Seen(
                key=int(payload.get("key", -1)),
                author=author if author in _AUTHORS else "unknown",  # type: ignore[arg-type]
                text=text,
                at=at,
                name=payload.get("name") or (payload.get("agent_name") if company_side else None),
                avatar=payload.get("avatar") or (payload.get("agent_avatar") if company_side else None),
                status=str(payload.get("status", "")),
            )
            if self.pressed and self.own is None:
                if seen.author == "unknown" and _is_ours(text, self.probe.body):
                    seen.author = "visitor"
                if seen.author == "visitor":
                    self.own = seen
            self.by_key[seen.key] = seen
            if self.settled:
                await self._emit(seen)
            else:
                self.pending.append(seen)
                if seen is self.own:
                    await self._status(seen, seen.status, at)
        elif kind == "status":
            found = self.by_key.get(int(payload.get("key", -1)))
            if found is not None:
                found.status = str(payload.get("status", ""))
                if found is self.own and not self.settled:
                    await self._status(found, found.status, at)

    async def _status(self, own: _Seen, status: str, at: datetime) -> None:
        if status in _DELIVERED:
            self.inquiry_at = at
            self.delivered.set()
            await self.settle()
        elif status in _FAILED:
            self.undelivered = status
            self.delivered.set()

    async def settle(self) -> None:
        """The inquiry is resolved (delivered, or given up on): push what was held back, then stream."""
        if self.settled:
            return
        self.settled = True
        held, self.pending = self.pending, []
        for seen in held:
            await self._emit(seen)

    async def _emit(self, seen: _Seen) -> None:
        message = ChatMessage(
            probe_id=self.probe.probe_id,
            token=self.probe.token,
            seq=self.seq,
            author=seen.author,
            text=seen.text,
            at=seen.at,
            page_opened_at=self.opened_at or seen.at,
            inquiry_at=self.inquiry_at,
            name=seen.name,
            avatar=seen.avatar,
            url=self.page.url if self.page is not None else self.url,
            earlier=tuple(self.earlier),
        )
        self.seq += 1
        await self.sink(
            InboundItem(
                channel="chat",
                raw=message.to_json(),
                received_at=message.at,
                clock=CHAT_CLOCK,
                source=f"chat:{self.probe.probe_id}",
            )
        )
        if seen.author == "visitor":
            return
        self.earlier.append((seen.author, seen.name, seen.text))
        verdict = classify_chat(message)
        person = verdict.cls is MessageClass.HUMAN or (
            verdict.cls is MessageClass.DEFLECTION and seen.author == "agent"
        )
        if person and not message.before_inquiry and self.human_deadline is None:
            loop = asyncio.get_running_loop()
            self.human_deadline = loop.time() + self.endpoint.after_human.total_seconds()
            self.changed.set()


class ChatChannel:
    """Live chat in a real browser: one browser context per probe, watched for ``wait`` after the inquiry.

    ``sessions`` bounds the chats open at once (each holds a browser context while it watches);
    :meth:`ready` is false while all are busy. ``url_for`` gives the chat page of a target (default: its
    chat endpoint's ``url``; the sandbox passes its own server's). ``screenshots`` adds ``chat.png`` to
    every send's artifacts.
    """

    name = "chat"

    def __init__(
        self,
        pool: BrowserPool,
        *,
        sessions: int = 2,
        url_for: Callable[[Target], str] | None = None,
        screenshots: bool = True,
    ) -> None:
        if sessions < 1:
            raise ValueError(f"a chat channel needs at least one session, got {sessions}")
        self.pool = pool
        self.sessions = sessions
        self.url_for = url_for
        self.screenshots = screenshots
        self._sink: InboundSink | None = None
        self._sink_ready = asyncio.Event()
        self._active: set[_Session] = set()
        self._closed = False

    # ------------------------------------------------------------------------------------------- protocol

    def describe(self) -> ChannelDescription:
        """Capabilities: a browser, ``sessions`` chats at once, listening on the page itself."""
        return ChannelDescription(
            name=self.name,
            needs_browser=True,
            concurrency=self.sessions,
            listens_with="the chat page (MutationObserver)",
            notes="each chat is watched in its own browser context until its wait ends",
        )

    @property
    def active(self) -> int:
        """Chat sessions open right now (sending or watching)."""
        return len(self._active)

    def ready(self) -> bool:
        """True while a chat session and a browser context are free."""
        return not self._closed and len(self._active) < self.sessions and self.pool.in_use < self.pool.size

    async def listen(self, sink: InboundSink) -> None:
        """Hand the sink to the chat sessions (they push into it), then wait until cancelled."""
        self._sink = sink
        self._sink_ready.set()
        await asyncio.Event().wait()

    async def aclose(self) -> None:
        """End every chat session (their browser contexts are closed)."""
        self._closed = True
        tasks = [s.task for s in self._active if s.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def send(self, probe: OutboundProbe) -> SendReceipt:
        """Ask the inquiry in the target's chat widget (see the module docstring).

        Returns once the inquiry shows as delivered, or once a "leave a message" form took it; the session
        then keeps watching in the background.
        """
        if self._closed:
            raise SendFailed("the chat channel is closed")
        endpoint, url = self._endpoint(probe.target)
        if len(self._active) >= self.sessions:
            raise SendFailed(f"all {self.sessions} chat sessions are busy (check ready() before sending)")
        if self._sink is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sink_ready.wait(), _SINK_WAIT_S)
        sink = self._sink
        if sink is None:
            raise SendFailed("the chat channel is not listening: start listen() before sending")
        loop = asyncio.get_running_loop()
        session = _Session(probe, endpoint, url, sink, loop.create_future())
        self._active.add(session)
        session.task = loop.create_task(self._run(session), name=f"chat:{probe.probe_id}")
        session.task.add_done_callback(lambda _t: self._active.discard(session))
        session.receipt.add_done_callback(lambda f: f.cancelled() or f.exception())
        try:
            return await asyncio.shield(session.receipt)
        except asyncio.CancelledError:
            if not session.receipt.done():
                session.task.cancel()
            raise

    def _endpoint(self, target: Target) -> tuple[ChatEndpoint, str]:
        endpoint = target.endpoints.chat
        if self.url_for is not None:
            url = self.url_for(target)
            return (endpoint or ChatEndpoint(url=url)), url
        if endpoint is None:
            raise SendFailed(f"target {target.id!r} has no chat endpoint")
        return endpoint, endpoint.url

    # ------------------------------------------------------------------------------------------- a session

    async def _run(self, session: _Session) -> None:
        probe = session.probe
        consumer: asyncio.Task[None] | None = None
        try:
            async with self.pool.context(
                locale=probe.persona.browser_locale, timezone=probe.persona.timezone
            ) as ctx:
                page = await ctx.new_page()
                session.page = page
                consumer = asyncio.get_running_loop().create_task(session.consume())
                try:
                    receipt = await self._send(session, page)
                except SendOutcomeError as exc:
                    await self._drain(session)
                    await session.settle()
                    if self.screenshots:
                        exc.artifacts.setdefault("chat.png", await self._shot(page))
                    session.receipt.set_exception(exc)
                    return
                session.receipt.set_result(receipt)
                if not receipt.evidence.get("chat_offline"):
                    await self._watch(session)
                    await self._drain(session)
        except asyncio.CancelledError:
            self._fail(session, "the chat session was cancelled")
            raise
        except Exception as exc:
            log.exception("chat session of probe %s failed", probe.probe_id)
            self._fail(session, f"{type(exc).__name__}: {exc}")
        finally:
            if consumer is not None:
                consumer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await consumer
            log.debug("chat session of probe %s ended: %s", probe.probe_id, session.stop_reason)

    @staticmethod
    def _fail(session: _Session, reason: str) -> None:
        if session.receipt.done():
            return
        error = SendUncertain if session.pressed else SendFailed
        session.receipt.set_exception(
            error(reason, evidence={"url": session.url, "pressed": session.pressed})
        )

    @staticmethod
    async def _drain(session: _Session) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(session.reports.join(), _DRAIN_S)

    async def _shot(self, page: Page) -> bytes:
        with contextlib.suppress(Exception):
            return await page.screenshot(type="png", timeout=5_000)
        return b""

    async def _now(self, frame: Frame) -> datetime:
        return _page_time(float(await frame.evaluate("performance.timeOrigin + performance.now()")))

    async def _send(self, session: _Session, page: Page) -> SendReceipt:
        """Open the widget and ask; raises SendFailed before the inquiry was typed, SendUncertain after."""
        endpoint, probe = session.endpoint, session.probe
        timeout_ms = endpoint.timeout.total_seconds() * 1000
        page.set_default_timeout(timeout_ms)
        preset = GENERIC
        log_selector = endpoint.log or preset.log
        evidence: dict[str, Any] = {
            "url": session.url,
            "preset": endpoint.preset,
            "chat_offline": False,
            "selectors": {"log": log_selector, "frame": endpoint.frame},
        }
        try:
            await page.expose_binding(BINDING, session.on_report)
            await page.add_init_script(_observer_script(preset, log_selector))
            response = await page.goto(session.url, wait_until="load")
            if response is not None and response.status >= 400:
                raise SendFailed(f"the chat page answered HTTP {response.status}", evidence=evidence)
            frame = await self._widget_frame(page, endpoint)
            input_box = frame.locator(endpoint.input or preset.input).filter(visible=True).first
            offline = self._offline_locator(frame, endpoint)
            evidence["selectors"] |= {
                "input": endpoint.input or "generic",
                "offline": endpoint.offline or "generic",
            }
            evidence["selectors"]["launcher"] = await self._open_widget(session, frame, input_box, offline)
            await input_box.or_(offline).first.wait_for(state="visible")
            evidence["url"] = page.url
            evidence["page_opened_at"] = iso_ms(session.opened_at)
            if await offline.is_visible():
                return await self._leave_message(session, page, frame, offline, evidence)
            await session.quiet(_QUIET_S, _SETTLE_MAX_S)
            await input_box.fill(probe.body)
        except SendOutcomeError:
            raise
        except Exception as exc:
            raise SendFailed(f"could not open the chat: {_short(exc)}", evidence=evidence) from exc

        try:
            button = await self._send_button(frame, input_box, endpoint)
            session.pressed = True
            if button is None:
                evidence["selectors"]["send"] = "Enter"
                await input_box.press("Enter")
            else:
                evidence["selectors"]["send"] = endpoint.send or "generic"
                await button.click()
        except Exception as exc:
            raise SendUncertain(f"pressing send failed: {_short(exc)}", evidence=evidence) from exc

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(session.delivered.wait(), endpoint.timeout.total_seconds())
        if session.inquiry_at is None:
            seen = session.own
            what = (
                f"the widget marked it {session.undelivered!r}"
                if session.undelivered
                else "it never showed as delivered"
                if seen is not None
                else "it never appeared in the chat log"
            )
            evidence["own_message_status"] = seen.status if seen is not None else None
            raise SendUncertain(f"sent the inquiry, but {what}", evidence=evidence)
        assert session.own is not None
        evidence["delivered_status"] = session.own.status or "(none)"
        evidence["before_inquiry"] = [
            {"author": s.author, "name": s.name, "text": s.text[:200]}
            for s in session.by_key.values()
            if s is not session.own and s.at < session.inquiry_at
        ]
        artifacts = {"chat.png": await self._shot(page)} if self.screenshots else {}
        return SendReceipt(
            sent_at=session.inquiry_at,
            clock=CHAT_CLOCK,
            evidence=evidence,
            artifacts=artifacts,
            horizon=endpoint.wait,
        )

    @staticmethod
    async def _widget_frame(page: Page, endpoint: ChatEndpoint) -> Frame:
        if endpoint.frame is None:
            return page.main_frame
        handle = await page.wait_for_selector(endpoint.frame, state="attached")
        frame = await handle.content_frame() if handle is not None else None
        if frame is None:
            raise SendFailed(f"{endpoint.frame!r} is not a frame")
        await frame.wait_for_load_state("load")
        return frame

    @staticmethod
    def _offline_locator(frame: Frame, endpoint: ChatEndpoint) -> Locator:
        if endpoint.offline:
            return frame.locator(endpoint.offline).filter(visible=True).first
        return frame.locator(GENERIC.offline).filter(has_text=_OFFLINE_WORDS, visible=True).first

    async def _open_widget(
        self, session: _Session, frame: Frame, input_box: Locator, offline: Locator
    ) -> str:
        """Click the launcher unless the widget is open already; returns what was clicked."""
        if await input_box.is_visible() or await offline.is_visible():
            session.opened_at = _page_time(float(await frame.evaluate("performance.timeOrigin")))
            return "(open already)"
        endpoint = session.endpoint
        if endpoint.launcher:
            launcher = frame.locator(endpoint.launcher).first
        else:
            launcher = (
                frame.get_by_role("button", name=_LAUNCHER_NAME)
                .or_(frame.locator("[aria-label*=chat i], [title*=chat i]"))
                .first
            )
        await launcher.wait_for(state="visible")
        session.opened_at = await self._now(frame)
        await launcher.click()
        return endpoint.launcher or "generic"

    @staticmethod
    async def _send_button(frame: Frame, input_box: Locator, endpoint: ChatEndpoint) -> Locator | None:
        if endpoint.send:
            return frame.locator(endpoint.send).first
        in_form = input_box.locator("xpath=ancestor::form[1]").locator(_SUBMIT).first
        if await in_form.count() and await in_form.is_visible():
            return in_form
        named = frame.get_by_role("button", name=_SEND_NAME).first
        if await named.count() and await named.is_visible():
            return named
        return None

    async def _leave_message(
        self, session: _Session, page: Page, frame: Frame, form: Locator, evidence: dict[str, Any]
    ) -> SendReceipt:
        """Fill and submit the "leave a message" form; the company answers the reply address by email."""
        probe = session.probe
        evidence["chat_offline"] = True
        filled = await _autofill(frame, probe)
        evidence["offline_fill"] = "formfill"
        if not {"email", "message"} <= filled:
            # The form filler did not find both: fill the few fields such a form has by their usual names.
            evidence["offline_fill"] = "minimal"
            for role, selector, value in (
                ("name", _NAME_FIELD, probe.persona.display_name),
                ("email", _EMAIL_FIELD, probe.reply_address),
                ("subject", _SUBJECT_FIELD, probe.subject),
                ("message", "textarea", probe.body),
            ):
                box = form.locator(selector).first
                if await _visible(box):
                    await box.fill(value)
                    filled.add(role)
        evidence["offline_fields"] = sorted(filled)
        if "email" not in filled or "message" not in filled:
            raise SendFailed("the 'leave a message' form has no email or message field", evidence=evidence)
        submit = form.locator(_SUBMIT).first
        handle = await form.element_handle()
        await frame.evaluate(_CONFIRMATION_JS, [handle, _THANKS_WORDS.pattern])
        try:
            session.pressed = True
            await submit.click()
        except Exception as exc:
            raise SendUncertain(
                f"submitting the 'leave a message' form failed: {_short(exc)}", evidence=evidence
            ) from exc
        timeout_s = session.endpoint.timeout.total_seconds()
        try:
            confirmation = await asyncio.wait_for(frame.evaluate("window.__replybenchOffline"), timeout_s)
        except Exception as exc:  # a classic form post navigates away: read the page it led to
            with contextlib.suppress(Exception):
                await frame.wait_for_load_state("load")
            thanks = frame.get_by_text(_THANKS_WORDS).first
            confirmation = "page after posting" if await _visible(thanks) else None
            if confirmation is None:
                raise SendUncertain(
                    f"submitted the 'leave a message' form but saw no confirmation: {_short(exc)}",
                    evidence=evidence,
                ) from exc
        if not confirmation:
            raise SendUncertain(
                "submitted the 'leave a message' form but saw no confirmation", evidence=evidence
            )
        evidence["confirmation"] = confirmation
        sent_at = await self._now(frame)
        evidence["url"] = page.url
        artifacts = {"chat.png": await self._shot(page)} if self.screenshots else {}
        session.stop_reason = "left a message"
        return SendReceipt(sent_at=sent_at, clock=CHAT_CLOCK, evidence=evidence, artifacts=artifacts)

    async def _watch(self, session: _Session) -> None:
        """Keep observing until ``after_human`` past a person's answer, the ``wait`` limit, or a closed page."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + session.endpoint.wait.total_seconds()
        page = session.page
        if page is not None:
            page.on("close", lambda _p: session.changed.set())
            page.on("crash", lambda _p: session.changed.set())
        while session.stop_reason is None:
            if page is not None and page.is_closed():
                session.stop_reason = "page closed"
                break
            end = deadline if session.human_deadline is None else min(deadline, session.human_deadline)
            remaining = end - loop.time()
            if remaining <= 0:
                session.stop_reason = "wait limit" if end == deadline else "after a person answered"
                break
            session.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(session.changed.wait(), remaining)


async def _autofill(frame: Frame, probe: OutboundProbe) -> set[str]:
    """Fill a "leave a message" form with the web-form channel's filler; returns the roles it filled."""
    from replybench.channels.formfill import FormValues, autofill

    try:
        report = await autofill(frame, FormValues.for_probe(probe))
    except Exception as exc:  # FormFillError, or a page that changed under it: fall back to a plain fill
        log.info("the form filler could not fill the 'leave a message' form: %s", _short(exc))
        return set()
    return {role for role, selectors in report.roles.items() if selectors}


async def _visible(locator: Locator) -> bool:
    with contextlib.suppress(Exception):
        return await locator.count() > 0 and await locator.is_visible()
    return False


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]
