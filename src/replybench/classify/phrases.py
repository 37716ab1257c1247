"""Phrases the email and chat classifiers share: being sent elsewhere, being told to wait, and empty formulas.

* **Deflections** send the customer to another channel instead of answering: phone, a (contact) form, an
  email address, a web page, social media, a letter, a branch, or another department or company
  (:data:`DeflectTo`). A deflection phrase inside a *courtesy* sentence ("if you have further questions, feel
  free to call us") only offers a channel; :func:`deflection` ignores it. A public social reply has its own
  ways of sending people away (:data:`SOCIAL_DEFLECTIONS`: "please DM us", "slide into our DMs", "reach out
  to @AcmeHelp", "our support team is available at support@…"), read only when a caller asks with
  ``social=True``; so in an email or a chat "DM us" stays a pointer to ``social`` media, while on a social
  network it is ``dm``: the same network, in private.
* **Holding** phrases promise an answer later: "we'll get back to you", "we are looking into it", "we have
  forwarded your request", "wir melden uns", "nous reviendrons vers vous", "le responderemos" ...
* **Formulas** carry no answer: greetings, thanks, apologies for a delay, sign-offs, names and contact lines,
  help-desk boilerplate, and the reasons a company gives for not answering by email ("for security reasons").

:func:`read_reply` sorts the sentences of a reply's own words into these kinds and keeps the rest as
*substantive*; the email classifier calls a reply a deflection (or a holding reply) only when nothing
substantive is left, so an answer that ends "feel free to call us" stays an answer.

Everything is matched on normalised text (:func:`normalise`: NFKC, case-folded, plain quotes and dots, single
spaces; so patterns spell "ß" as "ss"), in English, German, French, Spanish, Italian and Dutch (and a few
Portuguese and Scandinavian forms).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEFLECTIONS",
    "GREETING",
    "SOCIAL_DEFLECTIONS",
    "WORD_END",
    "WORD_START",
    "DeflectTo",
    "Reading",
    "compile_any",
    "deflection",
    "holding",
    "is_formula",
    "normalise",
    "read_reply",
    "sentences",
]

#: Where a deflection sends the customer; ``dm`` (social replies only) is a private message on the same network.
DeflectTo = Literal["phone", "form", "email", "web", "social", "post", "branch", "elsewhere", "dm"]

_QUOTES = str.maketrans(
    {"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"'}
)


def normalise(text: str) -> str:
    """The text phrases are matched on: NFKC, case-folded, plain quotes and dots, single spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_QUOTES).replace("…", "...")
    return re.sub(r"\s+", " ", folded).strip()


def compile_any(*patterns: str) -> re.Pattern[str]:
    """One pattern matching any of ``patterns`` (each wrapped in a group)."""
    return re.compile("|".join(f"(?:{p})" for p in patterns))


#: Word start and end for phrase patterns (also next to non-ASCII letters, unlike a bare ``\b``).
WORD_START = r"(?<![\w])"
WORD_END = r"(?![\w])"
_compile = compile_any
_B = WORD_START
_E = WORD_END
# "us" or "our team / customer service / hotline ..." as the one to be called or written to.
_US = (
    r"(?:us|our (?:\w+ )?(?:team|hotline|helpline|customer (?:service|care|support)|service (?:team|desk)|support"
    r"|(?:service|support|customer|phone|telephone|info) ?line|(?:phone |telephone )?number)"
)
_US += r"|(?:the|our) (?:\w+ )?(?:department|team))"
# A request rather than a statement: at the start of a sentence or clause, or after "please", "you need to".
_IMPERATIVE = (
    r"(?:^|[,;:] |\bplease |\bkindly |\byou (?:will |would |may )?(?:need|have|must|should|'ll need) to |"
    r"\byou should |\bcould you |\bwould you )"
)

# --------------------------------------------------------------------------------------------- deflections

