"""Compare two sets of outcomes group by group, and check the comparison against CI regression thresholds.

The two sides are called A (the baseline, e.g. the older run) and B (the candidate, e.g. the newer run).
For every group present on both sides (a target, channel, industry, …) the comparison reports:

* the human reply rate on each side (Wilson 95 % intervals), their difference B − A and the two-sided
  p-value of Fisher's exact test on the 2×2 table (replied / not replied × A / B);
* the Kaplan–Meier median of the time to first human reply on each side (:func:`~summary.km_median`);
* a **verdict** from the two-sided log-rank test (:func:`scipy.stats.logrank`) on the time to first human
  reply, probes without one right-censored at their horizon: ``better`` when B answers significantly
  sooner, ``worse`` when significantly later, ``no evidence`` otherwise. "No evidence" is not "no change":
  with few probes the test cannot see even a large change.

With more than one row (several groups, plus the pooled "All" row), p-values are Holm-adjusted by default
so that the chance of any false ``worse`` verdict in a comparison stays at most ``alpha``; a CI gate on many
targets would otherwise fail spuriously. The pooled row pools the groups present on both sides only.

Thresholds on medians and rates (:class:`Thresholds`) compare point estimates, the usual CI convention;
only the verdict is a significance test.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from scipy import stats

from replybench.analysis.outcome import Outcome
from replybench.analysis.summary import GroupBy, GroupSummary, Rate, summarize_group, timing_data
from replybench.timefmt import format_duration, parse_duration

Verdict = Literal["better", "worse", "no evidence"]
Adjust = Literal["holm", "none"]

LOGRANK = "log-rank"
FISHER = "Fisher exact"
OVERALL_KEY = "overall"


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a short label ("A"), what it is, and the runs its outcomes come from."""

    label: str
    description: str
    runs: tuple[str, ...] = ()


@dataclass(frozen=True)
class SurvivalTest:
    """The log-rank test of one group: ``statistic`` is the signed z (> 0: B answers sooner than A).

    ``pvalue`` is None when the test cannot be computed (an empty side, or no reply on either side);
    ``note`` then says why.
    """

    name: str
    statistic: float | None
    pvalue: float | None
    note: str = ""


@dataclass(frozen=True)
class GroupComparison:
    """The comparison of one group: both summaries, the rate test, the log-rank test and the verdict.

    ``pvalue`` is the log-rank p-value the verdict uses (Holm-adjusted unless adjustment is off);
    ``logrank.pvalue`` is the raw one.
    """

    key: str
    label: str
    a: GroupSummary
    b: GroupSummary
    rate_difference: float | None
    rate_test: str
    rate_pvalue: float | None
    logrank: SurvivalTest
    pvalue: float | None
    verdict: Verdict
    overall: bool = False

    @property
    def median_a_s(self) -> float | None:
        """Kaplan–Meier median time to first human reply of A (None: not reached or nothing sent)."""
        return self.a.first_human.median_s

    @property
    def median_b_s(self) -> float | None:
        """Kaplan–Meier median time to first human reply of B (None: not reached or nothing sent)."""
        return self.b.first_human.median_s

    @property
    def median_increase_s(self) -> float | None:
        """B's median minus A's, in seconds.

        ``inf`` when A's median was reached and B's was not, ``-inf`` the other way round; None when
        neither was reached or a side sent nothing.
        """
        if self.a.sent == 0 or self.b.sent == 0:
            return None
        a, b = self.median_a_s, self.median_b_s
        if a is None and b is None:
            return None
        if b is None:
            return math.inf
        if a is None:
            return -math.inf
        return b - a

    @property
    def median_increase(self) -> float | None:
        """The relative change of the median, (B − A) / A: 0.2 means 20 % slower. Infinite and None as above."""
        delta = self.median_increase_s
        a = self.median_a_s
        if delta is None or math.isinf(delta) or a is None:
            return delta
        if a == 0:
            return 0.0 if delta == 0 else math.copysign(math.inf, delta)
        return delta / a


@dataclass(frozen=True)
class Comparison:
    """Group-by-group comparison of side A with side B (see the module docstring for the statistics)."""

    a: Side
    b: Side
    by: GroupBy
    alpha: float
    adjust: Adjust
    groups: tuple[GroupComparison, ...]
    only_a: tuple[str, ...] = ()
    only_b: tuple[str, ...] = ()

    @property
    def tests(self) -> int:
        """How many log-rank tests could be computed (the size of the Holm family)."""
        return sum(1 for g in self.groups if g.logrank.pvalue is not None)


