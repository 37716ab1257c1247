"""The probe email: headers, encoding, header-injection refusal, and no "automatic mail" markers."""

from __future__ import annotations

import email
import email.header
import email.policy
import email.utils
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from replybench.channels.base import OutboundProbe
from replybench.channels.message import (
    FORBIDDEN_HEADER_PREFIXES,
    FORBIDDEN_HEADERS,
    build_probe_message,
    header_problem,
    serialize,
)
from replybench.errors import HeaderInjectionError
from replybench.models import EmailEndpoint, EmailIdentity, Endpoints, Persona, Target
from replybench.tokens import message_id_for, plus_address, token_from_message_id

TOKEN = "abcdefghjk23"
PERSONA_ADDRESS = "anna@probe.example"
REPLY_ADDRESS = plus_address(PERSONA_ADDRESS, TOKEN)
MESSAGE_ID = message_id_for(TOKEN, "probe.example")
EXPECTED_HEADERS = {
    "from",
    "reply-to",
    "to",
    "subject",
    "date",
    "message-id",
    "content-type",
    "content-transfer-encoding",
    "mime-version",
}


def make_probe(
    *,
    subject: str = "Question about my order",
    body: str = "Hello,\nwhere is my parcel?\n\nAnna\n",
    target_address: str = "support@acme.example",
    reply_address: str = REPLY_ADDRESS,
    message_id: str = MESSAGE_ID,
    display_name: str = "Anna Example",
) -> OutboundProbe:
    endpoint = EmailEndpoint.model_construct(address=target_address)  # bypasses validation on purpose
    target = Target(id="acme", name="Acme", endpoints=Endpoints.model_construct(email=endpoint))
    persona = Persona(id="anna", display_name=display_name, email=EmailIdentity(address=PERSONA_ADDRESS))
    return OutboundProbe(
        probe_id="01PROBE",
        token=TOKEN,
        target=target,
        persona=persona,
        subject=subject,
        body=body,
        message_id=message_id,
        reply_address=reply_address,
    )


def build(probe: OutboundProbe | None = None, *, display_name: str = "Anna Example") -> EmailMessage:
    return build_probe_message(probe or make_probe(), from_address=REPLY_ADDRESS, display_name=display_name)