#: Being sent somewhere else, by where to. First match wins, so the more specific kinds come first.
DEFLECTIONS: tuple[tuple[DeflectTo, re.Pattern[str]], ...] = (
    (
        "social",
        _compile(
            rf"{_B}(?:dm|pm) us{_E}",
            rf"{_B}send us a (?:direct|private) message{_E}",
            rf"{_B}(?:message|contact|reach) us (?:on|via) (?:facebook|twitter|x|instagram|whatsapp|messenger)"
            rf"{_E}",
            rf"{_B}(?:schreiben sie uns|kontaktieren sie uns) (?:per|über|auf) (?:whatsapp|facebook|instagram)",
            rf"{_B}envoyez-nous un (?:message privé|mp|dm){_E}",
        ),
    ),
    (
        "phone",
        _compile(
            rf"{_B}(?:please )?(?:call|phone|ring|telephone) {_US}{_E}",
            rf"{_B}please call (?:\+|0|\(0)[\d ()/-]*\d",
            rf"{_B}give us a (?:call|ring){_E}",
            rf"{_B}(?:reach|contact) {_US} (?:at|on) (?:\+|0|\(0)",
            rf"{_B}erreichen sie (?:uns|mich|[^.!?]{{0,40}}) "
            rf"(?:unter (?:\+|0|\(0|der (?:nummer|rufnummer))|telefonisch)",
            rf"{_B}(?:contact|reach|speak to) {_US} (?:by|via|on the|over the) (?:tele)?phone{_E}",
            rf"{_B}(?:only|best) (?:be )?(?:handled|dealt with|answered|discussed|resolved) (?:by|over the) phone",
            rf"{_B}rufen sie (?:uns |unsere \w+ )?(?:bitte |doch |gern |gerne )?(?:uns |einfach )?"
            rf"(?:unter [^.!?]{{0,40}})?an{_E}",
            rf"{_B}(?:bitte )?(?:melden|wenden) sie sich telefonisch{_E}",
            rf"{_B}(?:nur|ausschliesslich) telefonisch{_E}",
            rf"{_B}kontaktieren sie (?:uns|unseren kundenservice|unsere hotline) telefonisch{_E}",
            rf"{_B}(?:appelez-nous|contactez-nous par t[eé]l[eé]phone|veuillez (?:nous )?appeler|"
            rf"merci de (?:nous )?(?:appeler|contacter par t[eé]l[eé]phone)|nous (?:appeler|t[eé]l[eé]phoner)){_E}",
            rf"{_B}(?:ll[aá]m(?:enos|anos|e al)|cont[aá]ctenos (?:por|por v[ií]a) tel[eé]fon(?:o|ica))",
            rf"{_B}(?:chiamateci|ci chiami|ci contatti telefonicamente|contattateci telefonicamente|"
            rf"(?:la preghiamo|si prega) di (?:chiamare|contattarci telefonicamente)){_E}",
            rf"{_B}(?:bel ons|bel (?:met )?onze klantenservice|neem telefonisch contact){_E}",
        ),
    ),
    (
        "form",
        _compile(
            rf"{_B}(?:our|the) (?:online |web |dedicated )?contact ?form{_E}",
            rf"{_B}(?:fill (?:in|out)|complete) (?:the|this|our) (?:attached |enclosed |online |following )?"
            rf"(?:\w+ ){{0,2}}(?:form|application)",
            rf"{_B}(?:submit|open|raise|create|log) a (?:support )?(?:ticket|request|case) "
            rf"(?:via|on|in|through|at){_E}",
            rf"{_B}(?:via|through|in|on) (?:our|the) (?:customer |self-service |online )?portal{_E}",
            rf"{_B}(?:unser(?:em)? |das )?kontaktformular{_E}",
            rf"{_B}(?:füllen sie|das beigefügte|das anhängende|das angehängte) [^.!?]{{0,30}}formular",
            rf"{_B}(?:notre |le |ce )formulaire(?: de contact| en ligne)?{_E}",
            rf"{_B}(?:nuestro |el )formulario(?: de contacto| web| online)?{_E}",
            rf"{_B}(?:il nostro |il |l'apposito )?modulo (?:di contatto|online|web){_E}",
            rf"{_B}(?:ons |het )?(?:contact|web)formulier{_E}",
        ),
    ),
    (
        "post",
        _compile(
            rf"{_B}send us a (?:signed )?letter{_E}",
            rf"{_B}(?:send|post|mail|return)(?: [^.!?]{{0,60}})? (?:by (?:registered )?(?:post|letter|mail)|"
            rf"in writing){_E}",
            rf"{_B}(?:must|needs? to|has to|have to|can only) be (?:sent|submitted|made|requested) "
            rf"(?:by (?:registered )?(?:post|letter)|in writing){_E}",
            rf"{_B}(?:senden|schicken) sie (?:uns )?[^.!?]{{0,60}}(?:per post|per brief|schriftlich|"
            rf"per einschreiben){_E}",
            rf"{_B}(?:muss|müssen|kann nur|können nur) (?:schriftlich|per post|per brief)",
            rf"{_B}(?:envoyez|adressez)[^.!?]{{0,60}}par (?:courrier|lettre recommandée){_E}",
            rf"{_B}(?:envíe|envíenos|remita|remítanos)[^.!?]{{0,60}}por (?:correo postal|carta){_E}",
            rf"{_B}(?:invii|inviare|spedire|spedisca|inviarci)[^.!?]{{0,60}}(?:per posta|tramite raccomandata)"
            rf"{_E}",
            rf"{_B}(?:stuur|stuurt u|zend)[^.!?]{{0,60}}per (?:post|brief){_E}",
        ),
    ),
    (
        "branch",
        _compile(
            rf"{_B}(?:visit|come (?:in|by) (?:to|at)|go to|pop into) (?:one of )?(?:our|your (?:local|nearest)) "
            rf"(?:local )?(?:branch|branches|store|stores|shop|shops|office|offices){_E}",
            rf"{_B}in (?:einer|unserer|ihrer) (?:\w+ )?(?:filiale|geschäftsstelle){_E}",
            rf"{_B}(?:en agence|dans (?:l'une de )?nos agences|en boutique){_E}",
            rf"{_B}en (?:una de )?nuestras (?:oficinas|tiendas|sucursales){_E}",
            rf"{_B}(?:in filiale|presso (?:una delle )?nostre filiali){_E}",
            rf"{_B}in (?:een van )?onze (?:winkels|filialen|vestigingen){_E}",
        ),
    ),
    (
        "web",
        _compile(
            rf"{_B}(?:visit|see|check|search|browse|consult|refer to|look at) our (?:help ?(?:cent(?:er|re)|desk|"
            rf"page)|faqs?|knowledge ?base|support (?:site|page|portal)|website|web ?site|web ?page){_E}",
            rf"{_B}(?:in|on|at|via) our (?:help ?(?:cent(?:er|re)|desk|page)|faqs?|knowledge ?base|"
            rf"support (?:site|page|portal)){_E}",
            rf"{_B}you(?:'ll| will)? (?:can )?find [^.!?]{{0,40}}(?:on|at) our (?:website|web ?site|homepage){_E}",
            rf"{_B}log ?(?:in|on)(?: to| into)? (?:your |my |the )?(?:account|online banking|customer (?:area|portal)|"
            rf"app|my account){_E}",
            rf"{_B}(?:via|in|through|use|using) (?:the|our) (?:secure )?(?:messaging|message|mailbox) "
            rf"(?:service|centre|center|function|feature){_E}",
            rf"{_B}(?:loggen sie sich|melden sie sich) [^.!?]{{0,40}}(?:ein|an){_E}|{_B}(?:über|im|in unserem) "
            rf"(?:kundenportal|online-banking|kundenkonto|postfach im online-banking){_E}",
            rf"{_B}(?:connectez-vous|rendez-vous) (?:à|a|sur) (?:votre|notre) (?:espace client|application){_E}",
            rf"{_B}(?:acceda|entre) (?:a|en) (?:su|tu|nuestra) (?:área de cliente|area de cliente|app|aplicación)",
            rf"{_B}(?:acceda|accedi) (?:alla sua|alla tua|all') ?(?:area clienti|app){_E}",
            rf"{_B}log (?:in|ín) (?:op|bij) (?:mijn|uw|je) ",
            rf"{_B}(?:besuchen sie unser(?:e|en)? (?:hilfe-?(?:center|bereich|seite)|faq|website)|"
            rf"in unseren faq|finden sie [^.!?]{{0,40}}auf unserer (?:website|webseite|internetseite)){_E}",
            rf"{_B}consultez (?:notre|nos) (?:faq|centre d'aide|site){_E}",
            rf"{_B}consulte nuestr[oa]s? (?:faq|preguntas frecuentes|centro de ayuda|web){_E}",
            rf"{_B}(?:consulti|visiti) (?:le nostre faq|il nostro (?:sito|centro assistenza)){_E}",
            rf"{_B}(?:bekijk|raadpleeg) (?:onze|de) (?:veelgestelde vragen|faq|klantenservicepagina){_E}",
        ),
    ),
    (
        "email",
        _compile(
            rf"{_B}(?:please )?(?:send us an? |drop us an? )(?:e-?mail|mail|message by e-?mail){_E}",
            rf"{_B}(?:e-?mail|write to) {_US} (?:at|on|via){_E}",
            rf"{_B}(?:contact|reach) {_US} (?:by|via) e-?mail{_E}",
            rf"{_B}(?:schreiben sie uns (?:bitte )?(?:eine )?e-?mail|senden sie (?:uns )?ihre anfrage an){_E}",
            rf"{_B}(?:envoyez-nous un (?:e-?mail|courriel)|[eé]crivez-nous (?:[aà]|par e-?mail)){_E}",
            rf"{_B}(?:env[ií]enos un (?:correo|e-?mail)|escr[ií]banos a){_E}",
            rf"{_B}(?:scriveteci (?:a|una e-?mail)|inviateci una e-?mail|ci scriva a){_E}",
            rf"{_B}(?:stuur ons een (?:e-?mail|mail)|mail ons){_E}",
        ),
    ),
    (
        "elsewhere",
        _compile(
            rf"{_IMPERATIVE}(?:contact|get in touch with|reach out to|write to|speak to|talk to|"
            rf"(?:send|forward|direct|address) your (?:question|request|enquiry|inquiry|complaint) to) "
            rf"(?:the |our |your )?(?:\w+ ){{0,2}}(?:department|team|bank|insurer|insurance|provider|carrier|"
            rf"courier|manufacturer|dealer|retailer|seller|landlord|branch|office|colleagues|agency)",
            rf"{_IMPERATIVE}(?:contact|write to|e-?mail|(?:send|forward|direct) your (?:question|request|"
            rf"enquiry|inquiry) to) [\w.+-]+@[\w-]+(?:\.[\w-]+)+",
            rf"{_B}(?:we are|we're) not (?:the right|responsible|able to help with)",
            rf"{_B}(?:wenden sie sich|bitte kontaktieren sie|kontaktieren sie bitte) (?:bitte |direkt |dafür )?"
            rf"(?:an |den |die |das |ihre[n]? )",
            rf"{_B}(?:nicht zuständig|sind wir nicht der richtige ansprechpartner){_E}",
            rf"{_B}(?:adressez-vous [aà]|veuillez (?:vous adresser|contacter)|merci de contacter){_E}",
            rf"{_B}(?:dir[ií]jase a|p[oó]ngase en contacto con|le rogamos (?:que )?(?:contacte|se ponga)){_E}",
            rf"{_B}(?:si rivolga a|(?:la preghiamo|si prega) di (?:rivolgersi|contattare)|"
            rf"contatti (?:direttamente )?(?:il|la|l'))",
            rf"{_B}(?:wendt u zich (?:tot|aan)|neem (?:dan )?contact op met){_E}",
        ),
    ),
)

