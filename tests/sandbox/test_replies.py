"""What a person at a simulated help desk writes: answers, holding replies with a later answer, deflections.

And the response time the acknowledgements promise.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr

from replybench.models import BusinessHours
from replybench.sandbox import HelpDesk, Sandbox
from replybench.sandbox.desk import (
    AGENTS,
    DEFLECTION_TEXT,
    HOLDING_TEXT,
    PRESET_PROMISES,
    SERVICE_LINES,
    TEAMS,
    InboundProbe,
    OutgoingReply,
    bare_address,
    parse_probe,
    ticket_subject,
)
from replybench.tokens import TOKEN_RE
from tests.asynctest import async_test
from tests.sandbox.helpers import PROBE_DOMAIN, Sink, company, make_probe, submit, wait_until

RECEIVED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
SCALE = 50.0


def inbound(to: str = "support@acme.example", **kwargs: object) -> tuple[InboundProbe, str]:
    probe = make_probe(to, reply_local="replies", **kwargs)  # type: ignore[arg-type]
    raw = probe.message.as_bytes(policy=policy.SMTP)
    return parse_probe(probe.mail_from, (to,), raw, RECEIVED), probe.token


def written(reply: OutgoingReply) -> EmailMessage:
    message = message_from_bytes(reply.compose(reply.planned_at), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def ticket_of(message: EmailMessage) -> str:
    found = re.search(r"\[#(\d+)\]", str(message["Subject"]))
    assert found, message["Subject"]
    return found.group(1)


def one_line(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------------------------------- promises


def test_the_acknowledgement_states_the_configured_promise():
    desk = HelpDesk(company("acme", promise="within 2 business days"), seed=3)
    probe, _ = inbound()
    ack = written(desk.plan(probe)[0])
    assert one_line(body(ack)).count("One of our agents will get back to you within 2 business days.") == 1
    assert f"opened ticket #{ticket_of(ack)}." in one_line(body(ack))


def test_as_soon_as_possible_promises_no_time():
    desk = HelpDesk(company("acme", promise="as soon as possible"), seed=3)
    ack = written(desk.plan(inbound()[0])[0])
    assert "One of our agents will get back to you as soon as possible." in one_line(body(ack))


def test_each_company_picks_its_preset_promise_deterministically():
    chosen = {cid: HelpDesk(company(cid), seed=11).promise for cid in (f"c{i}" for i in range(60))}
    again = {cid: HelpDesk(company(cid), seed=11).promise for cid in chosen}
    assert chosen == again
    assert set(chosen.values()) == set(PRESET_PROMISES)
    other_seed = {cid: HelpDesk(company(cid), seed=12).promise for cid in chosen}
    assert other_seed != chosen
    for cid, promise in chosen.items():
        ack = written(HelpDesk(company(cid), seed=11).plan(inbound(f"support@{cid}.example")[0])[0])
        wording = promise or "as soon as possible"
        assert f"One of our agents will get back to you {wording}." in one_line(body(ack))


def test_choosing_the_promise_leaves_the_older_style_choices_alone():
    """The promise is drawn after the bulk headers and the agents, so those stay as they were for a seed."""
    for cid in ("acme", "globex", "initech"):
        desk = HelpDesk(company(cid), seed=5)
        style = random.Random(f"replybench-sandbox-style:5:{cid}")
        assert desk.bulk_headers == (style.random() < 0.35)
        assert desk.agents == tuple(style.sample(AGENTS, 3))
        assert desk.promise == style.choice(PRESET_PROMISES)


# ------------------------------------------------------------------------------------------- holding


def test_a_holding_reply_then_the_answer_in_the_ticket_without_token_or_thread():
    desk = HelpDesk(company("acme", human_style="holding"), seed=1)
    probe, token = inbound()
    ack_reply, holding_reply, followup_reply = desk.plan(probe)
    assert [r.kind for r in (ack_reply, holding_reply, followup_reply)] == ["ack", "holding", "followup"]
    ack, holding, followup = (written(r) for r in (ack_reply, holding_reply, followup_reply))
    ticket = ticket_of(ack)

    # the holding reply: a person's words in the thread, from the support address, to the token address
    name, address = parseaddr(str(holding["From"]))
    assert address == "support@acme.example" and name in desk.agents
    assert holding["Subject"] == "Re: Do you ship to Austria?"
    assert holding["In-Reply-To"] == probe.message_id
    assert holding["Auto-Submitted"] is None
    assert holding_reply.rcpt_to == f"replies+{token}@{PROBE_DOMAIN}"
    text = one_line(body(holding))
    assert text.startswith("Hi Anna, Thanks for your patience")
    teams = [team for team, _ in TEAMS if HOLDING_TEXT.format(team=team) in text]
    assert len(teams) == 1
    mailbox = dict(TEAMS)[teams[0]]

    # the answer: another mailbox, the bare address, a new conversation named only by the ticket
    assert followup_reply.rcpt_to == f"replies@{PROBE_DOMAIN}"
    assert followup_reply.mail_from == f"{mailbox}@acme.example"
    name, address = parseaddr(str(followup["From"]))
    assert address == f"{mailbox}@acme.example"
    assert parseaddr(str(followup["To"])) == ("Anna Probe", f"replies@{PROBE_DOMAIN}")
    assert followup["Subject"] == f"Re: [#{ticket}] Do you ship to Austria?"
    assert followup["In-Reply-To"] is None and followup["References"] is None
    assert followup["Auto-Submitted"] is None
    ids = {str(m["Message-ID"]) for m in (ack, holding, followup)} | {probe.message_id}
    assert len(ids) == 4
    assert followup["Message-ID"] == followup_reply.message_id
    raw = followup_reply.compose(followup_reply.planned_at).decode()
    assert token not in raw.lower() and token.upper() not in raw
    assert TOKEN_RE.search(raw.lower()) is None
    assert "+" not in str(followup["To"])
    answer = one_line(body(followup))
    holder = parseaddr(str(holding["From"]))[0]
    assert answer.startswith(f"Hello Anna, my colleague {holder.split()[0]} passed your question on to us.")
    assert "Do you ship to Austria, and how long does it take?" in answer
    assert f"keep [#{ticket}] in the subject line" in answer
    assert ">" not in body(followup), "nothing quoted: the original carries the token"
    assert name.split(" (")[0] in desk.agents and name.split(" (")[0] != holder

    # a person's replies in time order, the answer after the holding reply
    assert ack_reply.planned_at < holding_reply.planned_at < followup_reply.planned_at
    assert followup_reply.delay >= 2 * holding_reply.delay - 1e-9


def test_without_an_acknowledgement_the_holding_reply_names_the_ticket():
    desk = HelpDesk(company("acme", human_style="holding", ack=False), seed=1)
    holding_reply, followup_reply = desk.plan(inbound()[0])
    holding, followup = written(holding_reply), written(followup_reply)
    assert re.fullmatch(r"Re: \[#\d+\] Do you ship to Austria\?", str(holding["Subject"]))
    assert ticket_of(holding) == ticket_of(followup)
    assert holding["In-Reply-To"] is not None


def test_the_team_mailbox_is_never_the_address_the_probes_go_to():
    for mailbox in {m for _, m in TEAMS}:
        desk = HelpDesk(company("acme", human_style="holding", address=f"{mailbox}@acme.example"), seed=0)
        for seed_probe in range(12):
            followup = desk.plan(inbound(f"{mailbox}@acme.example", subject=f"Q{seed_probe}?")[0])[-1]
            assert followup.kind == "followup"
            assert followup.mail_from != f"{mailbox}@acme.example"
            assert followup.mail_from.endswith("@acme.example")


def test_a_reply_subject_keeps_one_re_and_gains_the_ticket():
    assert ticket_subject("Do you ship?", 123456) == "Re: [#123456] Do you ship?"
    assert ticket_subject("RE: Do you ship?", 123456) == "Re: [#123456] Do you ship?"


def test_bare_address_drops_the_plus_tag_only():
    assert bare_address("anna+2kz132erxwkt@probe.example") == "anna@probe.example"
    assert bare_address("anna+2kz132erxwkt.sent@probe.example") == "anna@probe.example"
    assert bare_address("anna@probe.example") == "anna@probe.example"
    assert bare_address("not-an-address") == "not-an-address"


def test_people_answer_automatic_mail_but_auto_responders_do_not():
    desk = HelpDesk(company("acme", human_style="holding"), seed=1)
    probe, _ = inbound(extra_headers={"Auto-Submitted": "auto-generated"})
    assert [r.kind for r in desk.plan(probe)] == ["holding", "followup"]


def test_a_business_hours_company_holds_and_answers_in_its_opening_hours():
    hours = BusinessHours(weekdays=["09:00-17:00"], holidays=False)
    desk = HelpDesk(
        company(
            "acme", "business_hours", human_style="holding", hours=hours, human_median=timedelta(hours=2)
        ),
        seed=2,
    )
    friday_evening = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    probe = inbound()[0]
    probe = InboundProbe(**{**probe.__dict__, "received_at": friday_evening})
    _ack, holding, followup = desk.plan(probe)
    assert holding.planned_at >= datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Monday, not the weekend
    for reply in (holding, followup):
        assert reply.planned_at.weekday() < 5 and 9 <= reply.planned_at.hour < 17


# ------------------------------------------------------------------------------------------- deflection


def test_a_deflection_is_the_only_reply_a_person_sends():
    desk = HelpDesk(company("acme", human_style="deflect"), seed=4)
    probe, token = inbound()
    ack_reply, deflection_reply = desk.plan(probe)
    assert (ack_reply.kind, deflection_reply.kind) == ("ack", "deflection")
    deflection = written(deflection_reply)
    assert deflection_reply.rcpt_to == f"replies+{token}@{PROBE_DOMAIN}"
    assert parseaddr(str(deflection["From"]))[1] == "support@acme.example"
    assert deflection["Subject"] == "Re: Do you ship to Austria?"
    assert deflection["In-Reply-To"] == probe.message_id
    text = one_line(body(deflection))
    assert text.startswith(
        "Hi Anna, thank you for your message. For questions like this, please call our service line at "
        "+49 30 1234 567 (Mon\u2013Fri 8\u201318) or use the contact form on our website. Kind regards,"
    )


def test_the_service_line_is_the_companys_countrys():
    for country, phone in SERVICE_LINES.items():
        target = company("acme", human_style="deflect").model_copy(update={"country": country})
        deflection = written(HelpDesk(target, seed=4).plan(inbound()[0])[-1])
        assert DEFLECTION_TEXT.format(phone=phone) in one_line(body(deflection))


# ------------------------------------------------------------------------------------------- determinism


def _shape(desk: HelpDesk, n: int) -> list[list[tuple[str, float, str, str, str]]]:
    """Everything about ``n`` probes' replies but what must differ between runs (tokens, ids, ticket numbers)."""
    out = []
    for i in range(n):
        probe, _ = inbound(subject=f"Question {i}?")
        replies = []
        for reply in desk.plan(probe):
            message = written(reply)
            text = TOKEN_RE.sub("TOKEN", re.sub(r"#\d+", "#T", body(message)))
            subject = re.sub(r"#\d+", "#T", str(message["Subject"]))
            replies.append((reply.kind, round(reply.delay, 9), str(message["From"]), subject, text))
        out.append(replies)
    return out


