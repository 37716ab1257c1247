"""Reports of large studies: every statistic over all probes, long lists shown in part and saying so.

A behaviour test, not a timing test: a synthetic 20,000-probe / 2,000-target study must give a readable
report of bounded size whose capped lists carry their notes, with every target's numbers in targets.csv.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from replybench.analysis.columns import OutcomeTable
from replybench.analysis.survival import GroupedKM
from replybench.analysis.synthetic import SYNTHETIC_WAIT_S, synthetic_outcomes
from replybench.report import html as html_module
from replybench.report import render
from replybench.report import sections as sec
from replybench.report.export import TARGET_FIELDS
from replybench.report.limits import (
    CHART_EDGE_TARGETS,
    CURVE_MAX_POINTS,
    EVIDENCE_MAX_PROBES,
    TABLE_EDGE_ROWS,
    TARGETS_CSV,
    ends,
)
from replybench.report.render import ReportMeta, write_reports
from tests.report.htmlcheck import assert_inert, parse
from tests.report.sample_data import make_outcome, report_outcomes, sample_evidence, sample_meta

PROBES, TARGETS = 20_000, 2_000
HTML_LIMIT = 6_000_000  # bytes; the uncapped report of this study was over 100 MB
MARKDOWN_LIMIT = 1_000_000


def _meta() -> ReportMeta:
    return ReportMeta(
        title="Scale study",
        workspace="bench",
        suites=("baseline",),
        runs=("run-1", "run-2"),
        generated_at=datetime(2025, 3, 20, tzinfo=UTC),
        wait_limits={"baseline": SYNTHETIC_WAIT_S},
    )


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> render.ReportPaths:
    outcomes = synthetic_outcomes(PROBES, targets=TARGETS, channels=5, seed=3)
    return write_reports(outcomes, _meta(), tmp_path_factory.mktemp("big"))


@pytest.fixture(scope="module")
def big_html(big: render.ReportPaths) -> str:
    return big.html.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def big_md(big: render.ReportPaths) -> str:
    return big.markdown.read_text(encoding="utf-8")


def _section(html: str, name: str, following: str) -> str:
    return html.split(f'id="{name}"', 1)[1].split(f'id="{following}"', 1)[0]


def _body_rows(html: str, cls: str) -> list[str]:
    table = html.split(f'<table class="{cls}">', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr[ >].*?</tr>", body, flags=re.S)


def test_the_big_report_stays_a_sane_size(big: render.ReportPaths, big_html: str) -> None:
    assert big.html.stat().st_size < HTML_LIMIT
    assert big.markdown.stat().st_size < MARKDOWN_LIMIT
    assert_inert(big_html)


def test_statistics_use_every_probe(big_html: str) -> None:
    sample = dict(re.findall(r"<th scope=\"row\">([^<]+)</th><td class=\"num\">([^<]+)</td>", big_html))
    assert sample["Probes planned"] == f"{PROBES:,}"
    assert sample["Targets"] == f"{TARGETS:,}"
    counts = [int(n.replace(",", "")) for n in re.findall(r'class="bar-human-n"[^>]*>([\d,]+)<', big_html)]
    assert sum(counts) == int(sample["Sent (enter timing and rates)"].replace(",", "")), "the distribution"
    cells = parse(_section(big_html, "timing", "acknowledgements")).with_class("div", "hm-cell")
    assert len(cells) == 7 * 24 + 7 + 24 + 1


def test_league_shows_both_ends_with_a_gap_row_and_a_note(big_html: str) -> None:
    rows = _body_rows(big_html, "data league sortable")
    gaps = [r for r in rows if 'class="gap"' in r]
    assert len(rows) == 2 * TABLE_EDGE_ROWS + 1 and len(gaps) == 1
    assert rows.index(gaps[0]) == TABLE_EDGE_ROWS
    hidden = TARGETS - 2 * TABLE_EDGE_ROWS
    assert (
        f"{hidden:,} targets in league places {TABLE_EDGE_ROWS + 1}–{TARGETS - TABLE_EDGE_ROWS:,}" in gaps[0]
    )
    note = (
        f"Showing the {TABLE_EDGE_ROWS} highest- and {TABLE_EDGE_ROWS} lowest-ranked of {TARGETS:,} targets"
    )
    league = _section(big_html, "league", "channels")
    assert note in league and TARGETS_CSV in league
    ranks = [
        int(m.replace(",", "")) for m in re.findall(r'class="num rank" data-sort="(\d+)"', "".join(rows))
    ]
    assert ranks == sorted(ranks) and ranks[-1] > TARGETS - TABLE_EDGE_ROWS - 1
    # the gap row sorts between the two ends when sorted by rank again
    gap_sort = float(re.search(r'class="num rank" data-sort="([\d.]+)"', gaps[0]).group(1))  # type: ignore[union-attr]
    assert ranks[TABLE_EDGE_ROWS - 1] < gap_sort < ranks[TABLE_EDGE_ROWS]
    split = _body_rows(big_html, "data split sortable")
    assert len(split) == 2 * TABLE_EDGE_ROWS + 1 and 'class="gap"' in split[TABLE_EDGE_ROWS]


def test_per_target_charts_show_both_ends(big_html: str) -> None:
    shown = 2 * CHART_EDGE_TARGETS
    note = f"Showing the {CHART_EDGE_TARGETS} highest- and {CHART_EDGE_TARGETS} lowest-ranked of {TARGETS:,}"
    curves = parse(_section(big_html, "curves", "distribution"))
    assert len(curves.with_class("div", "mult")) == shown
    assert len(curves.with_class("div", "mult-gap")) == 1
    assert note in _section(big_html, "curves", "distribution")
    distribution = _section(big_html, "distribution", "timing")
    strip = parse(distribution)
    assert len(strip.with_class("div", "strip-row")) == shown + 2  # the targets, the gap, the axis
    assert note in distribution
    bars = parse(_section(big_html, "league", "channels")).with_class("div", "bar-row")
    assert len(bars) == shown + 3  # all targets, the targets, the gap, the axis


def test_evidence_shows_the_most_recent_probes(big_html: str) -> None:
    rows = _body_rows(big_html, "data evidence sortable")
    assert len(rows) == EVIDENCE_MAX_PROBES
    assert f"Showing the {EVIDENCE_MAX_PROBES:,} most recently sent of {PROBES:,} probes" in big_html
    sent = sorted(re.findall(r'data-label="Sent at" class="mono" data-sort="([^"]+)"', "".join(rows)))
    everything = synthetic_outcomes(PROBES, targets=TARGETS, channels=5, seed=3)
    times = sorted((o.sent_at.timestamp() for o in everything if o.sent_at), reverse=True)
    assert float(min(sent, key=float)) >= times[EVIDENCE_MAX_PROBES - 1] - 1e-3


def test_rank_intervals_within_the_budget_and_said_in_methods(big_html: str) -> None:
    methods = parse(_section(big_html, "methods", "evidence")).plain
    assert "1,000 resamples" in methods
    assert "Shown in part" in methods and "Per-target tables" in methods and "Evidence" in methods
    assert re.search(r'title="95 % bootstrap rank interval">[\d,]+–[\d,]+</span>', big_html)


def test_markdown_applies_the_same_caps(big_md: str) -> None:
    league = big_md.split("## League table", 1)[1].split("### All measures by target", 1)[0]
    table = [line for line in league.splitlines() if line.startswith("|")]
    assert len(table) == 2 + 2 * TABLE_EDGE_ROWS + 1 + 1  # header, rule, targets, gap, All targets
    assert f"Showing the {TABLE_EDGE_ROWS} highest- and {TABLE_EDGE_ROWS} lowest-ranked" in league
    assert f"… {TARGETS - 2 * TABLE_EDGE_ROWS:,} more …" in league
    curves = big_md.split("## Still waiting, by target", 1)[1].split("## How long", 1)[0]
    assert (
        len([line for line in curves.splitlines() if line.startswith("|")]) == 2 + 2 * CHART_EDGE_TARGETS + 1
    )
    evidence = big_md.split("### Every probe", 1)[1].split("### Every message", 1)[0]
    assert len([line for line in evidence.splitlines() if line.startswith("|")]) == 2 + EVIDENCE_MAX_PROBES
    assert f"of {PROBES:,} probes" in evidence
    assert "### Shown in part" in big_md


def test_targets_csv_has_every_target_in_league_order(big: render.ReportPaths) -> None:
    assert big.targets is not None and big.targets.name == TARGETS_CSV
    with big.targets.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == TARGET_FIELDS
    body = rows[1:]
    assert len(body) == TARGETS and len({r[3] for r in body}) == TARGETS
    ranks = [int(r[0]) for r in body]
    assert ranks == sorted(ranks) and ranks[0] == 1
    assert all(r[0] and (r[1] == "" or int(r[1]) <= int(r[0]) <= int(r[2])) for r in body)
    medians = [r[TARGET_FIELDS.index("median_human_s")] for r in body]
    assert all(m == "inf" or float(m) > 0 for m in medians if m)


def test_caps_that_the_big_study_does_not_reach(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Bounces, rank intervals and strip dots are capped too; lowered limits show each note."""
    monkeypatch.setattr(render, "BOUNCE_MAX_ROWS", 3)
    monkeypatch.setattr(render, "BOUNCE_TOP_ROWS", 2)
    monkeypatch.setattr(render, "RANK_BOOTSTRAP_CELLS", 10)
    monkeypatch.setattr(html_module, "STRIP_MAX_PROBES", 4)
    outcomes = synthetic_outcomes(3000, targets=100, channels=2, seed=5)
    paths = write_reports(outcomes, _meta(), tmp_path)
    html = paths.html.read_text(encoding="utf-8")
    md = paths.markdown.read_text(encoding="utf-8")
    assert len(_body_rows(html, "data bounces sortable")) == 2
    assert re.search(r"Showing the 2 targets with the most bounced inquiries of \d+ targets", html)
    assert "no rank intervals" in html and "bootstrap rank interval" not in html
    assert "no rank intervals" in md
    assert "show 4 of them, every k-th in order of time" in html
    dots = re.findall(r'class="strip-row" title="[^"]*"', html)
    assert dots and all(len(t.split("; ")) <= 2 * 4 for t in dots), "at most 4 probes (2 marks each)"


