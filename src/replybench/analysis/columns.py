"""The outcomes table as numpy columns: one pass over the rows, then vectorised statistics.

Reading a million :class:`~replybench.analysis.outcome.Outcome` rows costs about a second however it is
done (attribute access dominates), so the statistics read each needed field once into a numpy array
(``None`` becomes NaN) and never loop over rows again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from replybench.analysis.outcome import Outcome

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

Measure = Literal["first_response", "first_human", "first_human_business"]
GroupBy = Literal["target", "channel", "industry", "suite", "run", "overall"]
GROUP_BYS: tuple[str, ...] = ("target", "channel", "industry", "suite", "run", "overall")


def _floats(values: list[float | None]) -> FloatArray:
    return np.array(values, dtype=np.float64) if values else np.zeros(0)


@dataclass(frozen=True)
class OutcomeColumns:
    """The fields of an outcomes table the statistics use, one array entry per row (NaN for None).

    ``observed_s`` is :meth:`Outcome.observed_for_s` and ``planned_s`` the planned follow-up
    ``horizon_at - sent_at``; both NaN when unknown or the probe was not sent.
    """

    n: int
    sent: BoolArray
    response_s: FloatArray
    human_s: FloatArray
    human_business_s: FloatArray
    horizon_business_s: FloatArray
    observed_s: FloatArray
    planned_s: FloatArray
    bounced: BoolArray
    auto_acked: BoolArray
    quality: FloatArray

    @classmethod
    def from_outcomes(cls, outcomes: Sequence[Outcome]) -> OutcomeColumns:
        """Read the columns of ``outcomes`` (one attribute pass per field)."""
        rows = outcomes if isinstance(outcomes, list) else list(outcomes)
        n = len(rows)
        sent_at = [o.sent_at for o in rows]
        sent = np.array([s is not None for s in sent_at], dtype=bool)
        horizon_at = [o.horizon_at for o in rows]
        planned = [
            None if s is None or h is None else (h - s).total_seconds()
            for s, h in zip(sent_at, horizon_at, strict=True)
        ]
        planned_s = _floats(planned)
        observed_s = np.maximum(planned_s, 0.0)
        until = [o.observed_until for o in rows]
        special = [i for i, u in enumerate(until) if u is not None]
        for i in special:  # still-open probes: followed until observed_until, not the horizon
            value = rows[i].observed_for_s()
            observed_s[i] = np.nan if value is None else value
        return cls(
            n=n,
            sent=sent,
            response_s=_floats([o.response_s for o in rows]),
            human_s=_floats([o.human_response_s for o in rows]),
            human_business_s=_floats([o.human_response_business_s for o in rows]),
            horizon_business_s=_floats([o.horizon_business_s for o in rows]),
            observed_s=np.where(sent, observed_s, np.nan),
            planned_s=planned_s,
            bounced=np.array([o.bounced for o in rows], dtype=bool),
            auto_acked=np.array([o.auto_acked for o in rows], dtype=bool),
            quality=_floats([o.quality for o in rows]),
        )

    def timing(self, measure: Measure) -> tuple[FloatArray, BoolArray, BoolArray]:
        """Kaplan–Meier input of one measure for every row: durations, observed flags, usable flags.

        The same rule as :func:`replybench.analysis.summary.timing_data`: a sent probe with a qualifying
        reply is an event at its time; one without is censored when it was observed (its horizon, or now
        while open); probes never sent, or whose time is unknown, are not usable.
        """
        if measure == "first_response":
            value, at = self.response_s, self.observed_s
        elif measure == "first_human":
            value, at = self.human_s, self.observed_s
        elif measure == "first_human_business":
            value = self.human_business_s
            at = np.where(np.isnan(self.human_s), self.horizon_business_s, np.nan)
        else:
            raise ValueError(f"unknown measure {measure!r}")
        observed = ~np.isnan(value)
        durations = np.where(observed, value, at)
        usable = self.sent & ~np.isnan(durations)
        return durations, observed & usable, usable

    def common_horizon_s(self) -> float | None:
        """The shortest planned follow-up (``horizon_at - sent_at``) of the sent probes; None if unknown.

        Restricted means and the responsiveness index use it so that every group is measured over the same
        window.
        """
        values = self.planned_s[self.sent & ~np.isnan(self.planned_s)]
        if not values.size:
            return None
        h = float(values.min())
        return h if h > 0 else None


def group_keys(outcomes: Sequence[Outcome], by: GroupBy) -> tuple[list[str], list[str], IntArray]:
    """Return the groups' keys and labels (in first-seen order) and each row's group code.

    A group's label is the first row's (for targets ``target_name``, falling back to ``target_id``).
    Raises ValueError for an unknown ``by``.
    """
    if by == "target":
        keys = [o.target_id for o in outcomes]
    elif by == "channel":
        keys = [o.channel for o in outcomes]
    elif by == "industry":
        keys = [o.industry for o in outcomes]
    elif by == "suite":
        keys = [o.suite for o in outcomes]
    elif by == "run":
        keys = [o.run_id for o in outcomes]
    elif by == "overall":
        keys = ["overall"] * len(outcomes)
    else:
        raise ValueError(f"cannot group by {by!r}; expected one of {', '.join(GROUP_BYS)}")
    names = list(dict.fromkeys(keys))
    index = {k: i for i, k in enumerate(names)}
    codes = np.fromiter(map(index.__getitem__, keys), dtype=np.int64, count=len(keys))
    if by == "overall":
        return names, ["All targets"] * len(names), codes
    firsts = np.unique(codes, return_index=True)[1] if codes.size else np.zeros(0, dtype=np.int64)
    if by == "target":
        labels = [outcomes[int(i)].target_name or outcomes[int(i)].target_id for i in firsts]
    else:
        labels = [keys[int(i)] for i in firsts]
    return names, labels, codes
