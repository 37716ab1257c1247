"""The planner: deterministic for a seed, inside business hours when asked, spaced per target, polite."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from replybench.clock import BusinessClock
from replybench.models import Schedule
from replybench.plan import make_plan
from replybench.workspace import load_workspace

START = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


def test_same_seed_same_plan(example_workspace: Path) -> None:
    ws = load_workspace(example_workspace)
    suite = ws.suites["holiday-study"]
    a = make_plan(ws, suite, START)
    b = make_plan(ws, suite, START)
    assert a == b
    other = suite.model_copy(update={"schedule": suite.schedule.model_copy(update={"seed": 1})})
    assert make_plan(ws, other, START) != a


def test_business_hours_and_spacing(example_workspace: Path) -> None:
    ws = load_workspace(example_workspace)
    suite = ws.suites["holiday-study"]
    plan = make_plan(ws, suite, START)
    # 6 banking+retail targets x 3 scripts x 2 repeats
    assert len(plan) == 36
    for p in plan:
        clock = BusinessClock.for_target(ws.targets[p.target_id])
        assert clock.is_open(p.due_at), f"{p.target_id} at {p.due_at} is outside business hours"
    by_target: dict[str, list[datetime]] = {}
    for p in plan:
        by_target.setdefault(p.target_id, []).append(p.due_at)
    for times in by_target.values():
        times.sort()
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(g >= timedelta(days=1) for g in gaps)


def test_do_not_contact_is_skipped(example_workspace: Path) -> None:
    toml = example_workspace / "replybench.toml"
    toml.write_text(
        toml.read_text().replace(
            'do_not_contact = ["*@regulator.example"]',
            'do_not_contact = ["*@orbit-mobile.example", "sakura-trust", "https://www.wavelength.example/*",'
            ' "harborcredit@*"]',
        )
    )
    ws = load_workspace(example_workspace)
    plan = make_plan(ws, ws.suites["demo"], START)
    refused = {(p.target_id, p.channel) for p in plan if "do-not-contact" in (p.skip_reason or "")}
    assert {t for t, _ in refused} == {"orbit-mobile", "sakura-trust", "wavelength", "harbor-credit"}
    # an address pattern covers that address's channel, a URL pattern that page's, a handle pattern that
    # social account's; a target id all of them
    assert {c for t, c in refused if t == "orbit-mobile"} == {"email"}
    assert {c for t, c in refused if t == "wavelength"} == {"chat"}
    assert {c for t, c in refused if t == "harbor-credit"} == {"mastodon"}
    assert {c for t, c in refused if t == "sakura-trust"} == {"email", "form", "mastodon"}
    # combinations without an endpoint are skipped for that reason, not for do-not-contact
    assert all(
        "no form endpoint" in (p.skip_reason or "")
        for p in plan
        if p.target_id == "orbit-mobile" and p.channel == "form"
    )


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), window_s=st.integers(0, 3 * 86400), spacing_s=st.integers(0, 7200))
def test_plan_stays_in_window_and_keeps_spacing(
    tmp_path_factory, seed: int, window_s: int, spacing_s: int
) -> None:
    from tests.conftest import REPO

    ws = load_workspace(REPO)
    suite = ws.suites["demo"]
    schedule = Schedule(
        start="now", window=timedelta(seconds=window_s), spacing=timedelta(seconds=spacing_s), seed=seed
    )
    suite = suite.model_copy(update={"schedule": schedule})
    plan = make_plan(ws, suite, START)
    combos = sum(1 for s in suite.scripts for c in suite.channels if c in ws.scripts[s].channels)
    assert len(plan) == len(ws.targets) * combos
    per_target: dict[str, list[datetime]] = {}
    for p in plan:
        assert p.due_at >= START
        per_target.setdefault(p.target_id, []).append(p.due_at)
    for times in per_target.values():
        times.sort()
        assert times[0] <= START + timedelta(seconds=window_s)
        assert all(b - a >= timedelta(seconds=spacing_s) for a, b in itertools.pairwise(times))