def test_a_seed_gives_the_same_replies_and_ticket_numbers_are_new_each_run():
    def desk(seed: int) -> HelpDesk:
        return HelpDesk(company("acme", human_style="holding"), seed=seed, time_scale=10)

    assert _shape(desk(9), 8) == _shape(desk(9), 8)
    assert _shape(desk(9), 8) != _shape(desk(10), 8)
    # a help desk never reuses a ticket number: a second run into the same store must not name the first's
    first = {ticket_of(written(desk(9).plan(inbound()[0])[0])) for _ in range(5)}
    assert len(first) == 5


def test_the_human_style_changes_no_delay_agent_or_answer():
    """Holding and deflecting draw after everything else: the answer style's samples stay where they were."""
    probes = [inbound(subject=f"Question {i}?")[0] for i in range(10)]
    desks = {
        style: HelpDesk(company("acme", human_style=style), seed=6)
        for style in ("answer", "holding", "deflect")
    }
    plans = {style: [desk.plan(p) for p in probes] for style, desk in desks.items()}
    for answered, held, deflected in zip(plans["answer"], plans["holding"], plans["deflect"], strict=True):
        assert [r.delay for r in answered] == [r.delay for r in held[:2]] == [r.delay for r in deflected]
        agents = {parseaddr(str(written(r)["From"]))[0] for r in (answered[1], held[1], deflected[1])}
        assert len(agents) == 1, "the same agent writes, whatever the style"
        answer_text = one_line(body(written(answered[1])))
        followup_text = one_line(body(written(held[2])))
        assert answer_text.split("\u201d ", 1)[1].split(" If anything")[0] in followup_text


