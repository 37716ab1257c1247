"""The outcomes table as numpy columns: one pass over the rows, then vectorised statistics.

Reading a million :class:`~replybench.analysis.outcome.Outcome` rows costs about a second however it is
done (attribute access dominates), so the statistics read each needed field once into a numpy array
(``None`` becomes NaN) and never loop over rows again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from math import nan
from operator import attrgetter
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from replybench.analysis.outcome import Outcome
from replybench.analysis.survival import GroupedKM

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.signedinteger[Any]]
"""Group codes of the rows: int64 in the public functions, the narrowest type that fits where cached."""

Measure = Literal["first_response", "first_human", "first_human_business"]
GroupBy = Literal["target", "channel", "industry", "suite", "run", "overall"]
GROUP_BYS: tuple[str, ...] = ("target", "channel", "industry", "suite", "run", "overall")


def _floats(values: list[float | None]) -> FloatArray:
    return np.array(values, dtype=np.float64) if values else np.zeros(0)


_SENT_AT = attrgetter("sent_at")
_HORIZON_AT = attrgetter("horizon_at")
_OBSERVED_UNTIL = attrgetter("observed_until")


def _column(rows: Sequence[Outcome], field: str) -> FloatArray:
    """One optional float field of every row as an array (None becomes NaN), read without a list."""
    return np.fromiter(
        (nan if v is None else v for v in map(attrgetter(field), rows)), dtype=np.float64, count=len(rows)
    )


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
        """Read the columns of ``outcomes`` (one attribute pass per field, straight into arrays)."""
        rows = outcomes if isinstance(outcomes, list) else list(outcomes)
        n = len(rows)
        planned_s = np.fromiter(
            (
                nan if s is None or h is None else (h - s).total_seconds()
                for s, h in zip(map(_SENT_AT, rows), map(_HORIZON_AT, rows), strict=True)
            ),
            dtype=np.float64,
            count=n,
        )
        sent = np.fromiter((s is not None for s in map(_SENT_AT, rows)), dtype=bool, count=n)
        observed_s = np.maximum(planned_s, 0.0)
        open_rows = np.fromiter((u is not None for u in map(_OBSERVED_UNTIL, rows)), dtype=bool, count=n)
        for i in np.flatnonzero(open_rows).tolist():  # still-open probes: followed until observed_until
            value = rows[i].observed_for_s()
            observed_s[i] = np.nan if value is None else value
        observed_s[~sent] = np.nan
        return cls(
            n=n,
            sent=sent,
            response_s=_column(rows, "response_s"),
            human_s=_column(rows, "human_response_s"),
            human_business_s=_column(rows, "human_response_business_s"),
            horizon_business_s=_column(rows, "horizon_business_s"),
            observed_s=observed_s,
            planned_s=planned_s,
            bounced=np.fromiter(map(attrgetter("bounced"), rows), dtype=bool, count=n),
            auto_acked=np.fromiter(map(attrgetter("auto_acked"), rows), dtype=bool, count=n),
            quality=_column(rows, "quality"),
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


def check_group_by(by: str) -> None:
    """Raise ValueError unless ``by`` is one of :data:`GROUP_BYS`."""
    if by not in GROUP_BYS:
        raise ValueError(f"cannot group by {by!r}; expected one of {', '.join(GROUP_BYS)}")


_GROUP_FIELDS = {
    "target": "target_id",
    "channel": "channel",
    "industry": "industry",
    "suite": "suite",
    "run": "run_id",
}


def group_keys(outcomes: Sequence[Outcome], by: GroupBy) -> tuple[list[str], list[str], IntArray]:
    """Return the groups' keys and labels (in first-seen order) and each row's group code.

    A group's label is the first row's (for targets ``target_name``, falling back to ``target_id``).
    Raises ValueError for an unknown ``by``.
    """
    keys, labels, codes = _group_keys(outcomes, by)
    return keys, labels, codes.astype(np.int64, copy=False)


def _group_keys(outcomes: Sequence[Outcome], by: str) -> tuple[list[str], list[str], CodeArray]:
    """:func:`group_keys` with the codes in the narrowest signed type that holds them (int32 normally)."""
    check_group_by(by)
    n = len(outcomes)
    if by == "overall":
        names = ["overall"] if n else []
        return names, ["All targets"] * len(names), np.zeros(n, dtype=np.int32)
    index: dict[str, int] = {}
    codes: CodeArray = np.fromiter(
        (index.setdefault(k, len(index)) for k in map(attrgetter(_GROUP_FIELDS[by]), outcomes)),
        dtype=np.int64 if n > np.iinfo(np.int32).max else np.int32,
        count=n,
    )
    names = list(index)
    # codes are numbered in first-seen order: a code's first row is where the running maximum rises to it
    firsts = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0) if n else codes
    if by != "target":
        return names, names, codes
    labels = [outcomes[i].target_name or outcomes[i].target_id for i in firsts.tolist()]
    return names, labels, codes


def _sortable_codes(codes: CodeArray, n_groups: int) -> CodeArray:
    """The group codes in the narrowest integer type (a stable sort of 16-bit integers is a radix sort)."""
    if n_groups <= np.iinfo(np.int16).max:
        return codes.astype(np.int16)
    return codes


@dataclass(frozen=True)
class Timing:
    """Kaplan–Meier input of one measure over the usable rows of a table (see :meth:`OutcomeColumns.timing`).

    ``durations`` and ``observed`` hold the usable rows only (``usable`` marks them among all rows);
    ``time_order`` is their stable sort by duration, shared by every grouping.
    """

    durations: FloatArray
    observed: BoolArray
    usable: BoolArray
    time_order: CodeArray


class OutcomeTable:
    """An outcomes table read once: its columns, its groupings and the Kaplan–Meier inputs, each cached.

    Reports summarise the same rows by target, channel, industry and more; reading a million rows costs about a
    second however it is done, so everything that needs the rows goes through one table: the columns are read
    once, each grouping's keys once, and each measure's durations are sorted once and shared by every grouping
    (:meth:`km`). ``rows`` is the outcomes as a list (the caller's list when it was one).
    """

    def __init__(self, outcomes: Sequence[Outcome]) -> None:
        """Read the columns of ``outcomes`` (groupings and sorts are computed when first asked for)."""
        self.rows: list[Outcome] = outcomes if isinstance(outcomes, list) else list(outcomes)
        self.cols = OutcomeColumns.from_outcomes(self.rows)
        self._groups: dict[str, tuple[list[str], list[str], CodeArray]] = {}
        self._timing: dict[str, Timing] = {}
        self._sent_epoch: FloatArray | None = None

    @property
    def n(self) -> int:
        """Number of rows."""
        return self.cols.n

    def group(self, by: GroupBy) -> tuple[list[str], list[str], CodeArray]:
        """:func:`group_keys` of the table (cached): keys, labels and each row's group code (int32 mostly)."""
        cached = self._groups.get(by)
        if cached is None:
            cached = self._groups[by] = _group_keys(self.rows, by)
        return cached

    @property
    def sent_epoch_s(self) -> FloatArray:
        """Each row's ``sent_at`` as POSIX seconds (a naive time taken as UTC); NaN when not sent (cached)."""
        if self._sent_epoch is None:
            self._sent_epoch = np.fromiter(
                (
                    nan if s is None else (s if s.tzinfo is not None else s.replace(tzinfo=UTC)).timestamp()
                    for s in map(_SENT_AT, self.rows)
                ),
                dtype=np.float64,
                count=len(self.rows),
            )
        return self._sent_epoch

    def timing(self, measure: Measure) -> Timing:
        """The Kaplan–Meier input of ``measure`` over the usable rows, with its time order (cached)."""
        cached = self._timing.get(measure)
        if cached is None:
            durations, observed, usable = self.cols.timing(measure)
            d = durations[usable]
            del durations
            order = np.argsort(d, kind="stable")
            if d.size <= np.iinfo(np.int32).max:
                order = order.astype(np.int32)
            cached = self._timing[measure] = Timing(d, observed[usable], usable, order)
        return cached

    def cached_timings(self) -> frozenset[str]:
        """The measures whose sorted durations are cached."""
        return frozenset(self._timing)

    def forget_timing(self, measure: Measure) -> None:
        """Drop the cached sorted durations of ``measure`` (they are computed again when next needed)."""
        self._timing.pop(measure, None)

    def km(
        self, measure: Measure, codes: CodeArray, n_groups: int, rows: BoolArray | None = None
    ) -> GroupedKM:
        """The :class:`GroupedKM` of ``measure`` for a grouping (``codes``: each row's group, all rows).

        ``rows`` optionally restricts the estimate to some rows (all rows of a table by default); rows with a
        negative code are left out too. The durations are sorted once per measure; each grouping then needs
        only a stable sort of its codes.
        """
        t = self.timing(measure)
        c = codes[t.usable]
        order = t.time_order
        keep = c >= 0
        if rows is not None:
            keep &= rows[t.usable]
        if not keep.all():
            order = order[keep[order]]
            c_sorted = c[order]
            order = order[np.argsort(_sortable_codes(c_sorted, n_groups), kind="stable")]
            # estimate from the kept rows only, in the positions of the kept subset
            position = np.cumsum(keep) - 1
            sub = np.flatnonzero(keep)
            return GroupedKM(c[sub], t.durations[sub], t.observed[sub], n_groups, order=position[order])
        order = order[np.argsort(_sortable_codes(c[order], n_groups), kind="stable")]
        return GroupedKM(c, t.durations, t.observed, n_groups, order=order)
