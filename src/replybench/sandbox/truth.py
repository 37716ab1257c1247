"""Ground truth: what really happened in the sandbox, to compare with what replybench measured.

Every method takes a lock, so the record may be read from another thread while the sandbox's event loop
writes it. Readers get copies, never the live records.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from replybench.sandbox.behaviour import ReplyKind
from replybench.timefmt import iso_ms

ReplyStatus = Literal["planned", "sent", "delivered", "failed", "cancelled", "unroutable"]
DeliveryStatus = Literal["queued", "delivered", "failed", "expired", "cancelled"]


@dataclass(frozen=True)
class ProbeRecord:
    """A probe as a simulated company received it (``company_id`` is None for a mailbox nobody has)."""

    company_id: str | None
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message_id: str | None
    token: str | None
    subject: str
    reply_address: str | None
    received_at: datetime


@dataclass(frozen=True)
class ReplyRecord:
    """A message a simulated company sent (or planned to send) about a probe.

    ``kind`` is what it is (:data:`~replybench.sandbox.behaviour.ReplyKind`): a person's ``human`` answer,
    ``holding`` reply, ``followup`` answer after it (sent to the persona's address without its token, so
    ``rcpt_to`` has none) or ``deflection``; or an automatic ``ack``, ``ooo`` or ``bounce``. ``delay`` is the
    planned seconds from the probe's receipt to ``planned_at``; ``delivered_at`` is when the route answered
    250 for it.
    """

    kind: ReplyKind
    company_id: str | None
    probe_token: str | None
    probe_message_id: str | None
    message_id: str
    mail_from: str
    rcpt_to: str
    planned_at: datetime
    delay: float
    status: ReplyStatus = "planned"
    sent_at: datetime | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class DeliveryRecord:
    """One message handed to a route (a reply, or a probe's copy addressed to a routed domain)."""

    message_id: str | None
    mail_from: str
    rcpt_tos: tuple[str, ...]
    route: str
    queued_at: datetime
    status: DeliveryStatus = "queued"
    attempts: int = 0
    delivered_at: datetime | None = None
    last_error: str | None = None


WebKind = Literal["form_submission", "form_rejected", "chat_opened", "chat_message", "chat_offline"]


@dataclass(frozen=True)
class WebRecord:
    """Something that happened on a company's web page.

    A form submitted (or rejected), a chat opened, a chat message sent by either side, a "leave a message"
    form shown. ``at`` is the server's clock; for a chat message, when the server wrote it to the WebSocket.
    """

    kind: WebKind
    company_id: str
    at: datetime
    conversation: str | None = None
    author: str | None = None
    text: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class _State:
    web: list[WebRecord] = field(default_factory=list)
    probes: list[ProbeRecord] = field(default_factory=list)
    replies: dict[str, ReplyRecord] = field(default_factory=dict)
    deliveries: list[DeliveryRecord] = field(default_factory=list)
    receipts: Counter[str] = field(default_factory=Counter)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_ms(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class GroundTruth:
    """The sandbox's own account of every probe received, every reply planned, and every delivery."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = _State()

    # ------------------------------------------------------------------------------------------- writers

    def record_probe(self, probe: ProbeRecord) -> None:
        """Note that a company received a probe."""
        with self._lock:
            self._state.probes.append(probe)

    def record_web(self, record: WebRecord) -> None:
        """Remember something that happened on a company's web page."""
        with self._lock:
            self._state.web.append(record)

    def web(self, kind: WebKind | None = None, company_id: str | None = None) -> list[WebRecord]:
        """Web events, oldest first, optionally of one kind and one company."""
        with self._lock:
            return [
                r
                for r in self._state.web
                if (kind is None or r.kind == kind) and (company_id is None or r.company_id == company_id)
            ]

    def count_receipt(self, token: str | None) -> None:
        """Count one SMTP transaction that brought the probe ``token`` to the sandbox's companies."""
        if token is None:
            return
        with self._lock:
            self._state.receipts[token] += 1

    def record_reply(self, reply: ReplyRecord) -> None:
        """Note a reply planned by a company."""
        with self._lock:
            self._state.replies[reply.message_id] = reply

    def update_reply(self, message_id: str, **changes: Any) -> None:
        """Change fields of a planned reply (status, sent_at, delivered_at); unknown ids are ignored."""
        with self._lock:
            current = self._state.replies.get(message_id)
            if current is not None:
                self._state.replies[message_id] = replace(current, **changes)

    def record_delivery(self, delivery: DeliveryRecord) -> int:
        """Add a delivery; returns its index for :meth:`update_delivery`."""
        with self._lock:
            self._state.deliveries.append(delivery)
            return len(self._state.deliveries) - 1

    def update_delivery(self, index: int, **changes: Any) -> None:
        """Change fields of a delivery, and mirror its outcome into the reply it carries (if any)."""
        with self._lock:
            delivery = replace(self._state.deliveries[index], **changes)
            self._state.deliveries[index] = delivery
            reply = self._state.replies.get(delivery.message_id or "")
            if reply is None:
                return
            if delivery.status == "delivered":
                self._state.replies[reply.message_id] = replace(
                    reply, status="delivered", delivered_at=delivery.delivered_at
                )
            elif delivery.status in ("failed", "expired", "cancelled"):
                status: ReplyStatus = "cancelled" if delivery.status == "cancelled" else "failed"
                self._state.replies[reply.message_id] = replace(reply, status=status)

    # ------------------------------------------------------------------------------------------- readers

    @property
    def probes(self) -> list[ProbeRecord]:
        """Every probe received, in order of receipt."""
        with self._lock:
            return list(self._state.probes)

    @property
    def replies(self) -> list[ReplyRecord]:
        """Every reply planned, in order of planning."""
        with self._lock:
            return list(self._state.replies.values())

    @property
    def deliveries(self) -> list[DeliveryRecord]:
        """Every message handed to a route, in order of queueing."""
        with self._lock:
            return list(self._state.deliveries)

    def reply(self, message_id: str) -> ReplyRecord | None:
        """Return the reply with this Message-ID, if the sandbox planned it."""
        with self._lock:
            return self._state.replies.get(message_id)

    def replies_for(self, token: str) -> list[ReplyRecord]:
        """Return the replies planned for the probe with this token."""
        with self._lock:
            return [r for r in self._state.replies.values() if r.probe_token == token]

    def received_count(self, token: str) -> int:
        """How many times the probe with this token reached the sandbox (more than once means a re-send)."""
        with self._lock:
            return self._state.receipts[token]

    @property
    def receipt_counts(self) -> dict[str, int]:
        """Receipts per probe token."""
        with self._lock:
            return dict(self._state.receipts)

    def to_dict(self) -> dict[str, Any]:
        """Return the whole record as plain JSON-ready data (times as ISO 8601 UTC with milliseconds)."""
        with self._lock:
            data = {
                "probes": [asdict(p) for p in self._state.probes],
                "replies": [asdict(r) for r in self._state.replies.values()],
                "deliveries": [asdict(d) for d in self._state.deliveries],
                "receipts": dict(self._state.receipts),
                "web": [asdict(w) for w in self._state.web],
            }
        result: dict[str, Any] = _jsonable(data)
        return result

    def to_json(self, *, indent: int | None = 2) -> str:
        """Return the record as a JSON document."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    def dump(self, path: str | Path) -> Path:
        """Write the record as JSON to ``path`` (parents created); returns the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.to_json() + "\n", encoding="utf-8")
        return target
