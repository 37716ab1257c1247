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
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from replybench.analysis.outcome import Outcome

GroupBy = Literal["target", "channel", "industry", "suite", "overall"]

_Z95 = 1.959963984540054
_EPS = 1e-10


@dataclass(frozen=True)
class Rate:
    """A proportion ``k / n`` with its Wilson score 95 % interval (value, low and high are None if n = 0)."""

    k: int
    n: int
    value: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class GroupSummary:
    """Counts, rates and medians of one group (a target, channel, industry, suite, or everything).

    ``response_rate`` counts any reply (auto-acknowledgements included), ``human_rate`` only human replies;
    both are over the sent probes. ``censored`` counts sent probes without a first human response by their
    horizon. ``business_unknown`` counts sent probes left out of ``first_human_business`` because their
    business time was not known.
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


def wilson(k: int, n: int, z: float = _Z95) -> Rate:
    """Return the Wilson score interval of ``k`` successes in ``n`` trials (95 % by default).

    Raises ValueError unless ``0 <= k <= n``.
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"expected 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return Rate(k=0, n=0, value=None, low=None, high=None)
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4 * n * n)) / denom
    low = 0.0 if k == 0 else max(0.0, min(p, centre - half))
    high = 1.0 if k == n else min(1.0, max(p, centre + half))
    return Rate(k=k, n=n, value=p, low=low, high=high)


def _first_at_or_below_half(probs: np.ndarray) -> int | None:
    hits = np.flatnonzero(probs <= 0.5 + _EPS)
    return int(hits[0]) if hits.size else None


@dataclass(frozen=True)
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


Measure = Literal["first_response", "first_human", "first_human_business"]


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


def _group_key(outcome: Outcome, by: GroupBy) -> tuple[str, str]:
    if by == "target":
        return outcome.target_id, outcome.target_name or outcome.target_id
    if by == "channel":
        return outcome.channel, outcome.channel
    if by == "industry":
        return outcome.industry, outcome.industry
    if by == "suite":
        return outcome.suite, outcome.suite
    if by == "overall":
        return "overall", "All targets"
    raise ValueError(f"cannot group by {by!r}; expected target, channel, industry, suite or overall")


def summarize_group(key: str, label: str, outcomes: Sequence[Outcome]) -> GroupSummary:
    """Summarise one group of outcomes (all rows given belong to it)."""
    sent = [o for o in outcomes if o.was_sent]
    responded = sum(1 for o in sent if o.response_s is not None)
    human = sum(1 for o in sent if o.human_response_s is not None)
    first_response = km_median(*timing_data(sent, "first_response")[:2])
    first_human = km_median(*timing_data(sent, "first_human")[:2])
    business_d, business_o, unknown = timing_data(sent, "first_human_business")
    return GroupSummary(
        key=key,
        label=label,
        planned=len(outcomes),
        sent=len(sent),
        not_sent=len(outcomes) - len(sent),
        bounced=sum(1 for o in sent if o.bounced),
        auto_acked=sum(1 for o in sent if o.auto_acked),
        response_rate=wilson(responded, len(sent)),
        human_rate=wilson(human, len(sent)),
        first_response=first_response,
        first_human=first_human,
        first_human_business=km_median(business_d, business_o),
        censored=len(sent) - human,
        business_unknown=unknown,
    )


def summarize(outcomes: Sequence[Outcome], by: GroupBy = "target") -> list[GroupSummary]:
    """Summarise outcomes per group, ordered by label then key; ``by="overall"`` gives one group of all rows.

    ``by="overall"`` on an empty table still returns its single (empty) group.
    """
    groups: dict[str, list[Outcome]] = {}
    labels: dict[str, str] = {}
    for o in outcomes:
        key, label = _group_key(o, by)
        groups.setdefault(key, []).append(o)
        labels.setdefault(key, label)
    if by == "overall" and not groups:
        groups["overall"] = []
        labels["overall"] = "All targets"
    ordered = sorted(groups, key=lambda k: (labels[k].casefold(), k))
    return [summarize_group(k, labels[k], groups[k]) for k in ordered]
