"""The sandbox's contact pages over plain HTTP (what the server accepts, refuses and records) and in Chromium
(the pages' scripts work, and nothing is loaded from anywhere but 127.0.0.1)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from replybench.models import Endpoints, FormEndpoint, SandboxBehaviour, Target
from replybench.sandbox import Sandbox
from replybench.sandbox.forms import order_number_known
from replybench.tokens import new_token
from tests.asynctest import async_test
from tests.channels.formsite import PROBE_DOMAIN, VARIANTS, FormSite, start_site, stop_site
from tests.sandbox.helpers import wait_until


@pytest.fixture(scope="module")
def site() -> Iterator[FormSite]:
    running = start_site(None)
    yield running
    stop_site(running)


@pytest.fixture
def http(site: FormSite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base, follow_redirects=False, timeout=10) as client:
        yield client


def form(token: str, **changes: str) -> dict[str, str]:
    data = {
        "name": "Anna Berg",
        "email": f"anna.berg+{token}@{PROBE_DOMAIN}",
        "phone": "",
        "topic": "orders",
        "subject": "Do you ship to Austria?",
        "message": "Hello, do you ship to Austria?",
        "privacy": "yes",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def events(site: FormSite, token: str) -> list[tuple[str, str | None]]:
    return [
        (r.kind, r.detail.get("reason"))
        for r in site.sandbox.truth.web()
        if token in str(r.detail.get("fields", {}).get("email", ""))
    ]


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "login"])
def test_every_variant_serves_its_contact_page(http: httpx.Client, variant: str) -> None:
    page = http.get(f"/{variant}/contact")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert f"{variant.title()} GmbH" in html
    assert 'action="/' + variant + '/newsletter"' in html  # every page has a decoy form in its footer
    markers = {
        "labels": ['<label for="cf-email">', 'name="privacy"', '<option value="">Please choose…</option>'],
        "placeholders": ['lang="de"', 'placeholder="Ihre E-Mail-Adresse"', "fetch(form.dataset.endpoint"],
        "multistep": ['<fieldset id="step-2" hidden>', 'id="ms-next"'],
        "honeypot": ['name="website" tabindex="-1"', 'class="form-extra" aria-hidden="true"'],
        "captcha": ['class="g-recaptcha"', 'src="/captcha/captcha/anchor?k=6Lc-sandbox-captcha&amp;hl=en"'],
        "validation": ['pattern="[0-9]{8}"'],
    }[variant]
    for marker in markers:
        assert marker in html
    if variant == "placeholders":
        contact_form = html[
            html.index('<form id="kontakt"') : html.index("</form>", html.index('<form id="kontakt"'))
        ]
        assert "<label for" not in contact_form


def test_labels_submission_is_thanked_recorded_and_answered_by_email(
    site: FormSite, http: httpx.Client
) -> None:
    token = new_token()
    answer = http.post("/labels/contact", data=form(token))
    assert answer.status_code == 303
    assert re.fullmatch(r"/labels/contact/thanks\?ticket=\d+", answer.headers["location"])
    thanks = http.get(answer.headers["location"])
    assert "Thank you — we have received your message" in thanks.text
    ticket = answer.headers["location"].rsplit("=", 1)[1]
    assert f"Your ticket number is #{ticket}." in thanks.text

    [record] = site.web("form_submission", token)
    assert record.company_id == "labels"
    assert record.detail["ticket"] == int(ticket)
    assert record.detail["fields"]["email"] == f"anna.berg+{token}@{PROBE_DOMAIN}"
    assert record.detail["fields"]["topic"] == "orders"
    [probe] = [p for p in site.sandbox.truth.probes if p.token == token]
    assert probe.company_id == "labels" and probe.subject == "Do you ship to Austria?"
    # The help desk answers the address from the form by email (routed to the sink).
    site.run(wait_until(lambda: any(token in r for m in site.sink.messages for r in m.rcpt_tos), timeout=10))


@pytest.mark.parametrize(
    ("changes", "reason", "message"),
    [
        ({"email": "not-an-address"}, "invalid-email", "Please enter a valid email address."),
        ({"message": "   "}, "empty-message", "Please enter your message."),
        ({"privacy": None}, "consent", "Please agree to the privacy policy"),
    ],
)
def test_invalid_submissions_are_refused_with_422_and_recorded(
    site: FormSite, http: httpx.Client, changes: dict[str, str | None], reason: str, message: str
) -> None:
    token = new_token()
    data = form(token, **{k: v for k, v in changes.items() if v is not None})
    for key in [k for k, v in changes.items() if v is None]:
        data.pop(key)
    if reason == "invalid-email":
        data["name"] = token  # the address carries no token; find the record by the name
    answer = http.post("/labels/contact", data=data)
    assert answer.status_code == 422
    assert message in answer.text
    assert 'role="alert"' in answer.text
    rejected = [r for r in site.sandbox.truth.web("form_rejected") if token in str(r.detail["fields"])]
    assert [r.detail["reason"] for r in rejected] == [reason]
    assert not [p for p in site.sandbox.truth.probes if p.token == token]


def test_a_filled_honeypot_is_thanked_but_never_reaches_the_help_desk(
    site: FormSite, http: httpx.Client
) -> None:
    token = new_token()
    answer = http.post("/honeypot/contact", data=form(token, website="http://spam.example"))
    assert answer.status_code == 303 and "/honeypot/contact/thanks" in answer.headers["location"]
    assert events(site, token) == [("form_rejected", "honeypot")]
    [record] = site.web("form_rejected", token)
    assert record.detail["traps"] == ["website"]
    assert not [p for p in site.sandbox.truth.probes if p.token == token]

    clean = new_token()
    assert http.post("/honeypot/contact", data=form(clean, website="", email_address="")).status_code == 303
    assert events(site, clean) == [("form_submission", None)]


def test_captcha_without_a_solved_token_is_refused(site: FormSite, http: httpx.Client) -> None:
    token = new_token()
    answer = http.post("/captcha/contact", data=form(token, **{"g-recaptcha-response": "forged"}))
    assert answer.status_code == 403
    assert "Please confirm that you are not a robot." in answer.text
    assert events(site, token) == [("form_rejected", "captcha")]
    anchor = http.get("/captcha/captcha/anchor?k=x")
    assert anchor.status_code == 200 and "I'm not a robot" in anchor.text


def test_login_wall_redirects_and_no_password_is_ever_right(site: FormSite, http: httpx.Client) -> None:
    page = http.get("/login/contact")
    assert page.status_code == 303 and page.headers["location"].startswith("/login/login?next=")
    login = http.get(page.headers["location"])
    assert "Please sign in to contact us" in login.text and 'type="password"' in login.text
    assert http.post("/login/login", data={"username": "anna", "password": "guess"}).status_code == 401
    before = len(site.company_events("login"))
    assert http.post("/login/contact", data=form(new_token())).status_code == 303
    assert [r.detail["reason"] for r in site.company_events("login")[before:]] == ["login"]


@pytest.mark.parametrize(
    ("order", "status", "reason", "message"),
    [
        ("1234", 422, "order-number", "Please enter your 8-digit order number."),
        ("12345670", 422, "unknown-order", "We could not find order number 12345670."),
        ("12345678", 303, None, None),
    ],
)
def test_validation_checks_the_order_number_on_the_server_too(
    site: FormSite, http: httpx.Client, order: str, status: int, reason: str | None, message: str | None
) -> None:
    token = new_token()
    answer = http.post("/validation/contact", data=form(token, order=order))
    assert answer.status_code == status
    if message is not None:
        assert message in answer.text
    expected = [("form_rejected", reason)] if reason else [("form_submission", None)]
    assert events(site, token) == expected


@given(st.from_regex(r"[0-9]{7}", fullmatch=True))
def test_exactly_one_check_digit_completes_an_order_number(prefix: str) -> None:
    assert [d for d in "0123456789" if order_number_known(prefix + d)] == [str(sum(map(int, prefix)) % 10)]


def test_the_german_json_endpoint_answers_in_json(site: FormSite, http: httpx.Client) -> None:
    token = new_token()
    good = {
        "f_n": "Jonas Weber",
        "f_m": f"jonas+{token}@{PROBE_DOMAIN}",
        "f_b": "Versand",
        "f_x": "Hallo",
        "f_d": "on",
    }
    answer = http.post("/placeholders/contact/api", json=good)
    assert answer.status_code == 200 and answer.json()["ok"] is True
    [record] = site.web("form_submission", token)
    assert record.detail["fields"] == {
        "name": "Jonas Weber",
        "email": f"jonas+{token}@{PROBE_DOMAIN}",
        "subject": "Versand",
        "message": "Hallo",
        "consent": "on",
    }
    bad = http.post("/placeholders/contact/api", json={**good, "f_m": token, "f_x": ""})
    assert bad.status_code == 422
    assert (
        bad.json()["error"]
        == "Bitte geben Sie eine gültige E-Mail-Adresse ein. Bitte geben Sie Ihre Nachricht ein."
    )
    assert http.post("/labels/contact/api", json=good).status_code == 404
    assert (
        http.post(
            "/placeholders/contact/api", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )


def test_multistep_posts_first_and_last_name_as_one_name(site: FormSite, http: httpx.Client) -> None:
    token = new_token()
    data = {
        "first_name": "Anna",
        "last_name": "Berg",
        "email": f"a+{token}@{PROBE_DOMAIN}",
        "subject": "S",
        "message": "M",
        "consent": "yes",
    }
    assert http.post("/multistep/contact", data=data).status_code == 303
    [record] = site.web("form_submission", token)
    assert record.detail["fields"]["name"] == "Anna Berg"


def test_unknown_companies_and_the_newsletter(site: FormSite, http: httpx.Client) -> None:
    assert http.get("/nobody/contact").status_code == 404
    assert http.get("/nobody/contact/thanks").status_code == 404
    before = len(site.company_events("labels"))
    assert http.post("/labels/newsletter", data={"email": "x@y.example"}).status_code == 200
    assert [r.detail["reason"] for r in site.company_events("labels")[before:]] == ["not-a-contact-form"]


@async_test
async def test_company_names_are_escaped_and_web_only_companies_get_a_mailbox() -> None:
    hostile = Target(
        id="hostile",
        name='Tom & Jerry <script>alert("x")</script>',
        endpoints=Endpoints(form=FormEndpoint(url="http://sandbox.invalid/")),
        sandbox=SandboxBehaviour(form="labels"),
    )
    async with Sandbox([hostile]) as sandbox, httpx.AsyncClient(base_url=sandbox.web.base_url) as client:
        html = (await client.get("/hostile/contact")).text
    assert "<script>alert" not in html
    assert "Tom &amp; Jerry &lt;script&gt;" in html


# ------------------------------------------------------------------------------------------ in Chromium


@pytest.fixture(scope="module")
def browser_site(chromium: str) -> Iterator[FormSite]:
    running = start_site(chromium, pool_size=2)
    yield running
    stop_site(running)


async def _load_everything(site: FormSite) -> tuple[list[str], dict[str, bool]]:
    assert site.pool is not None
    requested: list[str] = []
    shown: dict[str, bool] = {}
    async with site.pool.context() as ctx:
        ctx.on("request", lambda r: requested.append(r.url))
        page = await ctx.new_page()
        for variant in VARIANTS:
            await page.goto(site.url(variant), wait_until="load")
        await page.goto(site.url("multistep"))
        await page.fill("#ms-first", "Anna")
        await page.fill("#ms-last", "Berg")
        await page.fill("#ms-email", "anna@example.org")
        shown["before"] = await page.is_visible("#ms-subject")
        await page.click("#ms-next")
        await page.wait_for_selector("#ms-subject", state="visible")
        shown["after"] = await page.is_visible("#ms-subject")
        shown["step 1 hidden"] = not await page.is_visible("#ms-first")
    return requested, shown


def test_pages_work_in_chromium_and_load_nothing_from_elsewhere(browser_site: FormSite) -> None:
    requested, shown = browser_site.run(_load_everything(browser_site))
    assert any("/captcha/anchor" in u for u in requested)
    assert any("/login/login" in u for u in requested)
    assert all(u.startswith(browser_site.base + "/") for u in requested), requested
    assert shown == {"before": False, "after": True, "step 1 hidden": True}
