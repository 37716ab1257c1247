"""What a probe's replies were worth: the first real answer, the promise the company made, the best quality.

These are derived from the stored messages and the run's snapshot of the probe script and persona, so a
changed rubric or a person's override is reflected the next time the outcomes are built (nothing is frozen
at ingest time except the classifier's findings).
"""

from __future__ import annotations

from collections.abc import Sequence

from replybench.classify.newtext import new_text
from replybench.classify.promise import Promise, extract_promise
from replybench.classify.quality import QualityScore, persona_names, score_reply
from replybench.models import Persona, ProbeScript
from replybench.store import MessageRecord, ProbeRecord


def stated_promise(probe: ProbeRecord, messages: Sequence[MessageRecord]) -> Promise | None:
    """The first promise the company made: on its form confirmation page, else in a reply, in time order."""
    confirmation = probe.evidence.get("confirmation")
    if isinstance(confirmation, str) and confirmation:
        found = extract_promise(confirmation)
        if found is not None:
            return found
    for message in messages:
        found = Promise.from_detail(message.detail)
        if found is not None:
            return found
    return None


def best_quality(
    script: ProbeScript | None, persona: Persona | None, humans: Sequence[MessageRecord]
) -> QualityScore | None:
    """The best rubric score among a probe's human replies (their own words only), or None if unscored."""
    if script is None or script.rubric.empty:
        return None
    names = persona_names(persona) if persona is not None else ()
    best: QualityScore | None = None
    for message in humans:
        score = score_reply(script.rubric, new_text(message.text or ""), names=names)
        if score is not None and (best is None or score.score > best.score):
            best = score
    return best
