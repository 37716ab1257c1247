"""Fuzzing: no bytes crash the parser or the classifier, and the same bytes always give the same result.

Three sources of input: arbitrary bytes, real messages from tests/resources/emails damaged by random mutations
(byte flips, cuts, duplicated or dropped header lines, swapped MIME boundaries, NULs and CRs, other charsets,
more nesting and more parts),
and the same mutated messages parsed with tiny limits, so that every cut-short path is taken again and again.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import example, given, settings
from hypothesis import strategies as st

from replybench import mailparse
from replybench.classify import Classification, classify_bytes
from replybench.mailparse import MalformedEmail, ParsedEmail, parse_email
from replybench.models import MessageClass

EMAILS = Path(__file__).resolve().parents[1] / "resources" / "emails"
CORPUS = sorted(EMAILS.glob("*.eml"))
RULE_RE = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*$")
LIMIT_NAMES = {getattr(mailparse, name) for name in mailparse.__all__ if name.startswith("LIMIT_")}
# Tiny limits: a message of a few kilobytes hits every one of them.
TINY_LIMITS: dict[str, Any] = {
    "MAX_BODY_BYTES": 1500,
    "MAX_HEADER_BYTES": 120,
    "MAX_HEADERS": 12,
    "MAX_HEADER_BLOCK_BYTES": 700,
    "MAX_MIME_DEPTH": 2,
    "MAX_PARTS": 4,
    "MAX_MIME_LINES": 60,
    "MAX_MIME_HEADER": 30,
    "MAX_HTML_CHARS": 200,
    "_HEADER_SCAN_BYTES": 1500,
    "_HEADER_REDUCE_BYTES": 600,
}

FUZZ = settings(max_examples=300, deadline=None)


def parse_view(raw: bytes) -> tuple[Any, ...]:
    """parse_email's result as plain data (or the MalformedEmail message), for comparing two runs."""
    try:
        parsed = parse_email(raw)
    except MalformedEmail as exc:
        return ("malformed", str(exc))
    assert_clean(parsed)
    return tuple(
        dict(value)
        if f.name == "headers"
        else tuple(dict(block) for block in value)
        if f.name == "dsn"
        else value
        for f in fields(parsed)
        for value in [getattr(parsed, f.name)]
    )


def assert_clean(parsed: ParsedEmail) -> None:
    strings = [parsed.subject, parsed.text, parsed.content_type, *parsed.recipients, *parsed.reply_to]
    strings += [*parsed.defects, *parsed.in_reply_to, *parsed.references]
    strings += [s for s in (parsed.message_id, parsed.from_addr, parsed.from_name, parsed.return_path) if s]
    strings += [v for values in parsed.headers.values() for v in values] + list(parsed.headers)
    strings += [v for block in parsed.dsn for v in (*block.keys(), *block.values())]
    for value in strings:
        assert isinstance(value, str)
        value.encode("utf-8")  # raises on lone surrogates
    assert set(parsed.limits) <= LIMIT_NAMES, parsed.limits
    assert len(set(parsed.limits)) == len(parsed.limits)
    if parsed.date is not None:
        assert parsed.date.tzinfo is not None


def classify_view(raw: bytes) -> tuple[Any, ...]:
    result = classify_bytes(raw)
    assert isinstance(result, Classification)
    assert isinstance(result.cls, MessageClass)
    assert RULE_RE.match(result.rule), result.rule
    assert result.rule != "error", result.evidence  # "error" means classify_email raised and was caught
    assert 0.0 <= result.confidence <= 1.0
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.detail.items())
    return (result.cls, result.rule, result.confidence, result.evidence, dict(result.detail))


def check_twice(raw: bytes) -> None:
    """Never a crash, and the same answers on a second run."""
    assert parse_view(raw) == parse_view(raw)
    assert classify_view(raw) == classify_view(raw)


# --------------------------------------------------------------------------------------------- mutations

CHARSETS = [b"utf-8", b"iso-8859-1", b"windows-1252", b"iso-2022-jp", b"utf-16", b"utf-7", b"idna", b"base64"]
CHARSETS += [
    b"zlib",
    b"x-unknown",
    b"",
    b'"',
    b"utf-8\x00",
    b"../../etc/passwd",
    b"x" * 300,
    b"=?utf-8?q?x?=",
]
BOUNDARY_RE = re.compile(rb'boundary="?([^";\r\n]+)"?', re.IGNORECASE)
CHARSET_RE = re.compile(rb"charset=\"?[^\";\r\n]*\"?", re.IGNORECASE)
LINE_RE = re.compile(rb"[^\n]*\n")


