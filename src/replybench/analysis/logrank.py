"""The log-rank test between two groups of outcomes on the time to a first human response.

The test itself is :func:`scipy.stats.logrank` (two-sided): probes without a human reply are right-censored
at their horizon (or now, while open), never dropped; probes never sent are left out. Its p-value says
whether the two groups' response-time distributions differ; :attr:`LogRankResult.faster` says in which
direction the point estimates point, whether or not the difference is significant:

* by the Kaplan–Meier **median** when both medians are reached (and differ);
* otherwise by the **restricted mean** time to a first human response up to a common horizon — the given
  one, or the shorter of the two groups' follow-ups (a group whose every probe was answered counts as
  followed for ever), so that both curves are known up to it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

from replybench.analysis.columns import Measure, OutcomeColumns
from replybench.analysis.outcome import Outcome
from replybench.analysis.survival import GroupedKM

Side = Literal["a", "b"]
Basis = Literal["median", "restricted_mean"]


@dataclass(frozen=True)
class LogRankResult:
    """The two-sided log-rank test of group A against group B, and which one answers sooner.

    ``statistic`` is scipy's signed z statistic (its square, ``chi2``, is the usual 1-df chi-square form);
    both and ``p_value`` are None when the test cannot be computed: an empty group, or no reply at a time
    when both groups still had probes waiting (the test then has no information; lifelines would say p = 1).
    ``faster`` is "a" or "b" (None on a tie or when neither estimate exists) and ``basis`` the estimate that
    decided it ("median" or "restricted_mean", at ``horizon_s``). ``median_a_s``/``median_b_s`` are the
    Kaplan–Meier medians (None: not reached); ``restricted_mean_a_s``/``_b_s`` the restricted means up to
    ``horizon_s`` (None when not estimable). ``n_*``/``events_*`` count probes and replies per group.
    """

    statistic: float | None
    chi2: float | None
    p_value: float | None
    faster: Side | None
    basis: Basis | None
    median_a_s: float | None
    median_b_s: float | None
    restricted_mean_a_s: float | None
    restricted_mean_b_s: float | None
    horizon_s: float | None
    n_a: int
    n_b: int
    events_a: int
    events_b: int

    def significant(self, alpha: float = 0.05) -> bool:
        """True when the p-value is below ``alpha`` (False when the test could not be computed)."""
        return self.p_value is not None and self.p_value < alpha


def _none(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def logrank_samples(
    durations_a: npt.ArrayLike,
    observed_a: npt.ArrayLike,
    durations_b: npt.ArrayLike,
    observed_b: npt.ArrayLike,
    *,
    horizon_s: float | None = None,
) -> LogRankResult:
    """Compare two right-censored samples with the log-rank test (``observed``: True for a reply).

    ``horizon_s`` is the restricted-mean horizon used when a median is not reached; by default the shorter
    of the two follow-ups (a sample's longest observation time, unlimited once every probe was answered).
    Raises ValueError on mismatched lengths or non-finite durations.
    """
    da, oa = np.asarray(durations_a, dtype=np.float64), np.asarray(observed_a, dtype=bool)
    db, ob = np.asarray(durations_b, dtype=np.float64), np.asarray(observed_b, dtype=bool)
    if da.shape != oa.shape or db.shape != ob.shape:
        raise ValueError("durations and observed must have the same length")
    codes = np.concatenate((np.zeros(da.size, dtype=np.int64), np.ones(db.size, dtype=np.int64)))
    km = GroupedKM(codes, np.concatenate((da, db)), np.concatenate((oa, ob)), 2)

    statistic: float | None = None
    p_value: float | None = None
    if da.size and db.size and (oa.any() or ob.any()):
        x = stats.CensoredData(uncensored=da[oa], right=da[~oa])
        y = stats.CensoredData(uncensored=db[ob], right=db[~ob])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = stats.logrank(x, y, alternative="two-sided")
        statistic, p_value = _none(float(result.statistic)), _none(float(result.pvalue))
        if statistic is None or p_value is None:
            statistic = p_value = None

    medians = km.quantile_arrays(0.5)[0]
    median_a, median_b = _none(medians[0]), _none(medians[1])
    h = horizon_s
    if h is None and da.size and db.size:
        # Each curve is known up to its last observation, or for ever once it has dropped to 0.
        last = km.survival[km.stop - 1] if km.survival.size else np.ones(2)
        ends = [math.inf if last[g] == 0.0 else float(km.times[km.stop[g] - 1]) for g in (0, 1)]
        h = min(ends) if min(ends) < math.inf else float(max(da.max(), db.max()))
    rm_a = rm_b = None
    if h is not None and h > 0:
        rmst = km.restricted_mean_arrays(h)[0]
        rm_a, rm_b = _none(rmst[0]), _none(rmst[1])
    else:
        h = None

    faster: Side | None = None
    basis: Basis | None = None
    if median_a is not None and median_b is not None and median_a != median_b:
        faster, basis = ("a" if median_a < median_b else "b"), "median"
    elif rm_a is not None and rm_b is not None and rm_a != rm_b:
        faster, basis = ("a" if rm_a < rm_b else "b"), "restricted_mean"
    return LogRankResult(
        statistic=statistic,
        chi2=None if statistic is None else statistic * statistic,
        p_value=p_value,
        faster=faster,
        basis=basis,
        median_a_s=median_a,
        median_b_s=median_b,
        restricted_mean_a_s=rm_a,
        restricted_mean_b_s=rm_b,
        horizon_s=h,
        n_a=int(da.size),
        n_b=int(db.size),
        events_a=int(oa.sum()),
        events_b=int(ob.sum()),
    )


def logrank(
    a: Sequence[Outcome],
    b: Sequence[Outcome],
    *,
    measure: Measure = "first_human",
    horizon_s: float | None = None,
) -> LogRankResult:
    """Log-rank test of two groups of outcomes on ``measure`` (default: time to first human response).

    Only sent probes with a known time enter (as in :func:`replybench.analysis.summary.timing_data`).
    ``horizon_s``: see :func:`logrank_samples`.
    """
    da, oa, ua = OutcomeColumns.from_outcomes(a).timing(measure)
    db, ob, ub = OutcomeColumns.from_outcomes(b).timing(measure)
    return logrank_samples(da[ua], oa[ua], db[ub], ob[ub], horizon_s=horizon_s)
