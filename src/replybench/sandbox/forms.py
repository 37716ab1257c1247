"""Contact pages of the sandbox's companies: one realistic contact form per company, served on loopback.

``target.sandbox.form`` picks the markup (see :data:`replybench.models.SandboxForm`):

* ``labels`` — a classic form with ``<label for>``: name, email, phone (optional), a topic select with a
  "Please choose…" placeholder, subject, message, a required privacy checkbox and an optional newsletter
  opt-in. A POST answers ``303`` to ``/<id>/contact/thanks?ticket=N``.
* ``placeholders`` — German, no labels (placeholders and aria hints only), sent with ``fetch()`` to
  ``/<id>/contact/api`` (JSON); the confirmation replaces the form without a URL change.
* ``multistep`` — first and last name and email, then a "Next" button that reveals subject and message.
* ``honeypot`` — ``labels`` plus two bot traps: an off-screen "Email address" (``aria-hidden``,
  ``tabindex=-1``) and a ``display:none`` "Website". A filled trap is thanked like anyone else but recorded
  as ``form_rejected`` (reason ``honeypot``) and never reaches the help desk — as real sites treat bots.
* ``captcha`` — ``labels`` plus a reCAPTCHA-like widget whose frame is served here (nothing leaves the
  machine); no token is ever issued, so every submission is refused (``403``).
* ``login`` — the contact page redirects to a sign-in page ("Please sign in to contact us").
* ``validation`` — ``labels`` plus a required order number (``pattern="[0-9]{8}"``) nobody outside the
  company can know; the server checks it too (the last digit is the sum of the others modulo 10) and
  answers ``422`` with the reason.

Every POST is counted in the ground truth: ``form_submission`` (with the submitted fields, the ticket and the
help desk's queue id) when the inquiry entered the company's help desk through
:meth:`~replybench.sandbox.core.Sandbox.submit_inquiry` — which then answers by email to the address given —
or ``form_rejected`` with a reason.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from replybench.models import SandboxForm, Target
from replybench.sandbox.truth import WebKind, WebRecord
from replybench.timefmt import utcnow

if TYPE_CHECKING:
    from replybench.sandbox.core import Sandbox

_EMAIL = re.compile(r"^[^@\s<>\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_MAX_BODY = 256 * 1024

TOPICS: tuple[tuple[str, str], ...] = (
    ("orders", "Orders and delivery"),
    ("returns", "Returns and refunds"),
    ("product", "Product question"),
    ("other", "Something else"),
)

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "shop": "Shop",
        "help": "Help",
        "search": "Search",
        "newsletter": "Newsletter",
        "subscribe": "Subscribe",
        "visiting": "Thanks for visiting {name}.",
    },
    "de": {
        "shop": "Shop",
        "help": "Hilfe",
        "search": "Suche",
        "newsletter": "Newsletter",
        "subscribe": "Abonnieren",
        "visiting": "Danke für Ihren Besuch bei {name}.",
    },
}

#: Field names of each variant → the inquiry's parts.
_FIELDS: dict[str, dict[str, str]] = {
    "placeholders": {
        "f_n": "name",
        "f_m": "email",
        "f_t": "phone",
        "f_b": "subject",
        "f_x": "message",
        "f_d": "consent",
    },
    "default": {
        "name": "name",
        "first_name": "first_name",
        "last_name": "last_name",
        "email": "email",
        "phone": "phone",
        "topic": "topic",
        "order": "order",
        "subject": "subject",
        "message": "message",
        "privacy": "consent",
        "consent": "consent",
        "newsletter": "newsletter",
    },
}
_HONEYPOTS = ("email_address", "website")


def order_number_known(number: str) -> bool:
    """Whether the sandbox knows this order number: 8 digits, the last the sum of the others modulo 10."""
    return bool(re.fullmatch(r"[0-9]{8}", number)) and sum(map(int, number[:7])) % 10 == int(number[7])


@dataclass(frozen=True)
class Submission:
    """One POSTed form, read into the inquiry's parts (``fields``) and the bot traps that were filled."""

    fields: dict[str, str]
    traps: dict[str, str]
    captcha_token: str


