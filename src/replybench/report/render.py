"""Report metadata, the Jinja environment, the view model the HTML and Markdown reports share, the writer.

The view model (:func:`report_context`) turns the outcomes table into display values once, so that the HTML
and Markdown reports say exactly the same thing. Every string in it is plain text: escaping is the job of the
output format (autoescaping in HTML, :func:`md_escape` in Markdown).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import compress
from operator import attrgetter
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
from markupsafe import Markup, escape

from replybench import __version__
from replybench.analysis.columns import GroupBy, Measure, OutcomeTable
from replybench.analysis.evidence import MessageRow
from replybench.analysis.index import INDEX_FORMULA
from replybench.analysis.outcome import Outcome
from replybench.analysis.ranks import DEFAULT_RESAMPLES, RankInterval, bootstrap_ranks_table
from replybench.analysis.sends import SendRow
from replybench.analysis.summary import (
    GroupSummary,
    Rate,
    SurvivalCurve,
    TimeEstimate,
    summarize_groupings,
    wilson,
)
from replybench.analysis.survival import GroupedKM, QuantileEstimate
from replybench.models import MessageClass
from replybench.report import sections as sec
from replybench.report.limits import (
    BOUNCE_MAX_ROWS,
    BOUNCE_TOP_ROWS,
    CHART_EDGE_TARGETS,
    CHART_MAX_TARGETS,
    EVIDENCE_MAX_MESSAGES,
    EVIDENCE_MAX_PROBES,
    PROMISES_MAX_ROWS,
    RANK_BOOTSTRAP_CELLS,
    RANK_MIN_RESAMPLES,
    SENDS_MAX_ROWS,
    SENDS_MAX_SCREENSHOTS,
    TABLE_EDGE_ROWS,
    TABLE_MAX_ROWS,
    TARGETS_CSV,
    Capped,
    count,
    ends,
    ends_note,
)
from replybench.report.sections import fmt_time, median_sort, sort_value
from replybench.timefmt import as_utc, format_duration, iso_ms


@dataclass(frozen=True)
class ReportMeta:
    """What a report is about: title, workspace, suites and runs covered, when it was made, wait limits.

    ``wait_limits`` maps each suite to its wait limit (the censoring horizon) in seconds; ``notes`` are free
    remarks shown in the Methods section.
    """

    title: str
    workspace: str
    suites: tuple[str, ...]
    runs: tuple[str, ...]
    generated_at: datetime
    wait_limits: Mapping[str, float]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportPaths:
    """Where :func:`write_reports` wrote the reports (``targets``: every target's numbers as CSV)."""

    html: Path
    markdown: Path
    targets: Path | None = None


# --------------------------------------------------------------------------------------------- definitions

#: The measurement definitions every report states in its Methods section (backticks mark field names).
DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "Sent at",
        "`sent_at` is when the company's side accepted the inquiry: the SMTP 250 reply after DATA.",
    ),
    (
        "Received at",
        "`received_at` is when our side received the reply, by the receiving server's clock: our inbound "
        "SMTP receipt time in milliseconds, or the IMAP INTERNALDATE in whole seconds. The clock source is "
        "recorded for every message.",
    ),
    (
        "Response time",
        "Response time = `received_at` − `sent_at`. A poll noticing a message never sets a time.",
    ),
    (
        "First response",
        "Any reply counts, automatic acknowledgements included; bounces and our own copies do not.",
    ),
    (
        "First human response",
        "Automatic acknowledgements, bounces, out-of-office and marketing mail are excluded. This is the "
        "headline measure.",
    ),
    (
        "Business time",
        "Counts only the target's opening hours in its own time zone, public holidays excluded.",
    ),
    (
        "Censoring",
        "A probe without a qualifying reply by its horizon (`sent_at` + wait limit) is right-censored at "
        "the horizon, never dropped. Bounced probes stay in the denominator.",
    ),
    (
        "Statistics",
        "Medians come from Kaplan–Meier estimates (95\u00a0% intervals by the Brookmeyer–Crowley method "
        "on the log-log band); response rates carry Wilson 95\u00a0% intervals. A median is “not reached” "
        "when fewer than half of the probes had a qualifying reply by their horizon.",
    ),
    (
        "Shares answered",
        "“Answered within 1 h / 4 h / 24 h” is the Kaplan–Meier share with a first human reply by then "
        "(wall-clock time), so probes censored earlier still count for the time they were followed.",
    ),
    (
        "Automatic reply",
        "An auto-acknowledgement, out-of-office notice or any other reply that came before a person's (or "
        "instead of one). The acknowledgement split counts each sent probe once: person only, automatic reply "
        "then a person, automatic reply only, or nothing.",
    ),
    (
        "Real answer",
        "A person's reply that answers the inquiry: neither a deflection nor a holding reply. The time to the "
        "first real answer is a Kaplan–Meier median like the headline: probes without a real answer by their "
        "horizon are censored there.",
    ),
    (
        "Holding reply",
        "A person's “we'll get back to you” that does not answer yet. “Holding only” counts probes that got "
        "one and no real answer by the wait limit.",
    ),
    (
        "Deflection",
        "A person's reply that sends the customer to another channel (“please call us”, “use our contact "
        "form”) instead of answering. It is a first human response, but not a real answer.",
    ),
    (
        "Promise kept",
        "A promise is the first response time the company stated (on its form's confirmation page, in an "
        "acknowledgement or in a reply), e.g. “within 2 business days”, due that long after `sent_at` "
        "(business units in the target's opening hours). It is kept when the first real answer came by that "
        "deadline; broken when it came later, or none came though we watched past the deadline; undetermined "
        "otherwise.",
    ),
    (
        "Quality",
        "Human replies are scored against the inquiry's rubric, reading only the reply's own words (no quoted "
        "text, no signature): R = share of required points found (1 when there are none); O = share of "
        "optional points found; score = 100·R without optional points, else 100·(0.8·R + 0.2·O); minus 25 "
        "per forbidden point found; clamped to [0, 100]. A probe's quality is its best human reply's score; "
        "the median is over the scored probes. Personalisation is reported beside it and does not change the "
        "score; “answered every point” means the best reply missed no required point.",
    ),
    (
        "Needs review",
        "A probe needs review when the classifier or the matcher was unsure of one of its messages (below the "
        "review threshold) and no person has decided it yet: run `replybench review`. A person's decision "
        "always wins over the machine's; the evidence shows who decided and what the machine had said.",
    ),
    (
        "Bounce",
        "A final delivery failure (RFC 3464 `Action: failed`, or a recognisable non-standard one). Delay "
        "notices are neither bounces nor replies.",
    ),
    (
        "Weekday × hour",
        "The heatmap places each inquiry by the weekday and hour it was sent in the target's own time zone "
        "and shows the Kaplan–Meier median of the first human reply of the inquiries in each cell.",
    ),
    (
        "Not sent",
        "Probes never sent (failed, uncertain, skipped, blocked) are excluded from timing and rates and "
        "counted separately.",
    ),
)


