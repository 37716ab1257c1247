"""The report sections beyond the headline tables, as plain display values shared by HTML and Markdown.

Each builder here turns the outcomes table (and the evidence rows) into small frozen records of text and
numbers: the league table, the per-channel comparison, shares answered by fixed times, the response-time
buckets and the per-target strip, the weekday × hour heatmap, the acknowledgement/human split, answers and
promises, bounces, and the per-message evidence. The HTML module draws charts from them, the Markdown module
tables; neither recomputes a statistic. Every string is plain (possibly untrusted) text: escaping is the
output format's job.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from replybench.analysis.columns import (
    BoolArray,
    CodeArray,
    FloatArray,
    IntArray,
    OutcomeColumns,
    OutcomeTable,
)
from replybench.analysis.evidence import MessageRow
from replybench.analysis.outcome import Outcome
from replybench.analysis.sends import SendRow
from replybench.analysis.summary import (
    GroupSummary,
    Rate,
    SurvivalCurve,
    TimeEstimate,
    km_curve,
    median_estimates,
    summarize,
    timing_data,
    wilson,
)
from replybench.analysis.survival import GroupedKM
from replybench.models import HUMAN_CLASSES as HUMAN_MESSAGE_CLASSES
from replybench.models import MessageClass
from replybench.report.limits import CURVE_MAX_POINTS, CURVE_STEPS_PER_LN
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
HUMAN_CLASSES = frozenset(c.value for c in HUMAN_MESSAGE_CLASSES)


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


def _last_in_bucket(times: FloatArray) -> BoolArray:
    """Rows to keep when thinning a curve: the last of each log-time bucket, and the first row."""
    bucket = np.floor(np.log(np.maximum(times, 1e-3)) * CURVE_STEPS_PER_LN)
    keep = np.ones(times.size, dtype=bool)
    keep[:-1] = bucket[:-1] != bucket[1:]
    keep[0] = True
    return keep


def curve_of(km: GroupedKM, group: int) -> SurvivalCurve:
    """The Kaplan–Meier curve of one group of a :class:`GroupedKM`, as :func:`km_curve` gives it.

    A curve with more than :data:`~replybench.report.limits.CURVE_MAX_POINTS` steps is thinned to
    :data:`~replybench.report.limits.CURVE_STEPS_PER_LN` steps per factor e of time (the last step in each
    such bucket, and the first), far finer than a chart can show; censoring times likewise.
    """
    a, b = int(km.start[group]), int(km.stop[group])
    times = km.times[a:b]
    survival, low, high = km.survival[a:b], km.band_low[a:b], km.band_high[a:b]
    censored = times[km.count[a:b] > km.events[a:b]]
    if times.size > CURVE_MAX_POINTS:
        keep = _last_in_bucket(times)
        times, survival, low, high = times[keep], survival[keep], low[keep], high[keep]
    if censored.size > CURVE_MAX_POINTS:
        censored = censored[_last_in_bucket(censored)]
    return SurvivalCurve(
        times=tuple(times.tolist()),
        survival=tuple(survival.tolist()),
        low=tuple(low.tolist()),
        high=tuple(high.tolist()),
        censored_times=tuple(censored.tolist()),
        n=int(km.n[group]),
        events=int(km.n_events[group]),
    )


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
    return buckets_of(OutcomeColumns.from_outcomes(outcomes), horizon)


def buckets_of(cols: OutcomeColumns, horizon: float | None) -> list[Bucket]:
    """:func:`buckets` of an outcomes table's columns."""
    any_s = cols.response_s[cols.sent]
    human_s = cols.human_s[cols.sent]
    out: list[Bucket] = []
    lower = 0.0
    for upper, label in BUCKETS:
        if horizon is not None and lower >= horizon:
            break
        any_n = int(np.count_nonzero((any_s >= lower) & (any_s < upper)))  # NaN compares False
        human_n = int(np.count_nonzero((human_s >= lower) & (human_s < upper)))
        out.append(Bucket(label, any_n, human_n))
        lower = upper
    out.append(
        Bucket(
            "no reply by the limit",
            int(np.count_nonzero(np.isnan(any_s))),
            int(np.count_nonzero(np.isnan(human_s))),
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


def strip_sample(outcomes: Sequence[Outcome], limit: int) -> list[Outcome]:
    """At most ``limit`` of one target's sent probes for its strip: all of them, or a systematic sample.

    The sample takes every k-th probe in the order of its mark's time (the human reply, else the censoring
    time), evenly spaced from the first to the last, so the marks keep the shape of the distribution. The
    same probes give the same sample.
    """
    sent = [o for o in outcomes if o.was_sent]
    if len(sent) <= limit:
        return sent

    def when(o: Outcome) -> tuple[float, str]:
        t = o.human_response_s if o.human_response_s is not None else o.observed_for_s()
        return (math.inf if t is None else t, o.probe_id)

    ordered = sorted(sent, key=when)
    picks = np.unique(np.round(np.linspace(0, len(ordered) - 1, limit)).astype(np.int64))
    return [ordered[i] for i in picks.tolist()]


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


_QUARTER = 900.0  # UTC offsets change on quarter hours
_CHUNK = 1 << 17  # rows converted at a time (bounds the scratch memory)


def _local_day_hour(epoch: FloatArray, zone: tzinfo) -> CodeArray:
    """Weekday × 24 + hour in ``zone`` (Monday 0) of POSIX times, as ``datetime.astimezone`` gives them.

    The zone's UTC offset is looked up once per quarter hour that occurs (transitions fall on quarter
    hours); a quarter hour whose offset changes inside it is converted time by time.
    """
    out = np.empty(epoch.size, dtype=np.int16)
    offsets: dict[float, tuple[float, float]] = {}

    def offset(t: float) -> float:
        delta = datetime.fromtimestamp(t, zone).utcoffset()
        return 0.0 if delta is None else delta.total_seconds()

    for lo in range(0, epoch.size, _CHUNK):
        e = epoch[lo : lo + _CHUNK]
        quarter = np.floor(e / _QUARTER)
        starts, inverse = np.unique(quarter, return_inverse=True)
        for q in starts.tolist():
            if q not in offsets:
                offsets[q] = (offset(q * _QUARTER), offset(q * _QUARTER + _QUARTER - 0.001))
        pairs = np.array([offsets[q] for q in starts.tolist()]).reshape(-1, 2)
        local = e + pairs[:, 0][inverse]
        for i in np.flatnonzero((pairs[:, 0] != pairs[:, 1])[inverse]).tolist():
            local[i] = e[i] + offset(float(e[i]))
        days = np.floor(local / 86400.0)
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
        hour = np.floor((local - days * 86400.0) / 3600.0)
        out[lo : lo + e.size] = (weekday * 24 + hour).astype(np.int16)
    return out


def heatmap(outcomes: Sequence[Outcome]) -> Heatmap:
    """Kaplan–Meier medians of the first human response by the weekday and hour the inquiry was sent.

    Sending times are read in the target's own time zone (``Outcome.timezone``); censored probes are part of
    every estimate, so a cell's median may be "not reached".
    """
    return heatmap_of(OutcomeTable(outcomes))


def heatmap_of(table: OutcomeTable) -> Heatmap:
    """:func:`heatmap` of an outcomes table read once (the medians of every cell in one pass)."""
    epoch = table.sent_epoch_s
    index: dict[str | None, int] = {}
    zone_of = np.fromiter(
        (index.setdefault(z, len(index)) for z in map(attrgetter("timezone"), table.rows)),
        dtype=np.int32,
        count=table.n,
    )
    names = list(index)
    rows = np.flatnonzero(~np.isnan(epoch))
    rows = rows[np.argsort(zone_of[rows], kind="stable")]
    cell = np.full(table.n, -1, dtype=np.int16)  # weekday × 24 + hour in local time; -1: not sent
    fallback = 0
    if rows.size:
        for members in np.split(rows, np.flatnonzero(np.diff(zone_of[rows])) + 1):
            zone = _zone(names[int(zone_of[members[0]])])
            if zone is None:
                fallback += int(members.size)
            cell[members] = _local_day_hour(epoch[members], zone or UTC)
    del rows, zone_of

    def medians(codes: CodeArray, n_groups: int) -> list[TimeEstimate]:
        return median_estimates(table.km("first_human", codes, n_groups))

    sent = cell >= 0
    cells = medians(cell, 7 * 24)
    days = medians(np.where(sent, cell // 24, -1).astype(np.int16), 7)
    hours = medians(np.where(sent, cell % 24, -1).astype(np.int16), 24)
    (everything,) = medians(np.where(sent, 0, -1).astype(np.int16), 1)
    grid = tuple(tuple(HeatCell(d, h, cells[d * 24 + h]) for h in range(24)) for d in range(7))
    by_day = tuple(HeatCell(d, None, days[d]) for d in range(7))
    by_hour = tuple(HeatCell(-1, h, hours[h]) for h in range(24))
    return Heatmap(grid, by_day, by_hour, HeatCell(-1, None, everything), fallback)


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


def split_categories(cols: OutcomeColumns) -> IntArray:
    """Each row's :data:`SPLIT_CATEGORIES` index as :func:`split_category` decides it; -1 when not sent."""
    resp, human = cols.response_s, cols.human_s
    answered = ~np.isnan(human)
    automatic = cols.auto_acked | (~np.isnan(resp) & (~answered | (resp < human)))
    category = np.where(answered, np.where(automatic, 1, 0), np.where(automatic, 2, 3))
    return np.where(cols.sent, category, -1).astype(np.int64)


def ack_split(outcomes: Sequence[Outcome], order: Sequence[GroupSummary]) -> tuple[list[SplitRow], SplitRow]:
    """Per target (in ``order``) and overall: sent probes by acknowledgement/human category."""
    return ack_split_of(OutcomeTable(outcomes), order)


def ack_split_of(table: OutcomeTable, order: Sequence[GroupSummary]) -> tuple[list[SplitRow], SplitRow]:
    """:func:`ack_split` of an outcomes table read once."""
    keys, _, codes = table.group("target")
    k = len(SPLIT_CATEGORIES)
    category = split_categories(table.cols)
    sent = category >= 0
    counts = np.bincount(codes[sent] * k + category[sent], minlength=len(keys) * k).reshape(len(keys), k)
    position = {key: i for i, key in enumerate(keys)}

    def row(key: str, label: str, values: Sequence[int]) -> SplitRow:
        return SplitRow(key, label, int(sum(values)), tuple(int(v) for v in values))

    empty = [0] * k
    return (
        [
            row(s.key, s.label, counts[position[s.key]].tolist() if s.key in position else empty)
            for s in order
        ],
        row("overall", "All targets", counts.sum(axis=0).tolist() if len(keys) else empty),
    )


# --------------------------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class AnswerStats:
    """Answers and promises of one target (or of all): what came back beyond the first human reply.

    Counts are over the sent probes. ``human`` had a person's reply by the horizon (deflections and holding
    replies included), ``answers`` a real answer (``Rate`` over the sent probes, Wilson interval), and
    ``answer_time`` is the Kaplan–Meier median time to that first real answer (probes without one censored at
    their horizon). ``holding_only`` had a holding reply but no real answer. ``promises`` stated a response
    time, of which ``kept``, ``broken`` and ``undetermined``. ``quality`` is the median quality score of the
    ``scored`` probes (None when none was scored); ``answered_all`` and ``personalised`` count the probes
    for which that is True, out of ``all_known`` and ``personal_known`` probes for which it is known.
    """

    key: str
    label: str
    sent: int
    human: int
    answers: Rate
    answer_time: TimeEstimate
    deflected: int
    holding_only: int
    promises: int
    kept: int
    broken: int
    undetermined: int
    quality: float | None
    scored: int
    answered_all: int
    all_known: int
    personalised: int
    personal_known: int


@dataclass(frozen=True)
class PromiseView:
    """One stated promise in the reports' list: who made it, the phrase (untrusted), when it fell due."""

    probe_id: str
    anchor: str
    linked: bool  # the probe's row is in the evidence table
    target: str
    phrase: str
    due: str
    due_sort: str
    answer: str
    answer_sort: str
    status: str  # "kept", "broken", "undetermined"


@dataclass(frozen=True)
class AnswerColumns:
    """The answer fields of an outcomes table, one entry per row (read once, like :class:`OutcomeColumns`).

    Tri-state fields (``promise_kept``, ``answered_all``, ``personalised``) are -1 for None, else 0 or 1.
    """

    answer_s: FloatArray
    deflected: BoolArray
    holding: BoolArray
    promise: BoolArray
    promise_kept: npt.NDArray[np.int8]
    answered_all: npt.NDArray[np.int8]
    personalised: npt.NDArray[np.int8]
    needs_review: BoolArray

    @classmethod
    def of(cls, rows: Sequence[Outcome]) -> AnswerColumns:
        """Read the answer fields of ``rows`` (one attribute pass per field)."""
        n = len(rows)

        def flags(name: str) -> BoolArray:
            return np.fromiter(map(bool, map(attrgetter(name), rows)), dtype=bool, count=n)

        def tri(name: str) -> npt.NDArray[np.int8]:
            return np.fromiter(
                (-1 if v is None else int(v) for v in map(attrgetter(name), rows)), dtype=np.int8, count=n
            )

        return cls(
            answer_s=np.fromiter(
                (math.nan if v is None else v for v in map(attrgetter("answer_response_s"), rows)),
                dtype=np.float64,
                count=n,
            ),
            deflected=flags("deflected"),
            holding=flags("holding"),
            promise=np.fromiter(
                (v is not None for v in map(attrgetter("promise"), rows)), dtype=bool, count=n
            ),
            promise_kept=tri("promise_kept"),
            answered_all=tri("answered_all"),
            personalised=tri("personalised"),
            needs_review=flags("needs_review"),
        )


def answer_timing(cols: OutcomeColumns, answer_s: FloatArray) -> tuple[FloatArray, BoolArray, BoolArray]:
    """Kaplan–Meier input of the time to a first real answer, by the rule of the headline measure.

    A sent probe with a real answer is an event at its time; one without is censored when it was observed
    (its horizon, or now while open); probes never sent, or without a known observation time, are not
    usable. Returns durations, observed flags and usable flags for every row.
    """
    observed = ~np.isnan(answer_s)
    durations = np.where(observed, answer_s, cols.observed_s)
    usable = cols.sent & ~np.isnan(durations)
    return durations, observed & usable, usable


def answer_medians(
    cols: OutcomeColumns, answer_s: FloatArray, codes: CodeArray, n_groups: int
) -> list[TimeEstimate]:
    """Per group (``codes``; -1 leaves a row out): the Kaplan–Meier median time to a first real answer."""
    durations, observed, usable = answer_timing(cols, answer_s)
    keep = usable & (codes >= 0)
    km = GroupedKM(codes[keep], durations[keep], observed[keep], n_groups)
    return median_estimates(km)


def _group_medians(values: FloatArray, codes: CodeArray, n_groups: int) -> tuple[FloatArray, IntArray]:
    """Per group: the median of the non-NaN ``values`` (NaN for none) and how many there were."""
    keep = ~np.isnan(values) & (codes >= 0)
    c, v = codes[keep].astype(np.int64), values[keep]
    order = np.lexsort((v, c))
    c, v = c[order], v[order]
    counts = np.bincount(c, minlength=n_groups).astype(np.int64)
    starts = np.cumsum(counts) - counts
    lo = starts + np.maximum(counts - 1, 0) // 2
    hi = starts + counts // 2
    if not v.size:
        return np.full(n_groups, np.nan), counts
    lo, hi = np.minimum(lo, v.size - 1), np.minimum(hi, v.size - 1)
    return np.where(counts > 0, (v[lo] + v[hi]) / 2.0, np.nan), counts


def answer_stats(
    table: OutcomeTable, order: Sequence[GroupSummary], answers: AnswerColumns | None = None
) -> tuple[list[AnswerStats], AnswerStats]:
    """Answers and promises per target (in ``order``) and over every probe, each statistic in one pass.

    ``answers`` are the table's answer fields when the caller has read them (:meth:`AnswerColumns.of`).
    """
    a = answers or AnswerColumns.of(table.rows)
    cols = table.cols
    keys, _, target_codes = table.group("target")
    position = {key: i for i, key in enumerate(keys)}
    slot = np.full(len(keys), -1, dtype=np.int64)  # target code -> row of ``order`` (-1: not shown)
    for j, s in enumerate(order):
        if s.key in position:
            slot[position[s.key]] = j
    n_shown = len(order)
    sent = cols.sent
    shown = slot[target_codes]
    overall = np.zeros(table.n, dtype=np.int64)

    def stats(codes: IntArray, n_groups: int) -> list[AnswerStats]:
        def count(mask: BoolArray) -> list[int]:
            m = mask & sent & (codes >= 0)
            return [int(v) for v in np.bincount(codes[m], minlength=n_groups)[:n_groups].tolist()]

        answered = ~np.isnan(a.answer_s)
        n_sent = count(np.ones(table.n, dtype=bool))
        human = count(~np.isnan(cols.human_s))
        n_answered = count(answered)
        medians = answer_medians(cols, a.answer_s, np.where(sent, codes, -1), n_groups)
        quality, scored = _group_medians(np.where(sent, cols.quality, np.nan), codes, n_groups)
        columns: dict[str, list[int]] = {
            "deflected": count(a.deflected),
            "holding_only": count(a.holding & ~answered),
            "promises": count(a.promise),
            "kept": count(a.promise & (a.promise_kept == 1)),
            "broken": count(a.promise & (a.promise_kept == 0)),
            "undetermined": count(a.promise & (a.promise_kept < 0)),
            "answered_all": count(a.answered_all == 1),
            "all_known": count(a.answered_all >= 0),
            "personalised": count(a.personalised == 1),
            "personal_known": count(a.personalised >= 0),
        }
        out = []
        for g in range(n_groups):
            q = float(quality[g])
            values: dict[str, Any] = {name: column[g] for name, column in columns.items()}
            out.append(
                AnswerStats(
                    key="",
                    label="",
                    sent=n_sent[g],
                    human=human[g],
                    answers=wilson(n_answered[g], n_sent[g]),
                    answer_time=medians[g],
                    quality=None if math.isnan(q) else q,
                    scored=int(scored[g]),
                    **values,
                )
            )
        return out

    per_target = [
        replace(st, key=s.key, label=s.label) for st, s in zip(stats(shown, n_shown), order, strict=True)
    ]
    (everything,) = stats(overall, 1)
    return per_target, replace(everything, key="overall", label="All targets")


def has_answer_data(stats: AnswerStats) -> bool:
    """True when there is anything to show in the answers section: a person's reply, a promise or a score."""
    return bool(stats.human or stats.promises or stats.scored or stats.all_known or stats.personal_known)


def promise_views(
    table: OutcomeTable,
    order: Sequence[GroupSummary],
    answers: AnswerColumns,
    limit: int,
    linked: frozenset[str] | set[str] = frozenset(),
) -> tuple[list[PromiseView], int]:
    """The stated promises in league order (``order``: every target), by due time within a target.

    Returns at most ``limit`` of them and how many there are in all. ``linked`` are the probe ids whose
    evidence rows the report shows (their promise links there).
    """
    rows = np.flatnonzero(answers.promise & table.cols.sent)
    total = int(rows.size)
    if not total:
        return [], 0
    keys, _, codes = table.group("target")
    rank = {s.key: j for j, s in enumerate(order)}
    place = np.array([rank.get(k, len(rank)) for k in keys], dtype=np.int64)
    due = np.fromiter(
        (
            math.inf if o.promise_due_at is None else _epoch(o.promise_due_at)
            for o in (table.rows[i] for i in rows.tolist())
        ),
        dtype=np.float64,
        count=total,
    )
    chosen = rows[np.lexsort((rows, due, place[codes[rows]]))][:limit]
    out = []
    for i in chosen.tolist():
        o = table.rows[i]
        status = "undetermined" if o.promise_kept is None else ("kept" if o.promise_kept else "broken")
        answer_s = o.answer_response_s
        out.append(
            PromiseView(
                probe_id=o.probe_id,
                anchor=anchor(o.probe_id),
                linked=o.probe_id in linked,
                target=o.target_name,
                phrase=o.promise or "",
                due=fmt_time(o.promise_due_at) if o.promise_due_at is not None else "—",
                due_sort="" if o.promise_due_at is None else sort_value(_epoch(o.promise_due_at)),
                answer="none by the limit" if answer_s is None else f"after {_dur(answer_s)}",
                answer_sort=sort_value(math.inf if answer_s is None else answer_s),
                status=status,
            )
        )
    return out, total


def _epoch(value: datetime) -> float:
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).timestamp()


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
    return bounce_rows_of(OutcomeTable(outcomes), order, evidence)


def bounced_targets(table: OutcomeTable, order: Sequence[GroupSummary]) -> list[GroupSummary]:
    """The targets of ``order`` (in that order) with at least one bounced sent probe."""
    keys, _, codes = table.group("target")
    cols = table.cols
    bounced = np.bincount(codes[cols.sent & cols.bounced], minlength=len(keys))
    has = {keys[i] for i in np.flatnonzero(bounced).tolist()}
    return [s for s in order if s.key in has]


def bounce_rows_of(
    table: OutcomeTable, order: Sequence[GroupSummary], evidence: Sequence[MessageRow]
) -> list[BounceRow]:
    """:func:`bounce_rows` of an outcomes table read once; only the targets in ``order`` are read row by row."""
    keys, _, codes = table.group("target")
    cols = table.cols
    wanted = {s.key for s in order}
    sent_n = np.bincount(codes[cols.sent], minlength=len(keys)).tolist()
    bounced_rows: dict[str, list[Outcome]] = {}
    for i in np.flatnonzero(cols.sent & cols.bounced).tolist():
        key = keys[int(codes[i])]
        if key in wanted:
            bounced_rows.setdefault(key, []).append(table.rows[i])
    position = {key: i for i, key in enumerate(keys)}
    first_bounce: dict[str, MessageRow] = {}
    for m in evidence:
        if m.cls == MessageClass.BOUNCE.value:
            first_bounce.setdefault(m.probe_id, m)
    out = []
    for s in order:
        bounced = bounced_rows.get(s.key, [])
        if not bounced:
            continue
        sent = sent_n[position[s.key]]
        rate = s.bounce_rate if s.bounce_rate.n else wilson(len(bounced), sent)
        detail = next((first_bounce[o.probe_id] for o in bounced if o.probe_id in first_bounce), None)
        out.append(
            BounceRow(
                key=s.key,
                label=s.label,
                sent=sent,
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
    answer: bool = False  # the probe's first real answer
    matched: str = ""  # "in-reply-to (0.95)"
    flags: tuple[str, ...] = ()  # "deflection: …", "holding reply", "ticket …"
    machine: str = ""  # what the machine had said, when a person changed it: "auto ack"
    decided: str = ""  # "decided by WHO · 2025-03-04 10:00:00"
    decision_note: str = ""


def message_flags(m: MessageRow) -> tuple[str, ...]:
    """What the classifier flagged in a message, as short plain (untrusted) texts."""
    flags = []
    if m.deflection:
        flags.append(f"deflection: “{m.deflection}”")
    if m.holding:
        flags.append("holding reply")
    if m.ticket_id:
        flags.append(f"ticket {m.ticket_id}")
    return tuple(flags)


def _matched(m: MessageRow) -> str:
    if not m.match_method:
        return ""
    return m.match_method + ("" if m.match_confidence is None else f" ({m.match_confidence:.2f})")


def _machine(m: MessageRow) -> str:
    said = []
    if m.machine_cls is not None:
        said.append(m.machine_cls.replace("_", " "))
    if m.machine_probe_id is not None:
        said.append(f"matched to {m.machine_probe_id}" if m.machine_probe_id else "matched to no probe")
    return ", ".join(said)


_KNOWN = frozenset(c.value for c in MessageClass)


def message_views(evidence: Sequence[MessageRow], outcomes: Sequence[Outcome]) -> list[MessageView]:
    """Display rows of the evidence messages, grouped by probe in the outcomes' order, then by time.

    ``counted`` says how the message entered the statistics: "first human", "first response", "after the
    limit" (not counted), or "" (counted in no headline measure); ``answer`` marks the probe's first real
    answer.
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
        answer = (
            not m.after_horizon
            and o is not None
            and o.first_answer_at is not None
            and m.received_at == o.first_answer_at
        )
        decided = ""
        if m.decided_by is not None:
            decided = f"decided by {m.decided_by}" + (
                f" · {fmt_time(m.decided_at).rsplit('.', 1)[0]}" if m.decided_at is not None else ""
            )
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
                answer=answer,
                matched=_matched(m),
                flags=message_flags(m),
                machine=_machine(m),
                decided=decided,
                decision_note=m.decision_note,
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


# --------------------------------------------------------------------------------------------- web sends


@dataclass(frozen=True)
class SendView:
    """Display values of one web send (untrusted strings stay plain text; ``image`` is a data: URI or "")."""

    probe_id: str
    anchor: str
    target: str
    channel: str
    state: str
    reason: str
    final_url: str
    http_status: str
    page_hash: str
    confirmation: str
    offline: bool
    screenshot_name: str
    image: str


def send_views(rows: Sequence[SendRow], *, max_rows: int, max_images: int) -> tuple[list[SendView], str]:
    """Display rows of the web sends and a note saying what was left out ("" when nothing was).

    At most ``max_rows`` rows; screenshots are embedded for the first ``max_images`` that have one.
    """
    views: list[SendView] = []
    images = 0
    for row in rows[:max_rows]:
        image = ""
        if row.screenshot is not None and images < max_images:
            image = "data:image/png;base64," + base64.b64encode(row.screenshot).decode("ascii")
            images += 1
        views.append(
            SendView(
                probe_id=row.probe_id,
                anchor=anchor(row.probe_id),
                target=row.target_id,
                channel=row.channel,
                state=row.state,
                reason=row.reason,
                final_url=row.final_url,
                http_status="" if row.http_status is None else str(row.http_status),
                page_hash=row.page_sha256[:12],
                confirmation=row.confirmation,
                offline=row.chat_offline,
                screenshot_name=row.screenshot_name or "",
                image=image,
            )
        )
    with_shots = sum(1 for r in rows[:max_rows] if r.screenshot is not None)
    notes = []
    if len(rows) > max_rows:
        notes.append(f"Showing {max_rows:,} of {len(rows):,} web sends.")
    if with_shots > images:
        notes.append(
            f"Screenshots are embedded for the first {images:,}; every screenshot is in the store "
            "(`replybench artifacts PROBE_ID`)."
        )
    return views, " ".join(notes)