def reparse(msg: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(serialize(msg), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def text_of(msg: EmailMessage) -> str:
    content = msg.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def header_block(raw: bytes) -> bytes:
    head, sep, _ = raw.partition(b"\r\n\r\n")
    assert sep, "no blank line between headers and body"
    return head + b"\r\n"


def raw_header(msg: EmailMessage, name: str) -> str:
    text = header_block(serialize(msg)).decode("ascii")
    match = re.search(rf"^{name}: (.*?)\r\n(?![ \t])", text, re.MULTILINE | re.DOTALL)
    assert match, name
    return match.group(1)


def rfc2047_decoded(value: str) -> str:
    """Decode like RFC 2047 says: whitespace between adjacent encoded words is not text.

    (The modern ``email`` address parser inserts a space there, a known stdlib quirk.)
    """
    return str(email.header.make_header(email.header.decode_header(value)))


def assert_no_automatic_markers(msg: EmailMessage) -> None:
    names = [k.lower() for k in msg]
    for name in names:
        assert name not in FORBIDDEN_HEADERS
        assert not name.startswith(FORBIDDEN_HEADER_PREFIXES)
    for forbidden in ("auto-submitted", "precedence", "x-auto-response-suppress", "list-"):
        assert not any(n.startswith(forbidden) for n in names)


def folded(text: str) -> str:
    """Text as it survives header folding: runs of blanks collapse, outer blanks go."""
    return re.sub(r"[ \t]+", " ", text).strip(" ")


# ------------------------------------------------------------------------------------------ headers


def test_headers_are_those_of_a_personal_message() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    msg = reparse(build())
    after = datetime.now(UTC)

    assert {k.lower() for k in msg} == EXPECTED_HEADERS
    sender = msg["From"].addresses[0]
    assert sender.display_name == "Anna Example"
    assert sender.addr_spec == REPLY_ADDRESS
    assert msg["Reply-To"].addresses[0].addr_spec == REPLY_ADDRESS
    assert [a.addr_spec for a in msg["To"].addresses] == ["support@acme.example"]
    assert str(msg["Subject"]) == "Question about my order"
    assert msg["Message-ID"] == MESSAGE_ID
    assert token_from_message_id(msg["Message-ID"]) == TOKEN
    date = email.utils.parsedate_to_datetime(msg["Date"])
    assert date.utcoffset() == timedelta(0)
    assert before <= date <= after
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    assert text_of(msg) == "Hello,\nwhere is my parcel?\n\nAnna\n"
    assert "Bcc" not in msg
    assert_no_automatic_markers(msg)


def test_serialized_message_is_ascii_with_crlf_line_ends() -> None:
    raw = serialize(build(make_probe(subject="Größe – Frage", body="Grüße\n"), display_name="Änne Müller"))
    raw.decode("ascii")  # SMTPUTF8 off: everything encoded
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r" not in raw.replace(b"\r\n", b"")


def test_non_ascii_display_name_and_subject_are_rfc2047_encoded() -> None:
    msg = build(make_probe(subject="Frage zur Lieferung – dringend"), display_name="Änne Müller-Lüdenscheidt")
    head = header_block(serialize(msg)).decode("ascii")
    assert "=?utf-8?" in head
    parsed = reparse(msg)
    assert parsed["From"].addresses[0].display_name == "Änne Müller-Lüdenscheidt"
    assert parsed["From"].addresses[0].addr_spec == REPLY_ADDRESS
    assert str(parsed["Subject"]) == "Frage zur Lieferung – dringend"


def test_display_name_with_specials_is_quoted() -> None:
    name = 'Anna "Nan" O\'Brien, (Support) <x@y>'
    parsed = reparse(build(display_name=name))
    assert len(parsed["From"].addresses) == 1
    assert parsed["From"].addresses[0].display_name == name
    assert parsed["From"].addresses[0].addr_spec == REPLY_ADDRESS


@pytest.mark.parametrize(
    "subject",
    [
        "=?utf-8?q?Hacked?=",
        "Re: =?utf-8?b?SGk=?= and more",
        "=?iso-8859-1?q?caf=E9?= " + "ö" * 60,
    ],
)
def test_text_that_looks_like_an_encoded_word_stays_literal(subject: str) -> None:
    msg = build(make_probe(subject=subject), display_name=subject)
    parsed = reparse(msg)
    assert str(parsed["Subject"]) == subject
    assert parsed["From"].addresses[0].addr_spec == REPLY_ADDRESS
    assert rfc2047_decoded(raw_header(msg, "From")) == f"{subject} <{REPLY_ADDRESS}>"
    for line in header_block(serialize(build(make_probe(subject=subject)))).split(b"\r\n"):
        assert len(line) <= 78


def test_long_subject_is_folded_not_truncated() -> None:
    subject = "A rather long question " * 12
    raw = serialize(build(make_probe(subject=subject)))
    assert all(len(line) <= 78 for line in header_block(raw).split(b"\r\n"))
    assert folded(str(reparse(build(make_probe(subject=subject)))["Subject"])) == folded(subject)


def test_from_address_and_display_name_are_used_as_given() -> None:
    msg = build_probe_message(make_probe(), from_address="anna@probe.example", display_name="")
    parsed = reparse(msg)
    assert parsed["From"].addresses[0].addr_spec == "anna@probe.example"
    assert parsed["From"].addresses[0].display_name == ""
    assert parsed["Reply-To"].addresses[0].addr_spec == REPLY_ADDRESS


# ------------------------------------------------------------------------------------------ body


def test_body_with_dots_and_blank_lines_round_trips() -> None:
    body = ".\n..leading dots\n\n.\nend\n"
    assert text_of(reparse(build(make_probe(body=body)))) == body


def test_ascii_body_is_7bit_and_non_ascii_body_quoted_printable() -> None:
    assert build(make_probe(body="plain\n"))["Content-Transfer-Encoding"] == "7bit"
    msg = build(make_probe(body="Grüße aus Köln\n"))
    assert msg["Content-Transfer-Encoding"] == "quoted-printable"
    assert text_of(reparse(msg)) == "Grüße aus Köln\n"


def test_overlong_ascii_line_is_quoted_printable() -> None:
    body = "x" * 2000 + "\n"
    msg = build(make_probe(body=body))
    assert msg["Content-Transfer-Encoding"] == "quoted-printable"
    raw = serialize(msg)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert text_of(reparse(msg)) == body


def test_body_gets_a_final_newline() -> None:
    assert text_of(reparse(build(make_probe(body="no newline")))) == "no newline\n"


# ------------------------------------------------------------------------------------------ injection


@pytest.mark.parametrize("bad", ["\r", "\n", "\r\n", "\x00", "\r\nBcc: victim@example.com"])
@pytest.mark.parametrize("field", ["subject", "display_name", "from_address", "reply", "to", "message_id"])
def test_cr_lf_nul_in_any_header_value_raises(field: str, bad: str) -> None:
    probe_kwargs: dict[str, str] = {}
    from_address = REPLY_ADDRESS
    display_name = "Anna"
    if field == "subject":
        probe_kwargs["subject"] = f"Hello{bad}there"
    elif field == "display_name":
        display_name = f"Anna{bad}Evil"
    elif field == "from_address":
        from_address = f"anna@probe.example{bad}"
    elif field == "reply":
        probe_kwargs["reply_address"] = f"{REPLY_ADDRESS}{bad}"
    elif field == "to":
        probe_kwargs["target_address"] = f"support@acme.example{bad}"
    else:
        probe_kwargs["message_id"] = f"{MESSAGE_ID}{bad}"
    with pytest.raises(HeaderInjectionError):
        build_probe_message(make_probe(**probe_kwargs), from_address=from_address, display_name=display_name)


@pytest.mark.parametrize(
    "char", ["\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029", "\x01", "\x7f", "\udc80"]
)
def test_other_line_breaks_and_controls_are_refused_too(char: str) -> None:
    with pytest.raises(HeaderInjectionError):
        build(make_probe(subject=f"a{char}b"))
    with pytest.raises(HeaderInjectionError):
        build(display_name=f"a{char}b")


def test_tab_is_allowed() -> None:
    assert header_problem("a\tb") is None
    assert folded(str(reparse(build(make_probe(subject="a\tb")))["Subject"])) == "a b"


def test_missing_email_endpoint_is_an_error() -> None:
    probe = make_probe()
    target = Target(id="acme", name="Acme")
    probe = OutboundProbe(**{**probe.__dict__, "target": target})
    with pytest.raises(ValueError, match="no email endpoint"):
        build(probe)


# ------------------------------------------------------------------------------------------ property


_HEADER_LINE = re.compile(rb"^(?:[!-9;-~]+:|[ \t])")


@settings(max_examples=400, deadline=None)
@given(subject=st.text(max_size=300), display_name=st.text(max_size=120))
@example(subject="=?utf-8?q?x?=", display_name="=?utf-8?b?eA==?=")
@example(subject="a\r\nBcc: x@y.z", display_name="ok")
@example(subject="x" * 200, display_name="\u00e4" * 100)
def test_any_text_is_refused_or_round_trips(subject: str, display_name: str) -> None:
    probe = make_probe(subject=subject)
    try:
        msg = build_probe_message(probe, from_address=REPLY_ADDRESS, display_name=display_name)
    except HeaderInjectionError:
        assert header_problem(subject) is not None or header_problem(display_name) is not None
        return
    assert not any(c in subject + display_name for c in "\r\n\x00")

    raw = serialize(msg)
    head = header_block(raw)
    lines = head[:-2].split(b"\r\n")
    for line in lines:
        assert b"\r" not in line
        assert b"\n" not in line
        assert _HEADER_LINE.match(line), line
    head.decode("ascii")
    names = {line.split(b":", 1)[0].decode().lower() for line in lines if not line[:1].isspace()}
    assert names == EXPECTED_HEADERS

    parsed = reparse(msg)
    assert_no_automatic_markers(parsed)
    assert folded(str(parsed["Subject"])) == folded(subject)
    (sender,) = parsed["From"].addresses
    assert sender.addr_spec == REPLY_ADDRESS
    if display_name.isascii() and "=?" not in display_name:
        assert folded(sender.display_name) == folded(display_name)
    else:
        # Encoded words: the stdlib address parser puts a space between adjacent words (RFC 2047 says none).
        assert re.sub(r"\s", "", sender.display_name) == re.sub(r"\s", "", display_name)
    assert [a.addr_spec for a in parsed["To"].addresses] == ["support@acme.example"]
    assert parsed["Message-ID"] == MESSAGE_ID
