"""Classification of a company's social replies: automatic, a person's answer, or a pointer to another channel.

A reply reaches :func:`classify_post` once the ingestor knows it comes from the company's account (our own
posts and third parties' are sorted out before). Its words are read without the leading @mentions every
reply starts with (``@acme @jane_doe Hi Jane, …``) and without a sign-off of initials (``^JS``, ``-Anna``),
which is kept as a sign of a person. Rules are tried in order and the first that matches decides:

1. ``social.bot_account`` → auto_ack (0.95, 0.98 with a stock phrase): the network marks the account as
   automated (:attr:`SocialPost.bot`);
2. ``social.instant`` → auto_ack (0.85, 0.95 with a stock phrase): posted within :data:`INSTANT_REPLY_S` of
   our post (``sent_at``, the network's time of our post), whatever it says. Not read for a time a person
   typed in (clock ``manual``: minutes at best), nor for a reply more than :data:`CLOCK_SLACK_S` older than
   our post. Within the window the confidence does not depend on the delay, so a slower reply is never more
   confidently automatic by this rule;
3. ``social.empty`` → unknown (0.3): nothing but mentions, emoji and punctuation;
4. ``social.stock_phrase`` → auto_ack (0.8, 0.85 with two kinds of stock phrase): nothing but stock lines
   however slow it came: a receipt ("we have received your message", from the email classifier's table in
   all its languages), a team's promise ("our team will get back to you", "unser Team meldet sich"), a
   bot's identity or hand-over (:func:`replybench.classify.chat.stock_phrase`), "this is an automated
   message"; a signed reply is never canned. Thanks alone ("thanks for reaching out", "merci de nous avoir
   contactés") or a greeting ("how can we help you today?") decide too, at 0.6, when the reply neither sends
   us elsewhere nor promises anything;
5. ``social.deflection`` → deflection (0.8, 0.85 signed; 0.65 when the channel is only offered, "feel free to
   DM us"): the reply sends us elsewhere and says nothing else of substance, read sentence by sentence as the
   email classifier reads people's replies (:func:`phrases.read_reply` with
   :data:`phrases.SOCIAL_DEFLECTIONS`): "please DM us", "slide into our DMs", "envíanos un MD" → ``dm``;
   "reach out to @AcmeHelp", "DM us on WhatsApp" → ``social``; "contact our support at support@…", "our
   team is available at +1 …" → email, phone, web; "call us", "fill in our form" as for email. An answer
   that adds "DM us if you need more help" is an answer (rule 8);
6. ``social.contact_only`` → deflection (0.75; 0.55 for a link that does not look like a support page): the
   reply is only a link, an address or a phone number (and formulas);
7. ``social.holding`` → human (0.7, 0.8 signed, 0.6 beside thanks or a greeting, which templates say too): it
   only promises an answer ("we're looking into it", "we'll take a look", "wir prüfen das");
   ``detail["holding"]`` holds the promise, as the email classifier records it;
8. ``social.answer`` → human (0.75, 0.85 signed; 0.7 unsigned beside a request to go elsewhere; the words of
   a deflection or an offer beside the answer are in ``detail["deflection_aside"]``);
9. ``social.formula_only`` → human (0.55): only greetings, thanks, sympathy ("sorry to hear that") or lines
   the email classifier reads as no answer (opening hours), which a person writes but which answer nothing.

A sentence answers when :func:`phrases.read_reply` keeps it as substantive and it is more than stock phrases,
sympathy or thanks with a name, or a "we'll take a look" beside a request to go elsewhere ("Send us a DM and
we'll check" is a deflection).

Every classification carries ``detail["delay_s"]`` when ``sent_at`` is known, ``detail["signed"]`` when a
sign-off was found, and ``detail["phrase"]``/``["phrase_kind"]`` for the first stock phrase; automatic replies
and deflections carry ``deflection``/``deflect_to`` when they send us somewhere, and automatic replies,
deflections and holding replies the response-time promise they state (:mod:`replybench.classify.promise`).
Automatic replies stay automatic when they deflect: a deflection counts as a person's reply
(:data:`replybench.models.HUMAN_CLASSES`), so an autoresponder's "please DM us" must not. Phrases are matched
on normalised text, so case and spacing never change the answer. :func:`classify_post` never raises.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Literal

from replybench.channels.social import MANUAL_CLOCK, SocialPost
from replybench.classify import Classification, text
from replybench.classify.chat import stock_phrase
from replybench.classify.headers import evidence
from replybench.classify.phrases import (
    GREETING,
    WORD_END,
    WORD_START,
    DeflectTo,
    compile_any,
    is_formula,
    normalise,
    read_reply,
)
from replybench.classify.promise import extract_promise
from replybench.models import MessageClass

__all__ = ["CLOCK_SLACK_S", "INSTANT_REPLY_S", "StockKind", "classify_post", "stock_acknowledgement"]

log = logging.getLogger(__name__)

#: A reply posted this soon after ours was posted by software. A person has to be notified (push
#: notifications alone take a second or more), open the thread, read the question and type or pick a saved
#: reply: that takes well over five seconds even for a social-care agent with macros, while a webhook- or
#: streaming-driven autoresponder posts within one to three. X's timestamps are whole seconds, which costs up to
#: one more. Five seconds therefore catches the autoresponders that react to the mention itself and no person;
#: slower, polling bots are left to the stock-phrase rule.
INSTANT_REPLY_S = 5.0
#: A reply may carry a time this much earlier than our post (whole-second timestamps, two servers' clocks on
#: Mastodon); earlier than that the order is impossible and the instant rule does not read the delay.
CLOCK_SLACK_S = 2.0

StockKind = Literal["receipt", "team", "identity", "handoff", "automated", "thanks", "greeting", "wait"]
_STRONG: frozenset[StockKind] = frozenset({"receipt", "team", "identity", "handoff", "automated"})

_B = WORD_START
_E = WORD_END
_TAIL = r"[^.!?,;]*"
#: "Our team will get back to you": a promise made for somebody else, which is how canned replies word it (a
#: person says "we'll look into it", a holding reply). The rest of the clause ("within 24 hours") goes with it.
_TEAM_PROMISE = compile_any(
    rf"{_B}(?:(?:a member of|someone (?:from|on|in)|one of) (?:our|the) |our |the |an? )(?:\w+ ){{0,2}}"
    rf"(?:team|agents?|experts?|specialists?|representatives?|advisors?|advisers?|colleagues?|staff|support)"
    rf"(?: members?)? (?:will|shall|is going to) (?:get back to you|be in touch|respond|reply|answer|"
    rf"contact you|reach out|follow up|be with you|look into){_TAIL}",
    rf"{_B}(?:unser|ein|eine) (?:\w+ ){{0,2}}(?:team|mitarbeiter(?:in)?|kolleg(?:e|in)|kundenservice|support)"
    rf"(?:-team)? (?:wird sich|meldet sich|wird (?:ihnen|dir|euch) antworten){_TAIL}",
    rf"{_B}(?:notre|un membre de notre) (?:\w+ ){{0,2}}(?:équipe|service client|conseiller) (?:vous|te|va|"
    rf"reviendra|répondra){_TAIL}",
    rf"{_B}(?:nuestro|un miembro de nuestro) (?:\w+ ){{0,2}}(?:equipo|agente) (?:se pondr[aá]|le |te |"
    rf"responder[aá]){_TAIL}",
    rf"{_B}(?:il nostro|un membro del nostro) (?:\w+ ){{0,2}}(?:team|servizio clienti|operatore) (?:ti|la|le|"
    rf"risponder[aà]){_TAIL}",
    rf"{_B}(?:ons|een (?:lid|collega) van ons) (?:\w+ ){{0,2}}(?:team|klantenservice) (?:neemt|komt|zal|"
    rf"reageert){_TAIL}",
)
_WAIT = re.compile(rf"{_B}please (?:wait|hold){_E}")
#: Sympathy that opens so many social replies ("Sorry to hear that!", "Das tut uns leid") and bare thanks
#: ("Thanks @jane!"): no answer by themselves.
_NO_ANSWER = compile_any(
    rf"{_B}(?:thanks|thank you|cheers|danke|merci|gracias|grazie|bedankt)[,!.]*",
    rf"{_B}(?:oh no|oh dear|uh oh|yikes|hmm+)[,!.]*",
    rf"{_B}(?:(?:we're|we are|i'm|i am) )?(?:so |really |very |truly |terribly )?sorry (?:to (?:hear|see|read)"
    rf"(?: (?:that|this|about (?:that|this|the \w+)))?|about (?:that|this|the \w+)|for (?:the|any|this) "
    rf"(?:trouble|inconvenience|hassle|confusion|frustration|wait|experience|issue|problem))",
    rf"{_B}(?:we|i) (?:totally |completely |fully )?understand (?:your|how|the|that)(?: \w+){{0,4}}",
    rf"{_B}(?:that's|that is|this is) (?:not (?:good|great|ideal|what we (?:like|want) to hear)|frustrating|"
    rf"annoying)",
    rf"{_B}(?:das tut (?:uns|mir) (?:sehr |wirklich )?leid|tut (?:uns|mir) leid(?: zu hören)?|oh nein|"
    rf"wie ärgerlich|das ist ärgerlich)",
    rf"{_B}(?:oh non|(?:nous sommes|on est|je suis) (?:vraiment |sincèrement )?désolée?s?|"
    rf"désolée?s? (?:pour|de) (?:ce|cet|cette|la|le|l')(?: \w+){{0,2}})",
    rf"{_B}(?:lo (?:sentimos|siento)(?: mucho)?|(?:sentimos|lamentamos) (?:mucho )?(?:las molestias|lo ocurrido))",
    rf"{_B}(?:wat vervelend|vervelend om te horen|excuses voor (?:het ongemak|de overlast)|sorry voor het "
    rf"ongemak)",
)
#: What a person adds to a request to go elsewhere: "... and we'll take a look", "so we can check". A clause
#: of this kind neither answers nor turns a deflection into an answer.
_FOLLOW_UP = compile_any(
    rf"{_B}(?:so (?:that )?)?(?:we|i|they|he|she|someone|a colleague)(?:'ll| will|'d| would| can| could| shall)"
    rf"(?: be (?:happy|glad) to| gladly)? (?:(?:take|have) a (?:closer |quick )?look(?: (?:at|into) (?:it|this|"
    rf"that|your \w+))?|look (?:into|at) (?:it|this|that|your \w+)|check(?: (?:it|this|that)(?: out)?| (?:in )?on "
    rf"(?:it|this|that)| your \w+)?|help(?: you)?(?: out| further)?|assist(?: you)?(?: further)?|get (?:it|this|"
    rf"that|you|things) (?:sorted|fixed)(?: out)?|sort (?:it|this|that) out|investigate|dig into (?:it|this))",
    rf"{_B}(?:dann|damit|so) (?:schauen|sehen|kümmern|prüfen|helfen) wir|{_B}(?:damit|sodass|so dass) wir "
    rf"[^.!?]{{0,40}}(?:können|kann)",
    rf"{_B}(?:afin que|pour que) nous puissions|{_B}nous (?:allons|pourrons) (?:regarder|vérifier|vous aider)",
    rf"{_B}para (?:que )?(?:podamos|poder) (?:revisar|ayudar|verificar|comprobar|mirar)",
    rf"{_B}(?:dan|zodat) (?:kijken|kunnen) we|{_B}(?:dan|zodat) we [^.!?]{{0,30}}(?:kunnen|kijken)",
)
_PIECES = re.compile(r"[,;:]\s+|\s(?:and|so|then|und|dann|et|y|en|e)\s")

_MENTION = r"@\w(?:[\w.-]*\w)?(?:@\w[\w-]*(?:\.[\w-]+)+)?"
_LEADING_MENTIONS = re.compile(rf"^(?:[\s.,:;]*{_MENTION})+[\s,:;]*")
_ANY_MENTION = re.compile(rf"(?<![\w@]){_MENTION}")
# "Hi @jane," reads as "Hi jane,": a greeting with a name is a formula, with a handle it would not be.
_GREETED_HANDLE = re.compile(
    rf"(?im)^([ \t]*(?:{GREETING}|thanks|thank you|danke|merci|gracias|grazie|bedankt)[ \t]+)@(?=\w)"
)
# Social-care agents sign with initials or a first name: "^JS", "/JS", "- Anna" on a line or after a stop.
_SIGNATURE = re.compile(
    r"(?:\s\^ ?(?P<caret>[A-Za-z]{1,4})|\s/(?P<slash>[A-Z]{2,3})|(?:[.!?)]\s+|\n\s*)[-–—~] ?(?P<name>[A-Z][a-z]{1,15}))"
    r"[\s.!]*$"
)
_LETTER = re.compile(r"[^\W\d_]")
_ADDRESS = re.compile(
    r"(?P<web>(?:https?://|www\.)\S+)|(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)|(?P<phone>\+?\(?\d[\d ()/.-]{5,}\d)"
)
_SUPPORT_URL = re.compile(
    r"help|support|contact|faq|hilfe|kundenservice|aide|ayuda|soporte|assistenza|klantenservice|care|service",
    re.IGNORECASE,
)

_CONFIDENT_HUMAN = 0.7


def stock_acknowledgement(sentence: str) -> list[tuple[StockKind, str]]:
    """The stock phrases of a canned reply in a sentence (or text), strongest kinds first; empty if none."""
    plain = normalise(sentence)
    found: list[tuple[StockKind, str]] = []
    receipt = text.receipt_phrase("", plain)
    if receipt is not None:
        found.append(("receipt", receipt))
    team = _TEAM_PROMISE.search(plain)
    if team is not None:
        found.append(("team", team.group(0).strip()))
    automated = text.automated_phrase(plain)
    if automated is not None:
        found.append(("automated", automated))
    chat = stock_phrase(plain)
    if chat is not None:
        kind: StockKind = chat[0]
        if kind == "handoff" and _WAIT.search(chat[1]):
            kind = "wait"  # "please wait" is also what a person says while checking
        found.append((kind, chat[1]))
    thanks = text.receipt_phrase("", plain, weak=True)
    if thanks is not None and text.is_thanks(thanks):
        found.append(("thanks", thanks))
    found.sort(key=lambda item: item[0] not in _STRONG)
    return found


def _only(sentence: str, found: list[str], limit: int) -> bool:
    """Tell whether a sentence says nothing beyond ``found`` phrases but a greeting or a few words (a name)."""
    if not found:
        return False
    rest = normalise(sentence)
    for phrase in found:
        rest = rest.replace(normalise(phrase), " ")
    words = [w for w in rest.split() if _LETTER.search(w)]
    return len(words) < limit or is_formula(rest)


def _is_stock_sentence(sentence: str) -> bool:
    """A sentence of stock phrases: a canned line, which answers nothing."""
    stock = stock_acknowledgement(sentence)
    # A strong phrase comes with the company's and the bot's names ("I'm Ava, Acme's virtual assistant"); thanks
    # with at most a name, so that "thanks for reaching out, yes we do" still answers.
    limit = 4 if any(kind in _STRONG for kind, _ in stock) else 3
    return _only(sentence, [phrase for _, phrase in stock], limit)


def _follow_up(sentence: str) -> str | None:
    """The "we'll take a look" of a sentence that is nothing more, or None."""
    plain = normalise(sentence)
    m = _FOLLOW_UP.search(plain)
    return m.group(0).strip() if m and _only(plain, [m.group(0)], 3) else None


def _deflects_and_follows_up(sentence: str) -> bool:
    """A request to go elsewhere with a "we'll take a look" beside it: "Send us a DM and we'll check"."""
    pieces = [p for p in _PIECES.split(normalise(sentence)) if _LETTER.search(p)]
    sent_away = False
    for piece in pieces:
        reading = read_reply(piece, social=True)
        if reading.deflection or reading.courtesy:
            sent_away = True
        elif reading.substantive and _follow_up(piece) is None:
            return False
    return sent_away


def _answers(sentence: str) -> bool:
    """Tell whether a sentence :func:`read_reply` kept as substantive answers anything on a social network."""
    plain = normalise(sentence)
    said = [m.group(0) for m in _NO_ANSWER.finditer(plain)]
    return not (
        _is_stock_sentence(sentence)
        or _only(plain, said, 3)
        or _follow_up(sentence) is not None
        or _deflects_and_follows_up(sentence)
    )


def _signature(body: str) -> tuple[str, str | None]:
    """The body without a trailing sign-off, and the sign-off ("^JS", "Anna") if there is one."""
    m = _SIGNATURE.search(body)
    if m is None:
        return body, None
    return body[: m.start()].rstrip(), m.group("caret") or m.group("slash") or m.group("name")


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _result(
    cls: MessageClass, rule: str, confidence: float, proof: str, base: Mapping[str, str], **extra: str
) -> Classification:
    return Classification(
        cls, rule, round(confidence, 2), evidence(proof), MappingProxyType({**base, **extra})
    )


#: Classes whose words may promise an answer by a time: recorded like the email and chat classifiers do.
_MAY_PROMISE = frozenset({MessageClass.AUTO_ACK, MessageClass.DEFLECTION})


def classify_post(post: SocialPost, *, sent_at: datetime | None = None) -> Classification:
    """Classify a company account's reply by the rules in this module's docstring (first match wins).

    ``sent_at`` is the network's time of the post it answers (our inquiry), if known. Never raises: an
    internal error gives ``unknown``/``social.error`` (logged), so one odd post cannot stop a listener.
    """
    try:
        result, words = _classify(post, sent_at)
    except Exception as exc:  # the documented contract: one odd post must not stop a listener
        log.exception("social classifier failed on post %s", post.key)
        return Classification(
            MessageClass.UNKNOWN,
            "social.error",
            0.0,
            evidence(f"{type(exc).__name__}: {exc}"),
            MappingProxyType({}),
        )
    if not (result.cls in _MAY_PROMISE or result.rule == "social.holding"):
        return result
    promise = extract_promise(words)
    if promise is None:
        return result
    detail = MappingProxyType({**result.detail, **promise.to_detail()})
    return Classification(result.cls, result.rule, result.confidence, result.evidence, detail)


def _classify(post: SocialPost, sent_at: datetime | None) -> tuple[Classification, str]:
    """The classification and the words it read (for the promise)."""
    body = _LEADING_MENTIONS.sub("", post.text, count=1)
    body = _GREETED_HANDLE.sub(r"\1", body)
    body, signed = _signature(body)
    excerpt = body[:120]
    base: dict[str, str] = {}
    delay: float | None = None
    if sent_at is not None:
        delay = (_utc(post.created_at) - _utc(sent_at)).total_seconds()
        base["delay_s"] = f"{delay:.3f}"
    if signed:
        base["signed"] = signed

    stock = stock_acknowledgement(body)
    if stock:
        base |= {"phrase": stock[0][1], "phrase_kind": stock[0][0]}
    quoted = f"“{stock[0][1]}”" if stock else excerpt
    reading = read_reply(body, social=True)
    sent_away = reading.deflection
    automatic: dict[str, str] = (
        {"deflection": sent_away[1], "deflect_to": sent_away[0]} if sent_away is not None else {}
    )

    if post.bot:
        confidence = 0.98 if stock else 0.95
        proof = f"the network marks @{post.author} as automated; {quoted}"
        return _result(
            MessageClass.AUTO_ACK, "social.bot_account", confidence, proof, base, **automatic
        ), body
    if delay is not None and post.clock != MANUAL_CLOCK and -CLOCK_SLACK_S <= delay <= INSTANT_REPLY_S:
        confidence = 0.95 if stock else 0.85
        proof = f"posted {delay:.1f} s after our post; {quoted}"
        return _result(MessageClass.AUTO_ACK, "social.instant", confidence, proof, base, **automatic), body
    if not _LETTER.search(_ANY_MENTION.sub(" ", body)):
        return _result(MessageClass.UNKNOWN, "social.empty", 0.3, post.text[:120], base), body

    substantive = [s for s in reading.substantive if _answers(s)]
    holding = reading.holding or next(
        (found for s in reading.substantive if (found := _follow_up(s)) is not None), None
    )
    addresses = list(_ADDRESS.finditer(_ANY_MENTION.sub(" ", body)))
    kinds = {kind for kind, _ in stock}
    if not substantive and not signed and kinds:
        strong = kinds & _STRONG
        weak_only = not (sent_away or reading.courtesy or holding or addresses)
        if strong or weak_only:
            confidence = (0.85 if len(kinds) > 1 else 0.8) if strong else 0.6
            proof = " + ".join(f"“{phrase}”" for _, phrase in stock[:2]) + "; nothing else said"
            return (
                _result(MessageClass.AUTO_ACK, "social.stock_phrase", confidence, proof, base, **automatic),
                body,
            )

    if not substantive:
        offered = sent_away or reading.courtesy
        if offered is not None:
            kind, phrase = offered
            confidence = 0.65 if sent_away is None else 0.85 if signed else 0.8
            extra = {"deflection": phrase, "deflect_to": kind}
            if holding:
                extra["holding"] = holding
            proof = f"“{phrase}” ({kind}); nothing else answers"
            return (
                _result(MessageClass.DEFLECTION, "social.deflection", confidence, proof, base, **extra),
                body,
            )
        if addresses and not holding:
            return _contact_only(addresses[0], base), body
        if holding is not None:
            proof = f"“{holding}”; nothing else answers"
            # Thanks and a promise ("Thanks for your message! We'll get back to you soon.") are a person's words
            # as often as a template's: a person decides.
            confidence = 0.8 if signed else 0.6 if kinds else _CONFIDENT_HUMAN
            return (
                _result(MessageClass.HUMAN, "social.holding", confidence, proof, base, holding=holding),
                body,
            )
        proof = f"only greetings, thanks or a sign-off: {excerpt}"
        return _result(MessageClass.HUMAN, "social.formula_only", 0.55, proof, base), body

    confidence = 0.85 if signed else 0.75
    proof = f"“{evidence(substantive[0])[:100]}”"
    aside = sent_away or reading.courtesy
    beside: dict[str, str] = {}
    if aside is not None:
        beside["deflection_aside"] = aside[1]
        proof += f"; “{aside[1]}” beside an answer"
        if sent_away is not None and not signed:
            confidence = _CONFIDENT_HUMAN
    if signed:
        proof += f"; signed {signed}"
    return _result(MessageClass.HUMAN, "social.answer", confidence, proof, base, **beside), body


def _contact_only(address: re.Match[str], base: Mapping[str, str]) -> Classification:
    """A reply that is only a link, an address or a number: where it points is where it sends us."""
    kind: DeflectTo = "web" if address.group("web") else "email" if address.group("email") else "phone"
    where = address.group(0)
    confidence = 0.55 if kind == "web" and not _SUPPORT_URL.search(where) else 0.75
    return _result(
        MessageClass.DEFLECTION,
        "social.contact_only",
        confidence,
        f"{where} and nothing else",
        base,
        deflection=where,
        deflect_to=kind,
    )
