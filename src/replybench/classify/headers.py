"""Header and structure signals: delivery reports, bounce heuristics, automatic replies, bulk-mail markers.

These functions find evidence; :func:`replybench.classify.classify_email` decides. ``Precedence: bulk`` and
``List-*`` headers never make a message automatic: help desks send their agents' personal replies through the
same machinery as newsletters. They only describe bulk mail (:func:`bulk_markers`), which the classifier calls
marketing when nothing ties the message to our inquiry.

A delivery report is not a reply: its diagnostic is read from the whole body (the returned message is an
attachment or follows a "copy of the message" line, below the report's own words).

Hard and soft failures: a failure is *soft* (``hard`` "false") when the address exists and a later message
may get through: an SMTP status of class 4, a full mailbox or mail system (X.2.2, X.3.1, also as 5.x.x: many
servers give up on a full mailbox with a 5.2.2), an expired delivery time (X.4.7), or "mailbox full / over
quota" wording. It is still ``final`` (this message will not arrive). Only ``delayed`` reports are not final.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from replybench.classify import text
from replybench.mailparse import ParsedEmail

__all__ = [
    "Signal",
    "auto_header",
    "bounce",
    "bulk_markers",
    "campaign_markers",
    "evidence",
    "is_daemon_sender",
    "is_threaded",
    "mdn",
    "weak_auto_signals",
]

_EVIDENCE_CHARS = 200
_DSN_REPORT_TYPES = frozenset({"delivery-status", "global-delivery-status"})
_DAEMON_LOCALS = frozenset({"mailer-daemon", "mailerdaemon", "mail-daemon", "postmaster", "mdaemon"})
_DAEMON_NAME = re.compile(r"mail delivery (?:system|subsystem|service)|mailer[- ]daemon|postmaster", re.I)
_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")
_DSN_ACTIONS = ("failed", "delayed", "delivered", "relayed", "expanded")
_FALSY = frozenset({"", "no", "false", "0", "off", "none"})
#: Statuses that fail one message but not the address: full mailbox or system, delivery time expired.
_SOFT_DETAILS = frozenset({"2.2", "3.1", "4.7"})


def _is_soft(status: str, body: str) -> bool:
    """A failure the address may recover from (see the module docstring)."""
    if status.startswith("4"):
        return True
    if (status[2:] in _SOFT_DETAILS and status[:1] in ("4", "5")) or status == "552":
        return True
    return not status[:1].isdigit() and text.mailbox_full_phrase(body) is not None


@dataclass(frozen=True)
class Signal:
    """One decisive finding: the rule id, how sure it is, the line that shows it, and structured detail."""

    rule: str
    confidence: float
    evidence: str
    detail: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def evidence(value: str) -> str:
    """Squash text into one line of at most 200 characters, for :attr:`Signal.evidence`."""
    line = re.sub(r"\s+", " ", value).strip()
    return line if len(line) <= _EVIDENCE_CHARS else line[: _EVIDENCE_CHARS - 1] + "…"


def _signal(rule: str, confidence: float, proof: str, detail: dict[str, str]) -> Signal:
    return Signal(rule, confidence, evidence(proof), MappingProxyType(detail))


def _first(parsed: ParsedEmail, name: str) -> str | None:
    values = parsed.headers.get(name)
    return values[0] if values else None


# --------------------------------------------------------------------------------------------- bounces


def _status_code(value: str) -> str:
    m = _STATUS.search(value)
    return m.group(0) if m else value.strip()[:20]


def _address_field(value: str) -> str:
    """``rfc822; user@example.com`` → ``user@example.com``."""
    return value.split(";", 1)[-1].strip().strip("<>").lower()


def _rfc3464(parsed: ParsedEmail) -> Signal | None:
    is_report = parsed.content_type == "multipart/report" and parsed.report_type in _DSN_REPORT_TYPES
    recipients = [b for b in parsed.dsn if {"action", "status", "final-recipient"} & b.keys()]
    if not recipients:
        if not is_report:
            return None
        return _signal(
            "bounce.rfc3464",
            0.9,
            f"Content-Type: multipart/report; report-type={parsed.report_type}",
            {
                "dsn_action": "unknown",
                "hard": "true",
                "final": "true",
                "report_type": parsed.report_type or "",
            },
        )
    per_message = parsed.dsn[0] if parsed.dsn and parsed.dsn[0] not in recipients else {}

    def action_of(block: Mapping[str, str]) -> str:
        words = block.get("action", "").lower().split()
        if words and words[0].strip(";") in _DSN_ACTIONS:
            return words[0].strip(";")
        status = _status_code(block.get("status", ""))
        # A block without a valid Action (against RFC 3464) still says enough through its status class.
        return {"5": "failed", "4": "delayed", "2": "delivered"}.get(status[:1], "failed")

    actions = [action_of(b) for b in recipients]
    # One report may cover several recipients: the worst outcome decides.
    action = min(actions, key=_DSN_ACTIONS.index)
    block = recipients[actions.index(action)]

    status = _status_code(block.get("status", ""))
    final = action == "failed"
    explicit = block.get("action", "").lower().strip().startswith(action)
    diagnostic = block.get("diagnostic-code", "")
    detail = {
        "dsn_action": action,
        "dsn_status": status,
        "hard": "true" if final and not _is_soft(status, diagnostic) else "false",
        "final": "true" if final else "false",
    }
    for key, name in (("final-recipient", "final_recipient"), ("original-recipient", "original_recipient")):
        if key in block:
            detail[name] = _address_field(block[key])
    for key, name in (("diagnostic-code", "diagnostic_code"), ("remote-mta", "remote_mta")):
        if key in block:
            detail[name] = evidence(block[key])
    if "reporting-mta" in per_message:
        detail["reporting_mta"] = evidence(per_message["reporting-mta"])

    proof = f"Action: {block.get('action', action)}; Status: {block.get('status', '?')}"
    if "diagnostic-code" in block:
        proof += f"; Diagnostic-Code: {block['diagnostic-code']}"
    if final:
        return _signal("bounce.rfc3464", 0.99 if explicit else 0.95, proof, detail)
    suffix = "delayed" if action == "delayed" else "delivered"
    return _signal(f"bounce.rfc3464.{suffix}", 0.99 if explicit else 0.9, proof, detail)


def is_daemon_sender(parsed: ParsedEmail) -> bool:
    """Tell whether the sender is a mail system (MAILER-DAEMON, postmaster, "Mail Delivery System" ...)."""
    local = (parsed.from_addr or "").split("@", 1)[0]
    if local in _DAEMON_LOCALS or local.startswith("microsoftexchange"):
        return True
    return bool(parsed.from_name and _DAEMON_NAME.search(parsed.from_name))


def _heuristic_detail(parsed: ParsedEmail, top: str, *, delayed: bool) -> dict[str, str]:
    status = text.smtp_status(top) or ""
    soft = delayed or _is_soft(status, top) or text.mailbox_full_phrase(top) is not None
    detail = {
        "dsn_action": "delayed" if delayed else "failed",
        "hard": "false" if soft else "true",
        "final": "false" if delayed else "true",
    }
    if status:
        detail["dsn_status"] = status
    failed = _first(parsed, "x-failed-recipients")
    if failed:
        detail["final_recipient"] = failed.split(",")[0].strip().lower()
    return detail


def bounce(parsed: ParsedEmail) -> Signal | None:
    """Find a non-delivery (or delay) report: RFC 3464, then Exchange and Exim markers, then heuristics.

    Rules: ``bounce.rfc3464`` (final failure), ``bounce.rfc3464.delayed`` and ``bounce.rfc3464.delivered``
    (not final), ``bounce.exchange_ndr``, ``bounce.x_failed_recipients``, ``bounce.mailer_daemon`` and
    ``bounce.mailer_daemon.delayed``. ``detail["final"]`` is "true" only for a delivery that has given up.
    """
    found = _rfc3464(parsed)
    if found is not None:
        return found

    top = parsed.text[: text.TOP_CHARS]
    subject_phrase = text.bounce_subject(parsed.subject)
    delay = text.delay_phrase(parsed.subject, top)
    # A subject that says "failed" outranks retry talk in the body (which may quote an earlier warning).
    delayed = delay is not None and (
        subject_phrase is None or text.delay_phrase(parsed.subject, "") is not None
    )

    failed = _first(parsed, "x-failed-recipients")
    if failed is not None:
        return _signal(
            "bounce.x_failed_recipients",
            0.95,
            f"X-Failed-Recipients: {failed}",
            _heuristic_detail(parsed, top, delayed=False),
        )
    if "x-ms-exchange-message-is-ndr" in parsed.headers:
        return _signal(
            "bounce.exchange_ndr",
            0.95,
            f"X-MS-Exchange-Message-Is-Ndr; Subject: {parsed.subject}",
            _heuristic_detail(parsed, top, delayed=False),
        )

    daemon = is_daemon_sender(parsed)
    null_sender = parsed.return_path == ""
    if not (daemon or null_sender):
        return None
    who = f"From: {parsed.from_addr}" if daemon else "Return-Path: <>"
    rule = "bounce.mailer_daemon.delayed" if delayed else "bounce.mailer_daemon"
    if subject_phrase:
        return _signal(
            rule, 0.9, f"{who}; Subject: {parsed.subject}", _heuristic_detail(parsed, top, delayed=delayed)
        )
    # RFC 3834 asks automatic replies to use the null sender too, so without a bounce subject the null
    # sender alone is not enough: it needs a daemon sender or failure wording and no auto-reply header.
    body_phrase = text.bounce_body_phrase(top)
    if body_phrase and (daemon or auto_header(parsed) is None):
        confidence = 0.8 if daemon else 0.7
        return _signal(
            rule, confidence, f"{who}; “{body_phrase}”", _heuristic_detail(parsed, top, delayed=delayed)
        )
    if delayed and daemon:
        return _signal(rule, 0.75, f"{who}; “{delay}”", _heuristic_detail(parsed, top, delayed=True))
    return None


# ------------------------------------------------------------------------------------------ automatic replies


def _list_headers(parsed: ParsedEmail) -> list[str]:
    return [
        name for name in ("list-id", "list-unsubscribe", "list-post", "list-help") if name in parsed.headers
    ]


def auto_header(parsed: ParsedEmail) -> Signal | None:
    """Find an explicit automatic-reply header.

    ``Auto-Submitted`` other than "no" gives ``auto.rfc3834`` (its comment, e.g. Zimbra's and Sieve's
    "(vacation)", is kept as ``auto_comment``); ``X-Autoreply``, ``X-Autorespond(er)`` or ``X-Autogenerated``
    give ``auto.x_autoreply``; ``Precedence: auto_reply`` gives ``auto.precedence`` (0.95), and so does
    ``Precedence: junk`` (0.8, the vacation(1) program's mark) unless ``List-*`` headers say a list server
    set it; Exchange's ``X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent`` (set on out-of-office
    and rule replies) gives ``auto.exchange_rules`` (0.9).
    """
    for value in parsed.headers.get("auto-submitted", ()):
        m = re.match(r"\s*([A-Za-z][A-Za-z0-9-]*)\s*(?:;[^(]*)?(?:\((.*)\))?", value)
        keyword = m.group(1).lower() if m else ""
        if keyword and keyword != "no":
            detail = {"auto_submitted": keyword}
            if m and m.group(2):
                detail["auto_comment"] = m.group(2).strip().lower()
            return _signal("auto.rfc3834", 0.95, f"Auto-Submitted: {value}", detail)
    for name, label in (
        ("x-autoreply", "X-Autoreply"),
        ("x-autorespond", "X-Autorespond"),
        ("x-autoresponder", "X-Autoresponder"),
        ("x-autogenerated", "X-Autogenerated"),
    ):
        for value in parsed.headers.get(name, ()):
            if value.strip().lower() not in _FALSY:
                return _signal("auto.x_autoreply", 0.95, f"{label}: {value}", {"auto_header": label})
    for value in parsed.headers.get("precedence", ()):
        precedence = value.strip().lower()
        if precedence in ("auto_reply", "auto-reply"):
            return _signal("auto.precedence", 0.95, f"Precedence: {value}", {"precedence": precedence})
        if precedence == "junk" and not _list_headers(parsed):
            return _signal("auto.precedence", 0.8, f"Precedence: {value}", {"precedence": precedence})
    source = _first(parsed, "x-ms-exchange-generated-message-source")
    if source is not None and source.strip().lower() == "mailbox rules agent":
        return _signal(
            "auto.exchange_rules",
            0.9,
            f"X-MS-Exchange-Generated-Message-Source: {source}",
            {"auto_header": "X-MS-Exchange-Generated-Message-Source"},
        )
    return None


def mdn(parsed: ParsedEmail) -> Signal | None:
    """Find a message disposition notification (RFC 8098 read receipt): automatic, and not an answer."""
    if parsed.content_type == "multipart/report" and parsed.report_type == "disposition-notification":
        return _signal(
            "auto.mdn",
            0.95,
            "Content-Type: multipart/report; report-type=disposition-notification",
            {"report_type": "disposition-notification"},
        )
    return None


def weak_auto_signals(parsed: ParsedEmail) -> list[str]:
    """Exchange headers that often accompany automatic replies but also ordinary mail (evidence lines)."""
    found: list[str] = []
    for name, label in (
        ("x-ms-exchange-inbox-rules-loop", "X-MS-Exchange-Inbox-Rules-Loop"),
        ("x-auto-response-suppress", "X-Auto-Response-Suppress"),
    ):
        value = _first(parsed, name)
        if value is not None:
            found.append(f"{label}: {value}")
    return found


# ------------------------------------------------------------------------------------------------ bulk mail

#: Headers of email service providers' *campaign* sending (newsletters, promotions), by name prefix.
_CAMPAIGN_PREFIXES = (
    "x-campaign",
    "x-mc-user",
    "x-mailchimp",
    "x-mailjet-campaign",
    "x-mailin-campaign",
    "x-sib-",
    "x-klaviyo",
    "x-csa-complaints",
    "x-newsletter",
    "x-rpcampaign",
    "x-hs-cid",
    "x-sfmc-",
    "x-cleverreach",
    "x-rapidmail",
    "x-emarsys",
)
#: Headers of bulk delivery in general: lists, and the ESPs help desks also send through.
_BULK_PREFIXES = (
    "list-id",
    "x-mailgun-",
    "x-sg-eid",
    "x-sg-id",
    "feedback-id",
    "x-ses-outgoing",
    "x-mandrill",
)


def campaign_markers(parsed: ParsedEmail) -> list[str]:
    """Campaign headers of newsletter senders (``X-MC-User``, ``X-Campaign-ID`` ...) as evidence lines."""
    return [
        f"{name}: {values[0]}"
        for name, values in parsed.headers.items()
        if values and name.startswith(_CAMPAIGN_PREFIXES)
    ]


def bulk_markers(parsed: ParsedEmail) -> list[str]:
    """Bulk-delivery markers: ``Precedence: bulk/list/junk``, ``List-Id``, ESP headers, as evidence lines."""
    found = [
        f"Precedence: {value}"
        for value in parsed.headers.get("precedence", ())
        if value.strip().lower() in ("bulk", "list", "junk")
    ]
    found += [
        f"{name}: {values[0]}"
        for name, values in parsed.headers.items()
        if values and name.startswith(_BULK_PREFIXES)
    ]
    return found


def is_threaded(parsed: ParsedEmail) -> bool:
    """Tell whether a message answers another (``In-Reply-To`` or ``References``)."""
    return bool(parsed.in_reply_to or parsed.references)
