"""How much of a large study the reports show, and how a capped list says so.

The statistics always use every probe: rates, medians, shares, the distribution and the weekday × hour heatmap
aggregate the whole table, however large. What is capped is what would otherwise grow with the number of
targets or probes: per-target tables and charts, the list of stated promises, the per-probe and per-message
evidence, and the bootstrap behind the rank intervals. Every capped list says so where it is shown ("Showing
the 50 highest- and 50 lowest-ranked of 10,000 targets …"), and the numbers of every target are in the CSV
written beside the reports (:data:`TARGETS_CSV`); every probe is in ``replybench export``.

A report of up to :data:`TABLE_MAX_ROWS` targets and :data:`EVIDENCE_MAX_PROBES` probes is not capped at all
(apart from the per-target charts beyond :data:`CHART_MAX_TARGETS` targets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

TABLE_MAX_ROWS = 500
"""Per-target tables (league, acknowledgement split, Markdown's per-target tables) list every target up to this."""

TABLE_EDGE_ROWS = 50
"""Beyond :data:`TABLE_MAX_ROWS` targets, per-target tables show this many from each end of the league."""

CHART_MAX_TARGETS = 60
"""Per-target charts (median bars, Kaplan–Meier small multiples, dot strips) draw every target up to this."""

CHART_EDGE_TARGETS = 24
"""Beyond :data:`CHART_MAX_TARGETS` targets, per-target charts draw this many from each end of the league."""

STRIP_MAX_PROBES = 60
"""Probes drawn per target in the dot strip; beyond, a systematic sample in time order (every k-th probe)."""

BOUNCE_MAX_ROWS = 500
"""The bounce table lists every target with a bounce up to this many targets."""

BOUNCE_TOP_ROWS = 100
"""Beyond :data:`BOUNCE_MAX_ROWS` targets with bounces, the bounce table lists this many with the most bounces."""

EVIDENCE_MAX_PROBES = 1000
"""The per-probe evidence lists every probe up to this many; beyond, the most recently sent ones."""

EVIDENCE_MAX_MESSAGES = 3000
"""The per-message evidence lists the messages of the probes shown, at most this many."""

PROMISES_MAX_ROWS = 100
"""The list of stated promises shows this many (in league order, by due time within a target)."""

SENDS_MAX_ROWS = 500
"""Web sends (forms, chats, and every blocked, failed or uncertain send) listed in the reports."""

SENDS_MAX_SCREENSHOTS = 24
"""Screenshots embedded in the HTML report (the first rows'; every one stays in the store)."""

RANK_BOOTSTRAP_CELLS = 50_000_000
"""Budget of the rank-interval bootstrap: resamples × targets × probes of the largest target (about 1.5 s)."""

RANK_MIN_RESAMPLES = 200
"""Fewest bootstrap resamples worth reporting: when the budget allows fewer, rank intervals are left out."""

CURVE_MAX_POINTS = 400
"""Kaplan–Meier curves with more steps than this are drawn at screen resolution (:data:`CURVE_STEPS_PER_LN`)."""

CURVE_STEPS_PER_LN = 200
"""Resolution of a thinned curve: at most this many steps per factor e of time (0.5 % apart, far below a pixel)."""

TARGETS_CSV = "targets.csv"
"""File name of the per-target table written beside the reports: every target, in league order."""


@dataclass(frozen=True)
class Capped(Generic[T_co]):
    """A list shown in part: ``items`` are shown, ``head`` of them before a gap, the rest after it.

    ``total`` counts the whole list. Not capped when everything is shown (then there is no gap).
    """

    items: tuple[T_co, ...]
    total: int
    head: int

    @property
    def capped(self) -> bool:
        """True when some of the list is not shown."""
        return len(self.items) < self.total

    @property
    def hidden(self) -> int:
        """How many are not shown."""
        return self.total - len(self.items)

    @property
    def tail(self) -> int:
        """How many are shown after the gap."""
        return len(self.items) - self.head


def ends(items: Sequence[T], limit: int, edge: int) -> Capped[T]:
    """All of ``items`` when there are at most ``limit``, else the first and last ``edge`` of them."""
    if len(items) <= limit:
        return Capped(tuple(items), len(items), len(items))
    return Capped((*items[:edge], *items[-edge:]), len(items), edge)


def head(items: Sequence[T], limit: int, total: int | None = None) -> Capped[T]:
    """The first ``limit`` of ``items`` (``total``: the full count when ``items`` is already a selection)."""
    shown = tuple(items[:limit])
    return Capped(shown, len(items) if total is None else total, len(shown))


def count(n: int, noun: str, plural: str | None = None) -> str:
    """A count with thousands separators and the noun in number: "1 target", "10,000 targets"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def ends_note(cap: Capped[object], noun: str, plural: str | None = None, *, ranked: str = "ranked") -> str:
    """The visible note of a list capped by :func:`ends`: which part of how many is shown ("" if none is hidden).

    ``ranked`` names the order ("ranked" for the league order).
    """
    if not cap.capped:
        return ""
    return (
        f"Showing the {cap.head:,} highest- and {cap.tail:,} lowest-{ranked} of {count(cap.total, noun, plural)}; "
        f"the {cap.hidden:,} in between are not listed."
    )
