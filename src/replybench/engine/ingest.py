"""The inbound sink: store raw first, then parse, match, classify, and apply what the message proves.

A listener awaits :meth:`Ingestor.accept`; it returns as soon as the raw bytes are committed (fsynced), so an
SMTP server answers 250 only for mail that is safe, and answers it without waiting for the analysis. Parsing,
matching and classification run right after, off the listener's path; they are re-derivable and guarded: a
message that breaks the parser is stored and marked, never lost, and never stops a listener. A message left
unprocessed by a crash (status ``raw``) is processed when the engine starts again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from replybench.channels.base import InboundItem, SendReceipt
from replybench.channels.chatlog import ChatMessage, MalformedChatItem
from replybench.channels.social import MalformedSocialItem, manual_reply_of, parse_item
from replybench.classify import classify_parsed
from replybench.classify.chat import classify_chat
from replybench.classify.social import classify_post
from replybench.engine.match import match_message
from replybench.engine.match_social import match_post
from replybench.mailparse import MalformedEmail, ParsedEmail, parse_email
from replybench.models import HUMAN_CLASSES, REVIEW_THRESHOLD, SOCIAL_NETWORKS, MessageClass, ProbeState
from replybench.store import MessageRecord, Store
from replybench.timefmt import utcnow

log = logging.getLogger(__name__)


class Ingestor:
    """Receives every inbound item of a running engine."""

    def __init__(
        self, store: Store, *, wait_limits: Callable[[str], tuple[timedelta, str] | None] | None = None
    ):
        self.store = store
        self._wait_limits = wait_limits or self._run_limits
        self.received = 0
        self.duplicates = 0
        self._pending: set[asyncio.Task[None]] = set()

    def _run_limits(self, run_id: str) -> tuple[timedelta, str] | None:
        """A run's wait limit and what it waits for, read from the store."""
        run = self.store.get_run(run_id)
        return None if run is None else (timedelta(seconds=run.wait_limit_s), run.until)

    async def accept(self, item: InboundItem) -> None:
        """Store ``item`` durably and return; its processing follows on the event loop."""
        message_id, is_new = self.store.add_inbound(item)
        if not is_new:
            self.duplicates += 1
            return
        self.received += 1
        task = asyncio.get_running_loop().create_task(self._process_soon(message_id))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _process_soon(self, message_id: int) -> None:
        self.safe_process(message_id)

    def safe_process(self, message_id: int) -> None:
        """Process a stored message; a failure is logged and marked on the message, never raised."""
        try:
            self.process(message_id)
        except Exception:
            log.exception("message %s stored raw but could not be processed", message_id)
            self.store.record_parse(message_id, status="error", error="processing failed; see the log")

    def process_leftovers(self) -> int:
        """Process every message a previous process stored but did not get to (status ``raw``)."""
        ids = self.store.message_ids_with_status("raw")
        for message_id in ids:
            self.safe_process(message_id)
        return len(ids)

    async def drain(self) -> None:
        """Wait until every accepted message has been processed."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def process(self, message_id: int) -> None:
        """Parse, match and classify a stored message (idempotent: can be re-run at any time)."""
        record = self.store.get_message(message_id)
        if record is None:
            return
        if record.channel == "chat":
            self._process_chat(record)
            return
        if record.channel in SOCIAL_NETWORKS:
            self._process_social(record)
            return
        parsed: ParsedEmail | None
        try:
            parsed = parse_email(record.raw)
        except MalformedEmail as exc:
            parsed = None
            self.store.record_parse(message_id, status="malformed", error=str(exc)[:500])
        else:
            # A message cut short by a parsing limit is kept whole (raw) and marked, so a person can look.
            limited = "cut by parsing limits: " + ", ".join(parsed.limits) if parsed.limits else None
            self.store.record_parse(
                message_id,
                status="limited" if limited else "parsed",
                sender=parsed.from_addr,
                subject=parsed.subject,
                text=parsed.text,
                error=limited,
            )
        verdict = classify_parsed(parsed) if parsed is not None else None
        match = match_message(
            self.store,
            record.envelope_to,
            parsed,
            received_at=record.received_at,
            raw=record.raw,
            ticket_id=verdict.detail.get("ticket_id") if verdict else None,
        )
        self.store.record_match(
            message_id, match.probe.id if match.probe else None, match.method, match.detail, match.confidence
        )
        if match.own_copy:
            self.store.record_class(
                message_id, MessageClass.OWN_COPY, "own_copy." + (match.method or ""), 1.0, match.detail, {}
            )
        elif verdict is not None:
            self.store.record_class(
                message_id,
                verdict.cls,
                verdict.rule,
                verdict.confidence,
                verdict.evidence,
                dict(verdict.detail),
            )
        else:
            self.store.record_class(message_id, MessageClass.UNKNOWN, "malformed", 0.0, "", {})
        if match.probe is not None and (match.confidence or 0.0) >= REVIEW_THRESHOLD:
            updated = self.store.get_message(message_id)
            if updated is not None:
                self._apply(updated)

    def _process_chat(self, record: MessageRecord) -> None:
        """A chat message names its probe (the conversation the chat channel opened for it)."""
        try:
            chat = ChatMessage.from_json(record.raw)
        except MalformedChatItem as exc:
            self.store.record_parse(record.id, status="malformed", error=str(exc)[:500])
            self.store.record_class(record.id, MessageClass.UNKNOWN, "malformed", 0.0, "", {})
            return
        self.store.record_parse(
            record.id, status="parsed", sender=chat.name or chat.author, subject=None, text=chat.text
        )
        probe = self.store.get_probe(chat.probe_id)
        if probe is None or probe.token != chat.token:
            self.store.record_match(record.id, None, None, "chat item names no known probe")
            return
        self.store.record_match(
            record.id, probe.id, "conversation", f"chat session of probe {probe.id}", confidence=1.0
        )
        if chat.author == "visitor":
            self.store.record_class(
                record.id, MessageClass.OWN_COPY, "own_copy.chat", 1.0, chat.text[:80], {}
            )
        else:
            c = classify_chat(chat)
            self.store.record_class(record.id, c.cls, c.rule, c.confidence, c.evidence, dict(c.detail))
        updated = self.store.get_message(record.id)
        if updated is not None:
            self._apply(updated)

    def _process_social(self, record: MessageRecord) -> None:
        """A social post: matched by threading or mention, then classified by the social rules."""
        try:
            post = parse_item(record.channel, record.raw)
        except MalformedSocialItem as exc:
            self.store.record_parse(record.id, status="malformed", error=str(exc)[:500])
            self.store.record_match(record.id, None, None, "unreadable social item")
            self.store.record_class(record.id, MessageClass.UNKNOWN, "malformed", 0.0, "", {})
            return
        self.store.record_parse(record.id, status="parsed", sender=post.author, subject=None, text=post.text)
        manual = manual_reply_of(record.raw)
        match = match_post(self.store, post, manual_probe_id=manual.probe_id if manual else None)
        self.store.record_match(
            record.id, match.probe.id if match.probe else None, match.method, match.detail, match.confidence
        )
        if match.own_copy:
            self.store.record_class(
                record.id, MessageClass.OWN_COPY, f"own_copy.{post.network}", 1.0, post.text[:80], {}
            )
            return
        verdict = classify_post(post, sent_at=match.probe.sent_at if match.probe else None)
        self.store.record_class(
            record.id, verdict.cls, verdict.rule, verdict.confidence, verdict.evidence, dict(verdict.detail)
        )
        if match.probe is not None and (match.confidence or 0.0) >= REVIEW_THRESHOLD:
            updated = self.store.get_message(record.id)
            if updated is not None:
                self._apply(updated)

    def _apply(self, message: MessageRecord) -> None:
        """What a matched message proves about its probe: that it was sent, or that it can close."""
        assert message.probe_id is not None
        probe = self.store.get_probe(message.probe_id)
        if probe is None:
            return
        limits = self._wait_limits(probe.run_id)
        if probe.state is ProbeState.UNCERTAIN and limits is not None:
            # A copy or a reply proves the relay accepted the probe: reconcile it (design §3).
            if message.cls is MessageClass.OWN_COPY:
                sent_at, clock, how = message.received_at, "sent-copy-receipt", "own blind copy received"
            else:
                sent_at = probe.attempt_at or message.received_at
                clock, how = "send-attempt", "a reply carries its token"
            receipt = SendReceipt(
                sent_at=sent_at, clock=clock, evidence={"reconciled": how, **probe.evidence}
            )
            if self.store.mark_sent(probe.id, receipt, sent_at + limits[0]):
                self.store.log_event(
                    "reconciled", run_id=probe.run_id, probe_id=probe.id, detail={"how": how}
                )
            probe = self.store.get_probe(probe.id) or probe
        if (
            probe.state is ProbeState.SENT
            and limits is not None
            and limits[1] == "human"
            and message.cls in HUMAN_CLASSES
            # A holding reply ("we'll get back to you") announces the answer: keep watching for it.
            and not message.is_holding
            and probe.closes_at is not None
            and message.received_at <= probe.closes_at
        ):
            self.store.close_probe(probe.id, utcnow(), "human response")


def reconcile_sending(store: Store, run_id: str, wait_limit: timedelta, now: datetime) -> dict[str, int]:
    """After a restart: settle every probe left in ``sending`` by a previous process. Never re-sends.

    A probe whose own blind copy or a reply reached the store is ``sent`` (sent_at from the copy's receipt, or
    the attempt time when only a reply proves it); any other is ``uncertain``.
    """
    counts = {"sent": 0, "uncertain": 0}
    for probe in store.probes(run_id, [ProbeState.SENDING]):
        messages = store.messages(probe_id=probe.id)
        copies = [m for m in messages if m.cls is MessageClass.OWN_COPY]
        replies = [m for m in messages if m.cls is not MessageClass.OWN_COPY]
        if copies:
            receipt = SendReceipt(
                copies[0].received_at,
                "sent-copy-receipt",
                {"reconciled": "own blind copy received", "message_id": probe.message_id},
            )
        elif replies:
            receipt = SendReceipt(
                probe.attempt_at or replies[0].received_at,
                "send-attempt",
                {"reconciled": "a reply carries its token", "message_id": probe.message_id},
            )
        else:
            store.mark_uncertain(probe.id, "interrupted during sending; no copy or reply proves it was sent")
            counts["uncertain"] += 1
            continue
        store.mark_sent(probe.id, receipt, receipt.sent_at + wait_limit)
        store.log_event("reconciled", run_id=run_id, probe_id=probe.id, detail=receipt.evidence)
        counts["sent"] += 1
    return counts
