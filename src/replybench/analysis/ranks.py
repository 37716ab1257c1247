"""Bootstrap intervals for the ranks of a league table (how sure is "3rd fastest").

Method (the reports state it in their Methods section):

* Each target (or other group) is scored by a ranking metric: the **restricted mean** time to a first
  human response up to the common horizon h (lower is better; a probe not answered counts as h) or the
  **responsiveness index** (higher is better, :mod:`replybench.analysis.index`). Targets whose metric cannot
  be estimated (nothing sent, or not followed up to h) are listed without a rank.
* The point rank is the target's position by its metric (1 = best; ties share the better rank).
* Each bootstrap resample draws, for every target independently, as many probes as it has, with
  replacement, from its own probes (a stratified bootstrap: the design fixes how many probes each target
  gets), recomputes every target's metric — Kaplan–Meier on the resampled probes, exactly as for the point
  estimate — and ranks the targets again. Default: 1,000 resamples from a seeded
  :class:`numpy.random.Generator`, so the same seed gives the same table.
* A target's 95 % rank interval runs from the 2.5th to the 97.5th percentile of its resampled ranks
  (inverted-CDF percentiles, so both ends are ranks that occurred), widened if needed to include the point
  rank; the metric's interval likewise. In the rare resample whose probes were all censored before h, the
  last value of the curve is carried forward to h.

Everything is vectorised over resamples × targets × probes (in chunks of about a million cells), so 1,000
resamples of 200 targets with 20 probes each take a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

from replybench.analysis.columns import GroupBy, OutcomeTable, check_group_by
from replybench.analysis.index import index_array, index_scores, quality_fraction
from replybench.analysis.outcome import Outcome

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

RankMetric = Literal["restricted_mean", "index"]
HIGHER_IS_BETTER: dict[str, bool] = {"restricted_mean": False, "index": True}
"""Direction of each ranking metric."""

METRIC_LABELS: dict[str, str] = {
    "restricted_mean": "restricted mean time to a first human response",
    "index": "responsiveness index",
}
"""How the reports name each ranking metric (for :data:`RANK_METHOD`)."""

DEFAULT_RESAMPLES = 1000
"""Bootstrap resamples of :func:`bootstrap_ranks` unless told otherwise."""

_CHUNK_CELLS = 1_000_000

RANK_METHOD = (
    "Rank intervals: each target's probes were resampled with replacement (the same number per target, "
    "{resamples} resamples, seed {seed}); every resample recomputes each target's {metric} up to the horizon "
    "h = {horizon} from its Kaplan–Meier curve and ranks the targets again (1 = best, ties share the better "
    "rank). The interval runs from the 2.5th to the 97.5th percentile of a target's resampled ranks, widened "
    "if needed to include its observed rank."
)
"""Methods text for the reports; fill with ``RANK_METHOD.format(resamples=..., seed=..., metric=..., horizon=...)``."""


@dataclass(frozen=True)
class RankInterval:
    """One row of the league table: a target's metric and rank with their bootstrap intervals.

    ``value`` is the metric (seconds for "restricted_mean", 0–100 for "index"); ``rank`` is 1 for the best.
    All of value, rank and the intervals are None when the metric cannot be estimated for this target.
    ``n`` counts the probes in the estimate.
    """

    key: str
    label: str
    n: int
    value: float | None
    value_low: float | None
    value_high: float | None
    rank: int | None
    rank_low: int | None
    rank_high: int | None


@dataclass(frozen=True)
class RankTable:
    """A league table with bootstrap rank intervals: rows best first, then the unranked ones by label.

    ``metric`` names the ranking metric, ``horizon_s`` its horizon h, ``resamples`` and ``confidence`` the
    bootstrap settings, ``seed`` the seed when one was given as an int.
    """

    metric: RankMetric
    horizon_s: float | None
    resamples: int
    confidence: float
    seed: int | None
    rows: tuple[RankInterval, ...]


@dataclass(frozen=True)
class _Padded:
    """Probes of the ranked groups as (group, slot) arrays sorted by time, replies before censorings."""

    times: FloatArray  # clipped to [0, h]; unused slots hold the group's last time
    events: npt.NDArray[np.bool_]  # replies within h
    quality: FloatArray  # NaN when not scored or an unused slot
    sizes: IntArray  # probes per group
    draw_group: IntArray  # for each probe in group order: its group (the layout of one resample's draws)


def _pad(
    codes: IntArray,
    durations: FloatArray,
    observed: npt.NDArray[np.bool_],
    quality: FloatArray,
    groups: IntArray,
    h: float,
) -> _Padded:
    slot_of = np.full(int(codes.max(initial=-1)) + 1, -1, dtype=np.int64)
    slot_of[groups] = np.arange(groups.size)
    g = slot_of[codes]
    keep = g >= 0
    g, t, e, q = g[keep], durations[keep], observed[keep], quality[keep]
    e = e & (t <= h)
    t = np.clip(t, 0.0, h)
    order = np.lexsort((~e, t, g))
    g, t, e, q = g[order], t[order], e[order], q[order]
    sizes = np.bincount(g, minlength=groups.size).astype(np.int64)
    width = int(sizes.max(initial=1))
    start = np.concatenate(([0], np.cumsum(sizes)))[:-1]
    pos = np.arange(g.size) - start[g]
    last_t = np.zeros(groups.size)
    if g.size:
        last_t[sizes > 0] = t[start[sizes > 0] + sizes[sizes > 0] - 1]
    times = np.repeat(last_t[:, None], width, axis=1)
    events = np.zeros((groups.size, width), dtype=bool)
    qual = np.full((groups.size, width), np.nan)
    times[g, pos], events[g, pos], qual[g, pos] = t, e, q
    return _Padded(times, events, qual, sizes, g.astype(np.int64))


def _metric(counts: FloatArray, p: _Padded, h: float, metric: RankMetric) -> FloatArray:
    """The metric of every (resample, group) from probe counts of shape (resamples, groups, slots).

    Kaplan–Meier one probe at a time in time order (replies before censorings at equal times): the
    product of ``1 - d/n`` over a tie telescopes to the usual ``1 - D/N``, so this is the exact estimator.
    """
    at_risk = np.cumsum(counts[..., ::-1], axis=-1)[..., ::-1]
    deaths = counts * p.events
    surv = np.cumprod(1.0 - deaths / np.maximum(at_risk, 1.0), axis=-1)
    prev = np.concatenate((np.ones((*surv.shape[:-1], 1)), surv[..., :-1]), axis=-1)
    dt = np.diff(p.times, axis=-1, prepend=0.0)
    area = (prev * dt).sum(axis=-1) + surv[..., -1] * (h - p.times[:, -1])
    if metric == "restricted_mean":
        out: FloatArray = area
        return out
    scored = ~np.isnan(p.quality)
    q_n = (counts * scored).sum(axis=-1)
    q_sum = (counts * np.where(scored, quality_fraction(p.quality), 0.0)).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(q_n > 0, q_sum / q_n, np.nan)
    rate = np.clip(1.0 - surv[..., -1], 0.0, 1.0)
    speed = np.clip(1.0 - area / h, 0.0, 1.0)
    return index_array(rate, speed, q)


def _ranks(values: FloatArray, higher_is_better: bool) -> IntArray:
    """Competition ranks (1 = best, ties share the better rank) along the last axis."""
    ranked = stats.rankdata(-values if higher_is_better else values, method="min", axis=-1)
    return np.asarray(ranked, dtype=np.int64)


def bootstrap_ranks(
    outcomes: Sequence[Outcome],
    *,
    by: GroupBy = "target",
    metric: RankMetric = "restricted_mean",
    horizon_s: float | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int | np.random.Generator = 0,
    confidence: float = 0.95,
) -> RankTable:
    """Rank the groups of ``outcomes`` by ``metric`` and give each rank a bootstrap interval.

    ``horizon_s`` defaults to the shortest planned follow-up among the sent probes (as in
    :func:`replybench.analysis.summary.summarize`). ``seed`` is an int or a :class:`numpy.random.Generator`
    (which is advanced). See the module docstring for the method. Raises ValueError for bad settings.
    """
    if metric not in HIGHER_IS_BETTER:
        raise ValueError(f"unknown metric {metric!r}; expected restricted_mean or index")
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must lie strictly between 0 and 1")
    check_group_by(by)
    return bootstrap_ranks_table(
        OutcomeTable(outcomes),
        by=by,
        metric=metric,
        horizon_s=horizon_s,
        resamples=resamples,
        seed=seed,
        confidence=confidence,
    )


def bootstrap_ranks_table(
    table: OutcomeTable,
    *,
    by: GroupBy = "target",
    metric: RankMetric = "restricted_mean",
    horizon_s: float | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int | np.random.Generator = 0,
    confidence: float = 0.95,
) -> RankTable:
    """:func:`bootstrap_ranks` of an :class:`~replybench.analysis.columns.OutcomeTable` (columns read once)."""
    if metric not in HIGHER_IS_BETTER:
        raise ValueError(f"unknown metric {metric!r}; expected restricted_mean or index")
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must lie strictly between 0 and 1")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    keys, labels, codes = table.group(by)
    cols = table.cols
    h = cols.common_horizon_s() if horizon_s is None else float(horizon_s)
    timing = table.timing("first_human")
    usable = timing.usable
    g_all = len(keys)
    codes_u, dur_u, obs_u = codes[usable], timing.durations, timing.observed
    km = table.km("first_human", codes, g_all)

    point = np.full(g_all, np.nan)
    if h is not None and h > 0:
        if metric == "restricted_mean":
            point = km.restricted_mean_arrays(h)[0]
        else:
            scored = cols.sent & ~np.isnan(cols.quality)
            q_sum = np.bincount(
                codes[scored], weights=quality_fraction(cols.quality[scored]), minlength=g_all
            )
            q_n = np.bincount(codes[scored], minlength=g_all).astype(np.int64)
            scores = index_scores(km, q_sum, q_n, h)
            point = np.array([np.nan if s.value is None else s.value for s in scores], dtype=np.float64)
    ranked = np.flatnonzero(~np.isnan(point)).astype(np.int64)
    higher = HIGHER_IS_BETTER[metric]
    alpha = (1.0 - confidence) / 2.0

    result: dict[int, RankInterval] = {}
    if ranked.size and h is not None:
        padded = _pad(codes_u, dur_u, obs_u, cols.quality[usable], ranked, h)
        point_rank = _ranks(point[ranked], higher)
        n_groups, width = padded.times.shape
        per_draw = padded.sizes[padded.draw_group].astype(np.float64)
        base = padded.draw_group * width
        cells = n_groups * width
        chunk = max(1, _CHUNK_CELLS // cells)
        values = np.empty((resamples, n_groups))
        done = 0
        while done < resamples:
            b = min(chunk, resamples - done)
            u = rng.random((b, padded.draw_group.size))
            local = np.minimum((u * per_draw).astype(np.int64), padded.sizes[padded.draw_group] - 1)
            flat = (np.arange(b)[:, None] * cells + base + local).ravel()
            counts = np.bincount(flat, minlength=b * cells).reshape(b, n_groups, width).astype(np.float64)
            values[done : done + b] = _metric(counts, padded, h, metric)
            done += b
        ranks = _ranks(values, higher)
        r_low = np.quantile(ranks, alpha, axis=0, method="inverted_cdf")
        r_high = np.quantile(ranks, 1.0 - alpha, axis=0, method="inverted_cdf")
        v_low = np.quantile(values, alpha, axis=0)
        v_high = np.quantile(values, 1.0 - alpha, axis=0)
        for j, g in enumerate(ranked.tolist()):
            v, r = float(point[g]), int(point_rank[j])
            result[g] = RankInterval(
                key=keys[g],
                label=labels[g],
                n=int(km.n[g]),
                value=v,
                value_low=min(float(v_low[j]), v),
                value_high=max(float(v_high[j]), v),
                rank=r,
                rank_low=min(int(r_low[j]), r),
                rank_high=max(int(r_high[j]), r),
            )
    unranked = [
        RankInterval(keys[g], labels[g], int(km.n[g]), None, None, None, None, None, None)
        for g in range(g_all)
        if g not in result
    ]
    ordered = sorted(result.values(), key=lambda r: (r.rank or 0, r.label.casefold(), r.key))
    unranked.sort(key=lambda r: (r.label.casefold(), r.key))
    return RankTable(
        metric=metric,
        horizon_s=h,
        resamples=resamples,
        confidence=confidence,
        seed=seed if isinstance(seed, int) else None,
        rows=tuple(ordered + unranked),
    )
