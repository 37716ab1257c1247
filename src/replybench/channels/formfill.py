"""Recognising and filling contact-form fields, the way a careful person would.

Three layers, so that most of it is testable without a browser:

* :func:`classify_field` — pure and multilingual (en, de, fr, es, it, nl): what a field asks for, from the
  text a person reads next to it (label, placeholder, aria hints) and the hints a browser's autofill uses
  (``type``, ``autocomplete``, ``name``, ``id``).
* :func:`scan_page` — one ``evaluate`` round trip that lists a page's controls, buttons and CAPTCHA widgets
  with visibility and bot-trap (honeypot) signals, tagging each with a ``data-replybench-*`` attribute;
  :func:`plan_fill` turns a scan into fill actions (pure); :func:`find_blocker`, :func:`find_submit` and
  :func:`find_next` read a scan (pure).
* :func:`autofill` — scans, plans and fills the visible fields of the page's contact form. Fields nobody can
  see are never touched: a hidden field that a site's form submits is how it recognises a bot.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any, Literal, get_args

from replybench.models import FormFields, FormRole

if TYPE_CHECKING:
    from playwright.async_api import Frame, Locator, Page

    from replybench.channels.base import OutboundProbe

ROLES: tuple[FormRole, ...] = get_args(FormRole)
#: What a required text field the filler cannot map gets: honest, neutral, and accepted by most validators.
NEUTRAL_TEXT = "n/a"
#: Bound on each fill action; the elements are on the page already, so this is generous.
ACTION_TIMEOUT_MS = 5_000

# ------------------------------------------------------------------------------------------ values


@dataclass(frozen=True)
class FormValues:
    """What the filler writes for each role.

    The persona's name and phone, the probe's reply address (the per-probe plus-address, so that the
    company's emailed answer names its probe), the probe's subject and body.
    """

    name: str
    first_name: str
    last_name: str
    email: str
    phone: str | None
    subject: str
    message: str
    topic: str | None = None

    @classmethod
    def for_probe(cls, probe: OutboundProbe) -> FormValues:
        """The values of one probe (the topic is the target's configured one, if any)."""
        persona = probe.persona
        form = probe.target.endpoints.form
        return cls(
            name=persona.display_name,
            first_name=persona.given_name,
            last_name=persona.family_name or persona.display_name,
            email=probe.reply_address,
            phone=persona.phone,
            subject=probe.subject,
            message=probe.body,
            topic=form.topic if form is not None else None,
        )

    def text_for(self, role: FormRole) -> str | None:
        """The text typed for a role (None for consent, and for the phone when the persona has none)."""
        if role == "consent":
            return None
        if role == "topic":
            return self.topic or self.subject
        value: str | None = getattr(self, role)
        return value


# ------------------------------------------------------------------------------------------ classifier


@dataclass(frozen=True)
class FieldDescriptor:
    """What can be known about one form control without looking at the page around it."""

    tag: str = "input"
    type: str = "text"
    name: str = ""
    id: str = ""
    label: str = ""
    aria_label: str = ""
    placeholder: str = ""
    autocomplete: str = ""
    title: str = ""
    context: str = ""
    options: tuple[str, ...] = ()


def normalize(text: str, *, identifier: bool = False) -> str:
    """Lower-case words without accents or punctuation; ``identifier`` also splits camelCase first."""
    if identifier:
        text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[\W_]+", " ", text)
    # "E-Mail", "e-mailadres": one word, whatever the hyphens.
    text = re.sub(r"\be mail", "email", text)
    return " ".join(text.split())


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# Patterns run on normalize()d text: lower case, no accents, single spaces, "email" as one word.
_EMAIL = _rx(
    r"\bemail\w*", r"\bmail\b", r"\bmailadres\w*", r"\bcourriel\b", r"\bcorreo\b", r"\bposta elettronica\b"
)
_STOP = _rx(
    r"\b(company|firm|firma|firmen\w*|unternehmen\w*|organi[sz]ation\w*|societe|entreprise|empresa|azienda)\b",
    r"\bbedrijf\w*",
    r"\b(street|strasse|str|rue|calle|straat|address|adresse|anschrift|direccion|indirizzo|adres)\b",
    r"\b(city|stadt|ort|ville|ciudad|citta|plaats|zip|postal|postcode|plz|postleitzahl|cap)\b",
    r"\b(country|land|pays|pais|paese|state|bundesland|region)\b",
    r"\b(website|homepage|url|web site|webseite|site web|sitio web|sito web)\b",
    r"\b(username|user name|benutzername|login|password|passwort|mot de passe|contrasena|captcha)\b",
    r"\b(order|bestell|auftrags|kunden|customer|client|commande|pedido|ordine|bestel)\w*\s*(number|nummer|nr|no|id|numero)\b",
    r"\b(bestellnummer|auftragsnummer|kundennummer|ordernummer|bestelnummer|klantnummer)\b",
    r"\b(date|datum|birthday|geburtsdatum|fecha|data di nascita)\b",
    r"\b(search|suche|suchen|recherche|rechercher|buscar|busqueda|cerca|zoeken)\b",
    r"\b(file|datei|attachment|anhang|upload|fichier|archivo|allegato|bijlage)\b",
    r"\b(nickname|spitzname|pseudo|fax|salutation|anrede|civilite|tratamiento|aanhef)\b",
    r"\b(job title|position|funktion|poste|cargo)\b",
)
_PHONE = _rx(
    r"\b(phone|telephone|tel|mobile|cell|cellphone|handy|rufnummer|portable|movil|celular|cellulare|gsm)\b",
    r"\b(telefon|telefono|telefoon|mobil|phone|mobiel)\w*",
)
_FULL_NAME = _rx(
    r"\bfull name\b",
    r"\bfirst (and|&) last name\b",
    r"\bvor (und )?nachname\b",
    r"\bnom (et|&) prenom\b",
    r"\bprenom (et|&) nom\b",
    r"\bnom complet\b",
    r"\bnombre (y|&) apellidos?\b",
    r"\bnombre completo\b",
    r"\bnome (e|&) cognome\b",
    r"\bnome completo\b",
    r"\bvoor (en )?achternaam\b",
    r"\bvolledige naam\b",
    r"\bfullname\b",
)
_FIRST_NAME = _rx(
    r"\b(first ?name|given ?name|forename|fname|vorname|prenom|voornaam|roepnaam|nombre de pila|primo nome)\b"
)
_LAST_NAME = _rx(
    r"\b(last ?name|surname|family ?name|lname|nachname|familienname|nom de famille|apellidos?|cognome)\b",
    r"\b(achternaam|familienaam)\b",
)
_NAME = _rx(
    r"\b(name|your name|nom|nombre|nome|naam|ansprechpartner\w*|contact person|persona de contacto)\b",
    r"\b(ihr name|votre nom|su nombre|tu nombre|il tuo nome|uw naam|je naam)\b",
)
_SUBJECT = _rx(
    r"\b(subject|betreff|objet|sujet|asunto|oggetto|onderwerp|headline|ueberschrift|uberschrift)\b",
    r"\b(title of your|titel ihrer)\b",
)
_TOPIC = _rx(
    r"\b(topic|category|categories|reason|department|concern|regarding|inquiry type|request type)\b",
    r"\b(type of (request|inquiry|enquiry|question))\b",
    r"\b(thema|themen|kategorie|grund|abteilung|anliegen|art der anfrage|bereich)\b",
    r"\b(motif|categorie|service|type de demande|rubrique)\b",
    r"\b(motivo|categoria|tema|tipo de consulta|departamento|argomento|reparto)\b",
    r"\b(categorie|soort vraag|afdeling)\b",
)
_MESSAGE = _rx(
    r"\b(message|your message|comments?|inquiry|enquiry|question|questions|request|details|description)\b",
    r"\bhow can we help\b",
    r"\bwhat can we do\b",
    r"\b(nachricht|mitteilung|anliegen|anfrage|frage|fragen|kommentar|bemerkung\w*|beschreibung|text)\b",
    r"\b(commentaire|demande|votre message|precisions)\b",
    r"\b(mensaje|consulta|comentarios?|pregunta|solicitud)\b",
    r"\b(messaggio|richiesta|domanda|commento|note)\b",
    r"\b(bericht|vraag|opmerking\w*|toelichting|omschrijving)\b",
)
_CONSENT = _rx(
    r"\b(privacy|agree|consent|accept|terms|gdpr|dsgvo|data protection|policy)\b",
    r"\b(datenschutz\w*|einverstanden|zustimm\w*|akzeptier\w*|einwillig\w*|gelesen)\b",
    r"\b(confidentialite|accepte|consentement|rgpd|conditions)\b",
    r"\b(privacidad|acepto|consentimiento|proteccion de datos|condiciones)\b",
    r"\b(accetto|acconsento|consenso|informativa|trattamento)\b",
    r"\b(akkoord|toestemming|voorwaarden|privacyverklaring)\b",
)
# A box that opts in to marketing is never ticked unless the site insists on it (then it is "required").
_MARKETING = _rx(
    r"\b(newsletter|marketing|werbung|angebote|offers|promotions?|subscribe|abonn\w*|sms|offres|ofertas)\b",
    r"\b(nieuwsbrief|aanbiedingen|offerte)\b",
)
_PLACEHOLDER_OPTION = _rx(
    r"^$",
    r"^(please )?(choose|select|pick)\b",
    r"^bitte\b",
    r"\b(auswahlen|wahlen|waehlen)\b",
    r"^(choisi|selectionne)\w*",
    r"^(selecciona|elige|escoja)\w*",
    r"^(seleziona|scegli)\w*",
    r"^(kies|selecteer|maak een keuze)\b",
)
_NEUTRAL_OPTION = _rx(
    r"\b(other|others|general|something else|sonstige\w*|andere\w*|allgemein\w*|autre\w*|otros?|otra|altro)\b",
    r"\b(overig\w*|anders|algemeen|varie)\b",
)

_TEXT_TYPES = frozenset({"text", "email", "tel", "", "textarea", "number", "url"})
_NEVER = frozenset(
    {"hidden", "password", "submit", "button", "reset", "image", "file", "search", "range", "color", "date"}
    | {"datetime-local", "month", "week", "time", "radio"}
)
_AUTOCOMPLETE: dict[str, FormRole | None] = {
    "email": "email",
    "name": "name",
    "given-name": "first_name",
    "family-name": "last_name",
    "tel": "phone",
    "tel-national": "phone",
    "tel-local": "phone",
    "organization": None,
    "username": None,
    "current-password": None,
    "new-password": None,
    "one-time-code": None,
    "street-address": None,
    "address-line1": None,
    "address-line2": None,
    "postal-code": None,
    "country": None,
    "country-name": None,
    "bday": None,
    "url": None,
}

_Stop = Literal["stop"]


def _text_role(text: str, tag: str) -> FormRole | _Stop | None:
    """The role one piece of normalized text names for a text input, textarea or select."""
    if not text:
        return None
    if _EMAIL.search(text):
        return "email"
    if _STOP.search(text):
        return "stop"
    if _PHONE.search(text):
        return "phone"
    if _FULL_NAME.search(text):
        return "name"
    if _FIRST_NAME.search(text):
        return "first_name"
    if _LAST_NAME.search(text):
        return "last_name"
    if _NAME.search(text):
        return "name"
    if tag == "select":
        return "topic" if (_SUBJECT.search(text) or _TOPIC.search(text)) else None
    if _SUBJECT.search(text):
        return "subject"
    if tag != "textarea" and _TOPIC.search(text) and not _MESSAGE.search(text):
        return "subject"
    if _MESSAGE.search(text):
        return "message"
    return None


def _sources(field: FieldDescriptor) -> list[str]:
    """The field's texts, strongest first: what people read, then what programmers named it."""
    return [
        normalize(field.label),
        normalize(field.aria_label),
        normalize(field.placeholder),
        normalize(f"{field.name} {field.id}", identifier=True),
        normalize(field.title),
        normalize(field.context),
    ]


def _select_role(field: FieldDescriptor) -> FormRole | None:
    """A select is the topic when its text (or its placeholder option) says so, else nothing."""
    for text in _sources(field):
        role = _text_role(text, "select")
        if role is not None:
            return "topic" if role == "topic" else None
    if field.options and _TOPIC.search(normalize(field.options[0])):
        return "topic"
    return None


def classify_field(field: FieldDescriptor) -> FormRole | None:
    """What a form control asks for, or None when it is nothing a probe should fill.

    ``type=email`` and an ``email`` autocomplete hint always mean the email address; password, hidden,
    file, date and button controls never map to anything; a checkbox is only ever "consent" (and never a
    marketing opt-in); a select is only ever "topic"; a textarea is the message unless its text says
    otherwise. Texts are read strongest first (label, aria, placeholder, name/id, title, nearby text) and
    the first that names a role wins; one that names something else (company, address, order number …)
    ends the search.
    """
    tag = field.tag.lower()
    kind = (
        "textarea" if tag == "textarea" else "select" if tag == "select" else (field.type or "text").lower()
    )
    tokens = field.autocomplete.lower().split()
    if kind in _NEVER or any(t in ("current-password", "new-password", "one-time-code") for t in tokens):
        return None
    if kind == "select":
        return _select_role(field)
    if kind == "email" or "email" in tokens:
        return "email"
    if kind == "checkbox":
        texts = " ".join(_sources(field))
        return "consent" if _CONSENT.search(texts) and not _MARKETING.search(texts) else None
    for token in tokens:
        if token in _AUTOCOMPLETE:
            return _AUTOCOMPLETE[token]
    if kind == "tel":
        return "phone"
    if kind not in _TEXT_TYPES and kind not in ("select", "textarea"):
        return None
    for text in _sources(field):
        role = _text_role(text, kind)
        if role == "stop":
            return None
        if role is not None:
            if kind == "number" and role != "phone":
                return None
            return role
    if kind == "textarea":
        return "message"
    return None


# ------------------------------------------------------------------------------------------ page scan


@dataclass(frozen=True)
class Option:
    """One option of a select."""

    value: str
    text: str
    disabled: bool = False


@dataclass(frozen=True)
class Control:
    """One form control as the page shows it; ``selector`` addresses it for the rest of this page's life."""

    index: int
    selector: str
    css: str
    descriptor: FieldDescriptor
    form: int = -1
    visible: bool = True
    via_label: str | None = None
    hidden: tuple[str, ...] = ()
    honeypot: tuple[str, ...] = ()
    required: bool = False
    pattern: str = ""
    checked: bool = False
    has_value: bool = False
    disabled: bool = False
    options: tuple[Option, ...] = ()

    @property
    def fillable(self) -> bool:
        """Whether a person could fill it: seen on screen (or a box ticked through its visible label)."""
        return (self.visible or self.via_label is not None) and not self.disabled

    @property
    def kind(self) -> str:
        """``textarea``, ``select`` or the input's type."""
        tag = self.descriptor.tag
        return tag if tag in ("textarea", "select") else self.descriptor.type


@dataclass(frozen=True)
class Button:
    """A button (or an element acting as one)."""

    index: int
    selector: str
    css: str
    tag: str
    type: str
    text: str
    form: int = -1
    visible: bool = True
    disabled: bool = False


@dataclass(frozen=True)
class CaptchaSign:
    """A CAPTCHA widget or frame found on the page; ``visible`` ones stand in a person's way."""

    kind: str
    how: str
    src: str = ""
    visible: bool = True


@dataclass(frozen=True)
class Scan:
    """Everything :func:`scan_page` found in one frame."""

    url: str
    controls: tuple[Control, ...] = ()
    buttons: tuple[Button, ...] = ()
    captchas: tuple[CaptchaSign, ...] = ()
    explicit: Mapping[str, int | str | None] = field(default_factory=dict)
    title: str = ""
    text: str = ""
    alerts: tuple[str, ...] = ()

    def control(self, index: int) -> Control | None:
        """The control with this index."""
        return next((c for c in self.controls if c.index == index), None)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Scan:
        """Build from what the in-page script returned."""
        controls = tuple(
            Control(
                index=int(c["index"]),
                selector=str(c["selector"]),
                css=str(c["css"]),
                descriptor=FieldDescriptor(
                    tag=str(c["tag"]),
                    type=str(c["type"]),
                    name=str(c["name"]),
                    id=str(c["id"]),
                    label=str(c["label"]),
                    aria_label=str(c["aria_label"]),
                    placeholder=str(c["placeholder"]),
                    autocomplete=str(c["autocomplete"]),
                    title=str(c["title"]),
                    context=str(c["context"]),
                    options=tuple(str(o["text"]) for o in c["options"]),
                ),
                form=int(c["form"]),
                visible=bool(c["visible"]),
                via_label=c["via_label"],
                hidden=tuple(c["hidden"]),
                honeypot=tuple(c["honeypot"]),
                required=bool(c["required"]),
                pattern=str(c["pattern"]),
                checked=bool(c["checked"]),
                has_value=bool(c["has_value"]),
                disabled=bool(c["disabled"]),
                options=tuple(
                    Option(str(o["value"]), str(o["text"]), bool(o["disabled"])) for o in c["options"]
                ),
            )
            for c in data.get("controls", [])
        )
        buttons = tuple(
            Button(
                index=int(b["index"]),
                selector=str(b["selector"]),
                css=str(b["css"]),
                tag=str(b["tag"]),
                type=str(b["type"]),
                text=str(b["text"]),
                form=int(b["form"]),
                visible=bool(b["visible"]),
                disabled=bool(b["disabled"]),
            )
            for b in data.get("buttons", [])
        )
        captchas = tuple(
            CaptchaSign(str(s["kind"]), str(s["how"]), str(s["src"]), bool(s["visible"]))
            for s in data.get("captchas", [])
        )
        return cls(
            url=str(data.get("url", "")),
            controls=controls,
            buttons=buttons,
            captchas=captchas,
            explicit=dict(data.get("explicit", {})),
            title=str(data.get("title", "")),
            text=str(data.get("text", "")),
            alerts=tuple(str(a) for a in data.get("alerts", [])),
        )


@cache
def _scan_script() -> str:
    return files("replybench.channels").joinpath("formscan.js").read_text(encoding="utf-8")


async def scan_page(
    scope: Page | Frame, *, select: Mapping[str, str] | None = None, observe: bool = False
) -> Scan:
    """Describe a page (or frame) in one round trip.

    ``select`` maps keys to CSS selectors to resolve to control indexes (``Scan.explicit``); ``observe``
    adds the visible text and error messages.
    """
    data = await scope.evaluate(_scan_script(), {"explicit": dict(select or {}), "observe": observe})
    return Scan.from_json(data)


# ------------------------------------------------------------------------------------------ reading a scan


@dataclass(frozen=True)
class Blocker:
    """Something that stands between a person and the form: a CAPTCHA or a login wall."""

    kind: Literal["captcha", "login"]
    detail: str


def assign_roles(controls: Sequence[Control]) -> dict[int, FormRole]:
    """Classify each control, then read name fields as a pair.

    "Vorname" + "Name" means the second is the family name; "Nombre" + "Apellidos" means the first is the
    given name.
    """
    roles: dict[int, FormRole] = {}
    for c in controls:
        role = classify_field(c.descriptor)
        if role is not None:
            roles[c.index] = role
    present = set(roles.values())
    if "name" in present and "first_name" in present and "last_name" not in present:
        roles = {i: ("last_name" if r == "name" else r) for i, r in roles.items()}
    elif "name" in present and "last_name" in present and "first_name" not in present:
        roles = {i: ("first_name" if r == "name" else r) for i, r in roles.items()}
    return roles


_ROLE_WEIGHT: dict[FormRole, int] = {"message": 10, "email": 4, "subject": 2}


def choose_form(scan: Scan, roles: Mapping[int, FormRole], prefer: Sequence[int] = ()) -> int | None:
    """The contact form of the page: its ``data-replybench-form`` number, -1 for controls outside any form.

    It is the form whose visible fields ask most for a message and an email address; ``prefer`` (indexes
    of explicitly configured controls) outweighs everything.
    """
    scores: dict[int, int] = {}
    for c in scan.controls:
        if not c.fillable:
            continue
        role = roles.get(c.index)
        points = (_ROLE_WEIGHT.get(role, 1) if role else 0) + (50 if c.index in prefer else 0)
        scores[c.form] = scores.get(c.form, 0) + points
    scored = {form: s for form, s in scores.items() if s > 0}
    return max(scored, key=lambda f: (scored[f], f >= 0)) if scored else None


def find_blocker(scan: Scan, roles: Mapping[int, FormRole] | None = None) -> Blocker | None:
    """A visible CAPTCHA, or a login wall (a visible password field and no message field)."""
    shown = [s for s in scan.captchas if s.visible]
    if shown:
        sign = shown[0]
        return Blocker("captcha", f"{sign.kind} ({sign.how}{' ' + sign.src if sign.src else ''})")
    roles = assign_roles(scan.controls) if roles is None else roles
    password = any(c.visible and c.descriptor.type == "password" for c in scan.controls)
    message = any(
        c.fillable and (c.kind == "textarea" or roles.get(c.index) == "message") for c in scan.controls
    )
    if password and not message:
        return Blocker("login", "the page asks for a password and has no message field")
    return None


_NEXT = _rx(
    r"^(next|continue|next step|weiter|fortfahren|nachster schritt|suivant|continuer|etape suivante)\b",
    r"^(siguiente|continuar|avanti|successivo|prosegui|continua|volgende|verder|doorgaan)\b",
)
_SEND = _rx(
    r"\b(send|submit|absenden|senden|abschicken|versenden|verschicken|envoyer|soumettre|enviar|invia|inviare)\b",
    r"\b(verzenden|versturen|verstuur|request|anfrage|contact us|kontaktieren)\b",
)
_NOT_SUBMIT = _rx(
    r"\b(back|zuruck|retour|precedent|atras|anterior|indietro|terug|vorige|reset|cancel|abbrechen|annuler)\b",
    r"\b(cancelar|annulla|annuleren|search|suche|suchen|subscribe|abonnieren|login|sign in|anmelden)\b",
    r"\b(close|schliessen|fermer|cerrar|chiudi|sluiten|accept all|alle akzeptieren)\b",
)


def find_next(scan: Scan, form: int | None) -> Button | None:
    """The visible "next step" button of a multi-step form (any language), if there is one."""
    for b in scan.buttons:
        text = normalize(b.text)
        if b.visible and not b.disabled and (form is None or b.form in (form, -1)) and _NEXT.search(text):
            return b
    return None


def find_submit(scan: Scan, form: int | None) -> Button | None:
    """The visible submit button of ``form``.

    A submit-type button (preferring one that says "send"), else a button that says "send", "absenden",
    "envoyer" …; never a back, reset, search or "next" button.
    """
    candidates = [
        b
        for b in scan.buttons
        if b.visible
        and not b.disabled
        and (form is None or b.form == form)
        and not _NOT_SUBMIT.search(normalize(b.text))
        and not _NEXT.search(normalize(b.text))
    ]
    typed = [b for b in candidates if b.type in ("submit", "image")]
    for group in (
        [b for b in typed if _SEND.search(normalize(b.text))],
        typed,
        [b for b in candidates if _SEND.search(normalize(b.text))],
    ):
        if group:
            return group[0]
    return None


def choose_option(options: Sequence[Option], wanted: str | None) -> Option | None:
    """The option to pick.

    The ``wanted`` label or value when given (None if there is none), else a neutral one ("Other",
    "Sonstiges", …), else the first real one (not a "Please choose" placeholder).
    """
    real = [
        o
        for o in options
        if not o.disabled and o.value != "" and not _PLACEHOLDER_OPTION.search(normalize(o.text))
    ]
    if wanted is not None:
        key = normalize(wanted)
        for test in (
            lambda o: normalize(o.text) == key,
            lambda o: o.value == wanted,
            lambda o: key in normalize(o.text),
        ):
            found = [o for o in options if not o.disabled and test(o)]
            if found:
                return found[0]
        return None
    neutral = [o for o in real if _NEUTRAL_OPTION.search(normalize(o.text))]
    choice = neutral or real
    return choice[0] if choice else None


# ------------------------------------------------------------------------------------------ planning


@dataclass(frozen=True)
class Action:
    """One thing to do to a control."""

    kind: Literal["fill", "check", "select"]
    selector: str
    css: str
    value: str = ""
    role: FormRole | None = None
    source: Literal["explicit", "auto", "extra", "default"] = "auto"
    via_label: str | None = None


@dataclass
class FillReport:
    """What :func:`autofill` did (merged over the steps of a multi-step form).

    ``roles`` maps each role to the selectors filled for it; ``extra`` lists the configured fixed-value
    selectors filled; ``defaulted`` maps required fields nobody mapped to what they got ("checked",
    "option", "neutral text"); ``honeypots`` are bot traps left empty; ``unmapped`` are visible fields left
    empty; ``unknown_required`` are required fields the filler cannot know (a pattern, an order number);
    ``problems`` are configuration errors (a selector that is not valid CSS, a topic not offered).
    No value is recorded: only selectors and roles.
    """

    form: int | None = None
    roles: dict[str, list[str]] = field(default_factory=dict)
    extra: list[str] = field(default_factory=list)
    defaulted: dict[str, str] = field(default_factory=dict)
    honeypots: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    unknown_required: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    explicit_done: set[str] = field(default_factory=set)
    extra_done: set[str] = field(default_factory=set)

    def has(self, role: FormRole) -> bool:
        """Whether a field of this role was filled."""
        return bool(self.roles.get(role))

    def merge(self, later: FillReport) -> FillReport:
        """Join a later step's report to this one."""

        def union(a: list[str], b: list[str]) -> list[str]:
            return a + [x for x in b if x not in a]

        roles = {r: list(s) for r, s in self.roles.items()}
        for role, selectors in later.roles.items():
            roles[role] = union(roles.get(role, []), selectors)
        # A field found hidden in one step and filled in a later one is not left unmapped.
        filled = {s for sel in roles.values() for s in sel} | set(self.defaulted) | set(later.defaulted)
        return FillReport(
            form=later.form if later.form is not None else self.form,
            roles=roles,
            extra=union(self.extra, later.extra),
            defaulted={**self.defaulted, **later.defaulted},
            honeypots=union(self.honeypots, later.honeypots),
            unmapped=[s for s in union(self.unmapped, later.unmapped) if s not in filled],
            unknown_required=[
                s for s in union(self.unknown_required, later.unknown_required) if s not in filled
            ],
            problems=union(self.problems, later.problems),
            explicit_done=self.explicit_done | later.explicit_done,
            extra_done=self.extra_done | later.extra_done,
        )

    def evidence(self) -> dict[str, Any]:
        """JSON-ready account (selectors and roles; never a value)."""
        return {
            "fields": {r: list(s) for r, s in self.roles.items()},
            "extra": list(self.extra),
            "defaulted": dict(self.defaulted),
            "honeypots_left_empty": list(self.honeypots),
            "unmapped": list(self.unmapped),
            "unknown_required": list(self.unknown_required),
        }


@dataclass(frozen=True)
class Plan:
    """The actions of one fill pass and the report it will produce."""

    actions: tuple[Action, ...]
    report: FillReport


_TRUTHY = frozenset({"1", "true", "yes", "on", "checked", "ja", "oui", "si", "sì"})


def _fixed_action(control: Control, value: str, selector: str) -> Action | str:
    """The action that puts a configured fixed value into a control, or a problem description."""
    kind = control.kind
    if kind in ("checkbox", "radio"):
        return Action("check", control.selector, selector, source="extra", via_label=control.via_label)
    if kind == "select":
        option = choose_option(control.options, value)
        if option is None:
            return f"{selector}: no option {value!r}"
        return Action("select", control.selector, selector, option.value, source="extra")
    return Action("fill", control.selector, selector, value, source="extra")


def plan_fill(
    scan: Scan,
    values: FormValues,
    *,
    explicit: FormFields | None = None,
    extra: Mapping[str, str] | None = None,
    topic: str | None = None,
) -> Plan:
    """Decide what to fill in the visible part of the page's contact form (pure: reads a :class:`Scan`).

    Explicit selectors (``explicit`` and ``extra``, resolved in ``scan.explicit`` under the keys
    ``role:<role>`` and ``extra:<selector>``) come first and are filled wherever they are; the roles they
    leave out are found automatically in the chosen form. Invisible controls are never filled.
    """
    extra = dict(extra or {})
    topic = topic if topic is not None else values.topic
    report = FillReport()
    actions: list[Action] = []
    taken: set[int] = set()

    def resolved(key: str, selector: str) -> Control | None:
        found = scan.explicit.get(key)
        if found == "invalid":
            report.problems.append(f"{selector!r} is not a valid CSS selector")
            return None
        return scan.control(found) if isinstance(found, int) else None

    def do(control: Control, role: FormRole, source: Literal["explicit", "auto", "default"]) -> bool:
        action = _role_action(control, role, values, topic, source)
        if isinstance(action, str):
            report.problems.append(action)
            return False
        if action is None:
            return False
        actions.append(action)
        taken.add(control.index)
        report.roles.setdefault(role, []).append(control.css)
        return True

    explicit_roles: dict[FormRole, str] = {}
    if explicit is not None:
        explicit_roles = {r: s for r in ROLES if (s := getattr(explicit, r))}
    prefer: list[int] = []
    for wanted, selector in explicit_roles.items():
        control = resolved(f"role:{wanted}", selector)
        if control is not None:
            prefer.append(control.index)
            if wanted == "phone" and values.phone is None:
                report.explicit_done.add(wanted)  # nothing to give: left empty, as a person without one would
            elif control.fillable and do(control, wanted, "explicit"):
                report.explicit_done.add(wanted)
    for selector, value in extra.items():
        control = resolved(f"extra:{selector}", selector)
        if control is None or not control.fillable:
            continue
        prefer.append(control.index)
        fixed = _fixed_action(control, value, selector)
        if isinstance(fixed, str):
            report.problems.append(fixed)
            continue
        actions.append(fixed)
        taken.add(control.index)
        report.extra.append(selector)
        report.extra_done.add(selector)

    roles = assign_roles(scan.controls)
    form = choose_form(scan, roles, prefer)
    report.form = form
    for c in scan.controls:
        if c.index in taken or c.form != form or c.disabled:
            continue
        if not c.fillable:
            if c.honeypot:
                report.honeypots.append(c.css)
            continue
        role: FormRole | None = roles.get(c.index)
        if role is not None and role in explicit_roles:
            role = None  # the configured selector is that role's field; this one is something else
        if role is not None and do(c, role, "auto"):
            continue
        if c.required and not c.has_value:
            default = _default_action(c)
            if default is None:
                report.unknown_required.append(c.css)
            else:
                actions.append(default)
                taken.add(c.index)
                report.defaulted[c.css] = {"check": "checked", "select": "option"}.get(
                    default.kind, "neutral text"
                )
        elif role is None and c.kind not in ("hidden", "checkbox", "radio"):
            report.unmapped.append(c.css)
    return Plan(tuple(actions), report)


def _role_action(
    control: Control,
    role: FormRole,
    values: FormValues,
    topic: str | None,
    source: Literal["explicit", "auto", "default"],
) -> Action | str | None:
    if role == "consent" or control.kind in ("checkbox", "radio"):
        if control.checked:
            return Action("check", control.selector, control.css, role=role, source=source)
        return Action(
            "check", control.selector, control.css, role=role, source=source, via_label=control.via_label
        )
    if control.kind == "select":
        option = choose_option(control.options, topic if role == "topic" else None)
        if option is None:
            return f"{control.css}: no option {topic!r}" if topic else None
        return Action("select", control.selector, control.css, option.value, role=role, source=source)
    text = values.text_for(role)
    if text is None:
        return None
    if control.kind != "textarea":
        text = " ".join(text.split())  # a single-line input takes the body on one line
    return Action("fill", control.selector, control.css, text, role=role, source=source)


def _default_action(control: Control) -> Action | None:
    """What a required control nobody could map gets, or None when the filler cannot know (a pattern)."""
    kind = control.kind
    if kind == "checkbox":
        return Action("check", control.selector, control.css, source="default", via_label=control.via_label)
    if kind == "select":
        option = choose_option(control.options, None)
        return (
            None
            if option is None
            else Action("select", control.selector, control.css, option.value, source="default")
        )
    if kind in ("text", "textarea") and not control.pattern:
        return Action("fill", control.selector, control.css, NEUTRAL_TEXT, source="default")
    return None


# ------------------------------------------------------------------------------------------ filling


class FormFillError(Exception):
    """A field could not be filled (it vanished, was covered, or refused the value)."""


async def perform(scope: Page | Frame, action: Action) -> None:
    """Carry out one action on the page, as a person would (typing events, clicks)."""
    from playwright.async_api import Error as PlaywrightError

    target = scope.locator(action.selector)
    try:
        if action.kind == "fill":
            await target.fill(action.value, timeout=ACTION_TIMEOUT_MS)
        elif action.kind == "select":
            await target.select_option(value=action.value, timeout=ACTION_TIMEOUT_MS)
        elif await target.is_checked(timeout=ACTION_TIMEOUT_MS):
            return
        elif action.via_label is not None:
            await _check_through_label(scope, target, action.via_label)
        else:
            await target.check(timeout=ACTION_TIMEOUT_MS)
    except PlaywrightError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FormFillError(f"could not {action.kind} {action.css}: {first}") from exc


# The start of a label's first line box: its centre may fall between the lines of a wrapped inline label.
_FIRST_LINE_JS = """
(label) => {
  const box = label.getBoundingClientRect();
  const line = label.getClientRects()[0] || box;
  return { x: line.left - box.left + Math.min(8, line.width / 2), y: line.top - box.top + line.height / 2 };
}
"""


async def _check_through_label(scope: Page | Frame, target: Locator, label_selector: str) -> None:
    """Tick a visually hidden (styled) checkbox the way people do: by clicking its label."""
    from playwright.async_api import Error as PlaywrightError

    label = scope.locator(label_selector)
    with contextlib.suppress(PlaywrightError):
        position = await label.evaluate(_FIRST_LINE_JS)
        await label.click(position=position, timeout=1_500)
    if not await target.is_checked(timeout=ACTION_TIMEOUT_MS):
        # Covered or oddly laid out: the box's own click toggles it and fires the same events.
        await target.dispatch_event("click", timeout=ACTION_TIMEOUT_MS)
    if not await target.is_checked(timeout=ACTION_TIMEOUT_MS):
        raise PlaywrightError("the checkbox stayed unticked")


async def autofill(
    scope: Page | Frame,
    values: FormValues,
    *,
    explicit: FormFields | None = None,
    extra: Mapping[str, str] | None = None,
    topic: str | None = None,
) -> FillReport:
    """Fill the visible fields of the contact form in ``scope``.

    Explicit selectors first, the rest found automatically; honeypots left empty; required fields nobody
    mapped get a neutral value (a checkbox is ticked, a select gets its first real option, a text "n/a")
    unless the filler cannot know (a pattern).

    Call again after a "next" button revealed more fields; :meth:`FillReport.merge` joins the reports.

    Raises:
        FormFillError: a field could not be filled.
    """
    select = selectors_to_resolve(explicit, extra)
    scan = await scan_page(scope, select=select)
    plan = plan_fill(scan, values, explicit=explicit, extra=extra, topic=topic)
    for action in plan.actions:
        await perform(scope, action)
    return plan.report


def selectors_to_resolve(explicit: FormFields | None, extra: Mapping[str, str] | None) -> dict[str, str]:
    """The ``select`` argument of :func:`scan_page` for these explicit fields and fixed values."""
    select = {f"extra:{s}": s for s in (extra or {})}
    if explicit is not None:
        select.update({f"role:{r}": s for r, s in explicit.model_dump().items() if s})
    return select


_VALIDITY_JS = """
(form) => {
  const FIELD = 'data-replybench-field';
  const squash = (s) => (s || '').replace(/\\s+/g, ' ').trim();
  const host = form >= 0 ? document.querySelector(`[data-replybench-form="${form}"]`) : null;
  const controls = host
    ? Array.from(host.elements)
    : Array.from(document.querySelectorAll('input, select, textarea')).filter((e) => !e.form);
  const bad = [];
  for (const el of controls) {
    if (!el.willValidate || el.validity.valid) continue;
    const label = squash(Array.from(el.labels || []).map((l) => l.textContent).join(' '))
      || squash(el.getAttribute('aria-label')) || squash(el.getAttribute('placeholder')) || el.name || '';
    bad.push({
      selector: el.hasAttribute(FIELD) ? `[${FIELD}="${el.getAttribute(FIELD)}"]` : '',
      field: label.slice(0, 80),
      message: squash(el.validationMessage),
      hint: squash(el.getAttribute('title')).slice(0, 120),
    });
  }
  return bad;
}
"""


@dataclass(frozen=True)
class Invalid:
    """A control the browser would refuse to submit, with the browser's own message."""

    field: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint and self.hint not in self.message else ""
        return f"{self.field or 'a field'}: {self.message}{hint}"


async def invalid_fields(scope: Page | Frame, form: int | None) -> list[Invalid]:
    """The controls of ``form`` (-1: outside any form) whose constraints fail, as the browser sees them."""
    rows = await scope.evaluate(_VALIDITY_JS, -1 if form is None else form)
    return [Invalid(str(r["field"]), str(r["message"]), str(r["hint"])) for r in rows]
