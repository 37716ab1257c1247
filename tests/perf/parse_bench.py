"""Parsing-safety benchmark: pathological messages through ``parse_email`` and ``classify_bytes``.

Each case is built in memory (nothing is read from disk) and parsed once, in this process; the figures are
wall-clock seconds with the limits :func:`~replybench.mailparse.parse_email` reported. Goal: every case
well under 1 s for the parse (and for parse + classify) on a 2-core machine, so one hostile or broken message
never stalls a listener.

``python -m tests.perf.parse_bench [--only NAME ...] [--repeat 3] [--json]`` prints one line per case (or one
JSON object); each figure is the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import base64
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from replybench.classify import classify_bytes
from replybench.mailparse import MalformedEmail, parse_email

GOAL_S = 1.0
MB = 1024 * 1024

HEAD = b"From: Support <support@acme.example>\r\nTo: ann+k3m9x2p7qrtv@probes.example\r\n"


def _nested_multipart(depth: int) -> bytes:
    head = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth))
    return HEAD + head.encode() + b"Content-Type: text/plain\r\n\r\ndeep\r\n"


def _nested_rfc822(depth: int) -> bytes:
    return HEAD + b"Content-Type: message/rfc822\r\n\r\n" * depth + b"From: x@y.z\r\n\r\ndeep\r\n"


def _multipart(parts: list[bytes], ctype: bytes = b'multipart/mixed; boundary="b"') -> bytes:
    body = b"".join(b"--b\r\n" + p + b"\r\n" for p in parts) + b"--b--\r\n"
    return HEAD + b"Content-Type: " + ctype + b"\r\n\r\n" + body


def _plain(body: bytes, *headers: bytes) -> bytes:
    if not any(h.lower().startswith(b"subject:") for h in headers):
        headers = (b"Subject: Re: order", *headers)
    return HEAD + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


def _dsn_continuations(lines: int) -> bytes:
    dsn = b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\nDiagnostic-Code: x\r\n"
    dsn += b" more\r\n" * lines
    return _multipart([b"Content-Type: text/plain\r\n\r\nfailed", dsn], b"multipart/report; boundary=b")


#: name -> builder; builders run lazily so a run of one case does not build the 100 MB one.
CASES: dict[str, Callable[[], bytes]] = {
    "normal reply": lambda: _plain(b"Thanks, we ship on Saturdays.\r\n> quoted\r\n" * 20),
    "multipart nested 10,000 deep": lambda: _nested_multipart(10_000),
    "multipart nested 900 deep": lambda: _nested_multipart(900),
    "message/rfc822 nested 10,000 deep": lambda: _nested_rfc822(10_000),
    "Subject of 2 MB": lambda: _plain(b"x\r\n", b"Subject: " + b"word " * 400_000),
    "Subject of 2 MB, one word": lambda: _plain(b"x\r\n", b"Subject: " + b"x" * 2 * MB),
    "100k Received lines": lambda: (
        b"Received: from a.example by b.example; Tue, 04 Mar 2025 10:15:32 +0100\r\n" * 100_000
        + _plain(b"body\r\n")
    ),
    "100k distinct header names": lambda: (
        b"".join(b"X-H%d: v\r\n" % i for i in range(100_000)) + _plain(b"body\r\n")
    ),
    "To with 100k addresses": lambda: _plain(
        b"x\r\n", b"Cc: " + b", ".join(b"user%d@example.com" % i for i in range(100_000))
    ),
    "encoded-word storm, Subject (20k words)": lambda: _plain(
        b"x\r\n", b"Subject: " + b" ".join([b"=?utf-8?b?w6lzdMOp?="] * 20_000)
    ),
    "encoded-word storm, From name (20k words)": lambda: (
        b"From: " + b" ".join([b"=?utf-8?q?J=C3=B6rg?="] * 20_000) + b" <j@x.example>\r\n\r\nx"
    ),
    "encoded words, 1000 headers x 200 words": lambda: _plain(
        b"x\r\n", *[b"X-E%d: " % i + b" ".join([b"=?iso-8859-1?q?caf=E9?="] * 200) for i in range(1000)]
    ),
    "nested comments in From (8k)": lambda: b"From: " + b"(" * 8000 + b"a@b.c\r\n\r\nx",
    "quoted strings in To (8k)": lambda: b"From: a@b.c\r\nTo: " + b'"a\\" ' * 1600 + b"\r\n\r\nx",
    "plain body of 12 MB": lambda: _plain(b"Thanks for your question.\r\n" * (12 * MB // 27)),
    "plain body of 100 MB": lambda: _plain(b"Thanks for your question.\r\n" * (100 * MB // 27)),
    "one 10 MB line": lambda: _plain(b"a" * 10 * MB),
    "one 10 MB line of tags": lambda: _plain(b"<b>" * (10 * MB // 3), b"Content-Type: text/html"),
    "html 5 MB unclosed comment openers": lambda: _plain(b"<!--" * (5 * MB // 4), b"Content-Type: text/html"),
    "html 5 MB of '<a x=' without '>'": lambda: _plain(b"<a x=" * (5 * MB // 5), b"Content-Type: text/html"),
    "base64 body of 10 MB": lambda: _plain(
        base64.encodebytes(b"Thanks! " * (10 * MB // 8)), b"Content-Transfer-Encoding: base64"
    ),
    "base64 body, one 10 MB line": lambda: _plain(
        base64.b64encode(b"Thanks! " * (7 * MB // 8)), b"Content-Transfer-Encoding: base64"
    ),
    "base64 body of 10 MB junk": lambda: _plain(
        b"!*%$" * (10 * MB // 4), b"Content-Transfer-Encoding: base64"
    ),
    "quoted-printable 10 MB of soft breaks": lambda: _plain(
        b"=\r\n" * (10 * MB // 3), b"Content-Transfer-Encoding: quoted-printable"
    ),
    "quoted-printable 10 MB of '='": lambda: _plain(
        b"=" * 10 * MB, b"Content-Transfer-Encoding: quoted-printable"
    ),
    "quoted-printable 10 MB of escapes": lambda: _plain(
        b"=C3=A9" * (10 * MB // 6), b"Content-Transfer-Encoding: quoted-printable"
    ),
    "bogus charset names": lambda: _multipart(
        [
            b"Content-Type: text/plain; charset=" + name + b"\r\n\r\ncaf\xe9"
            for name in (b"x" * 60_000, b'"utf-8\x00"', b"../../etc", b"base64", b"rot13", b"=?x?=", b"utf-7")
        ]
    ),
    "multipart with 100k parts": lambda: _multipart([b"Content-Type: text/plain\r\n\r\np"] * 100_000),
    "multipart with 2000 parts, 60 KB Content-Type": lambda: _multipart(
        [b"\r\np"] * 2000, b'multipart/mixed; boundary="b"; ' + b"; ".join([b"x=yyyyyyyy"] * 5000)
    ),
    "Content-Type with 60k ';' in a quote": lambda: _plain(
        b"x\r\n", b'Content-Type: text/plain; charset="' + b";" * 60_000
    ),
    "RFC 2231 continuation storm": lambda: _plain(
        b"x\r\n", b"Content-Type: text/plain; " + b"; ".join(b"name*%d*=a%%41" % i for i in range(5000))
    ),
    "delivery-status with 1M continuation lines": lambda: _dsn_continuations(1_000_000),
    "1M boundary lines": lambda: _multipart([], b"multipart/mixed; boundary=b").replace(
        b"--b--\r\n", b"--b\r\n" * 1_000_000
    ),
    "500 To and Cc headers of 8k quotes": lambda: _plain(
        b"x\r\n", *[b"To: " + b'""' * 4000, b"Cc: " + b'"' * 8000] * 250
    ),
    "500 To headers of 1k commas in comments": lambda: _plain(b"x\r\n", *[b"To: " + b"(,)" * 340] * 500),
    "2000 parts of 500 header fields each": lambda: _multipart([b"X-A: b\r\n" * 500 + b"\r\np"] * 2000),
    "all at once: 256 KB of slow headers, 1 MB of tags, 500k lines": lambda: _multipart(
        [b"Content-Type: text/html\r\n\r\n" + b"<b>" * (MB // 3), b"\r\n" + b"ok\r\n" * 600_000],
        b'multipart/mixed; boundary="b"\r\nTo: ' + b'""' * 4000 + b"\r\nCc: " + b'"' * 8000,
    ).replace(b"Subject: Re: order\r\n", b"".join(b"To: " + b'"a\\" ' * 1600 + b"\r\n" for _ in range(30))),
}


@dataclass(frozen=True)
class CaseResult:
    """Best-of-``repeat`` seconds for parse_email and for classify_bytes (which parses too)."""

    bytes: int
    parse_s: float
    classify_bytes_s: float
    outcome: str
    limits: list[str]
    classification: str


def time_case(raw: bytes, repeat: int = 3) -> CaseResult:
    """Parse and classify ``raw``, each ``repeat`` times; the best times and what was found."""
    parse_times, classify_times = [], []
    limits: list[str] = []
    outcome = "parsed"
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            limits, outcome = list(parse_email(raw).limits), "parsed"
        except MalformedEmail as exc:
            limits, outcome = [], f"malformed: {exc}"
        parse_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        classification = classify_bytes(raw)
        classify_times.append(time.perf_counter() - start)
    return CaseResult(
        bytes=len(raw),
        parse_s=round(min(parse_times), 3),
        classify_bytes_s=round(min(classify_times), 3),
        outcome=outcome,
        limits=limits,
        classification=f"{classification.cls.value}/{classification.rule}",
    )


def run_parse_bench(only: list[str] | None = None, repeat: int = 3) -> dict[str, CaseResult]:
    """Time every case (or the named ones); one entry per case name."""
    return {name: time_case(build(), repeat) for name, build in CASES.items() if not only or name in only}


def describe(results: dict[str, CaseResult]) -> list[str]:
    """One line per case, flagged when it misses the goal."""
    lines = []
    for name, r in results.items():
        flag = "" if max(r.parse_s, r.classify_bytes_s) < GOAL_S else "  <-- over the goal"
        limits = f"; limits {', '.join(r.limits)}" if r.limits else ""
        lines.append(
            f"  {name} ({r.bytes / MB:.1f} MB): parse {r.parse_s:.3f} s,"
            f" classify_bytes {r.classify_bytes_s:.3f} s; {r.outcome}{limits}{flag}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", help="a case name (repeatable)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (the best is reported)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    results = run_parse_bench(args.only, args.repeat)
    if args.json:
        print(json.dumps({name: asdict(r) for name, r in results.items()}))
    else:
        print(f"Parsing pathological messages (goal: each < {GOAL_S:.0f} s for parse and for classify_bytes)")
        print("\n".join(describe(results)))


if __name__ == "__main__":
    main()
