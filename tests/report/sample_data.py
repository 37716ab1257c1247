"""A realistic, deterministic data set for the report tests: 45 probes to 9 targets in 4 industries over two
channels (e-mail and contact form), sent across a week, with the matched messages as evidence rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from replybench.analysis.evidence import EXCERPT_CHARS, MessageRow, clean_text
from replybench.analysis.outcome import ANSWER_FIELDS, Outcome
from replybench.report.render import ReportMeta

START = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
WAIT = timedelta(days=7)
MIN, HOUR, DAY = 60.0, 3600.0, 86400.0

# target_id, name, industry, country, time zone
TARGETS: list[tuple[str, str, str, str, str]] = [
    ("nordbank", "Nordbank AG", "banking", "DE", "Europe/Berlin"),
    ("kreditwerk", "Kreditwerk Direkt", "banking", "DE", "Europe/Berlin"),
    ("alpenkasse", "Alpenkasse", "banking", "AT", "Europe/Vienna"),
    ("telemax", "Telemax Mobile", "telecom", "DE", "Europe/Berlin"),
    ("funkfix", "FunkFix", "telecom", "CH", "Europe/Zurich"),
    ("netzwelle", "Netzwelle Fiber", "telecom", "DE", "Europe/Berlin"),
    ("shopline", "Shopline", "retail", "NL", "Europe/Amsterdam"),
    ("warenkorb", "Warenkorb24 GmbH & Co. KG", "retail", "DE", "Europe/Berlin"),
    ("lumenstrom", "Lumenstrom Energie", "energy", "DE", "Europe/Berlin"),
]

# Per target, five probes: (kind, ack delay s, human delay s). Kinds:
#   "human": a person answered (after an optional auto-acknowledgement)
#   "ack":   only an auto-acknowledgement, censored for the headline
#   "none":  no reply at all, censored at the horizon
#   "bounce": bounced after the 250, censored
#   "ooo":   an out-of-office reply first (at the "ack" delay), then a person
#   "late":  a person answered, but only after the horizon: censored, the message is evidence only
#   "failed" / "skipped" / "uncertain" / "blocked": never sent
PLAN: dict[str, list[tuple[str, float | None, float | None]]] = {
    "nordbank": [
        ("human", 4.2, 2 * HOUR + 12 * MIN),
        ("human", 3.9, 5 * HOUR + 40 * MIN),
        ("human", 5.1, 1 * HOUR + 3 * MIN),
        ("human", 4.4, 26 * HOUR),
        ("ack", 4.0, None),
    ],
    "kreditwerk": [
        ("human", None, 2 * DAY + 3 * HOUR),
        ("human", None, 3 * DAY + 20 * HOUR),
        ("none", None, None),
        ("none", None, None),
        ("failed", None, None),
    ],
    "alpenkasse": [
        ("human", 0.8, 41 * MIN),
        ("human", 0.9, 18 * MIN),
        ("human", 0.7, 1 * HOUR + 55 * MIN),
        ("human", 1.1, 33 * MIN),
        ("human", 0.6, 3 * HOUR + 5 * MIN),
    ],
    "telemax": [
        ("human", 12.0, 20 * HOUR),
        ("human", 11.0, 1 * DAY + 22 * HOUR),
        ("ack", 10.5, None),
        ("human", 13.0, 4 * HOUR + 10 * MIN),
        ("skipped", None, None),
    ],
    "funkfix": [
        ("bounce", None, None),
        ("bounce", None, None),
        ("none", None, None),
        ("human", None, 5 * DAY + 2 * HOUR),
        ("uncertain", None, None),
    ],
    "netzwelle": [
        ("human", 2.0, 7 * MIN),
        ("human", 2.2, 12 * MIN),
        ("human", 1.9, 25 * MIN),
        ("ack", 2.1, None),
        ("human", 2.4, 9 * MIN),
    ],
    "shopline": [
        ("human", 30.0, 50 * MIN),
        ("human", 28.0, 2 * HOUR + 30 * MIN),
        ("human", 31.0, 6 * HOUR + 45 * MIN),
        ("human", 29.0, 14 * HOUR + 5 * MIN),
        ("blocked", None, None),
    ],
    "warenkorb": [
        ("ack", 1.2, None),
        ("ack", 1.4, None),
        ("human", 1.3, 3 * DAY + 4 * HOUR),
        ("none", None, None),
        ("human", 1.1, 6 * DAY + 1 * HOUR),
    ],
    "lumenstrom": [
        ("human", 45.0, 7 * HOUR + 20 * MIN),
        ("ooo", 2.5, 2 * DAY + 1 * HOUR),
        ("late", None, None),
        ("human", 50.0, 9 * HOUR),
        ("human", 41.0, 1 * DAY + 3 * HOUR),
    ],
}

NOT_SENT = {"failed", "skipped", "uncertain", "blocked"}

# Reply intelligence on top of the plan (none of it changes the timing of the first human reply):
#   every auto-acknowledgement states a promise ("within two business days") and carries a ticket number;
#   a few human replies are not real answers: a deflection, a holding reply alone, a holding reply followed
#   by the real answer a day later; replies to the refund question are scored against its rubric.
DEFLECTED = {("kreditwerk", 1)}
HOLDING_ONLY = {("telemax", 1)}
HOLDING_THEN_ANSWER = {("warenkorb", 2)}
NEEDS_REVIEW = {("lumenstrom", 1), ("funkfix", 3)}
DECIDED = {("lumenstrom", 3)}  # a person overruled the classifier (it had said auto_ack)
PROMISE = "within two business days"
RUBRIC_SCRIPT = "refund-question"
#: Quality of the answered refund questions (FunkFix's one reply was not scored).
QUALITY: dict[tuple[str, int], float] = {
    ("nordbank", 0): 100.0,
    ("nordbank", 3): 100.0,
    ("kreditwerk", 0): 80.0,
    ("alpenkasse", 0): 75.0,
    ("alpenkasse", 3): 85.0,
    ("telemax", 0): 55.0,
    ("telemax", 3): 100.0,
    ("netzwelle", 0): 40.0,
    ("shopline", 0): 100.0,
    ("shopline", 3): 55.0,
    ("lumenstrom", 0): 85.0,
    ("lumenstrom", 3): 40.0,
}


def make_outcome(**overrides: Any) -> Outcome:
    """A sent probe with a human reply after one hour; override any field."""
    sent = START
    base = Outcome(
        probe_id="p-0001",
        run_id="run-1",
        suite="baseline",
        target_id="acme",
        target_name="ACME Corp",
        industry="retail",
        channel="email",
        script_id="refund-question",
        persona_id="anna",
        state="closed",
        sent_at=sent,
        sent_clock="smtp-250",
        first_response_at=sent + timedelta(hours=1),
        first_response_class="human",
        first_human_at=sent + timedelta(hours=1),
        bounced=False,
        censored=False,
        horizon_at=sent + WAIT,
        response_s=3600.0,
        human_response_s=3600.0,
        human_response_business_s=3600.0,
        quality=None,
        first_response_clock="smtp-receipt",
        first_human_clock="smtp-receipt",
        auto_acked=False,
        replies=1,
        due_at=sent,
        country="DE",
        timezone="Europe/Berlin",
    )
    answers = {k: overrides.pop(k) for k in list(overrides) if k in ANSWER_FIELDS}
    return replace(base, **overrides).with_answers(**answers)


def _business(seconds: float) -> float:
    """A plausible business-time share of a wall-clock delay (roughly 8 h of every 24 h)."""
    return round(seconds / 3.0 if seconds > 8 * HOUR else seconds * 0.9, 3)


SUBJECTS = {
    "refund-question": "Question about a refund for order 48213",
    "contract-change": "Vertragsänderung – Wechsel in den kleineren Tarif",
    "address-update": "Address change for my customer account",
}
CHANNELS = ("email", "webform")


def _due(t_index: int, p_index: int) -> datetime:
    """Send times spread over Monday to Saturday, 08:00–18:00 UTC (09:00–19:00 in Central Europe)."""
    return START + timedelta(
        days=(2 * p_index + t_index) % 6, hours=(3 * p_index + 2 * t_index) % 11, minutes=7 * t_index
    )


def _probe_id(n: int, tid: str) -> str:
    return f"01JNQ{n:03d}{tid[:4].upper()}"


def _number(probe_id: str) -> int:
    return int(probe_id[5:8])


def _ticket(probe_id: str) -> str:
    return f"#{48000 + _number(probe_id)}"


def _business_days(start: datetime, days: int) -> datetime:
    """``days`` business days (Monday to Friday) after ``start``, at the same time of day."""
    end = start
    while days:
        end += timedelta(days=1)
        days -= end.weekday() < 5
    return end


def _answers(
    key: tuple[str, int],
    t_index: int,
    p_index: int,
    script: str,
    sent: datetime,
    ack: bool,
    human: float | None,
) -> dict[str, Any]:
    """The reply-intelligence fields of a sent probe of the plan (see DEFLECTED and the rest above)."""
    answer = human
    if key in DEFLECTED or key in HOLDING_ONLY:
        answer = None
    elif key in HOLDING_THEN_ANSWER and human is not None:
        answer = human + DAY
    fields: dict[str, Any] = {
        "deflected": key in DEFLECTED,
        "holding": key in HOLDING_ONLY or key in HOLDING_THEN_ANSWER,
        "answer_response_s": answer,
        "first_answer_at": None if answer is None else sent + timedelta(seconds=answer),
        "needs_review": key in NEEDS_REVIEW,
    }
    if key in DEFLECTED:
        fields["first_response_class"] = "deflection"
    if ack:
        due = _business_days(sent, 2)
        fields.update(
            promise=PROMISE,
            promise_due_at=due,
            promise_kept=answer is not None and sent + timedelta(seconds=answer) <= due,
        )
    q = QUALITY.get(key) if script == RUBRIC_SCRIPT and human is not None else None
    if q is not None:
        complete = q >= 80
        fields.update(
            quality=q,
            quality_matched="refund status; refund timeline" + ("; apology" if q == 100 else ""),
            quality_missing=None if complete else "order number",
            answered_all=complete,
            personalised=(t_index + p_index) % 2 == 0,
        )
    return fields


def sample_outcomes() -> list[Outcome]:
    """Forty probes over the first eight targets (banking, telecom, retail), by e-mail and web form.

    The analysis tests rely on these numbers: 8 targets, 40 planned, 36 sent, 4 not sent.
    """
    return report_outcomes()[:40]


def report_outcomes() -> list[Outcome]:
    """The report fixture: forty-five probes over nine targets (banking, telecom, retail, energy), two channels."""
    rows: list[Outcome] = []
    n = 0
    for t_index, (tid, name, industry, country, tz) in enumerate(TARGETS):
        for p_index, (kind, ack, human) in enumerate(PLAN[tid]):
            n += 1
            due = _due(t_index, p_index)
            common: dict[str, Any] = {
                "probe_id": _probe_id(n, tid),
                "run_id": "run-2025-03-03",
                "target_id": tid,
                "target_name": name,
                "industry": industry,
                "channel": CHANNELS[1] if (p_index + t_index) % 3 == 1 else CHANNELS[0],
                "country": country,
                "timezone": tz,
                "due_at": due,
                "script_id": ("refund-question", "contract-change", "address-update")[p_index % 3],
                "persona_id": ("anna", "jonas")[p_index % 2],
            }
            if kind in NOT_SENT:
                rows.append(
                    make_outcome(
                        **common,
                        state=kind,
                        sent_at=None,
                        sent_clock=None,
                        first_response_at=None,
                        first_response_class=None,
                        first_human_at=None,
                        horizon_at=None,
                        response_s=None,
                        human_response_s=None,
                        human_response_business_s=None,
                        first_response_clock=None,
                        first_human_clock=None,
                        replies=0,
                    )
                )
                continue
            sent = due + timedelta(seconds=1.234 + p_index)
            acked = ack is not None and kind != "ooo"
            extra = _answers((tid, p_index), t_index, p_index, common["script_id"], sent, acked, human)
            clock = "imap-internaldate" if tid in {"funkfix", "warenkorb"} else "smtp-receipt"
            first_s: float | None = None
            first_class: str | None = None
            if ack is not None:
                first_s, first_class = ack, ("out_of_office" if kind == "ooo" else "auto_ack")
            if human is not None and first_s is None:
                first_s, first_class = human, "human"
            rows.append(
                make_outcome(
                    **common,
                    state="closed",
                    sent_at=sent,
                    first_response_at=None if first_s is None else sent + timedelta(seconds=first_s),
                    first_response_class=extra.pop("first_response_class", first_class),
                    first_human_at=None if human is None else sent + timedelta(seconds=human),
                    bounced=kind == "bounce",
                    censored=human is None,
                    horizon_at=sent + WAIT,
                    response_s=first_s,
                    human_response_s=human,
                    human_response_business_s=None if human is None else _business(human),
                    first_response_clock=None if first_s is None else clock,
                    first_human_clock=None if human is None else clock,
                    auto_acked=ack is not None and kind != "ooo",
                    replies=(ack is not None) + (human is not None),
                    horizon_business_s=None if human is not None else _business(WAIT.total_seconds()),
                    ticket_id=_ticket(common["probe_id"]) if acked else None,
                    **extra,
                )
            )
    return rows


_HUMAN_TEXT = (
    "Guten Tag Frau Berger, vielen Dank für Ihre Nachricht. Ich habe mir Ihr Konto angesehen: die Erstattung "
    "ist bereits veranlasst und sollte in drei bis fünf Werktagen auf Ihrem Konto sein. Falls Sie noch "
    "Fragen haben, antworten Sie einfach auf diese E-Mail. Mit freundlichen Grüßen, Lena Hoffmann, Kundenservice"
)
_ACK_TEXT = (
    "Thank you for contacting us. This is an automatic confirmation that we have received your message. "
    "Your reference is {ref}. Our team usually answers within two business days. Please do not reply to this "
    "e-mail."
)
_DEFLECT_TEXT = (
    "Guten Tag, Vertragsänderungen können wir per E-Mail leider nicht bearbeiten. Bitte rufen Sie unsere "
    "Hotline unter 0800 123 456 an. Freundliche Grüße, Ihr Kundenservice"
)
_HOLD_TEXT = (
    "Hello Ms Berger, thank you for your patience. I have passed your question on to our billing team and "
    "will get back to you as soon as I hear from them. Kind regards, Tom"
)
_OOO_TEXT = "Ich bin bis einschließlich 14.03. nicht im Büro und habe keinen Zugriff auf meine E-Mails."
_BOUNCE_TEXT = (
    "This is the mail system at host mx1.relay.example. I'm sorry to have to inform you that your message "
    "could not be delivered to one or more recipients. <service@{tid}.example>: host mx.{tid}.example said: "
    "550 5.1.1 Recipient address rejected: User unknown in virtual mailbox table"
)


def _message(
    probe: Outcome,
    n: int,
    delay: float,
    cls: str,
    subject: str,
    text: str,
    *,
    after_horizon: bool = False,
    **extra: Any,
) -> MessageRow:
    assert probe.sent_at is not None
    received = probe.sent_at + timedelta(seconds=delay)
    clock = "imap-internaldate" if probe.target_id in {"funkfix", "warenkorb"} else "smtp-receipt"
    if clock == "imap-internaldate":
        received = received.replace(microsecond=0)
    rule, confidence, evidence, method = {
        "auto_ack": ("header:auto-submitted", 0.98, "Auto-Submitted: auto-replied", "token"),
        "out_of_office": ("text:out-of-office", 0.93, "nicht im Büro … bis einschließlich 14.03.", "token"),
        "human": (
            "text:personal-reply",
            0.86,
            "personal salutation; signed 'Lena Hoffmann, Kundenservice'",
            "in-reply-to",
        ),
        "bounce": ("dsn:action-failed", 1.0, "Action: failed; Status: 5.1.1", "dsn-original"),
        "deflection": ("text:deflection", 0.9, "Bitte rufen Sie unsere Hotline … an", "in-reply-to"),
    }[cls]
    extra.setdefault("match_confidence", {"token": 0.97, "in-reply-to": 1.0, "dsn-original": 1.0}[method])
    return MessageRow(
        probe_id=probe.probe_id,
        message_store_id=n,
        received_at=received,
        clock=clock,
        cls=cls,
        rule=rule,
        confidence=confidence,
        evidence=evidence,
        match_method=method,
        message_id=f"<{received:%Y%m%d%H%M%S}.{n:04d}@mx.{probe.target_id}.example>",
        subject=subject,
        excerpt=clean_text(text, EXCERPT_CHARS),
        after_horizon=after_horizon,
        **extra,
    )


def sample_evidence(outcomes: list[Outcome] | None = None) -> list[MessageRow]:
    """The messages matched to ``outcomes`` (default :func:`report_outcomes`), as :func:`build_evidence` gives them."""
    rows: list[MessageRow] = []
    n = 1000
    plan = {tid: list(PLAN[tid]) for tid in PLAN}
    index: dict[str, int] = {}
    for o in outcomes if outcomes is not None else report_outcomes():
        i = index.get(o.target_id, 0)
        index[o.target_id] = i + 1
        kind, ack, human = plan[o.target_id][i]
        if o.sent_at is None:
            continue
        subject = SUBJECTS[o.script_id]
        ref = _ticket(o.probe_id)
        key = (o.target_id, i)
        if ack is not None:
            n += 1
            if kind == "ooo":
                ooo = _message(o, n, ack, "out_of_office", f"Abwesenheitsnotiz: {subject}", _OOO_TEXT)
                rows.append(replace(ooo, confidence=0.62) if key in NEEDS_REVIEW else ooo)
            else:
                text = _ACK_TEXT.format(ref=ref)
                rows.append(
                    _message(o, n, ack, "auto_ack", f"[{ref}] We received your message", text, ticket_id=ref)
                )
        if kind == "bounce":
            n += 1
            text = _BOUNCE_TEXT.format(tid=o.target_id)
            rows.append(_message(o, n, 3.2, "bounce", "Undelivered Mail Returned to Sender", text))
        if human is not None:
            n += 1
            reply = f"Re: {subject}"
            if key in DEFLECTED:
                phrase = "Bitte rufen Sie unsere Hotline an"
                rows.append(_message(o, n, human, "deflection", reply, _DEFLECT_TEXT, deflection=phrase))
            elif key in HOLDING_ONLY or key in HOLDING_THEN_ANSWER:
                rows.append(_message(o, n, human, "human", reply, _HOLD_TEXT, holding=True))
                if key in HOLDING_THEN_ANSWER:
                    n += 1
                    rows.append(_message(o, n, human + DAY, "human", reply, _HUMAN_TEXT))
            elif key in DECIDED:
                decision: dict[str, Any] = {
                    "decided_by": "m.keller",
                    "decided_at": datetime(2025, 3, 11, 16, 5, tzinfo=UTC),
                    "decision_note": "signed by an agent; the template fooled the rule",
                    "machine_cls": "auto_ack",
                }
                rows.append(_message(o, n, human, "human", reply, _HUMAN_TEXT, **decision))
            elif key in NEEDS_REVIEW:
                rows.append(
                    replace(
                        _message(o, n, human, "human", reply, _HUMAN_TEXT),
                        match_method="subject",
                        match_confidence=0.55,
                    )
                )
            else:
                rows.append(_message(o, n, human, "human", reply, _HUMAN_TEXT))
        if kind == "late":
            n += 1
            late = WAIT.total_seconds() + 20 * HOUR
            rows.append(_message(o, n, late, "human", f"Re: {subject}", _HUMAN_TEXT, after_horizon=True))
    rows.sort(key=lambda r: (r.received_at, r.message_store_id))
    return rows


def sample_meta(**overrides: Any) -> ReportMeta:
    """Report metadata matching :func:`sample_outcomes`."""
    base = ReportMeta(
        title="Customer e-mail response times, DACH & Benelux, March 2025",
        workspace="acme-research",
        suites=("baseline",),
        runs=("run-2025-03-03",),
        generated_at=datetime(2025, 3, 12, 9, 30, tzinfo=UTC),
        wait_limits={"baseline": WAIT.total_seconds()},
        notes=("Pilot study: five inquiries per company; intervals are wide by design.",),
    )
    return replace(base, **overrides)


HOSTILE = (
    "<script>alert(1)</script><img src=x onerror=alert(1)> javascript:alert(1) | `x` *y* "
    '<svg onload=alert(1)><a href="javascript:alert(2)">click</a> <p style="width:expression(alert(3))"> '
    "<img src=http://evil.example/pixel.png><a href='https://evil.example/'>x</a></script><script>alert(4)"
)


def hostile_outcomes() -> list[Outcome]:
    """Sample outcomes plus one whose reply-derived and free-text fields carry markup."""
    evil = make_outcome(
        probe_id="p-evil",
        target_id="evil",
        target_name="Evil " + HOSTILE,
        industry="retail " + HOSTILE,
        first_response_class=HOSTILE,
        first_response_clock=HOSTILE,
        first_human_clock="javascript:alert(1)",
        state="closed" + HOSTILE,
        script_id=HOSTILE,
        persona_id=HOSTILE,
        ticket_id=HOSTILE,
        promise=HOSTILE,
        promise_due_at=START + timedelta(hours=2),
        promise_kept=True,
        answer_response_s=3600.0,
        first_answer_at=START + timedelta(hours=1),
        quality=60.0,
        quality_matched=HOSTILE,
        quality_missing=HOSTILE,
        answered_all=False,
        personalised=True,
        needs_review=True,
    )
    return [*report_outcomes(), evil]


def hostile_evidence() -> list[MessageRow]:
    """Sample evidence plus messages for ``p-evil`` whose every reply-derived field carries markup."""
    (evil,) = [o for o in hostile_outcomes() if o.probe_id == "p-evil"]
    assert evil.sent_at is not None
    rows = [
        MessageRow(
            probe_id="p-evil",
            message_store_id=9000 + i,
            received_at=evil.sent_at + timedelta(hours=1 + i),
            clock=HOSTILE if i else "smtp-receipt",
            cls=HOSTILE if i else "human",
            rule=HOSTILE,
            confidence=0.5,
            evidence=HOSTILE[:200],
            match_method=HOSTILE,
            message_id=f"<{HOSTILE}@evil.example>",
            subject=HOSTILE[:120],
            excerpt=HOSTILE[:300],
            after_horizon=bool(i),
            match_confidence=0.4,
            deflection=HOSTILE[:120],
            holding=True,
            ticket_id=HOSTILE[:120],
            decided_by=HOSTILE[:120],
            decided_at=evil.sent_at + timedelta(days=1),
            decision_note=HOSTILE[:120],
            machine_cls=HOSTILE[:80],
            machine_probe_id=HOSTILE[:80],
        )
        for i in range(2)
    ]
    return [*sample_evidence(report_outcomes()), *rows]
