"""Classification of inbound email: bounce, automatic reply, out-of-office, marketing, deflection or person.

Rules are tried in order and the first that matches decides; every decision names its rule, a confidence and
the header or phrase that fired (:class:`Classification`).

1. **Bounces** (:func:`headers.bounce`): ``bounce.rfc3464`` (0.95-0.99), ``bounce.rfc3464.delayed`` and
   ``bounce.rfc3464.delivered`` (not final: see :func:`is_final_bounce`), ``bounce.x_failed_recipients``,
   ``bounce.exchange_ndr`` (0.95), ``bounce.mailer_daemon[.delayed]`` (0.7-0.9: a mail-system or null sender
   with a bounce subject or failure wording, for qmail, Yahoo, Gmail "Address not found" and the like).
   ``detail["hard"]`` says whether the address is bad, ``detail["final"]`` whether this message will never
   arrive; a delay is never final. A full mailbox (X.2.2, also as 5.2.2) is a soft but final failure.
2. **Read receipts**: ``auto.mdn`` → auto_ack (0.95).
3. **Satisfaction surveys**: ``ack.survey`` → auto_ack (0.85, 0.9 with an automatic-reply header; 0.75 from
   body wording of an automatic sender). A survey is the company's automation reacting to our contact: not
   a person's answer, and not advertising either, so not marketing (which would say "never an answer").
4. **Marketing** ``marketing.bulk`` → marketing (0.8-0.9): ``List-Unsubscribe`` plus a campaign header
   (``X-MC-User``, ``X-Campaign-ID`` ...) or an unsubscribe footer, on a message that is tied to nothing of
   ours: no ``In-Reply-To``/``References``, no reply subject, no ticket id, no receipt or absence wording.
   ``Precedence: bulk``, ``List-Id`` and ESP headers (``Feedback-ID``, ``X-SG-EID``, ``X-Mailgun-*``) raise
   the confidence but never decide alone: help desks send their agents' replies with them.
5. **Automatic-reply headers**: ``auto.rfc3834``, ``auto.x_autoreply``, ``auto.precedence``,
   ``auto.exchange_rules`` → out_of_office when the subject, the body or a "(vacation)" comment says so,
   else auto_ack (0.8-0.95, lowest for a bare ``auto-generated`` or ``Precedence: junk``).
6. **Subject only**: ``ooo.subject`` → out_of_office (0.7, more with Exchange hints or absence wording), or
   ``ack.ticket_receipt`` → auto_ack for an "Automatic reply:" subject over a receipt.
7. **Text only**: ``ack.unmonitored`` → auto_ack (0.8-0.85) for "this mailbox is not monitored";
   ``ack.ticket_receipt`` → auto_ack (0.7-0.75) when a receipt phrase comes with a statement of being
   automatic, a no-reply sender, a receipt subject or a "Dear customer" salutation; ``ooo.body`` →
   out_of_office (0.65) when the reply says nothing but that someone is away.
8. **People**, read sentence by sentence (:func:`phrases.read_reply`):
   ``human.deflection`` → deflection when the reply sends us elsewhere ("please call us", "use our contact
   form", "bitte rufen Sie uns an") and says nothing else of substance (0.8 when it addresses us by name,
   0.7 otherwise, 0.65 when the channel is only offered, "feel free to call us"); ``human.holding`` → human
   when it only promises an answer ("we'll get back to you", "wir melden uns"; 0.75 by name, else 0.65);
   ``human.default`` → human (0.7; 0.65 when a deflection stands beside an answer; 0.5 when something
   automatic-looking was seen but did not decide). Below 0.7 a decision goes to the review queue.

Bodies are read through :func:`replybench.classify.newtext.new_text` (the reply's own words, without the
quoted original or the signature), except delivery reports (whose diagnostics sit below their text) and
unsubscribe footers. A response-time promise in those words ("we will reply within 2 business days", see
:mod:`replybench.classify.promise`) is recorded in ``detail`` (``promise``, ``promise_count``, ``promise_unit``,
``promise_business``) on acknowledgements, absences, deflections and people's replies.
``detail["ticket_id"]`` is recorded on every class but bounces whenever a ticket id is found (subject, the
reply's words, then the rest of the body), so a company's later replies in the same ticket can be threaded
by it. ``Precedence: bulk`` and ``List-*`` headers never make a message automatic.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import getaddresses
from types import MappingProxyType

from replybench.classify import headers, phrases, text
from replybench.classify.headers import Signal, evidence
from replybench.classify.newtext import new_text
from replybench.classify.promise import extract_promise
from replybench.mailparse import MalformedEmail, ParsedEmail, parse_email
from replybench.models import MessageClass

__all__ = ["Classification", "classify_bytes", "classify_email", "classify_parsed", "is_final_bounce"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Classification:
    """What a message is, which rule said so, how sure it is, and the line or phrase that decided.

    ``detail`` carries structured facts: for bounces ``dsn_action``, ``dsn_status``, ``hard``, ``final`` and
    ``final_recipient``; for acknowledgements ``ticket_id`` (also on people's replies in a ticket); for
    absences ``ooo_marker``; for deflections ``deflection`` and ``deflect_to``; for holding replies
    ``holding``; for marketing ``markers``.
    """

    cls: MessageClass
    rule: str
    confidence: float
    evidence: str
    detail: Mapping[str, str]


def is_final_bounce(classification: Classification) -> bool:
    """Tell whether a classification is a bounce meaning "not delivered" (not a delay or success notice)."""
    return classification.cls is MessageClass.BOUNCE and classification.detail.get("final") == "true"


def _result(
    cls: MessageClass, rule: str, confidence: float, proof: str, detail: Mapping[str, str]
) -> Classification:
    return Classification(cls, rule, round(confidence, 2), evidence(proof), MappingProxyType(dict(detail)))


def _make(cls: MessageClass, signal: Signal, extra: Mapping[str, str] | None = None) -> Classification:
    return _result(cls, signal.rule, signal.confidence, signal.evidence, {**signal.detail, **(extra or {})})


def _with(signal: Signal, confidence: float, phrase: str | None) -> Signal:
    """Copy a signal with another confidence and the deciding phrase appended to its evidence."""
    proof = f"{signal.evidence}; “{phrase}”" if phrase else signal.evidence
    return Signal(signal.rule, round(confidence, 2), evidence(proof), signal.detail)


@dataclass(frozen=True)
class _Message:
    """A parsed message with what several rules read: the reply's own words and the ticket id."""

    parsed: ParsedEmail
    new: str
    ticket: str | None

    @property
    def ticket_detail(self) -> dict[str, str]:
        return {"ticket_id": self.ticket} if self.ticket else {}


def _ticket(parsed: ParsedEmail, new: str) -> str | None:
    # Help desks put the id in footers a reply parser cuts as signature; a quoted earlier message of the same
    # ticket carries the same id, so the whole body is a safe last resort.
    return text.ticket_id(parsed.subject, new) or text.ticket_id("", parsed.text)


# ------------------------------------------------------------------------------------ automatic replies


def _classify_auto(msg: _Message, signal: Signal) -> Classification:
    """Classify an automatic reply: out-of-office if subject, body or header comment says so, else an ack."""
    parsed, words = msg.parsed, msg.new
    subject = text.ooo_subject(parsed.subject)
    absence = text.ooo_body(words)
    receipt = text.receipt_phrase(parsed.subject, words)
    extra = msg.ticket_detail
    sent_away = phrases.deflection(words)
    if sent_away is not None:
        extra |= {"deflection": sent_away[1], "deflect_to": sent_away[0]}
    vacation = "vacation" in signal.detail.get("auto_comment", "")

    if subject is not None and subject[0] == "strong":
        marker = subject[1]
        return _make(MessageClass.OUT_OF_OFFICE, _with(signal, 0.95, marker), {**extra, "ooo_marker": marker})
    if absence is not None:
        confidence = 0.95 if subject is not None or vacation else 0.9
        if receipt or msg.ticket:
            # Absence wording next to a receipt is a company's "we are closed" notice: an absence still,
            # but a less certain one.
            confidence -= 0.05
        return _make(
            MessageClass.OUT_OF_OFFICE, _with(signal, confidence, absence), {**extra, "ooo_marker": absence}
        )
    # "Automatic reply:" (and Sieve's or Zimbra's "vacation" responder) also answer for shared mailboxes: a
    # receipt phrase, even one people write too ("thank you for contacting us"), says it is an acknowledgement.
    receipt = receipt or text.receipt_phrase(parsed.subject, words, weak=True)
    unmonitored = text.unmonitored_phrase(words)
    promised = receipt is not None and not text.is_thanks(receipt)
    if vacation and not (promised or msg.ticket or unmonitored):
        marker = f"({signal.detail['auto_comment']})"
        return _make(MessageClass.OUT_OF_OFFICE, _with(signal, 0.9, None), {**extra, "ooo_marker": marker})
    if subject is not None and not (receipt or msg.ticket or unmonitored):
        marker = subject[1]
        return _make(MessageClass.OUT_OF_OFFICE, _with(signal, 0.9, marker), {**extra, "ooo_marker": marker})
    if receipt or msg.ticket or unmonitored:
        proof = receipt or unmonitored or f"ticket {msg.ticket}"
        if receipt:
            extra["receipt"] = receipt
        return _make(MessageClass.AUTO_ACK, _with(signal, 0.95, proof), extra)
    # "auto-generated" is also stamped on help-desk notifications that carry an agent's words, and
    # "Precedence: junk" on some list mail; with nothing else to go on they are the weakest headers.
    bare = 0.8 if signal.detail.get("auto_submitted") == "auto-generated" else min(signal.confidence, 0.9)
    return _make(MessageClass.AUTO_ACK, _with(signal, bare, None), extra)


# --------------------------------------------------------------------------------- surveys and marketing


def _survey(msg: _Message, auto: Signal | None) -> Classification | None:
    parsed = msg.parsed
    in_subject = text.survey_phrase(parsed.subject)
    if in_subject is not None:
        confidence = 0.9 if auto is not None else 0.85
        proof = f"Subject: {parsed.subject}" + (f"; {auto.evidence}" if auto else "")
        return _result(
            MessageClass.AUTO_ACK,
            "ack.survey",
            confidence,
            proof,
            {**msg.ticket_detail, "survey": in_subject},
        )
    sender = parsed.from_addr if text.is_noreply_address(parsed.from_addr) else None
    machine = sender or text.automated_phrase(msg.new)
    in_body = text.survey_phrase("", msg.new)
    if in_body is not None and auto is None and machine:
        proof = f"“{in_body}”; {machine}"
        return _result(
            MessageClass.AUTO_ACK, "ack.survey", 0.75, proof, {**msg.ticket_detail, "survey": in_body}
        )
    return None


def _marketing(msg: _Message) -> Classification | None:
    parsed = msg.parsed
    if parsed.header("list-unsubscribe") is None:
        return None
    if headers.is_threaded(parsed) or text.is_reply_subject(parsed.subject) or msg.ticket:
        return None
    if text.ooo_subject(parsed.subject) or text.receipt_phrase(parsed.subject, msg.new):
        return None
    campaign = headers.campaign_markers(parsed)
    footer = text.unsubscribe_phrase(parsed.text)
    if not (campaign or footer):
        return None
    bulk = headers.bulk_markers(parsed)
    markers = campaign + bulk
    confidence = 0.9 if markers and footer else 0.8
    proof = "; ".join(["List-Unsubscribe", *markers[:2], *([f"“{footer}”"] if footer else []), "not a reply"])
    detail = {"markers": ", ".join(m.split(":", 1)[0] for m in ["List-Unsubscribe", *markers])}
    if footer:
        detail["unsubscribe"] = footer
    return _result(MessageClass.MARKETING, "marketing.bulk", confidence, proof, detail)


# ------------------------------------------------------------------------------------------------ people


def _addressed_by_name(parsed: ParsedEmail, words: str) -> str | None:
    """The recipient's name if the reply's opening uses it ("Hi Anna", "Sehr geehrte Frau Berger")."""
    opening = phrases.normalise(words[:160])
    for name, _ in getaddresses(list(parsed.headers.get("to", ()))):
        for part in re.split(r"[\s,.]+", name):
            if len(part) >= 2 and re.search(rf"(?<!\w){re.escape(phrases.normalise(part))}(?!\w)", opening):
                return part
    return None


def _human(msg: _Message, suspicious: bool) -> Classification:
    """A person's reply: a deflection, a holding reply, or (by default) an answer."""
    parsed = msg.parsed
    reading = phrases.read_reply(msg.new)
    detail = msg.ticket_detail
    name = _addressed_by_name(parsed, msg.new)
    if name:
        detail["addressed_by_name"] = name
    if not reading.substantive:
        sent_away = reading.deflection or reading.courtesy
        if sent_away is not None:
            kind, phrase = sent_away
            confidence = 0.65 if reading.deflection is None else 0.8 if name else 0.7
            detail |= {"deflection": phrase, "deflect_to": kind}
            if reading.holding:
                detail["holding"] = reading.holding
            proof = f"“{phrase}” ({kind}); nothing else answers"
            return _result(MessageClass.DEFLECTION, "human.deflection", confidence, proof, detail)
        if reading.holding is not None:
            detail["holding"] = reading.holding
            proof = f"“{reading.holding}”; nothing else answers"
            return _result(MessageClass.HUMAN, "human.holding", 0.75 if name else 0.65, proof, detail)
    proof = "no bounce, automatic-reply or out-of-office marker"
    # 0.7: the review queue's threshold; a plain person's reply is the common case and needs no review.
    confidence = 0.5 if suspicious else 0.7
    aside = reading.deflection or reading.courtesy
    if aside is not None and reading.substantive:
        detail["deflection_aside"] = aside[1]
        proof += f"; “{aside[1]}” beside an answer"
        if reading.deflection is not None:
            confidence = min(confidence, 0.65)
    return _result(MessageClass.HUMAN, "human.default", confidence, proof, detail)


def _absence_only(msg: _Message) -> str | None:
    """An absence phrase when the reply says nothing else (no subject marker and no header needed)."""
    absence = text.ooo_body(msg.new)
    if absence is None:
        return None
    rest = [
        s
        for s in phrases.read_reply(msg.new).substantive
        if text.ooo_body(s) is None and text.urgent_phrase(s) is None
    ]
    return None if rest else absence


# ------------------------------------------------------------------------------------------------ rules

#: Classes whose words may promise an answer by a time ("we will reply within 2 business days").
_MAY_PROMISE = frozenset(
    {MessageClass.AUTO_ACK, MessageClass.OUT_OF_OFFICE, MessageClass.HUMAN, MessageClass.DEFLECTION}
)


def classify_email(parsed: ParsedEmail) -> Classification:
    """Classify a parsed message by the rules in this module's docstring (first match wins)."""
    found = headers.bounce(parsed)
    if found is not None:
        return _make(MessageClass.BOUNCE, found)
    found = headers.mdn(parsed)
    if found is not None:
        return _make(MessageClass.AUTO_ACK, found)

    new = new_text(parsed.text)
    result = _classify_reply(_Message(parsed, new, _ticket(parsed, new)))
    # A real answer's durations are about the matter ("delivery takes two working days"), not a promise of
    # when we will hear back: promises are read from acknowledgements, absences, holding replies, deflections.
    if result.cls in _MAY_PROMISE and result.rule != "human.default":
        promise = extract_promise(new)
        if promise is not None:
            detail = {**result.detail, **promise.to_detail()}
            return Classification(
                result.cls, result.rule, result.confidence, result.evidence, MappingProxyType(detail)
            )
    return result


def _classify_reply(msg: _Message) -> Classification:
    """Rules 3 to 8: everything after bounces and read receipts."""
    parsed, new = msg.parsed, msg.new
    auto = headers.auto_header(parsed)
    decided = _survey(msg, auto) or _marketing(msg)
    if decided is not None:
        return decided
    if auto is not None:
        return _classify_auto(msg, auto)

    ticket_detail = msg.ticket_detail
    weak = headers.weak_auto_signals(parsed)
    subject = text.ooo_subject(parsed.subject)
    absence = text.ooo_body(new)
    if subject is not None:
        receipt = text.receipt_phrase(parsed.subject, new, weak=True)
        if subject[0] == "generic" and (receipt or msg.ticket) and absence is None:
            proof = f"Subject: {parsed.subject}; “{receipt or msg.ticket}”"
            detail = {**ticket_detail, "receipt": receipt} if receipt else ticket_detail
            return _result(MessageClass.AUTO_ACK, "ack.ticket_receipt", 0.7, proof, detail)
        confidence = min(0.9, 0.7 + (0.1 if weak else 0.0) + (0.1 if absence else 0.0))
        proof = f"Subject: {parsed.subject}" + (f"; {weak[0]}" if weak else "")
        detail = {**ticket_detail, "ooo_marker": subject[1]}
        if weak:
            detail["weak_signal"] = weak[0]
        return _result(MessageClass.OUT_OF_OFFICE, "ooo.subject", confidence, proof, detail)

    noreply = parsed.from_addr if text.is_noreply_address(parsed.from_addr) else None
    unmonitored = text.unmonitored_phrase(new)
    if unmonitored is not None:
        detail = dict(ticket_detail)
        sent_away = phrases.deflection(new)
        if sent_away is not None:
            detail |= {"deflection": sent_away[1], "deflect_to": sent_away[0]}
        proof = f"“{unmonitored}”" + (f"; {noreply}" if noreply else "")
        return _result(MessageClass.AUTO_ACK, "ack.unmonitored", 0.85 if noreply else 0.8, proof, detail)

    receipt = text.receipt_phrase(parsed.subject, new)
    if receipt is not None:
        support = [
            s
            for s in (
                text.automated_phrase(new),
                noreply,
                text.subject_receipt(parsed.subject),
                text.generic_salutation(new),
            )
            if s
        ]
        if support:
            confidence = 0.75 if len(support) > 1 or msg.ticket else 0.7
            detail = {**ticket_detail, "receipt": receipt}
            return _result(
                MessageClass.AUTO_ACK, "ack.ticket_receipt", confidence, f"“{receipt}”; {support[0]}", detail
            )

    absent = _absence_only(msg)
    if absent is not None:
        detail = {**ticket_detail, "ooo_marker": absent}
        return _result(
            MessageClass.OUT_OF_OFFICE, "ooo.body", 0.65, f"“{absent}”; nothing else in the reply", detail
        )

    suspicious = bool(
        weak
        or parsed.return_path == ""
        or noreply
        or headers.is_daemon_sender(parsed)
        or text.automated_phrase(new)
    )
    return _human(msg, suspicious)


def classify_bytes(raw: bytes) -> Classification:
    """Parse and classify raw message bytes; never raises.

    Bytes that are not an email give ``unknown`` with rule ``malformed``; an unexpected internal error gives
    ``unknown`` with rule ``error`` (and is logged), so one bad message cannot stop a listener.
    """
    try:
        parsed = parse_email(raw)
    except MalformedEmail as exc:
        return Classification(
            MessageClass.UNKNOWN, "malformed", 0.0, evidence(str(exc)), MappingProxyType({})
        )
    return classify_parsed(parsed)


def classify_parsed(parsed: ParsedEmail) -> Classification:
    """:func:`classify_email` that never raises: an internal error gives ``unknown``/``error`` (logged)."""
    try:
        return classify_email(parsed)
    except Exception as exc:  # the documented contract: one odd message must not stop a listener
        log.exception("classifier failed on message %s", parsed.message_id)
        return Classification(
            MessageClass.UNKNOWN, "error", 0.0, evidence(f"{type(exc).__name__}: {exc}"), MappingProxyType({})
        )
