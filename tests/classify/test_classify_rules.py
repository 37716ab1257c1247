"""The classifier's rules one by one, on minimal messages built for each rule and each trap."""

from __future__ import annotations

import re

import pytest

import replybench.classify as classify_module
from replybench.classify import Classification, classify_bytes, classify_email, is_final_bounce
from replybench.classify import text as phrases
from replybench.mailparse import parse_email
from replybench.models import MessageClass

ANNA = "anna+k3m9x2p7qrtv@probe.example"


def mail(
    *headers: str,
    body: str = "Hello Anna,\n\nhere is your answer.\n\nBest, Sam\n",
    subject: str | None = None,
) -> bytes:
    lines = [f"To: {ANNA}", "Date: Tue, 04 Mar 2025 10:00:00 +0000", "Message-ID: <m1@company.example>"]
    if not any(h.lower().startswith("from:") for h in headers):
        lines.append("From: Sam <sam@company.example>")
    if subject is not None:
        lines.append(f"Subject: {subject}")
    lines.extend(headers)
    return ("\r\n".join(lines) + "\r\n\r\n" + re.sub(r"(?<!\r)\n", "\r\n", body)).encode("utf-8")


def dsn(
    *recipient_blocks: str, report_type: str = "delivery-status", sender: str = "MAILER-DAEMON@mx.example"
) -> bytes:
    blocks = "\r\n\r\n".join(b.replace("\n", "\r\n") for b in recipient_blocks)
    body = (
        "--r\r\nContent-Type: text/plain\r\n\r\nDelivery report.\r\n"
        "--r\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.example\r\n\r\n{blocks}\r\n\r\n--r--\r\n"
    )
    return mail(
        f"From: {sender}",
        "Return-Path: <>",
        f"Content-Type: multipart/report; report-type={report_type}; boundary=r",
        subject="Delivery Status Notification",
        body=body,
    )


# --------------------------------------------------------------------------------------------- bounces


@pytest.mark.parametrize(
    ("status", "hard"),
    [("5.1.1", "true"), ("5.7.1 (spam)", "true"), ("4.4.7", "false"), ("", "true")],
)
def test_rfc3464_failed_is_a_final_bounce_hard_or_soft_by_status(status: str, hard: str) -> None:
    block = "Final-Recipient: rfc822; x@company.example\nAction: failed" + (
        f"\nStatus: {status}" if status else ""
    )
    result = classify_bytes(dsn(block))
    assert result.cls is MessageClass.BOUNCE
    assert result.rule == "bounce.rfc3464"
    assert result.confidence == 0.99
    assert result.detail["hard"] == hard
    assert result.detail["final"] == "true"
    assert result.detail["final_recipient"] == "x@company.example"
    assert is_final_bounce(result)


def test_rfc3464_delayed_only_is_visible_and_not_final() -> None:
    result = classify_bytes(dsn("Final-Recipient: rfc822; x@company.example\nAction: delayed\nStatus: 4.4.1"))
    assert result.cls is MessageClass.BOUNCE
    assert result.rule == "bounce.rfc3464.delayed"
    assert result.detail["dsn_action"] == "delayed"
    assert result.detail["final"] == "false"
    assert result.detail["hard"] == "false"
    assert not is_final_bounce(result)


def test_rfc3464_failed_wins_over_delayed_for_another_recipient() -> None:
    result = classify_bytes(
        dsn(
            "Final-Recipient: rfc822; a@company.example\nAction: delayed\nStatus: 4.4.1",
            "Final-Recipient: rfc822; b@company.example\nAction: failed\nStatus: 5.1.1",
        )
    )
    assert result.rule == "bounce.rfc3464"
    assert result.detail["final_recipient"] == "b@company.example"


def test_rfc3464_success_notice_is_not_a_final_bounce() -> None:
    result = classify_bytes(
        dsn("Final-Recipient: rfc822; x@company.example\nAction: delivered\nStatus: 2.0.0")
    )
    assert result.rule == "bounce.rfc3464.delivered"
    assert result.detail["dsn_action"] == "delivered"
    assert not is_final_bounce(result)


@pytest.mark.parametrize(
    ("status", "action", "rule"),
    [("5.2.2", "failed", "bounce.rfc3464"), ("4.2.2", "delayed", "bounce.rfc3464.delayed")],
)
def test_rfc3464_without_action_falls_back_to_status_class(status: str, action: str, rule: str) -> None:
    result = classify_bytes(dsn(f"Final-Recipient: rfc822; x@company.example\nStatus: {status}"))
    assert result.rule == rule
    assert result.detail["dsn_action"] == action
    assert result.confidence < 0.99


