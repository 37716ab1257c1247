"""The report sections beyond the headline tables, as plain display values shared by HTML and Markdown.

Each builder here turns the outcomes table (and the evidence rows) into small frozen records of text and
numbers: the league table, the per-channel comparison, shares answered by fixed times, the response-time
buckets and the per-target strip, the weekday × hour heatmap, the acknowledgement/human split, bounces, and
the per-message evidence. The HTML module draws charts from them, the Markdown module tables; neither
recomputes a statistic. Every string is plain (possibly untrusted) text: escaping is the output format's job.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from replybench.analysis.evidence import MessageRow
from replybench.analysis.outcome import Outcome
from replybench.analysis.summary import (
    GroupSummary,
    SurvivalCurve,
    TimeEstimate,
    km_curve,
    km_median,
    summarize,
    timing_data,
    wilson,
)
from replybench.models import MessageClass
from replybench.timefmt import format_duration, iso_ms

NBSP = "\u00a0"

#: The fixed times at which the reports give the share of inquiries answered by a person (seconds, label).
CHECKPOINTS: tuple[tuple[float, str], ...] = ((3600.0, "1 h"), (4 * 3600.0, "4 h"), (86400.0, "24 h"))

#: Buckets of the response-time distribution: (upper limit in seconds, label); the last one is open.
BUCKETS: tuple[tuple[float, str], ...] = (
    (60.0, "< 1 min"),
    (15 * 60.0, "1–15 min"),
    (3600.0, "15 min – 1 h"),
    (4 * 3600.0, "1–4 h"),
    (86400.0, "4–24 h"),
    (3 * 86400.0, "1–3 d"),
    (7 * 86400.0, "3–7 d"),
    (math.inf, "≥ 7 d"),
)

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

#: Reply classes that are a person answering (the first human response).
HUMAN_CLASSES = frozenset({MessageClass.HUMAN.value, MessageClass.DEFLECTION.value})


def fmt_time(value: datetime | None) -> str:
    """Format a timestamp for people, UTC with milliseconds: "2025-03-03 08:00:01.234"; "—" for None."""
    text = iso_ms(value)
    return "—" if text is None else text.replace("T", " ").removesuffix("Z")


def _dur(seconds: float) -> str:
    return format_duration(max(seconds, 0.0)).replace(" ", NBSP)


def compact_duration(seconds: float | None) -> str:
    """A short duration for small spaces: "45s", "41m", "2.2h", "26h", "3.1d"; "" for None."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 10 * 3600:
        return f"{seconds / 3600:.1f}h"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.1f}d"


def sort_value(value: float | None) -> str:
    """A ``data-sort`` value for the sortable tables: the number, "Infinity" for +inf, "" when missing."""
    if value is None or math.isnan(value):
        return ""
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return f"{value:.6g}"


def median_sort(est: TimeEstimate) -> str:
    """The ``data-sort`` value of a median: seconds, "Infinity" when not reached, "" without data."""
    if est.n == 0:
        return ""
    return sort_value(math.inf if est.median_s is None else est.median_s)


# --------------------------------------------------------------------------------------------- shares


def survival_at(curve: SurvivalCurve, t: float) -> float | None:
    """The Kaplan–Meier estimate at ``t`` (share still waiting); None when no probe was followed that long."""
    if curve.n == 0:
        return None
    share = 1.0
    for time, p in zip(curve.times, curve.survival, strict=True):
        if time > t:
            break
        share = p
    last = max(curve.times, default=0.0)
    if t > last and share > 0.0:
        return None
    return share


def answered_by(curve: SurvivalCurve, t: float) -> float | None:
    """The Kaplan–Meier share answered by ``t`` (1 − survival); None when unknown."""
    s = survival_at(curve, t)
    return None if s is None else 1.0 - s


def fmt_share(value: float | None) -> str:
    """A share as a whole percentage with a no-break space, "—" when unknown."""
    return "—" if value is None else f"{value * 100:.0f}{NBSP}%"


@dataclass(frozen=True)
class Share:
    """A share answered by a checkpoint: the value, its display text, its sort value."""

    value: float | None
    text: str
    sort: str


def checkpoint_shares(summary: GroupSummary, outcomes: Sequence[Outcome] = ()) -> tuple[Share, ...]:
    """The share answered by a person at each of :data:`CHECKPOINTS`.

    Read from the summary's ``answered_within`` (the analysis' Kaplan–Meier shares); a checkpoint the
    summary lacks is read from the Kaplan–Meier curve of ``outcomes``.
    """
    out = []
    curve: SurvivalCurve | None = None
    for t, _ in CHECKPOINTS:
        entry = summary.within(t)
        if entry is not None:
            v = entry.value
        else:
            curve = curve or human_curve(outcomes)
            v = answered_by(curve, t)
        out.append(Share(v, fmt_share(v), sort_value(v)))
    return tuple(out)


