"""Match an inbound message to the probe it answers, and say how (or why no probe claims it).

Order of evidence, strongest first: our own blind copy (``+TOKEN.sent``); the plus-address token in the
envelope recipient or in Delivered-To / X-Original-To / To / Cc; our Message-ID in In-Reply-To or References;
a token in the subject or body. Every candidate token is looked up in the store, so a random word that has a
token's shape matches nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from replybench.mailparse import ParsedEmail
from replybench.store import ProbeRecord, Store
from replybench.tokens import is_sent_copy_address, token_from_address, token_from_message_id, tokens_in_text


@dataclass(frozen=True)
class Match:
    """The probe a message belongs to (None when unmatched), the method, and a detail for people."""

    probe: ProbeRecord | None
    method: str | None
    detail: str
    own_copy: bool = False


def _by_address(store: Store, addresses: Sequence[str], where: str) -> Match | None:
    for address in addresses:
        token = token_from_address(address)
        if token is None:
            continue
        probe = store.probe_by_token(token)
        if probe is not None:
            if is_sent_copy_address(address):
                return Match(probe, "sent_copy", f"our blind copy to {address}", own_copy=True)
            return Match(probe, "plus_address", f"token in {where} {address}")
    return None


def match_message(store: Store, envelope_to: Sequence[str], parsed: ParsedEmail | None) -> Match:
    """Find the probe an inbound message answers."""
    found = _by_address(store, envelope_to, "envelope recipient")
    if found:
        return found
    if parsed is None:
        return Match(None, None, "unparseable and no token in the envelope")
    if parsed.message_id:
        own = store.probe_by_message_id(parsed.message_id)
        if own is not None:
            return Match(own, "sent_copy", "carries our own Message-ID", own_copy=True)
    found = _by_address(store, parsed.recipients, "recipient header")
    if found:
        return found
    for ref in (*parsed.in_reply_to, *parsed.references):
        probe = store.probe_by_message_id(ref)
        if probe is None:
            token = token_from_message_id(ref)
            probe = store.probe_by_token(token) if token else None
        if probe is not None:
            return Match(probe, "thread_headers", f"In-Reply-To/References {ref}")
    for where, text in (("subject", parsed.subject), ("body", parsed.text)):
        for token in tokens_in_text(text):
            probe = store.probe_by_token(token)
            if probe is not None:
                return Match(probe, "token_in_text", f"token {token} in the {where}")
    return Match(None, None, "no probe token, no known thread id")
