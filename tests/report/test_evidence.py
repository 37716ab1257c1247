"""build_evidence: tidy, display-safe message rows from a real store, joined with each probe's horizon."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from replybench.analysis.evidence import MessageRow, build_evidence, clean_text, message_row
from replybench.channels.base import InboundItem, SendReceipt
from replybench.models import MessageClass
from replybench.store import MessageRecord, OverrideRecord, ProbeRecord, RunRecord, Store, open_store
from tests.storebuilders import planned_probes

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
HORIZON = timedelta(hours=2)


def _message(store: Store, raw: bytes, at: datetime, probe_id: str | None, **parsed: str) -> int:
    mid, _ = store.add_inbound(InboundItem("email", raw, at, "smtp-receipt", "smtp://x"))
    store.record_parse(mid, status="parsed", **parsed)
    store.record_match(mid, probe_id, "token" if probe_id else None, "test")
    return mid


def _store(tmp_path: Path) -> Store:
    store = open_store(str(tmp_path / "s.db"))
    return store


def test_rows_join_messages_with_their_probe_horizon(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.create_run(RunRecord("r1", "suite", T0, "running", 1, 7200.0, "human", {}), _probes("r1", 2))
    store.create_run(RunRecord("r2", "suite", T0, "running", 1, 7200.0, "human", {}), _probes("r2", 1))
    for pid in ("r1-p0", "r1-p1", "r2-p0"):
        assert store.mark_sending(pid, T0)
        assert store.mark_sent(pid, SendReceipt(T0, "smtp-250"), T0 + HORIZON)
    early = _message(
        store,
        b"Message-ID: <a@x>\r\n\r\nhi",
        T0 + timedelta(minutes=5),
        "r1-p0",
        subject="Re: Q",
        text="Hello,\n\nwe  looked\tinto it.",
    )
    store.record_class(early, MessageClass.HUMAN, "text:personal-reply", 0.86, "signed by a person", {})
    late = _message(
        store,
        b"Message-ID: <b@x>\r\n\r\nlate",
        T0 + HORIZON + timedelta(seconds=1),
        "r1-p1",
        subject="Re: Q",
        text="late",
    )
    _message(store, b"Message-ID: <c@x>\r\n\r\nstray", T0, None, subject="spam", text="stray")
    _message(store, b"Message-ID: <d@x>\r\n\r\nother run", T0, "r2-p0", subject="other", text="other")

    rows = build_evidence(store, ["r1"])
    assert [r.message_store_id for r in rows] == [early, late], "matched messages of the run, received order"
    first, second = rows
    assert first == MessageRow(
        probe_id="r1-p0",
        message_store_id=early,
        received_at=T0 + timedelta(minutes=5),
        clock="smtp-receipt",
        cls="human",
        rule="text:personal-reply",
        confidence=0.86,
        evidence="signed by a person",
        match_method="token",
        message_id="<a@x>",
        subject="Re: Q",
        excerpt="Hello, we looked into it.",
        after_horizon=False,
    )
    assert second.after_horizon is True
    assert second.cls is None and second.rule is None and second.confidence is None
    assert len(build_evidence(store, ["r1", "r2", "r1", "nope"])) == 3, (
        "each run once; unknown runs add nothing"
    )
    store.close()


def _probes(run_id: str, n: int) -> list[ProbeRecord]:
    return planned_probes(run_id, n, T0)


def test_untrusted_text_is_cut_collapsed_and_stripped_of_control_characters(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.create_run(RunRecord("r1", "suite", T0, "running", 1, 7200.0, "human", {}), _probes("r1", 1))
    assert store.mark_sending("r1-p0", T0)
    assert store.mark_sent("r1-p0", SendReceipt(T0, "smtp-250"), T0 + HORIZON)
    evil = "<script>alert(1)</script>\u202egnp.exe\x00\x1b[31m" + "x" * 1000
    mid = _message(
        store,
        b"Message-ID: <e@x>\r\n\r\n" + evil.encode(),
        T0,
        "r1-p0",
        subject="S " * 200,
        text="line one\r\n\r\nline\u200b two " + evil,
    )
    store.record_class(mid, MessageClass.HUMAN, "rule", 0.5, evil, {})
    (row,) = build_evidence(store, ["r1"])
    assert len(row.subject) <= 120 and row.subject.endswith("…")
    assert len(row.excerpt) <= 300 and row.excerpt.startswith("line one line two <script>alert(1)</script>")
    assert len(row.evidence) <= 200
    for value in (row.subject, row.excerpt, row.evidence):
        assert not any(ch in value for ch in "\u202e\u200b\x00\x1b\r\n\t")
    assert "<script>" in row.excerpt, "kept as text: escaping is the output format's job"
    store.close()


def test_clean_text() -> None:
    assert clean_text(None, 10) == ""
    assert clean_text("  a \n\n b  ", 10) == "a b"
    assert clean_text("abcdefghijkl", 5) == "abcd…"
    assert clean_text("\u2066x\u2069", 5) == "x"
    assert {f.name for f in fields(MessageRow)} >= {"excerpt", "after_horizon", "message_id", "clock"}


def _record(**overrides: object) -> MessageRecord:
    base = MessageRecord(
        id=7,
        channel="email",
        source="smtp://x",
        raw=b"",
        sha256="0" * 64,
        received_at=T0 + timedelta(hours=1),
        received_clock="smtp-receipt",
        observed_at=T0 + timedelta(hours=1),
        status="parsed",
        probe_id="r1-p0",
        match_method="in-reply-to",
        cls=MessageClass.HUMAN,
        rule="text:personal-reply",
        confidence=0.8,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_excerpt_is_the_replys_own_words_without_the_quoted_inquiry() -> None:
    text = (
        "Thanks, we will call you tomorrow.\n\nBest regards\nTom\n\n"
        "On Mon, 3 Mar 2025 at 09:00, Anna <a@x.example> wrote:\n> my question about the refund\n> thanks"
    )
    assert message_row(_record(text=text), None).excerpt == "Thanks, we will call you tomorrow."
    quoted_only = "> only a quotation\n> of our inquiry"
    assert message_row(_record(text=quoted_only), None).excerpt == "> only a quotation > of our inquiry"
    assert message_row(_record(text=None), None).excerpt == ""


def test_flags_match_confidence_and_a_persons_decision() -> None:
    decision = OverrideRecord(
        who="anna\u202e<b>",
        at=T0 + timedelta(days=1),
        note="signed\nby a person",
        cls=MessageClass.HUMAN,
        probe_id=None,
        machine_cls=MessageClass.AUTO_ACK,
        machine_probe_id="r1-p0",
    )
    row = message_row(
        _record(
            detail={"deflection": "please call\tour hotline", "holding": "we'll get back to you"},
            ticket_id="48213",
            match_confidence=0.62,
            override=decision,
        ),
        None,
    )
    assert (row.deflection, row.holding, row.ticket_id, row.match_confidence) == (
        "please call our hotline",
        True,
        "48213",
        0.62,
    )
    assert row.decided and row.decided_by == "anna<b>" and row.decided_at == T0 + timedelta(days=1)
    assert row.decision_note == "signed by a person"
    assert row.machine_cls == "auto_ack", "the person changed the class: the machine's is kept"
    assert row.machine_probe_id is None, "the matcher's probe stands"
    plain = message_row(_record(), None)
    assert not plain.decided and plain.machine_cls is None and plain.deflection == "" and not plain.holding
    confirmed = replace(decision, machine_cls=MessageClass.HUMAN)
    assert message_row(_record(override=confirmed), None).machine_cls is None, "a person agreed"
    moved = replace(decision, cls=None, probe_id="r1-p1", machine_probe_id=None)
    row = message_row(_record(probe_id="r1-p1", override=moved), None)
    assert (row.machine_cls, row.machine_probe_id) == (None, ""), "the matcher had no probe for it"
