"""Per-group statistics of the outcomes table: response rates with Wilson intervals, Kaplan–Meier medians.

Conventions (they are also stated in every report's Methods section):

* Only probes that were sent (``Outcome.was_sent``) enter rates and timing; probes never sent (failed,
  uncertain, skipped, blocked, still planned) are counted in ``not_sent``.
* A sent probe without a qualifying reply is right-censored at its horizon (``Outcome.observed_for_s()``),
  never dropped. Bounced probes stay in the denominator: the published address did not answer.
* The median is read from the Kaplan–Meier survival function computed by :func:`scipy.stats.ecdf`: the
  smallest time at which the estimated share still waiting is at or below one half; when the curve sits
  exactly at one half there and drops later, the midpoint between that time and the next drop is taken.
  This is the convention of R's ``survival`` package; it makes the median of uncensored data the ordinary
  sample median.
* Its 95 % interval (Brookmeyer–Crowley) runs from the first time the lower confidence band of the survival
  function reaches one half to the first time the upper band does, using scipy's log-log band.
* Business time: a probe answered by a human contributes ``human_response_business_s``; a censored probe
  needs the business time elapsed at its horizon, read from ``horizon_business_s`` when the outcome row has
  one. Rows whose business time is unknown are left out of that estimate and counted in
  :attr:`GroupSummary.business_unknown` (leaving censored rows out biases the business median downwards,
  which the reports say).
* Beyond the median, each group carries the p90 of the time to a first human response (same convention
  and interval at the level 0.10), the shares answered within 1 h, 4 h and 24 h (``1 - S(t)`` with the
  log-log band), the restricted mean time to a first human response up to the common horizon (the shortest
  planned wait among the probes summarised, so that every group is measured over the same window), the
  auto-acknowledgement and bounce rates over the sent probes (Wilson), and the responsiveness index
  (:mod:`replybench.analysis.index`). :mod:`replybench.analysis.survival` states those conventions.
* :func:`km_curve` and :func:`km_median` call :func:`scipy.stats.ecdf` once per sample. :func:`summarize`
  computes the same estimates for all groups at once with :class:`~replybench.analysis.survival.GroupedKM`
  (the same estimator, vectorised; the tests check that both agree), so that a million probes over ten
  thousand targets take a few seconds.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from replybench.analysis.columns import BoolArray, CodeArray, IntArray, OutcomeTable, check_group_by
from replybench.analysis.columns import GroupBy as GroupBy
from replybench.analysis.columns import Measure as Measure
from replybench.analysis.index import EMPTY_INDEX, IndexScore, index_scores, quality_fraction
from replybench.analysis.outcome import Outcome
from replybench.analysis.rates import EMPTY_RATE, wilson_many
from replybench.analysis.rates import Rate as Rate
from replybench.analysis.rates import wilson as wilson
from replybench.analysis.survival import (
    EMPTY_P90,
    EMPTY_RESTRICTED_MEAN,
    GroupedKM,
    QuantileEstimate,
    RestrictedMean,
    ShareWithin,
)

_Z95 = 1.959963984540054
_EPS = 1e-10

ANSWERED_WITHIN_S: tuple[float, ...] = (3600.0, 4 * 3600.0, 24 * 3600.0)
"""The times (1 h, 4 h, 24 h) at which :func:`summarize` reads the share answered by a person."""

P90 = 0.9
"""The share answered whose time :attr:`GroupSummary.first_human_p90` reports (the 90th percentile)."""


@dataclass(frozen=True, slots=True)
class TimeEstimate:
    """A Kaplan–Meier median in seconds with its 95 % interval.

    ``median_s`` is None when the survival curve never reaches one half (median not reached), ``high_s`` when
    the upper confidence band never does. ``n`` counts every probe in the estimate, censored ones included;
    ``events`` counts the observed replies.
    """

    median_s: float | None
    low_s: float | None
    high_s: float | None
    n: int
    events: int

    @property
    def censored(self) -> int:
        """Probes in the estimate without an observed reply."""
        return self.n - self.events


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """Counts, rates and medians of one group (a target, channel, industry, suite, or everything).

    ``response_rate`` counts any reply (auto-acknowledgements included), ``human_rate`` only human replies;
    both are over the sent probes. ``censored`` counts sent probes without a first human response by their
    horizon. ``business_unknown`` counts sent probes left out of ``first_human_business`` because their
    business time was not known.

    Added later (defaults keep older constructors working): ``first_human_p90``, the time by which 90 % had a
    human reply; ``answered_within``, the share answered by a person within each of
    :data:`ANSWERED_WITHIN_S`; ``restricted_mean``, the restricted mean time to a first human response up to
    the common horizon (stated in it); ``auto_ack_rate`` and ``bounce_rate`` over the sent probes; ``index``,
    the responsiveness index (:data:`replybench.analysis.index.INDEX_FORMULA`).
    """

    key: str
    label: str
    planned: int
    sent: int
    not_sent: int
    bounced: int
    auto_acked: int
    response_rate: Rate
    human_rate: Rate
    first_response: TimeEstimate
    first_human: TimeEstimate
    first_human_business: TimeEstimate
    censored: int
    business_unknown: int = 0
    first_human_p90: QuantileEstimate = EMPTY_P90
    answered_within: tuple[ShareWithin, ...] = ()
    restricted_mean: RestrictedMean = EMPTY_RESTRICTED_MEAN
    auto_ack_rate: Rate = EMPTY_RATE
    bounce_rate: Rate = EMPTY_RATE
    index: IndexScore = EMPTY_INDEX

    def within(self, seconds: float) -> ShareWithin | None:
        """The entry of :attr:`answered_within` for ``seconds`` (e.g. 3600.0), None if not computed."""
        return next((s for s in self.answered_within if s.within_s == seconds), None)


def _first_at_or_below_half(probs: np.ndarray) -> int | None:
    hits = np.flatnonzero(probs <= 0.5 + _EPS)
    return int(hits[0]) if hits.size else None


@dataclass(frozen=True, slots=True)
class SurvivalCurve:
    """The Kaplan–Meier estimate of the share of probes still waiting for a reply, as a step function.

    ``times`` are the distinct observation times (replies and censorings) in ascending order; ``survival[i]``
    is the estimate from ``times[i]`` until the next time. ``low``/``high`` are the pointwise 95 % log-log
    band, NaN where it is undefined (an estimate of exactly 0 or 1). ``censored_times`` lists the times at
    which probes were censored.
    """

    times: tuple[float, ...]
    survival: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    censored_times: tuple[float, ...]
    n: int
    events: int


def km_curve(durations: Sequence[float], observed: Sequence[bool]) -> SurvivalCurve:
    """Return the Kaplan–Meier survival curve (:func:`scipy.stats.ecdf`) of right-censored durations.

    With no observed reply the curve is flat at 1 and its band is NaN. Raises ValueError on mismatched
    lengths or non-finite durations.
    """
    if len(durations) != len(observed):
        raise ValueError("durations and observed must have the same length")
    values = np.asarray(durations, dtype=float)
    flags = np.asarray(observed, dtype=bool)
    if values.size and not np.all(np.isfinite(values)):
        raise ValueError("durations must be finite numbers of seconds")
    censored_times = tuple(float(v) for v in np.unique(values[~flags]))
    n, events = int(values.size), int(flags.sum())
    if events == 0:
        nan = tuple(math.nan for _ in censored_times)
        flat = tuple(1.0 for _ in censored_times)
        return SurvivalCurve(censored_times, flat, nan, nan, censored_times, n, 0)
    sf = stats.ecdf(stats.CensoredData(uncensored=values[flags], right=values[~flags])).sf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        band = sf.confidence_interval(confidence_level=0.95, method="log-log")
    return SurvivalCurve(
        times=tuple(float(t) for t in sf.quantiles),
        survival=tuple(float(p) for p in sf.probabilities),
        low=tuple(float(p) for p in band.low.probabilities),
        high=tuple(float(p) for p in band.high.probabilities),
        censored_times=censored_times,
        n=n,
        events=events,
    )


def km_median(durations: Sequence[float], observed: Sequence[bool]) -> TimeEstimate:
    """Return the Kaplan–Meier median of right-censored durations with its 95 % confidence interval.

    ``observed[i]`` is True when ``durations[i]`` is the time of a reply, False when the probe was
    right-censored then (no reply by its horizon). See the module docstring for the median convention.
    Raises ValueError on mismatched lengths or non-finite durations.
    """
    curve = km_curve(durations, observed)
    if curve.events == 0:
        return TimeEstimate(median_s=None, low_s=None, high_s=None, n=curve.n, events=0)
    times = np.asarray(curve.times)
    probs = np.asarray(curve.survival)

    median: float | None = None
    i = _first_at_or_below_half(probs)
    if i is not None:
        median = float(times[i])
        if probs[i] >= 0.5 - _EPS:  # the curve sits exactly at one half from times[i] on
            later = np.flatnonzero(probs[i + 1 :] < 0.5 - _EPS)
            if later.size:
                median = (float(times[i]) + float(times[i + 1 + later[0]])) / 2.0

    # The log-log band is undefined where the estimate is 0 or 1: the lower band then follows the estimate,
    # the upper band is treated as never reaching one half (conservative: an open upper limit).
    low_probs = np.asarray(curve.low)
    high_probs = np.asarray(curve.high)
    low_probs = np.where(np.isnan(low_probs), probs, low_probs)
    high_probs = np.where(np.isnan(high_probs), 1.0, high_probs)
    j = _first_at_or_below_half(low_probs)
    k = _first_at_or_below_half(high_probs)
    low = float(times[j]) if j is not None else None
    high = float(times[k]) if k is not None else None
    if median is not None:
        low = median if low is None else min(low, median)
        if high is not None:
            high = max(high, median)
    return TimeEstimate(median_s=median, low_s=low, high_s=high, n=curve.n, events=curve.events)


def _horizon_business_s(outcome: Outcome) -> float | None:
    return outcome.horizon_business_s


def timing_data(outcomes: Sequence[Outcome], measure: Measure) -> tuple[list[float], list[bool], int]:
    """Return the Kaplan–Meier input of one measure over the sent probes: durations, observed flags, skipped.

    A probe with a qualifying reply contributes ``(seconds to it, True)``; one without is censored at its
    horizon, ``(observed_for_s(), False)``. Rows whose time is unknown (no horizon; for business time, no
    business time of the reply or of the horizon) are skipped and counted in the third item. Probes never
    sent are ignored.
    """
    durations: list[float] = []
    observed: list[bool] = []
    skipped = 0
    for o in outcomes:
        if not o.was_sent:
            continue
        value: float | None
        at: float | None
        if measure == "first_response":
            value, at = o.response_s, o.observed_for_s()
        elif measure == "first_human":
            value, at = o.human_response_s, o.observed_for_s()
        elif measure == "first_human_business":
            value = o.human_response_business_s
            # A human reply whose business time is unknown must not become a censored row: skip it.
            at = None if o.human_response_s is not None else _horizon_business_s(o)
        else:
            raise ValueError(f"unknown measure {measure!r}")
        if value is not None:
            durations.append(value)
            observed.append(True)
        elif at is not None:
            durations.append(at)
            observed.append(False)
        else:
            skipped += 1
    return durations, observed, skipped


def median_estimates(km: GroupedKM) -> list[TimeEstimate]:
    """Per group of a :class:`GroupedKM`: the Kaplan–Meier median and its 95 % interval (as :func:`km_median`)."""
    return _time_estimates(km)


def _time_estimates(km: GroupedKM) -> list[TimeEstimate]:
    value, low, high = km.quantile_arrays(0.5)
    return [
        TimeEstimate(
            median_s=None if math.isnan(v) else v,
            low_s=None if math.isnan(lo) else lo,
            high_s=None if math.isnan(hi) else hi,
            n=n,
            events=ev,
        )
        for v, lo, hi, n, ev in zip(
            value.tolist(), low.tolist(), high.tolist(), km.n.tolist(), km.n_events.tolist(), strict=True
        )
    ]


KmHook = Callable[[Measure, GroupedKM], None]
"""Called by :func:`summarize_table` with each grouped Kaplan–Meier estimate it builds (to read curves off it)."""

GroupingKmHook = Callable[[GroupBy, Measure, GroupedKM], None]
"""Called by :func:`summarize_groupings` with each grouping's Kaplan–Meier estimates as they are built."""