def human_curve(outcomes: Sequence[Outcome]) -> SurvivalCurve:
    """The Kaplan–Meier curve of the first human response over the sent probes."""
    return km_curve(*timing_data(outcomes, "first_human")[:2])


def any_curve(outcomes: Sequence[Outcome]) -> SurvivalCurve:
    """The Kaplan–Meier curve of the first response of any kind over the sent probes."""
    return km_curve(*timing_data(outcomes, "first_response")[:2])


# --------------------------------------------------------------------------------------------- groups


@dataclass(frozen=True)
class Curves:
    """The Kaplan–Meier curves of one group (a target, a channel, or everything) for the charts."""

    key: str
    label: str
    human: SurvivalCurve
    any_reply: SurvivalCurve
    summary: GroupSummary


def group_outcomes(outcomes: Sequence[Outcome], by: str) -> dict[str, list[Outcome]]:
    """Outcomes per target id or per channel, in first-seen order."""
    out: dict[str, list[Outcome]] = {}
    for o in outcomes:
        key = o.target_id if by == "target" else o.channel
        out.setdefault(key, []).append(o)
    return out


def group_curves(outcomes: Sequence[Outcome], summaries: Sequence[GroupSummary], by: str) -> list[Curves]:
    """One :class:`Curves` per summary (in the summaries' order), grouped by target or channel."""
    groups = group_outcomes(outcomes, by)
    out = []
    for s in summaries:
        rows = groups.get(s.key, [])
        out.append(Curves(s.key, s.label, human_curve(rows), any_curve(rows), s))
    return out


# --------------------------------------------------------------------------------------------- distribution


@dataclass(frozen=True)
class Bucket:
    """One response-time bucket: its label and how many first replies (any, human) fell into it."""

    label: str
    any_reply: int
    human: int
    censored: bool = False


def buckets(outcomes: Sequence[Outcome], horizon: float | None) -> list[Bucket]:
    """Count first replies of any kind and first human replies per :data:`BUCKETS` interval.

    Buckets that start at or after the wait limit are left out; a last bucket counts the sent probes with no
    such reply by their horizon (any reply, human reply), flagged ``censored``.
    """
    sent = [o for o in outcomes if o.was_sent]
    out: list[Bucket] = []
    lower = 0.0
    for upper, label in BUCKETS:
        if horizon is not None and lower >= horizon:
            break
        any_n = sum(1 for o in sent if o.response_s is not None and lower <= o.response_s < upper)
        human_n = sum(
            1 for o in sent if o.human_response_s is not None and lower <= o.human_response_s < upper
        )
        out.append(Bucket(label, any_n, human_n))
        lower = upper
    out.append(
        Bucket(
            "no reply by the limit",
            sum(1 for o in sent if o.response_s is None),
            sum(1 for o in sent if o.human_response_s is None),
            censored=True,
        )
    )
    return out


@dataclass(frozen=True)
class StripPoint:
    """One probe in the per-target strip: its time, and whether that is a reply or a censoring time."""

    seconds: float
    kind: str  # "human", "auto" (an automatic first reply), "censored", "bounced"
    tip: str


def strip_points(outcomes: Sequence[Outcome]) -> list[StripPoint]:
    """The marks of one target's strip: each human reply, each earlier automatic reply, each censoring."""
    points: list[StripPoint] = []
    for o in outcomes:
        if not o.was_sent:
            continue
        if o.response_s is not None and (o.human_response_s is None or o.response_s < o.human_response_s):
            cls = (o.first_response_class or "reply").replace("_", " ")
            points.append(StripPoint(o.response_s, "auto", f"{cls} after {format_duration(o.response_s)}"))
        if o.human_response_s is not None:
            points.append(
                StripPoint(o.human_response_s, "human", f"person after {format_duration(o.human_response_s)}")
            )
        else:
            at = o.observed_for_s()
            if at is not None:
                kind = "bounced" if o.bounced else "censored"
                what = "bounced; " if o.bounced else ""
                points.append(StripPoint(at, kind, f"{what}no human reply within {format_duration(at)}"))
    return points


# --------------------------------------------------------------------------------------------- heatmap


@dataclass(frozen=True)
class HeatCell:
    """The median time to a first human reply of the probes sent in one weekday × hour cell (local time)."""

    weekday: int
    hour: int | None  # None: the weekday's total
    estimate: TimeEstimate

    @property
    def n(self) -> int:
        """Sent probes in the cell."""
        return self.estimate.n

    @property
    def text(self) -> str:
        """A compact label: "41m", "n.r." when the median was not reached, "" for an empty cell."""
        if self.estimate.n == 0:
            return ""
        if self.estimate.median_s is None:
            return "n.r."
        return compact_duration(self.estimate.median_s)

    @property
    def tip(self) -> str:
        """A longer description for a tooltip."""
        if self.estimate.n == 0:
            return "no inquiry sent"
        median = (
            "median not reached"
            if self.estimate.median_s is None
            else f"median {format_duration(self.estimate.median_s)}"
        )
        return f"{median}; {self.estimate.events} of {self.estimate.n} answered by a person"


