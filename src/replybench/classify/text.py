"""Phrase signals in subjects and bodies: bounce subjects, out-of-office markers, ticket receipts, ticket ids.

Each function returns the phrase it matched (the evidence) or None. Bodies are read only above the quoted
original (see :func:`top_text`), because a human reply that quotes an auto-reply must not look automatic.
Patterns cover English, German, French, Spanish, Italian, Dutch and the Scandinavian languages, plus the
fixed subjects of Outlook/Exchange in a few more.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = [
    "automated_phrase",
    "bounce_body_phrase",
    "bounce_subject",
    "delay_phrase",
    "is_noreply_address",
    "is_reply_subject",
    "ooo_body",
    "ooo_subject",
    "receipt_phrase",
    "smtp_status",
    "strip_subject_tags",
    "subject_receipt",
    "ticket_id",
    "top_text",
]

#: How much of a body is searched: auto-replies say what they are near the top.
TOP_CHARS = 4000

_I = re.IGNORECASE
_IM = re.IGNORECASE | re.MULTILINE


def _alternatives(*phrases: str) -> str:
    return "|".join(phrases)


# --------------------------------------------------------------------------------------------- body scoping

_QUOTE_START = re.compile(
    _alternatives(
        r"^-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original"
        r"|messaggio originale|oorspronkelijk bericht|originalmeddelande|opprinnelig melding)\s*-{2,}",
        r"^_{20,}\s*$",
        r"^(?:on|am|le|el|il|op|den|på)\s[^\n]{0,200}"
        r"(?:wrote|schrieb|a écrit|escribió|ha scritto|schreef|skrev)[^\n]{0,80}:\s*$",
        r"^(?:from|von|de|da|van|från|fra|od)\s?:[^\n]*\n(?:[^\n]*\n){0,2}?"
        r"(?:sent|date|gesendet|datum|envoyé|enviado|inviato|verzonden|skickat|sendt|wysłano)\s?:",
    ),
    _IM,
)
_QUOTED_LINE = re.compile(r"^[ \t]*>.*$\n?", re.MULTILINE)
_ZENDESK_MARKER = re.compile(r"^.*##-.*-##.*$\n?", re.MULTILINE)


def top_text(text: str, limit: int = TOP_CHARS) -> str:
    """Return the part of a body above the quoted original, without ``>`` lines, at most ``limit`` long."""
    head = text[: limit * 4]
    m = _QUOTE_START.search(head)
    if m:
        head = head[: m.start()]
    head = _QUOTED_LINE.sub("", head)
    head = _ZENDESK_MARKER.sub("", head)
    return head[:limit]


# --------------------------------------------------------------------------------------------- subjects

_TAGS = re.compile(r"^(?:\s*(?:\[[^\[\]]{0,60}\]|\*{1,3}[^*]{0,30}\*{1,3}|(?:ext|external)\s*:)\s*)+", _I)
_REPLY_PREFIX = re.compile(
    r"^\s*(?:re|aw|sv|vs|r|rif|antw|odp|ynt|fw|fwd|wg|tr|rv|enc)\s*(?:\[\d+\])?\s*:", _I
)


def strip_subject_tags(subject: str) -> str:
    """Remove leading ``[tags]`` such as ``[EXTERNAL]`` or ``[Acme Support]`` from a subject."""
    return _TAGS.sub("", subject).strip()


def is_reply_subject(subject: str) -> bool:
    """Tell whether a subject starts with a reply or forward prefix (``Re:``, ``AW:``, ``Fwd:`` ...)."""
    return bool(_REPLY_PREFIX.match(strip_subject_tags(subject)))


_BOUNCE_SUBJECT = re.compile(
    r"^(?:"
    + _alternatives(
        r"undelivered mail returned to sender",
        r"delivery status notification \((?:failure|delay)\)",
        r"mail delivery failed",
        r"mail delivery failure",
        r"undeliverable",
        r"undelivered mail",
        r"failure notice",
        r"returned mail",
        r"delivery failure",
        r"delivery has failed",
        r"delivery notification: delivery has failed",
        r"message not delivered",
        r"mail system error",
        r"non-?delivery",
        r"delayed mail",
        r"delivery delayed",
        r"warning: message \S+ delayed",
        r"warning: could not send message",
        r"unzustellbar",
        r"nicht zustellbar",
        r"non remis",
        r"impossible de remettre",
        r"no se puede entregar",
        r"no se pudo entregar",
        r"non recapitabile",
        r"onbestelbaar",
        r"kan inte levereras",
        r"ikke leveret",
    )
    + r")",
    _I,
)

_DELAY = re.compile(
    _alternatives(
        r"delivery status notification \(delay\)",
        r"delayed mail",
        r"delivery delayed",
        r"message delayed",
        r"warning: message \S+ delayed",
        r"warning: could not send message for past",
        r"still being retried",
        r"has not yet been delivered",
        r"(?:will|shall) (?:continue|keep) (?:to )?(?:try|trying|retry)",
        r"no action is required on your part",
        r"delivery (?:is|has been) delayed",
        r"zustellung verzögert",
        r"remise différée",
    ),
    _I,
)

_BOUNCE_BODY = re.compile(
    _alternatives(
        r"could not be delivered",
        r"couldn't be delivered",
        r"wasn't delivered",
        r"was not delivered",
        r"delivery (?:has )?failed",
        r"delivery to the following recipients? failed",
        r"permanent(?:ly)? (?:fatal )?(?:error|failure|failed)",
        r"user unknown",
        r"unknown user",
        r"no such user",
        r"mailbox (?:unavailable|not found|full|is full)",
        r"recipient address rejected",
        r"address rejected",
        r"i couldn't find any host",
        r"this is the qmail-send program",
        r"i'm afraid i wasn't able to deliver",
        r"konnte nicht zugestellt werden",
        r"n'a pas pu être (?:remis|distribué)",
        r"no (?:se )?(?:ha )?pudo (?:ser )?entregar",
        r"non è stato possibile recapitare",
    ),
    _I,
)

_ENHANCED_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_BASIC_STATUS = re.compile(r"(?<![\d.])([45]\d\d)[ -](?=\S)")


def bounce_subject(subject: str) -> str | None:
    """Return the bounce phrase a subject starts with ("Undeliverable", "failure notice" ...), or None."""
    m = _BOUNCE_SUBJECT.match(strip_subject_tags(subject))
    return m.group(0) if m else None


def bounce_body_phrase(text: str) -> str | None:
    """Return a delivery-failure phrase near the top of a body, or None."""
    m = _BOUNCE_BODY.search(text[:TOP_CHARS])
    return m.group(0) if m else None


def delay_phrase(subject: str, text: str) -> str | None:
    """Return a "delivery delayed, still retrying" phrase in the subject or body top, or None."""
    m = _DELAY.search(subject) or _DELAY.search(text[:TOP_CHARS])
    return m.group(0) if m else None


def smtp_status(text: str) -> str | None:
    """Return the first SMTP status code in a text: enhanced ("5.1.1") if any, else basic ("550")."""
    head = text[:TOP_CHARS]
    m = _ENHANCED_STATUS.search(head)
    if m:
        return m.group(0)
    m = _BASIC_STATUS.search(head)
    return m.group(1) if m else None


# --------------------------------------------------------------------------------------------- out of office

_OOO_GENERIC_PREFIX = re.compile(
    r"^(?:"
    + _alternatives(
        r"automatic reply",
        r"automatic response",
        r"auto[- ]?reply",
        r"auto[- ]?response",
        r"autoresponder",
        r"automatische antwort",
        r"réponse automatique",
        r"respuesta automática",
        r"respuesta automatica",
        r"risposta automatica",
        r"automatisch antwoord",
        r"autosvar",
        r"automatisk svar",
        r"resposta automática",
        r"odpowiedź automatyczna",
        r"automaattinen vastaus",
        r"automatikus válasz",
        r"automatická odpověď",
        r"автоматический ответ",
        r"自動応答",
        r"自动回复",
        r"自動回覆",
    )
    + r")\s*[:：-]?\s*",
    _I,
)

_OOO_STRONG_PREFIX = re.compile(
    r"^(?:"
    + _alternatives(
        r"out of (?:the )?office",
        r"out-of-office",
        r"ooo\b",
        r"abwesenheitsnotiz",
        r"abwesenheit",
        r"abwesend",
        r"fuera de (?:la )?oficina",
        r"ausente",
        r"fuori (?:ufficio|sede)",
        r"assente",
        r"absence",
        r"absente?\b",
        r"hors du bureau",
        r"afwezig",
        r"buiten kantoor",
        r"frånvaro",
        r"fraværende",
        r"fravær",
        r"poza biurem",
        r"vacation",
        r"on (?:annual )?leave",
        r"on holiday",
        r"away from (?:the )?office",
    )
    + r")",
    _I,
)

# Safe to look for anywhere in a subject that is not itself a reply: nobody else writes these phrases.
_OOO_ANYWHERE = re.compile(
    _alternatives(
        r"out of (?:the )?office(?! hours)",
        r"out-of-office",
        r"abwesenheitsnotiz",
        r"fuera de (?:la )?oficina",
        r"fuori ufficio",
        r"hors du bureau",
        r"buiten kantoor",
    ),
    _I,
)

OooKind = Literal["strong", "generic"]


def ooo_subject(subject: str) -> tuple[OooKind, str] | None:
    """Find an out-of-office marker in a subject.

    Return ("strong", phrase) for an explicit absence, ("generic", phrase) for an "Automatic reply:"-style
    prefix that Exchange and others also put on acknowledgements, or None.

    Phrases are matched as a prefix; the unmistakable ones also inside a subject that is not a reply, so
    "Re: Out of office hours support" from a person is not mistaken for an absence note.
    """
    rest = strip_subject_tags(subject)
    generic = _OOO_GENERIC_PREFIX.match(rest)
    if generic:
        rest = rest[generic.end() :]
    strong = _OOO_STRONG_PREFIX.match(rest)
    if strong is None and not is_reply_subject(rest):
        strong = _OOO_ANYWHERE.search(rest)
    if strong:
        return "strong", strong.group(0)
    if generic:
        return "generic", generic.group(0).strip(" :：-")
    return None


_OOO_BODY = re.compile(
    _alternatives(
        r"out of (?:the )?office(?! hours)",
        r"\bi(?: am|'m|’m) (?:currently )?(?:away|out of (?:the )?office|out"
        r"|on (?:annual |parental |sick )?leave|on vacation|on holiday|travell?ing|absent|not in the office"
        r"|off work)",
        r"\bi will be (?:away|out|back|returning|absent|on leave)",
        r"\bi will return",
        r"\bi(?:'ll|’ll) be back",
        r"back in the office",
        r"limited access to (?:my )?e-?mail",
        r"(?:during|in) my absence",
        r"until i return",
        r"(?:maternity|paternity|parental) leave",
        r"nicht im büro",
        r"außer haus",
        r"ausser haus",
        r"\bbin (?:ich )?(?:bis|vom|ab) [^\n]{0,40}(?:abwesend|nicht erreichbar|im urlaub)",
        r"abwesend",
        r"im urlaub",
        r"wieder im büro",
        r"während meiner abwesenheit",
        r"elternzeit",
        r"absente? du bureau",
        r"je suis absente?",
        r"je serai absente?",
        r"en congés?\b",
        r"pendant mon absence",
        r"de retour le",
        r"fuera de (?:la )?oficina",
        r"estoy de vacaciones",
        r"estaré (?:fuera|ausente)",
        r"durante mi ausencia",
        r"fuori ufficio",
        r"sono in ferie",
        r"sarò assente",
        r"durante la mia assenza",
        r"\bafwezig",
        r"buiten kantoor",
        r"met vakantie",
        r"frånvarande",
        r"på semester",
        r"fraværende",
        r"på ferie",
    ),
    _I,
)


def ooo_body(text: str) -> str | None:
    """Return an out-of-office phrase ("I am out of the office", "nicht im Büro" ...) in a body top."""
    m = _OOO_BODY.search(text[:TOP_CHARS])
    return m.group(0) if m else None


# --------------------------------------------------------------------------------------------- receipts

_RECEIPT_STRONG = re.compile(
    _alternatives(
        r"we(?: have|'ve|’ve) (?:successfully )?received your (?:support )?(?:request|e-?mail|message|inquiry"
        r"|enquiry|ticket|query|case)",
        r"we received your (?:support )?(?:request|e-?mail|message|inquiry|enquiry|ticket|query)",
        r"your (?:support )?(?:request|ticket|case|message|e-?mail|inquiry|enquiry) (?:\(\S+\) )?has been "
        r"(?:received|created|logged|opened|registered|submitted)",
        r"(?:a|your) (?:support )?(?:ticket|case) has been (?:created|opened|logged|raised)",
        r"acknowledge (?:the )?receipt",
        r"acknowledge that we have received",
        r"(?:ticket|request|case|message) received",
        r"wir haben ihre (?:anfrage|nachricht|e-?mail|mail)[^\n]{0,20} erhalten",
        r"eingangsbestätigung",
        r"ihre (?:anfrage|nachricht|e-?mail) (?:ist bei uns eingegangen|wurde (?:erfasst|registriert))",
        r"nous avons (?:bien )?reçu votre",
        r"accusé de réception",
        r"votre demande a (?:bien )?été (?:reçue|enregistrée|créée)",
        r"hemos recibido (?:su|tu)",
        r"acuse de recibo",
        r"abbiamo ricevuto la (?:sua|tua)",
        r"conferma di ricezione",
        r"wij hebben uw [^\n]{0,20} ontvangen",
        r"we hebben je [^\n]{0,20} ontvangen",
        r"ontvangstbevestiging",
        r"vi har mottagit",
        r"vi har modtaget",
        r"vi har mottatt",
    ),
    _I,
)

_RECEIPT_WEAK = re.compile(
    _alternatives(
        r"thanks? (?:you )?for (?:contacting|reaching out|your (?:e-?mail|message|inquiry|enquiry|request))",
        r"we will (?:get back to you|respond|reply|be in touch)",
        r"(?:within|in) (?:\d+|one|two|three) (?:business |working )?(?:hours|days)",
        r"vielen dank für ihre (?:anfrage|nachricht|e-?mail)",
        r"wir (?:melden|werden) uns",
        r"merci (?:pour votre|de nous avoir)",
        r"gracias por (?:su|tu|contactar)",
        r"grazie per (?:la sua|la tua|averci)",
        r"bedankt voor (?:uw|je)",
    ),
    _I,
)

_SUBJECT_RECEIPT = re.compile(
    _alternatives(
        r"(?:ticket|request|case|message|inquiry|enquiry) (?:received|created|opened|logged)",
        r"we(?: have|'ve)? received your",
        r"has been received",
        r"eingangsbestätigung",
        r"accusé de réception",
        r"acuse de recibo",
        r"conferma di ricezione",
        r"ontvangstbevestiging",
    ),
    _I,
)

_AUTOMATED = re.compile(
    _alternatives(
        r"this (?:is an?|e-?mail is an?|message is an?|message was|e-?mail was) "
        r"(?:automated|automatic|auto-generated|automatically generated|automatically sent)",
        r"automatically generated",
        r"auto-generated (?:e-?mail|message|response|reply)",
        r"automatische (?:nachricht|antwort|e-?mail|benachrichtigung|eingangsbestätigung)",
        r"automatisch (?:erstellt|generiert|erzeugt|versendet|gegenereerd|verzonden)",
        r"message automatique",
        r"réponse automatique",
        r"mensaje automático",
        r"respuesta automática",
        r"messaggio automatico",
        r"risposta automatica",
        r"automatisch (?:bericht|antwoord)",
        r"automatiskt (?:meddelande|svar)",
    ),
    _I,
)

_NOREPLY = re.compile(r"^(?:no|do[-_.]?not)[-_.]?reply|^auto[-_.]?(?:reply|respon)|^mailer$|^bounces?\b", _I)


def receipt_phrase(subject: str, text: str, *, weak: bool = False) -> str | None:
    """Return a "we have received your request" phrase in the subject or body top, or None.

    With ``weak`` also the phrases people write too ("thank you for contacting us", "we will get back to
    you"); those may only refine a message already known to be automatic.
    """
    for pattern in (_RECEIPT_STRONG, _RECEIPT_WEAK) if weak else (_RECEIPT_STRONG,):
        m = pattern.search(subject) or pattern.search(text[:TOP_CHARS])
        if m:
            return m.group(0)
    return None


def subject_receipt(subject: str) -> str | None:
    """Return a receipt marker in a subject ("Ticket received", "Eingangsbestätigung" ...), or None."""
    m = _SUBJECT_RECEIPT.search(subject)
    return m.group(0) if m else None


def automated_phrase(text: str) -> str | None:
    """Return a statement that the message is automatic ("This is an automated message" ...), or None."""
    m = _AUTOMATED.search(text[:TOP_CHARS])
    return m.group(0) if m else None


def is_noreply_address(address: str | None) -> bool:
    """Tell whether an address is a ``noreply@``, ``do-not-reply@`` or ``autoresponder@`` sender."""
    if not address:
        return False
    return bool(_NOREPLY.match(address.split("@", 1)[0]))


# --------------------------------------------------------------------------------------------- ticket ids

_TICKET_BRACKET = re.compile(r"\[[^\[\]#]{0,40}#\s*:?\s*([A-Za-z]{0,6}-?\d[\w-]{0,30})\s*\]")
_TICKET_WORD = re.compile(
    r"\b(?:ticket|case|request|incident|vorgang|anfrage|demande|caso|solicitud|richiesta|melding|ärende"
    r"|ticket-?id)s?[ \t]*(?:id|no\.?|nr\.?|number|nummer|numéro|número|numero|ref(?:erence)?)?[ \t]*"
    r"(?:is[ \t]+)?[:#-]?[ \t]*#?[ \t]*\(?([A-Za-z]{0,6}-?\d[\w-]{2,30})\)?",
    _I,
)


def ticket_id(subject: str, text: str) -> str | None:
    """Return a help-desk ticket or case id ("[#12345]", "Ticket 12345", "case number 00123456"), or None."""
    for source in (subject, text[:TOP_CHARS]):
        for pattern in (_TICKET_BRACKET, _TICKET_WORD):
            m = pattern.search(source)
            if m:
                return m.group(1)
    return None
