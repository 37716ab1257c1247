"""The outcome of one probe: the tidy row every report, statistic and export consumes (design §3).

Field names and meanings are a stable contract (`replybench export`): add fields freely, never rename one
without a migration note in the CHANGELOG.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from replybench.timefmt import iso_ms


@dataclass(frozen=True, slots=True)
class Answers:
    """What a probe's replies were worth (reply intelligence), kept apart from :class:`Outcome`'s timing.

    A probe without any of it (no reply, no promise, no rubric) carries None instead, which keeps a million
    outcome rows 88 MB smaller; :class:`Outcome` reads every field through a property either way.
    """

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


NO_ANSWERS = Answers()
ANSWER_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Answers))


def answers_of(**values: Any) -> Answers | None:
    """An :class:`Answers` of the given fields, or None when every one is at its default."""
    found = Answers(**values)
    return None if found == NO_ANSWERS else found


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
    answers: Answers | None = None

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

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Outcome:
        """An outcome from flat, typed values (an export record with its timestamps parsed back)."""
        values = dict(record)
        answers = {name: values.pop(name) for name in ANSWER_FIELDS if name in values}
        return cls(**values, answers=answers_of(**answers))

    def with_answers(self, **values: Any) -> Outcome:
        """A copy with some :class:`Answers` fields changed (``holding=True``, ``promise_kept=False`` ...)."""
        merged = {name: getattr(self, name) for name in ANSWER_FIELDS} | values
        return replace(self, answers=answers_of(**merged))

    # Reply intelligence, read through one optional record (see Answers).

    @property
    def holding(self) -> bool:
        """A person's holding reply came ("we'll get back to you")."""
        return (self.answers or NO_ANSWERS).holding

    @property
    def first_answer_at(self) -> datetime | None:
        """When the first real answer came (neither deflection nor holding reply)."""
        return (self.answers or NO_ANSWERS).first_answer_at

    @property
    def answer_response_s(self) -> float | None:
        """Seconds from sending to the first real answer."""
        return (self.answers or NO_ANSWERS).answer_response_s

    @property
    def ticket_id(self) -> str | None:
        """The help desk's ticket id, as a message named it."""
        return (self.answers or NO_ANSWERS).ticket_id

    @property
    def promise(self) -> str | None:
        """The response-time promise the company stated, as it wrote it."""
        return (self.answers or NO_ANSWERS).promise

    @property
    def promise_due_at(self) -> datetime | None:
        """When the promise fell due for this probe."""
        return (self.answers or NO_ANSWERS).promise_due_at

    @property
    def promise_kept(self) -> bool | None:
        """True kept, False broken, None undetermined (or no promise)."""
        return (self.answers or NO_ANSWERS).promise_kept

    @property
    def quality_matched(self) -> str | None:
        """Rubric points the best human reply made ("; "-joined labels)."""
        return (self.answers or NO_ANSWERS).quality_matched

    @property
    def quality_missing(self) -> str | None:
        """Required rubric points it missed."""
        return (self.answers or NO_ANSWERS).quality_missing

    @property
    def answered_all(self) -> bool | None:
        """Whether every required rubric point was made."""
        return (self.answers or NO_ANSWERS).answered_all

    @property
    def personalised(self) -> bool | None:
        """Whether the best reply used the persona's name."""
        return (self.answers or NO_ANSWERS).personalised

    @property
    def needs_review(self) -> bool:
        """Whether an unsure decision about one of its messages awaits a person."""
        return (self.answers or NO_ANSWERS).needs_review

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready, flat dict (the export's columns): timestamps as ISO 8601 UTC with milliseconds."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "answers":
                continue
            value = getattr(self, f.name)
            out[f.name] = iso_ms(value) if isinstance(value, datetime) else value
        answers = self.answers or NO_ANSWERS
        for name in ANSWER_FIELDS:
            value = getattr(answers, name)
            out[name] = iso_ms(value) if isinstance(value, datetime) else value
        return out


EXPORT_FIELDS: tuple[str, ...] = (
    *(f.name for f in fields(Outcome) if f.name != "answers"),
    *ANSWER_FIELDS,
)
"""Column order of CSV exports; the first 22 are the documented contract of design §3."""