# --------------------------------------------------------------------------------------- social deflections

# A handle as it is written in a post (Mastodon's carry their server: "@acmehelp@mastodon.social").
_HANDLE = r"@\w(?:[\w.-]*\w)?(?:@\w[\w-]*(?:\.[\w-]+)+)?"
_NETWORK = (
    r"(?:facebook|twitter|x|instagram|insta|whatsapp|messenger|threads|bluesky|mastodon|linkedin|tiktok|"
    r"telegram|signal)"
)
_MAIL_ADDRESS = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_WEB_ADDRESS = r"(?:https?://|www\.)\S+"
_PHONE_NUMBER = r"\+?\(?\d[\d ()/.-]{5,}\d"
# "Our support team is available at", "you can reach us at": the channel is the rest of the sentence.
_AVAILABLE_AT = (
    rf"(?:{_US}(?: \w+)? (?:is|are|can be) (?:available|reachable|reached|contacted|here to help|happy to help|"
    rf"on hand)(?: [^.!?@]{{0,30}}?)?|(?:contact|reach|email|e-mail|mail|write to|message|get in touch with|"
    rf"reach out to|call|ring|phone|text) (?:{_US}|support|customer (?:service|care|support)|the (?:\w+ )?team))"
    rf" (?:at|on|via|under|by e-?mail at|by phone (?:at|on)):?"
)
_DM = r"(?:dms?|pms?|direct messages?|private messages?)"
_DM_NOUN = r"(?:dm|pm|dms|direct message|private message)"

