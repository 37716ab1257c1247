"""The summary's newer fields: p90, shares answered within 1/4/24 h, restricted mean, ack and bounce rates,
the index; grouping by run; the vectorised path equals the per-group reference."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replybench.analysis.outcome import Outcome
from replybench.analysis.summary import (
    ANSWERED_WITHIN_S,
    GroupSummary,
    km_median,
    summarize,
    summarize_group,
    timing_data,
    wilson,
)
from replybench.analysis.survival import km_quantile, restricted_mean, share_within
from replybench.analysis.synthetic import synthetic_outcomes
from tests.analysis.builders import HORIZON_S, probe

HOUR = 3600.0


def table() -> list[Outcome]:
    return [
        # alpha: a person answers after 1, 2 and 3 minutes, once after an auto-ack; one probe unanswered.
        probe("alpha", 60.0, pid="a1", run="r1"),
        probe("alpha", 120.0, pid="a2", response=5.0, acked=True, run="r1"),
        probe("alpha", 180.0, pid="a3", run="r2"),
        probe("alpha", None, pid="a4", run="r2"),
        probe("alpha", 60.0, pid="a5", sent=False, run="r2"),
        # beta: one auto-ack only and two bounces.
        probe("beta", None, pid="b1", response=3.0, acked=True, run="r1"),
        probe("beta", None, pid="b2", bounced=True, run="r1"),
        probe("beta", None, pid="b3", bounced=True, run="r2"),
        # gamma: five replies over two days, quality scored.
        *(probe("gamma", h * HOUR, pid=f"g{h}", quality=80.0, run="r1") for h in (0.5, 2, 5, 20, 40)),
    ]


def test_new_fields_by_hand() -> None:
    alpha, beta, gamma = summarize(table())
    # alpha: S = 3/4, 1/2, 1/4 at 60, 120, 180 s; one probe censored at the horizon.
    assert alpha.first_human_p90.value_s is None, "a quarter never answered: p90 not reached"
    assert alpha.first_human_p90.p == 0.9
    assert [s.within_s for s in alpha.answered_within] == list(ANSWERED_WITHIN_S)
    assert [s.value for s in alpha.answered_within] == [0.75, 0.75, 0.75]
    assert alpha.within(3600.0) is alpha.answered_within[0]
    assert alpha.within(60.0) is None
    assert alpha.restricted_mean.horizon_s == HORIZON_S
    assert alpha.restricted_mean.value_s == pytest.approx(
        60 + 60 * 0.75 + 60 * 0.5 + (HORIZON_S - 180) * 0.25
    )
    assert alpha.auto_ack_rate == wilson(1, 4)
    assert alpha.bounce_rate == wilson(0, 4)
    assert alpha.index.value == pytest.approx(
        100 * (0.4 * 0.75 + 0.4 * (1 - alpha.restricted_mean.value_s / HORIZON_S)) / 0.8
    )
    # beta: nobody answered; bounces and auto-acks counted over the three sent probes.
    assert beta.bounce_rate == wilson(2, 3)
    assert beta.auto_ack_rate == wilson(1, 3)
    assert [s.value for s in beta.answered_within] == [0.0, 0.0, 0.0]
    assert beta.answered_within[0].high == wilson(0, 3).high
    assert beta.restricted_mean.value_s == HORIZON_S
    assert (beta.index.value, beta.index.rate, beta.index.speed) == (0.0, 0.0, 0.0)
    # gamma: everyone answered within two days; S = 0.2 from 20 h, 0 from 40 h: S first <= 0.1 at 40 h.
    assert gamma.first_human_p90.value_s == 40 * HOUR
    assert [s.value for s in gamma.answered_within] == pytest.approx([0.2, 0.4, 0.8])
    assert gamma.restricted_mean.value_s == pytest.approx((0.5 + 2 + 5 + 20 + 40) * HOUR / 5)
    assert gamma.index.quality == pytest.approx(0.8)
    assert gamma.index.quality_n == 5


def test_group_by_run_and_channel() -> None:
    r1, r2 = summarize(table(), by="run")
    assert (r1.key, r1.planned, r2.key, r2.planned) == ("r1", 9, "r2", 4)
    assert [g.key for g in summarize(table(), by="channel")] == ["email"]


def test_horizon_and_within_can_be_set() -> None:
    alpha = summarize(table(), horizon_s=HOUR, within_s=(90.0,))[0]
    assert alpha.restricted_mean.horizon_s == HOUR
    assert alpha.restricted_mean.value_s == pytest.approx(60 + 60 * 0.75 + 60 * 0.5 + (HOUR - 180) * 0.25)
    assert alpha.index.horizon_s == HOUR
    assert [s.value for s in alpha.answered_within] == [0.25]


def test_old_constructor_still_works() -> None:
    alpha = summarize(table())[0]
    legacy = GroupSummary(
        key="k",
        label="K",
        planned=1,
        sent=0,
        not_sent=1,
        bounced=0,
        auto_acked=0,
        response_rate=alpha.response_rate,
        human_rate=alpha.human_rate,
        first_response=alpha.first_response,
        first_human=alpha.first_human,
        first_human_business=alpha.first_human_business,
        censored=0,
    )
    assert legacy.answered_within == ()
    assert legacy.first_human_p90.value_s is None
    assert legacy.index.value is None
    assert legacy.bounce_rate.n == 0


def _reference(rows: list[Outcome], horizon: float | None) -> dict[str, object]:
    """The per-group statistics computed one group at a time through the single-sample functions."""
    d, o, _ = timing_data(rows, "first_human")
    return {
        "median": km_median(d, o),
        "p90": km_quantile(d, o, 0.9),
        "shares": tuple(share_within(d, o, t) for t in ANSWERED_WITHIN_S),
        "rmst": None if horizon is None or not d else restricted_mean(d, o, horizon),
    }


outcome_st = st.builds(
    lambda target, human, open_s, sent, ack, bounced, q: probe(
        target,
        human,
        response=ack,
        acked=ack is not None,
        bounced=bounced,
        sent=sent,
        until_s=open_s if human is None else None,
        quality=q if human is not None else None,
    ),
    target=st.sampled_from(["t1", "t2", "t3", "t4"]),
    human=st.none() | st.sampled_from([60.0, 3600.0, 7200.0]) | st.floats(1, HORIZON_S),
    open_s=st.none() | st.floats(1, HORIZON_S),
    sent=st.booleans(),
    ack=st.none() | st.floats(0.1, 30),
    bounced=st.booleans(),
    q=st.none() | st.floats(0, 100),
)


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(outcome_st, max_size=40))
def test_vectorised_summary_equals_per_group_reference(rows: list[Outcome]) -> None:
    groups = summarize(rows, by="target")
    horizon = HORIZON_S if any(o.was_sent for o in rows) else None
    for g in groups:
        members = [o for o in rows if o.target_id == g.key]
        ref = _reference(members, horizon)
        assert g.first_human == ref["median"]
        assert g.first_human_p90 == ref["p90"]
        assert g.answered_within == ref["shares"]
        if ref["rmst"] is not None:
            assert g.restricted_mean == ref["rmst"]
        assert summarize_group(g.key, g.label, members, horizon_s=horizon) == g, "groups do not interact"


def test_synthetic_table_at_scale_matches_the_reference_for_sampled_targets() -> None:
    rows = synthetic_outcomes(20_000, 500, channels=2, seed=1)
    groups = {g.key: g for g in summarize(rows)}
    assert len(groups) == 500
    for key in ("t00000", "t00123", "t00499"):
        members = [o for o in rows if o.target_id == key]
        ref = _reference(members, HORIZON_S)
        g = groups[key]
        assert g.first_human == ref["median"]
        assert g.first_human_p90 == ref["p90"]
        assert g.restricted_mean == ref["rmst"]
        assert g.planned == len(members)
