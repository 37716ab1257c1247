"""The terminal summary table."""

from __future__ import annotations

from rich.console import Console

from replybench.report.terminal import print_summary, summary_table
from tests.report.sample_data import TARGETS as ALL_TARGETS
from tests.report.sample_data import make_outcome, sample_outcomes

TARGETS = ALL_TARGETS[:8]  # sample_outcomes() covers the first eight


def _render(outcomes: list, width: int = 240) -> str:  # type: ignore[type-arg]
    console = Console(record=True, width=width, color_system=None)
    print_summary(outcomes, console)
    return console.export_text()


def test_one_row_per_target_plus_overall() -> None:
    table = summary_table(sample_outcomes())
    assert table.row_count == len(TARGETS) + 1
    headers = [str(c.header) for c in table.columns]
    assert headers[:3] == ["Target", "Industry", "Sent"]
    assert "Median first\nhuman reply" in headers
    assert headers[-3:] == ["Auto-\nack", "Boun-\nced", "Cen-\nsored"]
    assert "Real\nanswers" in headers


def test_printed_summary_has_names_numbers_and_censoring_note() -> None:
    text = _render(sample_outcomes())
    for _tid, name, *_ in TARGETS:
        assert name in text
    assert "All targets" in text
    assert "41\u00a0min" in text  # Alpenkasse median
    assert "Not sent (excluded): 4" in text
    assert "censored at the wait limit (11 of 36 sent)" in text
    # fastest first
    assert text.index("Netzwelle Fiber") < text.index("Alpenkasse") < text.index("FunkFix")


def test_real_answers_column_counts_answers_over_sent() -> None:
    rows = [
        make_outcome(probe_id="a", answer_response_s=3600.0),
        make_outcome(probe_id="b", holding=True),  # a person replied, but only to say they would
        make_outcome(probe_id="c", deflected=True, first_response_class="deflection"),
        make_outcome(probe_id="d", sent_at=None, state="failed", answer_response_s=None),
    ]
    text = _render(rows)
    acme = next(line for line in text.splitlines() if "ACME Corp" in line)
    assert "1/3" in acme, acme
    total = next(line for line in text.splitlines() if "All targets" in line)
    assert "1/3" in total


def test_names_are_never_parsed_as_rich_markup() -> None:
    text = _render([make_outcome(target_name="[bold red]Evil[/] [link=x]y[/link]")])
    assert "[bold red]Evil[/] [link=x]y[/link]" in text


def test_empty_table_prints() -> None:
    text = _render([])
    assert "All targets" in text
    assert "Not sent (excluded): 0" in text


def test_narrow_consoles_get_the_compact_table_that_fits() -> None:
    text = _render(sample_outcomes(), width=80)  # a default terminal, and what pipes get
    assert max(len(line) for line in text.splitlines()[:-3]) <= 80
    assert "Median first" in text
    assert "Industry" not in text
    full = summary_table(sample_outcomes())
    compact = summary_table(sample_outcomes(), compact=True)
    assert len(compact.columns) == len(full.columns) - 6
    assert "Real" not in text, "the compact table leaves out the real answers"
    assert compact.row_count == full.row_count