#: Being sent away in a public social reply, by where to: checked before :data:`DEFLECTIONS` when a caller asks
#: for it (``social=True``). Another account or network first ("DM @AcmeHelp", "DM us on WhatsApp": ``social``),
#: then a private message on the same network (``dm``), then an address the reply gives as the whole answer.
SOCIAL_DEFLECTIONS: tuple[tuple[DeflectTo, re.Pattern[str]], ...] = (
    (
        "social",
        _compile(
            rf"{_B}(?:contact|reach out to|reach|message|write to|tweet(?: at)?|dm|pm|ping|get in touch with|"
            rf"talk to|ask) (?:(?:{_US}|the (?:\w+ )?team) (?:at|on|over at) )?{_HANDLE}",
            rf"{_B}send (?:an? )?(?:{_DM_NOUN}|message|tweet|mention) to {_HANDLE}",
            rf"{_B}(?:our|the) (?:\w+ ){{0,2}}(?:team|account|colleagues) (?:at|on|over at) {_HANDLE}",
            rf"{_B}(?:dm|pm|message|write to|contact|reach) us (?:on|via|over on|through) {_NETWORK}{_E}",
            rf"{_B}(?:send|drop|shoot) us an? (?:{_DM_NOUN}|message) (?:on|via|over on|through) {_NETWORK}{_E}",
        ),
    ),
    (
        "dm",
        _compile(
            rf"{_B}(?:dm|pm) (?:us|me){_E}",
            rf"{_B}(?:send|drop|shoot|pop|give|leave|slide) (?:us|me) (?:an? |your )?(?:quick |short )?"
            rf"(?:{_DM_NOUN}|line (?:via|in|by) {_DM}){_E}",
            rf"{_B}(?:slide|jump|hop|pop|come) into (?:our|my|the) dms?{_E}",
            rf"{_B}(?:message|contact|write to|reach out to|chat with) (?:us|me) (?:privately|in private){_E}",
            rf"{_B}(?:reach out|contact us|get in touch|message us|write (?:to )?us|talk|chat|continue|"
            rf"follow up|take (?:this|it|that)|move (?:this|it|that|the conversation)|send (?:us )?[^.!?]{{0,40}}?|"
            rf"share [^.!?]{{0,40}}?|provide [^.!?]{{0,40}}?)(?: (?:with|to) (?:us|me))? (?:via|in|by|through|over|"
            rf"to|into) (?:an? )?{_DM}{_E}",
            rf"{_B}(?:check|see) (?:your|ur) {_DM}{_E}",
            rf"{_B}(?:sent|send|dropped) you an? {_DM_NOUN}{_E}",
            rf"{_B}dm'?(?:ed|'d) you{_E}",
            rf"{_B}(?:our |my )?dms are (?:always )?open{_E}",
            # German
            rf"{_B}(?:schreib|schreibt|schreiben sie|schick|schickt|schicken sie|sende|sendet|senden sie) (?:uns|mir)"
            rf"(?: (?:gerne|gern|bitte|doch|einfach|kurz|mal))* (?:eine |per |via |als )?(?:dm|pn|direktnachricht|"
            rf"private nachricht|privatnachricht|persönliche nachricht){_E}",
            rf"{_B}(?:kannst du|können sie|könnt ihr) (?:uns|mir) (?:\w+ ){{0,2}}(?:eine )?(?:dm|pn|direktnachricht|"
            rf"privatnachricht|private nachricht){_E}",
            rf"{_B}(?:per|via|über|in einer|als) (?:dm|pn|direktnachricht|privatnachricht|private nachricht|"
            rf"persönliche nachricht){_E}",
            # French
            rf"{_B}(?:envoyez|envoie)-(?:nous|moi) (?:un |en )?(?:message privé|mp|dm){_E}",
            rf"{_B}(?:en|par) (?:mp|dm|message privé|messages privés|privé){_E}",
            rf"{_B}nous (?:envoyer|écrire) (?:un |en )?(?:mp|dm|message privé|privé){_E}",
            # Spanish
            rf"{_B}(?:env[ií][ae]|enviar|m[aá]nd[ae]|mandar|escr[ií]b[ae]|escribir)(?:nos|me) (?:un |por )?"
            rf"(?:md|dm|mensaje directo|mensaje privado|privado){_E}",
            rf"{_B}por (?:md|dm|mensaje directo|mensaje privado|privado){_E}",
            # Italian
            rf"{_B}(?:scrivici|scrivimi|mandaci|inviaci|contattaci|scriveteci) (?:un |in |via |per )?(?:dm|direct|"
            rf"messaggio privato|privato){_E}",
            rf"{_B}(?:in|via|tramite) (?:dm|direct|messaggio privato|privato){_E}",
            # Dutch
            rf"{_B}(?:stuur|stuurt u|stuur je|kun je|kunt u|wil je|wilt u) (?:ons|me|mij) (?:\w+ ){{0,2}}(?:een )?"
            rf"(?:dm|pb|pm|privébericht|prive bericht|privé bericht|direct bericht|dm'etje|dmmetje){_E}",
            rf"{_B}(?:via|per|in) (?:een )?(?:dm|pb|privébericht|direct bericht){_E}",
        ),
    ),
    (
        "email",
        _compile(
            rf"{_B}{_AVAILABLE_AT} {_MAIL_ADDRESS}",
            rf"{_IMPERATIVE}(?:contact|e-?mail|write to) "
            rf"{_MAIL_ADDRESS}",
        ),
    ),
    ("phone", _compile(rf"{_B}{_AVAILABLE_AT} {_PHONE_NUMBER}")),
    (
        "web",
        _compile(
            rf"{_B}{_AVAILABLE_AT} {_WEB_ADDRESS}",
            rf"{_B}(?:visit|see|check(?: out)?|head (?:over )?to|go to|open|use) (?:https?://|www\.)\S*(?:help|"
            rf"support|contact|faq|hilfe|aide|ayuda|soporte|assistenza|klantenservice|kundenservice|care)\S*",
        ),
    ),
)

#: Framing that only offers a channel: "if you have further questions", "feel free to", "alternatively".
_COURTESY = _compile(
    rf"{_B}if you (?:have|had|need|'ve got|require) (?:any )?(?:further|more|other|additional|follow-up)?"
    rf" ?(?:questions?|queries|help|assistance|information|anything)",
    rf"{_B}if (?:anything|something|there is anything) (?:else )?(?:comes up|is unclear|else)",
    rf"{_B}if you (?:prefer|would (?:rather|like)|'d (?:rather|like)|need anything else){_E}",
    rf"{_B}if (?:that's|that is|it's|it is) (?:easier|more convenient|quicker|urgent){_E}",
    rf"{_B}(?:feel free|don't hesitate|do not hesitate|you're welcome|you are welcome|you can always|"
    rf"you can also|you may also|alternatively){_E}",
    rf"{_B}should you (?:have|need|require){_E}",
    rf"{_B}for (?:any )?(?:further|other|more|additional|future) (?:questions|queries|information|help|"
    rf"assistance|enquiries|inquiries){_E}",
    rf"{_B}(?:in (?:the )?future|next time|any ?time|in case of (?:further|other|any) questions){_E}",
    rf"{_B}(?:bei (?:weiteren|sonstigen|anderen|allen weiteren)? ?(?:fragen|anliegen)|"
    rf"(?:falls|wenn|sollten) sie (?:noch )?(?:weitere |andere )?(?:fragen|anliegen)|"
    rf"für (?:weitere|alle weiteren|andere) (?:fragen|anliegen)|zögern sie nicht|jederzeit|alternativ|"
    rf"in zukunft|auch gerne){_E}",
    rf"{_B}(?:si vous avez (?:d'autres|des|la moindre) questions?|pour toute autre (?:question|demande)|"
    rf"n'h[eé]sitez pas|vous pouvez (?:[eé]galement|aussi)|[aà] l'avenir){_E}",
    rf"{_B}(?:si (?:tiene|tienes) (?:alguna |cualquier )?(?:otra |m[aá]s )?(?:duda|pregunta|consulta)s?|"
    rf"no dude en|para cualquier (?:otra )?(?:duda|consulta|pregunta)|tambi[eé]n puede){_E}",
    rf"{_B}(?:per (?:qualsiasi|ulteriori|altre) (?:domande|informazioni|richieste|chiarimenti)|non esiti|"
    rf"se ha (?:altre |ulteriori )?domande|pu[oò] anche){_E}",
    rf"{_B}(?:mocht u (?:nog )?(?:andere )?vragen|heeft u nog (?:andere )?vragen|aarzel niet|"
    rf"voor (?:meer|verdere|andere) vragen|u kunt ook){_E}",
)

