"""The web-form channel: fill a company's contact form in a real headless Chromium and submit it once.

Each probe gets a fresh browser context (the persona's locale and time zone, no cookies from other probes).
The page is loaded, checked for barriers (a CAPTCHA, a login wall → :class:`SendBlocked`), filled — explicit
selectors where the target gives them, the rest recognised automatically, bot traps left empty — step by
step for multi-step forms, and checked against the browser's own validation before anything is clicked.

The click on the submit button is the at-most-once point. Before it, every failure is
:class:`SendFailed` (certainly not sent). After it, only proof decides: a confirmation (the target's
``success_text``/``success_url``, else a new thank-you wording in several languages or a thank-you URL) is a
receipt whose ``sent_at`` is the moment it was seen (clock ``form-confirmation``); a 4xx answer or an error
message with nothing sent is :class:`SendFailed`; a CAPTCHA or login wall appearing is :class:`SendBlocked`;
anything else — a 5xx, no confirmation within the endpoint's ``timeout`` of the click, a page that says
nothing — is :class:`SendUncertain` and never retried.

Replies come by email to the persona's per-probe address typed into the form, so this channel listens to
nothing itself: the email listeners match and time them by the token in that address.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from replybench.channels.base import ChannelDescription, InboundSink, OutboundProbe, SendReceipt
from replybench.channels.formfill import (
    Blocker,
    FillReport,
    FormFillError,
    FormValues,
    Scan,
    assign_roles,
    autofill,
    choose_form,
    find_blocker,
    find_next,
    find_submit,
    invalid_fields,
    scan_page,
)
from replybench.errors import SendBlocked, SendFailed, SendOutcomeError, SendUncertain
from replybench.models import FormEndpoint, FormFields, Target
from replybench.timefmt import iso_ms, utcnow

if TYPE_CHECKING:
    from playwright.async_api import Frame, Page, Request, Response

    from replybench.browser import BrowserPool

log = logging.getLogger(__name__)

#: The clock that dates a probe sent through a web form: the moment the confirmation was seen.
SEND_CLOCK = "form-confirmation"
#: At most this many "next" steps are followed before the submit button must show.
MAX_STEPS = 8
#: How often the page is looked at after the click.
POLL_INTERVAL = 0.05
#: The least time a page gets to load, whatever the endpoint's ``timeout`` (which bounds the confirmation).
LOAD_FLOOR = 15.0
#: How long to wait for the page's "load" event once its document is in (slow third-party resources).
LOAD_WAIT = 5.0
#: How long to wait for a message field once some other form is there (a contact form drawn after load).
FORM_GRACE = 1.5
#: How long a form may take to appear after the page loaded (forms drawn by scripts).
APPEAR_TIMEOUT = 10.0
#: An error shown with nothing sent must stay this long before it counts (a script may still send).
SETTLE_S = 1.0
#: How long the page may take to show why a 4xx refused the submission.
REFUSAL_GRACE_S = 1.5

_THANKS = re.compile(
    "|".join(
        (
            r"\bthank(s| you)\b",
            r"\bwe('ve| have) (successfully )?received\b",
            r"\b(message|request|inquiry|enquiry|ticket|form)\b.{0,30}\b(has been|was|were)"
            r" (successfully )?(sent|received|submitted|created)\b",
            r"\bsuccessfully (sent|submitted)\b",
            r"\bvielen dank\b",
            r"\bdanke\b",
            r"\bwir haben ihre (nachricht|anfrage)\b.{0,20}\berhalten\b",
            r"\b(nachricht|anfrage)\b.{0,30}\bwurde\b.{0,20}\b(gesendet|versendet|übermittelt|verschickt)\b",
            r"\berfolgreich (gesendet|versendet|übermittelt|verschickt)\b",
            r"\bmerci\b",
            r"\bnous avons (bien )?reçu\b",
            r"\b(message|demande)\b.{0,20}\ba (bien )?été (envoyée?|transmise?|enregistrée?)\b",
            r"\bgracias\b",
            r"\bhemos recibido\b",
            r"\b(mensaje|solicitud|consulta)\b.{0,20}\b(ha sido|fue) (enviad[oa]|recibid[oa])\b",
            r"\bgrazie\b",
            r"\babbiamo ricevuto\b",
            r"\b(messaggio|richiesta)\b.{0,20}\bè stat[oa] (inviat[oa]|ricevut[oa])\b",
            r"\bbedankt\b",
            r"\bdank (je|u) wel\b",
            r"\bwe hebben (je|uw) (bericht|aanvraag|vraag)\b.{0,20}\bontvangen\b",
            r"\b(bericht|aanvraag)\b.{0,20}\bis verzonden\b",
        )
    ),
    re.IGNORECASE,
)
_THANKS_URL = re.compile(
    r"thank|danke|merci|gracias|grazie|bedankt|success|confirm|bestaetig|bestätig|submitted|sent\b|received",
    re.IGNORECASE,
)


def thank_you_lines(text: str) -> set[str]:
    """The lines of a page's text that thank or confirm receipt, in any of the supported languages."""
    found = set()
    for line in text.splitlines():
        line = " ".join(line.split())
        if line and _THANKS.search(line):
            found.add(line[:300])
    return found


