"""Turn a suite into a list of planned probes: who gets what, when, through which channel and persona.

Deterministic for a seed and a start time: the same inputs give the same plan. Send times are drawn uniformly
over the window (or over the target's opening hours inside the window when ``business_hours`` is set), then
pushed apart so that two sends to one target are at least ``spacing`` (or the rate limit's ``min_interval``)
apart. Randomising send times controls for time-of-day effects, a known flaw of one-shot studies.
"""

from __future__ import annotations

import fnmatch
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from replybench.clock import BusinessClock
from replybench.models import Suite, Target, Workspace
from replybench.workspace import select_targets


@dataclass(frozen=True)
class PlannedProbe:
    """One inquiry to send (or a combination skipped, with the reason)."""

    target_id: str
    channel: str
    script_id: str
    persona_id: str
    repeat: int
    due_at: datetime
    skip_reason: str | None = None


def do_not_contact_reason(target: Target, channel: str, patterns: list[str]) -> str | None:
    """Why a target may not be contacted on a channel (its own flag or the workspace list), or None.

    A pattern is a target id or an fnmatch pattern over the channel's address: the email address, or the
    form or chat page URL (``*@regulator.example``, ``https://*.regulator.example/*``).
    """
    if target.do_not_contact:
        return "do-not-contact: the target is flagged"
    address = target.address(channel).lower()
    for pattern in patterns:
        p = pattern.lower()
        if p == target.id or (address and fnmatch.fnmatchcase(address, p)):
            return f"do-not-contact: matches {pattern!r}"
    return None


def _draw_times(
    rng: random.Random, count: int, start: datetime, window: timedelta, clock: BusinessClock | None
) -> list[datetime]:
    if window <= timedelta(0):
        return [start] * count
    end = start + window
    intervals = list(clock.open_intervals(start, end)) if clock else [(start, end)]
    total = sum((b - a).total_seconds() for a, b in intervals)
    if total <= 0:
        # no opening hours inside the window: send at the first opening after it starts
        first = clock.next_open(start) if clock else None
        return [first or start] * count
    times = []
    for _ in range(count):
        offset = rng.uniform(0, total)
        for a, b in intervals:
            length = (b - a).total_seconds()
            if offset <= length:
                times.append(a + timedelta(seconds=offset))
                break
            offset -= length
        else:
            times.append(intervals[-1][1])
    return sorted(times)


def _spread(times: list[datetime], gap: timedelta, clock: BusinessClock | None) -> list[datetime]:
    out: list[datetime] = []
    for t in times:
        if out and t < out[-1] + gap:
            t = out[-1] + gap
            if clock is not None:
                t = clock.next_open(t) or t
        out.append(t)
    return out


def make_plan(ws: Workspace, suite: Suite, start: datetime) -> list[PlannedProbe]:
    """Plan every probe of ``suite`` starting at ``start`` (UTC); skipped combinations carry a reason."""
    schedule = suite.schedule
    if isinstance(schedule.start, datetime):
        start = schedule.start
    rng = random.Random(f"{schedule.seed}:{suite.id}")
    plan: list[PlannedProbe] = []
    for target_id in select_targets(suite.targets, ws.targets):
        target = ws.targets[target_id]
        combos: list[tuple[str, str, int]] = []
        for script_id in suite.scripts:
            for channel in suite.channels:
                if channel not in ws.scripts[script_id].channels:
                    continue
                combos.extend((script_id, channel, r) for r in range(schedule.repeats))
        rng.shuffle(combos)
        clock = BusinessClock.for_target(target) if schedule.business_hours else None
        gap = max(schedule.spacing, (target.rate_limit or suite.rate_limit).min_interval)
        times = _spread(_draw_times(rng, len(combos), start, schedule.window, clock), gap, clock)
        for index, ((script_id, channel, repeat), due) in enumerate(zip(combos, times, strict=True)):
            persona_id = suite.personas[(index + rng.randrange(len(suite.personas))) % len(suite.personas)]
            reason = None
            if channel not in target.channels():
                reason = f"no {channel} endpoint for this target"
            else:
                reason = do_not_contact_reason(target, channel, ws.settings.do_not_contact)
            plan.append(PlannedProbe(target_id, channel, script_id, persona_id, repeat, due, reason))
    plan.sort(key=lambda p: (p.due_at, p.target_id, p.script_id, p.channel, p.repeat))
    return plan