# --------------------------------------------------------------------------------------------- holding

_HOLDING = _compile(
    # English
    rf"{_B}(?:(?:we|i|they|someone|a colleague|the team|(?:our|the) \w+ (?:team|department))(?: will|'ll| shall)|"
    rf"^(?:and )?(?:will|shall)) (?:get back to you|be in touch|"
    rf"come back to you|revert|contact you|reach out to you|follow up|look into (?:it|this|your)|"
    rf"check (?:this|it|and)|investigate|update you|let you know)",
    rf"{_B}(?:we|i|they)(?: will|'ll) (?:reply|respond|answer|get back)(?: to you)? (?:as soon as|shortly|soon|"
    rf"within|in due course|once)",
    rf"{_B}(?:we|i)(?: are|'re| am|'m) (?:currently |still )?(?:looking into|investigating|checking|reviewing|"
    rf"working on|waiting for|following up)",
    rf"{_B}(?:we|i)(?: have|'ve) (?:forwarded|passed (?:on )?|escalated|referred|handed (?:over|on)|"
    rf"assigned)(?: on)? (?:your|this|it)",
    rf"{_B}(?:has|have|was|were) been (?:forwarded|passed(?: on)?|escalated|referred|handed over|assigned) to",
    rf"{_B}(?:we|i|they|who)(?: will|'ll) (?:respond|reply|answer|get back|be in touch|contact you)",
    rf"{_B}(?:we|i) (?:aim|try|endeavou?r|strive|hope) to (?:respond|reply|answer|get back)",
    rf"{_B}(?:we|i)(?: have|'ve) (?:seen|received|read|noted|got) your (?:e-?mail|message|request|question|"
    rf"inquiry|enquiry|ticket)",
    rf"{_B}(?:is|are) (?:being|currently being) (?:looked into|reviewed|processed|investigated|handled|checked)",
    # a clause continuing one of these without repeating its subject: "... and passed it on to the team"
    r"^(?:(?:have|has) )?(?:passed|forwarded|handed|escalated|referred)(?: it| this| them| your \w+)?"
    r"(?: on| over)? to",
    r"^(?:melden|kümmern) (?:uns|mich)|^(?:werden|wird) (?:uns |sich )?[^.!?]{0,40}melden",
    r"^(?:reviendrons|revenons) vers vous|^nemen [^.!?]{0,40}contact",
    rf"{_B}(?:please )?bear with us{_E}",
    rf"{_B}(?:we|i)(?: will|'ll) (?:sort|clear|fix|take care of|handle|resolve) (?:it|this|that|everything)",
    rf"{_B}(?:give|allow) us (?:a (?:few|couple of) (?:more )?(?:days|hours)|some (?:more )?time)",
    rf"{_B}we need (?:a (?:little|bit) )?more time{_E}",
    rf"{_B}as soon as (?:we|i) (?:have|hear|know|receive|get)(?: more)?{_E}",
    # German
    rf"{_B}(?:wir|ich) (?:melden|melde) (?:uns|mich)",
    rf"{_B}(?:wir|ich) (?:werden|werde) (?:uns|mich) [^.!?]{{0,50}}melden",
    rf"{_B}(?:wir|ich) (?:kommen|komme) [^.!?]{{0,40}}(?:auf sie )?zurück",
    rf"{_B}(?:haben|habe) ihre (?:anfrage|nachricht|e-?mail|mail) [^.!?]{{0,40}}(?:weitergeleitet|weitergegeben|"
    rf"gesehen|erhalten)",
    rf"{_B}(?:weitergeleitet|an die zuständige (?:abteilung|fachabteilung|stelle))",
    rf"{_B}(?:wir|ich) (?:prüfen|prüfe|kümmern|kümmere|klären|kläre)",
    rf"{_B}wird (?:derzeit |gerade |noch )?(?:geprüft|bearbeitet|bearbeiten)",
    rf"{_B}(?:wir bitten (?:sie )?um (?:etwas )?geduld|bitte haben sie (?:noch )?etwas geduld)",
    rf"{_B}(?:dann |so )?(?:klären|regeln|lösen|erledigen) wir (?:das|es|alles)",
    # French
    rf"{_B}(?:nous (?:reviendrons|revenons) vers vous|je (?:reviens|reviendrai) vers vous)",
    rf"{_B}nous vous (?:recontacterons|répondrons|tiendrons informée?s?)",
    rf"{_B}(?:nous avons|j'ai) (?:transmis|transféré) (?:votre|la) ",
    rf"{_B}nous (?:étudions|examinons|analysons|vérifions) (?:votre|la|actuellement)",
    rf"{_B}(?:est|a été) (?:en cours de traitement|transmise? au service)",
    rf"{_B}nous avons bien (?:pris connaissance|reçu) de votre",
    # Spanish
    rf"{_B}(?:le|te) (?:responderemos|contestaremos|contactaremos|informaremos)",
    rf"{_B}nos pondremos en contacto",
    rf"{_B}(?:hemos|he) (?:trasladado|remitido|reenviado|derivado) (?:su|tu) ",
    rf"{_B}estamos (?:revisando|analizando|estudiando|investigando|gestionando)",
    # Italian
    rf"{_B}(?:le|ti) (?:risponderemo|faremo sapere)",
    rf"{_B}la (?:ricontatteremo|contatteremo)",
    rf"{_B}(?:abbiamo|ho) inoltrato la (?:sua|tua) ",
    rf"{_B}stiamo (?:verificando|controllando|analizzando|esaminando)",
    # Dutch
    rf"{_B}(?:wij|we) nemen [^.!?]{{0,40}}contact (?:met u |met je )?op",
    rf"{_B}(?:wij|we) komen [^.!?]{{0,40}}(?:bij u|bij je|hierop|erop) (?:op )?terug",
    rf"{_B}(?:ik|wij|we) (?:heb|hebben) (?:uw|je) (?:vraag|verzoek|bericht|e-?mail) doorgestuurd",
    rf"{_B}wordt (?:momenteel )?(?:onderzocht|behandeld|bekeken|uitgezocht)",
)