# ------------------------------------------------------------------------------------------ deciding


@dataclass(frozen=True)
class Observation:
    """The page as seen once after the click."""

    url: str
    text: str
    alerts: tuple[str, ...] = ()
    captcha: bool = False
    login: bool = False


@dataclass
class Submission:
    """The request the click caused (the first POST, or a navigation), as the network saw it."""

    method: str
    url: str
    started: float
    status: int | None = None
    answered: float | None = None
    failure: str | None = None


@dataclass(frozen=True)
class Baseline:
    """The page just before the click: what is already there does not count as an answer."""

    url: str
    thanks: frozenset[str]
    alerts: frozenset[str]
    captcha: bool
    login: bool
    success_text: bool


Outcome = Literal["sent", "failed", "blocked", "uncertain"]


@dataclass(frozen=True)
class Verdict:
    """What the page says about the submission; ``None`` from :func:`decide` means "keep looking"."""

    outcome: Outcome
    reason: str
    confirmation: str | None = None


def decide(
    endpoint: FormEndpoint,
    baseline: Baseline,
    seen: Observation,
    submission: Submission | None,
    *,
    now: float,
    clicked: float,
) -> Verdict | None:
    """Read one observation after the click (pure; ``now`` and ``clicked`` are monotonic seconds)."""
    status = submission.status if submission is not None else None
    new_alerts = [a for a in seen.alerts if a not in baseline.alerts]
    if submission is not None and submission.failure is not None:
        if "ERR_CONNECTION_REFUSED" in submission.failure or "ERR_NAME_NOT_RESOLVED" in submission.failure:
            return Verdict("failed", f"the submission could not connect: {submission.failure}")
        return Verdict("uncertain", f"the submission's connection broke: {submission.failure}")
    if status is not None and status >= 500:
        return Verdict("uncertain", f"the site answered HTTP {status} to the submission")
    if status is not None and 400 <= status < 500:
        if seen.captcha and not baseline.captcha:
            return Verdict("blocked", f"a CAPTCHA appeared (HTTP {status})")
        if seen.login and not baseline.login:
            return Verdict("blocked", f"a login wall appeared (HTTP {status})")
        answered = submission.answered if submission is not None and submission.answered else now
        if new_alerts or now - answered >= REFUSAL_GRACE_S:
            why = "; ".join(new_alerts) or _first_lines(seen.text)
            return Verdict("failed", f"the site refused the submission (HTTP {status}): {why}")
        return None
    explicit = endpoint.success_text is not None or endpoint.success_url is not None
    if explicit:
        if endpoint.success_url is not None and re.search(endpoint.success_url, seen.url):
            return Verdict("sent", f"the URL matches success_url: {seen.url}", seen.url)
        if endpoint.success_text is not None:
            match = re.search(endpoint.success_text, seen.text)
            if match and (not baseline.success_text or seen.url != baseline.url):
                return Verdict(
                    "sent", "the page shows success_text", _around(seen.text, match.start(), match.end())
                )
    elif not new_alerts:
        fresh = sorted(thank_you_lines(seen.text) - baseline.thanks, key=len)
        if fresh:
            return Verdict("sent", "the page confirms receipt", fresh[-1])
        if seen.url != baseline.url and _THANKS_URL.search(_path_and_query(seen.url)):
            return Verdict("sent", f"the page moved to a confirmation URL: {seen.url}", seen.url)
    if seen.captcha and not baseline.captcha and (submission is None or status is None or status >= 400):
        return Verdict("blocked", "a CAPTCHA appeared after the click")
    if seen.login and not baseline.login and submission is None:
        return Verdict("blocked", "a login wall appeared after the click")
    if new_alerts and submission is None and now - clicked >= SETTLE_S:
        return Verdict("failed", "the page refused the form before sending it: " + "; ".join(new_alerts))
    return None