#: A clock that stamps both our sends and the replies.
BOTH_STAMPS = "sent_at, received_at"

#: The clock sources a timestamp can come from: (clock, what it stamps, definition).
CLOCK_SOURCES: tuple[tuple[str, str, str], ...] = (
    ("smtp-250", "sent_at", "our SMTP client read the 250 reply after the message body"),
    ("sent-copy-receipt", "sent_at", "after a crash: our own blind copy reached our inbound server"),
    (
        "send-attempt",
        "sent_at",
        "after a crash, proven only by a reply: the send attempt (an upper bound on the response time)",
    ),
    ("smtp-receipt", "received_at", "our inbound SMTP server's receipt of the reply, in milliseconds"),
    ("imap-internaldate", "received_at", "the IMAP server's INTERNALDATE, whole seconds (up to 1 s early)"),
    ("form-confirmation", "sent_at", "the browser saw the company's confirmation after the form's submit"),
    ("page-clock", BOTH_STAMPS, "a chat message rendered in the page, on its high-resolution clock"),
    ("mastodon-created_at", BOTH_STAMPS, "the Mastodon status's created_at, in milliseconds"),
    ("bluesky-createdAt", BOTH_STAMPS, "the Bluesky record's createdAt (written by the posting app)"),
    ("bluesky-indexedAt", BOTH_STAMPS, "Bluesky's indexedAt, when the record's createdAt was implausible"),
    ("x-created_at", BOTH_STAMPS, "the X post's created_at, whole seconds"),
    ("x-response-date", "sent_at", "the Date header of X's answer to our post, when reading it back failed"),
    ("facebook-created_time", BOTH_STAMPS, "the Facebook comment's or message's created_time, whole seconds"),
    ("manual", BOTH_STAMPS, "a time a person typed in (assisted mode, the post could not be looked up)"),
)

INDEX_PENDING = (
    "Targets are ranked by the Kaplan–Meier median time to a first human reply; a median that was not "
    "reached ranks after every reached one, ties broken by the higher human reply rate."
)
"""How the league table ranks when no target has a responsiveness index."""

RANKED_BY_INDEX = (
    "Targets are ranked by the responsiveness index (0–100, higher is better; defined under Methods), "
    "computed over the common horizon of {horizon}. Targets without an index follow, by median time to a "
    "first human reply."
)
"""How the league table ranks when the analysis provides the responsiveness index."""

RANK_INTERVALS = (
    "Rank intervals are 95\u00a0% stratified bootstrap intervals: {resamples:,} resamples (fixed seed, so the "
    "report is reproducible), each drawing every target's probes with replacement from its own probes, "
    "recomputing every index and ranking again; the interval runs from the 2.5th to the 97.5th percentile of "
    "a target's ranks. Overlapping intervals mean the data cannot tell those targets' order apart."
)
"""How the rank intervals were computed (Methods)."""

RANK_RESAMPLES_REDUCED = (
    "{resamples:,} resamples rather than the usual {default:,} keep the bootstrap of {targets:,} targets within "
    "the report's budget, so the interval ends are a little less precise."
)
"""Added to :data:`RANK_INTERVALS` when the budget allowed fewer resamples than usual."""

RANK_INTERVALS_OMITTED = (
    "This report gives no rank intervals: a bootstrap of {targets:,} ranked targets (up to {largest:,} probes "
    "each) does not fit the report's budget with enough resamples. The ranks are point estimates; among this "
    "many targets, neighbouring places are rarely distinguishable."
)
"""Methods text when the rank intervals were left out for the size of the study."""


# --------------------------------------------------------------------------------------------- formatting


NBSP = "\u00a0"


def _dur(seconds: float) -> str:
    """Format a duration that does not break across lines ("4\u00a0h\u00a012\u00a0min")."""
    return format_duration(max(seconds, 0.0)).replace(" ", NBSP)


def fmt_count(value: int) -> str:
    """A count with thousands separators: "1,234,567"."""
    return f"{value:,}"


def fmt_pct(value: float | None) -> str:
    """Format a share as a whole percentage ("62 %", with a no-break space); "—" for None."""
    return "—" if value is None else f"{value * 100:.0f}{NBSP}%"


def fmt_rate(rate: Rate) -> str:
    """Format a rate with its count: "62 % (8/13)"; "—" when nothing was sent."""
    return "—" if rate.value is None else f"{fmt_pct(rate.value)} ({rate.k:,}/{rate.n:,})"


def fmt_rate_ci(rate: Rate) -> str:
    """Format the Wilson interval of a rate: "41–79 %"; empty when nothing was sent."""
    if rate.low is None or rate.high is None:
        return ""
    return f"{rate.low * 100:.0f}–{rate.high * 100:.0f}{NBSP}%"


def fmt_median(est: TimeEstimate) -> str:
    """Format a Kaplan–Meier median: "4 h 12 min", "not reached", or "—" when there is no estimate."""
    if est.n == 0:
        return "—"
    if est.median_s is None:
        return "not reached"
    return _dur(est.median_s)


def fmt_median_ci(est: TimeEstimate, *, compact: bool = False) -> str:
    """Format the 95 % interval of a median: "2 h 5 min – 9 h", "1 h – not reached", or empty.

    ``compact`` writes an open upper limit as "n.r." (tables explain the abbreviation).
    """
    if est.n == 0 or est.events == 0 or est.low_s is None:
        return ""
    open_high = "n.r." if compact else "not reached"
    high = open_high if est.high_s is None else _dur(est.high_s)
    return f"{_dur(est.low_s)} – {high}"


