"""The HTML report: self-contained, escaped, one hashed script, and the sections and numbers it promises."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from replybench.report.html import CSP, SORT_SCRIPT, content_security_policy, render_html, script_hash
from replybench.report.render import template_env, write_reports
from tests.report.htmlcheck import assert_inert, csp_of, parse, sha256_source
from tests.report.sample_data import (
    HOSTILE,
    TARGETS,
    hostile_evidence,
    hostile_outcomes,
    make_outcome,
    report_outcomes,
    sample_evidence,
    sample_meta,
)

SECTIONS = (
    "summary",
    "league",
    "channels",
    "curves",
    "distribution",
    "timing",
    "acknowledgements",
    "answers",
    "bounces",
    "methods",
    "evidence",
)


@pytest.fixture(scope="module")
def sample_html() -> str:
    outcomes = report_outcomes()
    return render_html(outcomes, sample_meta(), template_env(None), sample_evidence(outcomes))


@pytest.fixture(scope="module")
def hostile_html() -> str:
    return render_html(
        hostile_outcomes(), sample_meta(notes=(HOSTILE,)), template_env(None), hostile_evidence()
    )


def _table(html: str, cls: str) -> str:
    return html.split(f'<table class="{cls}">', 1)[1].split("</table>", 1)[0]


def _body_rows(table: str) -> list[str]:
    body = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr[ >].*?</tr>", body, flags=re.S)


def test_csp_allows_exactly_our_sort_script_by_hash(sample_html: str) -> None:
    page = parse(sample_html)
    csp = csp_of(page)
    assert csp == CSP == content_security_policy(SORT_SCRIPT)
    assert csp.startswith("default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-")
    assert page.scripts == [SORT_SCRIPT]
    assert script_hash(SORT_SCRIPT) == sha256_source(page.scripts[0])
    assert f"script-src {sha256_source(page.scripts[0])};" in csp
    first = [t for t, _ in page.tags if t in {"meta", "style", "title", "script"}][:2]
    assert first == ["meta", "meta"], "charset and CSP come before anything else"
    assert_inert(sample_html)


def test_a_changed_script_gets_a_different_hash() -> None:
    assert script_hash(SORT_SCRIPT) != script_hash(SORT_SCRIPT + " ")
    assert script_hash(SORT_SCRIPT) in content_security_policy(SORT_SCRIPT)


def test_reply_derived_markup_survives_only_as_escaped_text(hostile_html: str) -> None:
    assert_inert(hostile_html)
    lowered = hostile_html.lower()
    for raw in (
        "<script>alert",
        "<img",
        "<svg onload",
        '<a href="javascript',
        "<p style",
        "</script><script>",
    ):
        assert raw not in lowered, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile_html
    text = "".join(parse(hostile_html).text)
    for shown in (
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        'href="javascript:alert(2)"',
        "expression(alert(3))",
        "<img src=http://evil.example/pixel.png>",
    ):
        assert shown in text, f"the payload is shown to the reader as text: {shown}"
    # in the evidence: the subject, excerpt, rule, classifier evidence and Message-ID all carry the payload
    messages = _table(hostile_html, "data messages sortable")
    assert messages.count("&lt;svg onload=alert(1)&gt;") >= 8
    for _tag, attrs in parse(hostile_html).tags:
        for name, value in attrs.items():
            if value is not None and name != "title" and name != "data-sort":
                assert not value.strip().lower().startswith("javascript:")
                assert "http://" not in value and "https://" not in value


def test_page_has_every_section(sample_html: str) -> None:
    page = parse(sample_html)
    ids = {a.get("id") for _, a in page.tags}
    assert set(SECTIONS) <= ids
    nav = [a["href"] for a in page.find("a") if (a.get("href") or "").startswith("#") and not a.get("class")]
    assert nav[: len(SECTIONS)] == [f"#{s}" for s in SECTIONS]
    headings = re.findall(r"<h2 id=\"h-[a-z]+\">([^<]+)</h2>", sample_html)
    assert headings == [
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


def test_methods_state_definitions_clocks_index_and_sample(sample_html: str) -> None:
    methods = parse(sample_html.split('id="methods"', 1)[1].split('id="evidence"', 1)[0]).plain
    for phrase in (
        "SMTP 250",
        "INTERNALDATE",
        "right-censored",
        "Kaplan–Meier",
        "Wilson",
        "opening hours",
        "out-of-office",
        "smtp-receipt",
        "imap-internaldate",
        "Responsiveness index = 100 ×",
        "In this report h = 7 d",
        "Pilot study",
        "baseline",
    ):
        assert phrase in methods, phrase
    # the clock table lists the clocks this report's times come from, not every clock there is
    assert "sent-copy-receipt" not in methods and "mastodon-created_at" not in methods
    sample = dict(re.findall(r"<th scope=\"row\">([^<]+)</th><td class=\"num\">([^<]+)</td>", sample_html))
    assert sample["Probes planned"] == "45"
    assert sample["Sent (enter timing and rates)"] == "41"
    assert sample["Channels"] == "2"
    assert sample["Messages matched to probes"] == str(len(sample_evidence()))
    assert sample["arrived after the limit (not counted)"] == "1"


def test_league_table_ranks_by_the_index_with_its_numbers(sample_html: str) -> None:
    table = _table(sample_html, "data league sortable")
    headers = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<th scope=\"col\"[^>]*>(.*?)</th>", table)]
    assert headers == [
        "Rank",
        "Target",
        "Index",
        "Sent",
        "Human reply rate",
        "Median first human reply",
        "90 % answered by",
        "Within 1 h",
        "Within 4 h",
        "Within 24 h",
        "Business-time median",
        "Censored",
    ]
    rows = _body_rows(table)
    assert len(rows) == len(TARGETS)
    names = [re.search(r'<span class="name">([^<]+)</span>', r).group(1) for r in rows]  # type: ignore[union-attr]
    indexes = [float(re.search(r'class="num headline" data-sort="([^"]+)"', r).group(1)) for r in rows]  # type: ignore[union-attr]
    assert indexes == sorted(indexes, reverse=True), "highest index first"
    assert names[0] == "Alpenkasse"
    assert names[-1] == "FunkFix"
    ranks = [int(re.search(r'class="num rank" data-sort="(\d+)"', r).group(1)) for r in rows]  # type: ignore[union-attr]
    intervals = [re.search(r'title="95 % bootstrap rank interval">(\d+)–(\d+)</span>', r) for r in rows]
    assert ranks == list(range(1, len(TARGETS) + 1))
    for rank, interval in zip(ranks, intervals, strict=True):
        assert interval is not None, "every ranked target shows its bootstrap rank interval"
        assert int(interval.group(1)) <= rank <= int(interval.group(2))
    alpen = rows[0]
    assert "41\u00a0min" in alpen
    assert "100\u00a0% (5/5)" in alpen
    assert "3\u00a0h\u00a05\u00a0min" in alpen  # p90: the fifth reply after 3 h 5 min
    assert "All targets" in table.split("<tfoot>", 1)[1]


def test_channel_comparison_lists_both_channels(sample_html: str) -> None:
    rows = _body_rows(_table(sample_html, "data channels sortable"))
    assert len(rows) == 2
    assert ">email<" not in rows[0] or "28/30" in rows[0]
    assert "28/30" in rows[0] and "13/15" in rows[1]
    page = parse(sample_html.split('id="channels"', 1)[1].split('id="curves"', 1)[0])
    assert len(page.with_class("path", "curve-human")) == 2
    assert len(page.with_class("path", "curve-any")) == 2


def test_small_multiples_have_one_panel_per_target_in_league_order(sample_html: str) -> None:
    section = sample_html.split('id="curves"', 1)[1].split('id="distribution"', 1)[0]
    page = parse(section)
    panels = page.with_class("div", "mult")
    assert len(panels) == len(TARGETS)
    names = re.findall(r'<span class="mult-name">([^<]+)</span>', section)
    league = _body_rows(_table(sample_html, "data league sortable"))
    assert names == [re.search(r'<span class="name">([^<]+)</span>', r).group(1) for r in league]  # type: ignore[union-attr]
    assert len(page.with_class("path", "curve-ref")) == len(TARGETS), "the overall curve behind each panel"


def test_small_multiples_stay_a_grid_with_fifty_targets() -> None:
    outcomes = [
        make_outcome(
            probe_id=f"p{t}-{i}",
            target_id=f"t{t:02d}",
            target_name=f"Company {t:02d}",
            human_response_s=600.0 * (t + 1) * (i + 1),
            response_s=600.0 * (t + 1) * (i + 1),
        )
        for t in range(50)
        for i in range(3)
    ]
    html = render_html(outcomes, sample_meta(), template_env(None))
    page = parse(html)
    assert len(page.with_class("div", "mult")) == 50
    assert len(page.with_class("div", "strip-row")) == 50 + 1  # one per target and the axis
    assert_inert(html)


def test_distribution_and_heatmap(sample_html: str) -> None:
    section = sample_html.split('id="distribution"', 1)[1].split('id="acknowledgements"', 1)[0]
    axis = section.split('class="buckets-x"', 1)[1].split("</div>", 1)[0]
    labels = re.findall(r'<span class="[^"]*" style="left: [^"]+">([^<]+)</span>', axis)
    assert labels[0] == "&lt; 1 min" and labels[-1] == "no reply by the limit"
    counts = [int(n) for n in re.findall(r'<span class="bar-human-n"[^>]*>(\d+)</span>', section)]
    assert sum(counts) == 41, "every sent probe once: a human reply bucket or no reply by the limit"
    cells = parse(section).with_class("div", "hm-cell")
    assert len(cells) == 7 * 24 + 7 + 24 + 1
    assert any("hm-nr" in (c.get("class") or "") for c in cells)


def test_acknowledgement_split_and_bounces(sample_html: str) -> None:
    rows = _body_rows(_table(sample_html, "data split sortable"))
    assert len(rows) == len(TARGETS)
    kredit = next(r for r in rows if "Kreditwerk" in r)
    assert re.findall(r'data-sort="(\d+)">\d+</td>', kredit) == ["2", "0", "0", "2"]
    bounces = _body_rows(_table(sample_html, "data bounces sortable"))
    assert len(bounces) == 1 and "FunkFix" in bounces[0]
    assert "Action: failed; Status: 5.1.1" in bounces[0]
    assert "2 of 41 sent inquiries bounced" in sample_html


def test_evidence_lists_every_probe_and_every_message(sample_html: str) -> None:
    probes = _body_rows(_table(sample_html, "data evidence sortable"))
    assert len(probes) == 45
    assert sum('class="unsent"' in r for r in probes) == 4
    body = "".join(probes)
    assert "2025-03-03 08:00:01.234" in body
    assert "smtp-receipt" in body and "imap-internaldate" in body
    assert body.count("censored</span>") == 12
    messages = _body_rows(_table(sample_html, "data messages sortable"))
    assert len(messages) == len(sample_evidence())
    late = [m for m in messages if 'class="late"' in m]
    assert len(late) == 1 and "after the limit" in late[0]
    human = next(m for m in messages if "first human reply" in m)
    for part in ("text:personal-reply", "0.86", "@mx.", "Guten Tag", "Rule saw:", "matched by in-reply-to"):
        assert part in human, part
    anchors = {a.get("id") for _, a in parse(sample_html).tags}
    for link in re.findall(r'href="#(probe-[^"]+)"', sample_html):
        assert link in anchors, "every message links to its probe's row"


def test_sortable_tables_carry_numeric_sort_keys(sample_html: str) -> None:
    page = parse(sample_html)
    sortable = page.with_class("table", "sortable")
    assert len(sortable) >= 6
    league = _table(sample_html, "data league sortable")
    medians = re.findall(r'class="num headline[^"]*" data-sort="([^"]*)"', league)
    assert "Infinity" in re.findall(r'data-sort="(Infinity)"', league)
    assert all(re.fullmatch(r"[0-9.e+-]+|Infinity|", m) for m in medians)


def test_renders_edge_cases_without_data() -> None:
    env = template_env(None)
    empty = render_html([], sample_meta(), env)
    assert "No inquiry has been sent yet" in empty
    assert "No inquiry bounced." in empty
    assert "No message evidence" in empty
    assert_inert(empty)
    unsent = [replace(o, sent_at=None, horizon_at=None, state="blocked") for o in report_outcomes()[:3]]
    html = render_html(unsent, sample_meta(wait_limits={}), env)
    assert "not recorded" in html
    assert_inert(html)
    silent = [
        make_outcome(
            probe_id=f"s{i}",
            first_response_at=None,
            first_response_class=None,
            first_human_at=None,
            response_s=None,
            human_response_s=None,
            human_response_business_s=None,
            censored=True,
            timezone="Not/AZone",
        )
        for i in range(3)
    ]
    html = render_html(silent, sample_meta(), env)
    assert "not reached" in html
    assert "3 inquiries without a known time zone are placed by UTC" in html
    assert_inert(html)


def test_workspace_templates_override_packaged_ones_and_stay_escaped(tmp_path: Path) -> None:
    (tmp_path / "report.html.j2").write_text("<h1>{{ meta.title }}</h1>{{ lede }}", encoding="utf-8")
    env = template_env(tmp_path)
    html = render_html(report_outcomes(), sample_meta(title="<b>Custom</b>"), env)
    assert html.startswith("<h1>&lt;b&gt;Custom&lt;/b&gt;</h1>")
    assert env.get_template("report.md.j2") is not None


def test_write_reports_writes_both_files_with_evidence(tmp_path: Path) -> None:
    outcomes = report_outcomes()
    paths = write_reports(outcomes, sample_meta(), tmp_path / "out", None, sample_evidence(outcomes))
    assert paths.html == tmp_path / "out" / "report.html"
    assert paths.markdown == tmp_path / "out" / "report.md"
    html = paths.html.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert "Guten Tag Frau Berger" in html
    assert "Guten Tag Frau Berger" in paths.markdown.read_text(encoding="utf-8")
    # the old positional call still works, without evidence
    paths = write_reports(outcomes, sample_meta(), tmp_path / "plain")
    assert "No message evidence" in paths.html.read_text(encoding="utf-8")
