"""Bootstrap rank intervals of the league table."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replybench.analysis import ranks
from replybench.analysis.outcome import Outcome
from replybench.analysis.ranks import RankTable, bootstrap_ranks
from replybench.analysis.summary import summarize
from replybench.analysis.survival import GroupedKM
from replybench.analysis.synthetic import synthetic_outcomes
from tests.analysis.builders import HORIZON_S, probe


def _league(seed: int = 0) -> list[Outcome]:
    """A clearly fastest target (every probe answered within seconds) and nine ordinary ones."""
    rng = np.random.default_rng(seed)
    rows = [probe("aaa-fast", float(rng.uniform(1, 5)), pid=f"f{i}") for i in range(20)]
    for t in range(9):
        for i in range(20):
            answered = rng.random() < 0.6
            rows.append(
                probe(
                    f"t{t}",
                    float(min(rng.lognormal(9, 1.5), HORIZON_S)) if answered else None,
                    pid=f"{t}-{i}",
                )
            )
    return rows


@pytest.mark.parametrize("metric", ["restricted_mean", "index"])
def test_clearly_fastest_target_is_first_in_every_resample(metric: ranks.RankMetric) -> None:
    table = bootstrap_ranks(_league(), metric=metric, resamples=500, seed=1)
    best = table.rows[0]
    assert best.key == "aaa-fast"
    assert (best.rank, best.rank_low, best.rank_high) == (1, 1, 1)
    assert table.horizon_s == HORIZON_S
    assert (table.metric, table.resamples, table.seed) == (metric, 500, 1)


def test_intervals_contain_the_point_rank_and_value() -> None:
    table = bootstrap_ranks(synthetic_outcomes(1500, 60, seed=3), resamples=300, seed=5)
    assert len(table.rows) == 60
    assert [r.rank for r in table.rows] == sorted(r.rank for r in table.rows if r.rank is not None)
    for row in table.rows:
        assert row.rank is not None
        assert row.rank_low is not None
        assert row.rank_high is not None
        assert 1 <= row.rank_low <= row.rank <= row.rank_high <= 60
        assert row.value is not None
        assert row.value_low is not None
        assert row.value_high is not None
        assert row.value_low <= row.value <= row.value_high
    widths = [r.rank_high - r.rank_low for r in table.rows if r.rank_high and r.rank_low]
    assert max(widths) > 0, "twenty-odd probes per target cannot rank sixty targets exactly"


def test_point_values_are_the_summary_values() -> None:
    rows = synthetic_outcomes(600, 30, seed=4)
    by_key = {s.key: s for s in summarize(rows)}
    rmst = bootstrap_ranks(rows, resamples=20)
    idx = bootstrap_ranks(rows, metric="index", resamples=20)
    for r in rmst.rows:
        assert r.value == by_key[r.key].restricted_mean.value_s
    for r in idx.rows:
        assert r.value == by_key[r.key].index.value
    # Ranks follow the metric: lower restricted mean is better, higher index is better.
    values = [r.value for r in rmst.rows if r.value is not None]
    assert values == sorted(values)
    values = [r.value for r in idx.rows if r.value is not None]
    assert values == sorted(values, reverse=True)


def test_deterministic_for_a_seed_and_independent_of_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = synthetic_outcomes(800, 40, seed=2)
    a = bootstrap_ranks(rows, resamples=200, seed=11)
    b = bootstrap_ranks(rows, resamples=200, seed=11)
    c = bootstrap_ranks(rows, resamples=200, seed=np.random.default_rng(11))
    assert a == b
    assert a.rows == c.rows
    assert c.seed is None
    monkeypatch.setattr(ranks, "_CHUNK_CELLS", 50)  # many small chunks draw the same random numbers
    assert bootstrap_ranks(rows, resamples=200, seed=11) == a
    assert bootstrap_ranks(rows, resamples=200, seed=12) != a


def test_unrankable_targets_are_listed_last_without_rank() -> None:
    rows = [*_league()[:40], probe("zz-unsent", 60.0, pid="u", sent=False)]
    rows += [probe("open", None, pid=f"o{i}", until_s=3600.0) for i in range(3)]
    table = bootstrap_ranks(rows, resamples=50)
    assert [r.key for r in table.rows[-2:]] == ["open", "zz-unsent"]
    assert all(r.rank is None and r.value is None for r in table.rows[-2:])
    assert table.rows[-1].n == 0
    with pytest.raises(ValueError, match="resamples"):
        bootstrap_ranks(rows, resamples=0)
    with pytest.raises(ValueError, match="metric"):
        bootstrap_ranks(rows, metric="median")  # type: ignore[arg-type]
    assert bootstrap_ranks([], resamples=10) == RankTable("restricted_mean", None, 10, 0.95, 0, ())


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from([1.0, 2.0, 5.0]) | st.floats(0, 20), st.booleans()),
        min_size=1,
        max_size=40,
    ),
    h=st.floats(1.0, 25.0),
)
def test_one_probe_at_a_time_kaplan_meier_is_exact(rows: list[tuple[int, float, bool]], h: float) -> None:
    """With every probe drawn once, the resampling arithmetic gives the Kaplan–Meier restricted mean."""
    codes = np.array([c for c, _, _ in rows], dtype=np.int64)
    durations = np.array([d for _, d, _ in rows])
    observed = np.array([o for _, _, o in rows])
    km = GroupedKM(codes, durations, observed, 4)
    expected = km.restricted_mean_arrays(h)[0]
    groups = np.flatnonzero(km.n > 0).astype(np.int64)
    padded = ranks._pad(codes, durations, observed, np.full(codes.size, np.nan), groups, h)
    counts = np.zeros((1, *padded.times.shape))
    for g in range(groups.size):
        counts[0, g, : padded.sizes[g]] = 1.0
    got = ranks._metric(counts, padded, h, "restricted_mean")[0]
    for j, g in enumerate(groups.tolist()):
        if not np.isnan(expected[g]):  # where the curve is known up to h
            assert got[j] == pytest.approx(expected[g], rel=1e-9, abs=1e-9)


def test_two_hundred_targets_of_twenty_probes_in_well_under_a_few_seconds() -> None:
    rows = synthetic_outcomes(4000, 200, seed=9)
    start = time.perf_counter()
    table = bootstrap_ranks(rows)
    elapsed = time.perf_counter() - start
    assert table.resamples == 1000
    assert len(table.rows) == 200
    assert elapsed < 10.0, f"bootstrap took {elapsed:.1f} s"
