"""Evidence rows: one tidy, display-safe row per matched inbound message, for the reports' evidence section.

Reports consume tables, never store records. :func:`build_evidence` reads the messages matched to the probes
of some runs and reduces each to a :class:`MessageRow`: when and by which clock it arrived, how it was matched
and classified (class, rule, confidence, the classifier's evidence), its Message-ID header, subject and the
start of its text, and whether it arrived after the probe's horizon (so it did not count).

Subject, text, Message-ID and the classifier's evidence come from the company's reply: they are UNTRUSTED.
The rows carry them as plain text, shortened, with whitespace collapsed and control and bidirectional-override
characters removed (so an excerpt cannot fake line structure or reverse the text around it); making them safe
for HTML or Markdown remains the job of the output format's escaping.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from replybench.store import MessageRecord, ProbeRecord, Store

EVIDENCE_CHARS = 200
"""Longest classifier evidence kept in a :class:`MessageRow`."""
SUBJECT_CHARS = 120
"""Longest subject kept in a :class:`MessageRow`."""
EXCERPT_CHARS = 300
"""Longest text excerpt kept in a :class:`MessageRow`."""

# C0/C1 controls (whitespace among them is collapsed first), zero-width and bidirectional formatting characters.
_INVISIBLE = re.compile("[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_SPACE = re.compile(r"\s+")


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
    ``subject`` (at most 120 characters) and ``excerpt`` (the first at most 300 characters of the text) are
    untrusted plain text on one line. ``after_horizon`` is True when the message arrived after the probe's
    horizon (``closes_at``) and therefore counts for no statistic.
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


def message_row(message: MessageRecord, probe: ProbeRecord | None) -> MessageRow:
    """Reduce one stored message (matched to ``probe``) to a :class:`MessageRow`.

    Without a probe, or a probe without a horizon (never sent), ``after_horizon`` is False.
    """
    closes_at = probe.closes_at if probe is not None else None
    mid = clean_text(message.message_id, 300) or None
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
        subject=clean_text(message.subject, SUBJECT_CHARS),
        excerpt=clean_text(message.text, EXCERPT_CHARS),
        after_horizon=closes_at is not None and message.received_at > closes_at,
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
