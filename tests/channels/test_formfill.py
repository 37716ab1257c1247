"""Contact-form recognition: the pure multilingual classifier, planning from a scan, and the in-page scan
and fill in a real Chromium (honeypots, styled checkboxes, explicit selectors)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from replybench.channels.formfill import (
    Button,
    CaptchaSign,
    Control,
    FieldDescriptor,
    FillReport,
    FormValues,
    Invalid,
    Option,
    Scan,
    assign_roles,
    autofill,
    choose_form,
    choose_option,
    classify_field,
    find_blocker,
    find_next,
    find_submit,
    invalid_fields,
    normalize,
    plan_fill,
    scan_page,
)
from replybench.models import FormFields
from tests.channels.formsite import FormSite, start_site, stop_site

F = FieldDescriptor

# ------------------------------------------------------------------------------------------ classifier

#: (descriptor, expected role): the same questions as real sites ask them, in six languages.
EXAMPLES: list[tuple[FieldDescriptor, str | None]] = [
    (F(label="Your name"), "name"),
    (F(label="Full name *"), "name"),
    (F(label="Email address", type="email"), "email"),
    (F(label="Phone (optional)", type="tel"), "phone"),
    (F(label="Subject"), "subject"),
    (F(tag="textarea", label="How can we help?"), "message"),
    (F(tag="select", label="Topic", options=("Please choose…", "Orders")), "topic"),
    (F(type="checkbox", label="I have read the privacy policy and agree"), "consent"),
    (F(label="First name"), "first_name"),
    (F(label="Last name"), "last_name"),
    (F(name="firstName"), "first_name"),
    (F(name="your-email"), "email"),
    (F(name="contact[phone_number]"), "phone"),
    # German
    (F(placeholder="Ihr Name"), "name"),
    (F(placeholder="Ihre E-Mail-Adresse"), "email"),
    (F(placeholder="Telefon (optional)"), "phone"),
    (F(label="Telefonnummer"), "phone"),
    (F(placeholder="Betreff"), "subject"),
    (F(tag="textarea", placeholder="Ihre Nachricht"), "message"),
    (F(label="Vorname"), "first_name"),
    (F(label="Nachname"), "last_name"),
    (F(label="Vor- und Nachname"), "name"),
    (F(tag="select", label="Ihr Anliegen"), "topic"),
    (F(type="checkbox", label="Ich habe die Datenschutzerklärung gelesen und bin einverstanden."), "consent"),
    # French
    (F(label="Prénom"), "first_name"),
    (F(label="Nom de famille"), "last_name"),
    (F(label="Adresse e-mail"), "email"),
    (F(label="Courriel"), "email"),
    (F(label="Téléphone"), "phone"),
    (F(label="Objet"), "subject"),
    (F(tag="textarea", label="Votre message"), "message"),
    (F(type="checkbox", label="J'accepte la politique de confidentialité"), "consent"),
    # Spanish
    (F(label="Nombre y apellidos"), "name"),
    (F(label="Correo electrónico"), "email"),
    (F(label="Teléfono"), "phone"),
    (F(label="Asunto"), "subject"),
    (F(tag="textarea", label="Mensaje"), "message"),
    (F(type="checkbox", label="Acepto la política de privacidad"), "consent"),
    # Italian
    (F(label="Cognome"), "last_name"),
    (F(label="Indirizzo email"), "email"),
    (F(label="Oggetto"), "subject"),
    (F(tag="textarea", label="Messaggio"), "message"),
    (F(type="checkbox", label="Accetto l'informativa sulla privacy"), "consent"),
    # Dutch
    (F(label="Voornaam"), "first_name"),
    (F(label="Achternaam"), "last_name"),
    (F(label="E-mailadres"), "email"),
    (F(label="Telefoonnummer"), "phone"),
    (F(label="Onderwerp"), "subject"),
    (F(tag="textarea", label="Uw bericht"), "message"),
    (F(type="checkbox", label="Ik ga akkoord met de privacyverklaring"), "consent"),
    # what a probe must never fill
    (F(label="Company name"), None),
    (F(label="Firmenname"), None),
    (F(label="Bedrijfsnaam"), None),
    (F(label="Order number", title="Your 8-digit order number"), None),
    (F(label="Bestellnummer"), None),
    (F(label="Street address"), None),
    (F(label="Website"), None),
    (F(label="Username"), None),
    (F(label="Email or customer number", autocomplete="username"), None),
    (F(type="password", label="Password"), None),
    (F(type="search", name="q", placeholder="Search"), None),
    (F(type="hidden", name="email"), None),
    (F(type="file", label="Attachment"), None),
    (F(type="checkbox", label="Send me the newsletter with offers"), None),
    (F(type="checkbox", label="I agree to receive marketing emails"), None),
    (F(tag="select", label="Country"), None),
    (F(tag="textarea", label="Address"), None),
    (F(tag="textarea"), "message"),
]


@pytest.mark.parametrize(("field", "role"), EXAMPLES, ids=lambda v: getattr(v, "label", "") or str(v))
def test_examples_in_six_languages(field: FieldDescriptor, role: str | None) -> None:
    assert classify_field(field) == role


def test_normalize_reads_people_and_programmers_alike() -> None:
    assert normalize("Ihre E-Mail-Adresse:") == "ihre email adresse"
    assert normalize("Téléphone *") == "telephone"
    assert normalize("firstName", identifier=True) == "first name"
    assert normalize("contact[e_mail]", identifier=True) == "contact email"


LABELLED = [(f, r) for f, r in EXAMPLES if f.label and f.type not in ("password", "hidden")]
_NOISE = st.sampled_from([" ", "  ", "\t", "\n", "*", ":", " *", "(", ")", "…", "!", " - ", "\u00a0"])


@st.composite
def noisy(draw: st.DrawFn, text: str) -> str:
    """``text`` with its case flipped at random and noise around and between its words."""
    words = text.split()
    out = [draw(st.lists(_NOISE, max_size=2).map("".join))]
    for word in words:
        flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
        out.append("".join(c.swapcase() if f else c for c, f in zip(word, flips, strict=True)))
        out.append(draw(st.lists(_NOISE, min_size=1, max_size=2).map("".join)))
    return "".join(out)


@given(data=st.data(), index=st.integers(0, len(LABELLED) - 1))
def test_role_is_stable_under_case_whitespace_and_punctuation_noise(data: st.DataObject, index: int) -> None:
    field, role = LABELLED[index]
    label = data.draw(noisy(field.label))
    assert (
        classify_field(
            F(tag=field.tag, type=field.type, label=label, title=field.title, autocomplete=field.autocomplete)
        )
        == role
    )


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40)
_TYPES = st.sampled_from(["text", "email", "tel", "number", "url", ""])


@st.composite
def descriptors(draw: st.DrawFn, *, type_: st.SearchStrategy[str] = _TYPES) -> FieldDescriptor:
    return F(
        tag=draw(st.sampled_from(["input", "input", "textarea", "select"])),
        type=draw(type_),
        name=draw(_TEXT),
        id=draw(_TEXT),
        label=draw(_TEXT),
        aria_label=draw(_TEXT),
        placeholder=draw(_TEXT),
        autocomplete=draw(st.sampled_from(["", "on", "off", "name", "tel", "organization", "given-name"])),
        title=draw(_TEXT),
        context=draw(_TEXT),
        options=tuple(draw(st.lists(_TEXT, max_size=3))),
    )


@given(
    descriptors(type_=st.sampled_from(["text", "email", "tel", ""])),
    st.sampled_from(["type", "autocomplete"]),
)
def test_type_email_or_autocomplete_email_always_means_the_email_address(
    field: FieldDescriptor, how: str
) -> None:
    if how == "type":
        field = F(**{**field.__dict__, "tag": "input", "type": "email"})
    else:
        field = F(
            **{
                **field.__dict__,
                "tag": "input",
                "autocomplete": f"section-a {field.autocomplete} email".strip(),
            }
        )
    assert classify_field(field) == "email"


@given(descriptors())
def test_password_fields_never_map(field: FieldDescriptor) -> None:
    assert classify_field(F(**{**field.__dict__, "tag": "input", "type": "password"})) is None
    assert classify_field(F(**{**field.__dict__, "autocomplete": "current-password"})) is None


@given(descriptors(type_=st.sampled_from(["text", "tel", "number", "url", ""])))
def test_text_that_never_says_mail_never_maps_to_email(field: FieldDescriptor) -> None:
    words = " ".join(
        normalize(t, identifier=i)
        for t, i in [
            (field.label, False),
            (field.aria_label, False),
            (field.placeholder, False),
            (f"{field.name} {field.id}", True),
            (field.title, False),
            (field.context, False),
        ]
    )
    assume(not re.search(r"mail|courriel|correo|posta", words))
    assert classify_field(field) != "email"


@given(descriptors(), st.sampled_from(["newsletter", "Newsletter abonnieren", "marketing offers", "SMS"]))
def test_a_checkbox_is_consent_or_nothing_and_never_a_marketing_opt_in(
    field: FieldDescriptor, opt_in: str
) -> None:
    box = F(**{**field.__dict__, "tag": "input", "type": "checkbox"})
    assert classify_field(box) in ("consent", None)
    assert classify_field(F(**{**box.__dict__, "label": f"I agree: {opt_in}"})) is None


@settings(max_examples=50)
@given(descriptors())
def test_a_select_is_a_topic_or_nothing(field: FieldDescriptor) -> None:
    assert classify_field(F(**{**field.__dict__, "tag": "select", "type": "select"})) in ("topic", None)


# ------------------------------------------------------------------------------------------ reading a scan


def ctl(index: int, form: int = 0, **kw: object) -> Control:
    descriptor = F(**{k: v for k, v in kw.items() if k in F.__dataclass_fields__})  # type: ignore[arg-type]
    rest = {k: v for k, v in kw.items() if k not in F.__dataclass_fields__}
    return Control(
        index=index,
        selector=f'[data-replybench-field="{index}"]',
        css=f"#f{index}",
        descriptor=descriptor,
        form=form,
        **rest,
    )  # type: ignore[arg-type]


def test_name_pairs_are_read_together() -> None:
    french = assign_roles([ctl(0, label="Prénom"), ctl(1, label="Nom")])
    spanish = assign_roles([ctl(0, label="Nombre"), ctl(1, label="Apellidos")])
    alone = assign_roles([ctl(0, label="Nom"), ctl(1, label="Courriel")])
    assert french == {0: "first_name", 1: "last_name"}
    assert spanish == {0: "first_name", 1: "last_name"}
    assert alone == {0: "name", 1: "email"}


def test_options_skip_placeholders_prefer_a_neutral_choice_and_honour_the_configured_topic() -> None:
    options = [
        Option("", "Please choose…"),
        Option("x", "-- Bitte wählen --", disabled=True),
        Option("orders", "Orders and delivery"),
        Option("other", "Something else"),
    ]
    assert choose_option(options, None) == options[3]
    assert choose_option(options[:3], None) == options[2]
    assert choose_option(options, "orders and DELIVERY") == options[2]
    assert choose_option(options, "orders") == options[2]
    assert choose_option(options, "Returns") is None
    assert choose_option([Option("", "Bitte auswählen")], None) is None


VALUES = FormValues(
    name="Anna Berg",
    first_name="Anna",
    last_name="Berg",
    email="anna.berg+tok123@probes.example",
    phone=None,
    subject="Shipping?",
    message="Line one\nLine two",
)


def test_plan_fills_the_contact_form_and_nothing_else() -> None:
    scan = Scan(
        url="http://x/",
        controls=(
            ctl(0, form=0, type="email", label="Newsletter"),  # the footer's sign-up form
            ctl(1, form=1, label="Your name", required=True),
            ctl(2, form=1, type="email", label="Email", required=True),
            ctl(
                3,
                form=1,
                type="email",
                label="Email address",
                visible=False,
                hidden=("off-screen",),
                honeypot=("off-screen", "tabindex=-1"),
            ),
            ctl(4, form=1, type="tel", label="Phone"),
            ctl(5, form=1, tag="textarea", type="textarea", label="Message", required=True),
            ctl(6, form=1, label="Company"),
            ctl(7, form=1, label="Reference", required=True),
            ctl(8, form=1, label="Order number", required=True, pattern="[0-9]{8}"),
            ctl(9, form=1, type="checkbox", label="I accept the terms", required=True),
            ctl(
                10,
                form=1,
                type="checkbox",
                label="Tick me",
                required=True,
                visible=False,
                via_label='[data-replybench-label="0"]',
            ),
            ctl(11, form=1, type="text", label="Subject", visible=False, hidden=("not rendered",)),
        ),
    )
    plan = plan_fill(scan, VALUES)
    done = {a.selector.split('"')[1]: a for a in plan.actions}
    assert plan.report.form == 1
    assert sorted(done, key=int) == ["1", "2", "5", "7", "9", "10"]
    assert done["2"].value == VALUES.email
    assert done["5"].value == "Line one\nLine two"
    assert done["7"].value == "n/a"
    assert done["10"].via_label == '[data-replybench-label="0"]'
    assert plan.report.roles == {"name": ["#f1"], "email": ["#f2"], "message": ["#f5"], "consent": ["#f9"]}
    assert plan.report.honeypots == ["#f3"]
    assert plan.report.unknown_required == ["#f8"]
    assert plan.report.unmapped == ["#f6"]
    assert plan.report.defaulted == {"#f7": "neutral text", "#f10": "checked"}
    assert "Anna" not in str(plan.report.evidence())


def test_explicit_selectors_win_and_the_rest_is_found_automatically() -> None:
    scan = Scan(
        url="http://x/",
        controls=(
            ctl(0, form=0, label="Your name"),
            ctl(1, form=0, label="Your question"),  # looks like the message, but the site says it is #f2
            ctl(2, form=0, tag="textarea", type="textarea", label="Anything else?"),
            ctl(3, form=0, type="email", label="Email"),
            ctl(4, form=0, label="Betreff", tag="input"),
        ),
        explicit={"role:message": 2, "role:subject": None, "role:phone": "invalid", "extra:#f4": 4},
    )
    plan = plan_fill(
        scan,
        VALUES,
        explicit=FormFields(message="#f2", subject="#nothing", phone="#[broken"),
        extra={"#f4": "Fixed subject"},
    )
    by = {a.css: a for a in plan.actions}
    assert by["#f2"].source == "explicit" and by["#f2"].value == VALUES.message
    assert by["#f4"].source == "extra" and by["#f4"].value == "Fixed subject"
    assert plan.report.roles == {"message": ["#f2"], "name": ["#f0"], "email": ["#f3"]}
    assert plan.report.unmapped == ["#f1"]
    assert plan.report.explicit_done == {"message"}  # the subject selector matched nothing (yet)
    assert plan.report.extra_done == {"#f4"}
    assert plan.report.problems == ["'#[broken' is not a valid CSS selector"]


def test_reports_merge_over_steps_and_record_no_values() -> None:
    first = FillReport(form=0, roles={"email": ["#e"]}, unmapped=["#later"], explicit_done={"email"})
    second = FillReport(
        form=0, roles={"message": ["#m"], "email": ["#e"]}, defaulted={"#later": "neutral text"}
    )
    merged = first.merge(second)
    assert merged.roles == {"email": ["#e"], "message": ["#m"]}
    assert merged.unmapped == []
    assert merged.explicit_done == {"email"}
    assert merged.has("message") and not merged.has("subject")


def button(index: int, text: str, type_: str = "submit", form: int = 0, **kw: object) -> Button:
    return Button(index, f'[b="{index}"]', f"#b{index}", "button", type_, text, form, **kw)  # type: ignore[arg-type]


def test_submit_and_next_buttons_in_several_languages() -> None:
    scan = Scan(
        url="http://x/",
        buttons=(
            button(0, "Search", form=-1),
            button(1, "Zurück", type_="button"),
            button(2, "Weiter", type_="button"),
            button(3, "Abonnieren", form=1),
            button(4, "Nachricht senden"),
            button(5, "Hidden send", visible=False),
        ),
    )
    assert find_next(scan, 0) == scan.buttons[2]
    assert find_submit(scan, 0) == scan.buttons[4]
    assert find_submit(scan, 1) is None
    french = Scan(
        url="",
        buttons=(
            button(0, "Suivant", type_="button"),
            button(1, "OK", type_="button"),
            button(2, "Envoyer", type_="button"),
        ),
    )
    assert find_next(french, 0) == french.buttons[0]
    assert find_submit(french, 0) == french.buttons[2]


def test_blockers_visible_captcha_and_login_wall_but_not_an_invisible_badge() -> None:
    form = (ctl(0, type="email", label="Email"), ctl(1, tag="textarea", type="textarea", label="Message"))
    badge = CaptchaSign("recaptcha-score", ".grecaptcha-badge", visible=False)
    assert find_blocker(Scan(url="", controls=form, captchas=(badge,))) is None
    blocker = find_blocker(Scan(url="", controls=form, captchas=(CaptchaSign("hcaptcha", ".h-captcha"),)))
    assert blocker is not None and blocker.kind == "captcha"
    login = (ctl(0, label="Username"), ctl(1, type="password", label="Password"))
    blocker = find_blocker(Scan(url="", controls=login))
    assert blocker is not None and blocker.kind == "login"
    assert find_blocker(Scan(url="", controls=(*form, ctl(2, type="password", label="Password")))) is None


def test_choose_form_prefers_the_message_form_over_a_newsletter() -> None:
    scan = Scan(
        url="",
        controls=(
            ctl(0, form=2, type="email"),
            ctl(1, form=5, label="Name"),
            ctl(2, form=5, tag="textarea", type="textarea"),
        ),
    )
    assert choose_form(scan, assign_roles(scan.controls)) == 5
    assert choose_form(Scan(url=""), {}) is None


def test_values_of_a_probe(site: FormSite) -> None:
    probe = site.probe("labels")
    values = FormValues.for_probe(probe)
    assert (values.name, values.first_name, values.last_name) == ("Anna Berg", "Anna", "Berg")
    assert values.email == probe.reply_address and probe.token in values.email
    assert values.phone == "+43 660 1234567"
    assert (values.subject, values.message, values.topic) == (probe.subject, probe.body, None)
    assert FormValues.for_probe(site.probe("explicit")).topic == "Returns and refunds"


# ------------------------------------------------------------------------------------------ in Chromium


@pytest.fixture(scope="module")
def site(chromium: str) -> Iterator[FormSite]:
    running = start_site(chromium, pool_size=2)
    yield running
    stop_site(running)


TRAPS = """<!doctype html><html lang="fr"><body>
<style>.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0,0,0,0)}
.away{position:absolute;left:-9999px}</style>
<form id="f" action="/nowhere" method="post">
  <label for="p">Prénom</label><input id="p" name="prenom" required>
  <label for="n">Nom</label><input id="n" name="nom" required>
  <label for="e">Courriel</label><input id="e" name="courriel" type="text" required>
  <div class="away"><label for="e2">Courriel</label><input id="e2" name="courriel2"></div>
  <div aria-hidden="true"><input id="e3" name="email_confirm" type="email"></div>
  <input id="e4" name="hp_mail" type="email" style="display:none">
  <input id="e5" name="zero" type="email" style="width:0;height:0;border:0;padding:0">
  <input id="url" name="url" tabindex="-1" style="visibility:hidden">
  <span>Sujet</span><input id="s" name="x1">
  <label for="t">Motif</label><select id="t" name="motif" required>
    <option value="">Choisissez…</option><option value="cmd">Commande</option>
    <option value="autre">Autre</option></select>
  <textarea id="m" name="message" required></textarea>
  <label class="box"><input class="sr" type="checkbox" id="c" required>
    J'accepte la politique de confidentialité</label>
  <label for="w">Société</label><input id="w" name="societe">
  <label for="o">N° de commande</label><input id="o" name="cmd" required pattern="[0-9]{8}" title="8 chiffres">
  <button type="submit">Envoyer</button>
