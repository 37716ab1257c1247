"""`replybench export`: CSV and JSON of the outcomes table."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import fields, replace
from datetime import datetime

import pytest

from replybench.analysis.outcome import EXPORT_FIELDS, Answers, Outcome
from replybench.report.export import write_outcomes
from replybench.timefmt import parse_iso
from tests.report.sample_data import START, make_outcome, report_outcomes, sample_outcomes

ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FIELD_TYPES = {f.name: str(f.type) for f in (*fields(Outcome), *fields(Answers)) if f.name != "answers"}
DATETIME_FIELDS = [name for name, kind in FIELD_TYPES.items() if "datetime" in kind]


def _export(fmt: str, outcomes: list[Outcome]) -> str:
    out = io.StringIO(newline="")
    write_outcomes(outcomes, fmt, out)  # type: ignore[arg-type]
    return out.getvalue()


def _rebuild(record: dict[str, object]) -> Outcome:
    values = dict(record)
    for name in DATETIME_FIELDS:
        values[name] = parse_iso(values[name])  # type: ignore[arg-type]
    return Outcome.from_record(values)


def test_csv_header_is_export_fields_and_one_row_per_probe() -> None:
    rows = list(csv.reader(io.StringIO(_export("csv", sample_outcomes()), newline="")))
    assert tuple(rows[0]) == EXPORT_FIELDS
    assert len(rows) == 1 + len(sample_outcomes())
    assert all(len(r) == len(EXPORT_FIELDS) for r in rows)


def test_csv_cells_timestamps_missing_values_and_booleans() -> None:
    text = _export("csv", sample_outcomes())
    assert text.endswith("\r\n")
    records = list(csv.DictReader(io.StringIO(text, newline="")))
    for rec in records:
        for name in DATETIME_FIELDS:
            assert rec[name] == "" or ISO_MS_Z.match(rec[name]), (name, rec[name])
        assert rec["bounced"] in {"true", "false"}
        assert rec["censored"] in {"true", "false"}
    unsent = next(r for r in records if r["state"] == "failed")
    assert unsent["sent_at"] == ""
    assert unsent["human_response_s"] == ""
    sent = next(r for r in records if r["probe_id"] == "01JNQ001NORD")
    assert sent["sent_at"] == "2025-03-03T08:00:01.234Z"
    assert float(sent["human_response_s"]) == 2 * 3600 + 12 * 60


def test_json_round_trips_every_field() -> None:
    outcomes = sample_outcomes()
    data = json.loads(_export("json", outcomes))
    assert isinstance(data, list)
    assert data == [o.to_record() for o in outcomes]
    assert list(data[0]) == list(EXPORT_FIELDS)
    assert [_rebuild(r) for r in data] == outcomes
    assert data[0]["sent_at"].endswith("Z")
    assert ISO_MS_Z.match(data[0]["sent_at"])
    unsent = next(r for r in data if r["state"] == "failed")
    assert unsent["sent_at"] is None
    assert unsent["human_response_s"] is None


def test_csv_round_trips_through_typed_parsing() -> None:
    outcomes = sample_outcomes()
    records = list(csv.DictReader(io.StringIO(_export("csv", outcomes), newline="")))
    types = FIELD_TYPES
    rebuilt = []
    for rec in records:
        values: dict[str, object] = {}
        for name, cell in rec.items():
            kind = types[name]
            if cell == "" and "None" in kind:
                values[name] = None
            elif "datetime" in kind:
                values[name] = parse_iso(cell)
            elif kind.startswith("bool"):
                values[name] = cell == "true"
            elif kind.startswith("int"):
                values[name] = int(cell)
            elif "float" in kind:
                values[name] = float(cell)
            else:
                values[name] = cell
        rebuilt.append(Outcome.from_record(values))
    assert rebuilt == outcomes


def test_timestamps_are_converted_to_utc_milliseconds() -> None:
    from datetime import timedelta, timezone

    berlin = timezone(timedelta(hours=1))
    o = make_outcome(sent_at=datetime(2025, 3, 3, 9, 0, 0, 123456, tzinfo=berlin))
    (rec,) = json.loads(_export("json", [o]))
    assert rec["sent_at"] == "2025-03-03T08:00:00.123Z"


def test_non_finite_numbers_become_missing_and_json_stays_valid() -> None:
    o = replace(make_outcome(), quality=math.nan)
    (rec,) = json.loads(_export("json", [o]))
    assert rec["quality"] is None
    (row,) = list(csv.DictReader(io.StringIO(_export("csv", [o]), newline="")))
    assert row["quality"] == ""


def test_empty_table_and_unknown_format() -> None:
    assert json.loads(_export("json", [])) == []
    assert _export("csv", []) == ",".join(EXPORT_FIELDS) + "\r\n"
    with pytest.raises(ValueError, match="unknown export format"):
        _export("xlsx", [])


REPLY_FIELDS = (
    "holding",
    "first_answer_at",
    "answer_response_s",
    "ticket_id",
    "promise",
    "promise_due_at",
    "promise_kept",
    "quality",
    "quality_matched",
    "quality_missing",
    "answered_all",
    "personalised",
    "needs_review",
)


def test_reply_intelligence_fields_in_both_formats() -> None:
    from datetime import timedelta

    kept = make_outcome(
        probe_id="k",
        holding=True,
        first_answer_at=START + timedelta(hours=2, milliseconds=5),
        answer_response_s=7200.005,
        ticket_id="#48213",
        promise="within 2 business days",
        promise_due_at=START + timedelta(days=2),
        promise_kept=True,
        quality=87.5,
        quality_matched="refund status; timeline",
        quality_missing="order number",
        answered_all=False,
        personalised=True,
        needs_review=True,
    )
    open_ = make_outcome(probe_id="o", promise="binnen 48 Stunden", promise_kept=None)
    records = list(csv.DictReader(io.StringIO(_export("csv", [kept, open_]), newline="")))
    assert set(REPLY_FIELDS) <= set(EXPORT_FIELDS)
    k, o = records
    assert k["holding"] == "true" and k["needs_review"] == "true"
    assert k["first_answer_at"] == "2025-03-03T10:00:00.005Z"
    assert ISO_MS_Z.match(k["promise_due_at"])
    assert k["promise_kept"] == "true" and k["answered_all"] == "false" and k["personalised"] == "true"
    assert float(k["answer_response_s"]) == 7200.005 and float(k["quality"]) == 87.5
    assert (k["ticket_id"], k["quality_matched"]) == ("#48213", "refund status; timeline")
    for name in (
        "promise_kept",
        "answered_all",
        "personalised",
        "first_answer_at",
        "promise_due_at",
        "quality",
    ):
        assert o[name] == "", f"None is an empty cell: {name}"
    assert o["holding"] == "false" and o["needs_review"] == "false"
    data = json.loads(_export("json", [kept, open_]))
    assert all(name in data[0] for name in REPLY_FIELDS)
    assert data[0]["promise_kept"] is True and data[0]["answered_all"] is False
    assert data[0]["promise_due_at"] == "2025-03-05T08:00:00.000Z"
    assert data[1]["promise_kept"] is None and data[1]["needs_review"] is False
    assert [_rebuild(r) for r in data] == [kept, open_]


def test_the_report_fixture_round_trips_with_its_reply_fields() -> None:
    outcomes = report_outcomes()
    assert any(o.promise_kept is False for o in outcomes) and any(o.quality is not None for o in outcomes)
    data = json.loads(_export("json", outcomes))
    assert [_rebuild(r) for r in data] == outcomes
