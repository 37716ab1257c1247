"""A simulated company's help desk: what it sends about a probe, when, and what the messages look like.

The messages imitate real help desks closely enough to exercise replybench's classifier and matcher:
acknowledgements and out-of-office notices carry RFC 3834 ``Auto-Submitted`` headers, a ticket number and a
response-time promise; human replies thread with ``In-Reply-To``/``References`` and quote the question, and
some companies send their human replies with ``Precedence: bulk`` and ``List-Unsubscribe`` (help desk
software does, and it must not make them look automatic).

A person may also first send a holding reply ("I have forwarded your question to our billing team") and the
answer later from that team's mailbox, in the same ticket but as a new conversation: to the persona's bare
address, without the probe's token, Message-ID or thread headers, named only by ``[#TICKET]`` in the
subject. Or a person deflects ("please call our service line") and never answers.
"""

from __future__ import annotations

import logging
import random
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses, parseaddr

from replybench.clock import BusinessClock
from replybench.models import Target
from replybench.sandbox.behaviour import (
    BOUNCE_DELAY,
    PERSON_KINDS,
    Behaviour,
    ReplyKind,
    plan_replies,
    resolve_behaviour,
)
from replybench.sandbox.dsn import build_dsn, dsn_message_id, header_block
from replybench.timefmt import as_utc
from replybench.tokens import token_from_address, token_from_message_id

log = logging.getLogger(__name__)

#: The simulated companies' agents (email signatures, chat names).
AGENTS = (
    "Maria Keller",
    "James Porter",
    "Aisha Rahman",
    "Lukas Brandt",
    "Sofia Marino",
    "Daniel Okafor",
    "Emma Lindqvist",
    "Tom Becker",
    "Priya Nair",
    "Lea Dubois",
    "Carlos Mendes",
    "Hannah Wright",
)

_ANSWERS = (
    "Yes, that is possible. I have checked it with our team and there is nothing you need to do in advance.",
    "I have looked into this for you: the standard option covers it, and the details are on your account "
    "page.",
    "Good question. It depends a little on your plan, but in most cases the answer is yes, at no extra cost.",
    "Unfortunately that is not something we offer at the moment, but I have passed your request on to the "
    "product team.",
    "Thanks for your patience. This usually takes two to three working days, and you will get a confirmation "
    "by email once it is done.",
    "I can confirm that this works as you describe. If you run into any problem, send us the order number "
    "and we will sort it out.",
    "We can do that for you. I have added a note to your request so that my colleagues know about it too.",
    "The short answer is yes. The longer one is in our help centre, but I am happy to walk you through it "
    "here.",
)

_BULK_SHARE = 0.35
_QUOTE_LINES = 30

#: What an acknowledgement says when the company promises no response time.
NO_PROMISE = "as soon as possible"
#: The response times the companies' acknowledgements promise when their sandbox table names none; each
#: company picks one (None: :data:`NO_PROMISE`) from its seeded style.
PRESET_PROMISES: tuple[str | None, ...] = (
    None,
    "within 24 hours",
    "within 2 business days",
    "within 4 business hours",
)

#: Where a holding reply forwards the question: the team, and the mailbox its answer comes from.
TEAMS = (
    ("billing team", "billing"),
    ("logistics team", "logistics"),
    ("specialist team", "specialists"),
)
HOLDING_TEXT = (
    "Thanks for your patience \u2014 I have forwarded your question to our {team} and we will get back to "
    "you as soon as we hear from them."
)
DEFLECTION_TEXT = (
    "For questions like this, please call our service line at {phone} (Mon\u2013Fri 8\u201318) or use the "
    "contact form on our website."
)
#: The service line a deflection names, by the company's country (fictional numbers).
SERVICE_LINES = {
    "DE": "+49 30 1234 567",
    "US": "+1 212 555 0142",
    "JP": "+81 3 1234 5678",
    "NO": "+47 21 23 45 67",
    "GB": "+44 20 7946 0123",
}
_DEFAULT_SERVICE_LINE = SERVICE_LINES["DE"]