# --------------------------------------------------------------------------------------------- statistics


def _key(outcome: Outcome, by: GroupBy) -> tuple[str, str]:
    if by == "target":
        return outcome.target_id, outcome.target_name or outcome.target_id
    if by == "channel":
        return outcome.channel, outcome.channel
    if by == "industry":
        return outcome.industry, outcome.industry
    if by == "suite":
        return outcome.suite, outcome.suite
    if by == "overall":
        return OVERALL_KEY, "All"
    raise ValueError(f"cannot group by {by!r}; expected target, channel, industry, suite or overall")


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def logrank_test(a: Sequence[Outcome], b: Sequence[Outcome]) -> SurvivalTest:
    """Two-sided log-rank test of the time to first human reply, A against B, with censoring.

    Only sent probes enter; one without a human reply is censored at its horizon (or at "now" while it is
    still open). The signed statistic is positive when B's replies come sooner than expected under equal
    distributions.
    """
    da, oa, _ = timing_data(a, "first_human")
    db, ob, _ = timing_data(b, "first_human")
    if not da or not db:
        return SurvivalTest(LOGRANK, None, None, "a side has no sent probe")
    if not any(oa) and not any(ob):
        return SurvivalTest(LOGRANK, None, None, "no human reply on either side")

    def data(d: list[float], o: list[bool]) -> Any:
        values, flags = np.asarray(d, dtype=float), np.asarray(o, dtype=bool)
        return stats.CensoredData(uncensored=values[flags], right=values[~flags])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.logrank(data(db, ob), data(da, oa))
    statistic, pvalue = _finite(float(result.statistic)), _finite(float(result.pvalue))
    if statistic is None or pvalue is None:
        return SurvivalTest(LOGRANK, None, None, "no variance: every reply at the same time")
    return SurvivalTest(LOGRANK, statistic, pvalue)


def fisher_test(a: Rate, b: Rate) -> float | None:
    """Two-sided p-value of Fisher's exact test that two rates are equal; None if a side has n = 0."""
    if a.n == 0 or b.n == 0:
        return None
    table = [[a.k, a.n - a.k], [b.k, b.n - b.k]]
    return float(stats.fisher_exact(table).pvalue)


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p-values (None entries are skipped and stay None; the family is the rest)."""
    present = sorted((p, i) for i, p in enumerate(pvalues) if p is not None)
    m = len(present)
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(present):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


def _verdict(test: SurvivalTest, pvalue: float | None, alpha: float) -> Verdict:
    if pvalue is None or test.statistic is None or pvalue >= alpha or test.statistic == 0:
        return "no evidence"
    return "better" if test.statistic > 0 else "worse"


def _compare_group(
    key: str, label: str, a: Sequence[Outcome], b: Sequence[Outcome], *, overall: bool = False
) -> GroupComparison:
    sa, sb = summarize_group(key, label, a), summarize_group(key, label, b)
    ra, rb = sa.human_rate, sb.human_rate
    diff = None if ra.value is None or rb.value is None else rb.value - ra.value
    test = logrank_test(a, b)
    return GroupComparison(
        key=key,
        label=label,
        a=sa,
        b=sb,
        rate_difference=diff,
        rate_test=FISHER,
        rate_pvalue=fisher_test(ra, rb),
        logrank=test,
        pvalue=test.pvalue,
        verdict="no evidence",
        overall=overall,
    )


def compare_outcomes(
    a: Sequence[Outcome],
    b: Sequence[Outcome],
    *,
    by: GroupBy = "target",
    alpha: float = 0.05,
    adjust: Adjust = "holm",
    side_a: Side | None = None,
    side_b: Side | None = None,
) -> Comparison:
    """Compare outcomes A with outcomes B per group (``by``), plus a pooled "All" row when there are several.

    Groups present on one side only are listed in ``only_a`` / ``only_b`` and left out of every row.
    Raises ValueError for an ``alpha`` outside (0, 1) or an unknown ``adjust``.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    if adjust not in ("holm", "none"):
        raise ValueError(f"adjust must be 'holm' or 'none', got {adjust!r}")
    groups_a: dict[str, list[Outcome]] = {}
    groups_b: dict[str, list[Outcome]] = {}
    labels: dict[str, str] = {}
    for rows, groups in ((a, groups_a), (b, groups_b)):
        for o in rows:
            key, label = _key(o, by)
            groups.setdefault(key, []).append(o)
            labels.setdefault(key, label)
    common = sorted(set(groups_a) & set(groups_b), key=lambda k: (labels[k].casefold(), k))
    rows_out = [
        _compare_group(k, labels[k], groups_a[k], groups_b[k], overall=by == "overall") for k in common
    ]
    if len(common) > 1:
        pooled_a = [o for k in common for o in groups_a[k]]
        pooled_b = [o for k in common for o in groups_b[k]]
        rows_out.append(_compare_group(OVERALL_KEY, "All", pooled_a, pooled_b, overall=True))
    raw = [g.logrank.pvalue for g in rows_out]
    used = holm(raw) if adjust == "holm" else raw
    final = tuple(
        replace(g, pvalue=p, verdict=_verdict(g.logrank, p, alpha))
        for g, p in zip(rows_out, used, strict=True)
    )

    def only(mine: dict[str, list[Outcome]], other: dict[str, list[Outcome]]) -> tuple[str, ...]:
        return tuple(sorted((labels[k] for k in mine if k not in other), key=str.casefold))

    return Comparison(
        a=side_a or Side("A", "A"),
        b=side_b or Side("B", "B"),
        by=by,
        alpha=alpha,
        adjust=adjust,
        groups=final,
        only_a=only(groups_a, groups_b),
        only_b=only(groups_b, groups_a),
    )


