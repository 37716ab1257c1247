"""Evaluate a suite's service-level objectives (``[[suite.slas]]``) per target and overall.

An SLA says: on ``channel``, at least ``target_rate`` of the inquiries get a reply (``measure = "human"``: a
human reply; ``"any"``: any reply, auto-acknowledgements included) within ``within``, counted in calendar
time or, with ``business_time``, in the target's opening hours.

Conventions:

* The denominator is every **sent** probe on the SLA's channel (bounced ones included: the published address
  did not answer). Probes never sent are not counted. With no sent probe the status is ``no data``.
* A probe **met** the SLA when its qualifying reply came within ``within`` (a reply at exactly ``within``
  counts); it **missed** when the reply came later, or when it was followed for at least ``within`` without
  one. It is **undetermined** when it was followed for less than ``within`` without a reply (still open, or
  the suite's wait limit is shorter than ``within``), or when its business time is unknown.
* The share is the **point estimate** met / sent, with its Wilson 95 % interval for information. The SLA is
  **breached** when the share is below ``target_rate`` even if every undetermined probe had met it, **met**
  when the share is at or above ``target_rate`` counting every undetermined probe as missed, and
  ``undetermined`` in between. (Comparing the point estimate, not an interval bound, is the usual CI
  convention; with few probes one late reply can breach an SLA, which the interval makes visible.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from replybench.analysis.outcome import Outcome
from replybench.analysis.summary import Rate, wilson
from replybench.models import SLA
from replybench.timefmt import format_duration

SlaStatus = Literal["met", "breached", "undetermined", "no data"]
ProbeVerdict = Literal["met", "missed", "undetermined"]

#: Business seconds between a probe's sending and a later time, for its target; None if unknown.
BusinessSeconds = Callable[[Outcome, datetime], float | None]

OVERALL_KEY = "overall"
OVERALL_LABEL = "All targets"


def describe_sla(sla: SLA) -> str:
    """Say what an SLA requires: "≥ 90 % human reply within 4 h (business time) on email"."""
    what = "human reply" if sla.measure == "human" else "any reply"
    clock = " (business time)" if sla.business_time else ""
    return (
        f"≥ {sla.target_rate * 100:g} % {what} within {format_duration(sla.within.total_seconds())}"
        f"{clock} on {sla.channel}"
    )


def _business(
    outcome: Outcome, stored: float | None, at: datetime | None, business_seconds: BusinessSeconds | None
) -> float | None:
    if stored is not None:
        return stored
    if at is None or business_seconds is None:
        return None
    return business_seconds(outcome, at)


def probe_verdict(
    outcome: Outcome, sla: SLA, business_seconds: BusinessSeconds | None = None
) -> ProbeVerdict:
    """Whether one sent probe met, missed, or cannot yet be judged against an SLA (see the module docstring).

    ``business_seconds`` is consulted only for business time the outcome row does not carry (the first
    reply of any kind, or a human reply or horizon whose business time was not stored); without it such
    probes are undetermined. Raises ValueError for a probe that was never sent.
    """
    if not outcome.was_sent:
        raise ValueError(f"probe {outcome.probe_id} was never sent")
    within = sla.within.total_seconds()
    human = sla.measure == "human"
    replied_at = outcome.first_human_at if human else outcome.first_response_at
    calendar = outcome.human_response_s if human else outcome.response_s
    if calendar is not None:
        if not sla.business_time:
            return "met" if calendar <= within else "missed"
        stored = outcome.human_response_business_s if human else None
        elapsed = _business(outcome, stored, replied_at, business_seconds)
        if elapsed is None:
            return "undetermined"
        return "met" if elapsed <= within else "missed"
    # no qualifying reply by the horizon: missed once it was followed for at least `within`
    if not sla.business_time:
        followed = outcome.observed_for_s()
    else:
        end = outcome.observed_until or outcome.horizon_at
        followed = _business(outcome, outcome.horizon_business_s, end, business_seconds)
    if followed is not None and followed >= within:
        return "missed"
    return "undetermined"


@dataclass(frozen=True)
class SlaResult:
    """One SLA evaluated for one target (or, with ``overall``, for every target together)."""

    sla_id: str
    sla: SLA
    key: str
    label: str
    overall: bool
    met: int
    missed: int
    undetermined: int
    rate: Rate
    status: SlaStatus

    @property
    def n(self) -> int:
        """Sent probes on the SLA's channel (the denominator)."""
        return self.met + self.missed + self.undetermined

    @property
    def description(self) -> str:
        """What the SLA requires (:func:`describe_sla`)."""
        return describe_sla(self.sla)

    def message(self) -> str:
        """One line for people and JUnit: the share, its interval, the target, and the status."""
        if self.n == 0:
            return f"{self.label}: no probe sent on {self.sla.channel}"
        value, low, high = self.rate.value or 0.0, self.rate.low or 0.0, self.rate.high or 0.0
        share = f"{value * 100:.0f} % ({self.met}/{self.n}, 95 % CI {low * 100:.0f}–{high * 100:.0f} %)"
        text = f"{self.label}: {share} within {format_duration(self.sla.within.total_seconds())}"
        text += f", target {self.sla.target_rate * 100:g} %: {self.status}"
        if self.undetermined:
            text += f"; {self.undetermined} undetermined (followed for less than the SLA window)"
        return text


