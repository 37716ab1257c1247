"""The responsiveness index: formula, bounds, monotonicity, edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replybench.analysis.index import (
    INDEX_FORMULA,
    W_QUALITY,
    W_RATE,
    W_SPEED,
    index_array,
    responsiveness,
    responsiveness_index,
    speed_score,
)
from replybench.analysis.outcome import Outcome
from tests.analysis.builders import HORIZON_S, probe

unit = st.floats(0.0, 1.0)
maybe_quality = st.none() | unit


def test_formula_is_documented_with_its_weights() -> None:
    assert (W_RATE, W_SPEED, W_QUALITY) == (0.4, 0.4, 0.2)
    for part in ("100 ×", "0.4·R", "0.4·S", "0.2·Q", "RMST(h)", "1 − RMST(h)/h", "horizon", "Kaplan–Meier"):
        assert part in INDEX_FORMULA
    import replybench.analysis.index as module

    assert module.__doc__ is not None
    assert "W_RATE·R + W_SPEED·S + W_QUALITY·Q" in module.__doc__


@given(r=unit, s=unit, q=maybe_quality)
def test_index_lies_in_0_100(r: float, s: float, q: float | None) -> None:
    value = responsiveness_index(r, s, q)
    assert 0.0 <= value <= 100.0 + 1e-9


@given(r1=unit, r2=unit, s1=unit, s2=unit, q=maybe_quality)
def test_index_is_monotone_in_rate_and_speed(
    r1: float, r2: float, s1: float, s2: float, q: float | None
) -> None:
    lo_r, hi_r = sorted((r1, r2))
    lo_s, hi_s = sorted((s1, s2))
    assert responsiveness_index(hi_r, lo_s, q) >= responsiveness_index(lo_r, lo_s, q)
    assert responsiveness_index(lo_r, hi_s, q) >= responsiveness_index(lo_r, lo_s, q)
    assert responsiveness_index(hi_r, hi_s, q) >= responsiveness_index(lo_r, lo_s, q)


@given(r=unit, s=unit, q1=unit, q2=unit)
def test_index_is_monotone_in_quality(r: float, s: float, q1: float, q2: float) -> None:
    lo, hi = sorted((q1, q2))
    assert responsiveness_index(r, s, hi) >= responsiveness_index(r, s, lo)


def test_index_known_values_and_weights_dropped_without_quality() -> None:
    assert responsiveness_index(0.0, 0.0) == 0.0
    assert responsiveness_index(1.0, 1.0, 1.0) == pytest.approx(100.0)
    assert responsiveness_index(0.5, 0.25) == pytest.approx(100 * (0.4 * 0.5 + 0.4 * 0.25) / 0.8)
    assert responsiveness_index(0.5, 0.25, 0.9) == pytest.approx(100 * (0.2 + 0.1 + 0.18) / 1.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        responsiveness_index(1.2, 0.5)
    assert speed_score(0.0, 100.0) == 1.0
    assert speed_score(100.0, 100.0) == 0.0
    vec = index_array(np.array([0.5, 0.5]), np.array([0.25, 0.25]), np.array([np.nan, 0.9]))
    assert vec.tolist() == pytest.approx(
        [responsiveness_index(0.5, 0.25), responsiveness_index(0.5, 0.25, 0.9)]
    )


# ------------------------------------------------------------------------------- from outcome tables


def _outcomes(times: list[float | None]) -> list[Outcome]:
    return [probe("t", h, pid=f"p{i}") for i, h in enumerate(times)]


def test_never_answering_target_scores_zero() -> None:
    score = responsiveness(_outcomes([None] * 8))
    assert (score.value, score.rate, score.speed, score.quality) == (0.0, 0.0, 0.0, None)
    assert score.horizon_s == HORIZON_S


def test_instant_perfect_answers_score_100_and_quality_enters_when_scored() -> None:
    perfect = [probe("t", 0.0, pid=f"p{i}", quality=100.0) for i in range(5)]
    assert responsiveness(perfect).value == pytest.approx(100.0)
    half = [probe("t", HORIZON_S / 2, pid=f"p{i}", quality=50.0) for i in range(4)]
    score = responsiveness(half)
    assert (score.rate, score.speed, score.quality, score.quality_n) == (1.0, 0.5, 0.5, 4)
    assert score.value == pytest.approx(100 * (0.4 + 0.2 + 0.1))


def test_index_needs_follow_up_to_the_horizon() -> None:
    # Still open after one day, no reply: the share answered within a week is not known yet.
    open_probes = [probe("t", None, pid=f"p{i}", until_s=86400.0) for i in range(3)]
    assert responsiveness(open_probes).value is None
    assert responsiveness(open_probes, horizon_s=3600.0).value == 0.0
    assert responsiveness([]).value is None


reply_st = st.none() | st.floats(0.0, HORIZON_S)


@settings(max_examples=150, deadline=None)
@given(times=st.lists(reply_st, min_size=1, max_size=25), data=st.data())
def test_faster_or_extra_replies_never_lower_the_index(
    times: list[float | None], data: st.DataObject
) -> None:
    """Probes followed to the horizon: speeding up one reply, or answering an unanswered probe, never hurts."""
    before = responsiveness(_outcomes(times))
    assert before.value is not None
    i = data.draw(st.integers(0, len(times) - 1))
    changed = list(times)
    old = times[i]
    changed[i] = data.draw(st.floats(0.0, HORIZON_S if old is None else old))
    after = responsiveness(_outcomes(changed))
    assert after.value is not None
    assert after.value >= before.value - 1e-9
    assert after.rate is not None
    assert before.rate is not None
    assert after.rate >= before.rate - 1e-12
    assert after.speed is not None
    assert before.speed is not None
    assert after.speed >= before.speed - 1e-12