# Conditions that make a promise a courtesy rather than the reply's point: "if anything changes".
_CONDITIONAL = _compile(
    rf"{_B}(?:if|should|in case|falls|wenn|sollte|si|se|als|indien|mocht) [^.!?]{{0,40}}(?:changes?|"
    rf"ändert|change|cambia|verandert|anything|etwas|quelque chose|algo|qualcosa|iets|problem|problème|"
    rf"problema|probleem)",
)

# --------------------------------------------------------------------------------------------- formulas

_NAME_WORD = r"[\w.'-]+"
_GREETING = (
    r"(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings|hallo|guten (?:tag|morgen|abend)|"
    r"sehr geehrter?|liebe[rs]?|moin|servus|grüss gott|bonjour|bonsoir|madame|monsieur|cher|chère|hola|"
    r"buen(?:os|as) (?:días|dias|tardes)|estimad[oa]s?|querid[oa]|ciao|buongiorno|buonasera|gentile|"
    r"egregi[oa]|gentilissim[oa]|beste|geachte|goedemorgen|goedemiddag|hoi|hej|olá|bom dia)"
)
#: A greeting word or phrase ("hi", "hallo", "bonjour", "buenos días" ...), as a pattern on normalised text.
GREETING = _GREETING
# "Hi Anna, " at the start of a sentence that goes on: the greeting is no part of what the sentence says.
_GREETING_PREFIX = re.compile(rf"^{_GREETING}(?: {_NAME_WORD}){{0,3}}, ")
_FORMULAS = _compile(
    # greetings
    rf"{_GREETING}(?: {_NAME_WORD}){{0,4}}[,!.:]?",
    # thanks and apologies (the thing thanked for may not run on past a comma: "Thanks, yes we do" answers)
    r"(?:many )?(?:thanks|thank you|cheers)(?: (?:very|so) much| a lot| again)?(?: (?:for|to) [^.!?,;:]{0,50})?"
    r"[,.!]?",
    r"(?:vielen |herzlichen |besten )?dank(?:e)?(?: (?:sehr|schön))?(?: für [^.!?,;:]{0,50})?[,.!]?",
    r"(?:merci|grand merci)(?: beaucoup)?(?: (?:pour|de|d') ?[^.!?,;:]{0,50})?[,.!]?",
    r"(?:nous vous|je vous) remercions? (?:pour|de|d') ?[^.!?,;:]{0,50}[,.!]?",
    r"(?:muchas )?gracias(?: por [^.!?,;:]{0,50})?[,.!]?",
    r"(?:grazie|la ringraziamo|ti ringraziamo)(?: (?:per|della|di) [^.!?,;:]{0,50})?[,.!]?",
    r"(?:hartelijk )?(?:bedankt|dank u wel|dank je wel|dank u|dank je)(?: voor [^.!?,;:]{0,50})?[,.!]?",
    r"(?:(?:i'm|i am|we're|we are) )?(?:so |very )?sorry (?:for|about) (?:the|my|our) (?:late|delayed|slow)?"
    r" ?(?:reply|response|answer|delay)[,.!]?",
    r"(?:please )?(?:accept our |we )?apologi[sz]e for (?:the|any) (?:delay|inconvenience|late reply)[,.!]?",
    r"(?:bitte )?entschuldigen sie (?:bitte )?(?:die|unsere) (?:späte|verspätete) (?:antwort|rückmeldung)"
    r"[,.!]?",
    r"(?:désolée?|veuillez nous excuser) (?:pour|de) (?:le|ce|notre) retard[,.!]?",
    r"(?:disculpe|disculpa|perdone) (?:la|el|por la|por el) (?:demora|retraso)[,.!]?",
    r"ci scusiamo per il ritardo[,.!]?",
    # sign-offs, optionally followed by a name
    rf"(?:kind|best|warm|warmest|many|with best|with kind)? ?(?:regards|wishes)(?:,? {_NAME_WORD}){{0,3}}[,.!]?",
    rf"(?:best|cheers|thanks again|sincerely|yours(?: sincerely| faithfully| truly)?|all the best|take care|"
    rf"have a (?:nice|great|good|lovely) (?:day|weekend|week|evening))(?:,? {_NAME_WORD}){{0,3}}[,.!]?",
    rf"(?:mit )?(?:freundlichen|freundliche|viele|beste|herzliche|liebe|schöne) grüsse?(?:,? {_NAME_WORD}){{0,4}}"
    rf"[,.!]?",
    r"(?:einen )?schönen (?:tag|abend)(?: noch)?[,.!]?",
    rf"(?:bien )?(?:cordialement|à vous|amicalement|sincères salutations|salutations distinguées)"
    rf"(?:,? {_NAME_WORD}){{0,3}}[,.!]?",
    r"(?:bonne (?:journée|soirée|fin de journée))[,.!]?",
    rf"(?:un )?(?:saludo|saludos)(?: cordiales)?(?:,? {_NAME_WORD}){{0,3}}[,.!]?|atentamente(?:,? {_NAME_WORD}){{0,3}}"
    rf"[,.!]?",
    rf"(?:cordiali|distinti)? ?saluti(?:,? {_NAME_WORD}){{0,3}}[,.!]?",
    rf"(?:met )?vriendelijke groet(?:en)?(?:,? {_NAME_WORD}){{0,3}}[,.!]?|groeten(?:,? {_NAME_WORD}){{0,4}}[,.!]?",
    # a team signing ("Your service team", "Le service client", "Ihr Kundenservice")
    r"(?:your |the |le |la |l'|el |il |ihr |ihre |uw |het |de )?(?:[\w'-]+ ){0,3}(?:team|équipe|equipe|"
    r"kundenservice|kundendienst|service client|service clients|customer (?:service|care|support)|support|"
    r"servicio al cliente|atención al cliente|equipo|servizio clienti|assistenza|klantenservice)"
    r"(?: [\w.&'-]+){0,4}[.!]?",
    # help-desk boilerplate
    r"(?:your )?(?:request|ticket|case|conversation) (?:\(?#?\w+\)? )?has been (?:updated|answered)[,.!]?",
    r"to add additional comments,? (?:simply )?reply to this e-?mail[,.!]?",
    r"(?:just |simply )?reply to this e-?mail[^.!?]{0,60}[.!]?",
    r"this (?:e-?mail|message) is a service from [^.!?]{1,60}[.!]?",
    r"(?:ticket|case|request|reference|conversation)(?: number| no\.?| id)?:? ?#?[\w-]{3,30}[.]?",
    r"if anything else comes up,? just reply to this e-?mail[.!]?",
)

