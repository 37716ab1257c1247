"""Comparing two sets of outcomes: verdicts from the log-rank test, rate tests, Holm adjustment, thresholds."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from scipy import stats

from replybench.analysis.compare import (
    Thresholds,
    check,
    check_thresholds,
    compare_outcomes,
    fisher_test,
    format_p,
    holm,
    logrank_test,
    parse_increase,
    parse_share,
)
from replybench.analysis.outcome import Outcome
from replybench.analysis.summary import wilson

# --------------------------------------------------------------------------------------------- builders
# (test_sla.py imports these too)

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
_ids = itertools.count()


def outcome(
    *,
    human_s: float | None = None,
    response_s: float | None = None,
    wait_s: float = 100.0,
    observed_s: float | None = None,
    target: str = "acme",
    channel: str = "email",
    industry: str = "retail",
    run: str = "run-a",
    sent: bool = True,
    business_s: float | None = None,
    horizon_business_s: float | None = None,
) -> Outcome:
    """One probe: a human reply after ``human_s`` (None: none by the horizon ``wait_s``).

    ``response_s`` defaults to ``human_s``; ``observed_s`` (< ``wait_s``) marks a probe still open, followed
    for that long so far.
    """
    n = next(_ids)
    sent_at = T0 + timedelta(minutes=n) if sent else None
    horizon = sent_at + timedelta(seconds=wait_s) if sent_at else None
    observed = sent_at + timedelta(seconds=observed_s) if sent_at and observed_s is not None else horizon
    if response_s is None:
        response_s = human_s
    first = sent_at + timedelta(seconds=response_s) if sent_at and response_s is not None else None
    human = sent_at + timedelta(seconds=human_s) if sent_at and human_s is not None else None
    return Outcome(
        probe_id=f"p{n}",
        run_id=run,
        suite="suite",
        target_id=target,
        target_name=f"{target.title()} Ltd",
        industry=industry,
        channel=channel,
        script_id="q0",
        persona_id="ann",
        state="closed" if sent else "failed",
        sent_at=sent_at,
        sent_clock=None,
        first_response_at=first if sent else None,
        first_response_class=("human" if response_s == human_s else "auto_ack") if first else None,
        first_human_at=human if sent else None,
        bounced=False,
        censored=sent and human_s is None,
        horizon_at=horizon,
        response_s=response_s if sent else None,
        human_response_s=human_s if sent else None,
        human_response_business_s=business_s if sent else None,
        quality=None,
        auto_acked=first is not None and response_s != human_s,
        observed_until=observed,
        horizon_business_s=horizon_business_s,
    )


def many(times: Sequence[float | None], **kwargs: object) -> list[Outcome]:
    """One outcome per entry of ``times`` (a human reply time, or None for no reply)."""
    return [outcome(human_s=t, **kwargs) for t in times]  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------- tests

FAST = [float(t) for t in range(1, 21)]  # 20 replies after 1..20 s
SLOW = [float(t) for t in range(40, 60)]  # 20 replies after 40..59 s


def test_clearly_slower_b_is_worse_and_faster_b_is_better() -> None:
    a = many(FAST, run="a")
    b = many([*SLOW[:15], None, None, None, None, None], run="b")
    worse = compare_outcomes(a, b, by="target").groups[0]
    assert worse.verdict == "worse"
    assert worse.pvalue is not None and worse.pvalue < 0.05
    assert worse.logrank.statistic is not None and worse.logrank.statistic < 0
    assert worse.logrank.name == "log-rank"
    better = compare_outcomes(b, a, by="target").groups[0]
    assert better.verdict == "better"
    assert better.pvalue == pytest.approx(worse.pvalue)


def test_identical_distributions_give_no_evidence() -> None:
    a = many([*FAST, None, None], run="a")
    b = many([*FAST, None, None], run="b")
    g = compare_outcomes(a, b, by="target").groups[0]
    assert g.verdict == "no evidence"
    assert g.pvalue == pytest.approx(1.0)
    assert g.rate_difference == 0.0 and g.rate_pvalue == pytest.approx(1.0)
    assert g.median_increase == 0.0


def test_censored_probes_count_as_waiting_not_as_dropped() -> None:
    # B answers the same first half as fast as A, the other half never: dropping the unanswered probes
    # would make B look faster; with censoring at the horizon B is clearly worse.
    a = many(FAST, run="a")
    b = many([*FAST[:10], *([None] * 10)], run="b")
    g = compare_outcomes(a, b).groups[0]
    assert g.verdict == "worse"
    assert g.b.first_human.median_s is not None  # 10/20 answered: the curve reaches one half at 10 s
    naive = stats.logrank(FAST[:10], FAST)  # B without its unanswered probes against A
    assert naive.pvalue < 0.05 and naive.statistic > 0  # would have called B significantly *faster*


def test_probes_still_open_are_censored_where_they_are() -> None:
    # B's replies come exactly as A's; B also has probes still open after 0.5 s, before any reply was
    # due. They leave the risk set early and must not turn into a "worse" verdict.
    a = many(FAST, run="a")
    b = many(FAST, run="b") + [outcome(human_s=None, observed_s=0.5, run="b") for _ in range(10)]
    g = compare_outcomes(a, b).groups[0]
    assert g.verdict == "no evidence"
    assert g.pvalue is not None and g.pvalue > 0.5


def test_probes_never_sent_are_left_out() -> None:
    a = many(FAST, run="a")
    b = many(FAST, run="b") + [outcome(sent=False, run="b") for _ in range(30)]
    g = compare_outcomes(a, b).groups[0]
    assert (g.a.sent, g.b.sent, g.b.planned) == (20, 20, 50)
    assert g.verdict == "no evidence" and g.rate_difference == 0.0


def test_untestable_groups_say_why() -> None:
    silent = compare_outcomes(many([None] * 5, run="a"), many([None] * 5, run="b")).groups[0]
    assert silent.pvalue is None and silent.verdict == "no evidence"
    assert "no human reply" in silent.logrank.note
    unsent = logrank_test(many([1.0]), [outcome(sent=False)])
    assert unsent.pvalue is None and "no sent probe" in unsent.note
    assert fisher_test(wilson(1, 2), wilson(0, 0)) is None


def test_groups_only_on_one_side_are_listed_not_compared_and_all_row_pools_common_ones() -> None:
    a = many(FAST, target="acme", run="a") + many(FAST, target="globex", run="a") + many([1.0], target="old")
    b = many(SLOW, target="acme", run="b") + many(FAST, target="globex", run="b") + many([1.0], target="new")
    c = compare_outcomes(a, b, by="target", adjust="none")
    assert [g.key for g in c.groups] == ["acme", "globex", "overall"]
    assert c.only_a == ("Old Ltd",) and c.only_b == ("New Ltd",)
    pooled = c.groups[-1]
    assert pooled.overall and pooled.label == "All"
    assert (pooled.a.sent, pooled.b.sent) == (40, 40)  # "old" and "new" are not pooled
    assert [g.verdict for g in c.groups] == ["worse", "no evidence", "worse"]


def test_single_group_has_no_all_row_and_by_channel_groups_channels() -> None:
    a = many(FAST, channel="email", run="a")
    b = many(FAST, channel="email", run="b")
    assert [g.key for g in compare_outcomes(a, b, by="target").groups] == ["acme"]
    c = compare_outcomes(a + many(FAST, channel="webform"), b + many(SLOW, channel="webform"), by="channel")
    assert [(g.key, g.verdict) for g in c.groups] == [
        ("email", "no evidence"),
        ("webform", "worse"),
        ("overall", "worse"),
    ]


def test_holm_adjustment_controls_the_family() -> None:
    assert holm([0.01, 0.04, None, 0.03]) == pytest.approx([0.03, 0.06, None, 0.06])
    assert holm([0.2, 0.9]) == pytest.approx([0.4, 0.9])
    assert holm([0.5, 0.9]) == [1.0, 1.0]  # capped at 1, monotone
    assert holm([]) == []
    # a borderline difference in one of several groups: significant alone, not after adjustment
    a = many(FAST[:8], target="t0", run="a")
    b = many([x + 3 for x in FAST[:8]], target="t0", run="b")
    for i in range(1, 6):
        a += many(FAST, target=f"t{i}", run="a")
        b += many(FAST, target=f"t{i}", run="b")
    raw = compare_outcomes(a, b, adjust="none").groups[0]
    adjusted = compare_outcomes(a, b, adjust="holm").groups[0]
    assert raw.logrank.pvalue == adjusted.logrank.pvalue
    assert raw.pvalue is not None and adjusted.pvalue is not None
    assert raw.pvalue < 0.05 <= adjusted.pvalue
    assert (raw.verdict, adjusted.verdict) == ("worse", "no evidence")


def test_alpha_is_configurable_and_validated() -> None:
    a = many(FAST[:8], run="a")
    b = many([x + 3 for x in FAST[:8]], run="b")
    p = compare_outcomes(a, b).groups[0].pvalue
    assert p is not None and 0.01 < p < 0.05
    assert compare_outcomes(a, b, alpha=0.01).groups[0].verdict == "no evidence"
    assert compare_outcomes(a, b, alpha=0.05).groups[0].verdict == "worse"
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match="alpha"):
            compare_outcomes(a, b, alpha=bad)


def test_rate_difference_uses_fisher_exact() -> None:
    a = many([1.0] * 18 + [None] * 2, run="a")
    b = many([1.0] * 6 + [None] * 14, run="b")
    g = compare_outcomes(a, b).groups[0]
    assert g.rate_difference == pytest.approx(0.3 - 0.9)
    assert g.rate_test == "Fisher exact"
    assert g.rate_pvalue == pytest.approx(stats.fisher_exact([[18, 2], [6, 14]]).pvalue)
    assert g.rate_pvalue < 0.001


def test_median_change_relative_absolute_and_not_reached() -> None:
    g = compare_outcomes(many([10.0] * 5, run="a"), many([13.0] * 5, run="b")).groups[0]
    assert g.median_increase_s == pytest.approx(3.0) and g.median_increase == pytest.approx(0.3)
    lost = compare_outcomes(many([10.0] * 5, run="a"), many([None] * 5, run="b")).groups[0]
    assert lost.median_b_s is None and lost.median_increase == math.inf
    gained = compare_outcomes(many([None] * 5, run="a"), many([10.0] * 5, run="b")).groups[0]
    assert gained.median_increase == -math.inf
    neither = compare_outcomes(many([None] * 5, run="a"), many([None] * 5, run="b")).groups[0]
    assert neither.median_increase is None


def test_thresholds_fail_on_worse_median_increase_and_rate_drop() -> None:
    a = many([*FAST, *FAST], run="a")
    b = many([*SLOW, *FAST[:10], *([None] * 10)], run="b")
    c = compare_outcomes(a, b)
    assert check_thresholds(c, Thresholds()) == []
    breaches = check_thresholds(
        c,
        Thresholds(fail_on_worse=True, max_median_increase=0.2, max_median_increase_s=60, max_rate_drop=0.1),
    )
    assert [b.rule for b in breaches] == ["worse", "median_increase", "rate_drop"]
    assert "log-rank p" in breaches[0].message and "Acme Ltd" in breaches[0].message
    assert "limit −10 pp" in breaches[2].message
    # generous limits pass
    assert check_thresholds(c, Thresholds(max_median_increase=100.0, max_rate_drop=0.5)) == []
    report = check(c, Thresholds(fail_on_worse=True))
    assert report.failed and len(report.breaches) == 1


def test_no_evidence_does_not_fail_on_worse_and_an_empty_side_never_breaches() -> None:
    c = compare_outcomes(many(FAST[:2], run="a"), many(SLOW[:2], run="b"))
    assert c.groups[0].verdict == "no evidence"  # too few probes to tell, however large the change
    assert check(c, Thresholds(fail_on_worse=True)).breaches == ()
    empty = compare_outcomes(many(FAST, run="a"), [outcome(sent=False, run="b")])
    assert (
        check(empty, Thresholds(fail_on_worse=True, max_median_increase=0.0, max_rate_drop=0.0)).breaches
        == ()
    )


def test_report_to_dict_is_strict_json_even_with_infinite_changes() -> None:
    c = compare_outcomes(many(FAST, run="a"), many([None] * 20, run="b"))
    report = check(c, Thresholds(fail_on_worse=True, max_median_increase=0.2))
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    group = data["groups"][0]
    assert group["median_increase"] is None and group["b"]["median_s"] is None
    assert group["verdict"] == "worse" and group["test"] == "log-rank" and group["pvalue"] < 0.05
    assert data["failed"] is True and {b["rule"] for b in data["breaches"]} == {"worse", "median_increase"}


def test_parse_threshold_text() -> None:
    assert parse_increase("20%") == (pytest.approx(0.2), None)
    assert parse_increase("30m") == (None, 1800.0)
    assert parse_increase("1h30m") == (None, 5400.0)
    assert parse_share("10%") == pytest.approx(0.1)
    assert parse_share("10pp") == pytest.approx(0.1)
    assert parse_share("0.25") == pytest.approx(0.25)
    for bad in ("fast", "-5%", "%"):
        with pytest.raises(ValueError, match=r"expected|negative"):
            parse_increase(bad)
    for bad in ("150%", "2", "x"):
        with pytest.raises(ValueError, match=r"expected|between"):
            parse_share(bad)


def test_format_p() -> None:
    assert [format_p(p) for p in (None, 0.0004, 0.0042, 0.63)] == ["—", "<0.001", "0.004", "0.63"]
