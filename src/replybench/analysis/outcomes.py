"""Derive the outcomes table (one :class:`Outcome` per probe) from the store. Re-derivable at any time.

Only what reached us by the probe's horizon counts; later replies stay in the store but are censored out.
A delivery-status notice that is not final (``Action: delayed``, or a success report) is neither a bounce nor a
response: the clock keeps running. Nor is a chat greeting shown before the inquiry was delivered (its
classification says ``before_inquiry``): nobody had asked anything yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from replybench.analysis.assess import best_quality, stated_promise
from replybench.analysis.outcome import Outcome, answers_of
from replybench.clock import BusinessClock
from replybench.models import (
    HUMAN_CLASSES,
    NOT_A_RESPONSE,
    REVIEW_THRESHOLD,
    MessageClass,
    Persona,
    ProbeScript,
    ProbeState,
    Target,
)
from replybench.store import MessageRecord, ProbeRecord, RunRecord, Store
from replybench.timefmt import utcnow

_M = TypeVar("_M", ProbeScript, Persona)


def needs_review(message: MessageRecord, threshold: float = REVIEW_THRESHOLD) -> bool:
    """True when the machine is unsure of a message's class or match and no person has decided yet."""
    if message.override is not None or message.cls is MessageClass.OWN_COPY:
        return False
    unsure_class = message.confidence is not None and message.confidence < threshold
    unsure_match = message.match_confidence is not None and message.match_confidence < threshold
    return unsure_class or unsure_match


def _is_status_notice(message: MessageRecord) -> bool:
    """A delivery-status report that does not say "not delivered" (a delay warning, a success report)."""
    return message.cls is MessageClass.BOUNCE and message.detail.get("final") != "true"


