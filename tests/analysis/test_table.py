"""The outcomes table read once (OutcomeTable): the same estimates as the one-call functions, shared work."""

from __future__ import annotations

import numpy as np
import pytest

from replybench.analysis import survival
from replybench.analysis.columns import OutcomeColumns, OutcomeTable, group_keys
from replybench.analysis.summary import summarize, summarize_groupings, summarize_table
from replybench.analysis.survival import GroupedKM, _segment_accumulate
from replybench.analysis.synthetic import synthetic_outcomes
from tests.analysis.builders import probe

MEASURES = ("first_response", "first_human", "first_human_business")
KM_ARRAYS = ("group", "times", "events", "count", "at_risk", "survival", "band_low", "band_high", "start")


@pytest.fixture(scope="module")
def rows() -> list:
    return synthetic_outcomes(3000, targets=40, channels=3, seed=7)


def assert_same_km(a: GroupedKM, b: GroupedKM) -> None:
    for name in KM_ARRAYS:
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name


@pytest.mark.parametrize("by", ["target", "channel", "industry", "overall"])
@pytest.mark.parametrize("measure", MEASURES)
def test_table_estimates_equal_a_plain_grouped_km(rows: list, by: str, measure: str) -> None:
    table = OutcomeTable(rows)
    keys, _, codes = table.group(by)  # type: ignore[arg-type]
    durations, observed, usable = OutcomeColumns.from_outcomes(rows).timing(measure)  # type: ignore[arg-type]
    plain = GroupedKM(codes[usable].astype(np.int64), durations[usable], observed[usable], len(keys))
    assert_same_km(table.km(measure, codes, len(keys)), plain)  # type: ignore[arg-type]


def test_table_estimates_of_some_rows_equal_those_of_the_subset(rows: list) -> None:
    table = OutcomeTable(rows)
    keys, _, codes = table.group("target")
    picked = np.full(len(keys), -1)
    picked[[3, 17, 29]] = [0, 1, 2]  # three targets, renumbered; the others (-1) are left out
    sub = [o for o in rows if o.target_id in {keys[3], keys[17], keys[29]}]
    sub_codes = np.array([{keys[3]: 0, keys[17]: 1, keys[29]: 2}[o.target_id] for o in sub])
    durations, observed, usable = OutcomeColumns.from_outcomes(sub).timing("first_human")
    plain = GroupedKM(sub_codes[usable], durations[usable], observed[usable], 3)
    assert_same_km(table.km("first_human", picked[codes], 3), plain)


def test_several_groupings_at_once_equal_one_call_each(rows: list) -> None:
    table = OutcomeTable(rows)
    bys = ("overall", "target", "industry", "channel")
    seen: list[tuple[str, str, int]] = []
    together = summarize_groupings(
        table, bys, on_km=lambda by, measure, km: seen.append((by, measure, km.n_groups))
    )
    for by in bys:
        assert together[by] == summarize(rows, by=by)  # type: ignore[arg-type]
        assert summarize_table(table, by) == together[by]  # type: ignore[arg-type]
    assert len(seen) == 3 * len(bys), "every estimate is shown to the hook"
    assert table.cached_timings() == frozenset(), "the cache is left as it was found"


def test_group_keys_number_groups_in_first_seen_order() -> None:
    rows = [probe("b", pid="1"), probe("a", pid="2"), probe("b", pid="3"), probe("c", pid="4")]
    keys, labels, codes = group_keys(rows, "target")
    assert keys == ["b", "a", "c"] and labels == ["B", "A", "C"]
    assert codes.dtype == np.int64 and codes.tolist() == [0, 1, 0, 2]
    assert group_keys(rows, "overall")[0] == ["overall"]
    empty_keys, empty_labels, empty_codes = group_keys([], "overall")
    assert (empty_keys, empty_labels, empty_codes.size) == ([], [], 0)
    with pytest.raises(ValueError, match="cannot group by"):
        group_keys(rows, "colour")  # type: ignore[arg-type]


def test_segment_accumulate_is_exact_in_blocks_and_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    lengths = np.array([1, 2, 3, 5, 8, 8, 8, 40, 300, 7, 1])
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    values = rng.uniform(0.5, 1.0, int(lengths.sum()))
    expected = np.concatenate(
        [np.multiply.accumulate(values[a : a + n]) for a, n in zip(starts, lengths, strict=True)]
    )
    monkeypatch.setattr(survival, "_BLOCK_CELLS", 16)  # small blocks, and segments too long for one
    for op, want in ((np.multiply, expected), (np.add, None)):
        got = _segment_accumulate(values, starts, lengths, op)
        if want is None:
            want = np.concatenate(
                [np.add.accumulate(values[a : a + n]) for a, n in zip(starts, lengths, strict=True)]
            )
        assert np.array_equal(got, want), "bit for bit a separate accumulation of each segment"
