"""Kaplan–Meier estimates of many groups at once: quantiles, shares answered within a time, restricted means.

:class:`GroupedKM` computes the Kaplan–Meier survival function (the share of probes still waiting) of every
group of an outcomes table in one vectorised pass: the same estimator as :func:`scipy.stats.ecdf` on
``CensoredData`` (survival ``∏ (n - d) / n`` over the distinct observation times, Greenwood variance, the
pointwise 95 % log-log band), but without a Python call per group, so that a million probes over ten thousand
targets take well under a second. The tests check it against :func:`scipy.stats.ecdf` and lifelines.

Conventions (the reports' Methods section states them):

* **Quantiles.** The time by which a share ``p`` of the probes had a reply (p = 0.5: the median; p = 0.9:
  "p90") is the smallest observation time at which the survival estimate is at or below ``1 - p``; when the
  curve sits exactly at ``1 - p`` there and drops later, the midpoint between that time and the next drop
  (R's ``survival`` convention; lifelines takes the first time without the midpoint, the only difference).
  Not reached (None) when the curve never gets down to ``1 - p``. The 95 % interval (Brookmeyer–Crowley)
  runs from the first time the lower band reaches ``1 - p`` to the first time the upper band does.
* **Share answered within t** is ``1 - S(t)``, counting replies at exactly ``t``; its interval is the
  log-log band at ``t``. Where that band is undefined (no reply by ``t`` yet, or every probe answered) the
  Wilson interval of the probes whose status at ``t`` is known is given instead. None when the probes were
  not followed up to ``t`` (the curve ends before ``t`` above zero).
* **Restricted mean** up to a horizon ``h``: the area under the survival curve from 0 to ``h``, the mean of
  ``min(time to reply, h)``, in which a probe never answered counts as ``h``. Its standard error is the
  Greenwood-type estimate ``Σ A_i² d_i / (n_i (n_i − d_i))`` over reply times ``t_i ≤ h`` with ``A_i`` the
  area from ``t_i`` to ``h`` (Klein & Moeschberger, §4.5); the interval is ±1.96 standard errors, clipped to
  ``[0, h]``. None when the curve ends before ``h`` above zero (follow-up shorter than the horizon).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from replybench.analysis.rates import Z95, wilson_bounds

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

EPS = 1e-10
"""Tolerance when comparing survival estimates with a level (``S(t) <= 1 - p``)."""


@dataclass(frozen=True, slots=True)
class QuantileEstimate:
    """The Kaplan–Meier time (seconds) by which a share ``p`` of probes had a reply, with its 95 % interval.

    ``p`` = 0.5 is the median, 0.9 the 90th percentile ("p90"). ``value_s`` is None when the curve never
    reaches ``1 - p`` (not reached), ``high_s`` when the upper band never does. ``n`` counts every probe in
    the estimate, censored ones included; ``events`` the observed replies.
    """

    p: float
    value_s: float | None
    low_s: float | None
    high_s: float | None
    n: int
    events: int


@dataclass(frozen=True, slots=True)
class ShareWithin:
    """The Kaplan–Meier share of probes answered within ``within_s`` seconds (``1 - S(t)``), 95 % interval.

    ``value`` (and the interval) is None when the probes were not followed for ``within_s`` seconds, or the
    group is empty. ``events`` counts the replies observed within ``within_s``.
    """

    within_s: float
    value: float | None
    low: float | None
    high: float | None
    n: int
    events: int


@dataclass(frozen=True, slots=True)
class RestrictedMean:
    """Restricted mean time to a reply up to ``horizon_s`` (area under the survival curve), 95 % interval.

    A probe never answered within the horizon counts as ``horizon_s``, so the value lies in
    ``[0, horizon_s]``. ``value_s`` is None when the group's follow-up ends before the horizon with probes
    still waiting, or when there is no horizon. ``events`` counts replies within the horizon.
    """

    horizon_s: float | None
    value_s: float | None
    low_s: float | None
    high_s: float | None
    n: int
    events: int


EMPTY_P90 = QuantileEstimate(p=0.9, value_s=None, low_s=None, high_s=None, n=0, events=0)
"""The p90 of an empty group."""

EMPTY_RESTRICTED_MEAN = RestrictedMean(horizon_s=None, value_s=None, low_s=None, high_s=None, n=0, events=0)
"""The restricted mean of an empty group (or without a horizon)."""


def _shift(values: FloatArray, first: BoolArray, fill: float) -> FloatArray:
    """The previous row's value within the group; ``fill`` on each group's first row."""
    out = np.empty_like(values)
    if values.size:
        out[1:] = values[:-1]
        out[first] = fill
    return out


_BLOCK_CELLS = 1 << 20
"""Cells of one 2-D block in :func:`_segment_accumulate` (bounds its scratch memory to a few MB)."""


def _segment_accumulate(
    values: FloatArray, seg_start: IntArray, seg_len: IntArray, op: np.ufunc
) -> FloatArray:
    """Running ``op`` (``np.add`` or ``np.multiply``) of ``values`` restarting at every segment.

    Segments of similar length are stacked into 2-D blocks (widths rounded up to a power of two, so at
    most twice the cells; at most about :data:`_BLOCK_CELLS` cells at a time) and accumulated along the rows;
    a segment alone in its width class, or too long for a block, is accumulated on its own. Either way each
    segment's result is bit for bit what a separate 1-D accumulation of it would give, whatever the other
    segments hold.
    """
    out = np.empty(values.shape, dtype=np.float64)
    if not values.size:
        return out
    neutral = 1.0 if op is np.multiply else 0.0
    width_class = np.ceil(np.log2(seg_len)).astype(np.int64)
    for k in np.unique(width_class).tolist():
        members = np.flatnonzero(width_class == k)
        width = 1 << k
        if members.size == 1 or width >= _BLOCK_CELLS:
            for m in members.tolist():
                a = int(seg_start[m])
                b = a + int(seg_len[m])
                out[a:b] = op.accumulate(values[a:b])
            continue
        cols = np.arange(width)
        step = max(1, _BLOCK_CELLS // width)
        for lo in range(0, members.size, step):
            sel = members[lo : lo + step]
            mask = cols[None, :] < seg_len[sel][:, None]
            idx = np.where(mask, seg_start[sel][:, None] + cols[None, :], 0)
            block = np.where(mask, values[idx], neutral)
            acc = op.accumulate(block, axis=1)
            out[idx[mask]] = acc[mask]
    return out


def _segment_cumsum_int(values: IntArray, starts: IntArray, row_segment: IntArray) -> IntArray:
    """Exact integer cumulative sums restarting at each index in ``starts``."""
    cs: IntArray = np.cumsum(values)
    before = np.concatenate(([0], cs))[starts]
    out: IntArray = cs - before[row_segment]
    return out


class GroupedKM:
    """Kaplan–Meier estimates of the time to a reply for ``n_groups`` groups at once.

    Rows are the distinct (group, time) pairs sorted by group then time: ``times``, ``at_risk`` (probes
    still waiting just before the time, censored-at-that-time included), ``events`` (replies at the time),
    ``count`` (probes observed at the time), ``survival`` (the estimate from that time on) and the pointwise
    95 % log-log band ``band_low``/``band_high`` (NaN where the estimate is 0 or 1, as in scipy). Group ``g``
    owns rows ``start[g]:stop[g]`` (none when it has no probes). ``n``/``n_events`` count per group.
    """

    def __init__(
        self,
        codes: Sequence[int] | npt.ArrayLike,
        durations: Sequence[float] | npt.ArrayLike,
        observed: Sequence[bool] | npt.ArrayLike,
        n_groups: int,
        *,
        order: npt.ArrayLike | None = None,
    ) -> None:
        """Estimate from per-probe group codes (``0 <= code < n_groups``), durations and reply flags.

        ``order``, when given, is the permutation that sorts the probes by group code, then duration, ties in
        input order: exactly ``np.lexsort((durations, codes))``, which is computed otherwise. Callers that
        estimate several groupings of the same probes sort the durations once and pass each grouping's order
        (:meth:`replybench.analysis.columns.OutcomeTable.km`); it is trusted, not checked.
        Raises ValueError on mismatched lengths, non-finite durations or codes out of range.
        """
        code = np.asarray(codes).ravel()
        if code.dtype.kind not in "iu" or code.dtype.itemsize > 8:
            code = code.astype(np.int64)
        t = np.asarray(durations, dtype=np.float64).ravel()
        e = np.asarray(observed, dtype=bool).ravel()
        if not code.size == t.size == e.size:
            raise ValueError("codes, durations and observed must have the same length")
        if t.size and not np.all(np.isfinite(t)):
            raise ValueError("durations must be finite numbers of seconds")
        if code.size and (code.min() < 0 or code.max() >= n_groups):
            raise ValueError("group codes must lie in [0, n_groups)")
        self.n_groups = n_groups
        self.n: IntArray = np.bincount(code, minlength=n_groups).astype(np.int64)
        self.n_events: IntArray = np.bincount(code[e], minlength=n_groups).astype(np.int64)

        # Sorted by group, then time; the big per-probe temporaries are dropped as soon as they are read.
        perm = np.lexsort((t, code)) if order is None else np.asarray(order)
        if perm.dtype.kind not in "iu":
            perm = perm.astype(np.int64)
        code, t, e = code[perm], t[perm], e[perm]
        del perm
        m = t.size
        new = np.ones(m, dtype=bool)
        if m > 1:
            new[1:] = (code[1:] != code[:-1]) | (t[1:] != t[:-1])
        first_obs = np.flatnonzero(new).astype(np.int64)
        del new
        self.group: IntArray = code[first_obs].astype(np.int64)
        del code
        self.times: FloatArray = t[first_obs]
        del t
        self.events: IntArray = (
            np.add.reduceat(e, first_obs, dtype=np.int64) if m else np.zeros(0, dtype=np.int64)
        )
        del e
        self.count: IntArray = np.diff(np.append(first_obs, m)).astype(np.int64)
        obs_start = np.concatenate(([0], np.cumsum(self.n)))[:-1]
        self.at_risk: IntArray = self.n[self.group] - (first_obs - obs_start[self.group])
        del first_obs

        groups = np.arange(n_groups)
        self.start: IntArray = np.searchsorted(self.group, groups, side="left").astype(np.int64)
        self.stop: IntArray = np.searchsorted(self.group, groups, side="right").astype(np.int64)
        rows = self.times.size
        self.first_row: BoolArray = np.ones(rows, dtype=bool)
        if rows > 1:
            self.first_row[1:] = self.group[1:] != self.group[:-1]
        seg_starts = np.flatnonzero(self.first_row).astype(np.int64)
        seg_len = np.diff(np.append(seg_starts, rows)).astype(np.int64)
        segment = np.cumsum(self.first_row) - 1

        # As scipy.stats.ecdf: S = cumprod((n - d) / n); Greenwood sum of d / (n (n - d)); log-log band.
        n_at, d = self.at_risk.astype(np.float64), self.events.astype(np.float64)
        all_gone = self.at_risk == self.events  # every probe still waiting answered: S drops to 0
        self.survival: FloatArray = _segment_accumulate((n_at - d) / n_at, seg_starts, seg_len, np.multiply)
        self.events_so_far: IntArray = _segment_cumsum_int(self.events, seg_starts, segment)
        del segment
        greenwood = np.where(all_gone, 0.0, d / (n_at * np.where(all_gone, 1.0, n_at - d)))
        del n_at, d, all_gone
        cum_gw = _segment_accumulate(greenwood, seg_starts, seg_len, np.add)
        del greenwood
        defined = (self.survival > 0.0) & (self.survival < 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_s = np.log(np.where(defined, self.survival, 0.5))
            se = np.sqrt(1 / log_s**2 * cum_gw)
            del cum_gw
            lnl = np.log(-log_s)
            del log_s
        self.band_low: FloatArray = np.where(defined, np.exp(-np.exp(lnl + Z95 * se)), np.nan)
        self.band_high: FloatArray = np.where(defined, np.exp(-np.exp(lnl - Z95 * se)), np.nan)
        self._seg_starts = seg_starts
        self._seg_len = seg_len

    # ----------------------------------------------------------------------------------------- helpers

    def _first_row_where(self, mask: BoolArray) -> IntArray:
        """Per group, the first of its rows where ``mask`` holds; -1 when none does."""
        hits = np.flatnonzero(mask)
        if not hits.size:
            return np.full(self.n_groups, -1, dtype=np.int64)
        pos = np.searchsorted(hits, self.start)
        cand = hits[np.minimum(pos, hits.size - 1)]
        ok = (pos < hits.size) & (cand < self.stop)
        return np.where(ok, cand, -1).astype(np.int64)

    def _last_row_at_or_before(self, t: float) -> IntArray:
        """Per group, the index of its last row with ``times <= t``; -1 when there is none."""
        k = np.bincount(self.group[self.times <= t], minlength=self.n_groups)
        return np.where(k > 0, self.start + k - 1, -1).astype(np.int64)

    def _followed_to(self, t: float) -> BoolArray:
        """Per group: True when the curve is known up to ``t`` (observed that long, or down to 0 before)."""
        has = self.stop > self.start
        last = np.maximum(self.stop - 1, 0)
        if not self.times.size:
            return has
        known: BoolArray = has & ((self.times[last] >= t) | (self.survival[last] == 0.0))
        return known

    # -------------------------------------------------------------------------------------- estimates

    def quantile_arrays(self, p: float) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Per group: the time by which a share ``p`` had a reply and its 95 % interval (NaN for None)."""
        if not 0.0 < p < 1.0:
            raise ValueError("p must lie strictly between 0 and 1")
        level = round(1.0 - p, 12)
        times, surv = self.times, self.survival
        i = self._first_row_where(surv <= level + EPS)
        value = np.where(i >= 0, times[np.maximum(i, 0)] if times.size else np.nan, np.nan)
        below = self._first_row_where(surv < level - EPS)
        sits = (i >= 0) & (below >= 0)
        if times.size:
            sits &= surv[np.maximum(i, 0)] >= level - EPS
            value = np.where(sits, (times[np.maximum(i, 0)] + times[np.maximum(below, 0)]) / 2.0, value)
        low_p = np.where(np.isnan(self.band_low), surv, self.band_low)
        high_p = np.where(np.isnan(self.band_high), 1.0, self.band_high)
        jl = self._first_row_where(low_p <= level + EPS)
        jh = self._first_row_where(high_p <= level + EPS)
        low = np.where(jl >= 0, times[np.maximum(jl, 0)] if times.size else np.nan, np.nan)
        high = np.where(jh >= 0, times[np.maximum(jh, 0)] if times.size else np.nan, np.nan)
        reached = ~np.isnan(value)
        low = np.where(reached & np.isnan(low), value, np.where(reached, np.fmin(low, value), low))
        high = np.where(reached & ~np.isnan(high), np.fmax(high, value), high)
        return value.astype(np.float64), low.astype(np.float64), high.astype(np.float64)

    def survival_at(self, t: float) -> tuple[FloatArray, BoolArray]:
        """Per group: ``S(t)`` (replies at exactly ``t`` counted) and whether it is known (followed to t)."""
        j = self._last_row_at_or_before(t)
        s = np.ones(self.n_groups)
        if self.times.size:
            s = np.where(j >= 0, self.survival[np.maximum(j, 0)], 1.0)
        return s, self._followed_to(t)

    def events_by(self, t: float) -> IntArray:
        """Per group: replies observed at or before ``t``."""
        j = self._last_row_at_or_before(t)
        if not self.times.size:
            return np.zeros(self.n_groups, dtype=np.int64)
        return np.where(j >= 0, self.events_so_far[np.maximum(j, 0)], 0).astype(np.int64)

    def quantiles(self, p: float) -> list[QuantileEstimate]:
        """Per group: :class:`QuantileEstimate` of the time by which a share ``p`` had a reply."""
        value, low, high = (_nan_to_none(a) for a in self.quantile_arrays(p))
        return [
            QuantileEstimate(p, v, lo, hi, n, ev)
            for v, lo, hi, n, ev in zip(
                value, low, high, self.n.tolist(), self.n_events.tolist(), strict=True
            )
        ]

    def share_arrays(self, t: float) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
        """Per group: share answered within ``t`` (1 − S(t)), its 95 % interval (NaN for None), replies by t."""
        t = float(t)
        j = self._last_row_at_or_before(t)
        s, known = self.survival_at(t)
        events = self.events_by(t)
        if self.times.size:
            jj = np.maximum(j, 0)
            band_low = np.where(j >= 0, self.band_low[jj], np.nan)
            band_high = np.where(j >= 0, self.band_high[jj], np.nan)
        else:
            band_low = band_high = np.full(self.n_groups, np.nan)
        banded = ~np.isnan(band_low) & ~np.isnan(band_high)
        # No reply by t: the Wilson interval of 0 among the probes known to be waiting at t (observed >= t).
        early = self.times < t
        waiting = self.n - np.bincount(self.group[early], weights=self.count[early], minlength=self.n_groups)
        _, none_low, none_high = wilson_bounds(
            np.zeros(self.n_groups, dtype=np.int64), waiting.astype(np.int64)
        )
        # Every probe still waiting was answered (S(t) = 0): the Wilson interval of all the replies by t.
        _, all_low, all_high = wilson_bounds(events, events)
        none_yet = s >= 1.0
        low = np.where(banded, 1.0 - band_high, np.where(none_yet, none_low, all_low))
        high = np.where(banded, 1.0 - band_low, np.where(none_yet, none_high, all_high))
        value = np.where(known, 1.0 - s, np.nan)
        low = np.where(known, low, np.nan)
        high = np.where(known, high, np.nan)
        return value.astype(np.float64), low.astype(np.float64), high.astype(np.float64), events

    def shares_within(self, t: float) -> list[ShareWithin]:
        """Per group: :class:`ShareWithin` — the share answered within ``t`` seconds with its interval."""
        t = float(t)
        value, low, high, events = self.share_arrays(t)
        return [
            ShareWithin(t, v, lo, hi, n, ev)
            for v, lo, hi, n, ev in zip(
                _nan_to_none(value),
                _nan_to_none(low),
                _nan_to_none(high),
                self.n.tolist(),
                events.tolist(),
                strict=True,
            )
        ]

    def restricted_mean_arrays(self, horizon_s: float) -> tuple[FloatArray, FloatArray]:
        """Per group: the restricted mean up to ``horizon_s`` and its standard error (NaN when unknown)."""
        if not horizon_s > 0 or not math.isfinite(horizon_s):
            raise ValueError("horizon_s must be a positive number of seconds")
        h = float(horizon_s)
        tc = np.clip(self.times, 0.0, h)
        prev_tc = _shift(tc, self.first_row, 0.0)
        prev_s = _shift(self.survival, self.first_row, 1.0)
        contrib = prev_s * (tc - prev_tc)
        del tc, prev_tc, prev_s
        area = np.bincount(self.group, weights=contrib, minlength=self.n_groups)
        cum_area = _segment_accumulate(contrib, self._seg_starts, self._seg_len, np.add)
        del contrib
        rest = np.maximum(area[self.group] - cum_area, 0.0) if self.times.size else cum_area
        del cum_area
        n_at, d = self.at_risk.astype(np.float64), self.events.astype(np.float64)
        counts = (d > 0) & (self.times <= h) & (n_at > d)
        term = np.where(counts, rest**2 * d / (n_at * np.where(counts, n_at - d, 1.0)), 0.0)
        del rest, n_at, d, counts
        var = np.bincount(self.group, weights=term, minlength=self.n_groups)
        known = self._followed_to(h)
        # A sum of pieces can overshoot h by an ulp; the area under a survival curve never does.
        value = np.where(known, np.minimum(area, h), np.nan)
        se = np.where(known, np.sqrt(var), np.nan)
        return value.astype(np.float64), se.astype(np.float64)

    def restricted_means(self, horizon_s: float | None) -> list[RestrictedMean]:
        """Per group: :class:`RestrictedMean` up to ``horizon_s`` (all None when the horizon is None)."""
        if horizon_s is None:
            return [RestrictedMean(None, None, None, None, n, 0) for n in self.n.tolist()]
        h = float(horizon_s)
        value, se = self.restricted_mean_arrays(h)
        low = np.minimum(np.maximum(0.0, value - Z95 * se), value)
        high = np.maximum(np.minimum(h, value + Z95 * se), value)
        return [
            RestrictedMean(h, v, lo, hi, n, ev)
            for v, lo, hi, n, ev in zip(
                _nan_to_none(value),
                _nan_to_none(low),
                _nan_to_none(high),
                self.n.tolist(),
                self.events_by(h).tolist(),
                strict=True,
            )
        ]


