"""Phrase signals in subjects and bodies: bounces, absences, receipts, surveys, unsubscribe footers, ticket ids.

Each function returns the phrase it matched (the evidence) or None. Callers pass the reply's own words
(:func:`replybench.classify.newtext.new_text`: no quoted original, no signature) wherever a quoted message could
mislead, because a person's reply that quotes an auto-reply must not look automatic. Patterns cover English,
German, French, Spanish, Italian, Dutch and the Scandinavian languages, and the fixed subjects mail programs
put on automatic replies in many more (Polish, Czech, Portuguese, Finnish, Turkish, Japanese, Chinese ...).
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = [
    "automated_phrase",
    "bounce_body_phrase",
    "bounce_subject",
    "delay_phrase",
    "generic_salutation",
    "is_noreply_address",
    "is_reply_subject",
    "is_thanks",
    "mailbox_full_phrase",
    "ooo_body",
    "ooo_subject",
    "receipt_phrase",
    "smtp_status",
    "strip_subject_tags",
    "subject_receipt",
    "survey_phrase",
    "ticket_id",
    "unmonitored_phrase",
    "unsubscribe_phrase",
    "urgent_phrase",
]

#: How much of a body is searched: automatic messages say what they are near the top.
TOP_CHARS = 4000

_I = re.IGNORECASE


def _alternatives(*phrases: str) -> str:
    return "|".join(phrases)


def _search(pattern: re.Pattern[str], *texts: str) -> str | None:
    for text in texts:
        m = pattern.search(text[:TOP_CHARS])
        if m:
            return m.group(0)
    return None


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
        r"delivery failed",
        r"undeliverable message",
        r"message delivery failure",
        r"notificación de estado de entrega \((?:error|retraso)\)",
        r"mensaje no entregado",
        r"non distribuable",
        r"mail could not be delivered",
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
        r"(?:will|shall) (?:be )?retr(?:y|ied|ying)",
        r"(?:is|are) being retried",
        r"will try (?:again|to deliver)",
        r"temporar(?:y|ily) (?:failure|unavailable|deferred|problem)",
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
        r"address not found",
        r"address couldn't be found",
        r"address could not be found",
        r"delivery to the following recipients? failed permanently",
        r"unable to deliver",
        r"does not exist",
        r"account (?:is )?(?:disabled|inactive|suspended)",
        r"over quota",
        r"quota exceeded",
        r"rejected by (?:the )?(?:recipient|remote|destination)",
        r"undeliverable",
    ),
    _I,
)

_ENHANCED_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_BASIC_STATUS = re.compile(r"(?<![\d.:])([45]\d\d)(?:[ -](?=\S)|:\s)")


def bounce_subject(subject: str) -> str | None:
    """Return the bounce phrase a subject starts with ("Undeliverable", "failure notice" ...), or None."""
    m = _BOUNCE_SUBJECT.match(strip_subject_tags(subject))
    return m.group(0) if m else None


def bounce_body_phrase(text: str) -> str | None:
    """Return a delivery-failure phrase near the top of a body, or None."""
    return _search(_BOUNCE_BODY, text)


def delay_phrase(subject: str, text: str) -> str | None:
    """Return a "delivery delayed, still retrying" phrase in the subject or body top, or None."""
    return _search(_DELAY, subject, text)


_MAILBOX_FULL = re.compile(
    _alternatives(
        r"mailbox (?:is )?full",
        r"over (?:the )?quota",
        r"quota exceeded",
        r"exceeded (?:the|its|their) (?:storage )?quota",
        r"insufficient (?:system )?storage",
        r"postfach (?:des empfängers )?(?:ist )?voll",
        r"speicherplatz (?:ist )?(?:erschöpft|überschritten)",
        r"boîte (?:aux lettres )?(?:est )?pleine",
        r"buzón (?:está )?lleno",
        r"casella (?:di posta )?piena",
        r"mailbox (?:is )?vol",
    ),
    _I,
)


def mailbox_full_phrase(text: str) -> str | None:
    """Return a "mailbox full / over quota" phrase (a soft failure: the address exists), or None."""
    return _search(_MAILBOX_FULL, text)


def smtp_status(text: str) -> str | None:
    """Return the first SMTP status code in a text: enhanced ("5.1.1") if any, else basic ("550")."""
    head = text[:TOP_CHARS]
    m = _ENHANCED_STATUS.search(head)
    if m:
        return m.group(0)
    m = _BASIC_STATUS.search(head)
    return m.group(1) if m else None


# --------------------------------------------------------------------------------------------- out of office

#: "Automatic reply:" in the languages Outlook, Exchange, Gmail, Zimbra and others write it. Exchange also
#: puts it on the acknowledgements of shared mailboxes, so alone it does not say "absent".
_OOO_GENERIC_PREFIX = re.compile(
    r"^(?:"
    + _alternatives(
        r"automatic reply",
        r"automatic response",
        r"auto[- ]?reply",
        r"auto[- ]?response",
        r"autoresponder",
        r"automatische antwort",
        r"automatische rückantwort",
        r"réponse automatique",
        r"respuesta automática",
        r"respuesta automatica",
        r"risposta automatica",
        r"automatisch antwoord",
        r"autosvar",
        r"automatiskt svar",
        r"automatisk svar",
        r"automatisk besked",
        r"resposta automática",
        r"resposta automatica",
        r"odpowiedź automatyczna",
        r"automatyczna odpowiedź",
        r"automatická odpověď",
        r"automatická odpoveď",
        r"automaattinen vastaus",
        r"otomatik (?:yanıt|yanit|cevap)",
        r"automatikus válasz",
        r"automatski odgovor",
        r"samodejni odgovor",
        r"răspuns automat",
        r"αυτόματη απάντηση",
        r"автоматический ответ",
        r"автоматична відповідь",
        r"автоматичен отговор",
        r"自動返信",
        r"自動応答",
        r"自动回复",
        r"自動回覆",
        r"자동 회신",
        r"자동 응답",
    )
    + r")\s*[:：-]?\s*",
    _I,
)

#: Subjects that say "absent" outright.
_OOO_STRONG_PREFIX = re.compile(
    r"^(?:"
    + _alternatives(
        r"out of (?:the )?office",
        r"out-of-office",
        r"ooo\b",
        r"abwesenheitsnotiz",
        r"abwesenheit",
        r"abwesend",
        r"nicht im büro",
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
        r"nieobecn[aoy]",
        r"mimo kancelář",
        r"nepřítomen",
        r"nepřítomna",
        r"fora do escritório",
        r"ausente do escritório",
        r"poissa toimistolta",
        r"lomalla",
        r"ofis dışında",
        r"izinde",
        r"不在",
        r"休暇",
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
        r"poza biurem",
        r"mimo kancelář",
        r"fora do escritório",
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
        r"jestem (?:nieobecn[ay]|na urlopie|poza biurem)",
        r"poza biurem",
        r"podczas mojej nieobecności",
        r"nejsem v kanceláři",
        r"jsem (?:na dovolené|mimo kancelář|nepřítomn[ýá])",
        r"během mé nepřítomnosti",
        r"estou (?:de férias|fora do escritório|ausente)",
        r"durante a minha ausência",
        r"olen (?:lomalla|poissa)",
        r"poissa toimistolta",
        r"izindeyim",
        r"ofis dışındayım",
        r"不在にしております",
        r"休暇を(?:いただいて|取って)",
        r"不在",
    ),
    _I,
)


def ooo_body(text: str) -> str | None:
    """Return an out-of-office phrase ("I am out of the office", "nicht im Büro" ...) in a body top."""
    return _search(_OOO_BODY, text)


# --------------------------------------------------------------------------------------------- receipts

_RECEIPT_STRONG = re.compile(
    _alternatives(
        r"we(?: have|'ve|’ve) (?:successfully )?(?:received|got) your (?:support )?(?:request|e-?mail|message"
        r"|inquiry|enquiry|ticket|query|case)",
        r"we received your (?:support )?(?:request|e-?mail|message|inquiry|enquiry|ticket|query)",
        r"your (?:support )?(?:request|ticket|case|message|e-?mail|inquiry|enquiry) (?:\(?#?\S+\)? )?"
        r"(?:has been|was|is being) (?:received|created|logged|opened|registered|submitted)",
        r"(?:a|your|a new) (?:support )?(?:ticket|case|request) (?:\(?#?\S+\)? )?has been (?:created|opened"
        r"|logged|raised)",
        r"acknowledge (?:the )?receipt",
        r"acknowledge that we have received",
        r"confirm(?:ing)? (?:the )?receipt of your",
        r"this is an automatic confirmation",
        r"(?:ticket|request|case|message) received",
        r"wir haben ihre (?:anfrage|nachricht|e-?mail|mail)[^\n]{0,20} erhalten",
        r"eingangsbestätigung",
        r"ihre (?:anfrage|nachricht|e-?mail) (?:ist bei uns eingegangen|wurde (?:erfasst|registriert|angelegt))",
        r"nous avons (?:bien )?reçu votre",
        r"accusé de réception",
        r"votre (?:demande|ticket|message) a (?:bien )?été (?:reçue?|enregistrée?|créée?)",
        r"hemos recibido (?:su|tu)",
        r"acuse de recibo",
        r"(?:su|tu) (?:solicitud|consulta|ticket|caso) (?:ha sido|fue) (?:recibid[oa]|registrad[oa]|cread[oa])",
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

# Thanks everybody writes, autoresponders of absent people too.
_THANKS = re.compile(
    _alternatives(
        r"thanks? (?:you )?for (?:contacting|reaching out|your (?:e-?mail|message|inquiry|enquiry|request))",
        r"vielen dank für ihre (?:anfrage|nachricht|e-?mail)",
        r"merci (?:pour votre|de nous avoir)",
        r"gracias por (?:su|tu|contactar)",
        r"grazie per (?:la sua|la tua|averci)",
        r"bedankt voor (?:uw|je)",
    ),
    _I,
)
_RECEIPT_WEAK = re.compile(
    _alternatives(
        _THANKS.pattern,
        r"we will (?:get back to you|respond|reply|be in touch)",
        r"(?:within|in) (?:\d+|one|two|three) (?:business |working )?(?:hours|days)",
        r"vielen dank für ihre (?:anfrage|nachricht|e-?mail)",
        r"wir (?:melden|werden) uns",
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
        r"this (?:is an?|e-?mail is an?|message is an?|message was|e-?mail was|message has been|e-?mail has been)"
        r" (?:automated|automatic|auto-generated|automatically generated|automatically sent|sent automatically)",
        r"automatically generated",
        r"auto-generated (?:e-?mail|message|response|reply)",
        r"(?:please )?do not reply to this (?:e-?mail|message)",
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

_NOREPLY = re.compile(
    r"^(?:no|do[-_.]?not|dont)[-_.]?reply|^auto[-_.]?(?:reply|respon|confirm)|^mailer$|^bounces?\b|^notifications?$",
    _I,
)

_GENERIC_SALUTATION = re.compile(
    _alternatives(
        r"\bdear (?:valued )?(?:customer|client|sir or madam|sir/madam|sender)\b",
        r"sehr geehrte damen und herren",
        r"(?:liebe|sehr geehrte) kundin,? (?:lieber|sehr geehrter) kunde",
        r"sehr geehrter kunde",
        r"\bch(?:er|ère) client(?:e)?\b",
        r"madame,? monsieur",
        r"\bestimad[oa] client[ea]\b",
        r"\bgentile cliente\b",
        r"\b(?:beste|geachte) klant\b",
    ),
    _I,
)


def receipt_phrase(subject: str, text: str, *, weak: bool = False) -> str | None:
    """Return a "we have received your request" phrase in the subject or body top, or None.

    With ``weak`` also the phrases people write too ("thank you for contacting us", "we will get back to
    you"); those may only refine a message already known to be automatic.
    """
    for pattern in (_RECEIPT_STRONG, _RECEIPT_WEAK) if weak else (_RECEIPT_STRONG,):
        found = _search(pattern, subject, text)
        if found:
            return found
    return None


def is_thanks(phrase: str) -> bool:
    """Tell whether a (weak) receipt phrase is only thanks ("Thank you for your email").

    Absent people write that too; a promise of an answer ("we will get back to you") they do not.
    """
    return _THANKS.fullmatch(phrase) is not None


_URGENT = re.compile(
    _alternatives(
        r"\b(?:for|in) (?:urgent|pressing) (?:matters|cases|questions|enquiries|inquiries|requests)",
        r"\bif (?:it is|it's|your (?:matter|request) is) urgent",
        r"\bin (?:dringenden|eiligen) (?:fällen|angelegenheiten)",
        r"\bbei (?:dringenden|eiligen) (?:anliegen|fragen|angelegenheiten)",
        r"\ben cas d'urgence|\bpour toute (?:demande|question) urgente",
        r"\bpara (?:asuntos|consultas|casos) urgentes|\ben caso de urgencia",
        r"\bper (?:urgenze|richieste urgenti|questioni urgenti)",
        r"\bin dringende (?:gevallen|zaken)|\bvoor dringende (?:zaken|vragen)",
        r"\bvid brådskande|\bw pilnych sprawach|\bv naléhavých případech|\bpara assuntos urgentes",
        r"\bkiireellisissä asioissa|\bacil durumlarda|お急ぎの場合",
    ),
    _I,
)


def urgent_phrase(text: str) -> str | None:
    """Return "for urgent matters" wording (how absence notes point elsewhere), or None."""
    return _search(_URGENT, text)


def subject_receipt(subject: str) -> str | None:
    """Return a receipt marker in a subject ("Ticket received", "Eingangsbestätigung" ...), or None."""
    m = _SUBJECT_RECEIPT.search(subject)
    return m.group(0) if m else None


def automated_phrase(text: str) -> str | None:
    """Return a statement that the message is automatic ("This is an automated message" ...), or None."""
    return _search(_AUTOMATED, text)


def generic_salutation(text: str) -> str | None:
    """Return a salutation nobody writing to a known person uses ("Dear customer", "Madame, Monsieur")."""
    return _search(_GENERIC_SALUTATION, text)


def is_noreply_address(address: str | None) -> bool:
    """Tell whether an address is a ``noreply@``, ``do-not-reply@`` or ``autoresponder@`` sender."""
    if not address:
        return False
    return bool(_NOREPLY.match(address.split("@", 1)[0]))


# --------------------------------------------------------------------------------------------- automation

_UNMONITORED = re.compile(
    _alternatives(
        r"this (?:e-?mail )?(?:address|mailbox|inbox) (?:is|was) (?:not|no longer) (?:being )?(?:monitored|in use"
        r"|staffed|read|checked|active|attended)",
        r"(?:e-?mails?|messages?|replies) (?:sent )?to this (?:e-?mail )?address (?:are|is|will) not (?:be )?"
        r"(?:read|answered|monitored|processed|seen)",
        r"(?:we|i) (?:are|am) (?:unable|not able) to (?:respond|reply) to (?:e-?mails?|messages?) (?:sent )?to "
        r"this address",
        r"diese[rs]? (?:e-?mail-?adresse|adresse|postfach|mailbox|e-?mail-?postfach) wird (?:nicht|nicht mehr|"
        r"nicht regelmäßig) (?:überwacht|gelesen|genutzt|bearbeitet|betreut)",
        r"nachrichten an diese adresse werden nicht (?:gelesen|bearbeitet|beantwortet)",
        r"cette (?:adresse(?: e-?mail)?|boîte(?: aux lettres)?) n'est (?:pas|plus) (?:surveillée|consultée|lue)",
        r"este (?:buzón|correo(?: electrónico)?|dirección) no (?:es|está) (?:monitorizad[oa]|atendid[oa]|"
        r"supervisad[oa])",
        r"(?:questa casella|questo indirizzo)(?: (?:di posta|e-?mail))? non (?:è|viene) (?:monitorat[oa]|"
        r"presidiat[oa]|lett[oa])",
        r"dit (?:e-?mail)?adres wordt niet (?:gelezen|gecontroleerd|bewaakt)",
    ),
    _I,
)


def unmonitored_phrase(text: str) -> str | None:
    """Return a "this mailbox is not monitored" notice: a machine speaking, nobody reads the mail."""
    return _search(_UNMONITORED, text)


_SURVEY = re.compile(
    _alternatives(
        r"how (?:did we do|would you rate|satisfied were you|was your (?:experience|support))",
        r"rate (?:your|our|the|my) (?:support|service|experience|conversation|reply|interaction)",
        r"(?:customer )?satisfaction survey",
        r"(?:short|quick|brief|one-question) survey",
        r"tell us (?:how we did|what you think)",
        r"wie zufrieden (?:waren|sind) sie",
        r"bewerten sie (?:unseren|unsere|den|die)",
        r"zufriedenheitsumfrage",
        r"comment (?:évaluez|évalueriez|jugez)-vous",
        r"enquête de satisfaction",
        r"(?:cómo|como) (?:valoraría|calificaría|evaluaría|valorarías)",
        r"encuesta de satisfacción",
        r"come valuterebbe",
        r"questionario di soddisfazione",
        r"hoe tevreden (?:was|bent) u",
        r"klanttevredenheidsonderzoek",
    ),
    _I,
)


def survey_phrase(subject: str, text: str = "") -> str | None:
    """Return a satisfaction-survey phrase ("How would you rate the support you received?"), or None."""
    return _search(_SURVEY, subject, text)


_UNSUBSCRIBE = re.compile(
    _alternatives(
        r"unsubscribe",
        r"opt[- ]out",
        r"manage (?:your )?(?:e-?mail |subscription |notification |communication )?preferences",
        r"update your (?:e-?mail )?preferences",
        r"no longer (?:wish|want) to receive",
        r"(?:vom newsletter |newsletter )?(?:abmelden|abbestellen|austragen)",
        r"(?:se )?désinscri(?:re|ption)",
        r"(?:se )?désabonner",
        r"darse de baja|darte de baja|cancelar (?:la |tu |su )?suscripción",
        r"disiscriv(?:iti|ersi)|(?:annulla|cancella)(?:re)? l'iscrizione",
        r"afmelden|uitschrijven",
    ),
    _I,
)


def unsubscribe_phrase(text: str) -> str | None:
    """Return an unsubscribe link's wording ("Unsubscribe", "Newsletter abbestellen" ...) anywhere in a body."""
    m = _UNSUBSCRIBE.search(text)
    return m.group(0) if m else None


# --------------------------------------------------------------------------------------------- ticket ids

_ID = r"([A-Za-z]{0,6}-?\d[\w-]{2,30})"
# Zoho Desk "[## 12345 ##]", Request Tracker "[example.com #12345]", OTRS "[Ticket#2025...]", "[#12345]".
_TICKET_ZOHO = re.compile(r"\[##\s*(\d{3,15})\s*##\]")
_TICKET_BRACKET = re.compile(r"\[[^\[\]#]{0,40}#\s*:?\s*([A-Za-z]{0,6}-?\d[\w-]{0,30})\s*\]")
# Jira Service Management "[JIRA] (SUP-123)".
_TICKET_JIRA = re.compile(r"\[jira\][^\[\]()]{0,5}[\[(]([A-Z][A-Z0-9]{1,9}-\d{1,7})[\])]", _I)
_TICKET_WORD = re.compile(
    r"(?<![\w-])(?:ticket|case|request|incident|conversation|vorgang|anfrage|demande|dossier|caso|solicitud"
    r"|incidencia|richiesta|pratica|segnalazione|melding|verzoek|ärende|sak"
    r"|ticket-?id|ticketnummer|vorgangsnummer|fallnummer|bearbeitungsnummer|zaaknummer|ärendenummer"
    r"|numéro de (?:ticket|dossier|demande)|número de (?:caso|ticket|solicitud|incidencia)"
    r"|numero (?:di )?(?:ticket|pratica|richiesta))s?"
    r"(?P<label>[ \t]*(?:id|no\.?|nr\.?|n°|nº|n\.º|n\.|number|nummer|numéro|número|numero|ref(?:erence)?))?"
    r"(?:[ \t]+(?:is|lautet|est|es|è|was))?[ \t]*(?P<sep>[:#-]?[ \t]*#?[ \t]*\(?)" + _ID + r"\)?",
    _I,
)
_DATE_LIKE = re.compile(r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}-\d{2,4})$")
_AFTER_NUMBER = re.compile(
    r"^(?:[.,:/]\d|\s?(?:€|\$|£|%|eur\b|euro\b|usd\b|chf\b|gbp\b|kg\b|km\b|cm\b|mm\b|uhr\b|h\b|min\b|am\b|pm\b"
    r"|days?\b|tage?n?\b|jours?\b|días?\b|giorni\b|dagen\b|st(?:ück|k)\b|pieces?\b|items?\b)|\s\d{2,})",
    _I,
)
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_CITY = re.compile(r"^ [A-ZÄÖÜ][a-zäöüßéèà]+")