class ContactPages:
    """The contact pages of one sandbox: rendering, validation, ground truth and help-desk hand-over."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("replybench.sandbox", "pages"),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=True),
            undefined=jinja2.StrictUndefined,
        )
        self._tickets = itertools.count(40001)
        #: CAPTCHA tokens a person solved; nobody can solve the sandbox's, so this stays empty.
        self.captcha_tokens: set[str] = set()

    # ------------------------------------------------------------------------------------------- helpers

    def company(self, request: Request) -> Target | None:
        """The company named in the URL, if the sandbox has it."""
        desk = self.sandbox.desks.get(str(request.path_params["company"]))
        return desk.company if desk is not None else None

    @staticmethod
    def variant(company: Target) -> SandboxForm:
        """The company's form markup (``labels`` when it has no sandbox behaviour)."""
        return company.sandbox.form if company.sandbox is not None else "labels"

    def render(self, template: str, company: Target, status: int = 200, **context: Any) -> HTMLResponse:
        """A page of ``company`` in its language."""
        lang = "de" if self.variant(company) == "placeholders" else "en"
        words = {k: v.format(name=company.name) for k, v in _WORDS[lang].items()}
        html = self.env.get_template(template).render(
            company=company, cid=company.id, lang=lang, t=words, variant=self.variant(company), **context
        )
        return HTMLResponse(html, status_code=status)

    def record(self, kind: WebKind, company: Target, **detail: Any) -> None:
        """Note a form event in the ground truth."""
        self.sandbox.truth.record_web(WebRecord(kind=kind, company_id=company.id, at=utcnow(), detail=detail))

    @staticmethod
    async def read(request: Request, variant: str) -> Submission:
        """Read a urlencoded or JSON POST into a :class:`Submission`."""
        body = await request.body()
        raw: dict[str, str] = {}
        if len(body) <= _MAX_BODY:
            if request.headers.get("content-type", "").startswith("application/json"):
                try:
                    data = json.loads(body.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    data = {}
                if isinstance(data, dict):
                    raw = {str(k): str(v) for k, v in data.items() if isinstance(v, str | int | float | bool)}
            else:
                parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
                raw = {k: v[0] for k, v in parsed.items()}
        names = _FIELDS.get(variant, _FIELDS["default"])
        # Browsers send a textarea's line breaks as CRLF (HTML's form encoding); the desk stores LF.
        fields = {names[k]: v.replace("\r\n", "\n").strip() for k, v in raw.items() if k in names}
        if "first_name" in fields or "last_name" in fields:
            full = f"{fields.pop('first_name', '')} {fields.pop('last_name', '')}".strip()
            fields.setdefault("name", full)
        traps = {k: raw[k] for k in _HONEYPOTS if raw.get(k, "").strip()} if variant == "honeypot" else {}
        return Submission(fields, traps, raw.get("g-recaptcha-response", ""))

    def problems(self, variant: str, fields: Mapping[str, str]) -> list[tuple[str, str]]:
        """What is wrong with a submission: (reason, message in the page's language) pairs."""
        german = variant == "placeholders"
        found: list[tuple[str, str]] = []
        if not _EMAIL.match(fields.get("email", "")):
            found.append(
                (
                    "invalid-email",
                    "Bitte geben Sie eine gültige E-Mail-Adresse ein."
                    if german
                    else "Please enter a valid email address.",
                )
            )
        if not fields.get("message", ""):
            found.append(
                (
                    "empty-message",
                    "Bitte geben Sie Ihre Nachricht ein." if german else "Please enter your message.",
                )
            )
        if not fields.get("consent", ""):
            found.append(
                (
                    "consent",
                    "Bitte stimmen Sie der Datenschutzerklärung zu."
                    if german
                    else "Please agree to the privacy policy so that we can answer you.",
                )
            )
        if variant == "validation":
            order = fields.get("order", "")
            if not re.fullmatch(r"[0-9]{8}", order):
                found.append(("order-number", "Please enter your 8-digit order number."))
            elif not order_number_known(order):
                found.append(
                    (
                        "unknown-order",
                        f"We could not find order number {order}. Please check your order confirmation.",
                    )
                )
        return found

    def accept(self, company: Target, variant: str, fields: Mapping[str, str]) -> int:
        """Hand a valid inquiry to the company's help desk; returns its ticket number."""
        ticket = next(self._tickets)
        subject = fields.get("subject", "")
        if not subject and fields.get("topic"):
            subject = dict(TOPICS).get(fields["topic"], fields["topic"])
        queue_id = self.sandbox.submit_inquiry(
            company.id,
            name=fields.get("name", ""),
            email=fields["email"],
            subject=subject,
            body=fields["message"],
            source="form",
        )
        self.record(
            "form_submission", company, variant=variant, ticket=ticket, queue_id=queue_id, fields=dict(fields)
        )
        return ticket

    @staticmethod
    def thanks_url(company: Target, ticket: int) -> str:
        """Where a successful classic submission is redirected."""
        return f"/{company.id}/contact/thanks?ticket={ticket}"

    # ------------------------------------------------------------------------------------------- endpoints

    async def contact(self, request: Request) -> Response:
        """GET: the contact page. POST: a classic (urlencoded) submission."""
        company = self.company(request)
        if company is None:
            return HTMLResponse("<!doctype html><title>Not found</title><h1>Not found</h1>", status_code=404)
        variant = self.variant(company)
        if variant == "login":
            if request.method == "POST":
                self.record("form_rejected", company, variant=variant, reason="login", fields={})
            return RedirectResponse(f"/{company.id}/login?next=/{company.id}/contact", status_code=303)
        if request.method == "GET":
            template = {"placeholders": "form_placeholders.html", "multistep": "form_multistep.html"}
            return self.render(template.get(variant, "form_labels.html"), company, **self._blank())
        sub = await self.read(request, variant)
        if variant == "captcha" and sub.captcha_token not in self.captcha_tokens:
            self.record("form_rejected", company, variant=variant, reason="captcha", fields=sub.fields)
            return self.render(
                "form_labels.html",
                company,
                status=403,
                errors=["Please confirm that you are not a robot."],
                v=self._values(sub.fields),
                topics=TOPICS,
            )
        if sub.traps:
            self.record(
                "form_rejected",
                company,
                variant=variant,
                reason="honeypot",
                traps=sorted(sub.traps),
                fields=sub.fields,
            )
            return RedirectResponse(self.thanks_url(company, next(self._tickets)), status_code=303)
        problems = self.problems(variant, sub.fields)
        if problems:
            self.record(
                "form_rejected",
                company,
                variant=variant,
                reason=problems[0][0],
                reasons=[r for r, _ in problems],
                fields=sub.fields,
            )
            page = "form_multistep.html" if variant == "multistep" else "form_labels.html"
            return self.render(
                page,
                company,
                status=422,
                errors=[m for _, m in problems],
                v=self._values(sub.fields),
                topics=TOPICS,
            )
        ticket = self.accept(company, variant, sub.fields)
        return RedirectResponse(self.thanks_url(company, ticket), status_code=303)

    async def api(self, request: Request) -> Response:
        """The JSON endpoint the German ``fetch()`` form posts to."""
        company = self.company(request)
        if company is None or self.variant(company) != "placeholders":
            return JSONResponse({"ok": False, "error": "Nicht gefunden."}, status_code=404)
        sub = await self.read(request, "placeholders")
        problems = self.problems("placeholders", sub.fields)
        if problems:
            self.record(
                "form_rejected",
                company,
                variant="placeholders",
                reason=problems[0][0],
                reasons=[r for r, _ in problems],
                fields=sub.fields,
            )
            return JSONResponse({"ok": False, "error": " ".join(m for _, m in problems)}, status_code=422)
        ticket = self.accept(company, "placeholders", sub.fields)
        return JSONResponse({"ok": True, "ticket": ticket})

    async def thanks(self, request: Request) -> Response:
        """The thank-you page after a classic submission."""
        company = self.company(request)
        if company is None:
            return HTMLResponse("<!doctype html><title>Not found</title><h1>Not found</h1>", status_code=404)
        ticket = request.query_params.get("ticket", "")
        lines = [
            "Our team usually answers within one working day. We will reply to the email address you gave."
        ]
        if ticket.isdigit():
            lines.insert(0, f"Your ticket number is #{ticket}.")
        return self.render(
            "form_thanks.html", company, heading="Thank you — we have received your message", lines=lines
        )

    async def login(self, request: Request) -> Response:
        """The sign-in page of a ``login`` company; no credentials are ever right."""
        company = self.company(request)
        if company is None:
            return HTMLResponse("<!doctype html><title>Not found</title><h1>Not found</h1>", status_code=404)
        if request.method == "POST":
            return self.render(
                "form_login.html", company, status=401, error="Wrong email address or password."
            )
        return self.render("form_login.html", company, error="")

    async def captcha_anchor(self, request: Request) -> Response:
        """The CAPTCHA widget's frame (a local stand-in: nothing is loaded from elsewhere)."""
        if self.company(request) is None:
            return HTMLResponse("", status_code=404)
        return HTMLResponse(self.env.get_template("form_captcha_anchor.html").render())

    async def newsletter(self, request: Request) -> Response:
        """The footer's newsletter sign-up: not a contact form, recorded so that tests can see it was not used."""
        company = self.company(request)
        if company is None:
            return HTMLResponse("", status_code=404)
        self.record(
            "form_rejected", company, variant=self.variant(company), reason="not-a-contact-form", fields={}
        )
        return self.render("form_thanks.html", company, heading="You are subscribed", lines=[])

    # ------------------------------------------------------------------------------------------- values

    @staticmethod
    def _blank() -> dict[str, Any]:
        return {"errors": [], "v": ContactPages._values({}), "topics": TOPICS}

    @staticmethod
    def _values(fields: Mapping[str, str]) -> dict[str, str]:
        keys = ("name", "email", "phone", "topic", "order", "subject", "message")
        return {k: fields.get(k, "") for k in keys}


def routes(sandbox: Sandbox) -> list[BaseRoute]:
    """The contact-page routes of every sandbox company (``/<id>/contact`` and its companions)."""
    pages = ContactPages(sandbox)
    return [
        Route("/{company}/contact", pages.contact, methods=["GET", "POST"]),
        Route("/{company}/contact/api", pages.api, methods=["POST"]),
        Route("/{company}/contact/thanks", pages.thanks, methods=["GET"]),
        Route("/{company}/login", pages.login, methods=["GET", "POST"]),
        Route("/{company}/captcha/anchor", pages.captcha_anchor, methods=["GET"]),
        Route("/{company}/newsletter", pages.newsletter, methods=["POST"]),
    ]
