"""Export of the outcomes table (`replybench export`): CSV or JSON, one row/object per probe.

Both formats carry every field of :class:`~replybench.analysis.outcome.Outcome` under its own name, in
:data:`~replybench.analysis.outcome.EXPORT_FIELDS` order. Timestamps are ISO 8601 UTC with milliseconds and a
trailing ``Z``. A missing value is ``null`` in JSON and an empty cell in CSV; booleans are ``true``/``false``
in both; non-finite numbers (which no valid outcome has) are written as missing rather than as invalid JSON.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from typing import Any, Literal, TextIO

from replybench.analysis.outcome import EXPORT_FIELDS, Outcome


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