def test_dsn_report_without_readable_fields_is_still_a_bounce() -> None:
    raw = mail(
        "From: postmaster@mx.example",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=r",
        subject="Report",
        body="--r\r\nContent-Type: text/plain\r\n\r\nsomething\r\n--r--\r\n",
    )
    result = classify_bytes(raw)
    assert result.rule == "bounce.rfc3464"
    assert result.detail["dsn_action"] == "unknown"


@pytest.mark.parametrize(
    "subject",
    [
        "Undelivered Mail Returned to Sender",
        "Delivery Status Notification (Failure)",
        "Mail delivery failed: returning message to sender",
        "Undeliverable: Question about my order",
        "failure notice",
        "Returned mail: see transcript for details",
        "Unzustellbar: Frage",
        "[EXTERNAL] Undeliverable: Question",
    ],
)
@pytest.mark.parametrize(
    "sender",
    ["From: MAILER-DAEMON@mx.example", "From: Mail Delivery System <bounce@mx.example>", "Return-Path: <>"],
)
def test_mailer_daemon_or_null_sender_with_bounce_subject(subject: str, sender: str) -> None:
    result = classify_bytes(
        mail(sender, subject=subject, body="Your message could not be delivered.\n550 5.1.1 User unknown\n")
    )
    assert result.cls is MessageClass.BOUNCE
    assert result.rule == "bounce.mailer_daemon"
    assert result.confidence == 0.9
    assert result.detail["hard"] == "true"
    assert result.detail["dsn_status"] == "5.1.1"
    assert is_final_bounce(result)


def test_heuristic_bounce_with_4xx_status_is_soft_but_final() -> None:
    result = classify_bytes(
        mail(
            "From: MAILER-DAEMON@mx.example", subject="failure notice", body="Giving up.\n451 4.4.1 timeout\n"
        )
    )
    assert result.detail["hard"] == "false"
    assert result.detail["final"] == "true"


def test_heuristic_delay_warning_is_not_final() -> None:
    result = classify_bytes(
        mail(
            "From: Mail Delivery System <Mailer-Daemon@mx.example>",
            subject="Warning: message 1abc-00 delayed 24 hours",
            body="A message that you sent has not yet been delivered.\nNo action is required on your part.\n",
        )
    )
    assert result.rule == "bounce.mailer_daemon.delayed"
    assert result.detail["dsn_action"] == "delayed"
    assert not is_final_bounce(result)


def test_daemon_sender_with_failure_wording_but_odd_subject() -> None:
    result = classify_bytes(
        mail("From: MAILER-DAEMON@mx.example", subject="Mail System Notice", body="The user unknown here.\n")
    )
    assert result.rule == "bounce.mailer_daemon"
    assert result.confidence == 0.8


def test_bounce_subject_from_an_ordinary_sender_is_not_a_bounce() -> None:
    result = classify_bytes(
        mail(subject="Undeliverable: your parcel", body="Hi, the courier could not deliver your parcel.\n")
    )
    assert result.cls is MessageClass.HUMAN


def test_null_sender_auto_reply_quoting_failure_words_is_not_a_bounce() -> None:
    raw = mail(
        "Return-Path: <>",
        "Auto-Submitted: auto-replied",
        subject="Re: Question",
        body="If your mail could not be delivered, call us.\n",
    )
    assert classify_bytes(raw).cls is MessageClass.AUTO_ACK


def test_x_failed_recipients_and_exchange_ndr_markers() -> None:
    exim = classify_bytes(
        mail("X-Failed-Recipients: Info@Company.example", subject="whatever", body="550 5.1.1 nope\n")
    )
    assert exim.rule == "bounce.x_failed_recipients"
    assert exim.detail["final_recipient"] == "info@company.example"
    ndr = classify_bytes(
        mail("X-MS-Exchange-Message-Is-Ndr: ", subject="Undeliverable: Question", body="x\n")
    )
    assert ndr.rule == "bounce.exchange_ndr"