def outcome_for(
    probe: ProbeRecord,
    run: RunRecord,
    target: Target,
    messages: Iterable[MessageRecord],
    now: datetime,
    *,
    script: ProbeScript | None = None,
    persona: Persona | None = None,
) -> Outcome:
    """The outcome of one probe from its record and the messages matched to it, as known at ``now``.

    ``script`` and ``persona`` (from the run's snapshot) let the human replies be scored against the rubric.
    """
    messages = list(messages)
    sent = probe.sent_at is not None and probe.state in (ProbeState.SENT, ProbeState.CLOSED)
    horizon = probe.closes_at if sent else None
    observed_until = min(horizon, now) if horizon is not None and probe.state is ProbeState.SENT else horizon
    in_time = [
        m
        for m in sorted(messages, key=lambda m: (m.received_at, m.id))
        if m.cls is not MessageClass.OWN_COPY
        and not _is_status_notice(m)
        and m.detail.get("before_inquiry") != "true"
        and horizon
        and m.received_at <= horizon
    ]
    responses = [m for m in in_time if m.cls not in NOT_A_RESPONSE]
    humans = [m for m in in_time if m.cls in HUMAN_CLASSES]
    first = responses[0] if responses else None
    human = humans[0] if humans else None
    answer = next((m for m in humans if m.is_answer), None)
    promise = stated_promise(probe, in_time)
    quality = best_quality(script, persona, humans)
    response_s = human_s = business_s = horizon_business_s = answer_s = None
    promise_due: datetime | None = None
    promise_kept: bool | None = None
    if sent and probe.sent_at is not None:
        clock = BusinessClock.for_target(target)
        if answer is not None:
            answer_s = max(0.0, (answer.received_at - probe.sent_at).total_seconds())
        if promise is not None:
            promise_due = promise.deadline(probe.sent_at, clock)
            if promise_due is not None:
                if answer is not None and answer.received_at <= promise_due:
                    promise_kept = True
                elif observed_until is not None and observed_until >= promise_due:
                    promise_kept = False
        if first is not None:
            response_s = max(0.0, (first.received_at - probe.sent_at).total_seconds())
        if human is not None:
            human_s = max(0.0, (human.received_at - probe.sent_at).total_seconds())
            business_s = clock.business_seconds(probe.sent_at, human.received_at)
        elif observed_until is not None:
            # the business time a censored probe was followed for: its censoring time on the business clock
            horizon_business_s = clock.business_seconds(probe.sent_at, observed_until)
    return Outcome(
        probe_id=probe.id,
        run_id=probe.run_id,
        suite=probe.suite_id,
        target_id=probe.target_id,
        target_name=target.name,
        industry=target.industry,
        channel=probe.channel,
        script_id=probe.script_id,
        persona_id=probe.persona_id,
        state=probe.state.value,
        sent_at=probe.sent_at if sent else None,
        sent_clock=probe.sent_clock if sent else None,
        first_response_at=first.received_at if first else None,
        first_response_class=first.cls.value if first and first.cls else None,
        first_human_at=human.received_at if human else None,
        bounced=any(m.cls is MessageClass.BOUNCE for m in in_time),
        censored=sent and human is None,
        horizon_at=horizon,
        response_s=response_s,
        human_response_s=human_s,
        human_response_business_s=business_s,
        quality=quality.score if quality else None,
        first_response_clock=first.received_clock if first else None,
        first_human_clock=human.received_clock if human else None,
        auto_acked=any(m.cls is MessageClass.AUTO_ACK for m in in_time),
        replies=len(responses),
        due_at=probe.due_at,
        country=target.country,
        timezone=target.timezone,
        observed_until=observed_until,
        horizon_business_s=horizon_business_s,
        deflected=any(m.cls is MessageClass.DEFLECTION for m in in_time),
        out_of_office=any(m.cls is MessageClass.OUT_OF_OFFICE for m in in_time),
        first_auto_at=next((m.received_at for m in in_time if m.cls is MessageClass.AUTO_ACK), None),
        answers=answers_of(
            holding=any(m.is_holding for m in in_time),
            first_answer_at=answer.received_at if answer else None,
            answer_response_s=answer_s,
            ticket_id=next((m.ticket_id for m in messages if m.ticket_id), None),
            promise=promise.phrase if promise else None,
            promise_due_at=promise_due,
            promise_kept=promise_kept,
            quality_matched="; ".join(quality.required + quality.optional)
            if quality and (quality.required or quality.optional)
            else None,
            quality_missing="; ".join(quality.missing) if quality and quality.missing else None,
            answered_all=quality.answered_all if quality else None,
            personalised=quality.personalised if quality else None,
            needs_review=any(needs_review(m) for m in messages),
        ),
    )


def build_outcomes(store: Store, run_ids: Iterable[str] | None = None) -> list[Outcome]:
    """Outcomes of every probe of the given runs (default: every run), in due order."""
    runs = [store.get_run(r) for r in run_ids] if run_ids is not None else store.runs()
    out: list[Outcome] = []
    now = utcnow()
    for run in runs:
        if run is None:
            continue
        by_probe: dict[str, list[MessageRecord]] = {}
        for m in store.messages(run_id=run.id):
            if m.probe_id:
                by_probe.setdefault(m.probe_id, []).append(m)
        targets = {tid: Target.model_validate(t) for tid, t in run.snapshot.get("targets", {}).items()}
        scripts = _snapshot_models(run, "scripts", ProbeScript)
        personas = _snapshot_models(run, "personas", Persona)
        for probe in store.probes(run.id):
            out.append(
                outcome_for(
                    probe,
                    run,
                    targets[probe.target_id],
                    by_probe.get(probe.id, []),
                    now,
                    script=scripts.get(probe.script_id),
                    persona=personas.get(probe.persona_id),
                )
            )
    return out


def _snapshot_models(run: RunRecord, key: str, model: type[_M]) -> dict[str, _M]:
    """Scripts or personas from a run's snapshot; one that no longer validates is left out (not scored)."""
    out: dict[str, _M] = {}
    for item_id, data in run.snapshot.get(key, {}).items():
        try:
            out[item_id] = model.model_validate(data)
        except ValueError:
            continue
    return out