@dataclass(frozen=True)
class InboundProbe:
    """A message as a simulated company's mail server received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    received_at: datetime
    token: str | None
    message_id: str | None
    subject: str
    reply_address: str | None
    auto_submitted: bool


@dataclass(frozen=True)
class OutgoingReply:
    """A message a company will send: its envelope, planned time and a builder run at send time."""

    kind: ReplyKind
    company_id: str | None
    probe: InboundProbe
    planned_at: datetime
    delay: float
    message_id: str
    mail_from: str
    rcpt_to: str
    compose: Callable[[datetime], bytes]


def domain_of(address: str) -> str:
    """Lower-cased domain of an address (empty for an address without '@')."""
    return address.rsplit("@", 1)[1].lower() if "@" in address else ""


def reply_subject(subject: str) -> str:
    """``Re: subject``, without stacking prefixes."""
    return subject if re.match(r"(?i)^\s*re\s*:", subject) else f"Re: {subject}"


def ticket_subject(subject: str, ticket: int) -> str:
    """``Re: [#TICKET] subject``, as a help desk writes a reply in a ticket."""
    bare = re.sub(r"(?i)^\s*re\s*:\s*", "", subject)
    return f"Re: [#{ticket}] {bare}"


def bare_address(address: str) -> str:
    """An address without its ``+tag`` (``anna+TOKEN@x`` → ``anna@x``): the mailbox a person would type."""
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    return f"{local.split('+', 1)[0]}@{domain}"


def _fresh_message_id(domain: str) -> str:
    # Random, not seeded: a second demo run must not produce Message-IDs the store has already seen.
    return f"<{secrets.token_hex(10)}@{domain}>"


def _probe_text(message: EmailMessage) -> str:
    try:
        part = message.get_body(preferencelist=("plain", "html"))
        if part is None:
            return ""
        text = str(part.get_content())
        if part.get_content_type() == "text/html":
            text = re.sub(r"<[^>]+>", " ", text)
        return text
    except (LookupError, KeyError, ValueError, AttributeError):
        return ""


def _question(text: str, subject: str) -> str:
    for line in text.splitlines():
        if line.lstrip().startswith(">"):
            continue
        m = re.search(r"[^.!?]*\?", line)
        if m and len(m.group(0).strip()) > 1:
            return m.group(0).strip()[-200:]
    return subject


def _first_name(message: EmailMessage) -> str | None:
    name, _ = parseaddr(str(message.get("From", "")))
    words = name.replace('"', "").split()
    return words[0] if words else None


def _bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=policy.SMTP)


def _thread(message: EmailMessage, probe: InboundProbe) -> None:
    if probe.message_id:
        message["In-Reply-To"] = probe.message_id
        earlier = str(probe.message.get("References", "")).split()
        message["References"] = " ".join([*earlier, probe.message_id])


