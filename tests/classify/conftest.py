"""The email corpus scored by class: a fixture for the tests and a table at the end of every run that used it.

Each message in tests/resources/emails is named ``<expected-class>__<what>.eml``. The scores are computed by
classifying every message (nothing is hard-coded), so the table shows what the classifier does today.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from replybench.classify import classify_bytes
from replybench.models import MessageClass

EMAILS = Path(__file__).resolve().parents[1] / "resources" / "emails"
_CORPUS_TESTS = "test_classify_corpus.py"
_USED = pytest.StashKey[bool]()


@dataclass(frozen=True)
class ClassScore:
    """How one class fares over the corpus: messages expected, predicted, and both."""

    cls: MessageClass
    n: int
    predicted: int
    correct: int

    @property
    def precision(self) -> float:
        """Share of the messages classified as this class that are this class (1.0 when none were)."""
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        """Share of this class's messages that were classified as it (1.0 when there are none)."""
        return self.correct / self.n if self.n else 1.0


@dataclass(frozen=True)
class CorpusScores:
    """Per-class scores and the messages that were classified wrongly (name, expected, got, rule)."""

    scores: tuple[ClassScore, ...]
    errors: tuple[tuple[str, str, str, str], ...]
    total: int


def expected_class(name: str) -> MessageClass:
    """The class a corpus file's name promises."""
    return MessageClass(name.split("__", 1)[0])


@cache
def score_corpus() -> CorpusScores:
    """Classify every corpus message and count, per class, expected, predicted and correct messages."""
    expected: Counter[MessageClass] = Counter()
    predicted: Counter[MessageClass] = Counter()
    correct: Counter[MessageClass] = Counter()
    errors: list[tuple[str, str, str, str]] = []
    paths = sorted(EMAILS.glob("*.eml"))
    for path in paths:
        want = expected_class(path.name)
        got = classify_bytes(path.read_bytes())
        expected[want] += 1
        predicted[got.cls] += 1
        if got.cls is want:
            correct[want] += 1
        else:
            errors.append((path.name, want.value, got.cls.value, got.rule))
    classes = [c for c in MessageClass if expected[c] or predicted[c]]
    scores = tuple(ClassScore(c, expected[c], predicted[c], correct[c]) for c in classes)
    return CorpusScores(scores, tuple(errors), len(paths))


@pytest.fixture(scope="session")
def corpus_scores() -> CorpusScores:
    """The corpus's per-class precision and recall."""
    return score_corpus()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Remember whether this run collected the corpus tests (the summary table is printed only then)."""
    config.stash[_USED] = any(_CORPUS_TESTS in item.nodeid for item in items)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Print the per-class table of the email corpus after a run that collected the corpus tests."""
    if not config.stash.get(_USED, False):
        return
    result = score_corpus()
    write = terminalreporter.write_line
    terminalreporter.section("email classifier on tests/resources/emails", sep="-")
    write(f"{'class':<15}{'n':>5}{'predicted':>11}{'precision':>11}{'recall':>9}")
    for s in result.scores:
        write(f"{s.cls.value:<15}{s.n:>5}{s.predicted:>11}{s.precision:>10.1%}{s.recall:>9.1%}")
    correct = sum(s.correct for s in result.scores)
    write(f"{'all':<15}{result.total:>5}{'':>11}{'accuracy':>11}{correct / max(result.total, 1):>9.1%}")
    for name, want, got, rule in result.errors:
        write(f"  wrong: {name}: expected {want}, got {got} ({rule})")
