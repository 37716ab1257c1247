"""Property tests: no input makes parsing or classification fail, and header values survive a round trip."""

from __future__ import annotations

import re
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from replybench.classify import Classification, classify_bytes
from replybench.classify import text as signals
from replybench.mailparse import MalformedEmail, ParsedEmail, parse_email
from replybench.models import MessageClass

EMAILS = Path(__file__).resolve().parents[1] / "resources" / "emails"
RULE_RE = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*$")
SETTINGS = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

# Fragments that steer random bytes into the parser's interesting paths: MIME structure, encodings,
# delivery reports, auto-reply headers and broken variants of each.
FRAGMENTS = [
    b"From: a@b.c\r\n",
    b"From: =?utf-8?q?J=C3=B6rg?= <j@x>\r\n",
    b"From: <>\r\n",
    b'From: "unterminated <x@\r\n',
    b"To: x@y.z, (comment) <u@v>, group: a@b, c@d;\r\n",
    b"Delivered-To: \xff\xfe@\xe9\r\n",
    b"Return-Path: <>\r\n",
    b"Return-Path: <@a:b@c>\r\n",
    b"Subject: =?x-bad?b?////?=\r\n",
    b"Subject: =?utf-8?q?=E2=82?= =?iso-2022-jp?b?GyRC?=\r\n",
    b"Subject: Out of Office: x\r\n",
    b"Subject: Undeliverable: x\r\n",
    b"Date: Tue, 31 Feb 2025 25:61:00 +9999\r\n",
    b"Date: 0\r\n",
    b"Message-ID: <<<>>>\r\n",
    b"References: <a@b> junk <c@d\r\n",
    b"In-Reply-To: \r\n",
    b"Auto-Submitted: auto-replied\r\n",
    b"Auto-Submitted: ((((((((((((((\r\n",
    b"X-Autoreply: yes\r\n",
    b"Precedence: auto_reply\r\n",
    b"X-Failed-Recipients: ,,,\r\n",
    b"MIME-Version: 1.0\r\n",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n",
    b'Content-Type: multipart/mixed; boundary="b"\r\n',
    b"Content-Type: multipart/alternative\r\n",
    b"Content-Type: message/delivery-status\r\n",
    b"Content-Type: message/global-delivery-status\r\n",
    b"Content-Type: message/rfc822\r\n",
    b"Content-Type: text/html; charset=idna\r\n",
    b"Content-Type: text/plain; charset*=utf-8''%FF%FE\r\n",
    b'Content-Type: text/plain; charset="utf-16"\r\n',
    b'Content-Type: ;;;="\r\n',
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"Content-Transfer-Encoding: x-uuencode\r\n",
    b"Content-Disposition: attachment; filename*0*=utf-8''%E2\r\n",
    b" folded continuation\r\n",
    b"\tfolded tab\r\n",
    b"no colon header line\r\n",
    b"\r\n",
    b"\n",
    b"\r",
    b"--b\r\n",
    b"--b--\r\n",
    b"Action: failed\r\nStatus: 5.1.1\r\n",
    b"Final-Recipient: rfc822; x@y\r\n",
    b"<html><script>x</script><p>hi</p><!DOCTYPE><![CDATA[ x",
    b"=\r\n=E9=ZZ",
    b"////AAAA====",
    b"begin 644 x\r\n",
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xe9\xfc\x80\x81",
]

email_like = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=40)), max_size=40).map(
    b"".join
)
any_bytes = st.one_of(st.binary(max_size=2000), email_like)


def assert_clean(parsed: ParsedEmail) -> None:
    strings = [parsed.subject, parsed.text, parsed.content_type, *parsed.recipients, *parsed.defects]
    strings += [s for s in (parsed.message_id, parsed.from_addr, parsed.from_name, parsed.return_path) if s]
    strings += [v for values in parsed.headers.values() for v in values]
    strings += [v for block in parsed.dsn for v in (*block.keys(), *block.values())]
    for value in strings:
        assert isinstance(value, str)
        value.encode("utf-8")  # raises on lone surrogates
    if parsed.date is not None:
        assert parsed.date.tzinfo is not None


def assert_valid(result: Classification) -> None:
    assert isinstance(result, Classification)
    assert isinstance(result.cls, MessageClass)
    assert RULE_RE.match(result.rule), result.rule
    assert 0.0 <= result.confidence <= 1.0
    assert isinstance(result.evidence, str)
    assert len(result.evidence) <= 200
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.detail.items())