@dataclass(frozen=True)
class _Grouping:
    keys: list[str]
    labels: list[str]
    codes: CodeArray

    @property
    def size(self) -> int:
        return len(self.keys)


def _assemble(
    table: OutcomeTable,
    grp: _Grouping,
    horizon_s: float | None,
    within_s: Sequence[float],
    first_response: list[TimeEstimate],
    business: list[TimeEstimate],
    human_km: GroupedKM,
    business_usable: BoolArray,
) -> list[GroupSummary]:
    """The summaries of one grouping from its estimates, ordered by label then key.

    ``business_usable`` marks the rows whose business time is known (:meth:`OutcomeColumns.timing`).
    """
    cols = table.cols
    codes, g = grp.codes, grp.size
    keys, labels = grp.keys, grp.labels

    def count(mask: BoolArray) -> IntArray:
        return np.bincount(codes[mask], minlength=g).astype(np.int64)

    planned = np.bincount(codes, minlength=g).astype(np.int64)
    sent = count(cols.sent)
    human = count(cols.sent & ~np.isnan(cols.human_s))
    bounced = count(cols.sent & cols.bounced)
    acked = count(cols.sent & cols.auto_acked)
    scored = cols.sent & ~np.isnan(cols.quality)
    q_sum = np.bincount(codes[scored], weights=quality_fraction(cols.quality[scored]), minlength=g)

    shares = [human_km.shares_within(float(t)) for t in within_s]
    planned_l, sent_l, human_l = planned.tolist(), sent.tolist(), human.tolist()
    bounced_l, acked_l = bounced.tolist(), acked.tolist()
    unknown = count(cols.sent & ~business_usable).tolist()
    response_rate = wilson_many(count(cols.sent & ~np.isnan(cols.response_s)), sent)
    human_rate = wilson_many(human, sent)
    ack_rate = wilson_many(acked, sent)
    bounce_rate = wilson_many(bounced, sent)
    first_human = _time_estimates(human_km)
    p90 = human_km.quantiles(P90)
    rmst = human_km.restricted_means(horizon_s)
    index = index_scores(human_km, q_sum, count(scored), horizon_s)
    out = [
        GroupSummary(
            key=keys[i],
            label=labels[i],
            planned=planned_l[i],
            sent=sent_l[i],
            not_sent=planned_l[i] - sent_l[i],
            bounced=bounced_l[i],
            auto_acked=acked_l[i],
            response_rate=response_rate[i],
            human_rate=human_rate[i],
            first_response=first_response[i],
            first_human=first_human[i],
            first_human_business=business[i],
            censored=sent_l[i] - human_l[i],
            business_unknown=unknown[i],
            first_human_p90=p90[i],
            answered_within=tuple(share[i] for share in shares),
            restricted_mean=rmst[i],
            auto_ack_rate=ack_rate[i],
            bounce_rate=bounce_rate[i],
            index=index[i],
        )
        for i in range(g)
    ]
    order = sorted(range(g), key=lambda i: (labels[i].casefold(), keys[i]))
    return [out[i] for i in order]


