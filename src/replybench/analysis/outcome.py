"""The outcome of one probe: the tidy row every report, statistic and export consumes (design §3).

Field names and meanings are a stable contract (`replybench export`): add fields freely, never rename one
without a migration note in the CHANGELOG.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from replybench.timefmt import iso_ms


@dataclass(frozen=True, slots=True)
class Outcome:
    """One probe, derived from the store: what was sent, what came back, when, and how it was counted.

    Durations are seconds, ``None`` when there was no qualifying reply before the horizon (censored) or the
    probe was never sent. ``censored`` refers to the headline measure, the first human response.
    """

    probe_id: str
    run_id: str
    suite: str
    target_id: str
    target_name: str
    industry: str
    channel: str
    script_id: str
    persona_id: str
    state: str
    sent_at: datetime | None
    sent_clock: str | None
    first_response_at: datetime | None
    first_response_class: str | None
    first_human_at: datetime | None
    bounced: bool
    censored: bool
    horizon_at: datetime | None
    response_s: float | None
    human_response_s: float | None
    human_response_business_s: float | None
    quality: float | None
    first_response_clock: str | None = None
    first_human_clock: str | None = None
    auto_acked: bool = False
    replies: int = 0
    due_at: datetime | None = None
    country: str | None = None
    timezone: str | None = None
    observed_until: datetime | None = None
    horizon_business_s: float | None = None
    deflected: bool = False
    out_of_office: bool = False
    first_auto_at: datetime | None = None
    holding: bool = False
    first_answer_at: datetime | None = None
    answer_response_s: float | None = None
    ticket_id: str | None = None
    promise: str | None = None
    promise_due_at: datetime | None = None
    promise_kept: bool | None = None
    quality_matched: str | None = None
    quality_missing: str | None = None
    answered_all: bool | None = None
    personalised: bool | None = None
    needs_review: bool = False

    @property
    def was_sent(self) -> bool:
        """True when the inquiry reached the company's side (a sent_at exists)."""
        return self.sent_at is not None

    def observed_for_s(self) -> float | None:
        """Seconds a probe without a human reply was followed: to its horizon, or to now while still open."""
        end = self.observed_until or self.horizon_at
        if self.sent_at is None or end is None:
            return None
        return max(0.0, (end - self.sent_at).total_seconds())

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready dict: timestamps as ISO 8601 UTC with milliseconds."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            out[key] = iso_ms(value) if isinstance(value, datetime) else value
        return out


EXPORT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Outcome))
"""Column order of CSV exports; the first 22 are the documented contract of design §3."""
