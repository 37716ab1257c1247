"""The responsiveness index (0–100): one number combining human response rate, speed and, when scored, quality.

Definition (:data:`INDEX_FORMULA` is the text the reports print in their Methods section)::

    index = 100 × (W_RATE·R + W_SPEED·S + W_QUALITY·Q) / (W_RATE + W_SPEED + W_QUALITY)

    R = share of probes answered by a person within the horizon h: 1 − Ŝ(h), Ŝ the Kaplan–Meier curve of
        the time to a first human response (with every probe followed to h, simply answered / sent)
    S = speed = 1 − RMST(h) / h, RMST(h) the restricted mean time to a first human response up to h (the
        area under Ŝ from 0 to h; a probe not answered within h counts as h). S is the share of the waiting
        window still left when the answer arrives, averaged over probes: 0 when nobody answers, 1 when every
        probe is answered at once
    Q = mean quality of the scored probes (their 0–100 rubric score / 100), in [0, 1]; when no reply was
        scored, Q and W_QUALITY are left out of numerator and denominator

with the weights :data:`W_RATE` = 0.4, :data:`W_SPEED` = 0.4, :data:`W_QUALITY` = 0.2 and ``h`` the common
horizon of the comparison (the shortest wait limit among the probes compared), stated next to the index.

Properties: the index lies in [0, 100]; a target that never answers scores 0 (R = S = 0, and no reply can be
scored); one answering every probe instantly with perfect quality scores 100. For probes followed up to the
horizon (the normal case once a run is finished), a faster reply or an extra reply never lowers R or S, so
never lowers the index with quality unchanged. (While probes are still open, the Kaplan–Meier estimate
redistributes the weight of the open ones, and that monotonicity holds only approximately.) Quality is
reported and weighted separately: a new reply of poor quality can lower Q.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from replybench.analysis.columns import OutcomeColumns
from replybench.analysis.outcome import Outcome
from replybench.analysis.survival import GroupedKM

FloatArray = npt.NDArray[np.float64]

W_RATE = 0.4
"""Weight of the human response rate R in the responsiveness index."""
W_SPEED = 0.4
"""Weight of the speed score S (1 − RMST(h)/h) in the responsiveness index."""
W_QUALITY = 0.2
"""Weight of the mean quality Q in the responsiveness index (left out when no reply was scored)."""

INDEX_FORMULA = (
    f"Responsiveness index = 100 × ({W_RATE:g}·R + {W_SPEED:g}·S + {W_QUALITY:g}·Q) / "
    f"({W_RATE:g} + {W_SPEED:g} + {W_QUALITY:g}), where R is the share of probes answered by a person within "
    "the horizon h (Kaplan–Meier, 1 − S(h)); S = 1 − RMST(h)/h is the speed score, RMST(h) being the "
    "restricted mean time to a first human response up to h (the area under the Kaplan–Meier curve; a probe "
    "not answered within h counts as h), so S is 0 when nobody answers and 1 when every probe is answered "
    "at once; Q is the mean rubric score of the scored probes divided by 100, in [0, 1]. When no reply was "
    "scored, Q and "
    f"its weight are left out: 100 × ({W_RATE:g}·R + {W_SPEED:g}·S) / ({W_RATE:g} + {W_SPEED:g}). h is the "
    "common horizon of the comparison (the shortest wait limit), stated with the index."
)
"""The index definition as the reports print it (keep in sync with the module docstring)."""


@dataclass(frozen=True)
class IndexScore:
    """A responsiveness index (0–100) with its components, all None when it cannot be computed.

    ``rate`` is R, ``speed`` S and ``quality`` Q of :data:`INDEX_FORMULA` (``quality`` None when no reply was
    scored; ``quality_n`` replies were). ``horizon_s`` is the horizon h. ``value`` is None when there is no
    horizon or the probes were not followed up to it (or nothing was sent).
    """

    value: float | None
    rate: float | None
    speed: float | None
    quality: float | None
    horizon_s: float | None
    quality_n: int = 0


EMPTY_INDEX = IndexScore(value=None, rate=None, speed=None, quality=None, horizon_s=None)
"""The index of a group that cannot be scored."""


def _unit(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
    return value


def responsiveness_index(rate: float, speed: float, quality: float | None = None) -> float:
    """Return the index (0–100) of the components R, S and Q (None: not scored) of :data:`INDEX_FORMULA`.

    Raises ValueError when a component lies outside [0, 1].
    """
    r, s = _unit("rate", rate), _unit("speed", speed)
    if quality is None:
        return 100.0 * (W_RATE * r + W_SPEED * s) / (W_RATE + W_SPEED)
    q = _unit("quality", quality)
    return 100.0 * (W_RATE * r + W_SPEED * s + W_QUALITY * q) / (W_RATE + W_SPEED + W_QUALITY)


def quality_fraction(scores: FloatArray) -> FloatArray:
    """Rubric scores (0–100, :attr:`Outcome.quality`) as the index's Q scale, [0, 1]."""
    return np.clip(scores / 100.0, 0.0, 1.0)


