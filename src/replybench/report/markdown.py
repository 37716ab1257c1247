"""The Markdown report: GitHub-flavoured, tables by tabulate, the sections of the HTML report as tables.

Every value placed in the report goes through :func:`replybench.report.render.md_escape`, so reply-derived
strings render as text (no HTML, links or table breaks). Charts become the tables they are drawn from: the
Kaplan–Meier curves are given as shares answered by fixed times, the distribution as counts per interval,
the heatmap as a weekday × hour grid of compact medians.
"""

from __future__ import annotations

from collections.abc import Sequence

import jinja2
from tabulate import tabulate

from replybench.analysis.evidence import MessageRow
from replybench.analysis.outcome import Outcome
from replybench.report.render import (
    NBSP,
    AnswerRow,
    GroupRow,
    LeagueRow,
    ProbeRow,
    ReportData,
    ReportMeta,
    build_report,
    md_escape,
)
from replybench.report.sections import (
    SPLIT_CATEGORIES,
    WEEKDAYS,
    BounceRow,
    Bucket,
    Heatmap,
    MessageView,
    PromiseView,
    Share,
    SplitRow,
)
from replybench.timefmt import format_duration


def _with_ci(value: str, ci: str) -> str:
    return f"{value} ({ci})" if ci else value


def _rate_ci(value: str, ci: str) -> str:
    return f"{value}, {ci}" if ci else value


Gap = tuple[int, str] | None
"""Where a capped table leaves rows out and what it says there: (rows before the gap, text), or None."""


def _with_gap(rows: list[list[str]], gap: Gap, width: int, *, ranked: bool = False) -> list[list[str]]:
    """Insert a row saying what is left out at the gap of a capped table.

    The text goes in the first column, or after a "⋮" in the rank column of a ``ranked`` table.
    """
    if gap is None or not gap[1]:
        return rows
    at, text = gap
    row = ["⋮", text] if ranked else [text]
    return [*rows[:at], [*row, *[""] * (width - len(row))], *rows[at:]]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str]) -> str:
    return tabulate(
        [[md_escape(cell) for cell in row] for row in rows],
        headers=[md_escape(h) for h in headers],
        tablefmt="github",
        colalign=tuple(align),
        disable_numparse=True,
    )


def league_table(
    league: Sequence[LeagueRow],
    overall: GroupRow,
    overall_shares: Sequence[Share],
    checkpoints: Sequence[str],
    *,
    has_index: bool = False,
    has_rank_intervals: bool = False,
    overall_index: str = "",
    overall_p90: str = "",
    gap: Gap = None,
) -> str:
    """Return the league table as GitHub Markdown, with an "All targets" row last (``gap``: rows left out)."""
    headers = ["Rank", "Target", "Industry"]
    headers += ["Index"] if has_index else []
    headers += ["Rank interval"] if has_rank_intervals else []
    headers += [
        "Sent",
        "Human reply rate (95 % CI)",
        "Median first human reply (95 % CI)",
        "90 % answered by",
    ]
    headers += [f"Within {label}" for label in checkpoints]
    headers += ["Business-time median (95 % CI)", "Censored"]

    def cells(
        rank: str, r: GroupRow, label: str, extra: list[str], p90: str, shares: Sequence[Share]
    ) -> list[str]:
        return [
            rank,
            label,
            r.industry,
            *extra,
            r.sent,
            _rate_ci(r.human_rate, r.human_rate_ci),
            _with_ci(r.first_human, r.first_human_ci),
            p90,
            *(s.text for s in shares),
            _with_ci(r.business, r.business_ci),
            f"{r.summary.censored:,}",
        ]

    rows = []
    for lr in league:
        extra = ([lr.index] if has_index else []) + ([lr.rank_interval] if has_rank_intervals else [])
        rows.append(cells(f"{lr.rank:,}", lr.row, lr.row.summary.label, extra, lr.p90, lr.shares))
    rows = _with_gap(rows, gap, len(headers), ranked=True)
    blank = ([overall_index] if has_index else []) + ([""] if has_rank_intervals else [])
    rows.append(cells("", overall, "All targets", blank, overall_p90, overall_shares))
    return _table(headers, rows, ["right", "left", "left", *["right"] * (len(headers) - 3)])