# --------------------------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class Thresholds:
    """Regression thresholds of a CI gate; each applies to every row of a comparison (the "All" row too).

    ``max_median_increase`` is relative (0.2: B's median may be at most 20 % above A's),
    ``max_median_increase_s`` absolute seconds, ``max_rate_drop`` a share (0.1: the human reply rate may
    fall by at most 10 percentage points). A median that was reached in A but not in B is an infinite
    increase. Rows where a side sent nothing are never breached.
    """

    fail_on_worse: bool = False
    max_median_increase: float | None = None
    max_median_increase_s: float | None = None
    max_rate_drop: float | None = None

    @property
    def any(self) -> bool:
        """True when at least one threshold is set."""
        return (
            self.fail_on_worse
            or self.max_median_increase is not None
            or self.max_median_increase_s is not None
            or self.max_rate_drop is not None
        )


BreachRule = Literal["worse", "median_increase", "rate_drop"]
"""Which threshold a breach broke."""


@dataclass(frozen=True)
class Breach:
    """One threshold breached by one row of a comparison."""

    key: str
    label: str
    rule: BreachRule
    message: str
    overall: bool = False


_PERCENT = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*(%|pp)\s*$")


def parse_increase(text: str) -> tuple[float | None, float | None]:
    """Parse a median-increase limit: "20%" → (0.2, None) relative; "30m" / "90s" → (None, 1800.0) absolute.

    Raises ValueError on anything else (or a negative limit).
    """
    m = _PERCENT.match(text)
    if m and m.group(2) == "%":
        value = float(m.group(1)) / 100.0
        if value < 0:
            raise ValueError(f"the increase limit must not be negative, got {text!r}")
        return value, None
    try:
        return None, parse_duration(text).total_seconds()
    except ValueError:
        raise ValueError(f"expected a percentage like '20%' or a duration like '30m', got {text!r}") from None


def parse_share(text: str) -> float:
    """Parse a rate-drop limit: "10%" or "10pp" (percentage points) or a share "0.1" → 0.1.

    Raises ValueError outside [0, 1].
    """
    m = _PERCENT.match(text)
    try:
        value = float(m.group(1)) / 100.0 if m else float(text)
    except ValueError:
        raise ValueError(
            f"expected percentage points like '10%' or a share like '0.1', got {text!r}"
        ) from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"the rate drop limit must be between 0 and 100 %, got {text!r}")
    return value


def _pct(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value * 100:+.0f} %"


def _secs(value: float | None) -> str:
    return "not reached" if value is None else format_duration(value)


