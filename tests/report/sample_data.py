"""A realistic set of ~40 outcomes (8 targets, 3 industries) for the report tests, plus small builders."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from replybench.analysis.outcome import Outcome
from replybench.report.render import ReportMeta

START = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
WAIT = timedelta(days=7)
MIN, HOUR, DAY = 60.0, 3600.0, 86400.0

# target_id, name, industry, country, time zone
TARGETS: list[tuple[str, str, str, str, str]] = [
    ("nordbank", "Nordbank AG", "banking", "DE", "Europe/Berlin"),
    ("kreditwerk", "Kreditwerk Direkt", "banking", "DE", "Europe/Berlin"),
    ("alpenkasse", "Alpenkasse", "banking", "AT", "Europe/Vienna"),
    ("telemax", "Telemax Mobile", "telecom", "DE", "Europe/Berlin"),
    ("funkfix", "FunkFix", "telecom", "CH", "Europe/Zurich"),
    ("netzwelle", "Netzwelle Fiber", "telecom", "DE", "Europe/Berlin"),
    ("shopline", "Shopline", "retail", "NL", "Europe/Amsterdam"),
    ("warenkorb", "Warenkorb24 GmbH & Co. KG", "retail", "DE", "Europe/Berlin"),
]

# Per target, five probes: (kind, ack delay s, human delay s). Kinds:
#   "human": a person answered (after an optional auto-acknowledgement)
#   "ack":   only an auto-acknowledgement, censored for the headline
#   "none":  no reply at all, censored at the horizon
#   "bounce": bounced after the 250, censored
#   "failed" / "skipped" / "uncertain" / "blocked": never sent
PLAN: dict[str, list[tuple[str, float | None, float | None]]] = {
    "nordbank": [
        ("human", 4.2, 2 * HOUR + 12 * MIN),
        ("human", 3.9, 5 * HOUR + 40 * MIN),
        ("human", 5.1, 1 * HOUR + 3 * MIN),
        ("human", 4.4, 26 * HOUR),
        ("ack", 4.0, None),
    ],
    "kreditwerk": [
        ("human", None, 2 * DAY + 3 * HOUR),
        ("human", None, 3 * DAY + 20 * HOUR),
        ("none", None, None),
        ("none", None, None),
        ("failed", None, None),
    ],
    "alpenkasse": [
        ("human", 0.8, 41 * MIN),
        ("human", 0.9, 18 * MIN),
        ("human", 0.7, 1 * HOUR + 55 * MIN),
        ("human", 1.1, 33 * MIN),
        ("human", 0.6, 3 * HOUR + 5 * MIN),
    ],
    "telemax": [
        ("human", 12.0, 20 * HOUR),
        ("human", 11.0, 1 * DAY + 22 * HOUR),
        ("ack", 10.5, None),
        ("human", 13.0, 4 * HOUR + 10 * MIN),
        ("skipped", None, None),
    ],
    "funkfix": [
        ("bounce", None, None),
        ("bounce", None, None),
        ("none", None, None),
        ("human", None, 5 * DAY + 2 * HOUR),
        ("uncertain", None, None),
    ],
    "netzwelle": [
        ("human", 2.0, 7 * MIN),
        ("human", 2.2, 12 * MIN),
        ("human", 1.9, 25 * MIN),
        ("ack", 2.1, None),
        ("human", 2.4, 9 * MIN),
    ],
    "shopline": [
        ("human", 30.0, 50 * MIN),
        ("human", 28.0, 2 * HOUR + 30 * MIN),
        ("human", 31.0, 6 * HOUR + 45 * MIN),
        ("human", 29.0, 14 * HOUR + 5 * MIN),
        ("blocked", None, None),
    ],
    "warenkorb": [
        ("ack", 1.2, None),
        ("ack", 1.4, None),
        ("human", 1.3, 3 * DAY + 4 * HOUR),
        ("none", None, None),
        ("human", 1.1, 6 * DAY + 1 * HOUR),
    ],
}

NOT_SENT = {"failed", "skipped", "uncertain", "blocked"}


def make_outcome(**overrides: Any) -> Outcome:
    """A sent probe with a human reply after one hour; override any field."""
    sent = START
    base = Outcome(
        probe_id="p-0001",
        run_id="run-1",
        suite="baseline",
        target_id="acme",
        target_name="ACME Corp",
        industry="retail",
        channel="email",
        script_id="refund-question",
        persona_id="anna",
        state="closed",
        sent_at=sent,
        sent_clock="smtp-250",
        first_response_at=sent + timedelta(hours=1),
        first_response_class="human",
        first_human_at=sent + timedelta(hours=1),
        bounced=False,
        censored=False,
        horizon_at=sent + WAIT,
        response_s=3600.0,
        human_response_s=3600.0,
        human_response_business_s=3600.0,
        quality=None,
        first_response_clock="smtp-inbound-ms",
        first_human_clock="smtp-inbound-ms",
        auto_acked=False,
        replies=1,
        due_at=sent,
        country="DE",
        timezone="Europe/Berlin",
    )
    return replace(base, **overrides)


def _business(seconds: float) -> float:
    """A plausible business-time share of a wall-clock delay (roughly 8 h of every 24 h)."""
    return round(seconds / 3.0 if seconds > 8 * HOUR else seconds * 0.9, 3)


def sample_outcomes() -> list[Outcome]:
    """Forty probes over eight targets in banking, telecom and retail."""
    rows: list[Outcome] = []
    n = 0
    for t_index, (tid, name, industry, country, tz) in enumerate(TARGETS):
        for p_index, (kind, ack, human) in enumerate(PLAN[tid]):
            n += 1
            due = START + timedelta(hours=3 * p_index + t_index, minutes=7 * t_index)
            common: dict[str, Any] = {
                "probe_id": f"01JNQ{n:03d}{tid[:4].upper()}",
                "run_id": "run-2025-03-03",
                "target_id": tid,
                "target_name": name,
                "industry": industry,
                "country": country,
                "timezone": tz,
                "due_at": due,
                "script_id": ("refund-question", "contract-change", "address-update")[p_index % 3],
                "persona_id": ("anna", "jonas")[p_index % 2],
            }
            if kind in NOT_SENT:
                rows.append(
                    make_outcome(
                        **common,
                        state=kind,
                        sent_at=None,
                        sent_clock=None,
                        first_response_at=None,
                        first_response_class=None,
                        first_human_at=None,
                        horizon_at=None,
                        response_s=None,
                        human_response_s=None,
                        human_response_business_s=None,
                        first_response_clock=None,
                        first_human_clock=None,
                        replies=0,
                    )
                )
                continue
            sent = due + timedelta(seconds=1.234 + p_index)
            clock = "imap-internaldate" if tid in {"funkfix", "warenkorb"} else "smtp-inbound-ms"
            first_s: float | None = None
            first_class: str | None = None
            if ack is not None:
                first_s, first_class = ack, "auto_ack"
            if human is not None and first_s is None:
                first_s, first_class = human, "human"
            rows.append(
                make_outcome(
                    **common,
                    state="closed",
                    sent_at=sent,
                    first_response_at=None if first_s is None else sent + timedelta(seconds=first_s),
                    first_response_class=first_class,
                    first_human_at=None if human is None else sent + timedelta(seconds=human),
                    bounced=kind == "bounce",
                    censored=human is None,
                    horizon_at=sent + WAIT,
                    response_s=first_s,
                    human_response_s=human,
                    human_response_business_s=None if human is None else _business(human),
                    first_response_clock=None if first_s is None else clock,
                    first_human_clock=None if human is None else clock,
                    auto_acked=ack is not None,
                    replies=(ack is not None) + (human is not None) + (kind == "bounce"),
                )
            )
    return rows


def sample_meta(**overrides: Any) -> ReportMeta:
    """Report metadata matching :func:`sample_outcomes`."""
    base = ReportMeta(
        title="Customer e-mail response times, DACH & Benelux, March 2025",
        workspace="acme-research",
        suites=("baseline",),
        runs=("run-2025-03-03",),
        generated_at=datetime(2025, 3, 12, 9, 30, tzinfo=UTC),
        wait_limits={"baseline": WAIT.total_seconds()},
        notes=("Pilot study: five inquiries per company; intervals are wide by design.",),
    )
    return replace(base, **overrides)


HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)> javascript:alert(1) | `x` *y*"


def hostile_outcomes() -> list[Outcome]:
    """Sample outcomes plus one whose reply-derived and free-text fields carry markup."""
    evil = make_outcome(
        probe_id="p-evil",
        target_id="evil",
        target_name="Evil " + HOSTILE,
        industry="retail " + HOSTILE,
        first_response_class=HOSTILE,
        first_response_clock=HOSTILE,
        first_human_clock="javascript:alert(1)",
        state="closed" + HOSTILE,
        script_id=HOSTILE,
        persona_id=HOSTILE,
    )
    return [*sample_outcomes(), evil]
