"""The Markdown report: GitHub tables, the sections of the HTML report, untrusted text neutralised."""

from __future__ import annotations

import re

import pytest

from replybench.report.markdown import render_markdown
from replybench.report.render import md_escape, template_env
from tests.report.sample_data import (
    HOSTILE,
    TARGETS,
    hostile_evidence,
    hostile_outcomes,
    report_outcomes,
    sample_evidence,
    sample_meta,
)

SECTIONS = [
    "Summary",
    "League table",
    "By channel",
    "Still waiting, by target",
    "How long replies took",
    "When the inquiry was sent",
    "Acknowledgement or answer",
    "Answers and promises",
    "Bounces and undeliverable inquiries",
    "Methods",
    "Evidence",
]


@pytest.fixture(scope="module")
def md() -> str:
    outcomes = report_outcomes()
    return render_markdown(outcomes, sample_meta(), template_env(None), sample_evidence(outcomes))


def _cells(row: str) -> list[str]:
    """Split a GFM table row on unescaped pipes."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def _table_after(md: str, heading: str) -> list[str]:
    section = md.split(heading, 1)[1]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[start:end]


def test_sections_in_order(md: str) -> None:
    headings = re.findall(r"^#{1,3} (.+)$", md, flags=re.M)
    assert headings[0].startswith("Customer e-mail response times")
    assert re.findall(r"^## (.+)$", md, flags=re.M) == SECTIONS
    assert "<svg" not in md
    assert "<script" not in md


def test_league_table(md: str) -> None:
    rows = _table_after(md, "## League table")
    header = _cells(rows[0])
    assert header[:5] == ["Rank", "Target", "Industry", "Index", "Rank interval"]
    assert "Median first human reply (95 % CI)" in header
    assert re.fullmatch(r"\|[-:|]+\|", rows[1].replace(" ", ""))
    body = rows[2:]
    assert len(body) == len(TARGETS) + 1
    names = [_cells(r)[1] for r in body]
    assert set(names[:-1]) == {name for _t, name, *_ in TARGETS}
    assert names[0] == "Alpenkasse"
    assert names[-1] == "All targets"
    assert [_cells(r)[0] for r in body[:-1]] == [str(i) for i in range(1, len(TARGETS) + 1)]
    assert all(len(_cells(r)) == len(header) for r in body)
    alpen = _cells(body[0])
    assert alpen[header.index("Sent")] == "5/5"
    assert alpen[header.index("Median first human reply (95 % CI)")].startswith("41\u00a0min (")
    assert alpen[header.index("Within 4 h")] == "100\u00a0%"
    assert re.fullmatch(r"1(–\d)?", alpen[header.index("Rank interval")])


def test_every_section_has_its_table(md: str) -> None:
    channels = _table_after(md, "## By channel")
    assert [_cells(r)[0] for r in channels[2:]] == ["email", "webform"]
    assert len(_table_after(md, "## Still waiting, by target")) == 2 + len(TARGETS)
    buckets = _table_after(md, "## How long replies took")
    assert _cells(buckets[-1]) == ["no reply by the limit", "7", "12"]
    heat = _table_after(md, "## When the inquiry was sent")
    assert len(heat) == 2 + 8 and len(_cells(heat[0])) == 26
    assert [_cells(r)[0] for r in heat[2:]] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "All"]
    split = _table_after(md, "## Acknowledgement or answer")
    assert _cells(split[-1])[0] == "All targets" and _cells(split[-1])[-1] == "41"
    bounces = _table_after(md, "## Bounces and undeliverable inquiries")
    assert _cells(bounces[2])[0] == "FunkFix"


def test_methods_and_evidence(md: str) -> None:
    methods = md.split("## Methods", 1)[1].split("## Evidence", 1)[0]
    for phrase in (
        "SMTP 250",
        "INTERNALDATE",
        "right-censored",
        "Kaplan–Meier",
        "Wilson",
        "opening hours",
        "Responsiveness index = 100 ×",
        "imap-internaldate",
    ):
        assert phrase in methods, phrase
    assert "- baseline: 7\u00a0d" in methods
    assert "Pilot study" in methods
    assert len(_table_after(md, "### Every probe")) == 2 + 45
    messages = _table_after(md, "### Every message")
    assert len(messages) == 2 + len(sample_evidence())
    assert any("after the limit" in r for r in messages)


def test_hostile_text_cannot_break_tables_or_become_markup() -> None:
    md = render_markdown(
        hostile_outcomes(), sample_meta(notes=(HOSTILE,)), template_env(None), hostile_evidence()
    )
    assert "<script" not in md
    assert "<img" not in md
    assert "<svg" not in md
    assert "](javascript" not in md
    assert "http://" not in md and "https://" not in md
    for heading in (
        "## League table",
        "### Every probe",
        "### Every message",
        "## Acknowledgement or answer",
    ):
        rows = _table_after(md, heading)
        widths = {len(_cells(r)) for r in rows if not set(r) <= set("|-: ")}
        assert len(widths) == 1, f"a cell broke the table under {heading}"
    assert "\\| \\`x\\` \\*y\\*" in md


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a|b", "a\\|b"),
        ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
        ("[click](javascript:alert(1))", "\\[click\\](javascript:alert(1))"),
        ("see https://evil.example/x", "see https\\://evil.example/x"),
        ("*bold* _it_ `code` ~~s~~", "\\*bold\\* \\_it\\_ \\`code\\` \\~\\~s\\~\\~"),
        ("line\nbreak\r\nhere", "line break here"),
        ("AT&T", "AT&T"),
        ("&lt;", "&amp;lt;"),
        (None, ""),
    ],
)
def test_md_escape(raw: str | None, escaped: str) -> None:
    assert md_escape(raw) == escaped