_MD_SPACE = re.compile(r"[ \t\r\n\f\v]+")
_MD_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md_escape(value: object) -> str:
    """Escape a string for a GitHub-flavoured Markdown table cell or paragraph so that it renders as text.

    Emphasis, code, links, table pipes and HTML are neutralised, line breaks become spaces, and bare URLs
    are kept from turning into links.
    """
    text = "" if value is None else str(value)
    text = _MD_SPACE.sub(" ", text).strip(" ")  # no line breaks inside a table row; no-break spaces stay
    text = _MD_ENTITY.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("://", "\\://").replace("www.", "www\\.")


def inline_code_html(text: str) -> Markup:
    """Escape ``text`` for HTML, then render `backticked` spans as <code>."""
    escaped = str(escape(text))
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))  # noqa: S704 - input escaped above


# --------------------------------------------------------------------------------------------- view model


@dataclass(frozen=True)
class GroupRow:
    """Display values of one group (a target or an industry) in the report tables."""

    summary: GroupSummary
    industry: str
    sent: str
    response_rate: str
    response_rate_ci: str
    human_rate: str
    human_rate_ci: str
    first_response: str
    first_response_ci: str
    first_human: str
    first_human_ci: str
    business: str
    business_ci: str


@dataclass(frozen=True)
class ProbeRow:
    """Display values of one probe in the evidence table."""

    outcome: Outcome
    sent_at: str
    first_response_at: str
    first_response_after: str
    first_response_class: str
    tag: str
    first_human_at: str
    first_human_after: str
    clocks: tuple[tuple[str, str], ...]
    state: str
    censored: bool
    sent: bool
    anchor: str = ""
    messages: int = 0
    sent_sort: str = ""
    response_sort: str = ""
    human_sort: str = ""
    answer_after: str = ""
    flags: tuple[str, ...] = ()
    quality: str = ""  # "80" (of 100), "" when unscored


@dataclass(frozen=True)
class AnswerRow:
    """Display values of one target (or all targets) in the answers-and-promises table.

    ``*_sort`` are ``data-sort`` values; ``outcomes`` reads "kept / broken / undetermined" of the promises
    stated ("—" without any), ``answered_all`` and ``personalised`` read "x/y" (y: probes for which it is
    known), "—" when unknown everywhere.
    """

    stats: sec.AnswerStats
    answers: str
    answers_ci: str
    answers_sort: str
    median: str
    median_ci: str
    median_sort: str
    outcomes: str
    kept_sort: str
    quality: str
    quality_sort: str
    answered_all: str
    answered_all_sort: str
    personalised: str
    personalised_sort: str


def _of(k: int, n: int) -> tuple[str, str]:
    return ("—", "") if n == 0 else (f"{k:,}/{n:,}", sort_value(k / n))


def answer_row(stats: sec.AnswerStats) -> AnswerRow:
    """Format one :class:`~replybench.report.sections.AnswerStats` for the reports."""
    answered_all, answered_all_sort = _of(stats.answered_all, stats.all_known)
    personalised, personalised_sort = _of(stats.personalised, stats.personal_known)
    rate = stats.answers
    return AnswerRow(
        stats=stats,
        answers=fmt_rate(rate),
        answers_ci=fmt_rate_ci(rate),
        answers_sort=sort_value(rate.value),
        median=fmt_median(stats.answer_time),
        median_ci=fmt_median_ci(stats.answer_time, compact=True),
        median_sort=median_sort(stats.answer_time),
        outcomes=f"{stats.kept:,} / {stats.broken:,} / {stats.undetermined:,}" if stats.promises else "—",
        kept_sort=sort_value(stats.kept / stats.promises) if stats.promises else "",
        quality="—" if stats.quality is None else f"{stats.quality:.0f}",
        quality_sort=sort_value(stats.quality),
        answered_all=answered_all,
        answered_all_sort=answered_all_sort,
        personalised=personalised,
        personalised_sort=personalised_sort,
    )


ANSWERS_EMPTY = (
    "No probe in this report has a person's reply, a stated response-time promise or a quality score yet."
)
"""What the answers-and-promises section says when there is nothing to show."""


@dataclass(frozen=True)
class LeagueRow:
    """One target in the league table: its rank, display values, shares answered and sort values.

    ``rank`` is the competition rank ("1, 2, 2, 4") by the ranking key; ``rank_interval`` and ``index`` are
    empty until the analysis offers them. The ``*_sort`` fields are ``data-sort`` values for the sortable
    HTML table (seconds or shares; "Infinity" for a median not reached; "" when missing).
    """

    rank: int
    row: GroupRow
    index: str
    index_sort: str
    rank_interval: str
    shares: tuple[sec.Share, ...]
    p90: str
    p90_sort: str
    human_rate_sort: str
    response_rate_sort: str
    first_response_sort: str
    first_human_sort: str
    business_sort: str


@dataclass(frozen=True)
class Headline:
    """One key figure of the summary."""

    label: str
    value: str
    detail: str


def group_row(summary: GroupSummary, industry: str) -> GroupRow:
    """Return the display values of one group summary (intervals in the compact form of tables).

    A business-time median computed without some censored probes (their business time at the horizon
    unknown) is only a lower bound: it is shown as "≥ …" without an interval.
    """
    business = fmt_median(summary.first_human_business)
    business_ci = fmt_median_ci(summary.first_human_business, compact=True)
    if summary.business_unknown and summary.first_human_business.median_s is not None:
        business, business_ci = f"≥{NBSP}{business}", "lower bound"
    return GroupRow(
        summary=summary,
        industry=industry,
        sent=f"{summary.sent:,}/{summary.planned:,}",
        response_rate=fmt_rate(summary.response_rate),
        response_rate_ci=fmt_rate_ci(summary.response_rate),
        human_rate=fmt_rate(summary.human_rate),
        human_rate_ci=fmt_rate_ci(summary.human_rate),
        first_response=fmt_median(summary.first_response),
        first_response_ci=fmt_median_ci(summary.first_response, compact=True),
        first_human=fmt_median(summary.first_human),
        first_human_ci=fmt_median_ci(summary.first_human, compact=True),
        business=business,
        business_ci=business_ci,
    )


def rank_key(summary: GroupSummary) -> tuple[int, float, float, str]:
    """Sort key of targets: fastest median first; medians not reached last, higher human reply rate first."""
    est = summary.first_human
    reached = est.median_s is not None
    rate = summary.human_rate.value or 0.0
    return (0 if reached else 1, est.median_s if est.median_s is not None else -rate, -rate, summary.label)


