"""The vectorised Kaplan–Meier engine against scipy.stats.ecdf and lifelines.

Convention differences with lifelines, tested explicitly:

* Quantiles: lifelines takes the first time at which S(t) <= 1 - p. We take the same time, except when the
  curve sits exactly at 1 - p there and drops later: then the midpoint between that time and the next drop
  (R's survival convention, which makes the median of uncensored data the ordinary sample median).
* Confidence bands: both use the exponential Greenwood (log-log) band. Where it is undefined, lifelines
  gives (1, 1) while S = 1 and (0, 0) once S = 0; we take the estimate for the lower band (the same) and
  1.0 for the upper band everywhere (scipy's NaN read conservatively): when S drops to 0, lifelines' upper
  limit of a quantile is that time, ours stays open ("not reached"). We also clamp a quantile's interval
  to contain the point estimate (relevant only with the midpoint rule).
* Share answered within t: where the band is undefined we give a Wilson interval instead of lifelines'
  degenerate one; the point estimate is the same.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter
from lifelines.utils import qth_survival_times, restricted_mean_survival_time

from replybench.analysis.summary import km_curve, km_median
from replybench.analysis.survival import GroupedKM, km_quantile, restricted_mean, share_within

pytestmark = pytest.mark.filterwarnings("ignore:Approximating using")

durations_st = st.lists(
    st.one_of(st.integers(1, 30).map(float), st.floats(0.5, 1e6, allow_nan=False, allow_infinity=False)),
    min_size=1,
    max_size=50,
)


@st.composite
def samples(draw: st.DrawFn) -> tuple[list[float], list[bool]]:
    durations = draw(durations_st)
    observed = draw(st.lists(st.booleans(), min_size=len(durations), max_size=len(durations)))
    return durations, observed


def _kmf(durations: list[float], observed: list[bool]) -> KaplanMeierFitter:
    return KaplanMeierFitter().fit(durations, event_observed=observed)


def _none_if_inf(value: float) -> float | None:
    return None if math.isinf(value) else float(value)


def _expected_quantile(kmf: KaplanMeierFitter, level: float) -> float | None:
    """Our convention applied to lifelines' survival function: first S <= level, midpoint on a flat step."""
    sf = kmf.survival_function_.iloc[:, 0]
    times, values = sf.index.to_numpy(dtype=float), sf.to_numpy(dtype=float)
    hits = np.flatnonzero(values <= level + 1e-9)
    if not hits.size:
        return None
    i = int(hits[0])
    if values[i] >= level - 1e-9:
        later = np.flatnonzero(values[i + 1 :] < level - 1e-9)
        if later.size:
            return (times[i] + times[i + 1 + later[0]]) / 2.0
    return float(times[i])


def _sits_on_level(kmf: KaplanMeierFitter, level: float) -> bool:
    values = kmf.survival_function_.iloc[:, 0].to_numpy(dtype=float)
    return bool(np.any(np.abs(values - level) < 1e-9))


# ------------------------------------------------------------------------------------------- quantiles


@pytest.mark.parametrize("p", [0.5, 0.9])
@settings(max_examples=150, deadline=None)
@given(sample=samples())
def test_quantile_agrees_with_lifelines(p: float, sample: tuple[list[float], list[bool]]) -> None:
    durations, observed = sample
    kmf = _kmf(durations, observed)
    ours = km_quantile(durations, observed, p)
    level = round(1 - p, 12)
    assert ours.n == len(durations)
    assert ours.events == sum(observed)
    expected = _expected_quantile(kmf, level)
    if expected is None:
        assert ours.value_s is None
    else:
        assert ours.value_s == pytest.approx(expected, rel=1e-9)
    if not _sits_on_level(kmf, level):  # no flat step exactly at the level: identical to lifelines
        assert ours.value_s == _none_if_inf(kmf.percentile(level))