def target_table(targets: Sequence[GroupRow], overall: GroupRow, gap: Gap = None) -> str:
    """Return the per-target table of all headline measures as GitHub Markdown, "All targets" last."""
    headers = [
        "Target",
        "Industry",
        "Sent",
        "Response rate (95 % CI)",
        "Median first response (95 % CI)",
        "Median first human response (95 % CI)",
        "Business-time median (95 % CI)",
        "Restricted mean wait (95 % CI)",
        "Auto-ack",
        "Bounced",
        "Censored",
    ]
    rows = [
        [
            r.summary.label,
            r.industry,
            r.sent,
            _rate_ci(r.response_rate, r.response_rate_ci),
            _with_ci(r.first_response, r.first_response_ci),
            _with_ci(r.first_human, r.first_human_ci),
            _with_ci(r.business, r.business_ci),
            restricted_mean(r),
            f"{r.summary.auto_acked:,}",
            f"{r.summary.bounced:,}",
            f"{r.summary.censored:,}",
        ]
        for r in [*targets, overall]
    ]
    rows[-1][0] = "All targets"
    rows = [*_with_gap(rows[:-1], gap, len(headers)), rows[-1]]
    return _table(headers, rows, ["left", "left", *["right"] * 9])


def restricted_mean(row: GroupRow) -> str:
    """The restricted mean time to a first human reply up to the common horizon, with its interval."""
    rm = row.summary.restricted_mean
    if rm.value_s is None:
        return "—"
    text = format_duration(rm.value_s).replace(" ", NBSP)
    if rm.low_s is not None and rm.high_s is not None:
        low = format_duration(rm.low_s).replace(" ", NBSP)
        high = format_duration(rm.high_s).replace(" ", NBSP)
        text += f" ({low} – {high})"
    return text


def industry_table(industries: Sequence[GroupRow]) -> str:
    """Return the per-industry table as GitHub Markdown."""
    headers = ["Industry", "Sent", "Human reply rate (95 % CI)", "Median first human response (95 % CI)"]
    headers += ["Business-time median (95 % CI)", "Censored"]
    rows = [
        [
            r.summary.label,
            r.sent,
            _rate_ci(r.human_rate, r.human_rate_ci),
            _with_ci(r.first_human, r.first_human_ci),
            _with_ci(r.business, r.business_ci),
            f"{r.summary.censored:,}",
        ]
        for r in industries
    ]
    return _table(headers, rows, ["left", *["right"] * 5])


def channel_table(
    channels: Sequence[GroupRow], shares: Sequence[Sequence[Share]], checkpoints: Sequence[str]
) -> str:
    """Return the per-channel comparison as GitHub Markdown."""
    headers = ["Channel", "Sent", "Response rate (95 % CI)", "Human reply rate (95 % CI)"]
    headers += ["Median first reply (95 % CI)", "Median first human reply (95 % CI)"]
    headers += [f"Within {label}" for label in checkpoints]
    headers += ["Business-time median (95 % CI)", "Auto-ack", "Bounced"]
    rows = [
        [
            r.summary.label,
            r.sent,
            _rate_ci(r.response_rate, r.response_rate_ci),
            _rate_ci(r.human_rate, r.human_rate_ci),
            _with_ci(r.first_response, r.first_response_ci),
            _with_ci(r.first_human, r.first_human_ci),
            *(s.text for s in sh),
            _with_ci(r.business, r.business_ci),
            f"{r.summary.auto_acked:,}",
            f"{r.summary.bounced:,}",
        ]
        for r, sh in zip(channels, shares, strict=True)
    ]
    return _table(headers, rows, ["left", *["right"] * (len(headers) - 1)])


def curves_table(league: Sequence[LeagueRow], checkpoints: Sequence[str], gap: Gap = None) -> str:
    """The per-target Kaplan–Meier curves as shares answered by a person at each checkpoint."""
    headers = ["Target", "Sent", "Answered by a person", *(f"Within {label}" for label in checkpoints)]
    headers += ["Median first human reply (95 % CI)"]
    rows = [
        [
            lr.row.summary.label,
            f"{lr.row.summary.sent:,}",
            f"{lr.row.summary.first_human.events} of {lr.row.summary.first_human.n}",
            *(s.text for s in lr.shares),
            _with_ci(lr.row.first_human, lr.row.first_human_ci),
        ]
        for lr in league
    ]
    rows = _with_gap(rows, gap, len(headers))
    return _table(headers, rows, ["left", *["right"] * (len(headers) - 1)])


def bucket_table(buckets: Sequence[Bucket]) -> str:
    """The response-time distribution: counts per interval of first replies and first human replies."""
    rows = [[b.label, f"{b.any_reply:,}", f"{b.human:,}"] for b in buckets]
    return _table(
        ["Response time", "First reply (any)", "First human reply"], rows, ["left", "right", "right"]
    )