def _plausible(source: str, m: re.Match[str], *, marked: bool) -> bool:
    """Reject dates, times, amounts, phone numbers and years that merely follow a ticket-ish word."""
    value = m.group(m.lastindex or 1)
    if _DATE_LIKE.match(value) or _AFTER_NUMBER.match(source[m.end(m.lastindex or 1) :]):
        return False
    if source[max(0, m.start(m.lastindex or 1) - 1) : m.start(m.lastindex or 1)] == "+":
        return False
    if value.isdigit() and not marked:
        # A bare "Ticket 123" is too easily a quantity, "Anfrage 10115 Berlin" a postcode; "Ticket #123",
        # "(123)" or "ticket number 123" is neither.
        after = source[m.end(m.lastindex or 1) :]
        postcode = len(value) in (4, 5) and _CITY.match(after) is not None
        return len(value) >= 4 and not _YEAR.match(value) and not postcode
    return True


def ticket_id(subject: str, text: str) -> str | None:
    """Return a help-desk ticket or case id ("[#12345]", "Ticket 12345", "case number 00123456"), or None.

    The subject is read first, then the body top. Recognised: ``[#12345]`` and ``[example.com #12345]``
    (Request Tracker, Freshdesk, OTRS's ``[Ticket#2025...]``), Zoho Desk's ``[## 12345 ##]``, Jira's
    ``[JIRA] (SUP-123)``, and a ticket word followed by an id in several languages ("Ticket 4711", "your
    request (12345)", "case number 00123456", "Ticketnummer 2025...", "numéro de dossier 4521",
    "número de caso 777123"). Dates, times, prices, quantities, phone numbers and bare years are not ids.
    """
    for source in (subject, text[:TOP_CHARS]):
        for pattern in (_TICKET_ZOHO, _TICKET_BRACKET, _TICKET_JIRA):
            m = pattern.search(source)
            if m and _plausible(source, m, marked=True):
                return m.group(1)
        for m in _TICKET_WORD.finditer(source):
            marked = bool(m.group("label")) or bool(m.group("sep").strip())
            if _plausible(source, m, marked=marked):
                return m.group(m.lastindex or 1)
    return None
