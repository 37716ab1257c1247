"""Exports: the outcomes table (`replybench export`) and the per-target table beside the reports.

`replybench export` writes CSV or JSON, one row/object per probe; :func:`write_targets` writes every
target's numbers, in league order, as the CSV the reports point to when they show a long list in part.

The outcomes export carries every field of :class:`~replybench.analysis.outcome.Outcome` under its own name, in
:data:`~replybench.analysis.outcome.EXPORT_FIELDS` order. Timestamps are ISO 8601 UTC with milliseconds and a
trailing ``Z``. A missing value is ``null`` in JSON and an empty cell in CSV; booleans are ``true``/``false``
in both; non-finite numbers (which no valid outcome has) are written as missing rather than as invalid JSON.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TextIO

from replybench.analysis.outcome import EXPORT_FIELDS, Outcome
from replybench.analysis.ranks import RankInterval
from replybench.analysis.summary import GroupSummary


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in o.to_record().items()} for o in outcomes]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_outcomes(outcomes: Sequence[Outcome], fmt: Literal["csv", "json"], out: TextIO) -> None:
    """Write outcomes to ``out`` as CSV (header row = EXPORT_FIELDS) or JSON (a list of objects).

    Open ``out`` with ``newline=""`` for CSV so that row endings stay CRLF as RFC 4180 has them.
    Raises ValueError for any other format.
    """
    if fmt == "json":
        json.dump(_records(outcomes), out, ensure_ascii=False, indent=2, allow_nan=False)
        out.write("\n")
        return
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(EXPORT_FIELDS)
        for record in _records(outcomes):
            writer.writerow([_csv_cell(record.get(name)) for name in EXPORT_FIELDS])
        return
    raise ValueError(f"unknown export format {fmt!r}; expected 'csv' or 'json'")


#: Columns of the per-target CSV written beside the reports (:func:`write_targets`).
TARGET_FIELDS: tuple[str, ...] = (
    "rank",
    "rank_low",
    "rank_high",
    "target_id",
    "target",
    "industry",
    "index",
    "planned",
    "sent",
    "not_sent",
    "human_replies",
    "human_rate",
    "human_rate_low",
    "human_rate_high",
    "median_human_s",
    "median_human_low_s",
    "median_human_high_s",
    "p90_human_s",
    "answered_1h",
    "answered_4h",
    "answered_24h",
    "median_business_s",
    "business_unknown",
    "restricted_mean_s",
    "response_rate",
    "median_first_response_s",
    "auto_acked",
    "bounced",
    "censored",
)


def _time(value: float | None, n: int) -> float | None:
    """A Kaplan–Meier time for the CSV: seconds, inf when not reached, missing without an estimate."""
    if n == 0:
        return None
    return math.inf if value is None else value


def write_targets(
    ranked: Sequence[tuple[int, GroupSummary]],
    industries_of: Mapping[str, str],
    intervals: Mapping[str, RankInterval],
    out: TextIO,
) -> None:
    """Write every target's numbers as CSV, in league order (header row = :data:`TARGET_FIELDS`).

    The reports show large studies in part; this file has every target. Times are seconds (``inf``: the
    Kaplan–Meier estimate was not reached within the wait limit; empty: no estimate), shares are fractions
    0–1, ``rank_low``/``rank_high`` the bootstrap rank interval when the report computed one.
    Open ``out`` with ``newline=""``.
    """
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(TARGET_FIELDS)
    for rank, s in ranked:
        interval = intervals.get(s.key)
        fh, rate = s.first_human, s.human_rate
        shares = [s.within(t) for t in (3600.0, 4 * 3600.0, 86400.0)]
        record = [
            rank,
            None if interval is None else interval.rank_low,
            None if interval is None else interval.rank_high,
            s.key,
            s.label,
            industries_of.get(s.key, ""),
            s.index.value,
            s.planned,
            s.sent,
            s.not_sent,
            fh.events,
            rate.value,
            rate.low,
            rate.high,
            _time(fh.median_s, fh.n),
            _time(fh.low_s, fh.events),
            _time(fh.high_s, fh.events),
            _time(s.first_human_p90.value_s, s.first_human_p90.n),
            *(None if share is None else share.value for share in shares),
            _time(s.first_human_business.median_s, s.first_human_business.n),
            s.business_unknown,
            s.restricted_mean.value_s,
            s.response_rate.value,
            _time(s.first_response.median_s, s.first_response.n),
            s.auto_acked,
            s.bounced,
            s.censored,
        ]
        writer.writerow(["" if v is None else v for v in record])  # floats as repr(), inf as "inf"
