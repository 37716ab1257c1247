"""Reply intelligence end to end: holding replies, a follow-up found by its ticket id, deflections, promises.

The sandbox's companies answer in their human style; the engine must store, match, classify and time what
they send, and the outcomes must agree with the sandbox's ground truth.
"""

from __future__ import annotations

from pathlib import Path

from replybench.analysis.outcomes import build_outcomes
from replybench.models import MessageClass
from tests.engine.helpers import write_workspace
from tests.engine.test_engine_sandbox import run_engine

BEHAVIOURS = {
    "waiting": (
        '{ profile = "fast", human_style = "holding", promise = "within 2 business days", '
        'human_median = "0.5s", human_sigma = 0.1 }'
    ),
    "elsewhere": '{ profile = "fast", human_style = "deflect", human_median = "0.5s", human_sigma = 0.1 }',
}


def test_a_holding_reply_a_follow_up_in_the_ticket_and_a_deflection(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", BEHAVIOURS, wait="6s", until="horizon")
    _ws, store, run, sandbox = run_engine(root)
    assert run.status == "finished"
    truth = sandbox.truth
    probes = {p.target_id: p for p in store.probes(run.id)}
    outcomes = {o.target_id: o for o in build_outcomes(store, [run.id])}
    # every message the sandbox delivered was stored and matched to its probe
    delivered = [d for d in truth.deliveries if d.status == "delivered"]
    assert store.message_count() == len(delivered)
    assert store.unmatched_messages() == []

    # holding: the person's first reply holds, the answer follows in the ticket, found by the ticket id
    probe = probes["waiting"]
    sent = {r.kind: r for r in truth.replies_for(probe.token)}
    assert sorted(sent) == ["ack", "followup", "holding"]
    assert all(r.status == "delivered" for r in sent.values())
    stored = {m.message_id: m for m in store.messages(probe_id=probe.id)}
    ack, holding, followup = (stored[sent[kind].message_id] for kind in ("ack", "holding", "followup"))
    assert ack.cls is MessageClass.AUTO_ACK and ack.ticket_id
    assert (holding.cls, holding.match_method) == (MessageClass.HUMAN, "plus_address")
    assert holding.detail.get("holding"), holding.evidence
    assert followup.cls is MessageClass.HUMAN and not followup.detail.get("holding")
    assert (followup.probe_id, followup.match_method) == (probe.id, "ticket_id")
    assert followup.ticket_id == ack.ticket_id
    assert followup.envelope_to == (sent["followup"].rcpt_to,)
    assert probe.token not in followup.envelope_to[0] and "+" not in followup.envelope_to[0]

    waiting = outcomes["waiting"]
    assert waiting.holding and not waiting.deflected
    assert waiting.first_human_at == holding.received_at
    assert waiting.first_answer_at == followup.received_at
    assert waiting.first_answer_at > waiting.first_human_at
    assert waiting.ticket_id == ack.ticket_id
    assert waiting.promise is not None and "within 2 business days" in waiting.promise
    assert waiting.promise_due_at is not None and waiting.promise_kept is True

    # deflection: a person's reply that sends us elsewhere; nobody answers
    probe = probes["elsewhere"]
    assert sorted(r.kind for r in truth.replies_for(probe.token)) == ["ack", "deflection"]
    elsewhere = outcomes["elsewhere"]
    deflection = next(m for m in store.messages(probe_id=probe.id) if m.cls is MessageClass.DEFLECTION)
    assert elsewhere.deflected and not elsewhere.holding
    assert elsewhere.first_human_at == deflection.received_at
    assert elsewhere.first_answer_at is None
