"""The HTML report: self-contained, script-free, escaped, with the sections and numbers it promises."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from replybench.report.html import CSP, render_html
from replybench.report.render import template_env, write_reports
from tests.report.sample_data import (
    HOSTILE,
    TARGETS,
    hostile_outcomes,
    make_outcome,
    sample_meta,
    sample_outcomes,
)

URL_ATTRS = {"href", "src", "xlink:href", "action", "formaction", "srcset", "poster", "data", "background"}


class Page(HTMLParser):
    """Collects elements, attributes and text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.style = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "style":
            self.style += data
        else:
            self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture(scope="module")
def sample_html() -> str:
    return render_html(sample_outcomes(), sample_meta(), template_env(None))


@pytest.fixture(scope="module")
def hostile_html() -> str:
    return render_html(hostile_outcomes(), sample_meta(notes=(HOSTILE,)), template_env(None))


def _assert_inert(html: str) -> None:
    page = parse(html)
    assert not page.find("script"), "no script element at all"
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} on <{tag}>"
            if name in URL_ATTRS:
                assert value is not None
                assert value.startswith("#"), f"<{tag} {name}={value!r}> must stay inside the document"
    for tag in ("iframe", "object", "embed", "img", "link", "base", "form", "meta"):
        for attrs in page.find(tag):
            assert tag == "meta", f"unexpected <{tag}>"
            assert attrs.get("http-equiv") != "refresh"
    assert "http://" not in html
    assert "https://" not in html
    assert "url(" not in page.style
    assert "@import" not in page.style


def test_csp_meta_forbids_scripts_and_remote_resources(sample_html: str) -> None:
    page = parse(sample_html)
    (csp,) = page.find("meta", **{"http-equiv": "Content-Security-Policy"})
    assert csp["content"] == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert csp["content"] == CSP
    first_meta = [t for t, _ in page.tags if t in {"meta", "style", "title"}][:2]
    assert first_meta == ["meta", "meta"], "charset and CSP come before anything else"
    _assert_inert(sample_html)


def test_reply_derived_markup_survives_only_as_escaped_text(hostile_html: str) -> None:
    _assert_inert(hostile_html)
    assert "<script" not in hostile_html.lower()
    assert "<img" not in hostile_html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile_html
    text = "".join(parse(hostile_html).text)
    assert "<script>alert(1)</script>" in text, "the payload is shown to the reader as text"
    assert "<img src=x onerror=alert(1)>" in text
    assert "javascript:alert(1)" in text
    for _tag, attrs in parse(hostile_html).tags:
        for value in attrs.values():
            assert value is None or not value.strip().lower().startswith("javascript:")


def test_page_has_the_promised_sections(sample_html: str) -> None:
    page = parse(sample_html)
    ids = {a.get("id") for _, a in page.tags}
    assert {"summary", "targets", "methods", "evidence"} <= ids
    text = " ".join(" ".join(page.text).split())
    for phrase in (
        "SMTP 250",
        "INTERNALDATE",
        "right-censored",
        "Kaplan–Meier",
        "Wilson",
        "opening hours",
        "auto",  # auto-acknowledgements in the definitions
        "out-of-office",
    ):
        assert phrase in text, phrase
    assert "Pilot study" in text  # meta.notes
    assert "baseline" in text
    assert "7\u00a0d" in "".join(page.text)  # the wait limit


def test_per_target_table_lists_every_target_with_its_numbers(sample_html: str) -> None:
    table = sample_html.split('<table class="data targets">', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr>") == len(TARGETS)
    for _tid, name, industry, _c, _tz in TARGETS:
        assert name.replace("&", "&amp;") in body
        assert industry in body
    assert "All targets" in table.split("<tfoot>", 1)[1]
    headers = re.findall(r"<th scope=\"col\"[^>]*>([^<]+)</th>", table)
    assert headers == [
        "Target",
        "Industry",
        "Sent",
        "Response rate",
        "Median first response",
        "Median first human response",
        "Business-time median",
        "Auto-ack",
        "Bounced",
        "Censored",
    ]
    # Alpenkasse: five human replies, median 41 min; FunkFix: median not reached, two bounces.
    alpen = body.split("Alpenkasse", 1)[1].split("</tr>", 1)[0]
    assert "41\u00a0min" in alpen
    assert "100\u00a0% (5/5)" in alpen
    funk = body.split("FunkFix", 1)[1].split("</tr>", 1)[0]
    assert "not reached" in funk
    assert re.search(r"<td class=\"num\">2</td>", funk)


def test_targets_are_ranked_fastest_first_with_not_reached_last(sample_html: str) -> None:
    body = sample_html.split('<table class="data targets">', 1)[1].split("</tbody>", 1)[0]
    order = re.findall(r'<span class="name">([^<]+)</span>', body)
    assert order[0] == "Netzwelle Fiber"
    assert set(order[-2:]) == {"Warenkorb24 GmbH &amp; Co. KG", "FunkFix"}


def test_evidence_table_has_one_row_per_probe(sample_html: str) -> None:
    table = sample_html.split('<table class="data evidence">', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    assert len(re.findall(r"<tr[ >]", body)) == 40
    assert body.count('class="unsent"') == 4
    assert "2025-03-03 08:00:01.234" in body
    assert "smtp-inbound-ms" in body
    assert "imap-internaldate" in body
    assert body.count("censored</span>") == 11


def test_charts_are_inline_svg(sample_html: str) -> None:
    page = parse(sample_html)
    svgs = page.find("svg")
    assert len(svgs) == 1 + len(TARGETS) + 1  # the overall bar, one bar per target, the survival plot
    assert all(a.get("preserveaspectratio") == "none" for a in svgs)
    assert page.find("div", **{"class": "bars", "role": "img"})
    assert page.find("div", **{"class": "surv", "role": "img"})
    assert len(page.find("path", **{"class": "curve-human"})) == 1


def test_renders_edge_cases_without_data() -> None:
    env = template_env(None)
    empty = render_html([], sample_meta(), env)
    assert "No inquiry has been sent yet" in empty
    _assert_inert(empty)
    unsent = [replace(o, sent_at=None, horizon_at=None, state="blocked") for o in sample_outcomes()[:3]]
    html = render_html(unsent, sample_meta(wait_limits={}), env)
    assert "not recorded" in html
    _assert_inert(html)
    silent = [
        make_outcome(
            probe_id=f"s{i}",
            first_response_at=None,
            first_response_class=None,
            first_human_at=None,
            response_s=None,
            human_response_s=None,
            human_response_business_s=None,
            censored=True,
        )
        for i in range(3)
    ]
    html = render_html(silent, sample_meta(), env)
    assert "not reached" in html
    _assert_inert(html)


def test_workspace_templates_override_packaged_ones_and_stay_escaped(tmp_path: Path) -> None:
    (tmp_path / "report.html.j2").write_text("<h1>{{ meta.title }}</h1>{{ lede }}", encoding="utf-8")
    env = template_env(tmp_path)
    html = render_html(sample_outcomes(), sample_meta(title="<b>Custom</b>"), env)
    assert html.startswith("<h1>&lt;b&gt;Custom&lt;/b&gt;</h1>")
    # Templates the workspace does not override still come from the package.
    assert env.get_template("report.md.j2") is not None


def test_write_reports_writes_both_files(tmp_path: Path) -> None:
    paths = write_reports(sample_outcomes(), sample_meta(), tmp_path / "out")
    assert paths.html == tmp_path / "out" / "report.html"
    assert paths.markdown == tmp_path / "out" / "report.md"
    assert paths.html.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert paths.markdown.read_text(encoding="utf-8").startswith("# ")
