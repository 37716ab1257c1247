"""Every message of the corpus in tests/resources/emails gets its expected class, rule and key details.

File names are ``<expected-class>__<what>.eml``; the table below adds the expected rule (matched as a dotted
prefix) and detail fields that must be present with the given values.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from replybench.classify import classify_bytes, is_final_bounce
from replybench.mailparse import MalformedEmail, parse_email
from replybench.models import MessageClass

EMAILS = Path(__file__).resolve().parents[1] / "resources" / "emails"

HARD = {"dsn_action": "failed", "hard": "true", "final": "true"}
DELAYED = {"dsn_action": "delayed", "hard": "false", "final": "false"}

EXPECTED: dict[str, tuple[str, dict[str, str]]] = {
    # bounces
    "bounce__postfix_user_unknown.eml": (
        "bounce.rfc3464",
        {**HARD, "dsn_status": "5.1.1", "final_recipient": "support@acme-shop.example"},
    ),
    "bounce__gmail_dsn_no_such_user.eml": (
        "bounce.rfc3464",
        {**HARD, "dsn_status": "5.1.1", "final_recipient": "info@bakery-mueller.example"},
    ),
    "bounce__exchange_online_ndr.eml": ("bounce.rfc3464", {**HARD, "dsn_status": "5.1.10"}),
    "bounce__exchange_onprem_german_html.eml": ("bounce.rfc3464", {**HARD, "dsn_status": "5.2.2"}),
    "bounce__sendmail_gave_up_after_retries.eml": (
        "bounce.rfc3464",
        {"dsn_action": "failed", "dsn_status": "4.4.7", "hard": "false", "final": "true"},
    ),
    "bounce__postfix_delayed_dsn.eml": ("bounce.rfc3464.delayed", {**DELAYED, "dsn_status": "4.4.1"}),
    "bounce__exim_mail_delivery_failed.eml": (
        "bounce.x_failed_recipients",
        {**HARD, "dsn_status": "5.2.1", "final_recipient": "kontakt@moebel-schmidt.example"},
    ),
    "bounce__qmail_failure_notice.eml": ("bounce.mailer_daemon", {**HARD, "dsn_status": "5.1.1"}),
    "bounce__domino_delivery_failure_latin1.eml": ("bounce.mailer_daemon", {**HARD, "dsn_status": "5.1.1"}),
    "bounce__exim_warning_delayed.eml": ("bounce.mailer_daemon.delayed", {**DELAYED, "dsn_status": "4.7.1"}),
    # acknowledgements
    "auto_ack__zendesk_request_received.eml": ("auto.rfc3834", {"ticket_id": "12345"}),
    "auto_ack__freshdesk_ticket_received_html.eml": ("auto.rfc3834", {"ticket_id": "4521"}),
    "auto_ack__otrs_eingangsbestaetigung_latin1.eml": ("auto.rfc3834", {"ticket_id": "2025030410000042"}),
    "auto_ack__salesforce_case_created.eml": ("auto.rfc3834", {"ticket_id": "00123456"}),
    "auto_ack__exchange_shared_mailbox_automatic_reply.eml": ("auto.rfc3834", {}),
    "auto_ack__cpanel_x_autorespond.eml": ("auto.x_autoreply", {"auto_header": "X-Autorespond"}),
    "auto_ack__precedence_auto_reply.eml": ("auto.precedence", {"precedence": "auto_reply"}),
    "auto_ack__outlook_read_receipt_mdn.eml": ("auto.mdn", {}),
    "auto_ack__text_only_noreply_ticket_receipt.eml": ("ack.ticket_receipt", {"ticket_id": "88231"}),
    "auto_ack__generic_subject_receipt_no_headers.eml": ("ack.ticket_receipt", {}),
    # absences
    "out_of_office__exchange_english.eml": ("auto.rfc3834", {}),
    "out_of_office__exchange_german_automatische_antwort.eml": (
        "auto.rfc3834",
        {"ooo_marker": "nicht im Büro"},
    ),
    "out_of_office__gmail_vacation_responder.eml": ("auto.rfc3834", {}),
    "out_of_office__zimbra_french.eml": ("auto.rfc3834", {"auto_submitted": "auto-replied"}),
    "out_of_office__swedish_autosvar.eml": ("auto.rfc3834", {}),
    "out_of_office__dutch_afwezig.eml": ("auto.rfc3834", {}),
    "out_of_office__italian_x_autoreply.eml": ("auto.x_autoreply", {}),
    "out_of_office__outlook_abwesenheitsnotiz_legacy.eml": (
        "ooo.subject",
        {"ooo_marker": "Abwesenheitsnotiz"},
    ),
    "out_of_office__spanish_subject_only.eml": ("ooo.subject", {}),
    "out_of_office__exchange_subject_only_weak_headers.eml": ("ooo.subject", {}),
    # people (several sent through help desks with Precedence: bulk and List-* headers)
    "human__zendesk_agent_reply_bulk_list_headers.eml": ("human.default", {"ticket_id": "12345"}),
    "human__freshdesk_agent_reply_html_only.eml": ("human.default", {"ticket_id": "4521"}),
    "human__agent_reply_quoting_auto_ack.eml": ("human.default", {"ticket_id": "12345"}),
    "human__gmail_plain_reply_quoting_probe.eml": ("human.default", {}),
    "human__outlook_reply_windows1252_qp.eml": ("human.default", {}),
    "human__iso2022jp_reply.eml": ("human.default", {}),
    "human__raw_8bit_latin1_headers.eml": ("human.default", {}),
    "human__unknown_charset_no_date.eml": ("human.default", {}),
    "human__reply_subject_mentions_out_of_office.eml": ("human.default", {}),
    "human__broken_mime_no_boundary.eml": ("human.default", {}),
    # not an email at all
    "unknown__malformed_imap_protocol_line.eml": ("malformed", {}),
    "unknown__malformed_empty_file.eml": ("malformed", {}),
}

RULE_RE = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*$")


def _expected_class(name: str) -> MessageClass:
    return MessageClass(name.split("__", 1)[0])


def test_corpus_matches_the_table() -> None:
    on_disk = {p.name for p in EMAILS.glob("*.eml")}
    assert on_disk == set(EXPECTED)
    assert len(on_disk) >= 24
    classes = {_expected_class(n) for n in on_disk}
    assert {
        MessageClass.BOUNCE,
        MessageClass.AUTO_ACK,
        MessageClass.OUT_OF_OFFICE,
        MessageClass.HUMAN,
    } <= classes


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message_is_classified_as_named(name: str) -> None:
    rule, detail = EXPECTED[name]
    result = classify_bytes((EMAILS / name).read_bytes())

    assert result.cls is _expected_class(name), result
    assert result.rule == rule or result.rule.startswith(rule + "."), result
    assert RULE_RE.match(result.rule)
    for key, value in detail.items():
        assert result.detail.get(key) == value, (key, result)
    assert 0.0 <= result.confidence <= 1.0
    assert result.evidence
    assert len(result.evidence) <= 200
    assert "\n" not in result.evidence


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if n.startswith("bounce__")))
def test_only_given_up_deliveries_are_final_bounces(name: str) -> None:
    result = classify_bytes((EMAILS / name).read_bytes())
    assert is_final_bounce(result) is (".delayed" not in result.rule)


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if not n.startswith("unknown__")))
def test_corpus_message_parses_to_clean_text(name: str) -> None:
    parsed = parse_email((EMAILS / name).read_bytes())
    assert parsed.from_addr
    assert "@" in parsed.from_addr
    assert "anna+k3m9x2p7qrtv@probe.replybench.example" in parsed.recipients
    assert parsed.subject
    assert parsed.text
    for value in (parsed.subject, parsed.text, *[v for vs in parsed.headers.values() for v in vs]):
        value.encode("utf-8")  # no lone surrogates anywhere


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if n.startswith("unknown__")))
def test_malformed_corpus_message_raises_malformed(name: str) -> None:
    with pytest.raises(MalformedEmail):
        parse_email((EMAILS / name).read_bytes())
