"""Outcomes of reply intelligence: the first real answer, holding replies, promises kept, quality, review flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from replybench.analysis.outcomes import outcome_for
from replybench.classify.promise import Promise
from replybench.models import MessageClass, Persona, ProbeScript, ProbeState, Target
from replybench.store import MessageRecord, OverrideRecord, ProbeRecord, RunRecord

MON = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday; the target opens 09:00-17:00 on weekdays (UTC)
TARGET = Target(id="acme", name="Acme")
RUN = RunRecord("run1", "suite", MON, "running", 1, 7 * 86400.0, "human", {})
PERSONA = Persona(id="ann", display_name="Ann Example")
SCRIPT = ProbeScript.model_validate(
    {
        "id": "hours",
        "subject": "Opening hours?",
        "body": "What are your opening hours on 24 and 31 December?",
        "rubric": {
            "required": [
                {"point": "hours on 24 December", "phrases": ["24 December", "Christmas Eve"]},
                "(?i)31(st)? dec",
            ],
            "forbidden": [{"point": "call us", "phrases": ["call us"]}],
        },
    }
)


def probe(*, horizon: timedelta = timedelta(days=7), evidence: dict[str, str] | None = None) -> ProbeRecord:
    return ProbeRecord(
        id="p1",
        run_id="run1",
        suite_id="suite",
        target_id="acme",
        channel="email",
        script_id="hours",
        persona_id="ann",
        token="k3m9x2p7qrtv",
        due_at=MON,
        state=ProbeState.SENT,
        subject="Opening hours?",
        body="What are your opening hours on 24 and 31 December?",
        to_address="help@acme.example",
        reply_address="ann+k3m9x2p7qrtv@p.example",
        message_id="<rb.k3m9x2p7qrtv.1@p.example>",
        sent_at=MON,
        sent_clock="smtp-250",
        evidence=evidence or {},
        closes_at=MON + horizon,
    )


_ids = iter(range(1, 10_000))


def message(
    at: datetime,
    cls: MessageClass,
    text: str = "",
    *,
    confidence: float = 0.9,
    detail: dict[str, str] | None = None,
    override: OverrideRecord | None = None,
) -> MessageRecord:
    return MessageRecord(
        id=next(_ids),
        channel="email",
        source="smtp://t",
        raw=b"",
        sha256="",
        received_at=at,
        received_clock="smtp-receipt",
        observed_at=at,
        status="parsed",
        text=text,
        probe_id="p1",
        match_method="plus_address",
        match_confidence=1.0,
        cls=cls,
        rule="r",
        confidence=confidence,
        detail=detail or {},
        override=override,
    )


def outcome(messages: list[MessageRecord], now: datetime | None = None, **kw: object):  # type: ignore[no-untyped-def]
    return outcome_for(
        probe(**kw),  # type: ignore[arg-type]
        RUN,
        TARGET,
        messages,
        now or MON + timedelta(days=30),
        script=SCRIPT,
        persona=PERSONA,
    )


PROMISE_2BD = Promise(2, "day", True, "we will reply within 2 business days").to_detail()


def test_quality_counts_only_the_replys_own_words() -> None:
    reply = (
        "Hello Ann,\n\non 24 December we are open from 9 to 14.\n\nKind regards\nBen\n\n"
        "On Mon, 23 Nov 2026 at 10:00, Ann Example <ann@p.example> wrote:\n"
        "> What are your opening hours on 24 and 31 December?\n"
    )
    o = outcome([message(MON + timedelta(hours=2), MessageClass.HUMAN, reply)])
    assert o.quality == 50.0, "31 December is only in the quoted question"
    assert o.quality_matched == "hours on 24 December"
    assert o.quality_missing == "(?i)31(st)? dec"
    assert o.answered_all is False
    assert o.personalised is True


def test_the_best_human_reply_sets_the_quality_and_a_deflection_costs_points() -> None:
    o = outcome(
        [
            message(MON + timedelta(hours=1), MessageClass.DEFLECTION, "Please call us about 24 December."),
            message(MON + timedelta(hours=3), MessageClass.HUMAN, "24 December: 9-14. 31 Dec: closed."),
        ]
    )
    assert o.quality == 100.0 and o.answered_all is True and o.personalised is False
    assert o.deflected is True
    assert o.first_human_at == MON + timedelta(hours=1), "a deflection is a person's reply"
    assert o.first_answer_at == MON + timedelta(hours=3)
    assert o.answer_response_s == 3 * 3600


def test_a_holding_reply_is_human_but_not_an_answer() -> None:
    holding = message(
        MON + timedelta(hours=1),
        MessageClass.HUMAN,
        "We'll get back to you.",
        detail={"holding": "we'll get back to you"},
    )
    o = outcome([holding])
    assert o.holding is True
    assert o.first_human_at == MON + timedelta(hours=1)
    assert o.first_answer_at is None and o.answer_response_s is None


@pytest.mark.parametrize(
    ("answer_after", "now_after", "kept"),
    [
        (timedelta(days=1, hours=5), None, True),  # Tuesday 15:00, before Wednesday 17:00
        (timedelta(days=2, hours=7), None, True),  # Wednesday 17:00 exactly
        (timedelta(days=3), None, False),  # Thursday
        (None, timedelta(days=5), False),  # no answer, watched past the deadline
        (None, timedelta(days=1), None),  # no answer yet, deadline not reached: undetermined
    ],
)
def test_a_promise_of_two_business_days_is_due_at_wednesdays_closing(
    answer_after: timedelta | None, now_after: timedelta | None, kept: bool | None
) -> None:
    msgs = [message(MON + timedelta(minutes=1), MessageClass.AUTO_ACK, "Received.", detail=PROMISE_2BD)]
    if answer_after is not None:
        msgs.append(message(MON + answer_after, MessageClass.HUMAN, "24 December 9-14."))
    o = outcome(msgs, now=MON + now_after if now_after else None)
    assert o.promise == "we will reply within 2 business days"
    assert o.promise_due_at == datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    assert o.promise_kept is kept


def test_a_promise_on_the_form_confirmation_page_counts_first() -> None:
    o = outcome(
        [message(MON + timedelta(hours=30), MessageClass.HUMAN, "24 December 9-14.")],
        evidence={"confirmation": "Thank you! We will answer your message within 24 hours."},
    )
    assert o.promise is not None and "24 hours" in o.promise
    assert o.promise_due_at == MON + timedelta(hours=24)
    assert o.promise_kept is False


def test_an_unsure_decision_flags_the_probe_until_a_person_decides() -> None:
    unsure = message(MON + timedelta(hours=1), MessageClass.HUMAN, "ok", confidence=0.5)
    assert outcome([unsure]).needs_review is True
    decided = OverrideRecord("rita", MON, None, MessageClass.HUMAN, None, MessageClass.HUMAN, "p1")
    confirmed = message(MON + timedelta(hours=1), MessageClass.HUMAN, "ok", confidence=0.5, override=decided)
    assert outcome([confirmed]).needs_review is False


def test_without_a_rubric_nothing_is_scored() -> None:
    plain = ProbeScript(id="plain", subject="s", body="b")
    o = outcome_for(
        probe(), RUN, TARGET, [message(MON + timedelta(hours=1), MessageClass.HUMAN, "x")], MON, script=plain
    )
    assert o.quality is None and o.answered_all is None and o.quality_matched is None
