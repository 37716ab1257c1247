"""Classification of inbound messages: bounce, automatic reply, out-of-office, human.

Rules are tried in order and the first that matches decides:

1. bounces (:func:`headers.bounce`): ``bounce.rfc3464`` (0.99), ``bounce.rfc3464.delayed`` and
   ``bounce.rfc3464.delivered`` (not final: see :func:`is_final_bounce`), ``bounce.x_failed_recipients``,
   ``bounce.exchange_ndr`` (0.95), ``bounce.mailer_daemon[.delayed]`` (0.7-0.9);
2. read receipts: ``auto.mdn`` → auto_ack;
3. automatic-reply headers: ``auto.rfc3834``, ``auto.x_autoreply``, ``auto.precedence`` → out_of_office when
   the subject or body says so, else auto_ack (0.8-0.95, lowest for a bare ``auto-generated``);
   ``detail["ticket_id"]`` when a ticket is named;
4. subject only: ``ooo.subject`` → out_of_office (0.7, more with Exchange hints or absence wording), or
   ``ack.ticket_receipt`` → auto_ack for an "Automatic reply:" subject over a receipt;
5. text only: ``ack.ticket_receipt`` → auto_ack, when a receipt phrase comes with a statement of being
   automatic, a no-reply sender or a receipt subject (0.7-0.75);
6. ``human.default`` (0.6, or 0.5 when something automatic-looking was seen but did not decide).

``Precedence: bulk`` and ``List-*`` headers never make a message automatic: help desks send their agents'
replies with them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from replybench.classify import headers, text
from replybench.classify.headers import Signal, evidence
from replybench.mailparse import MalformedEmail, ParsedEmail, parse_email
from replybench.models import MessageClass

__all__ = ["Classification", "classify_bytes", "classify_email", "is_final_bounce"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Classification:
    """What a message is, which rule said so, how sure it is, and the line or phrase that decided.

    ``detail`` carries structured facts: for bounces ``dsn_action``, ``dsn_status``, ``hard``, ``final`` and
    ``final_recipient``; for acknowledgements ``ticket_id``; for absences ``ooo_marker``.
    """

    cls: MessageClass
    rule: str
    confidence: float
    evidence: str
    detail: Mapping[str, str]


def is_final_bounce(classification: Classification) -> bool:
    """Tell whether a classification is a bounce meaning "not delivered" (not a delay or success notice)."""
    return classification.cls is MessageClass.BOUNCE and classification.detail.get("final") == "true"


def _make(cls: MessageClass, signal: Signal, extra: Mapping[str, str] | None = None) -> Classification:
    detail = dict(signal.detail)
    if extra:
        detail.update(extra)
    return Classification(cls, signal.rule, signal.confidence, signal.evidence, MappingProxyType(detail))


def _classify_auto(parsed: ParsedEmail, signal: Signal, top: str, ticket: str | None) -> Classification:
    """Classify an automatic reply: out-of-office if subject or body says so, else an acknowledgement."""
    subject = text.ooo_subject(parsed.subject)
    absence = text.ooo_body(top)
    receipt = text.receipt_phrase(parsed.subject, top)
    extra: dict[str, str] = {"ticket_id": ticket} if ticket else {}

    if subject is not None and subject[0] == "strong":
        marker = subject[1]
        return _make(MessageClass.OUT_OF_OFFICE, _with(signal, 0.95, marker), {**extra, "ooo_marker": marker})
    if absence is not None:
        confidence = 0.95 if subject is not None else 0.9
        if receipt or ticket:
            # Absence wording next to a receipt is a company's "we are closed" notice: an absence still,
            # but a less certain one.
            confidence -= 0.05
        return _make(
            MessageClass.OUT_OF_OFFICE, _with(signal, confidence, absence), {**extra, "ooo_marker": absence}
        )
    # "Automatic reply:" also heads acknowledgements from shared mailboxes: a receipt phrase, even one people
    # write too ("thank you for contacting us"), says which.
    receipt = receipt or text.receipt_phrase(parsed.subject, top, weak=True)
    if subject is not None and not (receipt or ticket):
        marker = subject[1]
        return _make(MessageClass.OUT_OF_OFFICE, _with(signal, 0.9, marker), {**extra, "ooo_marker": marker})
    if receipt or ticket:
        proof = receipt or f"ticket {ticket}"
        return _make(
            MessageClass.AUTO_ACK,
            _with(signal, 0.95, proof),
            {**extra, "receipt": receipt} if receipt else extra,
        )
    # "auto-generated" is also stamped on help-desk notifications that carry an agent's words; with nothing
    # else to go on it is the weakest of the automatic-reply headers.
    bare = 0.8 if signal.detail.get("auto_submitted") == "auto-generated" else 0.9
    return _make(MessageClass.AUTO_ACK, _with(signal, bare, None), extra)


def _with(signal: Signal, confidence: float, phrase: str | None) -> Signal:
    """Copy a signal with another confidence and the deciding phrase appended to its evidence."""
    proof = f"{signal.evidence}; “{phrase}”" if phrase else signal.evidence
    return Signal(signal.rule, round(confidence, 2), evidence(proof), signal.detail)


def _ack(rule_evidence: str, confidence: float, detail: dict[str, str]) -> Classification:
    return Classification(
        MessageClass.AUTO_ACK,
        "ack.ticket_receipt",
        confidence,
        evidence(rule_evidence),
        MappingProxyType(detail),
    )


def classify_email(parsed: ParsedEmail) -> Classification:
    """Classify a parsed message by the rules in this module's docstring (first match wins)."""
    found = headers.bounce(parsed)
    if found is not None:
        return _make(MessageClass.BOUNCE, found)
    found = headers.mdn(parsed)
    if found is not None:
        return _make(MessageClass.AUTO_ACK, found)

    top = text.top_text(parsed.text)
    ticket = text.ticket_id(parsed.subject, top)
    found = headers.auto_header(parsed)
    if found is not None:
        return _classify_auto(parsed, found, top, ticket)

    ticket_detail = {"ticket_id": ticket} if ticket else {}
    weak = headers.weak_auto_signals(parsed)
    subject = text.ooo_subject(parsed.subject)
    absence = text.ooo_body(top)
    if subject is not None:
        receipt = text.receipt_phrase(parsed.subject, top, weak=True)
        if subject[0] == "generic" and (receipt or ticket) and absence is None:
            proof = f"Subject: {parsed.subject}; “{receipt or ticket}”"
            return _ack(proof, 0.7, {**ticket_detail, "receipt": receipt} if receipt else ticket_detail)
        confidence = round(min(0.9, 0.7 + (0.1 if weak else 0.0) + (0.1 if absence else 0.0)), 2)
        proof = f"Subject: {parsed.subject}" + (f"; {weak[0]}" if weak else "")
        detail = {**ticket_detail, "ooo_marker": subject[1]}
        if weak:
            detail["weak_signal"] = weak[0]
        return Classification(
            MessageClass.OUT_OF_OFFICE, "ooo.subject", confidence, evidence(proof), MappingProxyType(detail)
        )

    receipt = text.receipt_phrase(parsed.subject, top)
    if receipt is not None:
        support = [
            s
            for s in (
                text.automated_phrase(top),
                parsed.from_addr if text.is_noreply_address(parsed.from_addr) else None,
                text.subject_receipt(parsed.subject),
            )
            if s
        ]
        if support:
            confidence = 0.75 if len(support) > 1 or ticket else 0.7
            return _ack(f"“{receipt}”; {support[0]}", confidence, {**ticket_detail, "receipt": receipt})

    suspicious = (
        weak
        or parsed.return_path == ""
        or text.is_noreply_address(parsed.from_addr)
        or headers.is_daemon_sender(parsed)
        or text.automated_phrase(top)
    )
    return Classification(
        MessageClass.HUMAN,
        "human.default",
        0.5 if suspicious else 0.6,
        "no bounce, automatic-reply or out-of-office marker",
        MappingProxyType(ticket_detail),
    )


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
    try:
        return classify_email(parsed)
    except Exception as exc:  # the documented contract: one odd message must not stop a listener
        log.exception("classifier failed on message %s", parsed.message_id)
        return Classification(
            MessageClass.UNKNOWN, "error", 0.0, evidence(f"{type(exc).__name__}: {exc}"), MappingProxyType({})
        )