#: Why a company will not answer here, and the practicalities of going elsewhere (opening hours, "have your
#: customer number ready"): these accompany a deflection and are not an answer themselves.
_SUPPORTING = _compile(
    rf"{_B}have (?:your|the) [^.!?]{{0,40}}(?:ready|to hand|at hand|handy){_E}",
    rf"{_B}halten sie [^.!?]{{0,40}}bereit{_E}|{_B}munissez-vous de|{_B}tenga (?:a mano|preparad[oa])|"
    rf"{_B}houd [^.!?]{{0,30}}bij de hand|{_B}tenga pronto",
    rf"{_B}(?:lines|hotline|helpline|team|service|office|we) (?:are|is) (?:open|available|reachable|staffed)",
    rf"{_B}(?:erreichbar|geöffnet|besetzt|joignables?|ouverts?|disponibles?|abiert[oa]s|disponibili|aperti|"
    rf"bereikbaar|geopend){_E}",
    rf"\d{{1,2}}(?:[:.]\d\d)? ?(?:am|pm|uhr|h)? ?(?:-|–|to|bis|à|a|till|until) ?\d{{1,2}}(?:[:.]\d\d)? ?"
    rf"(?:am|pm|uhr|h){_E}",
    rf"{_B}for (?:security|data protection|privacy|verification|legal|compliance) reasons{_E}",
    rf"{_B}(?:we|i) (?:cannot|can't|can not|are unable to|am unable to|are not able to|are not allowed to|"
    rf"do not|don't|no longer) (?:\w+ ){{0,6}}(?:by|via|over|through) (?:e-?mail|mail|this channel|this address|"
    rf"chat|social media|writing)",
    rf"{_B}this (?:e-?mail )?(?:address|mailbox|inbox|account) (?:is|was) (?:not|no longer|only)",
    rf"{_B}(?:can|could|may) only (?:\w+ ){{0,4}}(?:by|over|via|on) (?:the )?(?:tele)?phone{_E}",
    rf"{_B}(?:is|are) (?:handled|dealt with|managed|processed) (?:only )?by (?:our|the|another|a different) ",
    rf"{_B}(?:dafür|hierfür|hierfuer) (?:ist|sind) [^.!?]{{0,40}}zuständig{_E}|{_B}nicht zuständig{_E}",
    rf"{_B}this (?:e-?mail )?(?:address|mailbox|inbox|account) (?:only )?(?:handles|is for|is reserved for|"
    rf"is used for|deals with|is only for)",
    rf"{_B}(?:aus (?:datenschutz|sicherheits|rechtlichen)gründen|(?:können|dürfen) wir [^.!?]{{0,60}}"
    rf"(?:per|über) (?:e-?mail|mail)[^.!?]{{0,40}}nicht)",
    rf"{_B}pour des raisons de (?:sécurité|confidentialité){_E}|{_B}nous ne (?:pouvons|sommes) pas "
    rf"[^.!?]{{0,60}}par (?:e-?mail|courriel|mail)",
    rf"{_B}por (?:motivos|razones) de (?:seguridad|privacidad|protección de datos){_E}|{_B}no podemos "
    rf"[^.!?]{{0,60}}por (?:correo|e-?mail)",
    rf"{_B}per (?:motivi|ragioni) di (?:sicurezza|privacy){_E}|{_B}non possiamo [^.!?]{{0,60}}via e-?mail",
    rf"{_B}om (?:veiligheids|privacy)redenen{_E}|{_B}(?:wij|we) kunnen [^.!?]{{0,60}}niet per e-?mail",
)

