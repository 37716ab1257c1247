"""The store's versioned schema: an ordered list of migrations, each applied once in its own transaction.

Only portable SQL (SQLite ≥ 3.24 and PostgreSQL): TEXT timestamps in a fixed-width UTC form that sorts in
time order, ``INSERT … ON CONFLICT DO NOTHING`` for de-duplication, no SQLite-only types.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "runs, probes, messages, cursors, events",
        """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            suite_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            status TEXT NOT NULL,
            seed INTEGER NOT NULL,
            wait_limit_s REAL NOT NULL,
            until TEXT NOT NULL,
            snapshot TEXT NOT NULL,
            finished_at TEXT
        );
        CREATE INDEX runs_suite ON runs (suite_id, created_at);

        CREATE TABLE probes (
            id TEXT PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs (id),
            suite_id TEXT NOT NULL,
            target_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            script_id TEXT NOT NULL,
            persona_id TEXT NOT NULL,
            token TEXT NOT NULL UNIQUE,
            due_at TEXT NOT NULL,
            state TEXT NOT NULL,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            to_address TEXT NOT NULL,
            reply_address TEXT NOT NULL,
            message_id TEXT NOT NULL UNIQUE,
            attempt_at TEXT,
            sent_at TEXT,
            sent_clock TEXT,
            evidence TEXT NOT NULL DEFAULT '{}',
            closes_at TEXT,
            closed_at TEXT,
            error TEXT
        );
        CREATE INDEX probes_run_state ON probes (run_id, state, due_at);

        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            source TEXT NOT NULL,
            uidvalidity INTEGER,
            uid INTEGER,
            dedup_key TEXT NOT NULL UNIQUE,
            raw BLOB NOT NULL,
            sha256 TEXT NOT NULL,
            received_at TEXT NOT NULL,
            received_clock TEXT NOT NULL,
            observed_at TEXT NOT NULL,
            status TEXT NOT NULL,
            message_id TEXT,
            envelope_from TEXT,
            envelope_to TEXT NOT NULL DEFAULT '[]',
            sender TEXT,
            subject TEXT,
            text TEXT,
            error TEXT,
            probe_id TEXT REFERENCES probes (id),
            match_method TEXT,
            match_detail TEXT,
            cls TEXT,
            rule TEXT,
            confidence REAL,
            evidence TEXT,
            detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE UNIQUE INDEX messages_mailbox_position ON messages (source, uidvalidity, uid);
        CREATE INDEX messages_probe ON messages (probe_id, received_at);

        CREATE TABLE cursors (
            source TEXT PRIMARY KEY,
            uidvalidity INTEGER NOT NULL,
            last_uid INTEGER NOT NULL
        );

        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            run_id TEXT,
            probe_id TEXT,
            detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX events_run ON events (run_id, at);
        """,
    ),
    (
        2,
        "artifacts: binary send evidence (form screenshots) stored beside the probe",
        """
        CREATE TABLE artifacts (
            id INTEGER PRIMARY KEY,
            probe_id TEXT NOT NULL REFERENCES probes (id),
            name TEXT NOT NULL,
            content_type TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            data BLOB NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (probe_id, name)
        );
        """,
    ),
    (
        3,
        "match confidence, ticket ids for threading, and people's overrides of the machine's decisions",
        """
        ALTER TABLE messages ADD COLUMN match_confidence REAL;
        ALTER TABLE messages ADD COLUMN ticket_id TEXT;
        CREATE INDEX messages_ticket ON messages (ticket_id);
        CREATE TABLE overrides (
            message_id INTEGER PRIMARY KEY REFERENCES messages (id),
            cls TEXT,
            probe_id TEXT,
            who TEXT NOT NULL,
            at TEXT NOT NULL,
            note TEXT
        );
        CREATE INDEX overrides_probe ON overrides (probe_id);
        """,
    ),
    (
        4,
        "social channels: the network's id of each post we made, for replies that thread to it",
        """
        ALTER TABLE probes ADD COLUMN external_id TEXT;
        CREATE UNIQUE INDEX probes_external ON probes (external_id);
        CREATE INDEX probes_channel_state ON probes (channel, state);
        """,
    ),
)

LATEST_VERSION = MIGRATIONS[-1][0]
