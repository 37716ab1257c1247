"""Plain records that cross the store API (no database types leak out of the store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from replybench.models import MessageClass, ProbeState


@dataclass(frozen=True)
class RunRecord:
    """One execution of a suite: its plan and a snapshot of the definitions it used (reproducibility)."""

    id: str
    suite_id: str
    created_at: datetime
    status: str
    seed: int
    wait_limit_s: float
    until: str
    snapshot: dict[str, Any] = field(default_factory=dict)
    finished_at: datetime | None = None


@dataclass(frozen=True)
class ProbeRecord:
    """One planned inquiry and everything known about its sending."""

    id: str
    run_id: str
    suite_id: str
    target_id: str
    channel: str
    script_id: str
    persona_id: str
    token: str
    due_at: datetime
    state: ProbeState
    subject: str
    body: str
    to_address: str
    reply_address: str
    message_id: str
    attempt_at: datetime | None = None
    sent_at: datetime | None = None
    sent_clock: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    closes_at: datetime | None = None
    closed_at: datetime | None = None
    error: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class OverrideRecord:
    """A person's decision about a message, which wins over the machine's everywhere.

    ``cls`` is the class they gave (None: the classifier's stands); ``probe_id`` the probe they said the
    message answers (``""``: none; None: the matcher's stands). ``machine_cls`` and ``machine_probe_id`` keep
    what the machine had decided, for the audit.
    """

    who: str
    at: datetime
    note: str | None
    cls: MessageClass | None
    probe_id: str | None
    machine_cls: MessageClass | None
    machine_probe_id: str | None


@dataclass(frozen=True)
class MessageRecord:
    """One inbound message: raw bytes first, then what parsing, matching and classification found.

    ``cls`` and ``probe_id`` are the effective decisions: a person's override (``override``) wins over the
    classifier's and the matcher's.
    """

    id: int
    channel: str
    source: str
    raw: bytes
    sha256: str
    received_at: datetime
    received_clock: str
    observed_at: datetime
    status: str
    uidvalidity: int | None = None
    uid: int | None = None
    message_id: str | None = None
    envelope_from: str | None = None
    envelope_to: tuple[str, ...] = ()
    sender: str | None = None
    subject: str | None = None
    text: str | None = None
    error: str | None = None
    probe_id: str | None = None
    match_method: str | None = None
    match_detail: str | None = None
    cls: MessageClass | None = None
    rule: str | None = None
    confidence: float | None = None
    evidence: str | None = None
    detail: dict[str, str] = field(default_factory=dict)
    match_confidence: float | None = None
    ticket_id: str | None = None
    override: OverrideRecord | None = None

    @property
    def is_holding(self) -> bool:
        """A person's "we'll get back to you": a human reply, but not an answer yet."""
        return self.cls is MessageClass.HUMAN and bool(self.detail.get("holding"))

    @property
    def is_answer(self) -> bool:
        """A person's reply that answers: neither a deflection to another channel nor a holding reply."""
        return self.cls is MessageClass.HUMAN and not self.is_holding


@dataclass(frozen=True)
class EventRecord:
    """Something that happened, for the audit trail (state changes, reconciliations, errors)."""

    id: int
    at: datetime
    kind: str
    run_id: str | None
    probe_id: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class ArtifactRecord:
    """A binary piece of send evidence (a screenshot before or after a form submit), kept with its probe."""

    id: int
    probe_id: str
    name: str
    content_type: str
    sha256: str
    size: int
    data: bytes
    created_at: datetime
