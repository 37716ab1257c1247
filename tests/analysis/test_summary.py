"""Statistics of the outcomes table: Wilson intervals, Kaplan–Meier medians, per-group summaries."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replybench.analysis.outcome import Outcome
from replybench.analysis.summary import SurvivalCurve, km_curve, km_median, summarize, timing_data, wilson
from tests.report.sample_data import WAIT, make_outcome, sample_outcomes

# ------------------------------------------------------------------------------------------------ Wilson


@given(n=st.integers(1, 5000), data=st.data())
def test_wilson_contains_estimate_within_unit_interval(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    r = wilson(k, n)
    assert r.value == pytest.approx(k / n)
    assert r.low is not None
    assert r.high is not None
    assert 0.0 <= r.low <= r.value <= r.high <= 1.0
    assert r.low < r.high


@given(n=st.integers(1, 500), m=st.integers(2, 20), data=st.data())
def test_wilson_narrows_as_n_grows_at_the_same_proportion(n: int, m: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    small, large = wilson(k, n), wilson(k * m, n * m)
    assert None not in (small.low, small.high, large.low, large.high)
    assert (large.high or 0) - (large.low or 0) < (small.high or 0) - (small.low or 0)


@given(n=st.integers(1, 1000), data=st.data())
def test_wilson_is_symmetric_in_successes_and_failures(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    a, b = wilson(k, n), wilson(n - k, n)
    assert a.low == pytest.approx(1 - (b.high or 0), abs=1e-12)
    assert a.high == pytest.approx(1 - (b.low or 0), abs=1e-12)


def test_wilson_known_values_and_edges() -> None:
    r = wilson(3, 10)
    assert (round(r.low or 0, 4), round(r.high or 0, 4)) == (0.1078, 0.6032)
    assert wilson(0, 10).low == 0.0
    assert wilson(10, 10).high == 1.0
    empty = wilson(0, 0)
    assert (empty.k, empty.n, empty.value, empty.low, empty.high) == (0, 0, None, None, None)
    with pytest.raises(ValueError, match="0 <= k <= n"):
        wilson(3, 2)
    with pytest.raises(ValueError, match="0 <= k <= n"):
        wilson(-1, 2)


# --------------------------------------------------------------------------------------------- Kaplan–Meier

durations_st = st.lists(
    st.one_of(st.integers(1, 40).map(float), st.floats(0.001, 1e6, allow_nan=False, allow_infinity=False)),
    min_size=1,
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(durations=durations_st)
def test_km_median_without_censoring_is_the_sample_median(durations: list[float]) -> None:
    est = km_median(durations, [True] * len(durations))
    assert est.median_s == pytest.approx(float(np.median(durations)), rel=1e-9)
    assert est.n == est.events == len(durations)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), durations=durations_st)
def test_km_median_with_censoring_is_at_least_the_median_of_replies_alone(
    data: st.DataObject, durations: list[float]
) -> None:
    observed = data.draw(st.lists(st.booleans(), min_size=len(durations), max_size=len(durations)))
    est = km_median(durations, observed)
    events = [d for d, o in zip(durations, observed, strict=True) if o]
    assert est.n == len(durations), "censored probes are never dropped"
    assert est.events == len(events)
    if not events:
        assert est.median_s is None
    elif est.median_s is not None:
        assert est.median_s >= float(np.median(events)) - 1e-9 * max(events)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), durations=durations_st)
def test_km_median_interval_brackets_the_median(data: st.DataObject, durations: list[float]) -> None:
    observed = data.draw(st.lists(st.booleans(), min_size=len(durations), max_size=len(durations)))
    est = km_median(durations, observed)
    if est.median_s is not None:
        assert est.low_s is not None
        assert est.low_s <= est.median_s
        assert est.high_s is None or est.median_s <= est.high_s
        assert min(durations) <= est.low_s
        assert est.median_s <= max(durations)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), durations=durations_st)
def test_censoring_a_reply_never_lowers_the_curve(data: st.DataObject, durations: list[float]) -> None:
    observed = data.draw(st.lists(st.booleans(), min_size=len(durations), max_size=len(durations)))
    flip = data.draw(st.integers(0, len(durations) - 1))
    less = list(observed)
    less[flip] = False
    before, after = km_curve(durations, observed), km_curve(durations, less)
    assert before.times == after.times

    def at(curve: SurvivalCurve, t: float) -> float:
        share = 1.0
        for tt, p in zip(curve.times, curve.survival, strict=True):
            if tt > t:
                break
            share = p
        return share

    for t in before.times:
        assert at(after, t) >= at(before, t) - 1e-12
    if km_median(durations, observed).median_s is None:
        assert km_median(durations, less).median_s is None


def test_km_median_hand_computed_cases() -> None:
    # S = 3/4, 1/2 (exactly, at 120), 1/4: the median is the midpoint of 120 and 180.
    assert km_median([60, 120, 180, 604800], [True, True, True, False]).median_s == 150.0
    # One reply in four, three censored: median not reached, but the probes all count.
    est = km_median([60, 604800, 604800, 604800], [True, False, False, False])
    assert (est.median_s, est.high_s, est.n, est.events) == (None, None, 4, 1)
    # Exactly half answered, the rest censored later: the median is where the curve reaches one half.
    assert km_median([1, 2, 3, 4], [True, True, False, False]).median_s == 2.0
    # Censored before the last reply: the reply at 10 carries the redistributed weight.
    est = km_median([1, 2, 3, 10], [True, False, False, True])
    assert est.median_s == 10.0
    assert km_median([], []) == km_median([], [])
    assert km_median([], []).n == 0
    assert km_median([], []).median_s is None


def test_km_median_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="same length"):
        km_median([1.0, 2.0], [True])
    with pytest.raises(ValueError, match="finite"):
        km_median([1.0, math.nan], [True, True])


def test_km_curve_steps_down_at_replies_only() -> None:
    curve = km_curve([10, 20, 30, 40], [True, False, True, False])
    assert curve.times == (10.0, 20.0, 30.0, 40.0)
    assert curve.survival == pytest.approx((0.75, 0.75, 0.375, 0.375))
    assert curve.censored_times == (20.0, 40.0)
    assert all(a >= b for a, b in zip(curve.survival, curve.survival[1:], strict=False))
    flat = km_curve([5, 7], [False, False])
    assert flat.survival == (1.0, 1.0)
    assert flat.events == 0


# ------------------------------------------------------------------------------------------------ summaries


def _probe(pid: str, target: str, **kw: object) -> Outcome:
    base = make_outcome(probe_id=pid, target_id=target, target_name=target.title(), industry="retail")
    return replace(base, **kw)  # type: ignore[arg-type]


def _no_reply(pid: str, target: str, **kw: object) -> Outcome:
    fields: dict[str, object] = {
        "first_response_at": None,
        "first_response_class": None,
        "first_human_at": None,
        "response_s": None,
        "human_response_s": None,
        "human_response_business_s": None,
        "censored": True,
    }
    return _probe(pid, target, **{**fields, **kw})


def _unsent(pid: str, target: str, state: str) -> Outcome:
    return _no_reply(pid, target, state=state, sent_at=None, horizon_at=None, sent_clock=None)


def handcrafted() -> list[Outcome]:
    return [
        # alpha: replies by a person after 1, 2 and 3 minutes; one silence; one never sent.
        _probe("a1", "alpha", response_s=60.0, human_response_s=60.0, human_response_business_s=60.0),
        _probe(
            "a2",
            "alpha",
            response_s=5.0,
            human_response_s=120.0,
            human_response_business_s=100.0,
            auto_acked=True,
            first_response_class="auto_ack",
        ),
        _probe("a3", "alpha", response_s=180.0, human_response_s=180.0, human_response_business_s=150.0),
        _no_reply("a4", "alpha"),
        _unsent("a5", "alpha", "failed"),
        # beta: one auto-acknowledgement only, two bounces, one skipped.
        _no_reply("b1", "beta", response_s=3.0, auto_acked=True, first_response_class="auto_ack"),
        _no_reply("b2", "beta", bounced=True),
        _no_reply("b3", "beta", bounced=True),
        _unsent("b4", "beta", "skipped"),
    ]


def test_summarize_by_target_counts_and_rates() -> None:
    alpha, beta = summarize(handcrafted(), by="target")
    assert (alpha.key, alpha.label) == ("alpha", "Alpha")
    assert (alpha.planned, alpha.sent, alpha.not_sent) == (5, 4, 1)
    assert (alpha.bounced, alpha.auto_acked, alpha.censored) == (0, 1, 1)
    assert (alpha.response_rate.k, alpha.response_rate.n) == (3, 4)
    assert (alpha.human_rate.k, alpha.human_rate.n) == (3, 4)
    assert alpha.human_rate.value == 0.75
    assert alpha.first_response.median_s == pytest.approx((60.0 + 180.0) / 2)  # S: 3/4 at 5, 1/2 at 60
    assert alpha.first_human.median_s == 150.0
    assert (alpha.first_human.n, alpha.first_human.events) == (4, 3)

    assert (beta.planned, beta.sent, beta.not_sent) == (4, 3, 1)
    assert (beta.bounced, beta.auto_acked, beta.censored) == (2, 1, 3)
    assert (beta.response_rate.k, beta.response_rate.n) == (1, 3)
    assert (beta.human_rate.k, beta.human_rate.n, beta.human_rate.value) == (0, 3, 0.0)
    assert beta.first_human.median_s is None
    assert (beta.first_human.n, beta.first_human.events) == (3, 0)
    assert beta.first_response.median_s is None  # one reply in three


def test_summarize_overall_and_other_groupings() -> None:
    (overall,) = summarize(handcrafted(), by="overall")
    assert (overall.key, overall.label, overall.planned, overall.sent, overall.not_sent) == (
        "overall",
        "All targets",
        9,
        7,
        2,
    )
    assert (overall.human_rate.k, overall.human_rate.n) == (3, 7)
    assert [g.key for g in summarize(handcrafted(), by="industry")] == ["retail"]
    assert [g.key for g in summarize(handcrafted(), by="channel")] == ["email"]
    assert [g.key for g in summarize(handcrafted(), by="suite")] == ["baseline"]
    (empty,) = summarize([], by="overall")
    assert (empty.planned, empty.sent, empty.response_rate.value, empty.first_human.median_s) == (
        0,
        0,
        None,
        None,
    )
    assert summarize([], by="target") == []
    with pytest.raises(ValueError, match="cannot group by"):
        summarize(handcrafted(), by="persona")  # type: ignore[arg-type]


def test_business_time_skips_unknown_censored_rows_and_counts_them() -> None:
    (alpha, _beta) = summarize(handcrafted(), by="target")
    # a4 has no reply and no business time at its horizon: left out, counted.
    assert alpha.business_unknown == 1
    assert (alpha.first_human_business.n, alpha.first_human_business.events) == (3, 3)
    assert alpha.first_human_business.median_s == 100.0


def test_business_time_uses_horizon_business_s_when_outcomes_carry_it() -> None:
    rows = [
        replace(o, horizon_business_s=45 * 3600.0) if o.human_response_s is None else o
        for o in handcrafted()
        if o.target_id == "alpha"
    ]
    (alpha,) = summarize(rows, by="target")
    assert alpha.business_unknown == 0
    assert (alpha.first_human_business.n, alpha.first_human_business.events) == (4, 3)
    assert alpha.first_human_business.median_s == pytest.approx((100.0 + 150.0) / 2)


def test_timing_data_censors_at_the_horizon() -> None:
    durations, observed, skipped = timing_data(handcrafted(), "first_human")
    assert len(durations) == 7
    assert skipped == 0
    assert observed.count(False) == 4
    assert sorted(d for d, o in zip(durations, observed, strict=True) if not o) == [WAIT.total_seconds()] * 4
    no_horizon = _no_reply("x", "gamma", horizon_at=None)
    assert timing_data([no_horizon], "first_human") == ([], [], 1)
    with pytest.raises(ValueError, match="unknown measure"):
        timing_data(handcrafted(), "quality")  # type: ignore[arg-type]


outcome_st = st.builds(
    lambda target, sent, human, ack, bounced: (
        _no_reply("p", target, bounced=bounced)
        if not sent
        else (
            _probe(
                "p", target, response_s=ack or human, human_response_s=human, human_response_business_s=human
            )
            if human is not None
            else _no_reply("p", target, response_s=ack, bounced=bounced)
        )
    ),
    target=st.sampled_from(["t1", "t2", "t3"]),
    sent=st.booleans(),
    human=st.none() | st.floats(1, 6 * 86400),
    ack=st.none() | st.floats(0.1, 60),
    bounced=st.booleans(),
)


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.tuples(outcome_st, st.booleans()), max_size=30))
def test_summaries_account_for_every_probe(rows: list[tuple[Outcome, bool]]) -> None:
    outcomes = [o if sent else replace(o, sent_at=None, horizon_at=None, state="failed") for o, sent in rows]
    groups = summarize(outcomes, by="target")
    (overall,) = summarize(outcomes, by="overall")
    assert sum(g.planned for g in groups) == overall.planned == len(outcomes)
    for g in [*groups, overall]:
        assert g.sent + g.not_sent == g.planned
        assert g.first_human.n == g.sent, "censored probes are never dropped"
        assert g.first_response.n == g.sent
        assert g.first_human.events == g.human_rate.k
        assert g.censored == g.sent - g.human_rate.k
        assert g.human_rate.k <= g.response_rate.k <= g.sent


def test_sample_fixture_summary_matches_its_plan() -> None:
    by_target = {g.key: g for g in summarize(sample_outcomes(), by="target")}
    assert len(by_target) == 8
    funkfix = by_target["funkfix"]
    assert (funkfix.planned, funkfix.sent, funkfix.bounced, funkfix.human_rate.k) == (5, 4, 2, 1)
    alpenkasse = by_target["alpenkasse"]
    assert alpenkasse.first_human.median_s == 41 * 60.0
    assert alpenkasse.censored == 0
    (overall,) = summarize(sample_outcomes(), by="overall")
    assert (overall.planned, overall.sent, overall.not_sent) == (40, 36, 4)