@dataclass(frozen=True)
class Heatmap:
    """Weekday × hour cells (rows Monday to Sunday, hours 0–23), per-weekday and per-hour totals.

    ``utc_fallback`` counts sent probes whose target had no usable time zone (placed by UTC).
    """

    rows: tuple[tuple[HeatCell, ...], ...]
    weekday_totals: tuple[HeatCell, ...]
    hour_totals: tuple[HeatCell, ...]
    overall: HeatCell
    utc_fallback: int

    @property
    def medians(self) -> list[float]:
        """Every reached median of a cell (for the colour scale)."""
        cells = [c for row in self.rows for c in row] + list(self.weekday_totals) + list(self.hour_totals)
        return [c.estimate.median_s for c in cells if c.estimate.median_s is not None]


def _zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _estimate(rows: Sequence[Outcome]) -> TimeEstimate:
    return km_median(*timing_data(rows, "first_human")[:2])


def heatmap(outcomes: Sequence[Outcome]) -> Heatmap:
    """Kaplan–Meier medians of the first human response by the weekday and hour the inquiry was sent.

    Sending times are read in the target's own time zone (``Outcome.timezone``); censored probes are part of
    every estimate, so a cell's median may be "not reached".
    """
    cells: dict[tuple[int, int], list[Outcome]] = {}
    fallback = 0
    sent = [o for o in outcomes if o.was_sent and o.sent_at is not None]
    for o in sent:
        assert o.sent_at is not None
        zone = _zone(o.timezone)
        if zone is None:
            fallback += 1
        local = o.sent_at.astimezone(zone or UTC)
        cells.setdefault((local.weekday(), local.hour), []).append(o)
    rows = tuple(tuple(HeatCell(d, h, _estimate(cells.get((d, h), []))) for h in range(24)) for d in range(7))
    by_day = tuple(
        HeatCell(d, None, _estimate([o for (dd, _), os in cells.items() if dd == d for o in os]))
        for d in range(7)
    )
    by_hour = tuple(
        HeatCell(-1, h, _estimate([o for (_, hh), os in cells.items() if hh == h for o in os]))
        for h in range(24)
    )
    return Heatmap(rows, by_day, by_hour, HeatCell(-1, None, _estimate(sent)), fallback)


# --------------------------------------------------------------------------------------------- ack split

#: The acknowledgement/human categories, in display order: (key, label).
SPLIT_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("human", "Person only"),
    ("both", "Automatic reply, then a person"),
    ("auto", "Automatic reply only"),
    ("none", "Nothing"),
)


def split_category(o: Outcome) -> str:
    """Which of :data:`SPLIT_CATEGORIES` a sent probe falls into by its horizon.

    An automatic reply is an auto-acknowledgement, or any first response that came before (or instead of) a
    person's reply: out-of-office notices and unclassified replies included. Bounces are not replies.
    """
    automatic = o.auto_acked or (
        o.response_s is not None and (o.human_response_s is None or o.response_s < o.human_response_s)
    )
    human = o.human_response_s is not None
    if human:
        return "both" if automatic else "human"
    return "auto" if automatic else "none"


@dataclass(frozen=True)
class SplitRow:
    """The acknowledgement/human split of one target: counts per category over its sent probes."""

    key: str
    label: str
    sent: int
    counts: tuple[int, ...]  # in SPLIT_CATEGORIES order

    def share(self, i: int) -> float:
        """The share of category ``i`` among the sent probes (0 when nothing was sent)."""
        return self.counts[i] / self.sent if self.sent else 0.0


def ack_split(outcomes: Sequence[Outcome], order: Sequence[GroupSummary]) -> tuple[list[SplitRow], SplitRow]:
    """Per target (in ``order``) and overall: sent probes by acknowledgement/human category."""
    groups = group_outcomes(outcomes, "target")
    keys = [k for k, _ in SPLIT_CATEGORIES]

    def row(key: str, label: str, rows: Sequence[Outcome]) -> SplitRow:
        cats = [split_category(o) for o in rows if o.was_sent]
        return SplitRow(key, label, len(cats), tuple(cats.count(k) for k in keys))

    return (
        [row(s.key, s.label, groups.get(s.key, [])) for s in order],
        row("overall", "All targets", outcomes),
    )


