"""The store: migrations, the probe state machine (compare-and-set), raw-first de-duplicated messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replybench.channels.base import InboundItem, SendReceipt
from replybench.errors import StoreError
from replybench.models import ProbeState
from replybench.store import ProbeRecord, RunRecord, open_store
from replybench.store.schema import LATEST_VERSION
from tests.storebuilders import planned_probes

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def make_run(store, n: int = 2) -> tuple[RunRecord, list[ProbeRecord]]:
    run = RunRecord("run1", "suite", T0, "running", 1, 60.0, "human", {"targets": {}})
    probes = planned_probes("run1", n, T0, id_prefix="p")
    store.create_run(run, probes)
    return run, probes


def item(raw: bytes, **kw) -> InboundItem:
    base = dict(channel="email", raw=raw, received_at=T0, clock="smtp-receipt", source="smtp://x")
    base.update(kw)
    return InboundItem(**base)


def test_schema_is_migrated_and_reopens(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.db"))
    assert store.schema_version() == LATEST_VERSION
    make_run(store)
    store.close()
    again = open_store("s.db", tmp_path)
    assert [p.id for p in again.probes("run1")] == ["p0", "p1"]
    assert again.open_run("suite").id == "run1"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.db"))
    store._db.execute("INSERT INTO schema_version VALUES (999, NULL)")
    store.close()
    with pytest.raises(StoreError, match="newer"):
        open_store(str(tmp_path / "s.db"))


def test_state_machine_is_compare_and_set(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.db"))
    make_run(store)
    assert store.mark_sending("p0", T0)
    assert not store.mark_sending("p0", T0), "a probe can be claimed for sending only once"
    receipt = SendReceipt(T0 + timedelta(seconds=1), "smtp-250", {"smtp_response": "250 ok"})
    assert store.mark_sent("p0", receipt, T0 + timedelta(hours=1))
    assert not store.mark_failed("p0", "late"), "a sent probe cannot become failed"
    p = store.get_probe("p0")
    assert (
        p.state is ProbeState.SENT and p.sent_clock == "smtp-250" and p.evidence["smtp_response"] == "250 ok"
    )
    assert p.closes_at == T0 + timedelta(hours=1)
    assert store.close_probe("p0", T0, "horizon")
    assert store.mark_skipped("p1", "x") is not False  # planned → skipped works
    kinds = [e.kind for e in store.events(probe_id="p0")]
    assert kinds == ["sending", "sent", "closed"]


def test_uncertain_can_be_reconciled_to_sent_but_never_resent(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.db"))
    make_run(store)
    store.mark_sending("p0", T0)
    store.mark_uncertain("p0", "timeout after DATA")
    assert not store.mark_sending("p0", T0)
    assert store.mark_sent("p0", SendReceipt(T0, "sent-copy-receipt"), T0 + timedelta(hours=1))


def test_inbound_dedup_by_mailbox_position_and_message_id(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.db"))
    raw = b"Message-ID: <a@b>\r\nSubject: hi\r\n\r\nbody\r\n"
    first, new = store.add_inbound(item(raw, source="imap://u@h/INBOX", uidvalidity=7, uid=1))
    assert new
    assert store.add_inbound(item(raw, source="imap://u@h/INBOX", uidvalidity=7, uid=1)) == (first, False)
    # the same message delivered again by another route (different bytes, same Message-ID)
    assert store.add_inbound(item(b"Received: x\r\n" + raw)) == (first, False)
    # no Message-ID: de-duplicated by content
    a, new_a = store.add_inbound(item(b"Subject: no id\r\n\r\nx"))
    b, new_b = store.add_inbound(item(b"Subject: no id\r\n\r\nx"))
    assert new_a and not new_b and a == b
    assert store.message_count() == 2
    assert store.get_message(first).raw == raw


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=2000))
def test_any_bytes_are_stored_raw(tmp_path: Path, raw: bytes) -> None:
    store = open_store(str(tmp_path / "h.db"))
    mid, _ = store.add_inbound(item(raw))
    assert store.get_message(mid).raw == raw
    store.close()


def test_cursor_round_trip(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.db"))
    assert store.get_cursor("imap://x") is None
    store.set_cursor("imap://x", 5, 10)
    store.set_cursor("imap://x", 5, 12)
    assert store.get_cursor("imap://x") == (5, 12)