# A sentence that answers outright ("Yes, ...", "Nein, ...") is substantive whatever else it says.
_ANSWER_OPENER = re.compile(
    r"^(?:yes|no|yep|nope|sure|of course|certainly|ja|nein|jawohl|natürlich|selbstverständlich|oui|non|"
    r"bien sûr|sí|claro|certo|certamente|nee|jazeker|natuurlijk)\b"
)
_CONTACT_DATA = re.compile(
    r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\+?\(?\d[\d ()/.-]{5,}\d|"
    r"\b(?:tel|phone|fon|fax|mobil|mobile|web|e-?mail|mail|www)\b\.?:?"
)
_LETTER = re.compile(r"[^\W\d_]")
# "Nr.", "Mon.", "Dr.", "z.B.", "ca.", and the German ordinal in "28. März" end no sentence (a capitalised word of
# at most four letters, a known abbreviation, or a number of one or two digits).
_ABBREVIATION = re.compile(
    r"(?<![\w.])(?:[A-ZÄÖÜ][a-zäöü]{0,3}|[a-z]\.[a-z]|ca|bzw|inkl|evtl|ggf|approx|incl|resp|tel|nr|no|\d{1,2})\.$"
)
_CONNECTORS = frozenset(
    {"von", "van", "de", "der", "den", "la", "le", "del", "di", "da", "the", "and", "und", "&"}
)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


def _is_signature_line(line: str) -> bool:
    """A name, title, company or contact line: short, no sentence punctuation, capitalised or contact data."""
    if len(line) > 60 or line[-1:] in ".!?:;":
        return False
    rest = _CONTACT_DATA.sub(" ", line)
    words = [w for w in re.split(r"[\s,|·•/()–-]+", rest) if _LETTER.search(w)]
    if len(words) > 5:
        return False
    plain = normalise(line)
    if _ANSWER_OPENER.match(plain):
        return False
    return all(w[:1].isupper() or not w[:1].isalpha() or w.lower() in _CONNECTORS for w in words)


def is_formula(sentence: str) -> bool:
    """Tell whether a sentence or line carries no answer: greeting, thanks, sign-off, name or boilerplate."""
    line = sentence.strip()
    if len(_LETTER.findall(line)) < 2:
        return True
    if _is_signature_line(line):
        return True
    return _FORMULAS.fullmatch(normalise(line)) is not None


def sentences(text: str) -> list[str]:
    """The sentences of a text: formula lines alone, other lines of a paragraph joined and split at stops."""
    units: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if not paragraph:
            return
        joined = " ".join(paragraph)
        paragraph.clear()
        start = 0
        for m in _SENTENCE_END.finditer(joined):
            after = joined[m.end() : m.end() + 1]
            # Abbreviations ("Nr.", "Mon.", "e.g.") and a lower-case continuation do not end a sentence. (Only
            # the last few characters are searched: the text before may be long.)
            short = _ABBREVIATION.search(joined, max(start, m.start() - 8), m.start())
            if short or not after or after.islower() or after.isdigit():
                continue
            units.append(joined[start : m.start()].strip())
            start = m.end()
        units.append(joined[start:].strip())

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif is_formula(line):
            flush()
            units.append(line)
        else:
            paragraph.append(line)
    flush()
    return [u for u in units if u]


def _tables(social: bool) -> tuple[tuple[DeflectTo, re.Pattern[str]], ...]:
    return SOCIAL_DEFLECTIONS + DEFLECTIONS if social else DEFLECTIONS


def _deflection_in(plain: str, social: bool = False) -> tuple[DeflectTo, str] | None:
    """The deflection that comes first in the text (the tables' order breaks ties)."""
    found: tuple[int, DeflectTo, str] | None = None
    for key, pattern in _tables(social):
        m = pattern.search(plain)
        if m and (found is None or m.start() < found[0]):
            found = (m.start(), key, m.group(0).strip())
    return (found[1], found[2]) if found else None


def deflection(text: str, *, social: bool = False) -> tuple[DeflectTo, str] | None:
    """Where a text sends the customer instead, and the words that do; None if nowhere.

    A phrase in a courtesy sentence ("if you have further questions, feel free to call us") only offers a
    channel and does not count. With ``social`` the text is a public social reply and
    :data:`SOCIAL_DEFLECTIONS` are read too ("please DM us" is then ``dm``).
    """
    for sentence in sentences(text):
        plain = normalise(sentence)
        found = _deflection_in(plain, social)
        if found is not None and not _COURTESY.search(plain):
            return found
    return None


def holding(text: str) -> str | None:
    """The first "we'll get back to you" promise in a text that is not conditional, or None."""
    for sentence in sentences(text):
        plain = normalise(sentence)
        m = _HOLDING.search(plain)
        if m and not _CONDITIONAL.search(plain):
            return m.group(0).strip()
    return None


@dataclass(frozen=True)
class Reading:
    """What the sentences of a reply do.

    ``deflection`` is the first request to use another channel, ``courtesy`` the first channel merely offered
    ("feel free to call us"), ``holding`` the first promise of a later answer; ``substantive`` holds every
    sentence that is none of these and no formula: the candidates for an answer.
    """

    deflection: tuple[DeflectTo, str] | None
    courtesy: tuple[DeflectTo, str] | None
    holding: str | None
    substantive: tuple[str, ...]


# Where a second clause starts: after "but" and its kin, after a semicolon or dash, and after "and" when a
# pronoun, auxiliary or request verb follows (so "returns and exchanges" stays one clause).
_CLAUSE = re.compile(
    r",? (?:but|aber|mais|pero|ma|maar) |; | [–—-] |"
    r",? (?:and|or) (?=(?:we|i|you|they|he|she|it|this|that|will|shall|have|has|had|can|could|would|should|"
    r"please|then|also|send|sign|call|return|is|are|was|were|'ll)\b)|"
    r",? (?:und|oder) (?=(?:wir|ich|sie|er|es|das|dann|melden|werden|wird|haben|habe|halten|schicken|senden|"
    r"rufen|bitte|kann|können)\b)|"
    r",? (?:et|ou) (?=(?:nous|je|vous|il|elle|on|reviendrons|revenons|sera|seront|avons|ai|merci)\b)|"
    r",? y (?=(?:le|te|nos|lo|la|se|hemos|he|es|est[aá]|estamos|le)\b)|"
    r",? e (?=(?:la|le|ti|ci|vi|abbiamo|ho|è|sar[aà]|si)\b)|"
    r",? en (?=(?:wij|we|ik|u|je|nemen|komen|hebben|heb|is|wordt)\b)"
)


def _says_something_else(plain: str, social: bool = False) -> bool:
    """Tell whether a sentence that defers, deflects or explains also has a clause that does none of these."""
    for clause in _CLAUSE.split(plain):
        words = [w for w in clause.split() if _LETTER.search(w)]
        if len(words) < 2 or _FORMULAS.fullmatch(clause.strip()):
            continue
        if (
            _deflection_in(clause, social)
            or _HOLDING.search(clause)
            or _SUPPORTING.search(clause)
            or _COURTESY.search(clause)
        ):
            continue
        return True
    return False


def read_reply(text: str, *, social: bool = False) -> Reading:
    """Sort the sentences of a reply's own words (see :class:`Reading`).

    A sentence counts as substantive when it deflects, defers or explains nothing, or when one of its clauses
    does something else ("We have received your request and I have refunded the payment" answers). With
    ``social`` the text is a public social reply and :data:`SOCIAL_DEFLECTIONS` are read too.
    """
    sent_away: tuple[DeflectTo, str] | None = None
    courtesy: tuple[DeflectTo, str] | None = None
    promise: str | None = None
    substantive: list[str] = []
    for sentence in sentences(text):
        if is_formula(sentence):
            continue
        plain = _GREETING_PREFIX.sub("", normalise(sentence))
        found = _deflection_in(plain, social)
        m = _HOLDING.search(plain)
        if found is not None:
            if _COURTESY.search(plain):
                courtesy = courtesy or found
            else:
                sent_away = sent_away or found
        elif m and not _CONDITIONAL.search(plain):
            promise = promise or m.group(0).strip()
        elif not _SUPPORTING.search(plain):
            substantive.append(sentence)
            continue
        if _ANSWER_OPENER.match(plain) or _says_something_else(plain, social):
            substantive.append(sentence)
    return Reading(sent_away, courtesy, promise, tuple(substantive))
