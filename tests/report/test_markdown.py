"""The Markdown report: GitHub tables, the sections of the HTML report, untrusted text neutralised."""

from __future__ import annotations

import re

import pytest

from replybench.report.markdown import render_markdown
from replybench.report.render import md_escape, template_env
from tests.report.sample_data import HOSTILE, TARGETS, hostile_outcomes, sample_meta, sample_outcomes


@pytest.fixture(scope="module")
def md() -> str:
    return render_markdown(sample_outcomes(), sample_meta(), template_env(None))


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
    main = [h for h in headings if h in {"Summary", "Results by target", "Methods", "Evidence: every probe"}]
    assert main == ["Summary", "Results by target", "Methods", "Evidence: every probe"]
    assert "<svg" not in md


def test_per_target_table(md: str) -> None:
    rows = _table_after(md, "## Results by target")
    header = _cells(rows[0])
    assert header[0] == "Target"
    assert "Median first human response (95 % CI)" in header
    assert re.fullmatch(r"\|[-:|]+\|", rows[1].replace(" ", ""))
    body = rows[2:]
    assert len(body) == len(TARGETS) + 1
    names = [_cells(r)[0] for r in body]
    assert set(names[:-1]) == {name for _t, name, *_ in TARGETS}
    assert names[-1] == "All targets"
    assert all(len(_cells(r)) == len(header) for r in body)
    alpen = next(_cells(r) for r in body if _cells(r)[0] == "Alpenkasse")
    assert alpen[header.index("Sent")] == "5/5"
    assert alpen[header.index("Median first human response (95 % CI)")].startswith("41\u00a0min (")


def test_methods_and_evidence(md: str) -> None:
    methods = md.split("## Methods", 1)[1].split("## Evidence", 1)[0]
    for phrase in ("SMTP 250", "INTERNALDATE", "right-censored", "Kaplan–Meier", "Wilson", "opening hours"):
        assert phrase in methods
    assert "- baseline: 7\u00a0d" in methods
    assert "Pilot study" in methods
    evidence = _table_after(md, "## Evidence: every probe")
    assert len(evidence) == 2 + 40


def test_hostile_text_cannot_break_tables_or_become_markup() -> None:
    md = render_markdown(hostile_outcomes(), sample_meta(notes=(HOSTILE,)), template_env(None))
    assert "<script" not in md
    assert "<img" not in md
    for heading in ("## Results by target", "## Evidence: every probe"):
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