def _nan_to_none(values: FloatArray) -> list[float | None]:
    return [None if math.isnan(v) else v for v in values.tolist()]


def _one_group(durations: Sequence[float], observed: Sequence[bool]) -> GroupedKM:
    if len(durations) != len(observed):
        raise ValueError("durations and observed must have the same length")
    return GroupedKM(np.zeros(len(durations), dtype=np.int64), durations, observed, 1)


def km_quantile(durations: Sequence[float], observed: Sequence[bool], p: float = 0.5) -> QuantileEstimate:
    """Return the Kaplan–Meier time by which a share ``p`` of probes had a reply, with its 95 % interval.

    ``observed[i]`` is True when ``durations[i]`` is a reply time, False when the probe was censored then.
    ``p = 0.5`` gives the median (equal to :func:`replybench.analysis.summary.km_median`), ``p = 0.9`` the
    p90. See the module docstring for the convention. Raises ValueError on bad input or ``p`` outside (0, 1).
    """
    return _one_group(durations, observed).quantiles(p)[0]


def share_within(durations: Sequence[float], observed: Sequence[bool], within_s: float) -> ShareWithin:
    """Return the Kaplan–Meier share of probes with a reply within ``within_s`` seconds (1 − S(t)).

    Raises ValueError on mismatched lengths or non-finite durations.
    """
    return _one_group(durations, observed).shares_within(within_s)[0]


def restricted_mean(durations: Sequence[float], observed: Sequence[bool], horizon_s: float) -> RestrictedMean:
    """Return the restricted mean time to a reply up to ``horizon_s`` (area under the Kaplan–Meier curve).

    Raises ValueError on bad input or a horizon that is not a positive number of seconds.
    """
    return _one_group(durations, observed).restricted_means(horizon_s)[0]