def summarize_groupings(
    table: OutcomeTable,
    bys: Sequence[GroupBy],
    *,
    horizon_s: float | None = None,
    within_s: Sequence[float] = ANSWERED_WITHIN_S,
    on_km: GroupingKmHook | None = None,
) -> dict[GroupBy, list[GroupSummary]]:
    """:func:`summarize` of one table by several groupings at once: ``{by: summaries}``.

    The work runs measure by measure (first response, business time, first human response): each measure's
    durations are sorted once for all groupings, and each grouped Kaplan–Meier estimate is read and dropped
    before the next is built, so that at most one is held at a time (each holds several arrays as long as
    the table). ``on_km(by, measure, km)`` sees every estimate while it exists. The table's cache of sorted
    durations is left as it was found.
    """
    for by in bys:
        check_group_by(by)
    groupings: dict[GroupBy, _Grouping] = {}
    for by in bys:
        keys, labels, codes = table.group(by)
        if by == "overall" and not keys:
            keys, labels = ["overall"], ["All targets"]
        groupings[by] = _Grouping(keys, labels, codes)
    h = table.cols.common_horizon_s() if horizon_s is None else horizon_s
    cached = table.cached_timings()

    def km(by: GroupBy, measure: Measure) -> GroupedKM:
        grp = groupings[by]
        estimate = table.km(measure, grp.codes, grp.size)
        if on_km is not None:
            on_km(by, measure, estimate)
        return estimate

    business_usable = table.cols.timing("first_human_business")[2]
    medians: dict[tuple[GroupBy, Measure], list[TimeEstimate]] = {}
    for measure in ("first_response", "first_human_business"):
        for by in groupings:
            medians[(by, measure)] = _time_estimates(km(by, measure))
        if measure not in cached:
            table.forget_timing(measure)
    out: dict[GroupBy, list[GroupSummary]] = {}
    for by, grp in groupings.items():
        human_km = km(by, "first_human")
        out[by] = _assemble(
            table,
            grp,
            h,
            within_s,
            medians[(by, "first_response")],
            medians[(by, "first_human_business")],
            human_km,
            business_usable,
        )
        del human_km
    if "first_human" not in cached:
        table.forget_timing("first_human")
    return out


