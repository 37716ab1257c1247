"""The SQLite store: WAL mode, synchronous=FULL (a committed row survives a crash), versioned schema."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Any

from replybench.channels.base import InboundItem, SendReceipt
from replybench.errors import StoreError
from replybench.models import MessageClass, ProbeState
from replybench.store.records import (
    ArtifactRecord,
    EventRecord,
    MessageRecord,
    OverrideRecord,
    ProbeRecord,
    RunRecord,
)
from replybench.store.schema import LATEST_VERSION, MIGRATIONS
from replybench.timefmt import as_utc, utcnow

_TS = "%Y-%m-%dT%H:%M:%S.%fZ"
# The probe a message answers once a person's override is applied (o: overrides, m: messages).
_EFFECTIVE_PROBE = "(CASE WHEN o.probe_id IS NULL THEN m.probe_id ELSE NULLIF(o.probe_id, '') END)"


def _ts(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).strftime(_TS)


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _req_dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def message_id_hint(raw: bytes) -> str | None:
    """The Message-ID header of raw bytes, read tolerantly (never raises); None if absent or unreadable."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:256_000])
        value = headers.get("Message-ID")
    except Exception:
        return None
    if not value:
        return None
    text = str(value).strip()
    return text if 3 <= len(text) <= 998 and "\n" not in text else None