@pytest.mark.parametrize("p", [0.5, 0.9])
@settings(max_examples=150, deadline=None)
@given(sample=samples())
def test_quantile_interval_agrees_with_lifelines(p: float, sample: tuple[list[float], list[bool]]) -> None:
    durations, observed = sample
    assume(any(observed))
    kmf = _kmf(durations, observed)
    ours = km_quantile(durations, observed, p)
    level = round(1 - p, 12)
    band = kmf.confidence_interval_
    lo_col, hi_col = band.columns
    ll = _none_if_inf(qth_survival_times(level, band[[lo_col]]))
    lh = _none_if_inf(qth_survival_times(level, band[[hi_col]]))
    if ours.value_s is None:
        assert ours.low_s == ll
        assert ours.high_s == lh
        return
    assert ours.low_s is not None
    assert ll is not None
    assert ours.low_s <= ours.value_s
    assert ours.low_s == pytest.approx(min(ll, ours.value_s), rel=1e-9)
    survival = kmf.survival_function_.iloc[:, 0]
    if lh is None:
        assert ours.high_s is None
    elif survival.loc[lh] == 0.0:  # lifelines' degenerate (0, 0) band where S = 0; ours stays open
        assert ours.high_s is None or ours.high_s == pytest.approx(max(lh, ours.value_s), rel=1e-9)
    else:
        assert ours.high_s == pytest.approx(max(lh, ours.value_s), rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(sample=samples())
def test_median_is_km_median(sample: tuple[list[float], list[bool]]) -> None:
    durations, observed = sample
    ours, reference = km_quantile(durations, observed, 0.5), km_median(durations, observed)
    assert (ours.n, ours.events) == (reference.n, reference.events)
    for a, b in [
        (ours.value_s, reference.median_s),
        (ours.low_s, reference.low_s),
        (ours.high_s, reference.high_s),
    ]:
        assert (a is None) == (b is None)
        if a is not None:
            assert a == pytest.approx(b, rel=1e-12)


def test_p90_hand_computed_and_not_reached() -> None:
    # Ten replies at 1..10 s: S = 0.9, ..., 0.1 at 9 s exactly, 0 at 10 s → the midpoint 9.5 s.
    assert km_quantile([float(i) for i in range(1, 11)], [True] * 10, 0.9).value_s == 9.5
    # Nine replies in ten, the last probe censored: S reaches 0.1 and stays → 9 s.
    est = km_quantile([float(i) for i in range(1, 11)], [True] * 9 + [False], 0.9)
    assert est.value_s == 9.0
    # Only 80 % answered: p90 not reached, interval open above.
    est = km_quantile([float(i) for i in range(1, 11)], [True] * 8 + [False] * 2, 0.9)
    assert (est.value_s, est.high_s, est.n, est.events) == (None, None, 10, 8)
    with pytest.raises(ValueError, match="between 0 and 1"):
        km_quantile([1.0], [True], 1.0)


# --------------------------------------------------------------------------------------- share within


@settings(max_examples=200, deadline=None)
@given(sample=samples(), t=st.one_of(st.integers(0, 35).map(float), st.floats(0.0, 1.1e6)))
def test_share_within_is_one_minus_lifelines_survival(
    sample: tuple[list[float], list[bool]], t: float
) -> None:
    durations, observed = sample
    kmf = _kmf(durations, observed)
    ours = share_within(durations, observed, t)
    s_t = float(kmf.survival_function_at_times(t).iloc[0])
    assert ours.events == sum(1 for d, o in zip(durations, observed, strict=True) if o and d <= t)
    followed = max(durations) >= t or s_t == 0.0
    if not followed:
        assert ours.value is None
        assert ours.low is None
        return
    assert ours.value == pytest.approx(1.0 - s_t, abs=1e-12)
    assert ours.low is not None
    assert ours.high is not None
    assert 0.0 <= ours.low <= ours.value <= ours.high <= 1.0
    if 0.0 < s_t < 1.0:  # the log-log band is defined: lifelines' band, flipped
        row = kmf.confidence_interval_.loc[:t].iloc[-1]
        assert ours.low == pytest.approx(1.0 - row.iloc[1], abs=1e-9)
        assert ours.high == pytest.approx(1.0 - row.iloc[0], abs=1e-9)


def test_share_within_band_fallbacks_are_wilson_intervals() -> None:
    # Nobody answered within 60 s: 0 % with the Wilson interval of 0 out of the 4 probes still waiting.
    share = share_within([100, 200, 300, 400], [True, True, False, False], 60)
    assert (share.value, share.low, share.events) == (0.0, 0.0, 0)
    assert share.high == pytest.approx(0.4899, abs=1e-4)
    # Everybody answered by 500 s: 100 % with the Wilson interval of 4 out of 4.
    share = share_within([100, 200, 300, 400], [True] * 4, 500)
    assert (share.value, share.high, share.events) == (1.0, 1.0, 4)
    assert share.low == pytest.approx(0.5101, abs=1e-4)
    # Followed only 400 s with probes still waiting: the share within a day is unknown.
    assert share_within([100, 400], [True, False], 86400).value is None


# ------------------------------------------------------------------------------------- restricted mean


@settings(max_examples=200, deadline=None)
@given(sample=samples(), frac=st.floats(0.01, 1.0))
def test_restricted_mean_agrees_with_lifelines(sample: tuple[list[float], list[bool]], frac: float) -> None:
    durations, observed = sample
    horizon = max(durations) * frac
    kmf = _kmf(durations, observed)
    ours = restricted_mean(durations, observed, horizon)
    assert ours.horizon_s == horizon
    assert ours.value_s is not None, "followed up to the horizon by construction"
    assert ours.value_s == pytest.approx(restricted_mean_survival_time(kmf, t=horizon), rel=1e-9, abs=1e-9)
    assert ours.low_s is not None
    assert ours.high_s is not None
    assert 0.0 <= ours.low_s <= ours.value_s <= ours.high_s <= horizon


def test_restricted_mean_hand_computed_and_unknown() -> None:
    # S = 1 until 10, 0.75 until 30, 0.375 until 40 (censored at 20 and 40).
    est = restricted_mean([10, 20, 30, 40], [True, False, True, False], 40)
    assert est.value_s == pytest.approx(10 + 20 * 0.75 + 10 * 0.375)
    assert (est.n, est.events) == (4, 2)
    # Never answered: the restricted mean is the horizon itself, with no uncertainty.
    est = restricted_mean([40, 40], [False, False], 40)
    assert (est.value_s, est.low_s, est.high_s) == (40.0, 40.0, 40.0)
    # Followed for 40 s only, probes still waiting: nothing is known up to 100 s.
    assert restricted_mean([10, 40], [True, False], 100).value_s is None
    # ... unless every probe was answered: the curve is 0 from then on.
    assert restricted_mean([10, 20], [True, True], 100).value_s == pytest.approx(15.0)
    with pytest.raises(ValueError, match="positive"):
        restricted_mean([10.0], [True], 0.0)


# ------------------------------------------------------------------------------- grouped = per group


@settings(max_examples=100, deadline=None)
@given(data=st.data(), n_groups=st.integers(1, 6))
def test_grouped_curves_equal_scipy_per_group(data: st.DataObject, n_groups: int) -> None:
    durations, observed = data.draw(samples())
    codes = data.draw(
        st.lists(st.integers(0, n_groups - 1), min_size=len(durations), max_size=len(durations))
    )
    km = GroupedKM(codes, durations, observed, n_groups)
    for g in range(n_groups):
        d = [x for x, c in zip(durations, codes, strict=True) if c == g]
        o = [x for x, c in zip(observed, codes, strict=True) if c == g]
        rows = slice(int(km.start[g]), int(km.stop[g]))
        assert int(km.n[g]) == len(d)
        assert int(km.n_events[g]) == sum(o)
        if not d:
            assert km.times[rows].size == 0
            continue
        if not any(o):
            assert np.all(km.survival[rows] == 1.0)
            continue
        curve = km_curve(d, o)
        np.testing.assert_allclose(km.times[rows], curve.times)
        np.testing.assert_allclose(km.survival[rows], curve.survival, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(km.band_low[rows], curve.low, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(km.band_high[rows], curve.high, rtol=1e-9, atol=1e-12)


def test_many_groups_keep_full_precision() -> None:
    """Cumulative sums restart per group: ten thousand groups in one pass lose no accuracy."""
    rng = np.random.default_rng(7)
    n_groups, size = 10_000, 15
    codes = np.repeat(np.arange(n_groups), size)
    durations = np.round(rng.lognormal(8, 2, codes.size), 1)
    observed = rng.random(codes.size) < 0.6
    km = GroupedKM(codes, durations, observed, n_groups)
    value, low, high = km.quantile_arrays(0.5)
    for g in rng.choice(n_groups, 60, replace=False).tolist():
        ref = km_median(durations[codes == g].tolist(), observed[codes == g].tolist())
        for ours, theirs in [(value[g], ref.median_s), (low[g], ref.low_s), (high[g], ref.high_s)]:
            assert (theirs is None) == math.isnan(ours)
            if theirs is not None:
                assert ours == pytest.approx(theirs, rel=1e-12)
        curve = km_curve(durations[codes == g].tolist(), observed[codes == g].tolist())
        rows = slice(int(km.start[g]), int(km.stop[g]))
        np.testing.assert_allclose(km.survival[rows], curve.survival, rtol=1e-12, atol=1e-15)


def test_grouped_km_rejects_bad_input_and_handles_empty() -> None:
    with pytest.raises(ValueError, match="same length"):
        GroupedKM([0, 0], [1.0], [True], 1)
    with pytest.raises(ValueError, match="finite"):
        GroupedKM([0], [math.inf], [True], 1)
    with pytest.raises(ValueError, match="n_groups"):
        GroupedKM([2], [1.0], [True], 2)
    empty = GroupedKM([], [], [], 3)
    assert empty.n.tolist() == [0, 0, 0]
    assert all(q.value_s is None and q.n == 0 for q in empty.quantiles(0.5))
    assert all(s.value is None for s in empty.shares_within(3600))
    assert all(r.value_s is None for r in empty.restricted_means(3600))