@SETTINGS
@given(any_bytes)
@example(b"")
@example(b"From: a@b.c\r\nContent-Type: text/plain; charset=idna\r\n\r\n\xe9")
@example(b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" * 50)
def test_parse_email_only_ever_raises_malformed(raw: bytes) -> None:
    try:
        parsed = parse_email(raw)
    except MalformedEmail:
        return
    assert_clean(parsed)


@SETTINGS
@given(any_bytes)
def test_classify_bytes_never_raises_and_is_well_formed(raw: bytes) -> None:
    result = classify_bytes(raw)
    assert_valid(result)
    assert result.rule != "error"


@SETTINGS
@given(
    st.sampled_from(sorted(EMAILS.glob("*.eml"))),
    st.integers(min_value=0, max_value=20000),
    st.binary(max_size=8),
)
def test_damaged_corpus_messages_never_break_the_classifier(path: Path, cut: int, noise: bytes) -> None:
    raw = path.read_bytes()
    damaged = raw[:cut] + noise + raw[cut + len(noise) :]
    result = classify_bytes(damaged)
    assert_valid(result)
    assert result.rule != "error"


# Words without the characters that folding or RFC 2047 may legitimately rewrite.
word = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x2FFF, categories=("L", "M", "N", "P", "S")),
    min_size=1,
    max_size=12,
).filter(lambda w: "=?" not in w and "?=" not in w)
phrase = st.lists(word, min_size=1, max_size=12).map(" ".join)
_LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
local = st.tuples(
    st.text(_LOWER, min_size=1, max_size=8), st.sampled_from(["", "+k3m9x2p7qrtv", ".x", "-y", "_z"])
).map("".join)
domain = st.tuples(
    st.text(_LOWER, min_size=1, max_size=10), st.sampled_from([".example", ".test", ".com"])
).map("".join)
address = st.builds(lambda lp, dom: f"{lp}@{dom}", local, domain)


@SETTINGS
@given(subject=phrase, name=phrase, sender=address, to=st.lists(address, min_size=1, max_size=4, unique=True))
def test_header_values_round_trip(subject: str, name: str, sender: str, to: list[str]) -> None:
    # Encoded the way mail clients do it (RFC 2047: spaces inside encoded words, folding whitespace between
    # them carries no text).
    raw = "\r\n".join(
        [
            f"From: {formataddr((name, sender), charset='utf-8')}",
            f"To: {', '.join(to)}",
            f"Subject: {Header(subject, 'utf-8').encode()}",
            "Message-ID: <rb.k3m9x2p7qrtv.0a1b2c@probe.example>",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "body text",
        ]
    ).encode("ascii")
    parsed = parse_email(raw)

    assert parsed.subject == subject
    assert parsed.from_name == name
    assert parsed.from_addr == sender
    assert parsed.recipients == tuple(to)
    assert parsed.message_id == "<rb.k3m9x2p7qrtv.0a1b2c@probe.example>"
    assert parsed.headers["subject"] == (subject,)
    assert parsed.text == "body text"


@SETTINGS
@given(subject=phrase, name=phrase, sender=address)
def test_stdlib_generated_headers_round_trip(subject: str, name: str, sender: str) -> None:
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(display_name=name, addr_spec=sender)
    message["Subject"] = subject
    message.set_content("body text")
    parsed = parse_email(message.as_bytes())

    assert parsed.from_addr == sender
    # The stdlib's generator folds at a space *between* encoded words, which RFC 2047 says carries no text;
    # we decode by the RFC (as mail clients encode), so only the spacing may differ.
    assert parsed.subject.replace(" ", "") == subject.replace(" ", "")
    assert parsed.from_name is not None
    assert parsed.from_name.replace(" ", "") == name.replace(" ", "")


@SETTINGS
@given(subject=phrase)
def test_raw_8bit_utf8_subjects_round_trip(subject: str) -> None:
    raw = b"From: a@b.c\r\nSubject: " + subject.encode("utf-8") + b"\r\n\r\nx"
    assert parse_email(raw).subject == subject


# ------------------------------------------------------------------------------ determinism and quoting


@SETTINGS
@given(any_bytes)
@example(b"From: a@b.c\r\nSubject: Re: Q\r\n\r\nPlease call us.\r\n")
def test_the_same_bytes_always_get_the_same_classification(raw: bytes) -> None:
    assert classify_bytes(raw) == classify_bytes(bytes(raw))