def test_the_kinds_of_reply_over_many_probes():
    desk = HelpDesk(company("acme", "slow", human_style="holding"), seed=8)
    counts = Counter(tuple(r.kind for r in desk.plan(inbound(subject=f"Q{i}?")[0])) for i in range(200))
    assert set(counts) == {("ack",), ("ack", "holding", "followup")}
    assert 0.7 < counts["ack", "holding", "followup"] / 200 < 0.9


# ------------------------------------------------------------------------------------------- on the wire


@async_test
async def test_the_answer_reaches_the_bare_address_and_the_truth_records_every_kind():
    sink = await Sink().start()
    companies = [company("acme", human_style="holding"), company("globex", human_style="deflect")]
    async with Sandbox(companies, routes={PROBE_DOMAIN: sink.route}, time_scale=SCALE, seed=2) as sb:
        held = make_probe("support@acme.example", reply_local="replies")
        deflected = make_probe("support@globex.example", reply_local="replies")
        await submit(sb, held)
        await submit(sb, deflected)

        def done() -> bool:
            replies = sb.truth.replies
            return len(replies) == 5 and all(r.status == "delivered" for r in replies)

        await wait_until(done, timeout=10)
    await sink.stop()

    kinds = {t: [r.kind for r in sb.truth.replies_for(t)] for t in (held.token, deflected.token)}
    assert kinds == {held.token: ["ack", "holding", "followup"], deflected.token: ["ack", "deflection"]}
    followup = next(r for r in sb.truth.replies_for(held.token) if r.kind == "followup")
    assert followup.rcpt_to == f"replies@{PROBE_DOMAIN}"
    assert followup.mail_from in {f"{m}@acme.example" for _, m in TEAMS}
    [delivery] = [d for d in sb.truth.deliveries if d.message_id == followup.message_id]
    assert delivery.rcpt_tos == (f"replies@{PROBE_DOMAIN}",) and delivery.mail_from == followup.mail_from
    [on_the_wire] = [m for m in sink.messages if m.message["Message-ID"] == followup.message_id]
    assert on_the_wire.rcpt_tos == [f"replies@{PROBE_DOMAIN}"]
    assert held.token not in on_the_wire.data.decode().lower()
    order = [r.kind for r in sorted(sb.truth.replies_for(held.token), key=lambda r: r.delivered_at)]
    assert order == ["ack", "holding", "followup"]