def test_evidence_and_messages_of_a_capped_small_report(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "EVIDENCE_MAX_PROBES", 10)
    outcomes = report_outcomes()
    evidence = sample_evidence(outcomes)
    ctx = render.report_context(outcomes, sample_meta(), evidence)
    assert len(ctx["probes"]) == 10 and "of 45 probes" in ctx["probes_note"]
    shown = {p.outcome.probe_id for p in ctx["probes"]}
    assert {m.row.probe_id for m in ctx["messages"]} <= shown
    assert f"of {len(evidence)} matched messages" in ctx["messages_note"]
    when = {o.probe_id: o.sent_at or o.due_at for o in outcomes}  # probes never sent: when they were due
    recent = sorted(when, key=lambda p: when[p] or datetime.min.replace(tzinfo=UTC), reverse=True)[:10]
    assert shown == set(recent)


def test_small_reports_are_not_capped() -> None:
    ctx = render.report_context(report_outcomes(), sample_meta(), sample_evidence())
    for key in ("league_note", "chart_note", "bounce_note", "probes_note", "messages_note", "league_gap"):
        assert ctx[key] == "", key
    assert ctx["scale_notes"] == []
    assert ends([1, 2, 3], 3, 1).items == (1, 2, 3)
    capped = ends(list(range(10)), 5, 2)
    assert (capped.items, capped.head, capped.hidden, capped.capped) == ((0, 1, 8, 9), 2, 6, True)