_KNOWN_CLASSES = frozenset(c.value for c in MessageClass)


def _probe_flags(o: Outcome) -> tuple[str, ...]:
    flags = []
    if o.needs_review:
        flags.append("needs review")
    if o.deflected:
        flags.append("deflected")
    if o.holding:
        flags.append("holding")
    if o.promise_kept is not None:
        flags.append("promise kept" if o.promise_kept else "promise broken")
    return tuple(flags)


def _probe_row(o: Outcome, messages: int = 0) -> ProbeRow:
    clocks = tuple(
        (name, clock)
        for name, clock in (
            ("sent", o.sent_clock),
            ("response", o.first_response_clock),
            ("human", o.first_human_clock),
        )
        if clock
    )
    return ProbeRow(
        outcome=o,
        sent_at=fmt_time(o.sent_at),
        first_response_at=fmt_time(o.first_response_at),
        first_response_after="" if o.response_s is None else _dur(o.response_s),
        first_response_class=o.first_response_class or "",
        tag=o.first_response_class if o.first_response_class in _KNOWN_CLASSES else "other",
        first_human_at=fmt_time(o.first_human_at),
        first_human_after="" if o.human_response_s is None else _dur(o.human_response_s),
        clocks=clocks,
        state=o.state,
        censored=o.was_sent and o.human_response_s is None,
        sent=o.was_sent,
        anchor=sec.anchor(o.probe_id),
        messages=messages,
        sent_sort=sort_value(as_utc(o.sent_at).timestamp()) if o.sent_at else "",
        response_sort=sort_value(o.response_s),
        human_sort=sort_value(o.human_response_s if o.human_response_s is not None else math.inf)
        if o.was_sent
        else "",
        answer_after=""
        if o.answer_response_s is None or o.answer_response_s == o.human_response_s
        else _dur(o.answer_response_s),
        flags=_probe_flags(o),
        quality="" if o.quality is None or math.isnan(o.quality) else f"{o.quality:.0f}",
    )


def _probe_sort_key(o: Outcome) -> tuple[str, float, str]:
    when = o.sent_at or o.due_at
    return (o.target_name.casefold(), as_utc(when).timestamp() if when else math.inf, o.probe_id)


def _rate_sort(rate: Rate) -> str:
    return sort_value(rate.value)


def index_key(summary: GroupSummary) -> tuple[int, float, int, float, float, str]:
    """Sort key of the league: highest responsiveness index first; targets without one after, by median."""
    value = summary.index.value
    median_key = rank_key(summary)
    if value is not None:
        return (0, -value, 0, 0.0, 0.0, summary.label)
    return (1, 0.0, *median_key)


def fmt_index(value: float | None) -> str:
    """Format a responsiveness index as a whole number ("—" when there is none)."""
    return "—" if value is None else f"{value:.0f}"


def fmt_quantile(est: QuantileEstimate) -> str:
    """Format a Kaplan–Meier quantile like a median: a duration, "not reached", or "—" without data."""
    if est.n == 0:
        return "—"
    return "not reached" if est.value_s is None else _dur(est.value_s)


def fmt_rank_interval(row: RankInterval | None) -> str:
    """A bootstrap rank interval as "2–5" ("3" when it is a single rank); "" when there is none."""
    if row is None or row.rank_low is None or row.rank_high is None:
        return ""
    if row.rank_low == row.rank_high:
        return f"{row.rank_low:,}"
    return f"{row.rank_low:,}–{row.rank_high:,}"


def ranked_targets(targets: Sequence[GroupSummary]) -> list[tuple[int, GroupSummary]]:
    """Targets in league order (:func:`index_key`) with their competition ranks ("1, 2, 2, 4")."""
    out: list[tuple[int, GroupSummary]] = []
    previous: tuple[object, ...] | None = None
    rank = 0
    for position, s in enumerate(sorted(targets, key=index_key), start=1):
        key = index_key(s)[:5]
        if key != previous:
            rank, previous = position, key
        out.append((rank, s))
    return out


def league_row(
    rank: int,
    s: GroupSummary,
    industry: str,
    interval: RankInterval | None = None,
    outcomes: Sequence[Outcome] = (),
) -> LeagueRow:
    """One row of the league table.

    ``outcomes`` are the target's rows, read only for a checkpoint the summary lacks.
    """
    p90 = s.first_human_p90
    return LeagueRow(
        rank=rank,
        row=group_row(s, industry),
        index=fmt_index(s.index.value) if s.index.value is not None else "",
        index_sort=sort_value(s.index.value),
        rank_interval=fmt_rank_interval(interval) if s.index.value is not None else "",
        shares=sec.checkpoint_shares(s, outcomes),
        p90=fmt_quantile(p90),
        p90_sort="" if p90.n == 0 else sort_value(math.inf if p90.value_s is None else p90.value_s),
        human_rate_sort=_rate_sort(s.human_rate),
        response_rate_sort=_rate_sort(s.response_rate),
        first_response_sort=median_sort(s.first_response),
        first_human_sort=median_sort(s.first_human),
        business_sort=median_sort(s.first_human_business),
    )


def _has_checkpoints(s: GroupSummary) -> bool:
    return all(s.within(t) is not None for t, _ in sec.CHECKPOINTS)


def league_rows(
    targets: Sequence[GroupSummary],
    industries_of: Mapping[str, str],
    outcomes: Sequence[Outcome],
    intervals: Mapping[str, RankInterval] | None = None,
) -> list[LeagueRow]:
    """The league table: targets ranked by :func:`index_key`, with competition ranks ("1, 2, 2, 4").

    With no index anywhere this is the order of :func:`rank_key` (fastest median first). ``intervals``
    (bootstrap rank intervals by target key) fill the rank-interval column.
    """
    intervals = intervals or {}
    need_rows = not all(_has_checkpoints(s) for s in targets)
    groups = sec.group_outcomes(outcomes, "target") if need_rows else {}
    return [
        league_row(rank, s, industries_of.get(s.key, ""), intervals.get(s.key), groups.get(s.key, []))
        for rank, s in ranked_targets(targets)
    ]


