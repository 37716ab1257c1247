"""JUnit XML: well-formed, the Jenkins/GitLab layout, right counts, hostile strings escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from replybench.analysis.compare import Thresholds, check, compare_outcomes
from replybench.analysis.sla import evaluate_slas
from replybench.models import SLA
from replybench.report.junit import (
    Failure,
    TestCase,
    TestSuite,
    comparison_suite,
    junit_xml,
    sla_suites,
    xml_safe,
)
from tests.analysis.test_compare import many, outcome

STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")  # xs:dateTime without offset (Jenkins schema)
HOSTILE = '<script>alert("x")</script> & ]]> \' \x00\x1b[31m\ud800 \U0001f600'


def parse(document: bytes) -> ET.Element:
    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(document)


def check_layout(root: ET.Element) -> None:
    """The attributes the common JUnit schema requires, and counts that add up."""
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    for suite in suites:
        for attr in ("name", "tests", "failures", "errors", "skipped", "time", "timestamp", "hostname", "id"):
            assert attr in suite.attrib, attr
        assert STAMP.match(suite.attrib["timestamp"])
        cases = suite.findall("testcase")
        assert int(suite.attrib["tests"]) == len(cases)
        assert int(suite.attrib["failures"]) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(suite.attrib["skipped"]) == sum(1 for c in cases if c.find("skipped") is not None)
        assert suite.attrib["errors"] == "0"
        for case in cases:
            assert {"name", "classname", "time"} <= set(case.attrib)
            float(case.attrib["time"])
            failure = case.find("failure")
            if failure is not None:
                assert failure.attrib["message"] and failure.text
    for attr in ("tests", "failures", "skipped"):
        assert int(root.attrib[attr]) == sum(int(s.attrib[attr]) for s in suites)
    assert STAMP.match(root.attrib["timestamp"])


def test_counts_failures_skips_and_properties() -> None:
    when = datetime(2025, 3, 3, 8, 0, 1, 500_000, tzinfo=UTC)
    suites = [
        TestSuite(
            "one",
            (
                TestCase("ok", "rb.x", system_out="fine"),
                TestCase("bad", "rb.x", failure=Failure("too slow", "details\nmore")),
                TestCase("later", "rb.x", skipped="not decidable yet"),
            ),
            timestamp=when,
            properties=(("suite", "s"),),
        ),
        TestSuite("two", (TestCase("bad too", "rb.y", time_s=1.25, failure=Failure("m")),), timestamp=when),
    ]
    root = parse(junit_xml(suites, hostname="ci"))
    check_layout(root)
    assert (root.attrib["tests"], root.attrib["failures"], root.attrib["skipped"]) == ("4", "2", "1")
    assert root.attrib["timestamp"] == "2025-03-03T08:00:01"
    one, two = root.findall("testsuite")
    assert one.attrib["hostname"] == "ci" and two.attrib["time"] == "1.250"
    assert one.find("properties/property").attrib == {"name": "suite", "value": "s"}
    bad = one.findall("testcase")[1].find("failure")
    assert bad.attrib == {"message": "too slow", "type": "threshold"} and bad.text == "details\nmore"
    assert one.findall("testcase")[0].find("system-out").text == "fine"
    assert one.findall("testcase")[2].find("skipped").attrib["message"] == "not decidable yet"


def test_hostile_names_are_escaped_and_forbidden_characters_replaced() -> None:
    suites = [TestSuite(HOSTILE, (TestCase(HOSTILE, HOSTILE, failure=Failure(HOSTILE, HOSTILE)),))]
    document = junit_xml(suites, name=HOSTILE, hostname=HOSTILE)
    assert b"<script>" not in document and b"\x00" not in document and b"\x1b" not in document
    root = parse(document)
    check_layout(root)
    expected = xml_safe(HOSTILE)
    assert "\ufffd[31m" in expected and "\U0001f600" in expected and "\ud800" not in expected
    case = root.find("testsuite/testcase")
    assert case.attrib["name"] == expected and case.attrib["classname"] == expected
    assert case.find("failure").attrib["message"] == expected and case.find("failure").text == expected
    assert root.find("testsuite").attrib["name"] == expected and root.attrib["name"] == expected


def test_newlines_in_attributes_survive() -> None:
    root = parse(junit_xml([TestSuite("s", (TestCase("a\nb", "c", failure=Failure("line 1\nline 2")),))]))
    case = root.find("testsuite/testcase")
    assert case.attrib["name"] == "a\nb" and case.find("failure").attrib["message"] == "line 1\nline 2"


def test_empty_document_is_valid() -> None:
    root = parse(junit_xml([], hostname="h"))
    check_layout(root)
    assert root.attrib["tests"] == "0"


def test_comparison_suite_fails_the_rows_that_breach_a_threshold() -> None:
    fast = [float(t) for t in range(1, 21)]
    a = many(fast, target="acme", run="a") + many(fast, target="globex", run="a")
    b = many([None] * 20, target="acme", run="b") + many(fast, target="globex", run="b")
    report = check(compare_outcomes(a, b), Thresholds(fail_on_worse=True))
    root = parse(junit_xml([comparison_suite(report)], hostname="h"))
    check_layout(root)
    cases = {c.attrib["name"]: c for c in root.iter("testcase")}
    assert set(cases) == {"Acme Ltd (acme)", "Globex Ltd (globex)", "All"}
    assert cases["Acme Ltd (acme)"].find("failure") is not None
    assert "log-rank" in cases["Acme Ltd (acme)"].find("failure").attrib["message"]
    assert cases["Globex Ltd (globex)"].find("failure") is None
    assert "verdict no evidence" in cases["Globex Ltd (globex)"].find("system-out").text
    assert cases["All"].find("failure") is not None  # pooled, B lost every acme reply
    assert cases["All"].attrib["classname"] == "replybench.compare.overall"
    assert root.attrib["failures"] == "2"
    props = {p.attrib["name"]: p.attrib["value"] for p in root.iter("property")}
    assert props["test"] == "log-rank" and props["alpha"] == "0.05"


def test_sla_suites_one_case_per_target_and_overall() -> None:
    rows = (
        many([60.0] * 3, target="acme", wait_s=7200)
        + many([None] * 3, target="globex", wait_s=7200)
        + [outcome(human_s=None, target="initech", wait_s=7200, observed_s=5)]
    )
    slas = [SLA.model_validate({"within": "1h", "target_rate": 0.5}), SLA.model_validate({"within": "30s"})]
    report = evaluate_slas(rows, slas, suite="s", runs=["r1"])
    root = parse(junit_xml(sla_suites(report), hostname="h"))
    check_layout(root)
    first, second = root.findall("testsuite")
    assert first.attrib["name"] == "SLA sla1: ≥ 50 % human reply within 1 h on email"
    cases = {c.attrib["name"]: c for c in first.findall("testcase")}
    assert list(cases) == ["Acme Ltd (acme)", "Globex Ltd (globex)", "Initech Ltd (initech)", "All targets"]
    assert (
        cases["Acme Ltd (acme)"].find("failure") is None and cases["Acme Ltd (acme)"].find("skipped") is None
    )
    failure = cases["Globex Ltd (globex)"].find("failure")
    assert failure.attrib["type"] == "sla-breached" and "0 % (0/3" in failure.attrib["message"]
    assert cases["Initech Ltd (initech)"].find("skipped") is not None  # still open: undetermined
    assert cases["All targets"].find("failure") is None  # 3/7 met, up to 4/7 ≥ 50 %: undetermined
    assert (first.attrib["failures"], first.attrib["skipped"]) == ("1", "2")
    # within 30 s nobody answered: every target fails except the open one, and so does the whole
    assert second.attrib["failures"] == "3"
    strict = evaluate_slas(rows, slas, strict=True)
    assert parse(junit_xml(sla_suites(strict), hostname="h")).attrib["failures"] == "7"