@pytest.mark.parametrize(
    "zone",
    ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"],
)
def test_heatmap_cells_match_astimezone_across_transitions(zone: str) -> None:
    # every 7 minutes 13 seconds around the spring and autumn transitions of 2025 (and a normal week)
    rng = np.random.default_rng(0)
    starts = [
        datetime(2025, 3, 28, tzinfo=UTC),
        datetime(2025, 10, 3, tzinfo=UTC),
        datetime(2025, 6, 1, tzinfo=UTC),
    ]
    times = [s + timedelta(seconds=float(x)) for s in starts for x in rng.uniform(0, 5 * 86400, 400)]
    epoch = np.array([t.timestamp() for t in times])
    got = sec._local_day_hour(epoch, ZoneInfo(zone))
    local = [t.astimezone(ZoneInfo(zone)) for t in times]
    assert got.tolist() == [t.weekday() * 24 + t.hour for t in local]


def test_heatmap_of_a_table_equals_the_row_by_row_definition() -> None:
    rows = [
        make_outcome(
            probe_id=f"p{i}", sent_at=datetime(2025, 3, 29, 20, tzinfo=UTC) + timedelta(minutes=37 * i)
        )
        for i in range(60)
    ]
    hm = sec.heatmap_of(OutcomeTable(rows))
    for o in rows:
        assert o.sent_at is not None
        local = o.sent_at.astimezone(ZoneInfo("Europe/Berlin"))
        assert hm.rows[local.weekday()][local.hour].n >= 1
    assert sum(c.n for row in hm.rows for c in row) == len(rows) == hm.overall.n


def test_long_curves_are_thinned_to_screen_resolution() -> None:
    rng = np.random.default_rng(2)
    durations = rng.lognormal(8, 2, 20_000)
    observed = rng.random(20_000) < 0.7
    km = GroupedKM(np.zeros(durations.size, dtype=np.int64), durations, observed, 1)
    curve = sec.curve_of(km, 0)
    assert CURVE_MAX_POINTS < len(curve.times) < km.times.size / 4
    assert curve.times[0] == km.times[0] and curve.times[-1] == km.times[-1]
    assert curve.survival[-1] == km.survival[-1], "the curve ends where the estimate ends"
    assert list(curve.times) == sorted(curve.times)