def _headlines(overall: GroupSummary, overall_row: GroupRow, n_targets: int) -> list[Headline]:
    fh = overall.first_human
    return [
        Headline(
            "Median time to a first human reply",
            fmt_median(fh),
            f"95\u00a0% CI {fmt_median_ci(fh)}" if fmt_median_ci(fh) else "no estimate",
        ),
        Headline(
            "Answered by a person",
            fmt_pct(overall.human_rate.value),
            f"{overall.human_rate.k:,} of {overall.human_rate.n:,} sent · "
            f"95\u00a0% CI {fmt_rate_ci(overall.human_rate)}"
            if overall.human_rate.n
            else "nothing sent",
        ),
        Headline(
            "Median time to any first reply",
            fmt_median(overall.first_response),
            "automatic acknowledgements included",
        ),
        Headline(
            "Median in business hours",
            overall_row.business,
            "first human reply, opening hours only"
            + (" · a lower bound, see note" if overall.business_unknown else ""),
        ),
        Headline(
            "Inquiries sent",
            f"{overall.sent:,}",
            f"to {n_targets:,} {'company' if n_targets == 1 else 'companies'} · {overall.not_sent:,} not sent",
        ),
        Headline(
            "No human reply by the limit",
            f"{overall.censored:,}",
            f"censored at the wait limit · {overall.bounced:,} bounced",
        ),
    ]


def _lede(overall: GroupSummary, n_targets: int) -> str:
    fh = overall.first_human
    if not overall.sent:
        return "No inquiry has been sent yet, so there is nothing to time."
    lede = (
        f"Of {overall.sent:,} inquiries sent to {n_targets:,} "
        f"{'company' if n_targets == 1 else 'companies'}, {overall.human_rate.k:,} "
        f"({fmt_pct(overall.human_rate.value)}) were answered by a person within the wait limit"
    )
    if fh.median_s is not None:
        lede += f"; the median time to that first human reply was {fmt_median(fh)}"
        ci = fmt_median_ci(fh)
        lede += f" (95\u00a0% CI {ci})." if ci else "."
    else:
        lede += "; the median time to a human reply was not reached within the wait limit."
    return lede


def _clock_counts(table: OutcomeTable, evidence: Sequence[MessageRow]) -> tuple[Counter[str], Counter[str]]:
    """How often each clock stamped a sent time (sent probes) and a received time (evidence, else outcomes)."""
    rows = table.rows
    sent_clocks = Counter(compress(map(attrgetter("sent_clock"), rows), table.cols.sent.tolist()))
    sent = Counter({c: n for c, n in sent_clocks.items() if c})
    if evidence:
        return sent, Counter(m.clock for m in evidence)
    pairs = Counter(
        zip(
            map(attrgetter("first_response_clock"), rows),
            map(attrgetter("first_human_clock"), rows),
            strict=True,
        )
    )
    received: Counter[str] = Counter()
    for (first, human), n in pairs.items():  # each probe counts a clock once, as a set of its two clocks
        for clock in {first, human}:
            if clock:
                received[clock] += n
    return sent, received


def _clock_rows(
    outcomes: Sequence[Outcome] | OutcomeTable, evidence: Sequence[MessageRow]
) -> list[tuple[str, str, str, str]]:
    """The clock sources table: (clock, stamps, definition, how often it occurs in this report).

    Lists the clocks the report's times come from; an unknown one is named as undocumented.
    """
    table = outcomes if isinstance(outcomes, OutcomeTable) else OutcomeTable(outcomes)
    sent, received = _clock_counts(table, evidence)
    rows = []
    known = set()
    for clock, stamps, text in CLOCK_SOURCES:
        known.add(clock)
        count = (sent.get(clock, 0) if "sent_at" in stamps else 0) + (
            received.get(clock, 0) if "received_at" in stamps else 0
        )
        if count:  # only the clocks this report's times come from
            rows.append((clock, stamps, text, f"{count:,}"))
    for clock, count in sorted({**received}.items()):
        if clock not in known:
            rows.append((clock, "received_at", "not a documented clock source", f"{count:,}"))
    for clock, count in sorted(sent.items()):
        if clock not in known:
            rows.append((clock, "sent_at", "not a documented clock source", f"{count:,}"))
    return rows