def summarize_group(
    key: str,
    label: str,
    outcomes: Sequence[Outcome],
    *,
    horizon_s: float | None = None,
    within_s: Sequence[float] = ANSWERED_WITHIN_S,
) -> GroupSummary:
    """Summarise one group of outcomes (all rows given belong to it).

    ``horizon_s`` (restricted mean and index) defaults to the shortest planned follow-up of the sent probes;
    ``within_s`` lists the times at which the share answered is read.
    """
    table = OutcomeTable(outcomes)
    h = table.cols.common_horizon_s() if horizon_s is None else horizon_s
    grp = _Grouping([key], [label], np.zeros(table.n, dtype=np.int32))
    medians = {
        measure: _time_estimates(table.km(measure, grp.codes, 1))
        for measure in ("first_response", "first_human_business")
    }
    human_km = table.km("first_human", grp.codes, 1)
    business_usable = table.cols.timing("first_human_business")[2]
    return _assemble(
        table,
        grp,
        h,
        within_s,
        medians["first_response"],
        medians["first_human_business"],
        human_km,
        business_usable,
    )[0]


def summarize(
    outcomes: Sequence[Outcome],
    by: GroupBy = "target",
    *,
    horizon_s: float | None = None,
    within_s: Sequence[float] = ANSWERED_WITHIN_S,
) -> list[GroupSummary]:
    """Summarise outcomes per group, ordered by label then key; ``by="overall"`` gives one group of all rows.

    ``by`` is one of "target", "channel", "industry", "suite", "run" or "overall". ``by="overall"`` on an
    empty table still returns its single (empty) group. ``horizon_s``, the horizon of the restricted mean
    and the index, defaults to the shortest planned follow-up (``horizon_at - sent_at``) among all sent
    probes of ``outcomes``, the same for every group. ``within_s`` lists the times (seconds) at which the
    share answered by a person is read (default 1 h, 4 h, 24 h). Raises ValueError for an unknown ``by``.
    """
    check_group_by(by)
    return summarize_table(OutcomeTable(outcomes), by, horizon_s=horizon_s, within_s=within_s)


def summarize_table(
    table: OutcomeTable,
    by: GroupBy = "target",
    *,
    horizon_s: float | None = None,
    within_s: Sequence[float] = ANSWERED_WITHIN_S,
    on_km: KmHook | None = None,
) -> list[GroupSummary]:
    """:func:`summarize` of an :class:`~replybench.analysis.columns.OutcomeTable` read once for several calls.

    Same arguments and result as :func:`summarize`; ``on_km`` is called with each grouped Kaplan–Meier
    estimate built on the way ("first_response", "first_human_business", then "first_human"), so that a caller
    can read survival curves off it without estimating again.
    """
    hook: GroupingKmHook | None = None
    if on_km is not None:
        callback = on_km

        def hook(_by: GroupBy, measure: Measure, km: GroupedKM) -> None:
            callback(measure, km)

    return summarize_groupings(table, [by], horizon_s=horizon_s, within_s=within_s, on_km=hook)[by]