class HelpDesk:
    """One simulated company: resolves its behaviour, samples delays reproducibly, and writes its replies.

    The random state is per company (derived from the sandbox seed and the company id), and each probe takes
    exactly one draw from it to seed its own generator, so the n-th probe to a company gets the same delays
    for the same seed whatever other companies receive.
    """

    def __init__(self, company: Target, *, seed: int = 0, time_scale: float = 1.0) -> None:
        self.company = company
        # A company reached only by form or chat still answers by email, from a mailbox of its own.
        self.address = (
            company.endpoints.email.address
            if company.endpoints.email is not None
            else f"support@{company.id}.sandbox.invalid"
        )
        self.local_part, self.domain = self.address.rsplit("@", 1)[0], domain_of(self.address)
        self.behaviour: Behaviour = resolve_behaviour(company.sandbox)
        self.time_scale = time_scale
        self._rng = random.Random(f"replybench-sandbox:{seed}:{company.id}")
        style = random.Random(f"replybench-sandbox-style:{seed}:{company.id}")
        #: Whether this company's human replies carry ``Precedence: bulk`` and ``List-Unsubscribe``.
        self.bulk_headers = style.random() < _BULK_SHARE
        self.agents = tuple(style.sample(AGENTS, 3))
        preset_promise = style.choice(PRESET_PROMISES)
        #: The response time this company's acknowledgements promise (None: :data:`NO_PROMISE`).
        self.promise = self.behaviour.promise if self.behaviour.promise is not None else preset_promise
        self.clock = BusinessClock.for_target(company) if self.behaviour.business_hours_only else None
        # A help desk never reuses a ticket number, and neither may a second sandbox run into the same store
        # (the matcher follows ticket numbers across runs): numbers start at a random base per run, not
        # seeded, like Message-IDs; the per-probe part is seeded.
        self._ticket_base = 100_000 * (10 + secrets.randbelow(9_990))

    @property
    def id(self) -> str:
        """The company's target id."""
        return self.company.id

    def plan(self, probe: InboundProbe) -> list[OutgoingReply]:
        """Decide what this company sends about ``probe`` and when."""
        rng = random.Random(self._rng.getrandbits(64))
        planned = plan_replies(self.behaviour, rng, time_scale=self.time_scale)
        ticket = self._ticket_base + rng.randrange(10_000, 100_000)
        agent = rng.choice(self.agents)
        answer = rng.choice(_ANSWERS)
        # drawn after the older choices, so those stay as they were for a seed
        team, mailbox = rng.choice(TEAMS)
        colleague = rng.choice([a for a in self.agents if a != agent])
        replies: list[OutgoingReply] = []
        for item in planned:
            if item.kind == "bounce":
                if probe.mail_from:
                    replies.append(bounce_reply(self.domain, probe, self.address, item.delay, self.id))
                continue
            if probe.reply_address is None or (probe.auto_submitted and item.kind not in PERSON_KINDS):
                continue  # RFC 3834: never auto-answer automatic mail (mail loops)
            at = self._planned_at(probe.received_at, item.delay, business_time=item.business_time)
            if at is None:
                log.info("%s never opens within the horizon; no %s reply", self.id, item.kind)
                continue
            compose: Callable[[EmailMessage, datetime], None]
            if item.kind == "followup":
                sender = self._team_address(mailbox)
                compose = self._followup_composer(probe, colleague, agent, team, sender, ticket, answer)
                to = bare_address(probe.reply_address)
                replies.append(self._reply(item.kind, probe, at, item.delay, compose, to=to, sender=sender))
                continue
            if item.kind == "ack":
                compose = self._ack_composer(probe, ticket)
            elif item.kind == "ooo":
                compose = self._ooo_composer(probe, agent)
            elif item.kind == "holding":
                # The answer will name the ticket only: without an acknowledgement, this reply must.
                acked = any(r.kind == "ack" for r in replies)
                compose = self._holding_composer(probe, agent, team, None if acked else ticket)
            elif item.kind == "deflection":
                compose = self._deflection_composer(probe, agent)
            else:
                compose = self._human_composer(probe, agent, answer)
            replies.append(self._reply(item.kind, probe, at, item.delay, compose))
        return replies

    def _team_address(self, mailbox: str) -> str:
        """The mailbox of a team at the company's domain (never the address the probes go to)."""
        local = mailbox if mailbox != self.local_part.lower() else f"{mailbox}-team"
        return f"{local}@{self.domain}"

    def _planned_at(self, received: datetime, delay: float, *, business_time: bool) -> datetime | None:
        if business_time and self.clock is not None:
            return self.clock.add_business_time(received, delay)
        return received + timedelta(seconds=delay)

    def _reply(
        self,
        kind: ReplyKind,
        probe: InboundProbe,
        at: datetime,
        delay: float,
        fill: Callable[[EmailMessage, datetime], None],
        *,
        to: str | None = None,
        sender: str | None = None,
    ) -> OutgoingReply:
        """Plan a message to ``to`` (default: the probe's reply address), threaded unless ``to`` is given."""
        assert probe.reply_address is not None
        message_id = _fresh_message_id(self.domain)
        threaded = to is None
        rcpt = to if to is not None else probe.reply_address
        # Help desks address the customer by the name they wrote with.
        name = parseaddr(str(probe.message.get("From", "")))[0].replace('"', "").strip()

        def compose(now: datetime) -> bytes:
            message = EmailMessage()
            message["To"] = formataddr((name, rcpt)) if name else rcpt
            message["Date"] = format_datetime(as_utc(now).astimezone(self.company.tz))
            message["Message-ID"] = message_id
            if threaded:
                _thread(message, probe)
            fill(message, now)
            return _bytes(message)

        return OutgoingReply(
            kind=kind,
            company_id=self.id,
            probe=probe,
            planned_at=at,
            delay=delay,
            message_id=message_id,
            mail_from=sender or self.address,
            rcpt_to=rcpt,
            compose=compose,
        )

    def _ack_composer(self, probe: InboundProbe, ticket: int) -> Callable[[EmailMessage, datetime], None]:
        name = self.company.name
        promise = self.promise or NO_PROMISE

        def fill(message: EmailMessage, now: datetime) -> None:
            message["From"] = formataddr((f"{name} Support", self.address))
            message["Subject"] = f"[#{ticket}] We received your request: {probe.subject}"
            message["Auto-Submitted"] = "auto-replied"
            message["X-Autoreply"] = "yes"
            message["X-Auto-Response-Suppress"] = "All"
            message.set_content(
                f"Dear customer,\n\n"
                f"thank you for contacting {name}. This is an automatic confirmation that we have received "
                f"your request and opened ticket #{ticket}.\n\n"
                f"One of our agents will get back to you {promise}. If you write to us again about this "
                f"request, please keep [#{ticket}] in the subject line.\n\n"
                "This message was sent automatically; please do not reply to it.\n\n"
                f"{name} Customer Service\n"
            )

        return fill

    def _ooo_composer(self, probe: InboundProbe, agent: str) -> Callable[[EmailMessage, datetime], None]:
        def fill(message: EmailMessage, now: datetime) -> None:
            back = (now.astimezone(self.company.tz) + timedelta(days=3)).strftime("%A, %d %B")
            message["From"] = formataddr((agent, self.address))
            message["Subject"] = f"Automatic reply: {probe.subject}"
            message["Auto-Submitted"] = "auto-replied"
            message["X-Auto-Response-Suppress"] = "All"
            message.set_content(
                "Thank you for your email.\n\n"
                f"I am out of the office until {back} with limited access to email. Your message will be "
                "answered as soon as possible; for urgent matters my colleagues on the support team can "
                "help.\n\n"
                f"Best regards,\n{agent}\n{self.company.name}\n"
            )

        return fill

    def _person_composer(
        self, probe: InboundProbe, agent: str, words: Callable[[str], str], *, subject: str | None = None
    ) -> Callable[[EmailMessage, datetime], None]:
        """A person's threaded reply from the support address: greeting, ``words(question)``, sign-off, quote."""
        text = _probe_text(probe.message)
        question = _question(text, probe.subject)
        greeting = f"Hi {name}," if (name := _first_name(probe.message)) else "Hello,"
        quoted = "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines()[:_QUOTE_LINES])
        original_date = str(probe.message.get("Date", "")) or format_datetime(probe.received_at)
        original_from = str(probe.message.get("From", "")) or probe.mail_from

        def fill(message: EmailMessage, now: datetime) -> None:
            message["From"] = formataddr((agent, self.address))
            message["Subject"] = subject or reply_subject(probe.subject)
            if self.bulk_headers:
                message["Precedence"] = "bulk"
                message["List-Unsubscribe"] = f"<mailto:unsubscribe@{self.domain}?subject=unsubscribe>"
            message.set_content(
                f"{greeting}\n\n"
                f"{words(question)}\n\n"
                f"Kind regards,\n{agent}\n{self.company.name} Customer Service\n\n"
                f"On {original_date}, {original_from} wrote:\n{quoted}\n"
            )

        return fill

    def _human_composer(
        self, probe: InboundProbe, agent: str, answer: str
    ) -> Callable[[EmailMessage, datetime], None]:
        return self._person_composer(
            probe,
            agent,
            lambda question: (
                f"thanks for reaching out to {self.company.name}. You asked: \u201c{question}\u201d\n\n"
                f"{answer}\n\n"
                "If anything else comes up, just reply to this email."
            ),
        )

    def _holding_composer(
        self, probe: InboundProbe, agent: str, team: str, ticket: int | None
    ) -> Callable[[EmailMessage, datetime], None]:
        """A holding reply; it names the ticket in its subject when no acknowledgement did."""
        subject = ticket_subject(probe.subject, ticket) if ticket is not None else None
        words = HOLDING_TEXT.format(team=team)
        return self._person_composer(probe, agent, lambda _question: words, subject=subject)

    def _deflection_composer(
        self, probe: InboundProbe, agent: str
    ) -> Callable[[EmailMessage, datetime], None]:
        phone = SERVICE_LINES.get(self.company.country or "", _DEFAULT_SERVICE_LINE)
        words = f"thank you for your message. {DEFLECTION_TEXT.format(phone=phone)}"
        return self._person_composer(probe, agent, lambda _question: words)

    def _followup_composer(
        self,
        probe: InboundProbe,
        agent: str,
        holder: str,
        team: str,
        sender: str,
        ticket: int,
        answer: str,
    ) -> Callable[[EmailMessage, datetime], None]:
        """``agent``'s answer after ``holder``'s holding reply: a new message in the ticket, no token, no quote.

        It quotes neither the probe nor its headers (they carry the token); only the question's words.
        """
        question = _question(_probe_text(probe.message), probe.subject)
        greeting = f"Hello {name}," if (name := _first_name(probe.message)) else "Hello,"
        colleague = holder.split()[0]
        signature = f"{self.company.name} {team.title()}"

        def fill(message: EmailMessage, now: datetime) -> None:
            message["From"] = formataddr((f"{agent} ({signature})", sender))
            message["Subject"] = ticket_subject(probe.subject, ticket)
            message.set_content(
                f"{greeting}\n\n"
                f"my colleague {colleague} passed your question on to us. You asked: \u201c{question}\u201d\n\n"
                f"{answer}\n\n"
                f"If anything else comes up, just reply to this email and keep [#{ticket}] in the subject "
                "line.\n\n"
                f"Kind regards,\n{agent}\n{signature}\n"
            )

        return fill