def rank_resamples(targets: int, largest: int) -> int:
    """Bootstrap resamples for the rank intervals of ``targets`` targets whose largest has ``largest`` probes.

    As many as :data:`~replybench.analysis.ranks.DEFAULT_RESAMPLES`, fewer when that would exceed
    :data:`~replybench.report.limits.RANK_BOOTSTRAP_CELLS` (resamples × targets × largest); 0 (no intervals)
    when fewer than :data:`~replybench.report.limits.RANK_MIN_RESAMPLES` fit.
    """
    cells = max(targets * largest, 1)
    resamples = min(DEFAULT_RESAMPLES, RANK_BOOTSTRAP_CELLS // cells)
    return resamples if resamples >= RANK_MIN_RESAMPLES else 0


def _probe_selection(table: OutcomeTable) -> tuple[list[Outcome], int]:
    """The probes of the evidence table in display order, and how many there are in all.

    Every probe up to :data:`~replybench.report.limits.EVIDENCE_MAX_PROBES`; beyond, the most recently sent
    (probes never sent by when they were due; those without either last).
    """
    rows = table.rows
    if len(rows) <= EVIDENCE_MAX_PROBES:
        return sorted(rows, key=_probe_sort_key), len(rows)
    when = table.sent_epoch_s.copy()
    for i in np.flatnonzero(np.isnan(when)).tolist():
        due = rows[i].due_at
        when[i] = as_utc(due).timestamp() if due is not None else -math.inf
    chosen = np.argpartition(-when, EVIDENCE_MAX_PROBES - 1)[:EVIDENCE_MAX_PROBES]
    return sorted((rows[i] for i in chosen.tolist()), key=_probe_sort_key), len(rows)


@dataclass(frozen=True)
class ReportData:
    """Everything the reports show, computed once from the outcomes and shared by the HTML and Markdown.

    ``context`` holds the display values (:func:`report_context`); the rest is what the charts draw: the
    outcomes ``table`` (read once), the overall and per-channel Kaplan–Meier curves, every target in league
    order with its rank (``ranked``), the rank intervals, each target's industry, and the targets the
    per-target charts show (``chart_league``, capped by :data:`~replybench.report.limits.CHART_MAX_TARGETS`).
    """

    context: dict[str, Any]
    table: OutcomeTable
    overall_human: SurvivalCurve
    overall_any: SurvivalCurve
    channel_curves: list[sec.Curves]
    ranked: list[tuple[int, GroupSummary]]
    intervals: Mapping[str, RankInterval]
    industries_of: Mapping[str, str]
    chart_league: Capped[LeagueRow]


def _gap_text(cap: Capped[LeagueRow]) -> str:
    if not cap.capped:
        return ""
    first, last = cap.head + 1, cap.total - cap.tail
    return f"{cap.hidden:,} targets in league places {first:,}–{last:,} are not shown here."


def report_context(
    outcomes: Sequence[Outcome], meta: ReportMeta, evidence: Sequence[MessageRow] = ()
) -> dict[str, Any]:
    """Compute the values both reports show, once, as plain display values.

    Keys: ``meta``, ``version``, ``generated_at``, ``overall`` (a :class:`GroupRow`), ``targets`` (GroupRow
    list in league order), ``league`` (:class:`LeagueRow` list), ``ranking`` (how the league ranks),
    ``index_formula`` (empty until the analysis has an index), ``has_rank_intervals``, ``industries`` and
    ``channels`` (GroupRow lists), ``channel_shares`` / ``overall_shares`` (shares answered by
    :data:`~replybench.report.sections.CHECKPOINTS`), ``checkpoints`` (labels), ``buckets``, ``heatmap``,
    ``weekdays``, ``split`` / ``split_overall`` / ``split_categories``, ``answers`` / ``answers_overall``
    (:class:`AnswerRow`, per target as the league shows them, and over all), ``has_answers`` (else the
    one-line ``answers_empty``), ``promises`` (:class:`~replybench.report.sections.PromiseView` list, at most
    :data:`~replybench.report.limits.PROMISES_MAX_ROWS` of ``promise_total``), ``needs_review`` (probes a
    person should look at) and ``review_note``, ``bounces`` / ``bounce_overall``,
    ``probes`` (:class:`ProbeRow` list), ``messages`` (:class:`~replybench.report.sections.MessageView` list),
    ``has_evidence``, ``headlines``, ``lede``, ``definitions``, ``clock_sources``, ``sample`` (label, value,
    indented), ``wait_limits`` (suite/duration pairs), ``business_note``.

    Large studies are shown in part (:mod:`replybench.report.limits`): ``league``, ``targets`` and ``split``
    hold the targets shown, ``league_head`` of them before a gap of ``league_hidden`` targets described by
    ``league_gap`` (empty when nothing is left out); ``chart_league`` / ``chart_head`` / ``chart_hidden`` /
    ``chart_gap`` likewise for the per-target charts; ``target_count`` counts every target.
    ``league_note``, ``chart_note``, ``strip_note``, ``bounce_note``, ``promises_note``, ``probes_note`` and
    ``messages_note``
    are the visible notes of capped lists (empty when not capped), ``scale_notes`` lists them all for the
    Methods section, ``targets_csv`` names the per-target file written beside the reports.
    """
    return build_report(outcomes, meta, evidence).context


def build_report(
    outcomes: Sequence[Outcome],
    meta: ReportMeta,
    evidence: Sequence[MessageRow] = (),
    sends: Sequence[SendRow] = (),
) -> ReportData:
    """Compute everything both reports show, reading the outcomes once (see :func:`report_context`).

    ``sends`` are the web-send evidence rows (:func:`replybench.analysis.sends.build_send_rows`).
    """
    table = OutcomeTable(outcomes)
    cols = table.cols

    curves: dict[tuple[str, str, str], SurvivalCurve] = {}

    def keep_curves(by: GroupBy, measure: Measure, km: GroupedKM) -> None:
        """Read the overall and per-channel curves off the estimates while they exist."""
        if by in ("overall", "channel") and measure in ("first_human", "first_response"):
            keys = table.group(by)[0] or ["overall"]
            for g, key in enumerate(keys[: km.n_groups]):
                curves[(by, key, measure)] = sec.curve_of(km, g)

    summaries = summarize_groupings(table, ["overall", "target", "industry", "channel"], on_km=keep_curves)
    overall = summaries["overall"][0]
    target_summaries = summaries["target"]
    keys, _, target_codes = table.group("target")
    industries_of: dict[str, str] = {}
    if table.n:
        firsts = np.unique(target_codes, return_index=True)[1]
        industries_of = {keys[c]: table.rows[int(i)].industry for c, i in enumerate(firsts.tolist())}
    n_targets = len(target_summaries)

    intervals: dict[str, RankInterval] = {}
    ranked_n = sum(1 for t in target_summaries if t.index.value is not None)
    largest = int(np.bincount(target_codes[table.timing("first_human").usable]).max(initial=0))
    resamples = rank_resamples(ranked_n, largest) if ranked_n else 0
    if resamples:
        ranks = bootstrap_ranks_table(table, by="target", metric="index", seed=0, resamples=resamples)
        intervals = {r.key: r for r in ranks.rows}
    ranked = ranked_targets(target_summaries)
    shown = ends(ranked, TABLE_MAX_ROWS, TABLE_EDGE_ROWS)
    league_cap = Capped(
        tuple(
            league_row(rank, s, industries_of.get(s.key, ""), intervals.get(s.key)) for rank, s in shown.items
        ),
        shown.total,
        shown.head,
    )
    league = list(league_cap.items)
    chart_cap = ends(league, CHART_MAX_TARGETS, CHART_EDGE_TARGETS)
    if league_cap.capped:  # the league shows both ends: take the charts' ends from them
        head = list(league[: league_cap.head])
        tail = list(league[league_cap.head :])
        chart_cap = Capped(
            (*head[:CHART_EDGE_TARGETS], *tail[-CHART_EDGE_TARGETS:]),
            n_targets,
            min(CHART_EDGE_TARGETS, len(head)),
        )

    industries = summaries["industry"]
    channels = summaries["channel"]
    del summaries
    ordered = [r.row.summary for r in league]
    overall_row = group_row(overall, "")
    not_sent = Counter(table.rows[i].state for i in np.flatnonzero(~cols.sent).tolist())
    horizon = max(meta.wait_limits.values(), default=None)
    split, split_overall = sec.ack_split_of(table, ordered)
    answer_cols = sec.AnswerColumns.of(table.rows)
    answer_stats, answer_all = sec.answer_stats(table, ordered, answer_cols)
    needs_review = int(np.count_nonzero(answer_cols.needs_review))
    bounced_sent = overall.bounce_rate if overall.bounce_rate.n else wilson(overall.bounced, overall.sent)

    bounced_all = sec.bounced_targets(table, [s for _, s in ranked])
    bounce_note = ""
    if len(bounced_all) > BOUNCE_MAX_ROWS:
        position = {s.key: i for i, s in enumerate(bounced_all)}
        most = sorted(bounced_all, key=lambda s: (-s.bounced, position[s.key]))[:BOUNCE_TOP_ROWS]
        bounce_note = (
            f"Showing the {len(most):,} targets with the most bounced inquiries of "
            f"{count(len(bounced_all), 'target')} with any bounce."
        )
        bounced_all = most
    bounces = sec.bounce_rows_of(table, bounced_all, evidence)

    probes, probe_total = _probe_selection(table)
    probes_note = ""
    if len(probes) < probe_total:
        probes_note = (
            f"Showing the {len(probes):,} most recently sent of {count(probe_total, 'probe')} (sorted by target, "
            "then time); every probe is in `replybench export`."
        )
    counts = sec.messages_per_probe(evidence)
    shown_ids = {o.probe_id for o in probes}
    shown_evidence = [m for m in evidence if m.probe_id in shown_ids] if probes_note else list(evidence)
    messages = sec.message_views(shown_evidence, probes)
    messages_note = ""
    if len(messages) > EVIDENCE_MAX_MESSAGES or len(shown_evidence) < len(evidence):
        messages = messages[:EVIDENCE_MAX_MESSAGES]
        messages_note = (
            f"Showing {count(len(messages), 'message')} of the probes above, of "
            f"{len(evidence):,} matched messages."
        )
    late = sum(1 for m in evidence if m.after_horizon)
    promises, promise_total = sec.promise_views(
        table, [s for _, s in ranked], answer_cols, PROMISES_MAX_ROWS, shown_ids
    )
    promises_note = ""
    if len(promises) < promise_total:
        promises_note = (
            f"Showing the first {len(promises):,} of {count(promise_total, 'stated promise')}, in league order; "
            "every probe's promise is in `replybench export`."
        )
    review_note = ""
    if needs_review:
        review_note = (
            f"{count(needs_review, 'probe')} {'has' if needs_review == 1 else 'have'} a message the machine was "
            "unsure of and no person has decided yet (marked “needs review” in the evidence): run "
            "`replybench review`."
        )
    send_list, sends_note = sec.send_views(sends, max_rows=SENDS_MAX_ROWS, max_images=SENDS_MAX_SCREENSHOTS)
    has_index = any(s.index.value is not None for s in target_summaries)
    horizons = [s.index.horizon_s for s in target_summaries if s.index.horizon_s is not None]
    index_horizon = _dur(horizons[0]) if horizons else "the wait limit"

    league_note = ends_note(league_cap, "target")
    chart_note = ends_note(chart_cap, "target")
    scale_notes: list[tuple[str, str]] = []
    if league_note:
        scale_notes.append(("Per-target tables", league_note))
    if chart_note:
        scale_notes.append(("Per-target charts", chart_note))
    if bounce_note:
        scale_notes.append(("Bounces", bounce_note))
    if promises_note:
        scale_notes.append(("Promises", promises_note))
    if probes_note:
        scale_notes.append(("Evidence", probes_note))
    if messages_note:
        scale_notes.append(("Messages", messages_note))
    rank_method = ""
    if has_index:
        if resamples and any(r.rank_interval for r in league):
            rank_method = RANK_INTERVALS.format(resamples=resamples)
            if resamples < DEFAULT_RESAMPLES:
                reduced = RANK_RESAMPLES_REDUCED.format(
                    resamples=resamples, default=DEFAULT_RESAMPLES, targets=ranked_n
                )
                rank_method += " " + reduced
                scale_notes.append(("Rank intervals", reduced))
        elif not resamples:
            rank_method = RANK_INTERVALS_OMITTED.format(targets=ranked_n, largest=largest)
            scale_notes.append(("Rank intervals", rank_method))
    if scale_notes:
        scale_notes.append(
            (
                "Full data",
                f"Every statistic in this report uses the whole table ({count(overall.planned, 'probe')}); only "
                f"the lists named here are shortened. Every target's numbers, in league order, are in "
                f"`{TARGETS_CSV}` beside this report; every probe is in `replybench export`.",
            )
        )

    sample = [
        ("Probes planned", f"{overall.planned:,}", False),
        ("Sent (enter timing and rates)", f"{overall.sent:,}", False),
        ("Not sent (excluded, counted here)", f"{overall.not_sent:,}", False),
        *((state, f"{n:,}", True) for state, n in sorted(not_sent.items())),
        ("Targets", f"{n_targets:,}", False),
        ("Industries", f"{len(industries):,}", False),
        ("Channels", f"{len(channels):,}", False),
        *((f"sent by {c.label}", f"{c.sent:,}", True) for c in channels),
        ("Any reply observed", f"{overall.first_response.events:,}", False),
        ("Human reply observed", f"{overall.first_human.events:,}", False),
        ("Censored at the horizon (no human reply)", f"{overall.censored:,}", False),
        ("Bounced", f"{overall.bounced:,}", False),
        ("Automatically acknowledged", f"{overall.auto_acked:,}", False),
        ("Needing a person's review", f"{needs_review:,}", False),
    ]
    if evidence:
        sample.append(("Messages matched to probes", f"{len(evidence):,}", False))
        sample.append(("arrived after the limit (not counted)", f"{late:,}", True))

    business_note = ""
    if overall.business_unknown:
        business_note = (
            f"Business-time medians leave out {overall.business_unknown:,} sent "
            f"{'probe' if overall.business_unknown == 1 else 'probes'} whose business time was unknown "
            "(a censored probe needs the business time elapsed at its horizon). Leaving censored probes out "
            "makes a median optimistic, so such medians are marked “≥”: the true value is at least that."
        )

    context: dict[str, Any] = {
        "meta": meta,
        "version": __version__,
        "generated_at": fmt_time(meta.generated_at).rsplit(".", 1)[0] + " UTC",
        "overall": overall_row,
        "targets": [r.row for r in league],
        "target_count": n_targets,
        "league": league,
        "league_head": league_cap.head,
        "league_gap": _gap_text(league_cap),
        "league_hidden": league_cap.hidden,
        "league_note": league_note,
        "chart_league": list(chart_cap.items),
        "chart_head": chart_cap.head,
        "chart_gap": _gap_text(chart_cap),
        "chart_hidden": chart_cap.hidden,
        "chart_note": chart_note,
        "strip_note": "",
        "ranking": RANKED_BY_INDEX.format(horizon=index_horizon) if has_index else INDEX_PENDING,
        "index_formula": INDEX_FORMULA,
        "index_horizon": index_horizon,
        "overall_index": fmt_index(overall.index.value) if has_index else "",
        "has_index": has_index,
        "has_rank_intervals": any(r.rank_interval for r in league),
        "rank_method": rank_method,
        "industries": [group_row(s, s.label) for s in industries],
        "channels": [group_row(s, "") for s in channels],
        "channel_shares": [sec.checkpoint_shares(c) for c in channels],
        "overall_shares": sec.checkpoint_shares(overall, () if _has_checkpoints(overall) else table.rows),
        "overall_p90": fmt_quantile(overall.first_human_p90),
        "checkpoints": [label for _, label in sec.CHECKPOINTS],
        "buckets": sec.buckets_of(cols, horizon),
        "heatmap": sec.heatmap_of(table),
        "weekdays": sec.WEEKDAYS,
        "split": split,
        "split_overall": split_overall,
        "split_categories": sec.SPLIT_CATEGORIES,
        "answers": [answer_row(st) for st in answer_stats],
        "answers_overall": answer_row(answer_all),
        "has_answers": sec.has_answer_data(answer_all),
        "answers_empty": ANSWERS_EMPTY,
        "promises": promises,
        "promises_note": promises_note,
        "promise_total": promise_total,
        "needs_review": needs_review,
        "review_note": review_note,
        "bounces": bounces,
        "bounce_note": bounce_note,
        "bounce_overall": (
            f"{overall.bounced:,} of {overall.sent:,} sent inquiries bounced ({fmt_pct(bounced_sent.value)}"
            + (f", 95\u00a0% CI {fmt_rate_ci(bounced_sent)}" if bounced_sent.n else "")
            + ")."
            if overall.sent
            else "No inquiry was sent."
        ),
        "probes": [_probe_row(o, counts.get(o.probe_id, 0)) for o in probes],
        "probes_note": probes_note,
        "messages": messages,
        "messages_note": messages_note,
        "has_evidence": bool(evidence),
        "sends": send_list,
        "sends_note": sends_note,
        "headlines": _headlines(overall, overall_row, n_targets),
        "lede": _lede(overall, n_targets),
        "definitions": DEFINITIONS,
        "clock_sources": _clock_rows(table, evidence),
        "sample": sample,
        "wait_limits": [(suite, _dur(s)) for suite, s in sorted(meta.wait_limits.items())],
        "business_note": business_note,
        "scale_notes": scale_notes,
        "targets_csv": TARGETS_CSV,
    }
    empty = SurvivalCurve((), (), (), (), (), 0, 0)
    channel_curves = [
        sec.Curves(
            c.key,
            c.label,
            curves.get(("channel", c.key, "first_human"), empty),
            curves.get(("channel", c.key, "first_response"), empty),
            c,
        )
        for c in channels
    ]
    return ReportData(
        context=context,
        table=table,
        overall_human=curves.get(("overall", "overall", "first_human"), empty),
        overall_any=curves.get(("overall", "overall", "first_response"), empty),
        channel_curves=channel_curves,
        ranked=ranked,
        intervals=intervals,
        industries_of=industries_of,
        chart_league=chart_cap,
    )


# --------------------------------------------------------------------------------------------- environment

_HTML_EXTENSIONS = ("html", "htm", "xml", "svg", "html.j2", "htm.j2", "xml.j2", "svg.j2")


def template_env(overrides: Path | None) -> jinja2.Environment:
    """Return the Jinja environment of the reports: templates in ``overrides`` first, then the packaged ones.

    ``overrides`` is a directory (a workspace's ``reports/``) whose templates, by the same name, replace the
    packaged ones. Autoescaping is on for HTML, XML and SVG templates (``*.html.j2`` included) and off for
    Markdown, which escapes with the ``md`` filter instead. Undefined variables are errors.
    """
    loaders: list[jinja2.BaseLoader] = []
    if overrides is not None:
        loaders.append(jinja2.FileSystemLoader(str(overrides)))
    loaders.append(jinja2.PackageLoader("replybench.report", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=_HTML_EXTENSIONS, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["duration"] = format_duration
    env.filters["iso"] = iso_ms
    env.filters["md"] = md_escape
    env.filters["code"] = inline_code_html
    env.filters["num"] = fmt_count
    return env


def write_reports(
    outcomes: Sequence[Outcome],
    meta: ReportMeta,
    out_dir: Path,
    overrides: Path | None = None,
    evidence: Sequence[MessageRow] = (),
    sends: Sequence[SendRow] = (),
) -> ReportPaths:
    """Render the HTML and Markdown reports into ``out_dir`` (created if missing): report.html, report.md.

    ``overrides`` is a directory of templates replacing the packaged ones (see :func:`template_env`);
    ``evidence`` the messages matched to the probes (:func:`replybench.analysis.evidence.build_evidence`),
    shown in the per-probe evidence and used to describe bounces; ``sends`` how web forms and chats went
    (:func:`replybench.analysis.sends.build_send_rows`).
    """
    from replybench.report.export import write_targets
    from replybench.report.html import render_html
    from replybench.report.markdown import render_markdown

    env = template_env(overrides)
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = out_dir / TARGETS_CSV
    paths = ReportPaths(html=out_dir / "report.html", markdown=out_dir / "report.md", targets=targets)
    data = build_report(outcomes, meta, evidence, sends)
    paths.html.write_text(render_html(outcomes, meta, env, evidence, data=data), encoding="utf-8")
    paths.markdown.write_text(render_markdown(outcomes, meta, env, evidence, data=data), encoding="utf-8")
    with targets.open("w", encoding="utf-8", newline="") as fh:
        write_targets(data.ranked, data.industries_of, data.intervals, fh)
    return paths
