"""The report's section builders: categories, buckets, local-time heatmap cells, shares, sort keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from replybench.analysis.summary import km_curve
from replybench.report import sections as sec
from tests.report.sample_data import make_outcome, report_outcomes, sample_evidence

NONE = {
    "first_response_at": None,
    "first_response_class": None,
    "first_human_at": None,
    "response_s": None,
    "human_response_s": None,
    "human_response_business_s": None,
    "censored": True,
}


@pytest.mark.parametrize(
    ("overrides", "category"),
    [
        ({}, "human"),
        ({"auto_acked": True, "response_s": 5.0}, "both"),
        ({**NONE, "auto_acked": True, "response_s": 5.0, "first_response_class": "auto_ack"}, "auto"),
        ({**NONE, "response_s": 60.0, "first_response_class": "out_of_office"}, "auto"),
        ({"response_s": 60.0, "first_response_class": "out_of_office"}, "both"),
        ({**NONE, "bounced": True}, "none"),
        (NONE, "none"),
    ],
)
def test_split_category(overrides: dict[str, object], category: str) -> None:
    assert sec.split_category(make_outcome(**overrides)) == category


def test_buckets_count_every_sent_probe_once_and_stop_at_the_limit() -> None:
    outcomes = report_outcomes()
    buckets = sec.buckets(outcomes, 7 * 86400.0)
    sent = sum(o.was_sent for o in outcomes)
    assert sum(b.human for b in buckets) == sent
    assert sum(b.any_reply for b in buckets) == sent
    assert buckets[-1].censored and buckets[-1].human == 12
    assert [b.label for b in buckets][-2] == "3–7 d", "no bucket starts at or after the limit"
    assert buckets[0].any_reply > buckets[0].human == 0
    short = sec.buckets(outcomes, 3600.0)
    assert [b.label for b in short] == ["< 1 min", "1–15 min", "15 min – 1 h", "no reply by the limit"]


def test_heatmap_places_inquiries_in_the_targets_local_time() -> None:
    sunday_late_utc = datetime(2025, 3, 2, 23, 30, tzinfo=UTC)  # Monday 00:30 in Berlin
    rows = [
        make_outcome(probe_id="a", sent_at=sunday_late_utc, timezone="Europe/Berlin"),
        make_outcome(probe_id="b", sent_at=sunday_late_utc, timezone="America/New_York", **NONE),
        make_outcome(probe_id="c", sent_at=sunday_late_utc, timezone=None),
    ]
    hm = sec.heatmap(rows)
    assert hm.rows[0][0].n == 1 and hm.rows[0][0].text == "1.0h"  # Monday 00h, answered after an hour
    assert hm.rows[6][18].n == 1 and hm.rows[6][18].text == "n.r."  # Sunday 18:30 in New York, no reply
    assert hm.rows[6][23].n == 1  # no time zone: UTC
    assert hm.utc_fallback == 1
    assert hm.weekday_totals[6].n == 2 and hm.hour_totals[0].n == 1 and hm.overall.n == 3


def test_shares_and_survival_read_from_the_curve() -> None:
    curve = km_curve([10.0, 20.0, 30.0, 40.0], [True, True, False, True])
    assert sec.survival_at(curve, 5.0) == 1.0
    assert sec.answered_by(curve, 20.0) == pytest.approx(0.5)
    assert sec.answered_by(curve, 100.0) == pytest.approx(1.0)
    open_curve = km_curve([10.0, 20.0], [True, False])
    assert sec.answered_by(open_curve, 30.0) is None, "not followed that long"


def test_formatting_helpers() -> None:
    assert [sec.compact_duration(s) for s in (None, 42, 41 * 60, 2.2 * 3600, 26 * 3600, 3.1 * 86400)] == [
        "",
        "42s",
        "41m",
        "2.2h",
        "26h",
        "3.1d",
    ]
    assert sec.sort_value(None) == ""
    assert sec.sort_value(float("inf")) == "Infinity"
    assert sec.sort_value(12.5) == "12.5"
    assert sec.anchor("01J<x> y") == "probe-01J-x--y"


def test_message_views_say_what_each_message_counted_as() -> None:
    outcomes = report_outcomes()
    views = sec.message_views(sample_evidence(outcomes), outcomes)
    counted = {v.counted for v in views}
    assert counted == {"first reply", "first human reply", "after the limit", ""}
    late = next(v for v in views if v.row.after_horizon)
    assert late.counted == "after the limit"
    assert late.after.startswith("7\u00a0d")
    bounce = next(v for v in views if v.row.cls == "bounce")
    assert bounce.counted == "" and bounce.tag == "bounce"
    probe_order = [o.probe_id for o in outcomes]
    assert all(v.row.probe_id in probe_order for v in views)


def test_bounce_rows_use_the_first_bounce_message() -> None:
    outcomes = report_outcomes()
    from replybench.analysis.summary import summarize

    rows = sec.bounce_rows(outcomes, summarize(outcomes), sample_evidence(outcomes))
    (funk,) = rows
    assert (funk.label, funk.sent, funk.bounced, funk.rate) == ("FunkFix", 4, 2, "50\u00a0%")
    assert funk.detail == "Action: failed; Status: 5.1.1"
    assert "550 5.1.1" in funk.excerpt
    assert sec.bounce_rows(outcomes, summarize(outcomes), ())[0].detail == ""


def test_checkpoints_match_the_analysis() -> None:
    outcomes = report_outcomes()
    from replybench.analysis.summary import summarize

    (overall,) = summarize(outcomes, by="overall")
    shares = sec.checkpoint_shares(overall, outcomes)
    curve = sec.human_curve(outcomes)
    for (t, _), share in zip(sec.CHECKPOINTS, shares, strict=True):
        assert share.value == pytest.approx(sec.answered_by(curve, t))