</form></body></html>"""


async def _page_with(site: FormSite, html: str) -> tuple[Scan, FillReport, dict[str, object], list[Invalid]]:
    assert site.pool is not None
    async with site.pool.context(locale="fr-FR") as ctx:
        page = await ctx.new_page()
        await page.set_content(html)
        scan = await scan_page(page)
        report = await autofill(page, VALUES, explicit=None, extra={"#w": "ACME"}, topic=None)
        values = await page.evaluate(
            """() => Object.fromEntries([...document.querySelectorAll('input,select,textarea')]
                 .map((e) => [e.id || e.getAttribute('aria-label') || e.type,
                               e.type === 'checkbox' ? e.checked : e.value]))"""
        )
        invalid = await invalid_fields(page, report.form)
        return scan, report, values, invalid


def test_scan_and_autofill_in_chromium_leave_every_trap_empty(site: FormSite) -> None:
    scan, report, values, invalid = site.run(_page_with(site, TRAPS))
    by_id = {c.descriptor.id: c for c in scan.controls}
    assert by_id["e"].visible and by_id["e"].descriptor.label == "Courriel"
    assert by_id["s"].descriptor.context == "Sujet"
    assert "off-screen" in by_id["e2"].honeypot
    assert "aria-hidden" in by_id["e3"].honeypot
    assert by_id["e4"].hidden == ("not rendered",) and "bot-trap name" in by_id["e4"].honeypot
    assert "zero size" in by_id["e5"].honeypot
    assert "tabindex=-1" in by_id["url"].honeypot
    assert by_id["c"].via_label is not None and not by_id["c"].honeypot
    assert [o.text for o in by_id["t"].options] == ["Choisissez…", "Commande", "Autre"]

    assert values["p"] == "Anna" and values["n"] == "Berg"
    assert values["e"] == VALUES.email
    assert values["s"] == "Shipping?"
    assert values["t"] == "autre"
    assert values["m"] == "Line one\nLine two"
    assert values["c"] is True
    assert values["w"] == "ACME"
    assert all(values[trap] == "" for trap in ("e2", "e3", "e4", "e5", "url"))
    assert values["o"] == ""
    assert sorted(report.honeypots) == ["#e2", "#e3", "#e4", "#e5", "#url"]
    assert report.unknown_required == ["#o"]
    assert [i.field for i in invalid] == ["N° de commande"]
    assert "8 chiffres" in str(invalid[0])


FORMLESS = """<!doctype html><html><body>
<header><input type="search" placeholder="Search"></header>
<div class="contact" role="form">
  <input aria-label="Your name"><input aria-label="E-mail"><textarea aria-label="Your question"></textarea>
  <div role="button" tabindex="0">Send</div>
</div></body></html>"""


def test_fields_outside_any_form_element_are_filled_too(site: FormSite) -> None:
    scan, report, values, invalid = site.run(_page_with(site, FORMLESS))
    assert report.form == -1
    assert set(report.roles) == {"name", "email", "message"}
    assert values == {
        "search": "",
        "Your name": VALUES.name,
        "E-mail": VALUES.email,
        "Your question": VALUES.message,
    }
    submit = find_submit(scan, -1)
    assert submit is not None and submit.text == "Send" and submit.type == "role"
    assert invalid == []