def test_bounce_outranks_auto_submitted() -> None:
    raw = dsn("Final-Recipient: rfc822; x@company.example\nAction: failed\nStatus: 5.1.1")
    raw = raw.replace(b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:")
    assert classify_bytes(raw).cls is MessageClass.BOUNCE


# ------------------------------------------------------------------------------------------ automatic replies


@pytest.mark.parametrize(
    ("header", "rule"),
    [
        ("Auto-Submitted: auto-replied", "auto.rfc3834"),
        ("Auto-Submitted: auto-generated", "auto.rfc3834"),
        ("Auto-Submitted: Auto-Replied (vacation)", "auto.rfc3834"),
        ("Auto-Submitted: auto-notified; owner-email=x@y.z", "auto.rfc3834"),
        ("X-Autoreply: yes", "auto.x_autoreply"),
        ("X-Autorespond: Question", "auto.x_autoreply"),
        ("X-Autoresponder: on", "auto.x_autoreply"),
        ("X-Autogenerated: Reply", "auto.x_autoreply"),
        ("Precedence: auto_reply", "auto.precedence"),
    ],
)
def test_auto_reply_headers_give_auto_ack(header: str, rule: str) -> None:
    result = classify_bytes(
        mail(header, subject="Re: Question", body="Thanks, we will get back to you soon.\n")
    )
    assert result.cls is MessageClass.AUTO_ACK
    assert result.rule == rule
    assert result.confidence == 0.95
    assert result.detail["receipt"] == "we will get back to you"
    assert header.split(":")[0] in result.evidence


@pytest.mark.parametrize(
    "header", ["Auto-Submitted: no", "Auto-Submitted: No (manual)", "X-Autoreply: no", "X-Autoreply: false"]
)
def test_negative_auto_headers_are_not_automatic(header: str) -> None:
    assert classify_bytes(mail(header, subject="Re: Question")).cls is MessageClass.HUMAN


@pytest.mark.parametrize(
    "headers",
    [
        ("Precedence: bulk",),
        ("Precedence: list", "List-Id: <support.company.example>"),
        ("List-Unsubscribe: <mailto:u@company.example>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        ("Precedence: junk", "List-Id: x", "List-Unsubscribe: <mailto:u@x>", "X-Auto-Response-Suppress: All"),
    ],
)
def test_bulk_and_list_headers_alone_never_make_a_reply_automatic(headers: tuple[str, ...]) -> None:
    result = classify_bytes(mail(*headers, subject="Re: [#4521] Question"))
    assert result.cls is MessageClass.HUMAN
    assert result.rule == "human.default"
    assert result.detail["ticket_id"] == "4521"


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Question",
        "Out of office until Monday",
        "Automatic reply: Question",
        "Autoreply: Question",
        "Auto-Reply: Question",
        "Abwesenheitsnotiz: Frage",
        "Automatische Antwort: Frage",
        "Réponse automatique : Question",
        "Respuesta automática: Consulta",
        "Risposta automatica: Domanda",
        "Automatisch antwoord: Vraag",
        "Autosvar: Fråga",
        "Fuera de la oficina: Consulta",
        "Absence: Question",
        "[EXTERNAL] Out of Office: Question",
    ],
)
def test_out_of_office_subjects_with_auto_header(subject: str) -> None:
    result = classify_bytes(mail("Auto-Submitted: auto-replied", subject=subject, body="See you soon.\n"))
    assert result.cls is MessageClass.OUT_OF_OFFICE
    assert result.rule == "auto.rfc3834"
    assert result.detail["ooo_marker"]


@pytest.mark.parametrize(
    "subject",
    ["Out of Office: Question", "Automatic reply: Question", "Abwesenheitsnotiz: Frage", "Autosvar: Fråga"],
)
def test_out_of_office_by_subject_alone_has_lower_confidence(subject: str) -> None:
    result = classify_bytes(mail(subject=subject, body="Back on Monday.\n"))
    assert result.cls is MessageClass.OUT_OF_OFFICE
    assert result.rule == "ooo.subject"
    assert result.confidence == 0.7


def test_exchange_hints_and_absence_wording_raise_subject_only_confidence() -> None:
    weak = classify_bytes(
        mail("X-Auto-Response-Suppress: All", subject="Out of Office: Question", body="Back Monday.\n")
    )
    both = classify_bytes(
        mail(
            "X-MS-Exchange-Inbox-Rules-Loop: s@x",
            subject="Out of Office: Q",
            body="I am out of the office.\n",
        )
    )
    assert weak.confidence == 0.8
    assert weak.detail["weak_signal"].startswith("X-Auto-Response-Suppress")
    assert both.confidence == 0.9


