"""The review queue: decisions the machine is unsure of, shown to a person who confirms or corrects them.

A decision is unsure when the classifier's or the matcher's confidence is below a threshold (0.7 by
default; see :data:`replybench.models.REVIEW_THRESHOLD`). A person's decision is stored as an
override with who and when (:meth:`Store.set_override`) and wins in every outcome, report and export.
Message text is untrusted: excerpts are stripped of control characters (no terminal escape sequences).
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from replybench.classify.newtext import new_text
from replybench.errors import ReplybenchError
from replybench.models import MessageClass
from replybench.store import MessageRecord, ProbeRecord, Store

#: Keys a reviewer types, and the class each one gives a message.
CLASS_KEYS: dict[str, MessageClass] = {
    "h": MessageClass.HUMAN,
    "d": MessageClass.DEFLECTION,
    "a": MessageClass.AUTO_ACK,
    "o": MessageClass.OUT_OF_OFFICE,
    "b": MessageClass.BOUNCE,
    "m": MessageClass.MARKETING,
}
EXCERPT_CHARS = 600
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class ReviewError(ReplybenchError):
    """A review decision that cannot be applied (unknown message, probe or class)."""


@dataclass(frozen=True)
class ReviewItem:
    """One unsure decision: the message, the probe it was matched to (if any), and its new words."""

    message: MessageRecord
    probe: ProbeRecord | None
    excerpt: str

    @property
    def reasons(self) -> list[str]:
        """Why the item is in the queue, in words."""
        m = self.message
        out = []
        if m.confidence is not None:
            out.append(f"class {m.cls.value if m.cls else '?'} by {m.rule} at {m.confidence:.2f}")
        if m.match_confidence is not None and m.probe_id:
            out.append(f"match by {m.match_method} at {m.match_confidence:.2f}")
        return out


def clean_excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """Untrusted text made safe for a terminal: no control or bidi characters, at most ``limit`` chars."""
    flat = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\t", " "))
    flat = re.sub(r"\n{3,}", "\n\n", flat).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def reviewer_name(given: str | None = None) -> str:
    """Who is reviewing: ``given``, else ``REPLYBENCH_REVIEWER``, else the login name."""
    for candidate in (given, os.environ.get("REPLYBENCH_REVIEWER")):
        if candidate and candidate.strip():
            return candidate.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def queue(store: Store, threshold: float, run_id: str | None = None) -> list[ReviewItem]:
    """The unsure decisions no person has made yet, oldest first."""
    items = []
    for message in store.review_queue(threshold, run_id):
        probe = store.get_probe(message.probe_id) if message.probe_id else None
        words = new_text(message.text or "") or (message.text or message.error or "")
        items.append(ReviewItem(message, probe, clean_excerpt(words)))
    return items


def decide(
    store: Store,
    message_id: int,
    *,
    who: str,
    cls: MessageClass | None = None,
    probe_id: str | None = None,
    note: str | None = None,
    confirm: bool = False,
) -> MessageRecord:
    """Store a person's decision about a message and return the message as it now stands.

    ``confirm`` keeps the machine's class and match but records that a person agreed (the message leaves the
    queue); ``cls`` sets the class; ``probe_id`` sets the probe, ``""`` says it answers none.
    """
    message = store.get_message(message_id)
    if message is None:
        raise ReviewError(f"no message {message_id} in the store")
    if confirm:
        cls = cls or message.cls
    if cls is None and probe_id is None:
        raise ReviewError("give a class, a probe, or confirm the machine's decision")
    if cls is MessageClass.OWN_COPY:
        raise ReviewError("own_copy is the engine's own bookkeeping, not a class a person can give")
    try:
        store.set_override(message_id, who=who, cls=cls, probe_id=probe_id, note=note)
    except (KeyError, ValueError) as exc:
        raise ReviewError(str(exc).strip("'\"")) from exc
    updated = store.get_message(message_id)
    assert updated is not None
    return updated


def parse_class(value: str) -> MessageClass:
    """A class from its name (``human``) or its review key (``h``)."""
    key = value.strip().lower()
    if key in CLASS_KEYS:
        return CLASS_KEYS[key]
    try:
        cls = MessageClass(key)
    except ValueError:
        names = ", ".join(c.value for c in CLASS_KEYS.values())
        raise ReviewError(f"unknown class {value!r}: use one of {names}") from None
    if cls is MessageClass.OWN_COPY:
        raise ReviewError("own_copy is the engine's own bookkeeping, not a class a person can give")
    return cls


def choices_help(keys: Sequence[str] = tuple(CLASS_KEYS)) -> str:
    """The one-line legend of review keys."""
    classes = " · ".join(f"{k} {CLASS_KEYS[k].value}" for k in keys)
    return f"Enter confirm · {classes} · x answers no probe · p PROBE_ID reassign · s skip · q quit"