def heatmap_table(hm: Heatmap) -> str:
    """The weekday × hour grid of compact medians ("n.r.": not reached; blank: nothing sent), with totals."""
    headers = ["", *(f"{h:02d}" for h in range(24)), "All"]
    rows = [[WEEKDAYS[d], *(c.text for c in row), hm.weekday_totals[d].text] for d, row in enumerate(hm.rows)]
    rows.append(["All", *(c.text for c in hm.hour_totals), hm.overall.text])
    return _table(headers, rows, ["left", *["right"] * 25])


def split_table(split: Sequence[SplitRow], overall: SplitRow, gap: Gap = None) -> str:
    """The acknowledgement/human split per target as counts, "All targets" last."""
    headers = ["Target", *(label for _, label in SPLIT_CATEGORIES), "Sent"]
    rows = [[r.label, *(f"{n:,}" for n in r.counts), f"{r.sent:,}"] for r in split]
    rows = _with_gap(rows, gap, len(headers))
    rows.append([overall.label, *(f"{n:,}" for n in overall.counts), f"{overall.sent:,}"])
    return _table(headers, rows, ["left", *["right"] * (len(headers) - 1)])


ANSWER_HEADERS = (
    "Target",
    "Sent",
    "Human replies",
    "Real answers (95 % CI)",
    "Median to a real answer (95 % CI)",
    "Deflected",
    "Holding only",
    "Promises stated",
    "Kept / broken / undetermined",
    "Median quality",
    "Answered every point",
    "Personalised",
)


def answers_table(answers: Sequence[AnswerRow], overall: AnswerRow, gap: Gap = None) -> str:
    """Answers and promises per target (league order) and over all targets, "All targets" last."""

    def cells(a: AnswerRow, label: str) -> list[str]:
        st = a.stats
        quality = a.quality + (f" ({st.scored:,} scored)" if st.scored else "")
        return [
            label,
            f"{st.sent:,}",
            f"{st.human:,}",
            _rate_ci(a.answers, a.answers_ci),
            _with_ci(a.median, a.median_ci),
            *(f"{n:,}" for n in (st.deflected, st.holding_only, st.promises)),
            a.outcomes,
            quality,
            a.answered_all,
            a.personalised,
        ]

    rows = _with_gap([cells(a, a.stats.label) for a in answers], gap, len(ANSWER_HEADERS))
    rows.append(cells(overall, "All targets"))
    return _table(ANSWER_HEADERS, rows, ["left", *["right"] * (len(ANSWER_HEADERS) - 1)])


def promises_table(promises: Sequence[PromiseView]) -> str:
    """The stated promises: target and probe, the phrase, when it fell due, the first real answer, if kept."""
    headers = ["Target", "Probe", "Promise", "Due (UTC)", "First real answer", "Kept?"]
    rows = [[p.target, p.probe_id, f"“{p.phrase}”", p.due, p.answer, p.status] for p in promises]
    return _table(headers, rows, ["left"] * len(headers))


def bounce_table(bounces: Sequence[BounceRow]) -> str:
    """Targets with bounces: counts, Wilson interval, what the first bounce said."""
    headers = ["Target", "Sent", "Bounced", "Bounce rate (95 % CI)", "Channel", "What the bounce said"]
    rows = [
        [b.label, f"{b.sent:,}", f"{b.bounced:,}", _rate_ci(b.rate, b.rate_ci), b.channels, b.detail or "—"]
        for b in bounces
    ]
    return _table(headers, rows, ["left", "right", "right", "right", "left", "left"])


def evidence_table(probes: Sequence[ProbeRow]) -> str:
    """Return the per-probe evidence table as GitHub Markdown."""
    headers = [
        "Probe",
        "Target",
        "Channel",
        "Sent at (UTC)",
        "First response",
        "Class",
        "First human response",
    ]
    headers += ["Quality", "Clock sources", "State"]
    rows = []
    for p in probes:
        first = p.first_response_at + (f" (+{p.first_response_after})" if p.first_response_after else "")
        human = p.first_human_at + (f" (+{p.first_human_after})" if p.first_human_after else "")
        flags = [p.state] + (["censored"] if p.censored else []) + (["bounced"] if p.outcome.bounced else [])
        flags += p.flags
        if p.answer_after:
            human += f"; real answer +{p.answer_after}"
        probe = p.outcome.probe_id + (f" (ticket {p.outcome.ticket_id})" if p.outcome.ticket_id else "")
        rows.append(
            [
                probe,
                p.outcome.target_name,
                p.outcome.channel,
                p.sent_at,
                first,
                p.first_response_class.replace("_", " ") or "—",
                human,
                _quality(p),
                " · ".join(f"{name}: {clock}" for name, clock in p.clocks) or "—",
                ", ".join(flags),
            ]
        )
    return _table(headers, rows, ["left"] * len(headers))