# --------------------------------------------------------------------------------------------- bounces


@dataclass(frozen=True)
class BounceRow:
    """A target with bounced inquiries: counts, the Wilson interval, what the bounces said."""

    key: str
    label: str
    sent: int
    bounced: int
    rate: str
    rate_ci: str
    rate_sort: str
    detail: str  # the first bounce's classifier evidence, or ""
    channels: str
    excerpt: str = ""  # the start of the first bounce's text


def _pct_range(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return ""
    return f"{low * 100:.0f}–{high * 100:.0f}{NBSP}%"


def bounce_rows(
    outcomes: Sequence[Outcome], order: Sequence[GroupSummary], evidence: Sequence[MessageRow]
) -> list[BounceRow]:
    """Targets (in ``order``) with at least one bounced probe; ``detail`` from the first bounce message."""
    groups = group_outcomes(outcomes, "target")
    first_bounce: dict[str, MessageRow] = {}
    for m in evidence:
        if m.cls == MessageClass.BOUNCE.value:
            first_bounce.setdefault(m.probe_id, m)
    out = []
    for s in order:
        rows = [o for o in groups.get(s.key, []) if o.was_sent]
        bounced = [o for o in rows if o.bounced]
        if not bounced:
            continue
        rate = s.bounce_rate if s.bounce_rate.n else wilson(len(bounced), len(rows))
        detail = next((first_bounce[o.probe_id] for o in bounced if o.probe_id in first_bounce), None)
        out.append(
            BounceRow(
                key=s.key,
                label=s.label,
                sent=len(rows),
                bounced=len(bounced),
                rate=fmt_share(rate.value),
                rate_ci=_pct_range(rate.low, rate.high),
                rate_sort=sort_value(rate.value),
                detail="" if detail is None else (detail.evidence or detail.subject),
                channels=", ".join(sorted({o.channel for o in bounced})),
                excerpt="" if detail is None else detail.excerpt,
            )
        )
    return out


# --------------------------------------------------------------------------------------------- evidence

_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def anchor(probe_id: str) -> str:
    """The HTML id of a probe's evidence row (letters, digits, "-" and "_" only)."""
    return "probe-" + _ANCHOR_UNSAFE.sub("-", probe_id)


@dataclass(frozen=True)
class MessageView:
    """Display values of one message in the evidence table (all text plain and possibly untrusted)."""

    row: MessageRow
    anchor: str
    target: str
    received_at: str
    received_sort: str
    after: str
    after_sort: str
    cls: str
    tag: str
    confidence: str
    counted: str


_KNOWN = frozenset(c.value for c in MessageClass)


def message_views(evidence: Sequence[MessageRow], outcomes: Sequence[Outcome]) -> list[MessageView]:
    """Display rows of the evidence messages, grouped by probe in the outcomes' order, then by time.

    ``counted`` says how the message entered the statistics: "first human", "first response", "after the
    limit" (not counted), or "" (counted in no headline measure).
    """
    by_probe = {o.probe_id: o for o in outcomes}
    position = {o.probe_id: i for i, o in enumerate(outcomes)}
    out = []
    for m in sorted(
        evidence, key=lambda m: (position.get(m.probe_id, len(position)), m.received_at, m.message_store_id)
    ):
        o = by_probe.get(m.probe_id)
        sent = o.sent_at if o is not None else None
        after_s = (m.received_at - sent).total_seconds() if sent is not None else None
        counted = ""
        if m.after_horizon:
            counted = "after the limit"
        elif o is not None and o.first_human_at is not None and m.received_at == o.first_human_at:
            counted = "first human reply"
        elif o is not None and o.first_response_at is not None and m.received_at == o.first_response_at:
            counted = "first reply"
        cls = m.cls or "unclassified"
        out.append(
            MessageView(
                row=m,
                anchor=anchor(m.probe_id),
                target=o.target_name if o is not None else "",
                received_at=fmt_time(m.received_at),
                received_sort=sort_value(m.received_at.timestamp()),
                after="" if after_s is None else _dur(after_s),
                after_sort=sort_value(after_s),
                cls=cls.replace("_", " "),
                tag=cls if cls in _KNOWN else "other",
                confidence="" if m.confidence is None else f"{m.confidence:.2f}",
                counted=counted,
            )
        )
    return out


def channel_summaries(outcomes: Sequence[Outcome]) -> list[GroupSummary]:
    """Per-channel summaries (alphabetical by channel)."""
    return summarize(outcomes, by="channel")


def messages_per_probe(evidence: Sequence[MessageRow]) -> Mapping[str, int]:
    """How many evidence messages each probe has."""
    counts: dict[str, int] = {}
    for m in evidence:
        counts[m.probe_id] = counts.get(m.probe_id, 0) + 1
    return counts
