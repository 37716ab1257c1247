"""parse_email: field by field, on small hand-made messages, including broken ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from replybench.mailparse import MalformedEmail, ParsedEmail, html_to_text, parse_email


def msg(*header_lines: str, body: str = "Hello.\n", charset_body: bytes | None = None) -> bytes:
    head = "\r\n".join(header_lines).encode("utf-8")
    return head + b"\r\n\r\n" + (charset_body if charset_body is not None else body.encode("utf-8"))


def test_basic_fields_are_normalised() -> None:
    parsed = parse_email(
        msg(
            'From: "Support, Acme" <Support@Acme-Shop.Example>',
            "To: Anna <ANNA+K3M9X2P7QRTV@probe.example>, bob@example.com",
            "Cc: carol@example.com",
            "Delivered-To: anna+k3m9x2p7qrtv@probe.example",
            "X-Original-To: orig@probe.example",
            "Envelope-To: env@probe.example",
            "Message-ID:   <abc.123@acme-shop.example>  ",
            "In-Reply-To: <rb.k3m9x2p7qrtv.aa@probe.example>",
            "References: <one@x>\r\n <two@y>\r\n\t<three@z>",
            "Subject: Re: Your order",
            "Date: Tue, 04 Mar 2025 10:15:32 +0100",
            "Return-Path: <Bounces@Acme-Shop.Example>",
        )
    )
    assert parsed.from_addr == "support@acme-shop.example"
    assert parsed.from_name == "Support, Acme"
    assert parsed.message_id == "<abc.123@acme-shop.example>"
    assert parsed.in_reply_to == ("<rb.k3m9x2p7qrtv.aa@probe.example>",)
    assert parsed.references == ("<one@x>", "<two@y>", "<three@z>")
    assert parsed.recipients == (
        "anna+k3m9x2p7qrtv@probe.example",
        "bob@example.com",
        "carol@example.com",
        "orig@probe.example",
        "env@probe.example",
    )
    assert parsed.subject == "Re: Your order"
    assert parsed.date == datetime(2025, 3, 4, 9, 15, 32, tzinfo=UTC)
    assert parsed.date is not None
    assert parsed.date.utcoffset() == timedelta(hours=1)
    assert parsed.return_path == "bounces@acme-shop.example"
    assert parsed.text == "Hello."
    assert parsed.content_type == "text/plain"
    assert parsed.report_type is None
    assert parsed.dsn == ()
    assert parsed.header("SUBJECT") == "Re: Your order"
    assert parsed.header("x-missing") is None


def test_headers_keep_every_value_in_order_under_lower_case_names() -> None:
    parsed = parse_email(
        msg("Received: first", "Received: second", "X-Thing: =?utf-8?q?caf=C3=A9?=", "From: a@b.c")
    )
    assert parsed.headers["received"] == ("first", "second")
    assert parsed.headers["x-thing"] == ("café",)
    with pytest.raises(TypeError):
        parsed.headers["new"] = ("x",)  # type: ignore[index]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<>", ""),
        ("  <>  ", ""),
        ("<MAILER-DAEMON>", "mailer-daemon"),
        ("<@relay.example:User@Host.Example>", "user@host.example"),
    ],
)
def test_return_path_null_sender_and_source_routes(value: str, expected: str) -> None:
    assert parse_email(msg("From: x@y.z", f"Return-Path: {value}")).return_path == expected


def test_return_path_absent_is_none() -> None:
    assert parse_email(msg("From: x@y.z")).return_path is None


def test_bare_message_id_gets_angle_brackets_and_junk_gives_none() -> None:
    assert parse_email(msg("From: a@b.c", "Message-ID: bare@id.example")).message_id == "<bare@id.example>"
    assert parse_email(msg("From: a@b.c", "Message-ID: nonsense")).message_id is None
    assert parse_email(msg("From: a@b.c")).message_id is None


def test_rfc2047_subject_and_display_name_are_decoded() -> None:
    parsed = parse_email(
        msg(
            "From: =?iso-8859-1?Q?J=F6rg_M=FCller?= <j@x.example>",
            "Subject: =?utf-8?B?QXV0b21hdGlzY2hlIEFudHdvcnQ6IEZyYWdl?= =?utf-8?Q?_f=C3=BCr_Sie?=",
        )
    )
    assert parsed.from_name == "Jörg Müller"
    assert parsed.subject == "Automatische Antwort: Frage für Sie"


def test_raw_utf8_and_latin1_headers_are_recovered_and_reported() -> None:
    utf8 = parse_email("From: a@b.c\r\nSubject: Grüße aus Köln\r\n\r\nx".encode())
    assert utf8.subject == "Grüße aus Köln"
    latin1 = parse_email("From: a@b.c\r\nSubject: Grüße aus Köln\r\n\r\nx".encode("latin-1"))
    assert latin1.subject == "Grüße aus Köln"
    assert "UndecodableBytesDefect" in latin1.defects


def test_unknown_charset_in_encoded_word_never_leaves_surrogates() -> None:
    parsed = parse_email(msg("From: a@b.c", "Subject: =?x-nonsense?Q?caf=E9?="))
    parsed.subject.encode("utf-8")
    assert parsed.subject.startswith("caf")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 04 Mar 2025 10:15:32 -0000", datetime(2025, 3, 4, 10, 15, 32, tzinfo=UTC)),
        ("4 Mar 2025 10:15:32 GMT", datetime(2025, 3, 4, 10, 15, 32, tzinfo=UTC)),
        (
            "Tue, 4 Mar 2025 10:15:32 -0800 (PST)",
            datetime(2025, 3, 4, 10, 15, 32, tzinfo=timezone(timedelta(hours=-8))),
        ),
    ],
)
def test_dates_are_aware(value: str, expected: datetime) -> None:
    parsed = parse_email(msg("From: a@b.c", f"Date: {value}"))
    assert parsed.date == expected
    assert parsed.date is not None
    assert parsed.date.tzinfo is not None


@pytest.mark.parametrize("value", ["garbage", "Tue, 99 Foo 2025", "", "Mon, 1 Jan 99999 00:00:00 +0000"])
def test_bad_or_missing_date_is_none_not_an_error(value: str) -> None:
    assert parse_email(msg("From: a@b.c", f"Date: {value}")).date is None
    assert parse_email(msg("From: a@b.c")).date is None


def test_text_plain_is_preferred_over_html() -> None:
    raw = msg(
        "From: a@b.c",
        "MIME-Version: 1.0",
        'Content-Type: multipart/alternative; boundary="b"',
        body=(
            "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>HTML version</p>\r\n"
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlain version\r\n--b--\r\n"
        ),
    )
    assert parse_email(raw).text == "Plain version"


def test_html_only_body_is_converted_without_script_and_style() -> None:
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<script>alert('x')</script><p>Hello&nbsp;Anna,</p><p>line&amp;two<br>three</p></body></html>"
    )
    raw = msg("From: a@b.c", "Content-Type: text/html; charset=utf-8", body=html)
    text = parse_email(raw).text
    assert text == "Hello Anna,\n\nline&two\nthree"
    assert "alert" not in text
    assert "color" not in text


def test_html_to_text_survives_broken_markup() -> None:
    assert html_to_text("<p>unclosed <b>bold <![if !mso]> <!-- comment").startswith("unclosed bold")
    assert html_to_text("") == ""


def test_attachments_and_attached_messages_are_not_the_body() -> None:
    raw = msg(
        "From: a@b.c",
        'Content-Type: multipart/mixed; boundary="m"',
        body=(
            "--m\r\nContent-Type: text/plain; name=notes.txt\r\n"
            "Content-Disposition: attachment; filename=notes.txt\r\n\r\n"
            "attached notes\r\n"
            "--m\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y.z\r\nSubject: inner\r\n\r\ninner body\r\n"
            "--m\r\nContent-Type: text/html\r\n\r\n<p>the real body</p>\r\n--m--\r\n"
        ),
    )
    assert parse_email(raw).text == "the real body"


@pytest.mark.parametrize("charset", ["x-unknown", "base64", "zlib", "idna", "utf-7", ""])
def test_body_with_odd_charsets_decodes_without_error(charset: str) -> None:
    raw = msg(
        "From: a@b.c",
        f'Content-Type: text/plain; charset="{charset}"',
        charset_body="Grüße €".encode("cp1252"),
    )
    text = parse_email(raw).text
    text.encode("utf-8")
    assert text.startswith("Gr")


def test_lying_charset_replaces_bad_bytes() -> None:
    raw = msg("From: a@b.c", "Content-Type: text/plain; charset=utf-8", charset_body=b"caf\xe9 ok")
    assert parse_email(raw).text == "caf\ufffd ok"


def test_rfc2231_charset_parameter() -> None:
    raw = msg(
        "From: a@b.c", "Content-Type: text/plain; charset*=us-ascii''iso-8859-1", charset_body=b"caf\xe9"
    )
    assert parse_email(raw).text == "café"


def test_base64_and_quoted_printable_bodies() -> None:
    b64 = msg(
        "From: a@b.c",
        "Content-Transfer-Encoding: base64",
        "Content-Type: text/plain; charset=utf-8",
        body="R3LDvMOfZQ==",
    )
    assert parse_email(b64).text == "Grüße"
    qp = msg("From: a@b.c", "Content-Transfer-Encoding: quoted-printable", body="soft=\r\nbreak =C3=A9")
    assert parse_email(qp).text == "softbreak é"
    broken = msg("From: a@b.c", "Content-Transfer-Encoding: base64", body="!!!not base64***")
    parse_email(broken)  # no exception; whatever text is recoverable


def test_delivery_status_fields() -> None:
    raw = msg(
        "From: MAILER-DAEMON@mx.example",
        "Content-Type: multipart/report; report-type=Delivery-Status; boundary=r",
        body=(
            "--r\r\nContent-Type: text/plain\r\n\r\nIt failed.\r\n"
            "--r\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.example\r\n\r\n"
            "Final-Recipient: rfc822; a@x.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            "Diagnostic-Code: smtp; 550 5.1.1 no such\r\n user here\r\n\r\n"
            "Final-Recipient: rfc822; b@x.example\r\nAction: delayed\r\nStatus: 4.4.1\r\n\r\n"
            "--r--\r\n"
        ),
    )
    parsed = parse_email(raw)
    assert parsed.content_type == "multipart/report"
    assert parsed.report_type == "delivery-status"
    assert parsed.text == "It failed."
    assert [dict(b) for b in parsed.dsn] == [
        {"reporting-mta": "dns; mx.example"},
        {
            "final-recipient": "rfc822; a@x.example",
            "action": "failed",
            "status": "5.1.1",
            "diagnostic-code": "smtp; 550 5.1.1 no such user here",
        },
        {"final-recipient": "rfc822; b@x.example", "action": "delayed", "status": "4.4.1"},
    ]


def test_global_delivery_status_is_parsed_from_text() -> None:
    raw = msg(
        "From: MAILER-DAEMON@mx.example",
        "Content-Type: multipart/report; report-type=global-delivery-status; boundary=r",
        body=(
            "--r\r\nContent-Type: text/plain\r\n\r\nIt failed.\r\n"
            "--r\r\nContent-Type: message/global-delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.example\r\n\r\n"
            "Final-Recipient: utf-8; jörg@x.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--r--\r\n"
        ),
    )
    parsed = parse_email(raw)
    assert parsed.report_type == "global-delivery-status"
    assert parsed.dsn[1]["final-recipient"] == "utf-8; jörg@x.example"
    assert parsed.dsn[1]["action"] == "failed"


def test_broken_mime_is_reported_as_defects_with_text_kept() -> None:
    raw = msg("From: a@b.c", "Content-Type: multipart/mixed", body="Just text, no boundary.\r\n")
    parsed = parse_email(raw)
    assert "NoBoundaryInMultipartDefect" in parsed.defects
    assert parsed.text == "Just text, no boundary."


def test_missing_closing_boundary_is_a_defect() -> None:
    raw = msg(
        "From: a@b.c",
        'Content-Type: multipart/mixed; boundary="z"',
        body="--z\r\nContent-Type: text/plain\r\n\r\nbody\r\n",
    )
    parsed = parse_email(raw)
    assert parsed.text == "body"
    assert "CloseBoundaryNotFoundDefect" in parsed.defects


@pytest.mark.parametrize(
    "raw", [b"", b"\r\n\r\n", b"just a line of text\n", b"\x89PNG\r\n\x1a\n\x00\x00", b"   \n"]
)
def test_bytes_without_headers_are_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedEmail):
        parse_email(raw)


def test_non_bytes_are_malformed() -> None:
    with pytest.raises(MalformedEmail):
        parse_email("From: a@b.c\n\nx")  # type: ignore[arg-type]


def test_bytearray_and_memoryview_are_accepted() -> None:
    raw = msg("From: a@b.c", "Subject: s")
    assert parse_email(bytearray(raw)).subject == "s"
    assert parse_email(memoryview(raw)).subject == "s"


def test_parsed_email_is_frozen() -> None:
    parsed = parse_email(msg("From: a@b.c"))
    assert isinstance(parsed, ParsedEmail)
    with pytest.raises(AttributeError):
        parsed.subject = "x"  # type: ignore[misc]


def test_deeply_nested_multiparts_do_not_blow_the_stack() -> None:
    depth = 300
    head = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth))
    raw = b"From: a@b.c\r\n" + head.encode() + b"Content-Type: text/plain\r\n\r\ndeep\r\n"
    try:
        parsed = parse_email(raw)
    except MalformedEmail:
        return  # acceptable: too deep to be usable
    assert parsed.text in ("deep", "")


def test_huge_header_value_is_handled() -> None:
    raw = msg(
        "From: a@b.c",
        "To: " + ", ".join(f"user{i}@example.com" for i in range(3000)),
        "Subject: " + "x" * 20000,
    )
    parsed = parse_email(raw)
    assert len(parsed.recipients) == 3000
    assert parsed.subject == "x" * 20000
