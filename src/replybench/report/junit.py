"""JUnit XML for CI servers (Jenkins, GitLab, GitHub Actions test reporters): comparisons and SLA checks.

The layout is the common Jenkins/GitLab one::

    <testsuites name tests failures errors skipped time timestamp>
      <testsuite name tests failures errors skipped time timestamp hostname id package>
        <properties><property name value/></properties>
        <testcase name classname time>
          <failure message type>details</failure>   (or <skipped message/>)
          <system-out>details</system-out>
        </testcase>

Timestamps are UTC without an offset (``2025-03-03T08:00:00``), the form the Jenkins schema accepts.
Documents are built with :mod:`xml.etree.ElementTree`, which escapes markup; characters XML 1.0 cannot
carry at all (NUL, most C0 controls, lone surrogates) are replaced with U+FFFD, since target names and other
strings may come from untrusted sources.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from replybench.analysis.compare import ComparisonReport, p_text
from replybench.analysis.sla import SlaReport, describe_sla
from replybench.timefmt import as_utc, format_duration, utcnow

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: object) -> str:
    """``str(text)`` with every character XML 1.0 forbids replaced by U+FFFD (escaping is ElementTree's job)."""
    return _NOT_XML.sub("\ufffd", str(text))


@dataclass(frozen=True)
class Failure:
    """A failed test case: a one-line ``message`` and a longer ``text`` (the message when empty)."""

    message: str
    text: str = ""
    type: str = "threshold"


@dataclass(frozen=True)
class TestCase:
    """One JUnit test case; at most one of ``failure`` and ``skipped`` (a reason) is set."""

    __test__ = False  # not a pytest class

    name: str
    classname: str
    time_s: float = 0.0
    failure: Failure | None = None
    skipped: str | None = None
    system_out: str = ""


@dataclass(frozen=True)
class TestSuite:
    """A named group of test cases with properties (string key/value pairs) and a timestamp."""

    __test__ = False

    name: str
    cases: tuple[TestCase, ...]
    timestamp: datetime = field(default_factory=utcnow)
    properties: tuple[tuple[str, str], ...] = ()
    package: str = "replybench"

    @property
    def failures(self) -> int:
        """Failed cases."""
        return sum(1 for c in self.cases if c.failure is not None)

    @property
    def skipped(self) -> int:
        """Skipped cases (not failed)."""
        return sum(1 for c in self.cases if c.failure is None and c.skipped is not None)


def _stamp(value: datetime) -> str:
    return as_utc(value).replace(microsecond=0, tzinfo=None).isoformat()


def _el(parent: ET.Element, tag: str, text: str = "", **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, tag, {k: xml_safe(v) for k, v in attrs.items()})
    if text:
        node.text = xml_safe(text)
    return node


def junit_xml(suites: Sequence[TestSuite], name: str = "replybench", hostname: str | None = None) -> bytes:
    """Serialise test suites as a JUnit XML document (UTF-8, with an XML declaration)."""
    host = hostname if hostname is not None else socket.gethostname() or "localhost"
    tests = sum(len(s.cases) for s in suites)
    failures = sum(s.failures for s in suites)
    skipped = sum(s.skipped for s in suites)
    total_time = sum(c.time_s for s in suites for c in s.cases)
    first = min((s.timestamp for s in suites), default=utcnow())
    root = ET.Element(
        "testsuites",
        {
            "name": xml_safe(name),
            "tests": str(tests),
            "failures": str(failures),
            "errors": "0",
            "skipped": str(skipped),
            "time": f"{total_time:.3f}",
            "timestamp": _stamp(first),
        },
    )
    for i, suite in enumerate(suites):
        node = _el(
            root,
            "testsuite",
            name=suite.name,
            tests=str(len(suite.cases)),
            failures=str(suite.failures),
            errors="0",
            skipped=str(suite.skipped),
            time=f"{sum(c.time_s for c in suite.cases):.3f}",
            timestamp=_stamp(suite.timestamp),
            hostname=host,
            id=str(i),
            package=suite.package,
        )
        if suite.properties:
            props = _el(node, "properties")
            for key, value in suite.properties:
                _el(props, "property", name=key, value=value)
        for case in suite.cases:
            tc = _el(node, "testcase", name=case.name, classname=case.classname, time=f"{case.time_s:.3f}")
            if case.failure is not None:
                failure = case.failure
                _el(
                    tc, "failure", failure.text or failure.message, message=failure.message, type=failure.type
                )
            elif case.skipped is not None:
                _el(tc, "skipped", message=case.skipped)
            if case.system_out:
                _el(tc, "system-out", case.system_out)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


# --------------------------------------------------------------------------------------------- adapters


def comparison_suite(report: ComparisonReport, timestamp: datetime | None = None) -> TestSuite:
    """One test case per compared group (the "All" row included); a breached threshold is a failure.

    Case names are the group's label with its key in parentheses when they differ ("Acme Ltd (acme)").
    """
    c = report.comparison
    cases = []
    for g in c.groups:
        breaches = [b for b in report.breaches if (b.key, b.overall) == (g.key, g.overall)]
        summary = (
            f"sent {g.a.sent} vs {g.b.sent}; human reply rate {g.a.human_rate.k}/{g.a.human_rate.n} vs "
            f"{g.b.human_rate.k}/{g.b.human_rate.n} ({g.rate_test} {p_text(g.rate_pvalue)}); "
            f"median first human reply {_median(g.median_a_s, g.a.sent)} vs {_median(g.median_b_s, g.b.sent)}; "
            f"verdict {g.verdict} ({g.logrank.name} {p_text(g.pvalue)}"
            + (", Holm-adjusted" if c.adjust == "holm" and c.tests > 1 and g.pvalue is not None else "")
            + (f"; {g.logrank.note}" if g.logrank.note else "")
            + ")"
        )
        failure = (
            Failure(message="; ".join(b.message for b in breaches), text=summary, type="regression")
            if breaches
            else None
        )
        cases.append(
            TestCase(
                name=g.label if g.overall or g.label == g.key else f"{g.label} ({g.key})",
                classname=f"replybench.compare.{'overall' if g.overall else c.by}",
                failure=failure,
                system_out="" if failure else summary,
            )
        )
    props = (
        ("a", c.a.description),
        ("b", c.b.description),
        ("by", c.by),
        ("alpha", f"{c.alpha:g}"),
        ("adjust", c.adjust),
        ("test", "log-rank"),
    )
    return TestSuite(
        name=f"replybench compare ({c.a.label} vs {c.b.label}, by {c.by})",
        cases=tuple(cases),
        timestamp=timestamp or utcnow(),
        properties=props,
    )


def _median(value: float | None, sent: int) -> str:
    if sent == 0:
        return "—"
    return "not reached" if value is None else format_duration(value)


def sla_suites(report: SlaReport, timestamp: datetime | None = None) -> list[TestSuite]:
    """One test suite per SLA with one test case per target and one for all targets together.

    A breached SLA (or, in strict mode, an undetermined one or one without data) is a failure; otherwise an
    undetermined result or one without data is skipped.
    """
    when = timestamp or utcnow()
    suites = []
    for i, sla in enumerate(report.slas, 1):
        sla_id = f"sla{i}"
        description = describe_sla(sla)
        cases = []
        for r in (r for r in report.results if r.sla_id == sla_id):
            message = r.message()
            failing = report.failing(r)
            cases.append(
                TestCase(
                    name=r.label if r.overall else f"{r.label} ({r.key})",
                    classname=f"replybench.sla.{sla_id}",
                    failure=Failure(
                        message, f"{description}\n{message}", type=f"sla-{r.status.replace(' ', '-')}"
                    )
                    if failing
                    else None,
                    skipped=message if not failing and r.status != "met" else None,
                    system_out=message if not failing else "",
                )
            )
        suites.append(
            TestSuite(
                name=f"SLA {sla_id}: {description}",
                cases=tuple(cases),
                timestamp=when,
                properties=(
                    ("suite", report.suite),
                    ("runs", " ".join(report.runs)),
                    ("strict", "true" if report.strict else "false"),
                ),
            )
        )
    return suites