def _first_lines(text: str, limit: int = 300) -> str:
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    return " / ".join(lines)[:limit] or "no explanation on the page"


def _around(text: str, start: int, end: int, margin: int = 80) -> str:
    return " ".join(text[max(0, start - margin) : end + margin].split())[:300]


def _path_and_query(url: str) -> str:
    return re.sub(r"^[a-z]+://[^/]+", "", url, flags=re.IGNORECASE)


# ------------------------------------------------------------------------------------------ the channel


@dataclass
class _Attempt:
    """What one send has seen so far; becomes the evidence whatever the outcome."""

    evidence: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)
    clicked: bool = False
    marks: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def mark(self, name: str) -> None:
        self.marks[name] = round((time.monotonic() - self.started) * 1000)

    def error(self, kind: type[SendOutcomeError], message: str) -> SendOutcomeError:
        self.evidence["timings_ms"] = dict(self.marks)
        self.evidence["outcome"] = message
        return kind(message, evidence=dict(self.evidence), artifacts=dict(self.artifacts))


class WebFormChannel:
    """Contact forms in a headless Chromium from a shared :class:`~replybench.browser.BrowserPool`.

    ``url_for`` overrides the target's form URL (the sandbox passes one that points at its own pages);
    ``screenshots`` adds full-page PNGs to each probe's artifacts: ``before.png`` (the filled form just
    before the click, or the page when a barrier or a failure stopped the send before it) and ``after.png``
    (the page that decided the outcome). The pool belongs to the caller.
    """

    name = "form"

    def __init__(
        self,
        pool: BrowserPool,
        *,
        url_for: Callable[[Target], str] | None = None,
        screenshots: bool = True,
    ) -> None:
        self.pool = pool
        self.url_for = url_for
        self.screenshots = screenshots

    def describe(self) -> ChannelDescription:
        """Needs a browser; replies come by email."""
        return ChannelDescription(
            name=self.name,
            needs_browser=True,
            listens_with="email (replies come to the persona's address)",
            notes="fills the contact form in headless Chromium; CAPTCHAs and login walls are reported, not solved",
            concurrency=self.pool.size,
        )

    async def listen(self, sink: InboundSink) -> None:
        """Form replies arrive by email; wait until cancelled."""
        await asyncio.Event().wait()

    async def aclose(self) -> None:
        """Nothing to release: the browser pool belongs to the caller."""

    # ------------------------------------------------------------------------------------------- sending

    def endpoint(self, target: Target) -> tuple[FormEndpoint, str]:
        """The target's form endpoint and the URL to open (``url_for`` wins)."""
        endpoint = target.endpoints.form
        url = self.url_for(target) if self.url_for is not None else None
        if endpoint is None:
            if url is None:
                raise SendFailed(f"target {target.id!r} has no form endpoint", evidence={"target": target.id})
            endpoint = FormEndpoint(url=url)
        return endpoint, url or endpoint.url

    async def send(self, probe: OutboundProbe) -> SendReceipt:
        """Fill and submit the target's contact form once; see the module documentation for the outcomes."""
        endpoint, url = self.endpoint(probe.target)
        attempt = _Attempt()
        attempt.evidence.update({"url": url, "locale": probe.persona.browser_locale})
        try:
            async with self.pool.context(
                locale=probe.persona.browser_locale, timezone=probe.persona.timezone
            ) as context:
                attempt.mark("context")
                context.set_default_timeout(max(endpoint.timeout.total_seconds(), LOAD_FLOOR) * 1000)
                page = await context.new_page()
                try:
                    return await self._send(page, probe, endpoint, url, attempt)
                except SendOutcomeError:
                    raise
                except Exception as exc:
                    await self._shot(page, attempt, "after.png" if attempt.clicked else "before.png")
                    raise self._unexpected(attempt, exc) from exc
        except SendOutcomeError:
            raise
        except Exception as exc:  # the browser itself: launch, context, crash
            raise self._unexpected(attempt, exc, "browser error: ") from exc

    @staticmethod
    def _unexpected(attempt: _Attempt, exc: Exception, prefix: str = "") -> SendOutcomeError:
        """Whatever went wrong, the click decides: before it nothing was sent, after it anything may have been."""
        if attempt.clicked:
            log.warning("form send ended unexpectedly after the click: %s", exc, exc_info=exc)
            return attempt.error(SendUncertain, prefix + _short(exc))
        if (
            not isinstance(exc, FormFillError | TimeoutError | OSError)
            and "playwright" not in type(exc).__module__
        ):
            log.warning("form send ended unexpectedly before the click: %s", exc, exc_info=exc)
        return attempt.error(SendFailed, prefix + _short(exc))

    async def _send(
        self, page: Page, probe: OutboundProbe, endpoint: FormEndpoint, url: str, attempt: _Attempt
    ) -> SendReceipt:
        timeout = endpoint.timeout.total_seconds()
        ev = attempt.evidence
        try:
            response = await page.goto(
                url, wait_until="domcontentloaded", timeout=max(timeout, LOAD_FLOOR) * 1000
            )
        except Exception as exc:
            raise attempt.error(SendFailed, f"could not open the contact page: {_short(exc)}") from exc
        # Scripts may still rework the form until "load"; a slow third-party resource must not hold us long.
        with contextlib.suppress(Exception):
            await page.wait_for_load_state("load", timeout=min(timeout, LOAD_WAIT) * 1000)
        attempt.mark("loaded")
        ev["page_status"] = response.status if response is not None else None
        ev["page_url"] = page.url
        if response is not None and response.status >= 400:
            await self._shot(page, attempt, "before.png")
            raise attempt.error(SendFailed, f"the contact page answered HTTP {response.status}")

        explicit = endpoint.fields if endpoint.fields != "auto" else None
        frame, scan = await self._find_form(page, min(timeout, APPEAR_TIMEOUT))
        blocker = await self._blocker(page, frame, scan)
        if blocker is not None:
            await self._shot(page, attempt, "before.png")
            ev["blocker"] = {"kind": blocker.kind, "detail": blocker.detail}
            what = "a CAPTCHA" if blocker.kind == "captcha" else "a login wall"
            raise attempt.error(SendBlocked, f"{what} stands before the form: {blocker.detail}")
        if frame is not page.main_frame:
            ev["frame_url"] = frame.url

        values = FormValues.for_probe(probe)
        report = await self._fill_steps(frame, values, endpoint, explicit, attempt)
        attempt.mark("filled")
        ev.update(report.evidence())
        self._check_fill(report, endpoint, explicit, attempt)

        invalid = await invalid_fields(frame, report.form)
        if invalid:
            ev["invalid"] = [str(i) for i in invalid]
            await self._shot(page, attempt, "before.png")
            raise attempt.error(SendFailed, "the form is not valid: " + "; ".join(str(i) for i in invalid))

        submit = await self._submit_button(frame, endpoint, report.form, attempt)
        try:
            await frame.locator(submit).first.click(trial=True, timeout=5_000)
        except Exception as exc:
            raise attempt.error(SendFailed, f"the submit button cannot be clicked: {_short(exc)}") from exc
        await self._shot(page, attempt, "before.png")

        baseline = await self._baseline(page, frame, endpoint)
        watcher = _NetworkWatcher(page, {page.main_frame, frame})
        clicked_at = time.monotonic()
        # From here on the inquiry may reach the company: never SendFailed without proof, never a retry.
        attempt.clicked = True
        ev["clicked_at"] = iso_ms(utcnow())
        try:
            await frame.locator(submit).first.click(timeout=5_000)
        except Exception as exc:
            watcher.close()
            await self._shot(page, attempt, "after.png")
            raise attempt.error(
                SendUncertain, f"the click on the submit button failed: {_short(exc)}"
            ) from exc
        attempt.mark("clicked")
        try:
            verdict, sent_at = await self._await_outcome(
                page, frame, endpoint, baseline, watcher, clicked_at, timeout
            )
        finally:
            watcher.close()
        attempt.mark("decided")
        sub = watcher.submission
        ev["http_status"] = sub.status if sub is not None else None
        ev["submission"] = {"method": sub.method, "url": sub.url} if sub is not None else None
        ev["final_url"] = page.url
        ev["html_sha256"] = await _html_sha256(page)
        ev["verdict"] = verdict.reason
        await self._shot(page, attempt, "after.png")
        if verdict.outcome == "sent":
            ev["confirmation"] = verdict.confirmation
            ev["timings_ms"] = dict(attempt.marks)
            return SendReceipt(
                sent_at=sent_at, clock=SEND_CLOCK, evidence=dict(ev), artifacts=dict(attempt.artifacts)
            )
        kinds: dict[Outcome, type[SendOutcomeError]] = {
            "failed": SendFailed,
            "blocked": SendBlocked,
            "uncertain": SendUncertain,
        }
        raise attempt.error(kinds[verdict.outcome], verdict.reason)

    # ------------------------------------------------------------------------------------------- steps

    async def _find_form(self, page: Page, limit: float) -> tuple[Frame, Scan]:
        """The frame holding the contact form, and its scan.

        Forms drawn by scripts may come late: this waits (up to ``limit``) until a message field, a barrier
        or a "next" button shows, and settles for any form at all after :data:`FORM_GRACE` seconds.
        """
        started = time.monotonic()
        while True:
            best: tuple[int, Frame, Scan] | None = None
            ready = False
            for frame in page.frames:  # the main frame first: it wins ties
                try:
                    scan = await scan_page(frame)
                except Exception:  # a frame that navigates or goes away while scanned is no candidate
                    if frame is page.main_frame:
                        raise
                    continue
                roles = assign_roles(scan.controls)
                form = choose_form(scan, roles)
                score = sum(1 for c in scan.controls if c.fillable and c.form == form and c.index in roles)
                if "message" in {roles.get(c.index) for c in scan.controls if c.fillable}:
                    score += 100
                    ready = True
                ready = ready or find_blocker(scan, roles) is not None or find_next(scan, form) is not None
                if best is None or score > best[0]:
                    best = (score, frame, scan)
            assert best is not None
            waited = time.monotonic() - started
            if ready or (best[0] > 0 and waited >= FORM_GRACE) or waited >= limit:
                return best[1], best[2]
            await asyncio.sleep(0.2)

    async def _blocker(self, page: Page, frame: Frame, scan: Scan) -> Blocker | None:
        blocker = find_blocker(scan)
        if blocker is not None or frame is page.main_frame:
            return blocker
        return find_blocker(await scan_page(page.main_frame))

    async def _fill_steps(
        self,
        frame: Frame,
        values: FormValues,
        endpoint: FormEndpoint,
        explicit: FormFields | None,
        attempt: _Attempt,
    ) -> FillReport:
        """Fill, then follow "next" buttons (the configured ones, else found) until the message is in."""
        report = FillReport()
        steps = list(endpoint.steps)
        clicked: list[str] = []
        for _ in range(MAX_STEPS + 1):
            report = report.merge(
                await autofill(frame, values, explicit=explicit, extra=endpoint.extra, topic=endpoint.topic)
            )
            if steps:
                selector = steps.pop(0)
            elif endpoint.steps or report.has("message"):
                break
            else:
                button = find_next(await scan_page(frame), report.form)
                if button is None:
                    break
                selector = button.selector
                clicked.append(button.text or button.css)
            before = await _visible_controls(frame)
            try:
                await frame.locator(selector).first.click(timeout=5_000)
            except Exception as exc:
                raise attempt.error(
                    SendFailed, f"could not go to the next step ({selector}): {_short(exc)}"
                ) from exc
            if endpoint.steps:
                clicked.append(selector)
            await _wait_for_change(frame, before, limit=5.0)
        attempt.evidence["steps"] = clicked
        return report

    def _check_fill(
        self, report: FillReport, endpoint: FormEndpoint, explicit: FormFields | None, attempt: _Attempt
    ) -> None:
        """Refuse to click when the form would not carry the inquiry (certainly not sent: SendFailed)."""
        problems = list(report.problems)
        if explicit is not None:
            wanted = {r for r, s in explicit.model_dump().items() if s}
            problems += [
                f"the {role} selector {getattr(explicit, role)!r} matched no visible field"
                for role in sorted(wanted - report.explicit_done)
            ]
        problems += [
            f"the extra selector {s!r} matched no visible field"
            for s in endpoint.extra
            if s not in report.extra_done
        ]
        if not report.has("message"):
            problems.append("no message field found")
        if not report.has("email"):
            problems.append("no email field found (the reply could not reach the persona)")
        if problems:
            raise attempt.error(SendFailed, "cannot fill the form: " + "; ".join(problems))

    async def _submit_button(
        self, frame: Frame, endpoint: FormEndpoint, form: int | None, attempt: _Attempt
    ) -> str:
        if endpoint.submit is not None:
            if await frame.locator(endpoint.submit).count() == 0:
                raise attempt.error(SendFailed, f"the submit selector {endpoint.submit!r} matches nothing")
            attempt.evidence["submit"] = endpoint.submit
            return endpoint.submit
        button = find_submit(await scan_page(frame), form)
        if button is None:
            raise attempt.error(SendFailed, "no submit button found")
        attempt.evidence["submit"] = button.css
        attempt.evidence["submit_text"] = button.text
        return button.selector

    async def _observe(self, page: Page, frame: Frame) -> Observation:
        """The page (and the form's frame) as a person sees it now."""
        frames = (
            [page.main_frame] if frame is page.main_frame or frame.is_detached() else [page.main_frame, frame]
        )
        texts: list[str] = []
        alerts: list[str] = []
        captcha = login = False
        for f in frames:
            scan = await scan_page(f, observe=True)
            texts.append(scan.text)
            alerts += [a for a in scan.alerts if a not in alerts]
            blocker = find_blocker(scan)
            captcha = captcha or (blocker is not None and blocker.kind == "captcha")
            login = login or (blocker is not None and blocker.kind == "login")
        return Observation(page.url, "\n".join(texts), tuple(alerts), captcha, login)

    async def _baseline(self, page: Page, frame: Frame, endpoint: FormEndpoint) -> Baseline:
        seen = await self._observe(page, frame)
        success = (
            endpoint.success_text is not None and re.search(endpoint.success_text, seen.text) is not None
        )
        return Baseline(
            url=seen.url,
            thanks=frozenset(thank_you_lines(seen.text)),
            alerts=frozenset(seen.alerts),
            captcha=seen.captcha,
            login=seen.login,
            success_text=success,
        )

    async def _await_outcome(
        self,
        page: Page,
        frame: Frame,
        endpoint: FormEndpoint,
        baseline: Baseline,
        watcher: _NetworkWatcher,
        clicked: float,
        limit: float,
    ) -> tuple[Verdict, datetime]:
        """Look at the page until it proves an outcome or ``limit`` seconds pass (→ uncertain)."""
        deadline = clicked + limit
        last_error = ""
        while True:
            now = time.monotonic()
            try:
                seen = await self._observe(page, frame)
            except Exception as exc:  # the page is navigating: look again
                last_error = _short(exc)
            else:
                verdict = decide(endpoint, baseline, seen, watcher.submission, now=now, clicked=clicked)
                if verdict is not None:
                    return verdict, utcnow()
            if now >= deadline:
                note = f" ({last_error})" if last_error else ""
                return Verdict(
                    "uncertain", f"no confirmation within {limit:g} s of the click{note}"
                ), utcnow()
            await asyncio.sleep(POLL_INTERVAL)

    async def _shot(self, page: Page, attempt: _Attempt, name: str) -> None:
        if not self.screenshots or name in attempt.artifacts:
            return
        with contextlib.suppress(Exception):
            attempt.artifacts[name] = await page.screenshot(full_page=True, type="png", timeout=10_000)