def index_array(rate: FloatArray, speed: FloatArray, quality: FloatArray) -> FloatArray:
    """Vectorised :func:`responsiveness_index`: NaN quality means not scored, NaN rate or speed gives NaN."""
    has_q = ~np.isnan(quality)
    q = np.where(has_q, quality, 0.0)
    num = W_RATE * rate + W_SPEED * speed + W_QUALITY * q
    den = W_RATE + W_SPEED + np.where(has_q, W_QUALITY, 0.0)
    out: FloatArray = np.clip(100.0 * num / den, 0.0, 100.0)
    return out


def speed_score(restricted_mean_s: float, horizon_s: float) -> float:
    """Return S = 1 − RMST(h)/h, clipped to [0, 1]. Raises ValueError unless ``horizon_s > 0``."""
    if not horizon_s > 0:
        raise ValueError("horizon_s must be positive")
    return min(1.0, max(0.0, 1.0 - restricted_mean_s / horizon_s))


def index_scores(
    km: GroupedKM, quality_sum: npt.ArrayLike, quality_n: npt.ArrayLike, horizon_s: float | None
) -> list[IndexScore]:
    """Per group of a :class:`GroupedKM` of first human responses: the :class:`IndexScore` at ``horizon_s``.

    ``quality_sum``/``quality_n`` are per group the sum and number of quality scores (clipped to [0, 1]).
    """
    qn = [int(k) for k in np.asarray(quality_n, dtype=np.int64).ravel().tolist()]
    sums = [float(s) for s in np.asarray(quality_sum, dtype=np.float64).ravel().tolist()]
    qmean = [None if k == 0 else min(1.0, max(0.0, s / k)) for s, k in zip(sums, qn, strict=True)]
    if horizon_s is None:
        return [IndexScore(None, None, None, q, None, k) for q, k in zip(qmean, qn, strict=True)]
    s_h, known = km.survival_at(horizon_s)
    rmst, _se = km.restricted_mean_arrays(horizon_s)
    out: list[IndexScore] = []
    for sh, ok, area, q, k in zip(s_h.tolist(), known.tolist(), rmst.tolist(), qmean, qn, strict=True):
        if not ok or math.isnan(area):
            out.append(IndexScore(None, None, None, q, horizon_s, k))
            continue
        rate = min(1.0, max(0.0, 1.0 - sh))
        speed = speed_score(area, horizon_s)
        out.append(IndexScore(responsiveness_index(rate, speed, q), rate, speed, q, horizon_s, k))
    return out


def responsiveness(outcomes: Sequence[Outcome], horizon_s: float | None = None) -> IndexScore:
    """Return the :class:`IndexScore` of ``outcomes`` taken as one group.

    ``horizon_s`` defaults to the shortest planned follow-up among the sent probes. Probes never sent are
    ignored; quality scores of sent probes count.
    """
    cols = OutcomeColumns.from_outcomes(outcomes)
    durations, observed, usable = cols.timing("first_human")
    km = GroupedKM(np.zeros(int(usable.sum()), dtype=np.int64), durations[usable], observed[usable], 1)
    scored = cols.sent & ~np.isnan(cols.quality)
    q_sum = np.array([float(quality_fraction(cols.quality[scored]).sum())])
    q_n = np.array([int(scored.sum())], dtype=np.int64)
    h = cols.common_horizon_s() if horizon_s is None else horizon_s
    return index_scores(km, q_sum, q_n, h)[0]