def _status(met: int, undetermined: int, n: int, target_rate: float) -> SlaStatus:
    if n == 0:
        return "no data"
    eps = 1e-12
    if met / n >= target_rate - eps:
        return "met"
    if (met + undetermined) / n < target_rate - eps:
        return "breached"
    return "undetermined"


def _result(
    sla_id: str, sla: SLA, key: str, label: str, overall: bool, verdicts: list[ProbeVerdict]
) -> SlaResult:
    met = verdicts.count("met")
    missed = verdicts.count("missed")
    undetermined = verdicts.count("undetermined")
    n = len(verdicts)
    return SlaResult(
        sla_id=sla_id,
        sla=sla,
        key=key,
        label=label,
        overall=overall,
        met=met,
        missed=missed,
        undetermined=undetermined,
        rate=wilson(met, n),
        status=_status(met, undetermined, n, sla.target_rate),
    )


def evaluate_sla(
    outcomes: Sequence[Outcome],
    sla: SLA,
    sla_id: str = "sla1",
    *,
    business_seconds: BusinessSeconds | None = None,
) -> list[SlaResult]:
    """Evaluate one SLA: a result per target with a probe on its channel (by name), then the overall result.

    The overall result is always present (``no data`` when nothing was sent on the channel).
    """
    per_target: dict[str, list[ProbeVerdict]] = {}
    labels: dict[str, str] = {}
    everything: list[ProbeVerdict] = []
    for o in outcomes:
        if o.channel != sla.channel:
            continue
        verdicts = per_target.setdefault(o.target_id, [])
        labels.setdefault(o.target_id, o.target_name or o.target_id)
        if o.was_sent:
            verdict = probe_verdict(o, sla, business_seconds)
            verdicts.append(verdict)
            everything.append(verdict)
    order = sorted(per_target, key=lambda k: (labels[k].casefold(), k))
    out = [_result(sla_id, sla, k, labels[k], False, per_target[k]) for k in order]
    out.append(_result(sla_id, sla, OVERALL_KEY, OVERALL_LABEL, True, everything))
    return out


@dataclass(frozen=True)
class SlaReport:
    """Every SLA of a run evaluated; ``strict`` makes ``undetermined`` and ``no data`` count as failures."""

    suite: str
    runs: tuple[str, ...]
    slas: tuple[SLA, ...]
    results: tuple[SlaResult, ...]
    strict: bool = False

    def failing(self, result: SlaResult) -> bool:
        """Whether one result fails the check (breached; with ``strict`` also undetermined or no data)."""
        return result.status == "breached" or (self.strict and result.status != "met")

    @property
    def failures(self) -> list[SlaResult]:
        """The results that fail the check."""
        return [r for r in self.results if self.failing(r)]

    @property
    def failed(self) -> bool:
        """True when any result fails (the CLI then exits with code 1)."""
        return bool(self.failures)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the SLAs, then one record per (SLA, target) and per SLA overall."""
        return {
            "suite": self.suite,
            "runs": list(self.runs),
            "strict": self.strict,
            "rule": "point estimate met/sent compared with target_rate",
            "slas": [
                {"id": f"sla{i}", "description": describe_sla(s), **s.model_dump(mode="json")}
                for i, s in enumerate(self.slas, 1)
            ],
            "results": [
                {
                    "sla": r.sla_id,
                    "key": r.key,
                    "label": r.label,
                    "overall": r.overall,
                    "sent": r.n,
                    "met": r.met,
                    "missed": r.missed,
                    "undetermined": r.undetermined,
                    "rate": r.rate.value,
                    "low": r.rate.low,
                    "high": r.rate.high,
                    "target_rate": r.sla.target_rate,
                    "status": r.status,
                    "failed": self.failing(r),
                }
                for r in self.results
            ],
            "failed": self.failed,
        }


def slas_from_snapshot(snapshot: Mapping[str, Any]) -> list[SLA]:
    """The SLAs of the suite a run used, read from the run's snapshot (``snapshot["suite"]["slas"]``).

    Raises pydantic's ValidationError if the stored definitions are malformed.
    """
    suite = snapshot.get("suite") or {}
    return [SLA.model_validate(item) for item in suite.get("slas") or []]


def evaluate_slas(
    outcomes: Sequence[Outcome],
    slas: Sequence[SLA],
    *,
    suite: str = "",
    runs: Sequence[str] = (),
    strict: bool = False,
    business_seconds: BusinessSeconds | None = None,
) -> SlaReport:
    """Evaluate every SLA on the outcomes (ids ``sla1``, ``sla2``, … in definition order)."""
    results: list[SlaResult] = []
    for i, sla in enumerate(slas, 1):
        results.extend(evaluate_sla(outcomes, sla, f"sla{i}", business_seconds=business_seconds))
    return SlaReport(suite=suite, runs=tuple(runs), slas=tuple(slas), results=tuple(results), strict=strict)
