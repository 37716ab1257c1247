"""Match an inbound message to the probe it answers, say how and how sure, or why no probe claims it.

Evidence, strongest first (the confidence recorded with the match in brackets):

1. our own blind copy (``+TOKEN.sent``) or our own Message-ID: the message is our copy (1.0);
2. the token in a plus-address: the envelope recipient (1.0), Delivered-To / X-Original-To / To / Cc /
   Envelope-To (0.99), Reply-To (0.9);
3. thread headers: In-Reply-To / References naming our Message-ID (0.98), a Message-ID of ours by its shape
   (0.95), or an earlier inbound message already matched, e.g. the acknowledgement (0.9);
4. our Message-ID in the returned original of a bounce (0.95);
5. a token in the subject (0.95) or the body (0.9);
6. the help desk's ticket id, named earlier by a matched message from the same organisation (0.85): a second
   reply in the same ticket with new Message-IDs and no token;
7. the sender's domain, when exactly one open probe was sent there (0.4: low, so a person reviews it).

Every candidate token is looked up in the store, so a random word of a token's shape matches nothing. One
reply is never matched to two probes: the strongest evidence decides, and when weaker evidence names another
probe the match says so and its confidence drops to 0.6, below the review threshold. Ambiguous ticket ids or
sender domains match nothing and name their candidates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from replybench.mailparse import ParsedEmail
from replybench.store import ProbeRecord, Store
from replybench.tokens import (
    is_sent_copy_address,
    message_id_tokens,
    token_from_address,
    token_from_message_id,
    tokens_in_text,
)

#: The confidence a match falls to when weaker evidence points at another probe.
CONFLICT_CONFIDENCE = 0.6
#: How much of a message's raw bytes is searched for our Message-ID in a returned original.
RETURNED_SCAN_BYTES = 512_000
_HEADER_END = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True)
class Match:
    """The probe a message belongs to (None when unmatched), the method, a detail for people, and how sure."""

    probe: ProbeRecord | None
    method: str | None
    detail: str
    confidence: float | None = None
    own_copy: bool = False


@dataclass(frozen=True)
class _Candidate:
    probe: ProbeRecord
    method: str
    detail: str
    confidence: float
    own_copy: bool = False


def domain_of(address: str | None) -> str | None:
    """The lower-cased domain of an address, or None."""
    if not address or "@" not in address:
        return None
    return address.rsplit("@", 1)[1].strip().strip(">").lower() or None


def same_organisation(a: str, b: str) -> bool:
    """True when two domains are equal or one is a subdomain of the other (``support.acme.example``)."""
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def _by_addresses(
    store: Store, addresses: Sequence[str], where: str, confidence: float
) -> Iterator[_Candidate]:
    for address in addresses:
        token = token_from_address(address)
        probe = store.probe_by_token(token) if token else None
        if probe is None:
            continue
        if is_sent_copy_address(address):
            yield _Candidate(probe, "sent_copy", f"our blind copy to {address}", 1.0, own_copy=True)
        else:
            yield _Candidate(probe, "plus_address", f"token in {where} {address}", confidence)


def _by_thread(store: Store, parsed: ParsedEmail) -> Iterator[_Candidate]:
    for ref in (*parsed.in_reply_to, *parsed.references):
        probe = store.probe_by_message_id(ref)
        if probe is not None:
            yield _Candidate(probe, "thread_headers", f"In-Reply-To/References {ref}", 0.98)
            continue
        token = token_from_message_id(ref)
        probe = store.probe_by_token(token) if token else None
        if probe is not None:
            yield _Candidate(probe, "thread_headers", f"In-Reply-To/References {ref} carries a token", 0.95)
            continue
        earlier = store.message_by_message_id(ref)
        if earlier is not None and earlier.probe_id is not None:
            probe = store.get_probe(earlier.probe_id)
            if probe is not None:
                yield _Candidate(
                    probe, "thread_headers", f"replies to message {earlier.id} ({ref}) of the probe", 0.9
                )


def _by_returned_original(store: Store, raw: bytes) -> Iterator[_Candidate]:
    """A bounce returns our message (or its headers) in its body: find our Message-ID there."""
    parts = _HEADER_END.split(raw[:RETURNED_SCAN_BYTES], maxsplit=1)
    body = parts[1] if len(parts) == 2 else b""
    for token in message_id_tokens(body.decode("latin-1")):
        probe = store.probe_by_token(token)
        if probe is not None:
            yield _Candidate(
                probe, "returned_headers", f"our Message-ID in the returned original ({token})", 0.95
            )


def _by_text(store: Store, parsed: ParsedEmail) -> Iterator[_Candidate]:
    for where, text, confidence in (("subject", parsed.subject, 0.95), ("body", parsed.text, 0.9)):
        for token in tokens_in_text(text):
            probe = store.probe_by_token(token)
            if probe is not None:
                yield _Candidate(probe, "token_in_text", f"token {token} in the {where}", confidence)


def _by_ticket(store: Store, parsed: ParsedEmail, ticket_id: str | None) -> Match | _Candidate | None:
    """The probe whose earlier messages from the same organisation named this ticket id."""
    sender = domain_of(parsed.from_addr)
    if not ticket_id or sender is None:
        return None
    probes = {
        probe_id
        for probe_id, earlier_sender in store.ticket_senders(ticket_id)
        if (domain := domain_of(earlier_sender)) is not None and same_organisation(domain, sender)
    }
    if len(probes) > 1:
        return Match(
            None, None, f"ticket {ticket_id} from {sender} is named by several probes: {sorted(probes)}"
        )
    if probes:
        probe = store.get_probe(probes.pop())
        if probe is not None:
            return _Candidate(probe, "ticket_id", f"ticket {ticket_id} named earlier by {sender}", 0.85)
    return None


def _by_sender_domain(store: Store, parsed: ParsedEmail, received_at: datetime) -> Match | None:
    sender = domain_of(parsed.from_addr)
    if sender is None:
        return None
    labels = sender.split(".")
    for i in range(max(1, len(labels) - 1)):
        domain = ".".join(labels[i:])
        probes = store.probes_sent_to_domain(domain, received_at)
        if len(probes) == 1:
            return Match(
                probes[0],
                "sender_domain",
                f"the only open probe sent to {domain}; no token or thread (low confidence: please review)",
                0.4,
            )
        if probes:
            ids = ", ".join(p.id for p in probes[:5])
            return Match(None, None, f"{len(probes)} open probes were sent to {domain} ({ids}); no token")
    return None


def _decide(candidates: list[_Candidate]) -> Match:
    best = candidates[0]
    others = sorted({c.probe.id for c in candidates if c.probe.id != best.probe.id})
    if not others:
        return Match(best.probe, best.method, best.detail, best.confidence, best.own_copy)
    return Match(
        best.probe,
        best.method,
        f"{best.detail}; but weaker evidence names {', '.join(others)}",
        min(best.confidence, CONFLICT_CONFIDENCE),
        best.own_copy,
    )


def match_message(
    store: Store,
    envelope_to: Sequence[str],
    parsed: ParsedEmail | None,
    *,
    received_at: datetime,
    raw: bytes = b"",
    ticket_id: str | None = None,
) -> Match:
    """Find the probe an inbound message answers (see the module docstring for the evidence and its order)."""
    envelope = list(_by_addresses(store, envelope_to, "envelope recipient", 1.0))
    if envelope and envelope[0].own_copy:
        return _decide(envelope[:1])
    if parsed is None:
        if envelope:
            return _decide(envelope)
        return Match(None, None, "unparseable and no token in the envelope")
    if parsed.message_id:
        own = store.probe_by_message_id(parsed.message_id)
        if own is not None:
            return Match(own, "sent_copy", "carries our own Message-ID", 1.0, own_copy=True)
    candidates = [
        *envelope,
        *_by_addresses(store, parsed.recipients, "recipient header", 0.99),
        *_by_addresses(store, parsed.reply_to, "Reply-To", 0.9),
        *_by_thread(store, parsed),
        *_by_returned_original(store, raw),
        *_by_text(store, parsed),
    ]
    if candidates:
        candidates.sort(key=lambda c: -c.confidence)  # stable: equal confidences keep the order above
        return _decide(candidates)
    ticket = _by_ticket(store, parsed, ticket_id)
    if isinstance(ticket, _Candidate):
        return _decide([ticket])
    if ticket is not None:
        return ticket
    return _by_sender_domain(store, parsed, received_at) or Match(
        None, None, "no probe token, no known thread or ticket id, no probe sent to the sender's domain"
    )
