"""The terminal summary: one rich table of the per-target results (the headline columns of the reports).

Target names and industries are passed as :class:`rich.text.Text`, never as markup, so a name such as
``[bold]x[/]`` prints literally.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from replybench.analysis.outcome import Outcome
from replybench.analysis.summary import summarize
from replybench.report.render import (
    GroupRow,
    fmt_median,
    fmt_median_ci,
    fmt_pct,
    fmt_rate_ci,
    group_row,
    rank_key,
)


def _cell(value: str, ci: str = "") -> Text:
    text = Text(value)
    if ci:
        text.append("\n" + ci.replace(" – ", "–"), style="dim")
    return text


def _rate(row: GroupRow, human: bool) -> Text:
    rate = row.summary.human_rate if human else row.summary.response_rate
    return _cell(fmt_pct(rate.value), fmt_rate_ci(rate))


_COLUMNS: tuple[tuple[str, bool], ...] = (  # header, shown in the compact table
    ("Sent", True),
    ("Any\nreply", False),
    ("Human\nreply", True),
    ("Real\nanswers", False),
    ("Median first\nhuman reply", True),
    ("Median\nfirst reply", False),
    ("Business\nmedian", True),
    ("Auto-\nack", False),
    ("Boun-\nced", False),
    ("Cen-\nsored", True),
)

#: Below this console width :func:`print_summary` prints the compact table.
COMPACT_BELOW = 130


def _row(row: GroupRow, label: str, industry: str, compact: bool, answers: int) -> list[Text]:
    s = row.summary
    numbers = [
        Text(row.sent),
        _rate(row, human=False),
        _rate(row, human=True),
        Text(f"{answers}/{s.sent}"),
        _cell(row.first_human, row.first_human_ci),
        _cell(row.first_response),
        _cell(row.business),
        Text(str(s.auto_acked)),
        Text(str(s.bounced)),
        Text(str(s.censored)),
    ]
    shown = [cell for cell, (_, keep) in zip(numbers, _COLUMNS, strict=True) if keep or not compact]
    return [Text(label), *([] if compact else [Text(industry)]), *shown]


def _answers(outcomes: Sequence[Outcome]) -> Counter[str]:
    """Sent probes with a real answer (neither a deflection nor a holding reply), per target id."""
    return Counter(o.target_id for o in outcomes if o.was_sent and o.answer_response_s is not None)


def _target_rows(outcomes: Sequence[Outcome]) -> list[GroupRow]:
    industry_of: dict[str, str] = {}
    for o in outcomes:
        industry_of.setdefault(o.target_id, o.industry)
    groups = sorted(summarize(outcomes, by="target"), key=rank_key)
    return [group_row(g, industry_of.get(g.key, "")) for g in groups]


def summary_table(outcomes: Sequence[Outcome], *, compact: bool = False) -> Table:
    """Return a rich table with one row per target (fastest first) and an "All targets" row.

    Columns: target, industry, sent/planned; any-reply and human-reply rates over sent probes (Wilson 95 %
    interval beneath); real answers / sent (a person's reply that is neither a deflection nor a holding
    reply); Kaplan–Meier median of the first human response (95 % interval beneath), of the first response,
    and of the first human response in business time ("≥" marks a lower bound); auto-acknowledged, bounced
    and censored counts. Numbers never wrap; names do. ``compact`` leaves out industry, the any-reply
    rate, the real answers, the first-response median and the auto-ack and bounce counts, so it fits an
    80-column console.
    """
    table = Table(title="Response times by target", header_style="bold", expand=False)
    table.add_column("Target", min_width=12, ratio=2)
    if not compact:
        table.add_column("Industry", min_width=7, ratio=1)
    for name, in_compact in _COLUMNS:
        if in_compact or not compact:
            table.add_column(name, justify="right", no_wrap=True)
    answers = _answers(outcomes)
    for row in _target_rows(outcomes):
        table.add_row(*_row(row, row.summary.label, row.industry, compact, answers[row.summary.key]))
    overall = group_row(summarize(outcomes, by="overall")[0], "")
    table.add_section()
    cells = _row(overall, "All targets", "", compact, answers.total())
    for cell in cells:
        cell.stylize("bold", 0, len(cell.plain.split("\n")[0]))
    table.add_row(*cells)
    return table


def print_summary(outcomes: Sequence[Outcome], console: Console) -> None:
    """Print :func:`summary_table` (compact on narrow consoles) and a note on censoring and unsent probes."""
    console.print(summary_table(outcomes, compact=console.width < COMPACT_BELOW))
    overall = summarize(outcomes, by="overall")[0]
    note = Text(
        f"Medians: Kaplan–Meier, probes without a human reply censored at the wait limit "
        f"({overall.censored} of {overall.sent} sent). Not sent (excluded): {overall.not_sent}. "
        f"Headline median {fmt_median(overall.first_human)}"
        + (f" (95 % CI {fmt_median_ci(overall.first_human)})" if fmt_median_ci(overall.first_human) else "")
        + f"; human reply rate {fmt_pct(overall.human_rate.value)} "
        f"({overall.human_rate.k}/{overall.human_rate.n})"
        + (f", 95 % CI {fmt_rate_ci(overall.human_rate)}" if fmt_rate_ci(overall.human_rate) else "")
        + ".",
        style="dim",
    )
    console.print(note)