class SqliteStore:
    """The store API over one SQLite file. Every method commits before returning.

    Commits that the at-most-once and nothing-lost guarantees rest on (a probe becoming ``sending``, raw
    inbound bytes) are fsynced (``synchronous=FULL``); the rest are re-derivable or reconciled after a power
    loss and skip the fsync (``synchronous=NORMAL``, still safe against a process crash in WAL mode).
    """

    backend = "sqlite"

    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the store {path}: {exc}") from exc
        self._lock = threading.RLock()
        self._durable = True
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    # ------------------------------------------------------------------------------------------ plumbing

    @contextmanager
    def _tx(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        # One connection serves the event loop and listener threads; the lock keeps transactions whole.
        with self._lock:
            if durable != self._durable:
                self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
                self._durable = durable
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    def _migrate(self) -> None:
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TEXT)"
        )
        row = self._db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        current = row[0] or 0
        if current > LATEST_VERSION:
            raise StoreError(
                f"the store {self.path} has schema version {current}, newer than this replybench "
                f"({LATEST_VERSION}): upgrade replybench"
            )
        for version, _title, sql in MIGRATIONS:
            if version <= current:
                continue
            with self._tx() as db:
                for statement in (s.strip() for s in sql.split(";")):
                    if statement:
                        db.execute(statement)
                db.execute("INSERT INTO schema_version VALUES (?, ?)", (version, _ts(utcnow())))

    def schema_version(self) -> int:
        """The schema version the store is at."""
        return int(self._db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0])

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    # ------------------------------------------------------------------------------------------ runs

    def create_run(self, run: RunRecord, probes: Sequence[ProbeRecord]) -> None:
        """Store a new run and its planned probes in one transaction."""
        with self._tx(durable=True) as db:
            db.execute(
                "INSERT INTO runs (id, suite_id, created_at, status, seed, wait_limit_s, until, snapshot)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.id,
                    run.suite_id,
                    _ts(run.created_at),
                    run.status,
                    run.seed,
                    run.wait_limit_s,
                    run.until,
                    json.dumps(run.snapshot, default=str),
                ),
            )
            db.executemany(
                "INSERT INTO probes (id, run_id, suite_id, target_id, channel, script_id, persona_id, token,"
                " due_at, state, subject, body, to_address, reply_address, message_id, error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        p.id,
                        p.run_id,
                        p.suite_id,
                        p.target_id,
                        p.channel,
                        p.script_id,
                        p.persona_id,
                        p.token,
                        _ts(p.due_at),
                        p.state.value,
                        p.subject,
                        p.body,
                        p.to_address,
                        p.reply_address,
                        p.message_id,
                        p.error,
                    )
                    for p in probes
                ],
            )
            db.execute(
                "INSERT INTO events (at, kind, run_id, detail) VALUES (?, 'run_created', ?, ?)",
                (_ts(utcnow()), run.id, json.dumps({"probes": len(probes)})),
            )

    def _run(self, row: sqlite3.Row) -> RunRecord:
        return RunRecord(
            id=row["id"],
            suite_id=row["suite_id"],
            created_at=_req_dt(row["created_at"]),
            status=row["status"],
            seed=row["seed"],
            wait_limit_s=row["wait_limit_s"],
            until=row["until"],
            snapshot=json.loads(row["snapshot"]),
            finished_at=_dt(row["finished_at"]),
        )

    def get_run(self, run_id: str) -> RunRecord | None:
        """A run by id, or None."""
        row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return self._run(row) if row else None

    def runs(self, suite_id: str | None = None) -> list[RunRecord]:
        """All runs (of one suite), oldest first."""
        if suite_id is None:
            rows = self._db.execute("SELECT * FROM runs ORDER BY created_at, id").fetchall()
        else:
            rows = self._db.execute(
                "SELECT * FROM runs WHERE suite_id = ? ORDER BY created_at, id", (suite_id,)
            ).fetchall()
        return [self._run(r) for r in rows]

    def open_run(self, suite_id: str) -> RunRecord | None:
        """The latest unfinished run of a suite, which `replybench run` resumes."""
        row = self._db.execute(
            "SELECT * FROM runs WHERE suite_id = ? AND status != 'finished' ORDER BY created_at DESC, id DESC",
            (suite_id,),
        ).fetchone()
        return self._run(row) if row else None

    def finish_run(self, run_id: str, at: datetime) -> None:
        """Mark a run finished (every probe reached a terminal state)."""
        with self._tx() as db:
            db.execute("UPDATE runs SET status = 'finished', finished_at = ? WHERE id = ?", (_ts(at), run_id))
            db.execute(
                "INSERT INTO events (at, kind, run_id, detail) VALUES (?, 'run_finished', ?, '{}')",
                (_ts(at), run_id),
            )

    # ------------------------------------------------------------------------------------------ probes

    def _probe(self, row: sqlite3.Row) -> ProbeRecord:
        return ProbeRecord(
            id=row["id"],
            run_id=row["run_id"],
            suite_id=row["suite_id"],
            target_id=row["target_id"],
            channel=row["channel"],
            script_id=row["script_id"],
            persona_id=row["persona_id"],
            token=row["token"],
            due_at=_req_dt(row["due_at"]),
            state=ProbeState(row["state"]),
            subject=row["subject"],
            body=row["body"],
            to_address=row["to_address"],
            reply_address=row["reply_address"],
            message_id=row["message_id"],
            attempt_at=_dt(row["attempt_at"]),
            sent_at=_dt(row["sent_at"]),
            sent_clock=row["sent_clock"],
            evidence=json.loads(row["evidence"]),
            closes_at=_dt(row["closes_at"]),
            closed_at=_dt(row["closed_at"]),
            error=row["error"],
            external_id=row["external_id"],
        )

    def probes(
        self, run_id: str | None = None, states: Iterable[ProbeState] | None = None
    ) -> list[ProbeRecord]:
        """Probes (of a run, in some states), in due order."""
        sql = "SELECT * FROM probes WHERE 1 = 1"
        args: list[Any] = []
        if run_id is not None:
            sql += " AND run_id = ?"
            args.append(run_id)
        if states is not None:
            wanted = [s.value for s in states]
            sql += f" AND state IN ({', '.join('?' for _ in wanted)})"
            args.extend(wanted)
        sql += " ORDER BY due_at, id"
        return [self._probe(r) for r in self._db.execute(sql, args).fetchall()]

    def get_probe(self, probe_id: str) -> ProbeRecord | None:
        """A probe by id."""
        row = self._db.execute("SELECT * FROM probes WHERE id = ?", (probe_id,)).fetchone()
        return self._probe(row) if row else None

    def probe_by_token(self, token: str) -> ProbeRecord | None:
        """The probe that owns a token."""
        row = self._db.execute("SELECT * FROM probes WHERE token = ?", (token.lower(),)).fetchone()
        return self._probe(row) if row else None

    def probe_by_message_id(self, message_id: str) -> ProbeRecord | None:
        """The probe whose outbound Message-ID this is."""
        row = self._db.execute("SELECT * FROM probes WHERE message_id = ?", (message_id,)).fetchone()
        return self._probe(row) if row else None

    def probe_by_external_id(self, external_id: str) -> ProbeRecord | None:
        """The probe whose post has this network id (``mastodon:1234``)."""
        row = self._db.execute("SELECT * FROM probes WHERE external_id = ?", (external_id,)).fetchone()
        return self._probe(row) if row else None

    def watched_probes(
        self, channel: str, states: Sequence[ProbeState] = (ProbeState.SENT,)
    ) -> list[ProbeRecord]:
        """Probes of a channel in some states (by default: sent and still watched), oldest first."""
        wanted = [s.value for s in states]
        rows = self._db.execute(
            f"SELECT * FROM probes WHERE channel = ? AND state IN ({', '.join('?' for _ in wanted)})"  # noqa: S608
            " ORDER BY sent_at, id",
            (channel, *wanted),
        ).fetchall()
        return [self._probe(r) for r in rows]

    def due_probes(
        self, run_id: str, now: datetime, limit: int, channels: Sequence[str] | None = None
    ) -> list[ProbeRecord]:
        """Planned probes of a run due at ``now``, earliest first, at most ``limit``.

        With ``channels``, only probes of those channels.
        """
        sql = "SELECT * FROM probes WHERE run_id = ? AND state = 'planned' AND due_at <= ?"
        args: list[Any] = [run_id, _ts(now)]
        if channels is not None:
            sql += f" AND channel IN ({', '.join('?' for _ in channels)})"
            args.extend(channels)
        rows = self._db.execute(sql + " ORDER BY due_at, id LIMIT ?", (*args, limit)).fetchall()
        return [self._probe(r) for r in rows]

    def expired_probes(self, run_id: str, now: datetime) -> list[ProbeRecord]:
        """Sent probes of a run whose horizon has passed."""
        rows = self._db.execute(
            "SELECT * FROM probes WHERE run_id = ? AND state = 'sent' AND closes_at <= ? ORDER BY closes_at, id",
            (run_id, _ts(now)),
        ).fetchall()
        return [self._probe(r) for r in rows]

    def next_due(self, run_id: str) -> datetime | None:
        """When the next planned probe of a run is due (None when none is planned)."""
        row = self._db.execute(
            "SELECT MIN(due_at) FROM probes WHERE run_id = ? AND state = 'planned'", (run_id,)
        ).fetchone()
        return _dt(row[0])

    def state_counts(self, run_id: str) -> dict[ProbeState, int]:
        """How many probes of a run are in each state."""
        rows = self._db.execute(
            "SELECT state, COUNT(*) FROM probes WHERE run_id = ? GROUP BY state", (run_id,)
        ).fetchall()
        return {ProbeState(r[0]): r[1] for r in rows}

    def _transition(
        self,
        probe_id: str,
        allowed: Sequence[ProbeState],
        new: ProbeState,
        fields: dict[str, Any],
        event: dict[str, Any] | None = None,
        *,
        durable: bool = False,
    ) -> bool:
        """Compare-and-set a probe's state; False (and no change) if it is not in an allowed state."""
        sets = ", ".join(f"{k} = ?" for k in fields)
        placeholders = ", ".join("?" for _ in allowed)
        with self._tx(durable=durable) as db:
            cur = db.execute(
                f"UPDATE probes SET state = ?{', ' + sets if sets else ''}"  # noqa: S608 - field names are ours
                f" WHERE id = ? AND state IN ({placeholders})",
                (new.value, *fields.values(), probe_id, *(s.value for s in allowed)),
            )
            if cur.rowcount != 1:
                return False
            db.execute(
                "INSERT INTO events (at, kind, probe_id, run_id, detail)"
                " SELECT ?, ?, id, run_id, ? FROM probes WHERE id = ?",
                (_ts(utcnow()), new.value, json.dumps(event or {}, default=str), probe_id),
            )
        return True

    def mark_sending(self, probe_id: str, at: datetime) -> bool:
        """Planned → sending, fsynced before the channel acts (the at-most-once guarantee)."""
        return self._transition(
            probe_id, [ProbeState.PLANNED], ProbeState.SENDING, {"attempt_at": _ts(at)}, durable=True
        )

    def mark_sent(self, probe_id: str, receipt: SendReceipt, closes_at: datetime) -> bool:
        """sending/uncertain → sent, with the server's evidence and the censoring horizon."""
        return self._transition(
            probe_id,
            [ProbeState.SENDING, ProbeState.UNCERTAIN],
            ProbeState.SENT,
            self._sent_fields(receipt, closes_at),
            {"clock": receipt.clock},
        )

    @staticmethod
    def _sent_fields(receipt: SendReceipt, closes_at: datetime) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "sent_at": _ts(receipt.sent_at),
            "sent_clock": receipt.clock,
            "evidence": json.dumps(receipt.evidence, default=str),
            "closes_at": _ts(closes_at),
            "error": None,
        }
        if receipt.external_id is not None:
            fields["external_id"] = receipt.external_id
        return fields

    def mark_assisted(self, probe_id: str, instructions: dict[str, Any]) -> bool:
        """Planned → assisted: a person is to post it; ``instructions`` (text, where) are its evidence."""
        return self._transition(
            probe_id,
            [ProbeState.PLANNED],
            ProbeState.ASSISTED,
            {"evidence": json.dumps(instructions, default=str), "error": None},
            {"assisted": instructions.get("post_to")},
            durable=True,
        )

    def attach(self, probe_id: str, receipt: SendReceipt, closes_at: datetime) -> bool:
        """Assisted → sent: a person posted it; the receipt names the post and when the network made it."""
        probe = self.get_probe(probe_id)
        evidence = {**(probe.evidence if probe else {}), **receipt.evidence}
        full = SendReceipt(receipt.sent_at, receipt.clock, evidence, external_id=receipt.external_id)
        return self._transition(
            probe_id,
            [ProbeState.ASSISTED],
            ProbeState.SENT,
            self._sent_fields(full, closes_at),
            {"clock": receipt.clock, "attached": receipt.external_id},
            durable=True,
        )

    def _mark_unsent(
        self, probe_id: str, state: ProbeState, reason: str, evidence: dict[str, Any] | None
    ) -> bool:
        fields: dict[str, Any] = {"error": reason}
        if evidence:
            fields["evidence"] = json.dumps(evidence, default=str)
        return self._transition(probe_id, [ProbeState.SENDING], state, fields, {"reason": reason})

    def mark_failed(self, probe_id: str, reason: str, evidence: dict[str, Any] | None = None) -> bool:
        """Sending → failed: known not to have been sent (with what the channel saw, when it says)."""
        return self._mark_unsent(probe_id, ProbeState.FAILED, reason, evidence)

    def mark_uncertain(self, probe_id: str, reason: str, evidence: dict[str, Any] | None = None) -> bool:
        """Sending → uncertain: may have been sent; never retried automatically."""
        return self._mark_unsent(probe_id, ProbeState.UNCERTAIN, reason, evidence)

    def mark_blocked(self, probe_id: str, reason: str, evidence: dict[str, Any] | None = None) -> bool:
        """Sending → blocked: a CAPTCHA or a login wall stood before the inquiry; it was not sent."""
        return self._mark_unsent(probe_id, ProbeState.BLOCKED, reason, evidence)

    # ------------------------------------------------------------------------------------------ artifacts

    def put_artifact(self, probe_id: str, name: str, content_type: str, data: bytes) -> str:
        """Store a binary artifact of a probe (replacing one of the same name); returns its sha256."""
        digest = hashlib.sha256(data).hexdigest()
        with self._tx() as db:
            db.execute(
                "INSERT INTO artifacts (probe_id, name, content_type, sha256, size, data, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (probe_id, name) DO UPDATE SET"
                " content_type = excluded.content_type, sha256 = excluded.sha256, size = excluded.size,"
                " data = excluded.data, created_at = excluded.created_at",
                (probe_id, name, content_type, digest, len(data), data, _ts(utcnow())),
            )
        return digest

    def artifacts(self, probe_id: str | None = None, run_id: str | None = None) -> list[ArtifactRecord]:
        """Artifacts of one probe, or of every probe of a run, by probe then name."""
        sql = "SELECT a.* FROM artifacts a"
        args: tuple[str, ...] = ()
        if probe_id is not None:
            sql += " WHERE a.probe_id = ?"
            args = (probe_id,)
        elif run_id is not None:
            sql += " JOIN probes p ON p.id = a.probe_id WHERE p.run_id = ?"
            args = (run_id,)
        rows = self._db.execute(sql + " ORDER BY a.probe_id, a.name", args).fetchall()
        return [
            ArtifactRecord(
                id=r["id"],
                probe_id=r["probe_id"],
                name=r["name"],
                content_type=r["content_type"],
                sha256=r["sha256"],
                size=r["size"],
                data=bytes(r["data"]),
                created_at=_req_dt(r["created_at"]),
            )
            for r in rows
        ]

    def mark_skipped(self, probe_id: str, reason: str) -> bool:
        """Planned (or waiting for a person) → skipped (do-not-contact, rate limit, never posted)."""
        return self._transition(
            probe_id,
            [ProbeState.PLANNED, ProbeState.ASSISTED],
            ProbeState.SKIPPED,
            {"error": reason},
            {"reason": reason},
        )

    def postpone(self, probe_id: str, due_at: datetime) -> None:
        """Move a planned probe's due time (rate limits)."""
        with self._tx() as db:
            db.execute(
                "UPDATE probes SET due_at = ? WHERE id = ? AND state = 'planned'", (_ts(due_at), probe_id)
            )

    def close_probe(self, probe_id: str, at: datetime, reason: str) -> bool:
        """Sent → closed (horizon reached, or a human answered when the suite waits only for that)."""
        return self._transition(
            probe_id, [ProbeState.SENT], ProbeState.CLOSED, {"closed_at": _ts(at)}, {"reason": reason}
        )

    # ------------------------------------------------------------------------------------------ messages

    def add_inbound(self, item: InboundItem, observed_at: datetime | None = None) -> tuple[int, bool]:
        """Store an inbound item's raw bytes durably, before any parsing. Returns (message id, is new).

        De-duplicates by mailbox position (source, UIDVALIDITY, UID) and by Message-ID, or by sha256 of the
        raw bytes when there is no Message-ID: a reply delivered twice is stored once.
        """
        digest = hashlib.sha256(item.raw).hexdigest()
        if item.key is not None:
            mid: str | None = item.key
            dedup_key = f"key:{item.key}"
        else:
            mid = message_id_hint(item.raw)
            dedup_key = f"mid:{mid}" if mid else f"sha256:{digest}"
        with self._tx(durable=True) as db:
            if item.uid is not None:
                row = db.execute(
                    "SELECT id FROM messages WHERE source = ? AND uidvalidity = ? AND uid = ?",
                    (item.source, item.uidvalidity, item.uid),
                ).fetchone()
                if row:
                    return int(row[0]), False
            cur = db.execute(
                "INSERT INTO messages (channel, source, uidvalidity, uid, dedup_key, raw, sha256, received_at,"
                " received_clock, observed_at, status, message_id, envelope_from, envelope_to)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'raw', ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    item.channel,
                    item.source,
                    item.uidvalidity,
                    item.uid,
                    dedup_key,
                    item.raw,
                    digest,
                    _ts(item.received_at),
                    item.clock,
                    _ts(observed_at or utcnow()),
                    mid,
                    item.envelope_from,
                    json.dumps(list(item.envelope_to)),
                ),
            )
            if cur.rowcount == 1:
                return int(cur.lastrowid or 0), True
            row = db.execute("SELECT id FROM messages WHERE dedup_key = ?", (dedup_key,)).fetchone()
            return int(row[0]), False

    def record_parse(
        self,
        message_id: int,
        *,
        status: str,
        sender: str | None = None,
        subject: str | None = None,
        text: str | None = None,
        error: str | None = None,
    ) -> None:
        """Store what parsing found (status 'parsed' or 'malformed' with the error)."""
        with self._tx() as db:
            db.execute(
                "UPDATE messages SET status = ?, sender = ?, subject = ?, text = ?, error = ? WHERE id = ?",
                (status, sender, subject, text, error, message_id),
            )

    def record_match(
        self,
        message_id: int,
        probe_id: str | None,
        method: str | None,
        detail: str,
        confidence: float | None = None,
    ) -> None:
        """Store which probe a message answers (or why none), and how sure the matcher is."""
        with self._tx() as db:
            db.execute(
                "UPDATE messages SET probe_id = ?, match_method = ?, match_detail = ?, match_confidence = ?"
                " WHERE id = ?",
                (probe_id, method, detail, confidence, message_id),
            )

    def record_class(
        self,
        message_id: int,
        cls: MessageClass,
        rule: str,
        confidence: float,
        evidence: str,
        detail: dict[str, str],
    ) -> None:
        """Store the classifier's decision with the rule that made it (and the ticket id it names)."""
        with self._tx() as db:
            db.execute(
                "UPDATE messages SET cls = ?, rule = ?, confidence = ?, evidence = ?, detail = ?, ticket_id = ?"
                " WHERE id = ?",
                (
                    cls.value,
                    rule,
                    confidence,
                    evidence,
                    json.dumps(detail),
                    detail.get("ticket_id"),
                    message_id,
                ),
            )

    def _message(self, row: sqlite3.Row) -> MessageRecord:
        machine_cls = MessageClass(row["cls"]) if row["cls"] else None
        override = None
        cls, probe_id = machine_cls, row["probe_id"]
        if row["o_who"] is not None:
            override = OverrideRecord(
                who=row["o_who"],
                at=_req_dt(row["o_at"]),
                note=row["o_note"],
                cls=MessageClass(row["o_cls"]) if row["o_cls"] else None,
                probe_id=row["o_probe"],
                machine_cls=machine_cls,
                machine_probe_id=row["probe_id"],
            )
            cls = override.cls or cls
            if override.probe_id is not None:
                probe_id = override.probe_id or None
        return MessageRecord(
            id=row["id"],
            channel=row["channel"],
            source=row["source"],
            raw=bytes(row["raw"]),
            sha256=row["sha256"],
            received_at=_req_dt(row["received_at"]),
            received_clock=row["received_clock"],
            observed_at=_req_dt(row["observed_at"]),
            status=row["status"],
            uidvalidity=row["uidvalidity"],
            uid=row["uid"],
            message_id=row["message_id"],
            envelope_from=row["envelope_from"],
            envelope_to=tuple(json.loads(row["envelope_to"])),
            sender=row["sender"],
            subject=row["subject"],
            text=row["text"],
            error=row["error"],
            probe_id=probe_id,
            match_method=row["match_method"],
            match_detail=row["match_detail"],
            cls=cls,
            rule=row["rule"],
            confidence=row["confidence"],
            evidence=row["evidence"],
            detail=json.loads(row["detail"]),
            match_confidence=row["match_confidence"],
            ticket_id=row["ticket_id"],
            override=override,
        )

    def _select_messages(self, where: str, args: Sequence[Any] = (), join: str = "") -> list[MessageRecord]:
        # The fragments are this module's own; every value is bound.
        sql = (
            "SELECT m.*, o.cls AS o_cls, o.probe_id AS o_probe, o.who AS o_who, o.at AS o_at,"  # noqa: S608
            f" o.note AS o_note FROM messages m LEFT JOIN overrides o ON o.message_id = m.id {join} WHERE {where}"
            " ORDER BY m.received_at, m.id"
        )
        rows = self._db.execute(sql, tuple(args)).fetchall()
        return [self._message(r) for r in rows]

    def get_message(self, message_id: int) -> MessageRecord | None:
        """A message by its store id."""
        found = self._select_messages("m.id = ?", (message_id,))
        return found[0] if found else None

    def messages(self, probe_id: str | None = None, run_id: str | None = None) -> list[MessageRecord]:
        """Messages matched to a probe, or to any probe of a run, or all; in received order.

        The match is the effective one: a person's override of it wins.
        """
        if probe_id is not None:
            return self._select_messages(
                "((m.probe_id = ? AND o.probe_id IS NULL) OR o.probe_id = ?)", (probe_id, probe_id)
            )
        if run_id is not None:
            return self._select_messages(
                "p.run_id = ?", (run_id,), join=f"JOIN probes p ON p.id = {_EFFECTIVE_PROBE}"
            )
        return self._select_messages("1 = 1")

    def unmatched_messages(self) -> list[MessageRecord]:
        """Messages that no probe claimed (kept, with the reason in match_detail)."""
        return self._select_messages(f"{_EFFECTIVE_PROBE} IS NULL")

    def message_by_message_id(self, message_id: str) -> MessageRecord | None:
        """The stored inbound message with this Message-ID (with its angle brackets), if any."""
        found = self._select_messages("m.dedup_key = ?", (f"mid:{message_id}",))
        return found[0] if found else None

    def message_by_key(self, key: str) -> MessageRecord | None:
        """The stored social item with this network id (``mastodon:1234``), if any."""
        found = self._select_messages("m.dedup_key = ?", (f"key:{key}",))
        return found[0] if found else None

    def ticket_senders(self, ticket_id: str) -> list[tuple[str, str | None]]:
        """(probe id, sender) of every matched message that named this ticket id, oldest first."""
        sql = (
            f"SELECT {_EFFECTIVE_PROBE} AS probe, m.sender FROM messages m"  # noqa: S608 - a fixed fragment
            " LEFT JOIN overrides o ON o.message_id = m.id"
            f" WHERE m.ticket_id = ? AND {_EFFECTIVE_PROBE} IS NOT NULL ORDER BY m.received_at, m.id"
        )
        rows = self._db.execute(sql, (ticket_id,)).fetchall()
        return [(str(r["probe"]), r["sender"]) for r in rows]

    def probes_sent_to_domain(self, domain: str, at: datetime) -> list[ProbeRecord]:
        """Probes sent to an address at ``domain`` before ``at`` whose horizon had not passed at ``at``."""
        rows = self._db.execute(
            "SELECT * FROM probes WHERE lower(to_address) LIKE ? AND sent_at IS NOT NULL AND sent_at <= ?"
            " AND (closes_at IS NULL OR closes_at >= ?) ORDER BY sent_at",
            (f"%@{domain.lower()}", _ts(at), _ts(at)),
        ).fetchall()
        return [self._probe(r) for r in rows]

    def review_queue(self, threshold: float, run_id: str | None = None) -> list[MessageRecord]:
        """Messages whose class or match is less sure than ``threshold`` and that no person decided yet.

        Oldest first; our own copies are never in it.
        """
        where = (
            "o.who IS NULL AND (m.cls IS NULL OR m.cls != 'own_copy')"
            " AND (m.confidence < ? OR (m.probe_id IS NOT NULL AND m.match_confidence < ?))"
        )
        args: list[Any] = [threshold, threshold]
        join = ""
        if run_id is not None:
            join = "JOIN probes p ON p.id = m.probe_id"
            where += " AND p.run_id = ?"
            args.append(run_id)
        return self._select_messages(where, args, join=join)

    def set_override(
        self,
        message_id: int,
        *,
        who: str,
        cls: MessageClass | None = None,
        probe_id: str | None = None,
        note: str | None = None,
    ) -> None:
        """Record a person's decision about a message (replacing an earlier one), with who and when.

        ``cls`` None keeps the classifier's class; ``probe_id`` None keeps the matcher's probe and ``""``
        says the message answers no probe. The decision is also written to the audit trail.
        """
        if not who.strip():
            raise ValueError("an override needs the name of who made it")
        at = utcnow()
        with self._tx() as db:
            row = db.execute("SELECT probe_id FROM messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                raise KeyError(f"no message {message_id} in the store")
            known = db.execute("SELECT 1 FROM probes WHERE id = ?", (probe_id,)).fetchone()
            if probe_id and known is None:
                raise KeyError(f"no probe {probe_id} in the store")
            db.execute(
                "INSERT INTO overrides (message_id, cls, probe_id, who, at, note) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (message_id) DO UPDATE SET cls = excluded.cls, probe_id = excluded.probe_id,"
                " who = excluded.who, at = excluded.at, note = excluded.note",
                (message_id, cls.value if cls else None, probe_id, who, _ts(at), note),
            )
            db.execute(
                "INSERT INTO events (at, kind, run_id, probe_id, detail) VALUES (?, 'override', NULL, ?, ?)",
                (
                    _ts(at),
                    probe_id or row["probe_id"],
                    json.dumps(
                        {
                            "message": message_id,
                            "cls": cls.value if cls else None,
                            "probe_id": probe_id,
                            "who": who,
                            "note": note,
                        }
                    ),
                ),
            )

    def message_ids_with_status(self, status: str) -> list[int]:
        """Ids of messages in a processing status ('raw', 'parsed', 'malformed', 'error'), oldest first."""
        rows = self._db.execute("SELECT id FROM messages WHERE status = ? ORDER BY id", (status,)).fetchall()
        return [int(r[0]) for r in rows]

    def message_count(self) -> int:
        """How many messages the store holds."""
        return int(self._db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])

    # ------------------------------------------------------------------------------------------ cursors

    def get_cursor(self, source: str) -> tuple[int, int] | None:
        """(UIDVALIDITY, last UID) stored for a mailbox."""
        row = self._db.execute(
            "SELECT uidvalidity, last_uid FROM cursors WHERE source = ?", (source,)
        ).fetchone()
        return (int(row[0]), int(row[1])) if row else None

    def set_cursor(self, source: str, uidvalidity: int, last_uid: int) -> None:
        """Remember how far a mailbox has been read."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO cursors (source, uidvalidity, last_uid) VALUES (?, ?, ?)"
                " ON CONFLICT (source) DO UPDATE SET uidvalidity = excluded.uidvalidity,"
                " last_uid = excluded.last_uid",
                (source, uidvalidity, last_uid),
            )

    # ------------------------------------------------------------------------------------------ events

    def log_event(
        self,
        kind: str,
        *,
        run_id: str | None = None,
        probe_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append to the audit trail."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO events (at, kind, run_id, probe_id, detail) VALUES (?, ?, ?, ?, ?)",
                (_ts(utcnow()), kind, run_id, probe_id, json.dumps(detail or {}, default=str)),
            )

    def events(self, run_id: str | None = None, probe_id: str | None = None) -> list[EventRecord]:
        """Audit trail entries, oldest first."""
        sql = "SELECT * FROM events WHERE 1 = 1"
        args: list[Any] = []
        if run_id is not None:
            sql += " AND run_id = ?"
            args.append(run_id)
        if probe_id is not None:
            sql += " AND probe_id = ?"
            args.append(probe_id)
        rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        return [
            EventRecord(
                id=r["id"],
                at=_req_dt(r["at"]),
                kind=r["kind"],
                run_id=r["run_id"],
                probe_id=r["probe_id"],
                detail=json.loads(r["detail"]),
            )
            for r in rows
        ]