def test_exchange_hints_alone_are_not_enough() -> None:
    raw = mail("X-Auto-Response-Suppress: All", "X-MS-Exchange-Inbox-Rules-Loop: s@x", subject="Re: Question")
    result = classify_bytes(raw)
    assert result.cls is MessageClass.HUMAN
    assert result.confidence == 0.5


@pytest.mark.parametrize(
    "body",
    [
        "I am out of the office until 10 March.",
        "Ich bin bis zum 14.03. nicht im Büro.",
        "Je suis absente jusqu'au 10 avril.",
        "Estoy de vacaciones hasta el lunes.",
        "Sono in ferie fino al 12 marzo.",
        "Ik ben afwezig tot en met 14 maart.",
        "Jag är på semester till 21 mars.",
    ],
)
def test_auto_header_with_absence_body_is_out_of_office(body: str) -> None:
    result = classify_bytes(mail("Auto-Submitted: auto-replied", subject="Re: Question", body=body + "\n"))
    assert result.cls is MessageClass.OUT_OF_OFFICE
    assert result.confidence == 0.9


def test_automatic_reply_prefix_over_a_receipt_is_an_acknowledgement() -> None:
    body = "Thank you for contacting Contoso. We have received your email and will respond within one day.\n"
    with_header = classify_bytes(
        mail("Auto-Submitted: auto-generated", subject="Automatic reply: Question", body=body)
    )
    assert with_header.cls is MessageClass.AUTO_ACK
    assert with_header.rule == "auto.rfc3834"
    without_header = classify_bytes(mail(subject="Automatic reply: Question", body=body))
    assert without_header.cls is MessageClass.AUTO_ACK
    assert without_header.rule == "ack.ticket_receipt"
    assert without_header.confidence == 0.7


@pytest.mark.parametrize(
    ("subject", "body", "ticket"),
    [
        ("Re: Question", "We have received your request. Ticket 12345.", "12345"),
        ("[#98765] Re: Question", "Thanks, we will be in touch.", "98765"),
        ("Case 00123456: received", "Thanks", "00123456"),
        ("[Ticket#2025030410000042] Eingangsbestätigung", "Danke", "2025030410000042"),
        ("Re: Question", "Your case number is CS-88231.", "CS-88231"),
        ("Re: Question", "Your request (4711) has been received.", "4711"),
    ],
)
def test_ticket_receipts_record_the_ticket_id(subject: str, body: str, ticket: str) -> None:
    result = classify_bytes(mail("Auto-Submitted: auto-replied", subject=subject, body=body + "\n"))
    assert result.cls is MessageClass.AUTO_ACK
    assert result.detail["ticket_id"] == ticket
    assert result.confidence == 0.95


@pytest.mark.parametrize(
    ("header", "confidence"),
    [
        ("Auto-Submitted: auto-replied", 0.9),
        ("X-Autoreply: yes", 0.9),
        ("Auto-Submitted: auto-generated", 0.8),
    ],
)
def test_auto_reply_without_any_marker_is_a_less_certain_ack(header: str, confidence: float) -> None:
    result = classify_bytes(mail(header, subject="Re: Question", body="Noted.\n"))
    assert result.cls is MessageClass.AUTO_ACK
    assert result.confidence == confidence


def test_rfc3464_unknown_action_falls_back_to_status_class() -> None:
    result = classify_bytes(dsn("Final-Recipient: rfc822; x@company.example\nAction: x-weird\nStatus: 5.1.1"))
    assert result.rule == "bounce.rfc3464"
    assert result.detail["dsn_action"] == "failed"
    assert result.confidence == 0.95


def test_read_receipt_is_automatic() -> None:
    raw = mail(
        "Content-Type: multipart/report; report-type=disposition-notification; boundary=r",
        subject="Read: Question",
        body="--r\r\nContent-Type: text/plain\r\n\r\nYour message was read.\r\n--r--\r\n",
    )
    result = classify_bytes(raw)
    assert result.cls is MessageClass.AUTO_ACK
    assert result.rule == "auto.mdn"


# ------------------------------------------------------------------------------- text-only acknowledgements


@pytest.mark.parametrize(
    ("headers", "subject", "body"),
    [
        ((), "Your request #88231", "This is an automated message. We have received your request."),
        (("From: Service <no-reply@company.example>",), "Re: Question", "We have received your request."),
        ((), "Ticket received: Question", "We have received your request and will answer soon."),
        ((), "Eingangsbestätigung", "Wir haben Ihre Anfrage erhalten."),
    ],
)
def test_text_only_ticket_receipt(headers: tuple[str, ...], subject: str, body: str) -> None:
    result = classify_bytes(mail(*headers, subject=subject, body=body + "\n"))
    assert result.cls is MessageClass.AUTO_ACK
    assert result.rule == "ack.ticket_receipt"
    assert 0.7 <= result.confidence <= 0.75


