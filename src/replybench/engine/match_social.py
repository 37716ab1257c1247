"""Match a social post to the probe it answers: by reply threading first, then by mention, and say how sure.

Evidence, strongest first (the confidence recorded with the match in brackets):

1. a person typed the reply in for a probe (``replybench add-reply``): that probe (1.0);
2. the post replies to our post (its ``in_reply_to`` is the probe's post id) (1.0);
3. the post replies to a post already matched to a probe, e.g. the company's acknowledgement (0.95);
4. the post is in the thread (conversation) our post started (0.95), or in the thread of a matched post (0.9);
   a quote of our post (Bluesky) counts the same way;
5. the post mentions the persona, comes from an account of the company, and exactly one probe of that persona
   to that company was being watched when it was posted (0.75). A fresh mention with several such probes
   open matches nothing and names them (a person decides in ``replybench review``).

Only the company's accounts (the endpoint's ``account`` and ``also``) answer for it: a stranger replying in the
thread is stored and named, but matches nothing. The persona's own posts are its copies (``own_copy``).
"""

from __future__ import annotations

from datetime import datetime

from replybench.channels.social import SocialPost, normalise_handle, post_key
from replybench.engine.match import Match
from replybench.models import ProbeState
from replybench.store import ProbeRecord, Store

#: Confidence of a match made only by a mention of the persona (above the review threshold: it acts).
MENTION_CONFIDENCE = 0.75


def _accounts(probe: ProbeRecord) -> tuple[set[str], str | None]:
    company = {normalise_handle(a) for a in probe.evidence.get("company_accounts", [])}
    persona = probe.evidence.get("persona_account")
    return company, normalise_handle(persona) if persona else None


def _thread(store: Store, post: SocialPost) -> tuple[ProbeRecord, str, str, float] | None:
    """The probe a post's threading names: (probe, method, detail, confidence), strongest first."""
    net = post.network
    for ref, what, direct_conf, via_conf in (
        (post.in_reply_to, "in_reply_to", 1.0, 0.95),
        (post.root, "thread_root", 0.95, 0.9),
        (post.extra.get("quote_of"), "quote", 0.95, 0.9),
    ):
        if not ref:
            continue
        probe = store.probe_by_external_id(post_key(net, ref))
        if probe is not None:
            return probe, what, f"{what} {ref} is the post of probe {probe.id}", direct_conf
        earlier = store.message_by_key(post_key(net, ref))
        if earlier is not None and earlier.probe_id:
            probe = store.get_probe(earlier.probe_id)
            if probe is not None:
                return (
                    probe,
                    "thread",
                    f"{what} {ref} is message {earlier.id}, matched to probe {probe.id}",
                    via_conf,
                )
    return None


def _mentioned(store: Store, post: SocialPost, at: datetime) -> list[ProbeRecord]:
    """Probes of the persona(s) the post mentions, to the post's author's company, watched at ``at``."""
    mentions = {normalise_handle(m) for m in post.mentions}
    found = []
    for probe in store.watched_probes(post.network, (ProbeState.SENT, ProbeState.CLOSED)):
        company, persona = _accounts(probe)
        if persona not in mentions or post.author not in company:
            continue
        if probe.sent_at is None or at < probe.sent_at:
            continue
        if probe.closes_at is not None and at > probe.closes_at:
            continue
        found.append(probe)
    return found


def match_post(store: Store, post: SocialPost, *, manual_probe_id: str | None = None) -> Match:
    """The probe a social post answers (or why none), with the method and how sure."""
    if manual_probe_id is not None:
        probe = store.get_probe(manual_probe_id)
        if probe is None or probe.channel != post.network:
            return Match(None, None, f"entered by a person for {manual_probe_id}, not a {post.network} probe")
        return Match(probe, "manual", "entered by a person (replybench add-reply)", 1.0)
    author = normalise_handle(post.author)
    threaded = _thread(store, post)
    if threaded is not None:
        probe, method, detail, confidence = threaded
        company, persona = _accounts(probe)
        if author == persona:
            return Match(probe, method, detail + "; our own post", 1.0, own_copy=True)
        if author not in company:
            return Match(
                None,
                None,
                f"{detail}, but written by @{author}, who is not an account of the company"
                f" ({', '.join('@' + a for a in sorted(company)) or 'none configured'})",
            )
        return Match(probe, method, detail, confidence)
    candidates = _mentioned(store, post, post.created_at)
    if len(candidates) == 1:
        probe = candidates[0]
        return Match(
            probe,
            "mention",
            f"@{author} mentions the persona while only probe {probe.id} to them was watched",
            MENTION_CONFIDENCE,
        )
    if candidates:
        names = ", ".join(p.id for p in candidates)
        return Match(None, None, f"@{author} mentions the persona; several probes were watched: {names}")
    return Match(None, None, f"@{author}: not in a probe's thread, and no watched probe it could answer")
