"""SLA evaluation: met / missed / undetermined probes, the point-estimate rule, business time, edge cases."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from replybench.analysis.outcome import Outcome
from replybench.analysis.sla import (
    SlaResult,
    describe_sla,
    evaluate_sla,
    evaluate_slas,
    probe_verdict,
    slas_from_snapshot,
)
from replybench.models import SLA, Suite
from tests.analysis.test_compare import many, outcome

HOUR = 3600.0


def sla(**kwargs: object) -> SLA:
    return SLA.model_validate({"within": "1h", **kwargs})


def overall(results: list[SlaResult]) -> SlaResult:
    return next(r for r in results if r.overall)


def test_reply_within_the_window_meets_later_or_none_misses() -> None:
    s = sla()
    assert probe_verdict(outcome(human_s=HOUR), s) == "met"  # exactly at the limit counts
    assert probe_verdict(outcome(human_s=HOUR + 1), s) == "missed"
    assert probe_verdict(outcome(human_s=None, wait_s=2 * HOUR), s) == "missed"
    with pytest.raises(ValueError, match="never sent"):
        probe_verdict(outcome(sent=False), s)


def test_unanswered_probe_followed_for_less_than_the_window_is_undetermined() -> None:
    s = sla()
    assert probe_verdict(outcome(human_s=None, wait_s=HOUR / 2), s) == "undetermined"  # wait < within
    assert probe_verdict(outcome(human_s=None, wait_s=2 * HOUR, observed_s=600), s) == "undetermined"  # open
    assert probe_verdict(outcome(human_s=None, wait_s=2 * HOUR, observed_s=HOUR), s) == "missed"


def test_measure_any_counts_an_auto_acknowledgement() -> None:
    acked = outcome(human_s=None, response_s=5.0, wait_s=2 * HOUR)
    assert probe_verdict(acked, sla(measure="any")) == "met"
    assert probe_verdict(acked, sla(measure="human")) == "missed"


def test_point_estimate_is_compared_with_the_target_rate() -> None:
    nine_of_ten = many([60.0] * 9 + [None], wait_s=2 * HOUR)
    result = overall(evaluate_sla(nine_of_ten, sla(target_rate=0.9)))
    assert (result.met, result.n, result.status) == (9, 10, "met")
    assert result.rate.low is not None and result.rate.low < 0.9  # the interval does not decide
    eight_of_ten = many([60.0] * 8 + [None] * 2, wait_s=2 * HOUR)
    result = overall(evaluate_sla(eight_of_ten, sla(target_rate=0.9)))
    assert (result.met, result.missed, result.status) == (8, 2, "breached")
    assert result.rate.high is not None and result.rate.high > 0.9
    assert "80 % (8/10" in result.message() and "breached" in result.message()


def test_undetermined_probes_decide_the_status_only_when_they_could_flip_it() -> None:
    # 8 met, 1 missed, 1 still open: 80 % now, 90 % at best
    still_open = outcome(human_s=None, wait_s=2 * HOUR, observed_s=60)
    rows = [*many([60.0] * 8 + [None], wait_s=2 * HOUR), still_open]
    assert overall(evaluate_sla(rows, sla(target_rate=0.9))).status == "undetermined"
    assert overall(evaluate_sla(rows, sla(target_rate=0.8))).status == "met"
    assert overall(evaluate_sla(rows, sla(target_rate=0.95))).status == "breached"
    report = evaluate_slas(rows, [sla(target_rate=0.9)])
    assert not report.failed
    strict = evaluate_slas(rows, [sla(target_rate=0.9)], strict=True)
    assert strict.failed and strict.failures[0].status == "undetermined"


def test_no_sent_probes_is_no_data_not_a_breach() -> None:
    results = evaluate_sla([outcome(sent=False), outcome(sent=False)], sla())
    assert [(r.key, r.n, r.status, r.rate.value) for r in results] == [
        ("acme", 0, "no data", None),
        ("overall", 0, "no data", None),
    ]
    assert "no probe sent" in results[0].message()
    assert [r.status for r in evaluate_sla([], sla())] == ["no data"]
    report = evaluate_slas([], [sla()])
    assert not report.failed
    assert evaluate_slas([], [sla()], strict=True).failed


def test_per_target_results_and_channel_filter() -> None:
    rows = (
        many([60.0, 60.0], target="acme", wait_s=2 * HOUR)
        + many([None, None], target="globex", wait_s=2 * HOUR)
        + many([None] * 5, target="acme", channel="webform", wait_s=2 * HOUR)
    )
    results = evaluate_sla(rows, sla(target_rate=0.5))
    assert [(r.label, r.met, r.n, r.status) for r in results] == [
        ("Acme Ltd", 2, 2, "met"),
        ("Globex Ltd", 0, 2, "breached"),
        ("All targets", 2, 4, "met"),
    ]
    webform = evaluate_sla(rows, sla(channel="webform", target_rate=0.5))
    assert [(r.key, r.n, r.status) for r in webform] == [("acme", 5, "breached"), ("overall", 5, "breached")]


def test_business_time_uses_business_seconds_not_calendar() -> None:
    s = sla(business_time=True)
    # answered 16 h later in calendar time, but after only 30 business minutes (overnight)
    overnight = outcome(human_s=16 * HOUR, business_s=1800.0, wait_s=48 * HOUR)
    assert probe_verdict(overnight, s) == "met"
    assert probe_verdict(overnight, sla()) == "missed"
    # answered after 50 calendar minutes that were all business time, plus more: 2 business hours
    slow = outcome(human_s=50 * 60.0, business_s=2 * HOUR, wait_s=48 * HOUR)
    assert probe_verdict(slow, s) == "missed"
    # unanswered: missed once followed for at least the window in business time, else undetermined
    weekend = outcome(human_s=None, wait_s=48 * HOUR, horizon_business_s=0.0)
    assert probe_verdict(weekend, s) == "undetermined"
    assert probe_verdict(weekend, sla()) == "missed"
    followed = outcome(human_s=None, wait_s=48 * HOUR, horizon_business_s=9 * HOUR)
    assert probe_verdict(followed, s) == "missed"


def test_business_time_unknown_is_undetermined_unless_a_clock_is_given() -> None:
    s = sla(business_time=True)
    unknown = outcome(human_s=600.0, business_s=None, wait_s=48 * HOUR)
    assert probe_verdict(unknown, s) == "undetermined"
    calls: list[tuple[str, datetime]] = []

    def clock(o: Outcome, at: datetime) -> float:
        calls.append((o.probe_id, at))
        assert o.sent_at is not None
        return (at - o.sent_at).total_seconds() / 2

    assert probe_verdict(unknown, s, clock) == "met"
    assert calls == [(unknown.probe_id, unknown.first_human_at)]
    # "any reply" in business time: the row carries no business time of the first reply, the clock does
    acked = outcome(human_s=None, response_s=1.5 * HOUR, wait_s=48 * HOUR, horizon_business_s=20 * HOUR)
    assert probe_verdict(acked, sla(measure="any", business_time=True)) == "undetermined"
    assert probe_verdict(acked, sla(measure="any", business_time=True), clock) == "met"  # 45 business min


def test_snapshot_round_trip_and_report_json() -> None:
    suite = Suite.model_validate(
        {
            "id": "s",
            "targets": ["*"],
            "scripts": ["q"],
            "personas": ["ann"],
            "slas": [
                {"within": "4h", "business_time": True, "target_rate": 0.5},
                {"within": "15m", "measure": "any"},
            ],
        }
    )
    slas = slas_from_snapshot({"suite": suite.model_dump(mode="json")})
    assert [s.within for s in slas] == [timedelta(hours=4), timedelta(minutes=15)]
    assert slas[0].business_time and slas[1].measure == "any"
    assert slas_from_snapshot({}) == []
    assert describe_sla(slas[0]) == "≥ 50 % human reply within 4 h (business time) on email"
    assert describe_sla(slas[1]) == "≥ 90 % any reply within 15 min on email"
    rows = [
        outcome(human_s=60.0, business_s=60.0, wait_s=5 * HOUR),
        outcome(human_s=None, wait_s=5 * HOUR, horizon_business_s=5 * HOUR),
    ]
    report = evaluate_slas(rows, slas, suite="s", runs=["r1"])
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert [s["id"] for s in data["slas"]] == ["sla1", "sla2"]
    assert data["slas"][0]["within"] == 4 * HOUR
    assert [(r["sla"], r["key"], r["status"]) for r in data["results"]] == [
        ("sla1", "acme", "met"),
        ("sla1", "overall", "met"),
        ("sla2", "acme", "breached"),
        ("sla2", "overall", "breached"),
    ]
    assert data["failed"] is True and "point estimate" in data["rule"]