@pytest.mark.parametrize(
    "body",
    [
        "Thank you for contacting us. Your order shipped today.",
        "We have received your request and I have refunded the payment. Kind regards, Sam",
        "I was out of the office last week, sorry for the delay. Yes, we deliver on Saturdays.",
        "Hi,\n\nyes.\n\n> This is an automated message. We have received your request.",
    ],
)
def test_people_writing_receipt_or_absence_words_stay_human(body: str) -> None:
    result = classify_bytes(mail(subject="Re: [#12345] Question", body=body + "\n"))
    assert result.cls is MessageClass.HUMAN
    assert result.rule == "human.default"


@pytest.mark.parametrize(
    "subject",
    [
        "Re: Out of office hours support?",
        "RE: Absence policy",
        "AW: Abwesenheit im Urlaub",
        "Re: Automatic reply settings",
        "Fwd: vacation",
    ],
)
def test_reply_subjects_mentioning_absence_words_stay_human(subject: str) -> None:
    assert classify_bytes(mail(subject=subject)).cls is MessageClass.HUMAN


def test_human_default_shape() -> None:
    result = classify_bytes(mail(subject="Re: Question"))
    assert result == Classification(MessageClass.HUMAN, "human.default", 0.6, result.evidence, result.detail)
    assert dict(result.detail) == {}


# --------------------------------------------------------------------------------------------- robustness


def test_malformed_bytes_give_unknown() -> None:
    result = classify_bytes(b"not an email at all")
    assert result.cls is MessageClass.UNKNOWN
    assert result.rule == "malformed"
    assert result.confidence == 0.0


def test_internal_error_gives_unknown_and_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(parsed: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(classify_module.headers, "bounce", boom)
    result = classify_bytes(mail(subject="x"))
    assert result.cls is MessageClass.UNKNOWN
    assert result.rule == "error"
    assert "RuntimeError" in result.evidence
    assert "classifier failed" in caplog.text


def test_evidence_is_one_line_of_at_most_200_characters() -> None:
    result = classify_bytes(mail("Auto-Submitted: auto-replied;\r\n " + "x" * 500, subject="Re: Q"))
    assert len(result.evidence) <= 200
    assert "\n" not in result.evidence


def test_classification_detail_is_read_only() -> None:
    result = classify_email(parse_email(mail("Auto-Submitted: auto-replied", subject="[#123] Re: Q")))
    with pytest.raises(TypeError):
        result.detail["x"] = "y"  # type: ignore[index]


# --------------------------------------------------------------------------------------------- phrase helpers


def test_top_text_cuts_quoted_originals() -> None:
    text = "Answer here.\n\nOn Tue, 4 Mar 2025 at 10:15, Anna <a@b.c> wrote:\n> I am out of the office\n"
    assert phrases.top_text(text).strip() == "Answer here."
    outlook = "Antwort.\n\nVon: Anna\nGesendet: Dienstag\nAn: x\nBetreff: y\n\nnicht im Büro"
    assert phrases.top_text(outlook).strip() == "Antwort."
    assert "quoted" not in phrases.top_text("top\n> quoted\nmore")


@pytest.mark.parametrize(
    ("status_text", "code"),
    [
        ("550 5.1.1 <x>: User unknown", "5.1.1"),
        ("Sorry (#5.1.1)", "5.1.1"),
        ("host said: 554 rejected", "554"),
        ("from 192.0.2.25", None),
    ],
)
def test_smtp_status_extraction(status_text: str, code: str | None) -> None:
    assert phrases.smtp_status(status_text) == code


def test_the_sandbox_dsn_is_a_final_hard_bounce() -> None:
    from datetime import UTC, datetime

    from replybench.sandbox import dsn as sandbox_dsn

    now = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
    report = sandbox_dsn.build_dsn(
        domain="company.example",
        original_headers=f"From: {ANNA}\nSubject: Question\n",
        recipient="support@company.example",
        return_to=ANNA,
        arrival=now,
        now=now,
    )
    result = classify_bytes(sandbox_dsn.dsn_bytes(report))
    assert result.rule == "bounce.rfc3464"
    assert result.detail["final_recipient"] == "support@company.example"
    assert is_final_bounce(result)
