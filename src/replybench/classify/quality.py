"""Quality of a human reply: how much of the probe script's rubric it covers, and whether it names the persona.

A rubric (:class:`~replybench.models.Rubric`) lists *required* points (what a complete answer contains),
*optional* points (what makes it better) and *forbidden* points (deflections such as "call us"). A point is
found when any of its regular expressions matches (``re.search`` on the text as written; add ``(?i)`` for
case-insensitivity) or any of its phrases does. A phrase matches as whole words, case-insensitively
(``casefold``), accent-insensitively (NFKD with combining marks removed: "Grüße" matches "Grusse", "resume"
matches "résumé") and with any run of white space between its words. The text scored is the reply's own
words with the quoted original already removed (the caller's job, see :mod:`replybench.classify.newtext`).

Score formula:

    R = share of required points found (1 when the rubric has no required point)
    O = share of optional points found
    base = 100·R when the rubric has no optional point, else 100·(0.8·R + 0.2·O)
    score = base − 25 per forbidden point found, clamped to [0, 100] and rounded to 1 decimal

Personalisation (the reply uses the persona's given or family name as a whole word, case- and
accent-insensitively, names of at least 2 letters) does not change the score; it is reported beside it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from replybench.models import Persona, Rubric, RubricPoint

__all__ = ["FORBIDDEN_PENALTY", "QualityScore", "persona_names", "score_reply"]

#: Points taken off the score for each forbidden point found.
FORBIDDEN_PENALTY = 25.0
#: Weights of required and optional points when the rubric has optional points.
REQUIRED_WEIGHT = 0.8
OPTIONAL_WEIGHT = 0.2
#: Longest text read (a reply's own words are far shorter; this bounds the work on pathological input).
READ_CHARS = 100_000
#: Compiled rubrics kept (cleared when full).
_CACHE_LIMIT = 256


@dataclass(frozen=True)
class QualityScore:
    """A reply's score against a rubric (0-100, one decimal) and the labels of the points behind it.

    ``personalised`` is None when the rubric does not ask for a personal answer or no usable name was given;
    ``answered_all`` is None when the rubric has no required point.
    """

    score: float
    required: tuple[str, ...]
    missing: tuple[str, ...]
    optional: tuple[str, ...]
    forbidden: tuple[str, ...]
    personalised: bool | None
    answered_all: bool | None


def _fold(text: str) -> str:
    """Case- and accent-free form of ``text``: casefold, NFKD, combining marks removed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _phrase_pattern(phrase: str) -> re.Pattern[str] | None:
    """Whole-word pattern of a phrase for folded text, or None for a phrase with no words."""
    words = _fold(phrase).split()
    if not words:
        return None
    body = r"\s+".join(re.escape(w) for w in words)
    head = r"(?<!\w)" if re.match(r"\w", words[0]) else ""
    tail = r"(?!\w)" if re.search(r"\w$", words[-1]) else ""
    return re.compile(head + body + tail)


@dataclass(frozen=True)
class _Point:
    """A rubric point ready to search: its label, regular expressions and phrase patterns."""

    label: str
    regex: tuple[re.Pattern[str], ...]
    phrases: tuple[re.Pattern[str], ...]

    @classmethod
    def of(cls, point: RubricPoint) -> _Point:
        phrases = (_phrase_pattern(p) for p in point.phrases)
        return cls(point.point, tuple(re.compile(r) for r in point.regex), tuple(p for p in phrases if p))

    def found(self, text: str, folded: str) -> bool:
        return any(r.search(text) for r in self.regex) or any(p.search(folded) for p in self.phrases)


@dataclass(frozen=True)
class _Compiled:
    required: tuple[_Point, ...]
    optional: tuple[_Point, ...]
    forbidden: tuple[_Point, ...]


_compiled: dict[str, _Compiled] = {}


def _compile(rubric: Rubric) -> _Compiled:
    """The rubric's points, compiled once per distinct rubric.

    The cache key is the rubric's content (its JSON): a Rubric holds lists, so it is not hashable, and an
    ``id`` can be reused once a rubric is freed.
    """
    key = rubric.model_dump_json()
    cached = _compiled.get(key)
    if cached is None:
        cached = _Compiled(
            tuple(_Point.of(p) for p in rubric.required),
            tuple(_Point.of(p) for p in rubric.optional),
            tuple(_Point.of(p) for p in rubric.forbidden),
        )
        if len(_compiled) >= _CACHE_LIMIT:
            _compiled.clear()
        _compiled[key] = cached
    return cached


def persona_names(persona: Persona) -> tuple[str, ...]:
    """The persona's given and family name, each non-empty with at least 2 letters, without duplicates."""
    return _usable_names((persona.given_name, persona.family_name))


def _usable_names(names: Sequence[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    result: list[str] = []
    for name in names:
        name = name.strip()
        key = _fold(name)
        if sum(c.isalpha() for c in key) >= 2 and key not in seen:
            seen.add(key)
            result.append(name)
    return tuple(result)


def score_reply(rubric: Rubric, text: str, *, names: Sequence[str] = ()) -> QualityScore | None:
    """Score ``text`` (a reply's own words) against ``rubric``; None when the rubric names no point.

    ``names`` are the persona's names (see :func:`persona_names`); names shorter than 2 letters are ignored.
    """
    if rubric.empty:
        return None
    compiled = _compile(rubric)
    text = text[:READ_CHARS]
    folded = _fold(text)
    hits = [(p.label, p.found(text, folded)) for p in compiled.required]
    required = [label for label, hit in hits if hit]
    missing = [label for label, hit in hits if not hit]
    optional = [p.label for p in compiled.optional if p.found(text, folded)]
    forbidden = [p.label for p in compiled.forbidden if p.found(text, folded)]

    r = len(required) / len(compiled.required) if compiled.required else 1.0
    if compiled.optional:
        base = 100.0 * (REQUIRED_WEIGHT * r + OPTIONAL_WEIGHT * len(optional) / len(compiled.optional))
    else:
        base = 100.0 * r
    score = round(min(100.0, max(0.0, base - FORBIDDEN_PENALTY * len(forbidden))), 1)

    personalised: bool | None = None
    usable = _usable_names(names)
    if rubric.personal and usable:
        patterns = (_phrase_pattern(n) for n in usable)
        personalised = any(p.search(folded) for p in patterns if p is not None)
    return QualityScore(
        score=score,
        required=tuple(required),
        missing=tuple(missing),
        optional=tuple(optional),
        forbidden=tuple(forbidden),
        personalised=personalised,
        answered_all=(not missing) if compiled.required else None,
    )
