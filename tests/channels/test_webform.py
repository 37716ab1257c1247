"""The web-form channel in a real Chromium against the sandbox's contact pages: every variant's outcome, the
evidence, and ground truth proving each inquiry was submitted once (or not at all)."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import quote

import pytest

from replybench.channels import webform
from replybench.channels.base import Channel, OutboundProbe, SendReceipt
from replybench.channels.webform import (
    SEND_CLOCK,
    Baseline,
    Observation,
    Submission,
    WebFormChannel,
    decide,
    thank_you_lines,
)
from replybench.errors import SendBlocked, SendFailed, SendOutcomeError, SendUncertain
from replybench.models import FormEndpoint
from replybench.timefmt import utcnow
from tests.channels.formsite import JONAS, FormSite, start_site, stop_site
from tests.sandbox.helpers import wait_until

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def site(chromium: str) -> Iterator[FormSite]:
    running = start_site(chromium, pool_size=4)
    yield running
    stop_site(running)


def send(site: FormSite, cid: str, **kw: object) -> tuple[OutboundProbe, SendReceipt | SendOutcomeError, str]:
    """Send one probe to company ``cid``; returns (probe, receipt or error, token)."""
    probe = site.probe(cid, **kw)  # type: ignore[arg-type]
    channel = site.channel()

    async def go() -> SendReceipt | SendOutcomeError:
        try:
            return await channel.send(probe)
        except SendOutcomeError as exc:
            return exc

    return probe, site.run(go()), probe.token


# ------------------------------------------------------------------------------------------ variants


def test_labelled_form_is_filled_submitted_once_and_confirmed(site: FormSite) -> None:
    before = utcnow()
    probe, receipt, token = send(site, "labels")
    assert isinstance(receipt, SendReceipt), receipt
    assert receipt.clock == SEND_CLOCK
    assert before < receipt.sent_at <= utcnow()

    [record] = site.web("form_submission", token)
    assert record.company_id == "labels"
    assert record.at <= receipt.sent_at  # the server took it before the confirmation was seen
    assert record.detail["fields"] == {
        "name": "Anna Berg",
        "email": probe.reply_address,
        "phone": "+43 660 1234567",
        "topic": "other",  # the neutral choice, not the "Please choose…" placeholder
        "subject": "Do you ship to Austria?",
        "message": probe.body,
        "consent": "yes",
    }  # and no newsletter opt-in
    assert site.web("form_rejected", token) == []

    ev = receipt.evidence
    assert ev["fields"] == {
        "name": ["#cf-name"],
        "email": ["#cf-email"],
        "phone": ["#cf-phone"],
        "topic": ["#cf-topic"],
        "subject": ["#cf-subject"],
        "message": ["#cf-message"],
        "consent": ["#cf-consent"],
    }
    assert ev["page_status"] == 200
    assert ev["http_status"] == 303
    assert ev["submission"]["method"] == "POST"
    assert re.search(r"/labels/contact/thanks\?ticket=\d+$", ev["final_url"])
    assert ev["confirmation"] == "Thank you — we have received your message"
    assert re.fullmatch(r"[0-9a-f]{64}", ev["html_sha256"])
    assert ev["honeypots_left_empty"] == [] and ev["unmapped"] == []
    assert set(receipt.artifacts) == {"before.png", "after.png"}
    assert all(png.startswith(PNG) for png in receipt.artifacts.values())
    assert "Anna" not in str(ev) and probe.body not in str(ev)

    # The company answers by email at the per-probe address typed into the form.
    site.run(wait_until(lambda: any(token in r for m in site.sink.messages for r in m.rcpt_tos), timeout=10))


def test_german_placeholder_form_sent_by_fetch_is_confirmed_inline(site: FormSite) -> None:
    _probe, receipt, token = send(site, "placeholders", persona=JONAS, subject="Lieferung nach Österreich?")
    assert isinstance(receipt, SendReceipt), receipt
    ev = receipt.evidence
    assert ev["final_url"] == ev["page_url"]  # no navigation: the page confirmed in place
    assert ev["http_status"] == 200
    assert ev["submission"]["url"].endswith("/placeholders/contact/api")
    assert ev["confirmation"].startswith("Vielen Dank! Wir haben Ihre Nachricht erhalten.")
    assert ev["locale"] == "de-DE"
    assert set(ev["fields"]) == {"name", "email", "subject", "message", "consent"}
    [record] = site.web("form_submission", token)
    assert record.detail["fields"]["name"] == "Jonas Weber"
    assert record.detail["fields"]["subject"] == "Lieferung nach Österreich?"
    assert record.detail["fields"]["consent"] == "on"  # the styled checkbox was ticked through its label
    assert "phone" not in record.detail["fields"] or record.detail["fields"]["phone"] == ""


def test_multistep_form_follows_next_and_submits_both_steps_once(site: FormSite) -> None:
    _probe, receipt, token = send(site, "multistep")
    assert isinstance(receipt, SendReceipt), receipt
    assert receipt.evidence["steps"] == ["Next"]
    assert set(receipt.evidence["fields"]) == {
        "first_name",
        "last_name",
        "email",
        "subject",
        "message",
        "consent",
    }
    [record] = site.web("form_submission", token)
    assert record.detail["fields"]["name"] == "Anna Berg"


def test_honeypots_are_left_empty(site: FormSite) -> None:
    _probe, receipt, token = send(site, "honeypot")
    assert isinstance(receipt, SendReceipt), receipt
    assert sorted(receipt.evidence["honeypots_left_empty"]) == ["#cf-email2", "#cf-website"]
    assert len(site.web("form_submission", token)) == 1
    assert site.web("form_rejected", token) == []


@pytest.mark.parametrize(("cid", "kind"), [("captcha", "captcha"), ("login", "login")])
def test_captcha_and_login_wall_block_without_submitting(site: FormSite, cid: str, kind: str) -> None:
    before = len(site.company_events(cid))
    _probe, error, _token = send(site, cid)
    assert isinstance(error, SendBlocked), error
    assert error.evidence["blocker"]["kind"] == kind
    assert "clicked_at" not in error.evidence
    assert error.artifacts["before.png"].startswith(PNG)
    assert site.company_events(cid)[before:] == []  # nothing was posted at all
    if kind == "captcha":
        assert "reCAPTCHA" in str(error)
    else:
        assert error.evidence["page_url"].endswith("/login/login?next=/login/contact")


def test_a_field_the_filler_cannot_know_fails_before_the_click_with_the_browsers_message(
    site: FormSite,
) -> None:
    before = len(site.company_events("validation"))
    _probe, error, _token = send(site, "validation")
    assert isinstance(error, SendFailed), error
    assert "Order number" in str(error)
    assert "8-digit order number" in str(error)  # the field's own hint
    assert error.evidence["unknown_required"] == ["#cf-order"]
    assert "clicked_at" not in error.evidence
    assert site.company_events("validation")[before:] == []


def test_a_configured_order_number_gets_through(site: FormSite) -> None:
    _probe, receipt, token = send(site, "ordered")
    assert isinstance(receipt, SendReceipt), receipt
    assert receipt.evidence["extra"] == ["#cf-order"]
    [record] = site.web("form_submission", token)
    assert record.detail["fields"]["order"] == "12345678"


def test_a_server_side_refusal_after_the_click_is_a_failure_with_the_sites_message(site: FormSite) -> None:
    _probe, error, token = send(site, "misordered")
    assert isinstance(error, SendFailed), error
    assert "HTTP 422" in str(error)
    assert "We could not find order number 12345670" in str(error)
    assert error.evidence["http_status"] == 422
    assert "clicked_at" in error.evidence
    assert error.artifacts["after.png"].startswith(PNG)
    assert [r.detail["reason"] for r in site.web("form_rejected", token)] == ["unknown-order"]
    assert site.web("form_submission", token) == []


def test_explicit_selectors_topic_submit_and_success_patterns(site: FormSite) -> None:
    _probe, receipt, token = send(site, "explicit")
    assert isinstance(receipt, SendReceipt), receipt
    ev = receipt.evidence
    assert ev["fields"]["name"] == ["#cf-name"] and ev["fields"]["message"] == ["#cf-message"]
    assert ev["submit"] == "#contact-form button.btn"
    assert ev["verdict"].startswith("the URL matches success_url")
    [record] = site.web("form_submission", token)
    assert record.detail["fields"]["topic"] == "returns"


def test_no_confirmation_after_the_click_is_uncertain_never_failed(site: FormSite) -> None:
    _probe, error, token = send(site, "unconfirmed")
    assert isinstance(error, SendUncertain), error
    assert "no confirmation within 2 s" in str(error)
    # Rightly so: the company did get it, and a retry would have asked twice.
    assert len(site.web("form_submission", token)) == 1


def test_a_selector_that_matches_nothing_fails_before_anything_is_sent(site: FormSite) -> None:
    before = len(site.company_events("misconfigured"))
    _probe, error, _token = send(site, "misconfigured")
    assert isinstance(error, SendFailed), error
    assert "'#no-such-field' matched no visible field" in str(error)
    assert site.company_events("misconfigured")[before:] == []


@pytest.mark.parametrize(
    ("broken", "expected", "submitted"), [("invalid_fields", SendFailed, 0), ("decide", SendUncertain, 1)]
)
def test_the_click_is_the_at_most_once_boundary_even_for_unexpected_errors(
    site: FormSite,
    monkeypatch: pytest.MonkeyPatch,
    broken: str,
    expected: type[SendOutcomeError],
    submitted: int,
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(webform, broken, explode)
    _probe, error, token = send(site, "labels")
    assert type(error) is expected, error
    assert "a bug" in str(error)
    assert len(site.web("form_submission", token)) == submitted


LOGIN_ONLY = """<!doctype html><title>Sign in</title><form method="post" action="/login">
<label>User name <input name="user"></label><label>Password <input type="password" name="pw"></label>
<button>Sign in</button></form>"""

LATE_FORM = """<!doctype html><title>Contact</title>
<form action="{base}/labels/newsletter" method="post"><input type="email" name="email" aria-label="Newsletter">
<button>Subscribe</button></form>
<div id="slot"></div>
<script>
setTimeout(() => {{ document.getElementById('slot').innerHTML = `
  <form action="{base}/labels/contact" method="post">
    <input name="name" placeholder="Name"> <input name="email" type="email" placeholder="Email">
    <input name="subject" placeholder="Subject"> <textarea name="message" placeholder="Message"></textarea>
    <label><input type="checkbox" name="privacy" value="yes" required> I accept the privacy policy</label>
    <button type="submit">Send</button>
  </form>`; }}, 700);
