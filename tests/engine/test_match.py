"""Matching, hardened: every kind of evidence, ticket threading, the sender-domain guess, conflicts, overrides.

Messages go through the real Ingestor into a real SQLite store, as a listener would hand them over.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replybench.channels.base import InboundItem, SendReceipt
from replybench.engine.ingest import Ingestor
from replybench.engine.match import CONFLICT_CONFIDENCE
from replybench.models import MessageClass, ProbeState
from replybench.store import MessageRecord, ProbeRecord, RunRecord, Store, open_store
from tests.storebuilders import planned_probes

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PERSONA = "anna@p.example"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(str(tmp_path / "match.db"))
    yield s
    s.close()


def sent_probes(store: Store, n: int) -> list[ProbeRecord]:
    run = RunRecord("run1", "suite", T0, "running", 1, 86400.0, "human", {"targets": {}})
    store.create_run(run, planned_probes("run1", n, T0, id_prefix="p"))
    for i in range(n):
        store.mark_sending(f"p{i}", T0)
        store.mark_sent(f"p{i}", SendReceipt(T0, "smtp-250", {}), T0 + timedelta(days=1))
    return [p for p in (store.get_probe(f"p{i}") for i in range(n)) if p is not None]


def mail(
    *,
    subject: str = "Re: Q",
    sender: str = "agent@t.example",
    to: str = PERSONA,
    body: str = "Thank you for your question. We open at nine on both days.",
    message_id: str | None = None,
    **headers: str,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(T0 + timedelta(hours=1))
    msg["Message-ID"] = message_id or f"<{abs(hash((subject, body, sender, to)))}@t.example>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def ingest(
    store: Store, raw: bytes, *, envelope_to: tuple[str, ...] = (PERSONA,), minutes: int = 60
) -> MessageRecord:
    ingestor = Ingestor(store, wait_limits=lambda _run: (timedelta(days=1), "human"))

    async def main() -> None:
        await ingestor.accept(
            InboundItem(
                "email",
                raw,
                T0 + timedelta(minutes=minutes),
                "smtp-receipt",
                "smtp://test",
                envelope_to=envelope_to,
            )
        )
        await ingestor.drain()

    asyncio.run(main())
    (message,) = [m for m in store.messages() if m.raw == raw]
    return message


def test_plus_address_in_the_envelope_is_certain(store: Store) -> None:
    (probe,) = sent_probes(store, 1)
    m = ingest(store, mail(), envelope_to=(probe.reply_address,))
    assert (m.probe_id, m.match_method, m.match_confidence) == (probe.id, "plus_address", 1.0)


def test_token_only_in_reply_to_matches_with_less_confidence(store: Store) -> None:
    (probe,) = sent_probes(store, 1)
    m = ingest(store, mail(Reply_To=probe.reply_address))
    assert (m.probe_id, m.match_method) == (probe.id, "plus_address")
    assert m.match_confidence == 0.9
    assert "Reply-To" in (m.match_detail or "")


def test_delivered_to_and_x_original_to_carry_the_token(store: Store) -> None:
    a, b = sent_probes(store, 2)
    m1 = ingest(store, mail(Delivered_To=a.reply_address, body="one"))
    m2 = ingest(store, mail(X_Original_To=b.reply_address, body="two"))
    assert (m1.probe_id, m1.match_confidence) == (a.id, 0.99)
    assert (m2.probe_id, m2.match_confidence) == (b.id, 0.99)


def test_second_reply_in_the_same_ticket_follows_the_ticket_id(store: Store) -> None:
    probe, other = sent_probes(store, 2)
    ack = ingest(
        store,
        mail(
            subject="[#48213] We have received your request",
            body="This is an automated reply. Your request has been received; ticket #48213.",
            Auto_Submitted="auto-replied",
        ),
        envelope_to=(probe.reply_address,),
    )
    assert ack.probe_id == probe.id and ack.ticket_id == "48213"

    # The agent answers later from the help desk: new Message-ID, no token anywhere, only the ticket.
    answer = ingest(
        store,
        mail(subject="Re: [#48213] We have received your request", body="We are open from 9 to 14."),
        minutes=120,
    )
    assert (answer.probe_id, answer.match_method) == (probe.id, "ticket_id")
    assert answer.match_confidence == 0.85
    assert other.id not in (answer.match_detail or "")


def test_a_ticket_id_from_another_organisation_is_not_followed(store: Store) -> None:
    probe, _ = sent_probes(store, 2)
    ingest(
        store,
        mail(
            subject="[#48213] Request received", body="Ticket #48213 was created. This is an automated reply."
        ),
        envelope_to=(probe.reply_address,),
    )
    stranger = ingest(store, mail(subject="Re: [#48213] your order", sender="desk@elsewhere.example"))
    assert stranger.probe_id is None


def test_a_ticket_id_named_by_two_probes_matches_neither(store: Store) -> None:
    a, b = sent_probes(store, 2)
    for p in (a, b):
        ingest(
            store,
            mail(subject="[#777] received", body=f"Ticket #777 opened for {p.id}. Automated reply."),
            envelope_to=(p.reply_address,),
        )
    m = ingest(store, mail(subject="Re: [#777] received", body="Here is the answer."), minutes=90)
    assert m.probe_id is None
    assert "several probes" in (m.match_detail or "")


def test_a_reply_in_the_thread_of_a_matched_acknowledgement_is_matched(store: Store) -> None:
    (probe,) = sent_probes(store, 1)
    ack = ingest(
        store,
        mail(subject="Received", body="We got your message.", message_id="<ack-1@desk.t.example>"),
        envelope_to=(probe.reply_address,),
    )
    assert ack.probe_id == probe.id
    follow = ingest(store, mail(body="Answer.", In_Reply_To="<ack-1@desk.t.example>"), minutes=80)
    assert (follow.probe_id, follow.match_method, follow.match_confidence) == (
        probe.id,
        "thread_headers",
        0.9,
    )


def test_a_bounce_is_matched_by_our_message_id_in_the_returned_original(store: Store) -> None:
    (probe,) = sent_probes(store, 1)
    returned = f"Message-ID: {probe.message_id}\nSubject: Q\nTo: help@t.example\n"
    bounce = mail(
        subject="Undelivered Mail Returned to Sender",
        sender="MAILER-DAEMON@mx.t.example",
        body="The mail system could not deliver your message.\n\n--- returned headers ---\n" + returned,
    )
    m = ingest(store, bounce, envelope_to=("bounces@p.example",))
    assert (m.probe_id, m.match_method, m.match_confidence) == (probe.id, "returned_headers", 0.95)


def test_only_open_probe_to_the_senders_domain_is_a_low_confidence_guess(store: Store) -> None:
    (probe,) = sent_probes(store, 1)
    m = ingest(store, mail(sender="someone@mail.t.example"))
    assert (m.probe_id, m.match_method) == (probe.id, "sender_domain")
    assert m.match_confidence is not None and m.match_confidence < 0.7
    # The engine does not act on a guess: the probe stays open until a person confirms.
    assert store.get_probe(probe.id).state is ProbeState.SENT
    assert [r.id for r in store.review_queue(0.7)] == [m.id]


def test_two_open_probes_to_the_senders_domain_match_neither(store: Store) -> None:
    a, b = sent_probes(store, 2)
    m = ingest(store, mail())
    assert m.probe_id is None
    assert a.id in (m.match_detail or "") and b.id in (m.match_detail or "")


def test_conflicting_evidence_keeps_the_strongest_and_asks_for_review(store: Store) -> None:
    a, b = sent_probes(store, 2)
    m = ingest(store, mail(In_Reply_To=b.message_id), envelope_to=(a.reply_address,))
    assert m.probe_id == a.id
    assert m.match_confidence == CONFLICT_CONFIDENCE
    assert b.id in (m.match_detail or "")
    assert store.get_probe(a.id).state is ProbeState.SENT, "a conflicting match does not close the probe"


def test_a_person_overrides_class_and_match_and_wins_everywhere(store: Store) -> None:
    a, b = sent_probes(store, 2)
    m = ingest(store, mail(), envelope_to=(a.reply_address,))
    assert m.cls is MessageClass.HUMAN
    store.set_override(m.id, who="rita", cls=MessageClass.DEFLECTION, probe_id=b.id, note="forwarded")
    again = store.get_message(m.id)
    assert again is not None and again.override is not None
    assert (again.cls, again.probe_id) == (MessageClass.DEFLECTION, b.id)
    assert (again.override.machine_cls, again.override.machine_probe_id) == (MessageClass.HUMAN, a.id)
    assert again.override.who == "rita"
    assert [x.id for x in store.messages(probe_id=b.id)] == [m.id]
    assert store.messages(probe_id=a.id) == []
    assert [x.id for x in store.messages(run_id="run1")] == [m.id]
    assert [e.kind for e in store.events() if e.kind == "override"] == ["override"]

    # Re-processing (re-classification) never erases a person's decision.
    Ingestor(store, wait_limits=lambda _run: None).process(m.id)
    assert store.get_message(m.id).cls is MessageClass.DEFLECTION

    store.set_override(m.id, who="rita", probe_id="")
    assert store.get_message(m.id).probe_id is None
    assert m.id in [x.id for x in store.unmatched_messages()]


def test_an_override_needs_a_name_and_a_known_probe(store: Store) -> None:
    (a,) = sent_probes(store, 1)
    m = ingest(store, mail(), envelope_to=(a.reply_address,))
    with pytest.raises(ValueError, match="who"):
        store.set_override(m.id, who=" ", cls=MessageClass.HUMAN)
    with pytest.raises(KeyError, match="no probe"):
        store.set_override(m.id, who="rita", probe_id="nope")
    with pytest.raises(KeyError, match="no message"):
        store.set_override(9999, who="rita", cls=MessageClass.HUMAN)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    places=st.lists(
        st.tuples(
            st.sampled_from(["envelope", "Delivered-To", "Reply-To", "In-Reply-To", "Subject"]),
            st.integers(0, 2),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_a_reply_is_matched_to_exactly_one_of_the_probes_it_names(tmp_path_factory, places) -> None:
    store = open_store(str(tmp_path_factory.mktemp("m") / "m.db"))
    probes = sent_probes(store, 3)
    envelope: list[str] = []
    headers: dict[str, str] = {}
    subject = "Re: Q"
    for where, i in places:
        p = probes[i]
        if where == "envelope":
            envelope.append(p.reply_address)
        elif where == "In-Reply-To":
            headers["In_Reply_To"] = p.message_id
        elif where == "Subject":
            subject = f"Re: Q [{p.token}]"
        else:
            headers[where.replace("-", "_")] = p.reply_address
    m = ingest(store, mail(subject=subject, **headers), envelope_to=tuple(envelope) or (PERSONA,))
    named = {p.id for p in probes if p.reply_address in envelope or p.reply_address in headers.values()}
    named |= {p.id for p in probes if p.message_id == headers.get("In_Reply_To") or p.token in subject}
    assert m.probe_id in named
    assert sum(1 for p in probes if m in store.messages(probe_id=p.id)) == 1
    if len(named) > 1:
        assert m.match_confidence == CONFLICT_CONFIDENCE
    store.close()


def test_a_holding_reply_keeps_the_probe_open_for_the_answer(store: Store) -> None:
    (probe,) = sent_probes(store, 1)
    holding = ingest(
        store,
        mail(
            body="Hi Ann,\n\nthanks for your patience. I have forwarded your question to our billing team "
            "and we will get back to you as soon as we hear from them.\n\nBest,\nMaria"
        ),
        envelope_to=(probe.reply_address,),
    )
    assert holding.cls is MessageClass.HUMAN and holding.detail.get("holding")
    assert store.get_probe(probe.id).state is ProbeState.SENT, "the answer is still to come"
    ingest(
        store, mail(body="We open from 9 to 14 on both days."), envelope_to=(probe.reply_address,), minutes=90
    )
    assert store.get_probe(probe.id).state is ProbeState.CLOSED


def test_only_a_persons_plain_reply_is_holding_or_an_answer() -> None:
    def record(cls: MessageClass, **detail: str) -> MessageRecord:
        return MessageRecord(1, "email", "s", b"", "", T0, "c", T0, "parsed", cls=cls, detail=dict(detail))

    assert record(MessageClass.HUMAN, holding="we'll get back to you").is_holding
    assert not record(MessageClass.HUMAN, holding="x").is_answer
    assert record(MessageClass.HUMAN).is_answer
    # A deflection that also promises to come back is a deflection: it closes the probe, it is no answer.
    deflection = record(MessageClass.DEFLECTION, holding="we'll get back to you", deflection="call us")
    assert not deflection.is_holding and not deflection.is_answer
    assert not record(MessageClass.AUTO_ACK, holding="x").is_holding
