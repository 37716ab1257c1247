"""The synthetic outcomes generator used by benchmarks."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from replybench.analysis.outcome import Outcome
from replybench.analysis.summary import summarize
from replybench.analysis.synthetic import SYNTHETIC_WAIT_S, synthetic_outcomes


def test_same_seed_same_table_and_rows_are_real_outcomes() -> None:
    a = synthetic_outcomes(2000, 40, channels=2, seed=7)
    assert a == synthetic_outcomes(2000, 40, channels=2, seed=7)
    assert a != synthetic_outcomes(2000, 40, channels=2, seed=8)
    assert all(type(o) is Outcome for o in a)
    assert all(Outcome(**{f.name: getattr(o, f.name) for f in fields(o)}) == o for o in a)
    assert len({o.probe_id for o in a}) == 2000


def test_shape_targets_channels_and_consistency() -> None:
    rows = synthetic_outcomes(20_000, 100, channels=3, seed=1)
    assert len({o.target_id for o in rows}) == 100
    assert {o.channel for o in rows} == {"email", "webform", "chat"}
    assert {o.run_id for o in rows} == {"run-1", "run-2"}
    sent = [o for o in rows if o.was_sent]
    assert 0.97 < len(sent) / len(rows) < 1.0, "about 1 % never sent"
    assert sum(o.bounced for o in sent) > 0
    assert sum(o.auto_acked for o in sent) > 0
    for o in sent:
        assert o.horizon_at is not None
        assert o.sent_at is not None
        assert (o.horizon_at - o.sent_at).total_seconds() == SYNTHETIC_WAIT_S
        assert o.censored == (o.human_response_s is None)
        if o.human_response_s is not None:
            assert 0 < o.human_response_s <= SYNTHETIC_WAIT_S
            assert o.response_s is not None
            assert o.response_s <= o.human_response_s
            assert not o.bounced
        if o.bounced:
            assert o.human_response_s is None
    for o in rows:
        if not o.was_sent:
            assert (o.state, o.response_s, o.horizon_at) == ("failed", None, None)


def test_no_reply_shares_and_heavy_tails() -> None:
    rows = synthetic_outcomes(40_000, 40, seed=2)
    groups = summarize(rows)
    no_reply = np.array([1 - (g.human_rate.value or 0) for g in groups])
    assert no_reply.min() > 0.15
    assert no_reply.max() < 0.75
    times = np.array([o.human_response_s for o in rows if o.human_response_s is not None])
    assert np.quantile(times, 0.99) > 5 * np.median(times), "heavy right tail (truncated at the horizon)"
    assert times.mean() > 1.5 * np.median(times)


def test_rejects_bad_sizes() -> None:
    assert synthetic_outcomes(0, 5) == []
    with pytest.raises(ValueError, match="targets"):
        synthetic_outcomes(10, 0)
    with pytest.raises(ValueError, match="channels"):
        synthetic_outcomes(10, 2, channels=0)
