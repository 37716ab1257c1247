"""parse_email: field by field, on small hand-made messages, including broken ones."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from replybench import mailparse
from replybench.mailparse import (
    LIMIT_DEPTH,
    LIMIT_HEADER,
    LIMIT_HEADER_BLOCK,
    LIMIT_HEADERS,
    LIMIT_HTML,
    LIMIT_MIME_HEADER,
    LIMIT_MIME_LINES,
    LIMIT_PARTS,
    LIMIT_SIZE,
    MAX_BODY_BYTES,
    MAX_HEADER_BLOCK_BYTES,
    MAX_HEADER_BYTES,
    MAX_HEADERS,
    MAX_HTML_CHARS,
    MAX_MIME_DEPTH,
    MAX_MIME_LINES,
    MAX_PARTS,
    MalformedEmail,
    ParsedEmail,
    html_to_text,
    parse_email,
)

EMAILS = Path(__file__).resolve().parents[1] / "resources" / "emails"


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


def test_huge_header_value_is_handled() -> None:
    raw = msg(
        "From: a@b.c",
        "To: " + ", ".join(f"user{i}@example.com" for i in range(3000)),
        "Subject: " + "x" * 20000,
    )
    parsed = parse_email(raw)
    assert len(parsed.recipients) == 3000
    assert parsed.subject == "x" * 20000


def test_a_header_field_ends_at_a_lone_cr_and_a_body_without_separator_is_kept() -> None:
    parsed = parse_email(b"From: a@b.c\rSubject: s\r\rbody\r")
    assert (parsed.subject, parsed.text) == ("s", "body")
    glued = parse_email(b"From: a@b.c\r\nSubject: s\r\nno empty line before this\r\nsecond line\r\n")
    assert glued.text == "no empty line before this\nsecond line"
    assert "MissingHeaderBodySeparatorDefect" in glued.defects
    assert glued.limits == ()


def test_html_to_text_reads_markup_like_html_parser() -> None:
    html = (
        "<!DOCTYPE html><html><head><title>T</title></head><body>"
        "<!--[if gte mso 9]><xml><o:x>hidden</o:x></xml><![endif]--><![if !mso]><p>shown</p><![endif]>"
        "<script>if (a<b) { x('</p>'); }</script><STYLE>p > a {}</STYLE >"
        "<p class='a'>one<br/>two<br>three</p><img src=x/><![CDATA[ cdata ]]>"
        "<div>1 < 2 &amp; 3 &gt; 2</div><?php echo 1 ?></body></html>"
    )
    assert html_to_text(html) == "shown\n\none\ntwo\nthree\n\n1 < 2 & 3 > 2"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("unit", ["<a ", "<a x=", "<!--", "</", "<?", "<![if ", "<![CDATA[", "<script>", "<"])
def test_html_to_text_is_linear_on_unclosed_markup(unit: str) -> None:
    # html.parser needs seconds for 20 KB of "<a " (it rescans the rest for every '<'); this is 1 MB.
    html = "<p>top</p>" + unit * (1_000_000 // len(unit))
    text = html_to_text(html)
    assert text.startswith("top")


# --------------------------------------------------------------------------------------------- limits


def clean(parsed: ParsedEmail) -> ParsedEmail:
    """Every string is valid Unicode; returns ``parsed`` for chaining."""
    strings = [parsed.subject, parsed.text, parsed.content_type, *parsed.recipients, *parsed.defects]
    strings += [v for values in parsed.headers.values() for v in values]
    strings += [s for s in (parsed.message_id, parsed.from_addr, parsed.from_name, parsed.return_path) if s]
    for value in strings:
        value.encode("utf-8")
    return parsed


def nested_multipart(depth: int, text: str = "deep") -> bytes:
    """A multipart ``depth`` levels deep around one text part (which sits ``depth`` levels down)."""
    head = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth))
    return (
        b"From: a@b.c\r\nSubject: deep\r\n"
        + head.encode()
        + f"Content-Type: text/plain\r\n\r\n{text}\r\n".encode()
    )


@pytest.mark.parametrize("path", sorted(EMAILS.glob("*.eml")), ids=lambda p: p.name)
def test_no_limit_cuts_an_ordinary_message(path: Path) -> None:
    with contextlib.suppress(MalformedEmail):
        assert parse_email(path.read_bytes()).limits == ()


def test_limit_names_are_the_documented_ones() -> None:
    assert (LIMIT_SIZE, LIMIT_HEADER, LIMIT_HEADERS, LIMIT_HEADER_BLOCK) == (
        "size>10MB",
        "header>64KB",
        "headers>1000",
        "headers>256KB",
    )
    assert (LIMIT_DEPTH, LIMIT_PARTS, LIMIT_MIME_LINES, LIMIT_MIME_HEADER, LIMIT_HTML) == (
        "depth>50",
        "parts>2000",
        "mime-lines>500k",
        "mime-header>1KB",
        "html>1MB",
    )
    documented = re.findall(r'``"([^"`]+)"``', mailparse.__doc__ or "")
    assert set(documented) == {getattr(mailparse, n) for n in mailparse.__all__ if n.startswith("LIMIT_")}


@pytest.mark.timeout(20)
def test_body_over_the_size_limit_is_cut_at_a_line_end() -> None:
    line = b"Thanks for your question, we ship on Saturdays.\r\n"  # 49 bytes
    raw = b"From: a@b.c\r\nSubject: big\r\n\r\n" + line * (12 * 1024 * 1024 // len(line))
    parsed = clean(parse_email(raw))
    assert parsed.limits == (LIMIT_SIZE,)
    assert parsed.subject == "big"
    assert parsed.text.startswith("Thanks for your question")
    assert parsed.text.endswith("Saturdays.")  # whole lines only
    assert MAX_BODY_BYTES - 2 * len(line) < len(parsed.text) + parsed.text.count("\n") <= MAX_BODY_BYTES


@pytest.mark.timeout(20)
def test_body_of_exactly_the_size_limit_is_not_cut() -> None:
    raw = b"From: a@b.c\r\n\r\n" + b"x" * (MAX_BODY_BYTES - 1) + b"\n"
    parsed = parse_email(raw)
    assert parsed.limits == ()
    assert len(parsed.text) == MAX_BODY_BYTES - 1


@pytest.mark.timeout(20)
def test_huge_mime_message_is_cut_and_keeps_its_first_parts() -> None:
    attachment = b"QUJD" * 19 + b"\r\n"  # base64 lines of 78 bytes
    raw = (
        b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\n"
        b"the reply\r\n--m\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + attachment * (11 * 1024 * 1024 // len(attachment))
        + b"--m--\r\n"
    )
    parsed = clean(parse_email(raw))
    assert parsed.limits == (LIMIT_SIZE,)
    assert parsed.text == "the reply"
    assert parsed.content_type == "multipart/mixed"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("value", ["word " * 400_000, "x" * 2_000_000, "=?utf-8?b?w6lzdMOp?= " * 100_000])
def test_huge_header_field_is_cut_to_the_field_limit(value: str) -> None:
    raw = f"From: a@b.c\r\nSubject: {value}\r\nTo: ann@probe.example\r\n\r\nbody".encode()
    parsed = clean(parse_email(raw))
    assert LIMIT_HEADER in parsed.limits
    assert parsed.from_addr == "a@b.c"
    assert parsed.recipients == ("ann@probe.example",)
    assert parsed.text == "body"
    assert 1000 < len(parsed.subject) <= MAX_HEADER_BYTES
    assert parsed.subject[:5] in ("word ", "xxxxx", "éstéé")


@pytest.mark.timeout(20)
def test_folded_header_field_of_many_lines_is_cut_too() -> None:
    raw = b"From: a@b.c\r\nReferences: <first@x>\r\n" + b" <more@x>\r\n" * 200_000 + b"Subject: s\r\n\r\nbody"
    parsed = clean(parse_email(raw))
    assert LIMIT_HEADER in parsed.limits
    assert parsed.references[0] == "<first@x>"
    assert (parsed.subject, parsed.text) == ("s", "body")


def test_header_field_of_exactly_the_limit_is_not_cut() -> None:
    field = b"Subject: " + b"x" * (MAX_HEADER_BYTES - len(b"Subject: ") - 2) + b"\r\n"
    assert len(field) == MAX_HEADER_BYTES
    parsed = parse_email(b"From: a@b.c\r\n" + field + b"\r\nbody")
    assert parsed.limits == ()
    assert len(parsed.subject) == MAX_HEADER_BYTES - len(b"Subject: ") - 2


@pytest.mark.timeout(20)
def test_too_many_header_fields_keep_the_first_and_the_last() -> None:
    trace = b"".join(
        b"Received: from relay%d.example by mx.example; Tue, 4 Mar 2025 10:15:32 +0100\r\n" % i
        for i in range(100_000)
    )
    raw = (
        trace
        + b"From: Support <help@acme.example>\r\nTo: ann@probe.example\r\nSubject: Re: order\r\n\r\nbody"
    )
    parsed = clean(parse_email(raw))
    assert LIMIT_HEADERS in parsed.limits
    assert (parsed.from_addr, parsed.subject, parsed.text) == ("help@acme.example", "Re: order", "body")
    received = parsed.headers["received"]
    assert len(received) == MAX_HEADERS - 3
    assert received[0].startswith("from relay0.example")
    assert received[-1].startswith("from relay99999.example")
    assert sum(len(v) for values in parsed.headers.values() for v in values) <= MAX_HEADER_BLOCK_BYTES


def test_exactly_the_header_field_limit_is_not_cut() -> None:
    raw = b"X-Trace: t\r\n" * (MAX_HEADERS - 1) + b"From: a@b.c\r\n\r\nbody"
    parsed = parse_email(raw)
    assert parsed.limits == ()
    assert len(parsed.headers["x-trace"]) == MAX_HEADERS - 1


@pytest.mark.timeout(20)
def test_header_block_over_its_size_limit_keeps_both_ends() -> None:
    fields = [b"X-Big-%d: " % i + b"v" * 2000 + b"\r\n" for i in range(400)]  # 400 fields, 800 KB
    raw = b"Subject: first\r\n" + b"".join(fields) + b"From: last@acme.example\r\n\r\nbody"
    parsed = clean(parse_email(raw))
    assert parsed.limits == (LIMIT_HEADER_BLOCK,)
    assert (parsed.subject, parsed.from_addr, parsed.text) == ("first", "last@acme.example", "body")
    kept = [name for name in parsed.headers if name.startswith("x-big-")]
    assert MAX_HEADER_BLOCK_BYTES // 2100 < len(kept) <= MAX_HEADER_BLOCK_BYTES // 2000
    assert kept[0] == "x-big-0" and kept[-1] == "x-big-399"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("depth", [MAX_MIME_DEPTH + 1, 900, 10_000])
def test_nesting_beyond_the_depth_limit_keeps_headers_and_stops_there(depth: int) -> None:
    parsed = clean(parse_email(nested_multipart(depth)))
    assert parsed.limits == (LIMIT_DEPTH,)
    assert (parsed.from_addr, parsed.subject, parsed.content_type) == ("a@b.c", "deep", "multipart/mixed")
    assert parsed.text == ""  # the text part is out of reach


def test_nesting_down_to_the_depth_limit_is_parsed_whole() -> None:
    parsed = parse_email(nested_multipart(MAX_MIME_DEPTH))
    assert parsed.limits == ()
    assert parsed.text == "deep"


@pytest.mark.timeout(20)
def test_message_rfc822_nested_beyond_the_depth_limit() -> None:
    raw = (
        b"From: a@b.c\r\nSubject: s\r\n"
        + b"Content-Type: message/rfc822\r\n\r\n" * 10_000
        + b"From: x@y\r\n\r\nx"
    )
    parsed = clean(parse_email(raw))
    assert parsed.limits == (LIMIT_DEPTH,)
    assert (parsed.from_addr, parsed.subject, parsed.content_type) == ("a@b.c", "s", "message/rfc822")


def _subtree(depth: int, level: int = 0) -> str:
    if level == depth:
        return "Content-Type: text/plain\r\n\r\ntoo deep to read\r\n"
    inner = _subtree(depth, level + 1)
    return f"Content-Type: multipart/mixed; boundary=d{level}\r\n\r\n--d{level}\r\n{inner}--d{level}--\r\n"


@pytest.mark.timeout(20)
def test_parts_after_a_too_deep_subtree_are_still_read() -> None:
    raw = (
        "From: a@b.c\r\nContent-Type: multipart/mixed; boundary=top\r\n\r\n"
        f"--top\r\n{_subtree(MAX_MIME_DEPTH + 10)}\r\n"
        "--top\r\nContent-Type: text/plain\r\n\r\nthe reply\r\n--top--\r\n"
    ).encode()
    parsed = clean(parse_email(raw))
    assert parsed.limits == (LIMIT_DEPTH,)
    assert parsed.text == "the reply"


@pytest.mark.timeout(20)
def test_parts_beyond_the_part_limit_are_not_read() -> None:
    parts = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n" for i in range(MAX_PARTS + 1000))
    raw = f"From: a@b.c\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n{parts}--b--\r\n"
    parsed = clean(parse_email(raw.encode()))
    assert parsed.limits == (LIMIT_PARTS,)
    assert (parsed.subject, parsed.text) == ("s", "part 0")


def test_parts_up_to_the_part_limit_are_all_read() -> None:
    parts = "".join(f"--b\r\nContent-Type: image/png\r\n\r\np{i}\r\n" for i in range(MAX_PARTS - 2))
    parts += "--b\r\nContent-Type: text/plain\r\n\r\nlast part\r\n"
    raw = f"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n{parts}--b--\r\n"
    parsed = parse_email(raw.encode())
    assert parsed.limits == ()
    assert parsed.text == "last part"


@pytest.mark.timeout(20)
def test_mime_body_of_too_many_lines_is_cut() -> None:
    lines = "ok\r\n" * (MAX_MIME_LINES + 100_000)
    raw = f"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n{lines}--b--\r\n"
    parsed = clean(parse_email(raw.encode()))
    assert parsed.limits == (LIMIT_MIME_LINES,)
    assert parsed.text.startswith("ok\nok\n")
    assert parsed.text.count("ok") < MAX_MIME_LINES


@pytest.mark.timeout(20)
def test_single_part_body_of_many_lines_is_not_split_so_not_cut() -> None:
    parsed = parse_email(b"From: a@b.c\r\n\r\n" + b"ok\n" * (2 * MAX_MIME_LINES))
    assert parsed.limits == ()
    assert parsed.text.count("ok") == 2 * MAX_MIME_LINES


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    "content_type",
    [
        'text/plain; x="' + "y" * 3000 + '"; charset=utf-8',
        'text/plain; charset="' + ";" * 60_000,
        "text/plain; " + "; ".join(f"name*{i}*=a%41" for i in range(5000)),
        "text/plain; charset=" + "x" * 60_000,
    ],
)
def test_long_content_headers_are_cut_for_the_mime_machinery(content_type: str) -> None:
    raw = f"From: a@b.c\r\nContent-Type: {content_type}\r\n\r\nbody".encode()
    parsed = clean(parse_email(raw))
    assert LIMIT_MIME_HEADER in parsed.limits
    assert parsed.content_type == "text/plain"
    assert parsed.text == "body"
    assert parsed.headers["content-type"][0].startswith("text/plain; ")  # the header itself is not cut here


@pytest.mark.timeout(20)
def test_many_parts_with_long_content_headers_stay_fast() -> None:
    ctype = 'multipart/mixed; boundary="b"; ' + "; ".join(["x=yyyyyyyy"] * 5000)
    raw = f"From: a@b.c\r\nContent-Type: {ctype}\r\n\r\n" + "--b\r\n\r\np\r\n" * 3000 + "--b--\r\n"
    parsed = clean(parse_email(raw.encode()))
    assert parsed.limits == (LIMIT_MIME_HEADER, LIMIT_PARTS)
    assert parsed.text == "p"


@pytest.mark.timeout(20)
def test_html_body_over_the_html_limit_is_converted_in_part() -> None:
    html = "<p>Hello Anna,</p>" + "<div>more <b>text</b></div>" * (2 * MAX_HTML_CHARS // 27)
    raw = b"From: a@b.c\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html.encode()
    parsed = clean(parse_email(raw))
    assert parsed.limits == (LIMIT_HTML,)
    assert parsed.text.startswith("Hello Anna,\n\nmore text")
    assert parsed.text.count("more text") < MAX_HTML_CHARS // 27 + 1


@pytest.mark.timeout(20)
@pytest.mark.parametrize("unit", ['""', '"', "\\", ",", "(", "<", '"a\\" '])
def test_structured_headers_that_are_slow_to_parse_stay_fast(unit: str) -> None:
    # The modern address parser is quadratic on these: 1000 of them used to take minutes.
    value = unit * (8000 // len(unit))
    raw = b"From: a@b.c\r\n" + f"To: {value}\r\nCc: {value}\r\n".encode() * 500 + b"Subject: s\r\n\r\nbody"
    parsed = clean(parse_email(raw))
    assert (parsed.from_addr, parsed.subject, parsed.text) == ("a@b.c", "s", "body")
    assert LIMIT_HEADER_BLOCK in parsed.limits


def test_limits_are_reported_in_order_and_the_same_every_time() -> None:
    raw = b"From: a@b.c\r\nSubject: " + b"x" * 100_000 + b"\r\n" + b"X-A: b\r\n" * 2000 + b"\r\nbody"
    first, second = parse_email(raw), parse_email(raw)
    assert first.limits == second.limits == (LIMIT_HEADERS, LIMIT_HEADER)
    assert first == second
