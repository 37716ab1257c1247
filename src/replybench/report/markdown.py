"""The Markdown report: GitHub-flavoured, tables by tabulate, the sections of the HTML report minus charts.

Every value placed in the report goes through :func:`replybench.report.render.md_escape`, so reply-derived
strings render as text (no HTML, links or table breaks).
"""

from __future__ import annotations

from collections.abc import Sequence

import jinja2
from tabulate import tabulate

from replybench.analysis.outcome import Outcome
from replybench.report.render import GroupRow, ProbeRow, ReportMeta, md_escape, report_context


def _with_ci(value: str, ci: str) -> str:
    return f"{value} ({ci})" if ci else value


def _rate_ci(value: str, ci: str) -> str:
    return f"{value}, {ci}" if ci else value


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str]) -> str:
    return tabulate(
        [[md_escape(cell) for cell in row] for row in rows],
        headers=[md_escape(h) for h in headers],
        tablefmt="github",
        colalign=tuple(align),
        disable_numparse=True,
    )


def target_table(targets: Sequence[GroupRow], overall: GroupRow) -> str:
    """Return the per-target table as GitHub Markdown, with an "All targets" row last."""
    headers = [
        "Target",
        "Industry",
        "Sent",
        "Response rate (95 % CI)",
        "Median first response (95 % CI)",
        "Median first human response (95 % CI)",
        "Business-time median (95 % CI)",
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
            str(r.summary.auto_acked),
            str(r.summary.bounced),
            str(r.summary.censored),
        ]
        for r in [*targets, overall]
    ]
    rows[-1][0] = "All targets"
    return _table(headers, rows, ["left", "left", *["right"] * 8])


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
            str(r.summary.censored),
        ]
        for r in industries
    ]
    return _table(headers, rows, ["left", *["right"] * 5])


def evidence_table(probes: Sequence[ProbeRow]) -> str:
    """Return the per-probe evidence table as GitHub Markdown."""
    headers = ["Probe", "Target", "Sent at (UTC)", "First response", "Class", "First human response"]
    headers += ["Clock sources", "State"]
    rows = []
    for p in probes:
        first = p.first_response_at + (f" (+{p.first_response_after})" if p.first_response_after else "")
        human = p.first_human_at + (f" (+{p.first_human_after})" if p.first_human_after else "")
        flags = [p.state] + (["censored"] if p.censored else []) + (["bounced"] if p.outcome.bounced else [])
        rows.append(
            [
                p.outcome.probe_id,
                p.outcome.target_name,
                p.sent_at,
                first,
                p.first_response_class.replace("_", " ") or "—",
                human,
                " · ".join(f"{name}: {clock}" for name, clock in p.clocks) or "—",
                ", ".join(flags),
            ]
        )
    return _table(headers, rows, ["left"] * 8)


def render_markdown(outcomes: Sequence[Outcome], meta: ReportMeta, env: jinja2.Environment) -> str:
    """Render the Markdown report (template ``report.md.j2``)."""
    ctx = report_context(outcomes, meta)
    ctx.update(
        target_table=target_table(ctx["targets"], ctx["overall"]),
        industry_table=industry_table(ctx["industries"]),
        evidence_table=evidence_table(ctx["probes"]),
    )
    return env.get_template("report.md.j2").render(**ctx)
