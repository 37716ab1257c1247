"""The log-rank test between two groups of outcomes, against lifelines."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lifelines.statistics import logrank_test

from replybench.analysis.logrank import logrank, logrank_samples
from tests.analysis.builders import HORIZON_S, probe

sample_st = st.lists(
    st.tuples(
        st.one_of(st.integers(1, 20).map(float), st.floats(1.0, 1e5, allow_nan=False)),
        st.booleans(),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(a=sample_st, b=sample_st)
def test_p_value_and_statistic_agree_with_lifelines(
    a: list[tuple[float, bool]], b: list[tuple[float, bool]]
) -> None:
    da, oa = [d for d, _ in a], [o for _, o in a]
    db, ob = [d for d, _ in b], [o for _, o in b]
    assume(any(oa) or any(ob))
    ours = logrank_samples(da, oa, db, ob)
    theirs = logrank_test(da, db, event_observed_A=oa, event_observed_B=ob)
    if ours.p_value is None:
        # No reply while both groups were at risk: the test has no information (variance 0). lifelines
        # then reports statistic 0 and p = 1; we report no test at all.
        assert float(theirs.test_statistic) == 0.0
        assert ours.chi2 is None
        return
    assert ours.chi2 is not None
    assert ours.p_value == pytest.approx(float(theirs.p_value), rel=1e-7, abs=1e-12)
    assert ours.chi2 == pytest.approx(float(theirs.test_statistic), rel=1e-7, abs=1e-9)
    assert (ours.n_a, ours.n_b, ours.events_a, ours.events_b) == (len(da), len(db), sum(oa), sum(ob))


def test_faster_group_by_median() -> None:
    fast = [probe("a", 60.0 * i, pid=f"a{i}") for i in range(1, 21)]
    slow = [probe("b", 3600.0 * i, pid=f"b{i}") for i in range(1, 21)]
    result = logrank(fast, slow)
    assert (result.faster, result.basis) == ("a", "median")
    assert result.p_value is not None
    assert result.p_value < 1e-6
    assert result.significant()
    assert result.median_a_s == pytest.approx(630.0)
    assert logrank(slow, fast).faster == "b"


def test_faster_group_by_restricted_mean_when_medians_are_not_reached() -> None:
    # Both answer fewer than half their probes: medians not reached; A answers 4 of 10 quickly, B 3 slowly.
    a = [probe("a", 600.0, pid=f"a{i}") for i in range(4)] + [probe("a", pid=f"a{i}") for i in range(4, 10)]
    b = [probe("b", 86400.0, pid=f"b{i}") for i in range(3)] + [probe("b", pid=f"b{i}") for i in range(3, 10)]
    result = logrank(a, b)
    assert (result.median_a_s, result.median_b_s) == (None, None)
    assert (result.faster, result.basis, result.horizon_s) == ("a", "restricted_mean", HORIZON_S)
    assert result.restricted_mean_a_s == pytest.approx(0.4 * 600 + 0.6 * HORIZON_S)
    assert result.restricted_mean_b_s == pytest.approx(0.3 * 86400 + 0.7 * HORIZON_S)
    # One median reached, the other not: still decided on the restricted mean (comparable windows).
    c = [probe("c", 7200.0, pid=f"c{i}") for i in range(6)] + [probe("c", pid=f"c{i}") for i in range(6, 10)]
    assert logrank(c, b).basis == "restricted_mean"
    assert logrank(c, b).faster == "a"


def test_untestable_comparisons_give_none() -> None:
    silent = [probe("a", pid=f"a{i}") for i in range(5)]
    result = logrank(silent, [probe("b", pid=f"b{i}") for i in range(5)])
    assert (result.statistic, result.chi2, result.p_value, result.faster) == (None, None, None, None)
    assert not result.significant()
    assert result.restricted_mean_a_s == result.restricted_mean_b_s == HORIZON_S
    empty = logrank([], silent)
    assert (empty.p_value, empty.faster, empty.n_a, empty.n_b) == (None, None, 0, 5)
    unsent = [probe("a", 60.0, pid="u", sent=False)]
    assert logrank(unsent, silent).n_a == 0, "probes never sent do not enter"
    with pytest.raises(ValueError, match="same length"):
        logrank_samples([1.0, 2.0], [True], [1.0], [True])


def test_identical_groups_are_not_different() -> None:
    a = [probe("a", 60.0 * i, pid=f"a{i}") for i in range(1, 11)]
    result = logrank(a, list(a))
    assert result.p_value == pytest.approx(1.0)
    assert (result.faster, result.basis) == (None, None)
