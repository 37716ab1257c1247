"""Evidence rows: one tidy, display-safe row per matched inbound message, for the reports' evidence section.

Reports consume tables, never store records. :func:`build_evidence` reads the messages matched to the probes
of some runs and reduces each to a :class:`MessageRow`: when and by which clock it arrived, how it was matched
(method and confidence) and classified (class, rule, confidence, the classifier's evidence), what the
classifier flagged (a deflection phrase, a holding reply, a ticket id), whether a person decided its class or
probe (who, when, their note, and what the machine had said), its Message-ID header, subject and the start of
the reply's own words (:func:`replybench.classify.newtext.new_text`: no quoted original, no signature), and
whether it arrived after the probe's horizon (so it did not count).

Subject, text, Message-ID, ticket id, the deflection phrase and the classifier's evidence come from the
company's reply, and a reviewer's name and note are free text: they are UNTRUSTED.
The rows carry them as plain text, shortened, with whitespace collapsed and control and bidirectional-override
characters removed (so an excerpt cannot fake line structure or reverse the text around it); making them safe
for HTML or Markdown remains the job of the output format's escaping.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from replybench.classify.newtext import new_text
from replybench.models import HUMAN_CLASSES, SOCIAL_NETWORKS
from replybench.store import MessageRecord, ProbeRecord, Store

EVIDENCE_CHARS = 200
"""Longest classifier evidence kept in a :class:`MessageRow`."""
SUBJECT_CHARS = 120
"""Longest subject kept in a :class:`MessageRow`."""
EXCERPT_CHARS = 300
"""Longest text excerpt kept in a :class:`MessageRow`."""
EXCERPT_SOURCE_CHARS = 4000
"""How much of a message's text is split into its own words for the excerpt (the excerpt is the start)."""
FLAG_CHARS = 120
"""Longest deflection phrase, ticket id, reviewer name or note kept in a :class:`MessageRow`."""

# C0/C1 controls (whitespace among them is collapsed first), zero-width and bidirectional formatting characters.
_INVISIBLE = re.compile("[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_SPACE = re.compile(r"\s+")


def _heading(message: MessageRecord) -> str | None:
    """An email's subject; a social post has none, so its author (``@handle``) heads it."""
    if message.subject or message.channel not in SOCIAL_NETWORKS or not message.sender:
        return message.subject
    return "@" + message.sender


def clean_text(value: str | None, limit: int) -> str:
    """Return ``value`` as one line of at most ``limit`` characters ("…" marks a cut); "" for None.

    Whitespace runs (line breaks included) become one space; control, zero-width and bidirectional
    formatting characters are dropped. The result is plain text, not escaped for any format.
    """
    if not value:
        return ""
    text = _SPACE.sub(" ", value)
    text = _INVISIBLE.sub("", text).strip()
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "…"


@dataclass(frozen=True)
class MessageRow:
    """One inbound message matched to a probe, as the reports show it.

    ``message_store_id`` is the store's id of the message; ``message_id`` its Message-ID header (untrusted).
    ``clock`` names the source of ``received_at`` (``smtp-receipt``, ``imap-internaldate``, …). ``cls``,
    ``rule`` and ``confidence`` are the classifier's decision (None before classification); ``evidence`` is
    what the rule saw (at most 200 characters), ``match_method`` how the message was tied to its probe.
    ``subject`` (at most 120 characters) and ``excerpt`` (the start of the reply's own words, at most 300) are
    untrusted plain text on one line. ``after_horizon`` is True when the message arrived after the probe's
    horizon (``closes_at``) and therefore counts for no statistic.

    Added later (defaults keep older constructors working): ``match_confidence``, how sure the matcher was;
    ``deflection``, the phrase that sent us to another channel ("" when none); ``holding``, a person's "we
    will get back to you"; ``ticket_id``, the company's ticket number. When a person decided (``replybench
    review``), ``decided_by``/``decided_at``/``decision_note`` say who, when and why, and ``machine_cls``
    (``machine_probe_id``) what the machine had said when the person changed the class (the probe; "" for
    no probe). ``cls`` and ``probe_id`` are always the effective decisions.
    """

    probe_id: str
    message_store_id: int
    received_at: datetime
    clock: str
    cls: str | None
    rule: str | None
    confidence: float | None
    evidence: str
    match_method: str | None
    message_id: str | None
    subject: str
    excerpt: str
    after_horizon: bool
    match_confidence: float | None = None
    deflection: str = ""
    holding: bool = False
    ticket_id: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str = ""
    machine_cls: str | None = None
    machine_probe_id: str | None = None

    @property
    def decided(self) -> bool:
        """True when a person decided this message's class or probe."""
        return self.decided_by is not None


def message_row(message: MessageRecord, probe: ProbeRecord | None) -> MessageRow:
    """Reduce one stored message (matched to ``probe``) to a :class:`MessageRow`.

    Without a probe, or a probe without a horizon (never sent), ``after_horizon`` is False. The excerpt is
    the start of the reply's own words; a text that is all quotation keeps its start instead.
    """
    closes_at = probe.closes_at if probe is not None else None
    mid = clean_text(message.message_id, 300) or None
    person = message.cls in HUMAN_CLASSES
    own = new_text(message.text[:EXCERPT_SOURCE_CHARS]) if message.text else ""
    decision = message.override
    machine_cls: str | None = None
    machine_probe: str | None = None
    if decision is not None:
        if decision.cls is not None and decision.machine_cls is not decision.cls:
            machine_cls = decision.machine_cls.value if decision.machine_cls is not None else "unclassified"
        if decision.probe_id is not None and decision.machine_probe_id != (decision.probe_id or None):
            machine_probe = decision.machine_probe_id or ""
    return MessageRow(
        probe_id=message.probe_id or "",
        message_store_id=message.id,
        received_at=message.received_at,
        clock=message.received_clock,
        cls=message.cls.value if message.cls is not None else None,
        rule=clean_text(message.rule, 80) or None,
        confidence=message.confidence,
        evidence=clean_text(message.evidence, EVIDENCE_CHARS),
        match_method=message.match_method,
        message_id=mid,
        subject=clean_text(_heading(message), SUBJECT_CHARS),
        excerpt=clean_text(own or message.text, EXCERPT_CHARS),
        after_horizon=closes_at is not None and message.received_at > closes_at,
        match_confidence=message.match_confidence,
        # A "please call us" inside an autoresponder is the company's automation, not a person deflecting.
        deflection=clean_text(message.detail.get("deflection"), FLAG_CHARS) if person else "",
        holding=message.is_holding,
        ticket_id=clean_text(message.ticket_id, FLAG_CHARS) or None,
        decided_by=None if decision is None else clean_text(decision.who, FLAG_CHARS) or "someone",
        decided_at=None if decision is None else decision.at,
        decision_note="" if decision is None else clean_text(decision.note, FLAG_CHARS),
        machine_cls=machine_cls,
        machine_probe_id=None if machine_probe is None else clean_text(machine_probe, 80),
    )


def build_evidence(store: Store, run_ids: Iterable[str]) -> list[MessageRow]:
    """Return one :class:`MessageRow` per message matched to a probe of the given runs.

    Rows come run by run in the order given, each run's messages in received order (store id breaking
    ties). Unknown run ids contribute nothing.
    """
    rows: list[MessageRow] = []
    for run_id in dict.fromkeys(run_ids):
        probes = {p.id: p for p in store.probes(run_id)}
        for message in store.messages(run_id=run_id):
            if message.probe_id is None:
                continue
            rows.append(message_row(message, probes.get(message.probe_id)))
    return rows