</script>"""


def test_a_bare_login_page_blocks_at_once_and_a_late_form_is_waited_for(site: FormSite) -> None:
    assert site.pool is not None
    pages = {"login": LOGIN_ONLY, "labels": LATE_FORM.format(base=site.base)}
    channel = WebFormChannel(
        site.pool, url_for=lambda t: "data:text/html," + quote(pages[t.id]), screenshots=False
    )
    started = time.monotonic()
    with pytest.raises(SendBlocked, match="login wall"):
        site.run(channel.send(site.probe("login")))
    assert time.monotonic() - started < 5  # not the whole wait for a form that will never come
    probe = site.probe("labels")
    receipt = site.run(channel.send(probe))
    assert receipt.evidence["confirmation"] == "Thank you — we have received your message"
    assert len(site.web("form_submission", probe.token)) == 1


def test_pages_that_cannot_be_loaded_fail_cleanly(site: FormSite) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    assert site.pool is not None
    probe = site.probe("labels")
    for url, expected in [
        (f"{site.base}/nobody/contact", "HTTP 404"),
        (f"http://127.0.0.1:{closed}/", "could not open"),
    ]:
        channel = WebFormChannel(site.pool, url_for=lambda _t, u=url: u, screenshots=False)  # type: ignore[misc]
        with pytest.raises(SendFailed, match=expected) as caught:
            site.run(channel.send(probe))
        assert caught.value.artifacts == {}


def test_concurrent_probes_each_submit_exactly_once(site: FormSite) -> None:
    companies = ["labels", "placeholders", "multistep", "honeypot", "labels", "placeholders"]  # > 4 contexts
    probes = [site.probe(c) for c in companies]
    channel = site.channel(screenshots=False)

    async def all_of_them() -> list[SendReceipt]:
        return await asyncio.gather(*(channel.send(p) for p in probes))

    receipts = site.run(all_of_them(), timeout=120)
    assert all(r.clock == SEND_CLOCK and r.artifacts == {} for r in receipts)
    assert [len(site.web("form_submission", p.token)) for p in probes] == [1] * len(probes)
    assert site.pool is not None and site.pool.in_use == 0


def test_describe_listen_and_close(site: FormSite) -> None:
    channel = site.channel()
    assert isinstance(channel, Channel)
    info = channel.describe()
    assert (info.name, info.needs_browser, info.concurrency) == ("form", True, 4)
    assert "email" in info.listens_with

    async def listen_briefly() -> bool:
        task = asyncio.create_task(channel.listen(lambda item: asyncio.sleep(0)))  # type: ignore[arg-type,return-value]
        await asyncio.sleep(0.05)
        running = not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await channel.aclose()
        return running

    assert site.run(listen_briefly())


# ------------------------------------------------------------------------------------------ deciding (pure)

ENDPOINT = FormEndpoint(url="http://x/contact")
BASE = Baseline(
    url="http://x/contact",
    thanks=frozenset({"Thanks for visiting Acme."}),
    alerts=frozenset(),
    captcha=False,
    login=False,
    success_text=False,
)


def seen(text: str = "Thanks for visiting Acme.", url: str = BASE.url, **kw: object) -> Observation:
    return Observation(url=url, text=text, **kw)  # type: ignore[arg-type]


def answered(status: int, at: float = 0.1) -> Submission:
    return Submission("POST", "http://x/contact", started=0.05, status=status, answered=at)


def test_thanks_already_on_the_page_are_no_confirmation() -> None:
    assert decide(ENDPOINT, BASE, seen(), None, now=0.2, clicked=0.0) is None
    verdict = decide(
        ENDPOINT,
        BASE,
        seen("Merci ! Nous avons bien reçu votre demande.\nThanks for visiting Acme."),
        answered(200),
        now=0.2,
        clicked=0.0,
    )
    assert verdict is not None and verdict.outcome == "sent"
    assert verdict.confirmation == "Merci ! Nous avons bien reçu votre demande."


def test_a_thank_you_url_confirms_and_a_plain_navigation_does_not() -> None:
    verdict = decide(ENDPOINT, BASE, seen(url="http://x/kontakt/danke"), answered(303), now=0.3, clicked=0.0)
    assert verdict is not None and verdict.outcome == "sent"
    assert decide(ENDPOINT, BASE, seen(url="http://x/home"), answered(303), now=0.3, clicked=0.0) is None


@pytest.mark.parametrize(
    ("status", "alerts", "now", "outcome"),
    [
        (500, (), 0.2, "uncertain"),
        (503, ("Thank you!",), 0.2, "uncertain"),
        (422, ("Please enter your order number.",), 0.2, "failed"),
        (400, (), 0.5, None),  # the page may still be on its way: wait for the reason …
        (400, (), 3.0, "failed"),  # … but not for ever
    ],
)
def test_http_errors_after_the_click(
    status: int, alerts: tuple[str, ...], now: float, outcome: str | None
) -> None:
    verdict = decide(ENDPOINT, BASE, seen(alerts=alerts), answered(status), now=now, clicked=0.0)
    assert (verdict.outcome if verdict else None) == outcome


def test_errors_shown_without_sending_fail_only_once_they_settle() -> None:
    error = seen(alerts=("Please fill in your email.",))
    assert decide(ENDPOINT, BASE, error, None, now=0.3, clicked=0.0) is None
    verdict = decide(ENDPOINT, BASE, error, None, now=1.2, clicked=0.0)
    assert verdict is not None and verdict.outcome == "failed"
    assert decide(ENDPOINT, BASE, error, answered(200), now=5.0, clicked=0.0) is None  # sent: never "failed"


def test_barriers_appearing_after_the_click() -> None:
    verdict = decide(ENDPOINT, BASE, seen(captcha=True), None, now=0.3, clicked=0.0)
    assert verdict is not None and verdict.outcome == "blocked"
    verdict = decide(ENDPOINT, BASE, seen(captcha=True), answered(403), now=0.3, clicked=0.0)
    assert verdict is not None and verdict.outcome == "blocked"
    assert decide(ENDPOINT, BASE, seen(captcha=True), answered(200), now=0.3, clicked=0.0) is None
    verdict = decide(ENDPOINT, BASE, seen(login=True, url="http://x/login"), None, now=0.3, clicked=0.0)
    assert verdict is not None and verdict.outcome == "blocked"


def test_broken_connections_after_the_click() -> None:
    refused = Submission("POST", "http://x/", 0.1, failure="net::ERR_CONNECTION_REFUSED")
    reset = Submission("POST", "http://x/", 0.1, failure="net::ERR_CONNECTION_RESET")
    assert decide(ENDPOINT, BASE, seen(), refused, now=0.2, clicked=0.0).outcome == "failed"  # type: ignore[union-attr]
    assert decide(ENDPOINT, BASE, seen(), reset, now=0.2, clicked=0.0).outcome == "uncertain"  # type: ignore[union-attr]


def test_configured_success_patterns_replace_the_heuristics() -> None:
    endpoint = FormEndpoint(url="http://x/", success_text=r"Ticket #\d+", timeout=timedelta(seconds=5))
    assert decide(endpoint, BASE, seen("Thank you!"), answered(200), now=0.3, clicked=0.0) is None
    verdict = decide(endpoint, BASE, seen("Done. Ticket #4711 opened."), answered(200), now=0.3, clicked=0.0)
    assert verdict is not None and verdict.confirmation == "Done. Ticket #4711 opened."
    already = Baseline(**{**BASE.__dict__, "success_text": True})
    assert decide(endpoint, already, seen("Ticket #1"), answered(200), now=0.3, clicked=0.0) is None


def test_thank_you_wording_in_six_languages() -> None:
    text = "\n".join(
        [
            "Thank you, we have received your message.",
            "Vielen Dank! Ihre Anfrage wurde erfolgreich übermittelt.",
            "Votre message a bien été envoyé.",
            "Hemos recibido su consulta.",
            "Grazie! Abbiamo ricevuto la tua richiesta.",
            "Bedankt, we hebben uw bericht ontvangen.",
            "Please fill in all fields.",
        ]
    )
    assert len(thank_you_lines(text)) == 6