def _header_lines(raw: bytes) -> tuple[list[bytes], bytes]:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    return LINE_RE.findall(head + b"\n"), sep[len(sep) // 2 :] + body


def mutate(raw: bytes, step: tuple[str, int, int, bytes]) -> bytes:
    """Apply one mutation; positions and choices are taken modulo what the message offers."""
    kind, a, b, junk = step
    n = max(len(raw), 1)
    if kind == "flip":
        i = a % n
        return raw[:i] + bytes([raw[i] ^ (b % 255 + 1)]) + raw[i + 1 :] if raw else raw
    if kind == "cut":
        return raw[: a % n]
    if kind == "insert":
        i = a % n
        return raw[:i] + junk + raw[i:]
    if kind == "nul_cr":
        i = a % n
        return raw[:i] + (b"\x00", b"\r", b"\r\r\n", b"\n\r")[b % 4] + raw[i:]
    if kind in ("dup_header", "drop_header"):
        lines, rest = _header_lines(raw)
        if not lines:
            return raw
        i = a % len(lines)
        lines = (
            lines[: i + 1] + lines[i:] * (b % 50 + 1) if kind == "dup_header" else lines[:i] + lines[i + 1 :]
        )
        return b"".join(lines) + rest
    if kind == "boundary":
        found = [m.group(1) for m in BOUNDARY_RE.finditer(raw)]
        if not found:
            return raw
        one, other = found[a % len(found)], found[b % len(found)]
        if one == other:  # break it instead: the parts lose their separators
            return raw.replace(b"--" + one, b"--" + one[::-1], 1 + b % 3)
        return raw.replace(one, b"\x00swap\x00").replace(other, one).replace(b"\x00swap\x00", other)
    if kind == "nest":  # the message becomes a part of a multipart, or an attached message, b % 4 + 1 times
        for level in range(b % 4 + 1):
            if a % 2:
                raw = b"From: n@y.z\r\nContent-Type: message/rfc822\r\n\r\n" + raw
            else:
                wrap = b"From: n@y.z\r\nContent-Type: multipart/mixed; boundary=n%d\r\n\r\n--n%d\r\n" % (
                    level,
                    level,
                )
                raw = wrap + raw + b"\r\n--n%d--\r\n" % level
        return raw
    if kind == "repeat":  # the message, b % 6 + 2 times, as the parts of a multipart
        part = b"--r\r\n" + raw + b"\r\n"
        return (
            b"From: r@y.z\r\nContent-Type: multipart/mixed; boundary=r\r\n\r\n"
            + part * (b % 6 + 2)
            + b"--r--\r\n"
        )
    if kind == "charset":
        spots = list(CHARSET_RE.finditer(raw))
        charset = CHARSETS[b % len(CHARSETS)]
        if not spots:
            lines, rest = _header_lines(raw)
            return b"".join(lines) + b"Content-Type: text/plain; charset=" + charset + b"\n" + rest
        m = spots[a % len(spots)]
        return raw[: m.start()] + b"charset=" + charset + raw[m.end() :]
    raise AssertionError(kind)


step = st.tuples(
    st.sampled_from(
        [
            "flip",
            "cut",
            "insert",
            "nul_cr",
            "dup_header",
            "drop_header",
            "boundary",
            "charset",
            "nest",
            "repeat",
        ]
    ),
    st.integers(min_value=0, max_value=2**31),
    st.integers(min_value=0, max_value=2**31),
    st.binary(max_size=12),
)
mutated = st.builds(
    lambda path, steps: _apply(path.read_bytes(), steps),
    st.sampled_from(CORPUS),
    st.lists(step, min_size=1, max_size=5),
)


def _apply(raw: bytes, steps: list[tuple[str, int, int, bytes]]) -> bytes:
    for s in steps:
        raw = mutate(raw, s)
    return raw


# --------------------------------------------------------------------------------------------- tests


@FUZZ
@given(st.binary(max_size=4000))
@example(b"")
@example(b"From: a@b.c\r\n\r\n" + b"<a " * 500)
@example(b"From: a@b.c\rContent-Type: multipart/mixed; boundary=b\r\r--b\r\r--b--")
def test_arbitrary_bytes_never_crash_and_give_the_same_result_twice(raw: bytes) -> None:
    check_twice(raw)


@FUZZ
@given(mutated)
def test_mutated_real_messages_never_crash_and_give_the_same_result_twice(raw: bytes) -> None:
    check_twice(raw)


@settings(max_examples=200, deadline=None)
@given(mutated)
def test_with_tiny_limits_nothing_crashes_and_an_uncut_parse_is_the_full_parse(raw: bytes) -> None:
    full = parse_view(raw)
    with mock.patch.multiple(mailparse, **TINY_LIMITS):
        tiny = parse_view(raw)
        assert tiny == parse_view(raw)
        classify_view(raw)
    if tiny[0] == "malformed" or full[0] == "malformed":
        assert tiny == full
        return
    limits = tiny[-1]
    if not limits:  # nothing was cut, so nothing may differ (limits is the last field)
        assert tiny == full