def _quality(p: ProbeRow) -> str:
    """A probe's quality score with the rubric points found and missing ("—" when unscored)."""
    if not p.quality:
        return "—"
    o = p.outcome
    parts = [f"found: {o.quality_matched}"] if o.quality_matched else []
    parts += [f"missing: {o.quality_missing}"] if o.quality_missing else []
    parts += ["personalised"] if o.personalised else []
    return p.quality + (f" ({'; '.join(parts)})" if parts else "")


def message_table(messages: Sequence[MessageView]) -> str:
    """Every matched message: probe, times and clock, classification, what it counted as, the text."""
    headers = ["Probe", "Received at (UTC)", "Clock", "After", "Class", "Rule", "Confidence", "Matched by"]
    headers += ["Counted as", "Flags", "Message-ID", "Subject", "Excerpt", "Rule saw"]
    rows = [
        [
            m.row.probe_id,
            m.received_at,
            m.row.clock,
            m.after or "—",
            _decision(m),
            m.row.rule or "—",
            "—" if m.decided else m.confidence or "—",
            m.matched or "—",
            "; ".join([*([m.counted] if m.counted else []), *(["first real answer"] if m.answer else [])])
            or "—",
            "; ".join(m.flags) or "—",
            m.row.message_id or "—",
            m.row.subject or "(no subject)",
            m.row.excerpt,
            m.row.evidence,
        ]
        for m in messages
    ]
    return _table(headers, rows, ["left"] * len(headers))


def _decision(m: MessageView) -> str:
    """The class, with what the machine had said and who decided when a person did."""
    text = m.cls + (f" (machine: {m.machine})" if m.machine else "")
    if m.decided:
        text += f"; {m.decided}" + (f": “{m.decision_note}”" if m.decision_note else "")
    return text


def render_markdown(
    outcomes: Sequence[Outcome],
    meta: ReportMeta,
    env: jinja2.Environment,
    evidence: Sequence[MessageRow] = (),
    *,
    data: ReportData | None = None,
) -> str:
    """Render the Markdown report (template ``report.md.j2``).

    ``data`` is the shared computation (:func:`~replybench.report.render.build_report`) when the caller has it.
    """
    ctx = dict((data or build_report(outcomes, meta, evidence)).context)
    # a short gap row keeps the table narrow; the note above the table says what it stands for
    league_gap: Gap = (
        (ctx["league_head"], f"… {ctx['league_hidden']:,} more …") if ctx["league_gap"] else None
    )
    chart_gap: Gap = (ctx["chart_head"], f"… {ctx['chart_hidden']:,} more …") if ctx["chart_gap"] else None
    ctx.update(
        league_table=league_table(
            ctx["league"],
            ctx["overall"],
            ctx["overall_shares"],
            ctx["checkpoints"],
            has_index=ctx["has_index"],
            has_rank_intervals=ctx["has_rank_intervals"],
            overall_index=ctx["overall_index"],
            overall_p90=ctx["overall_p90"],
            gap=league_gap,
        ),
        target_table=target_table(ctx["targets"], ctx["overall"], league_gap),
        industry_table=industry_table(ctx["industries"]),
        channel_table=channel_table(ctx["channels"], ctx["channel_shares"], ctx["checkpoints"]),
        curves_table=curves_table(ctx["chart_league"], ctx["checkpoints"], chart_gap),
        bucket_table=bucket_table(ctx["buckets"]),
        heatmap_table=heatmap_table(ctx["heatmap"]),
        split_table=split_table(ctx["split"], ctx["split_overall"], league_gap),
        answers_table=answers_table(ctx["answers"], ctx["answers_overall"], league_gap),
        promises_table=promises_table(ctx["promises"]),
        bounce_table=bounce_table(ctx["bounces"]),
        evidence_table=evidence_table(ctx["probes"]),
        message_table=message_table(ctx["messages"]),
    )
    return env.get_template("report.md.j2").render(**ctx)