@SETTINGS
@given(st.sampled_from(sorted(EMAILS.glob("*.eml"))))
def test_corpus_messages_are_classified_the_same_every_time(path: Path) -> None:
    raw = path.read_bytes()
    first = classify_bytes(raw)
    assert classify_bytes(raw) == first
    assert classify_bytes(bytearray(raw)) == first  # type: ignore[arg-type]


def _reply(body: str, subject: str = "Re: Question") -> bytes:
    head = (
        "From: Sam <sam@company.example>\r\nTo: anna+k3m9x2p7qrtv@probe.example\r\n"
        f"Subject: {subject}\r\nMessage-ID: <m1@company.example>\r\n"
        "In-Reply-To: <rb.k3m9x2p7qrtv.1@probe.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    return (head + body.replace("\n", "\r\n")).encode("utf-8")


REPLIES = [
    "Hi Anna,\n\nyes, we deliver on Saturdays between 8 and 12.\n\nBest, Sam\n",
    "Hi Anna,\n\nplease call us at 0800 123 456.\n\nBest, Sam\n",
    "Hi Anna,\n\nwe have forwarded your request and will get back to you soon.\n\nBest, Sam\n",
    "Hallo Frau Berger,\n\nbitte nutzen Sie unser Kontaktformular.\n\nViele Grüße\n",
]
# Whatever our inquiry said, even "call us" or "out of office" or "we have received your request".
quoted_words = st.lists(
    st.sampled_from(
        [
            "call us",
            "please",
            "contact form",
            "out of office",
            "we have received your request",
            "ticket #4711",
            "unsubscribe",
            "Hello",
            "order",
            "10442",
            "?",
            "\n",
            "thanks",
            "wir melden uns",
        ]
    ),
    max_size=30,
).map(" ".join)


@SETTINGS
@given(reply=st.sampled_from(REPLIES), quoted=quoted_words)
def test_our_quoted_inquiry_never_changes_the_verdict(reply: str, quoted: str) -> None:
    plain = classify_bytes(_reply(reply))
    block = "\n".join(f"> {line}" for line in quoted.splitlines() or [""])
    with_quote = classify_bytes(
        _reply(f"{reply}\nOn Mon, 10 Mar 2025 at 09:00, Anna <a@probe.example> wrote:\n{block}\n")
    )
    assert (with_quote.cls, with_quote.rule) == (plain.cls, plain.rule)


# ------------------------------------------------------------------------------------------------ ticket ids

day = st.integers(1, 28)
month = st.integers(1, 12)
year = st.integers(1990, 2035)
not_ids = st.one_of(
    st.builds(lambda d, m, y: f"{d:02d}.{m:02d}.{y}", day, month, year),
    st.builds(lambda d, m, y: f"{y}-{m:02d}-{d:02d}", day, month, year),
    st.builds(lambda e, c: f"{e}.{c:02d} EUR", st.integers(1, 99999), st.integers(0, 99)),
    st.builds(lambda e: f"{e} €", st.integers(1, 99999)),
    st.builds(lambda a, b: f"+49 {a} {b}", st.integers(30, 999), st.integers(100000, 9999999)),
    st.builds(lambda a, b: f"0{a} {b} {b}", st.integers(30, 999), st.integers(100, 999)),
    st.builds(
        lambda z, c: f"{z:05d} {c}", st.integers(1000, 99999), st.sampled_from(["Berlin", "Köln", "Madrid"])
    ),
    st.builds(str, year),
    st.builds(lambda h, m: f"{h}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
)
keyword = st.sampled_from(
    ["ticket", "Ticket", "case", "request", "Anfrage", "demande", "solicitud", "richiesta"]
)


@SETTINGS
@given(word=keyword, value=not_ids)
def test_dates_amounts_phone_numbers_postcodes_years_and_times_are_never_ticket_ids(
    word: str, value: str
) -> None:
    assert signals.ticket_id("Re: Question", f"About your {word} {value} we are sorry.") is None


@SETTINGS
@given(
    word=keyword,
    number=st.integers(100, 10**12),
    style=st.sampled_from(["#{}", "({})", "number {}", "[#{}]"]),
)
def test_marked_ticket_numbers_are_found(word: str, number: int, style: str) -> None:
    assert signals.ticket_id("", f"Your {word} {style.format(number)} was created.") == str(number)
