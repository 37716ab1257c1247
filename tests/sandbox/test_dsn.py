"""DSN construction on its own: structure, fields, and the original's headers kept verbatim."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

from replybench.sandbox.dsn import build_dsn, dsn_bytes, header_block


def test_header_block_is_the_header_section_only():
    raw = b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: <rb.x@p>\r\n\r\nbody\r\n\r\nmore\r\n"
    assert header_block(raw) == "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\nMessage-ID: <rb.x@p>\n"


def test_dsn_is_a_parseable_multipart_report():
    arrival = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
    dsn = build_dsn(
        domain="acme.example",
        original_headers="Message-ID: <rb.abc@probe.example>\nSubject: Hi\n",
        recipient="nobody@acme.example",
        return_to="anna+tok@probe.example",
        arrival=arrival,
        now=arrival,
        message_id="<fixed@mx.acme.example>",
    )
    parsed = message_from_bytes(dsn_bytes(dsn), policy=policy.default)
    assert b"\r\n" in dsn_bytes(dsn)
    assert parsed["Message-ID"] == "<fixed@mx.acme.example>"
    assert parsed["To"] == "anna+tok@probe.example"
    assert parsed.get_content_type() == "multipart/report"
    assert parsed.get_param("report-type") == "delivery-status"
    parts = [p.get_content_type() for p in parsed.iter_parts()]
    assert parts == ["text/plain", "message/delivery-status", "text/rfc822-headers"]
    per_message, per_recipient = list(parsed.iter_parts())[1].get_payload()
    assert per_message["Arrival-Date"] == "Mon, 23 Nov 2026 10:00:00 +0000"
    assert per_recipient["Action"] == "failed"
    assert per_recipient["Status"] == "5.1.1"
    assert "nobody@acme.example" in per_recipient["Final-Recipient"]
    headers = list(parsed.iter_parts())[2]
    assert headers.get_content().replace("\r\n", "\n") == "Message-ID: <rb.abc@probe.example>\nSubject: Hi\n"
    assert headers["Content-Transfer-Encoding"] == "7bit"
