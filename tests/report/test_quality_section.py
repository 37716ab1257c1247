"""The "Answers and promises" section: real answers, their Kaplan–Meier median, promises, quality, review marks.

Outcome rows are built directly (the section reads only the outcomes table), so these tests do not depend on
how the outcomes are derived from the store.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from markupsafe import escape

from replybench.analysis.columns import OutcomeTable
from replybench.analysis.outcome import Outcome
from replybench.analysis.summary import km_median, summarize, wilson
from replybench.report import render
from replybench.report import sections as sec
from replybench.report.html import render_html
from replybench.report.markdown import render_markdown
from replybench.report.render import ANSWERS_EMPTY, report_context, template_env
from tests.report.htmlcheck import assert_inert, parse
from tests.report.sample_data import (
    HOSTILE,
    START,
    WAIT,
    hostile_evidence,
    hostile_outcomes,
    make_outcome,
    report_outcomes,
    sample_evidence,
    sample_meta,
)

HOUR = 3600.0

NO_REPLY: dict[str, Any] = {
    "first_response_at": None,
    "first_response_class": None,
    "first_human_at": None,
    "response_s": None,
    "human_response_s": None,
    "human_response_business_s": None,
    "censored": True,
    "replies": 0,
}


def _answered(probe_id: str, hours: float, **overrides: Any) -> Outcome:
    """A probe whose first human reply, after ``hours``, is a real answer."""
    return make_outcome(
        probe_id=probe_id,
        first_response_at=START + timedelta(hours=hours),
        first_human_at=START + timedelta(hours=hours),
        response_s=hours * HOUR,
        human_response_s=hours * HOUR,
        human_response_business_s=hours * HOUR,
        first_answer_at=START + timedelta(hours=hours),
        answer_response_s=hours * HOUR,
        **overrides,
    )


def _study() -> list[Outcome]:
    """Two targets. ACME: three real answers, a holding reply only, a deflection, nothing; Beta: one probe."""
    due = START + timedelta(days=2)
    acme = [
        _answered("a1", 1.0, promise="within 2 business days", promise_due_at=due, promise_kept=True),
        _answered("a2", 30.0, quality=80.0, answered_all=True, personalised=True, quality_matched="x; y"),
        _answered(
            "a3",
            72.0,
            promise="binnen 48 Stunden",
            promise_due_at=due,
            promise_kept=False,
            quality=40.0,
            answered_all=False,
            personalised=False,
            quality_missing="refund date",
        ),
        make_outcome(probe_id="a4", holding=True, ticket_id="T-1"),  # a person said they would come back
        make_outcome(probe_id="a5", deflected=True, first_response_class="deflection", quality=10.0),
        make_outcome(
            probe_id="a6",
            promise="within 24 hours",
            promise_due_at=START + timedelta(hours=24),
            promise_kept=False,
            **NO_REPLY,
        ),
        make_outcome(probe_id="a7", state="failed", sent_at=None, horizon_at=None, **NO_REPLY),
    ]
    beta = [
        make_outcome(
            probe_id="b1",
            target_id="beta",
            target_name="Beta GmbH",
            promise="in 3 Werktagen",
            promise_due_at=None,
            needs_review=True,
            **NO_REPLY,
        )
    ]
    return acme + beta


def _stats(outcomes: list[Outcome]) -> tuple[dict[str, sec.AnswerStats], sec.AnswerStats]:
    table = OutcomeTable(outcomes)
    per_target, overall = sec.answer_stats(table, summarize(outcomes, by="target"))
    return {s.key: s for s in per_target}, overall


def test_counts_per_target_and_overall() -> None:
    by_key, overall = _stats(_study())
    acme = by_key["acme"]
    assert (acme.sent, acme.human, acme.answers.k, acme.answers.n) == (6, 5, 3, 6)
    assert acme.answers == wilson(3, 6), "the same Wilson interval as every other rate"
    assert (acme.deflected, acme.holding_only) == (1, 1)
    assert (acme.promises, acme.kept, acme.broken, acme.undetermined) == (3, 1, 2, 0)
    assert acme.quality == pytest.approx(40.0) and acme.scored == 3, "median of 80, 40 and 10"
    assert (acme.answered_all, acme.all_known, acme.personalised, acme.personal_known) == (1, 2, 1, 2)
    beta = by_key["beta"]
    assert (beta.sent, beta.human, beta.answers.k, beta.promises, beta.undetermined) == (1, 0, 0, 1, 1)
    assert beta.quality is None and beta.scored == 0
    assert beta.answer_time.n == 1 and beta.answer_time.median_s is None, "censored, not dropped"
    assert overall.key == "overall" and overall.label == "All targets"
    assert (overall.sent, overall.human, overall.answers.k, overall.promises) == (7, 5, 3, 4)
    assert (overall.kept, overall.broken, overall.undetermined) == (1, 2, 1)


def test_a_holding_reply_followed_by_an_answer_is_not_holding_only() -> None:
    later = _answered("h", 20.0, holding=True)
    (stats,) = _stats([later])[0].values()
    assert (stats.holding_only, stats.answers.k) == (0, 1)


def test_median_time_to_a_real_answer_is_kaplan_meier_by_hand() -> None:
    """Four probes: real answers after 1 h and 3 h; one followed only 2 h (still open), one 7 d without.

    By hand: at 1 h, 1 of 4 at risk answers, S = 3/4; at 2 h one probe leaves censored; at 3 h, 1 of the 2
    still at risk answers, S = 3/4 × 1/2 = 3/8 ≤ 1/2: the median is 3 h. (The plain median of the two
    answered probes would be 2 h, and dropping the censored probes would be wrong.)
    """
    open_probe = make_outcome(probe_id="c2", observed_until=START + timedelta(hours=2), **NO_REPLY)
    silent = make_outcome(probe_id="c7", **NO_REPLY)
    rows = [_answered("c1", 1.0), open_probe, _answered("c3", 3.0), silent]
    assert open_probe.observed_for_s() == 2 * HOUR and silent.observed_for_s() == WAIT.total_seconds()
    (acme,), overall = sec.answer_stats(OutcomeTable(rows), summarize(rows, by="target"))
    assert acme.answer_time.median_s == pytest.approx(3 * HOUR)
    assert (acme.answer_time.n, acme.answer_time.events) == (4, 2)
    assert overall.answer_time == acme.answer_time
    reference = km_median([1 * HOUR, 2 * HOUR, 3 * HOUR, WAIT.total_seconds()], [True, False, True, False])
    assert acme.answer_time == reference, "the same estimate as the headline's Kaplan–Meier machinery"


def test_a_deflection_is_a_human_reply_but_not_an_answer() -> None:
    """The headline median counts the deflection; the real-answer median waits for an answer."""
    deflected = [
        make_outcome(probe_id=f"d{i}", deflected=True, first_response_class="deflection") for i in range(2)
    ]
    rows = [*deflected, _answered("e", 5.0)]
    (acme,), _ = sec.answer_stats(OutcomeTable(rows), summarize(rows, by="target"))
    assert (acme.human, acme.answers.k, acme.deflected) == (3, 1, 2)
    assert acme.answer_time.median_s is None, "one of three answered: the curve stays above one half"
    assert summarize(rows, by="target")[0].first_human.median_s == HOUR, "the headline counts deflections"


def test_empty_table() -> None:
    per_target, overall = sec.answer_stats(OutcomeTable([]), [])
    assert per_target == [] and overall.sent == 0 and overall.answers.value is None
    assert not sec.has_answer_data(overall)


def test_section_says_so_in_one_line_when_there_is_nothing() -> None:
    nothing = [make_outcome(probe_id=f"n{i}", **NO_REPLY) for i in range(3)]
    env = template_env(None)
    html = render_html(nothing, sample_meta(), env)
    section = html.split('<section id="answers"', 1)[1].split("</section>", 1)[0].split(">", 1)[1]
    assert parse(section).plain == "Answers and promises " + ANSWERS_EMPTY
    assert "<table" not in section
    md = render_markdown(nothing, sample_meta(), env)
    body = md.split("## Answers and promises", 1)[1].split("\n## ", 1)[0]
    assert body.strip() == ANSWERS_EMPTY
    assert_inert(html)


def test_html_section_shows_the_numbers_and_the_promises() -> None:
    outcomes = _study()
    html = render_html(outcomes, sample_meta(), template_env(None))
    section = html.split('id="answers"', 1)[1].split("</section>", 1)[0]
    table = section.split('<table class="data answers sortable">', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>.*?</tr>", body, flags=re.S)
    assert [re.search(r'<span class="name">([^<]+)</span>', r).group(1) for r in rows] == [  # type: ignore[union-attr]
        "ACME Corp",
        "Beta GmbH",
    ]
    acme = rows[0]
    assert "50\u00a0% (3/6)" in acme and "19–81\u00a0%" in acme
    assert "1 / 2 / 0" in acme and ">40<" in acme and "3 scored" in acme and "1/2" in acme
    assert "All targets" in table.split("<tfoot>", 1)[1]
    promises = section.split('<table class="data promises sortable">', 1)[1].split("</table>", 1)[0]
    assert promises.count("<tr>") == 1 + 4, "header and the four promises"
    for phrase in (
        "“within 2 business days”",
        "“binnen 48 Stunden”",
        "“within 24 hours”",
        "“in 3 Werktagen”",
    ):
        assert phrase in promises
    assert promises.index("ACME Corp") < promises.index("Beta GmbH"), "league order"
    assert "state-undetermined" in promises and "state-broken" in promises and "state-kept" in promises
    nav = [a["href"] for a in parse(html).find("a") if (a.get("href") or "").startswith("#")]
    assert "#answers" in nav
    assert_inert(html)


def test_markdown_section_has_the_same_content() -> None:
    outcomes = _study()
    md = render_markdown(outcomes, sample_meta(), template_env(None))
    body = md.split("## Answers and promises", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in body.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header[:3] == ["Target", "Sent", "Human replies"]
    assert header[3:5] == ["Real answers (95 % CI)", "Median to a real answer (95 % CI)"]
    acme = [c.strip() for c in lines[2].strip("|").split("|")]
    assert acme[0] == "ACME Corp"
    assert acme[3] == "50\u00a0% (3/6), 19–81\u00a0%"
    assert acme[header.index("Kept / broken / undetermined")] == "1 / 2 / 0"
    assert acme[header.index("Median quality")] == "40 (3 scored)"
    assert any(line.startswith("| All targets") for line in lines)
    assert "### Promises made" in body and "“binnen 48 Stunden”" in body


def test_the_fixture_section_in_both_formats() -> None:
    outcomes = report_outcomes()
    ctx = report_context(outcomes, sample_meta(), sample_evidence(outcomes))
    assert ctx["has_answers"]
    assert [a.stats.label for a in ctx["answers"]] == [lr.row.summary.label for lr in ctx["league"]]
    overall = ctx["answers_overall"].stats
    assert (overall.sent, overall.human, overall.deflected, overall.holding_only) == (41, 29, 1, 1)
    assert overall.answers.k == 27, "29 human replies, less a deflection and a holding reply alone"
    assert ctx["promise_total"] == len(ctx["promises"]) == overall.promises == 30
    assert ctx["needs_review"] == 2


def test_review_marks_in_summary_sample_and_evidence() -> None:
    outcomes = _study()
    html = render_html(outcomes, sample_meta(), template_env(None))
    summary = html.split('id="summary"', 1)[1].split("</section>", 1)[0]
    assert "1 probe has a message the machine was unsure of" in summary
    assert "<code>replybench review</code>" in summary
    sample = dict(re.findall(r"<th scope=\"row\">([^<]+)</th><td class=\"num\">([^<]+)</td>", html))
    assert sample["Needing a person&#39;s review"] == "1"
    methods = html.split('id="methods"', 1)[1].split('id="evidence"', 1)[0]
    assert "Needs review" in methods and "replybench review" in methods
    evidence = html.split('id="evidence"', 1)[1]
    assert evidence.count("state-needs-review") == 1
    md = render_markdown(outcomes, sample_meta(), template_env(None))
    assert "run `replybench review`" in md.split("## League table", 1)[0]
    quiet = render_html([make_outcome()], sample_meta(), template_env(None))
    assert "unsure of" not in quiet.split('id="methods"', 1)[0]


def test_methods_define_answers_promises_and_quality() -> None:
    html = render_html(_study(), sample_meta(), template_env(None))
    methods = parse(html.split('id="methods"', 1)[1].split('id="evidence"', 1)[0]).plain
    for phrase in (
        "Real answer",
        "neither a deflection nor a holding reply",
        "Holding reply",
        "Deflection",
        "Promise kept",
        "kept when the first real answer came by that deadline",
        "none came though we watched past the deadline; undetermined otherwise",
        "R = share of required points found (1 when there are none)",
        "O = share of optional points found",
        "score = 100·R without optional points, else 100·(0.8·R + 0.2·O)",
        "minus 25 per forbidden point found; clamped to [0, 100]",
        "A probe's quality is its best human reply's score",
        "Personalisation is reported beside it and does not change the score",
    ):
        assert phrase in methods, phrase


def test_capped_like_the_league(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "TABLE_MAX_ROWS", 4)
    monkeypatch.setattr(render, "TABLE_EDGE_ROWS", 2)
    monkeypatch.setattr(render, "PROMISES_MAX_ROWS", 5)
    outcomes = report_outcomes()
    ctx = report_context(outcomes, sample_meta(), sample_evidence(outcomes))
    assert [a.stats.label for a in ctx["answers"]] == [lr.row.summary.label for lr in ctx["league"]]
    assert len(ctx["answers"]) == 4 and ctx["league_gap"]
    assert ctx["answers_overall"].stats.sent == 41, "the overall row still counts every probe"
    assert len(ctx["promises"]) == 5 and ctx["promise_total"] == 30
    assert "Showing the first 5 of 30 stated promises" in ctx["promises_note"]
    assert ("Promises", ctx["promises_note"]) in ctx["scale_notes"]
    html = render_html(outcomes, sample_meta(), template_env(None), sample_evidence(outcomes))
    section = html.split('id="answers"', 1)[1].split("</section>", 1)[0]
    assert section.count('<tr class="gap">') == 1
    assert "Showing the first 5 of 30 stated promises" in section
    md = render_markdown(outcomes, sample_meta(), template_env(None), sample_evidence(outcomes))
    body = md.split("## Answers and promises", 1)[1].split("\n## ", 1)[0]
    assert "… 5 more …" in body


def test_promises_link_to_evidence_rows_only_when_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "EVIDENCE_MAX_PROBES", 10)
    outcomes = report_outcomes()
    ctx = report_context(outcomes, sample_meta(), sample_evidence(outcomes))
    shown = {p.outcome.probe_id for p in ctx["probes"]}
    assert all(p.linked == (p.probe_id in shown) for p in ctx["promises"])
    assert any(p.linked for p in ctx["promises"]) and not all(p.linked for p in ctx["promises"])


def test_hostile_promise_points_ticket_and_reviewer_are_escaped() -> None:
    html = render_html(
        hostile_outcomes(), sample_meta(notes=(HOSTILE,)), template_env(None), hostile_evidence()
    )
    assert_inert(html)
    lowered = html.lower()
    for raw in ("<script>alert", "<img", "<svg onload", '<a href="javascript', "</script><script>"):
        assert raw not in lowered, raw
    escaped = "&lt;svg onload=alert(1)&gt;"
    answers = html.split('id="answers"', 1)[1].split("</section>", 1)[0]
    promises = answers.split('<table class="data promises sortable">', 1)[1]
    assert promises.count(escaped) >= 1, "the promise phrase, as text"
    probes = html.split('<table class="data evidence sortable">', 1)[1].split("</table>", 1)[0]
    evil = next(r for r in re.findall(r"<tr id=\"probe-p-evil\".*?</tr>", probes, flags=re.S))
    assert evil.count(escaped) >= 3, "ticket id, rubric points found and missing"
    messages = html.split('<table class="data messages sortable">', 1)[1].split("</table>", 1)[0]
    rows = [r for r in re.findall(r"<tr[ >].*?</tr>", messages, flags=re.S) if "p-evil" in r]
    assert len(rows) == 2
    for row in rows:
        # the reviewer, their note, what the machine said, the deflection phrase and the ticket: as text
        for shown in (
            f"decided by {escape(HOSTILE[:120])}",
            f"“{escape(HOSTILE[:120])}”",
            f"machine: <s>{escape(HOSTILE[:80])}, matched to {escape(HOSTILE[:80])}</s>",
            f"deflection: “{escape(HOSTILE[:120])}”",
            f"ticket {escape(HOSTILE[:120])}",
            "holding reply",
            "(0.40)",
        ):
            assert shown in row, shown
    text = "".join(parse(html).text)
    assert "decided by <script>alert(1)</script>" in text


def test_hostile_fields_keep_markdown_tables_whole() -> None:
    md = render_markdown(
        hostile_outcomes(), sample_meta(notes=(HOSTILE,)), template_env(None), hostile_evidence()
    )
    assert "<script" not in md and "<svg" not in md and "](javascript" not in md
    for heading in ("## Answers and promises", "### Promises made", "### Every probe", "### Every message"):
        section = md.split(heading, 1)[1]
        lines = section.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("|"))
        end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
        widths = {len(re.split(r"(?<!\\)\|", r.strip())) for r in lines[start:end]}
        assert len(widths) == 1, f"a cell broke the table under {heading}"


def test_message_views_show_decisions_flags_and_the_real_answer() -> None:
    outcomes = report_outcomes()
    views = sec.message_views(sample_evidence(outcomes), outcomes)
    decided = [v for v in views if v.decided]
    assert len(decided) == 1
    (d,) = decided
    assert d.decided.startswith("decided by m.keller · 2025-03-11 16:05:00")
    assert d.machine == "auto ack" and d.cls == "human"
    assert d.decision_note == "signed by an agent; the template fooled the rule"
    assert any(f.startswith("deflection: “Bitte rufen") for v in views for f in v.flags)
    assert any("holding reply" in v.flags for v in views)
    assert any(f == "ticket #48001" for v in views for f in v.flags)
    assert all(v.matched.endswith(")") for v in views), "every fixture match has a confidence"
    by_probe = {o.probe_id: o for o in outcomes}
    for v in views:
        o = by_probe[v.row.probe_id]
        assert v.answer == (o.first_answer_at is not None and v.row.received_at == o.first_answer_at)
    assert sum(v.answer for v in views) >= 20


def test_a_person_reassigning_a_probe_is_noted() -> None:
    (row,) = [m for m in sample_evidence() if m.cls == "bounce"][:1]
    moved = replace(row, decided_by="anna", machine_probe_id="", machine_cls=None)
    (view,) = sec.message_views([moved], report_outcomes())
    assert view.machine == "matched to no probe" and view.decided.startswith("decided by anna")
    elsewhere = replace(moved, machine_probe_id="01JNQ999XXXX", machine_cls="human")
    (view,) = sec.message_views([elsewhere], report_outcomes())
    assert view.machine == "human, matched to 01JNQ999XXXX"