def bounce_reply(
    domain: str, probe: InboundProbe, recipient: str, delay: float, company_id: str | None
) -> OutgoingReply:
    """Plan a DSN to the probe's envelope sender saying ``recipient`` does not exist (5.1.1)."""
    at = probe.received_at + timedelta(seconds=delay)
    headers = header_block(probe.raw)
    message_id = dsn_message_id(domain)

    def compose(now: datetime) -> bytes:
        dsn = build_dsn(
            domain=domain,
            original_headers=headers,
            recipient=recipient,
            return_to=probe.mail_from,
            arrival=probe.received_at,
            now=now,
            message_id=message_id,
        )
        return dsn.as_bytes(policy=policy.SMTP)

    return OutgoingReply(
        kind="bounce",
        company_id=company_id,
        probe=probe,
        planned_at=at,
        delay=delay,
        message_id=message_id,
        mail_from="",
        rcpt_to=probe.mail_from,
        compose=compose,
    )


def unknown_recipient_delay(time_scale: float) -> float:
    """Seconds after receipt at which a mail server bounces mail for a mailbox it does not have."""
    return BOUNCE_DELAY / time_scale


def parse_probe(mail_from: str, rcpt_tos: tuple[str, ...], raw: bytes, received_at: datetime) -> InboundProbe:
    """Read what a help desk needs from a received message (addresses, ids, subject, token)."""
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    reply_to = [a for _, a in getaddresses([str(v) for v in message.get_all("Reply-To", [])]) if "@" in a]
    from_ = [a for _, a in getaddresses([str(v) for v in message.get_all("From", [])]) if "@" in a]
    candidates = [*reply_to, *from_, *([mail_from] if mail_from else [])]
    reply_address = candidates[0] if candidates else None
    message_id = str(message.get("Message-ID", "")).strip() or None
    token = (
        token_from_address(mail_from)
        or (token_from_address(reply_address) if reply_address else None)
        or (token_from_message_id(message_id) if message_id else None)
    )
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return InboundProbe(
        mail_from=mail_from,
        rcpt_tos=rcpt_tos,
        message=message,
        raw=raw,
        received_at=received_at,
        token=token,
        message_id=message_id,
        subject=str(message.get("Subject", "")).strip(),
        reply_address=reply_address,
        auto_submitted=(auto not in ("", "no")) or precedence in ("bulk", "junk", "list") or not mail_from,
    )