class _NetworkWatcher:
    """Notes the first request the click causes: a POST/PUT/PATCH, or a navigation of the page."""

    def __init__(self, page: Page, frames: set[Frame]) -> None:
        self.page = page
        self.frames = frames
        self.submission: Submission | None = None
        self._request: Request | None = None
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_failed)

    def _on_request(self, request: Request) -> None:
        if self._request is not None:
            return
        method = request.method.upper()
        navigation = request.is_navigation_request() and request.frame in self.frames
        if method in ("POST", "PUT", "PATCH") or navigation:
            self._request = request
            self.submission = Submission(method, request.url, time.monotonic())

    def _on_response(self, response: Response) -> None:
        if (
            self.submission is not None
            and response.request is self._request
            and self.submission.status is None
        ):
            self.submission.status = response.status
            self.submission.answered = time.monotonic()

    def _on_failed(self, request: Request) -> None:
        if self.submission is not None and request is self._request and self.submission.status is None:
            self.submission.failure = request.failure or "failed"

    def close(self) -> None:
        for event, handler in (
            ("request", self._on_request),
            ("response", self._on_response),
            ("requestfailed", self._on_failed),
        ):
            with contextlib.suppress(Exception):
                self.page.remove_listener(event, handler)


async def _visible_controls(frame: Frame) -> frozenset[int]:
    scan = await scan_page(frame)
    return frozenset(c.index for c in scan.controls if c.fillable)


async def _wait_for_change(frame: Frame, before: frozenset[int], *, limit: float) -> None:
    """Wait until the set of visible controls changes (the next step showed), at most ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        await asyncio.sleep(POLL_INTERVAL)
        with contextlib.suppress(Exception):
            if await _visible_controls(frame) != before:
                return


async def _html_sha256(page: Page) -> str | None:
    try:
        html = await page.content()
    except Exception:
        return None
    return hashlib.sha256(html.encode("utf-8")).hexdigest()


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


__all__ = ["SEND_CLOCK", "Baseline", "Observation", "Submission", "Verdict", "WebFormChannel", "decide"]