def check_thresholds(comparison: Comparison, thresholds: Thresholds) -> list[Breach]:
    """Every threshold breached by a row of ``comparison`` (empty when all pass or none is set)."""
    out: list[Breach] = []
    for g in comparison.groups:

        def breach(rule: BreachRule, message: str, g: GroupComparison = g) -> None:
            out.append(Breach(key=g.key, label=g.label, overall=g.overall, rule=rule, message=message))

        if thresholds.fail_on_worse and g.verdict == "worse":
            breach(
                "worse",
                f"{g.label}: {comparison.b.label} answers later than {comparison.a.label} "
                f"({g.logrank.name} {p_text(g.pvalue)}, α = {comparison.alpha:g})",
            )
        rel, delta = g.median_increase, g.median_increase_s
        medians = f"median {_secs(g.median_a_s)} → {_secs(g.median_b_s)}"
        limit_rel, limit_s = thresholds.max_median_increase, thresholds.max_median_increase_s
        if limit_rel is not None and rel is not None and rel > limit_rel:
            breach("median_increase", f"{g.label}: {medians} ({_pct(rel)}, limit +{limit_rel * 100:g} %)")
        if limit_s is not None and delta is not None and delta > limit_s:
            breach("median_increase", f"{g.label}: {medians} (limit +{_secs(limit_s)})")
        drop = None if g.rate_difference is None else -g.rate_difference
        max_drop = thresholds.max_rate_drop
        if max_drop is not None and drop is not None and drop > max_drop + 1e-12:
            breach(
                "rate_drop",
                f"{g.label}: human reply rate {g.a.human_rate.value:.0%} → {g.b.human_rate.value:.0%} "
                f"(−{drop * 100:.0f} pp, limit −{max_drop * 100:g} pp)",
            )
    return out


@dataclass(frozen=True)
class ComparisonReport:
    """A comparison with the thresholds it was checked against and what they found."""

    comparison: Comparison
    thresholds: Thresholds = field(default_factory=Thresholds)
    breaches: tuple[Breach, ...] = ()

    @property
    def failed(self) -> bool:
        """True when a threshold was breached (the CLI then exits with code 1)."""
        return bool(self.breaches)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict. Infinite median changes are written as null (see ``median_*_s``)."""
        c = self.comparison
        return {
            "a": _side(c.a),
            "b": _side(c.b),
            "by": c.by,
            "alpha": c.alpha,
            "adjust": c.adjust,
            "test": LOGRANK,
            "rate_test": FISHER,
            "groups": [_group_dict(g) for g in c.groups],
            "only_a": list(c.only_a),
            "only_b": list(c.only_b),
            "thresholds": {
                "fail_on_worse": self.thresholds.fail_on_worse,
                "max_median_increase": self.thresholds.max_median_increase,
                "max_median_increase_s": self.thresholds.max_median_increase_s,
                "max_rate_drop": self.thresholds.max_rate_drop,
            },
            "breaches": [
                {"key": b.key, "label": b.label, "overall": b.overall, "rule": b.rule, "message": b.message}
                for b in self.breaches
            ],
            "failed": self.failed,
        }


def check(comparison: Comparison, thresholds: Thresholds) -> ComparisonReport:
    """Check ``comparison`` against ``thresholds``."""
    return ComparisonReport(comparison, thresholds, tuple(check_thresholds(comparison, thresholds)))


# --------------------------------------------------------------------------------------------- output helpers


def format_p(p: float | None) -> str:
    """Format a p-value: "0.003", "<0.001", "0.63"; "—" when there is none."""
    if p is None:
        return "—"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def p_text(p: float | None, *, spaced: bool = True) -> str:
    """Write a p-value as a clause: "p = 0.003", "p < 0.001", "p = —" (``spaced=False``: "p=0.003")."""
    text = format_p(p)
    op = "<" if text.startswith("<") else "="
    value = text.removeprefix("<")
    return f"p {op} {value}" if spaced else f"p{op}{value}"


def _json_float(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _rate_dict(rate: Rate) -> dict[str, Any]:
    return {"k": rate.k, "n": rate.n, "value": rate.value, "low": rate.low, "high": rate.high}


def _side(side: Side) -> dict[str, Any]:
    return {"label": side.label, "description": side.description, "runs": list(side.runs)}


def _summary_dict(s: GroupSummary) -> dict[str, Any]:
    est = s.first_human
    return {
        "planned": s.planned,
        "sent": s.sent,
        "censored": s.censored,
        "human_rate": _rate_dict(s.human_rate),
        "median_s": est.median_s,
        "median_low_s": est.low_s,
        "median_high_s": est.high_s,
    }


def _group_dict(g: GroupComparison) -> dict[str, Any]:
    return {
        "key": g.key,
        "label": g.label,
        "overall": g.overall,
        "a": _summary_dict(g.a),
        "b": _summary_dict(g.b),
        "rate_difference": g.rate_difference,
        "rate_test": g.rate_test,
        "rate_pvalue": g.rate_pvalue,
        "median_increase_s": _json_float(g.median_increase_s),
        "median_increase": _json_float(g.median_increase),
        "test": g.logrank.name,
        "statistic": g.logrank.statistic,
        "pvalue_raw": g.logrank.pvalue,
        "pvalue": g.pvalue,
        "test_note": g.logrank.note,
        "verdict": g.verdict,
    }
