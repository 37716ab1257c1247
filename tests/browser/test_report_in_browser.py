"""The HTML report in a real Chromium: hostile reply content stays inert, nothing leaves the page, it lays out.

Every payload below tries to set ``window.__xss`` (and to open an alert); an init script turns that property
into a trap that reports every write to Python, so an execution is seen even if the page then navigates away.
Nothing may leave the page: every non-file request is aborted and recorded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from replybench.analysis.evidence import MessageRow
from replybench.analysis.outcome import Outcome
from replybench.browser import launch_browser
from replybench.report.render import write_reports
from tests.asynctest import async_test
from tests.report.sample_data import START, hostile_outcomes, make_outcome, sample_meta, sample_outcomes

if TYPE_CHECKING:  # Playwright is only needed to run these tests; the `chromium` fixture skips without it
    from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Dialog, Page, Request, Route

# TEST-NET-3 (RFC 5737): never routable, and in any case every non-file request is aborted and recorded.
REMOTE = "http://203.0.113.9"

#: Reply-derived strings an attacker controls, one per attack; each tries to set window.__xss.
PAYLOADS: dict[str, str] = {
    "script": "<script>window.__xss='script';alert(1)</script>",
    "img-onerror": "<img src=x onerror=\"window.__xss='img-onerror';alert(1)\">",
    "a-javascript": "<a href=\"javascript:window.__xss='a-javascript';alert(1)\">open</a>",
    "svg-onload": "<svg onload=\"window.__xss='svg-onload';alert(1)\">",
    "css-url-javascript": "<div style=\"background:url(javascript:window.__xss='css-url');\">x</div>",
    "css-expression": "<p style=\"width:expression(alert(1));x:expression(window.__xss='expression')\">x</p>",
    "remote-img": f'<img src="{REMOTE}/pixel.gif">',
    "iframe": (
        f'<iframe src="{REMOTE}/frame"></iframe>'
        "<iframe src=\"javascript:parent.__xss='iframe-js'\"></iframe>"
        "<iframe srcdoc=\"<script>parent.__xss='iframe-srcdoc'</script>\"></iframe>"
    ),
    "autofocus": "<input autofocus onfocus=\"window.__xss='autofocus';alert(1)\">",
    "breakout": "\"'></title></style></textarea></script><script>window.__xss='breakout';alert(1)</script>",
    "attr-breakout": 'x" onmouseover="window.__xss=\'attr\'" data-x="',
    "meta-refresh": f'<meta http-equiv="refresh" content="0;url={REMOTE}/refresh">',
    "remote-css": f"<link rel=stylesheet href={REMOTE}/x.css><style>@import '{REMOTE}/i.css';</style>",
    "object": "<object data=\"javascript:window.__xss='object'\"></object><embed src=x.swf>",
    "base": f'<base href="{REMOTE}/">',
}

#: Runs before any page script, in every frame: the __xss trap and the CSP-violation log. Both report to
#: Python through bindings, so an execution is seen even if it navigates the page away afterwards.
TRAP = """
(() => {
  let last;
  Object.defineProperty(window, '__xss', {
    configurable: false,
    get() { return last; },
    set(v) { last = String(v); window.__replybench_hit(last); },
  });
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__replybench_csp({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
  }, true);
})();
"""

#: Elements, attributes and URLs no payload may have produced (found in the live DOM after load).
DOM_AUDIT = """
() => {
  const URL_ATTRS = ['href', 'src', 'srcset', 'srcdoc', 'action', 'formaction', 'data', 'xlink:href',
                     'poster', 'background', 'ping'];
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (['iframe', 'object', 'embed', 'base', 'link', 'input', 'form', 'frame'].includes(tag)) found.push(tag);
    if (tag === 'meta' && el.httpEquiv && el.httpEquiv.toLowerCase() === 'refresh') found.push('meta refresh');
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on')) found.push(`${tag}[${name}]`);
      if (URL_ATTRS.includes(name) && !/^(#|data:)/.test(attr.value)) found.push(`${tag}[${name}=${attr.value}]`);
      if (name === 'style' && /expression|javascript:|url\\(/i.test(attr.value)) found.push(`${tag}[style]`);
    }
    if (tag === 'script' && el.textContent.includes('__xss')) found.push('script with payload');
  }
  return found;
}
"""


@dataclass
class Recorder:
    """Everything the page did that the tests care about."""

    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    failed: dict[str, str | None] = field(default_factory=dict)
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    navigations: list[str] = field(default_factory=list)
    hits: list[str] = field(default_factory=list)
    violations: list[dict[str, Any]] = field(default_factory=list)


async def open_report(
    browser: Browser, html: Path, width: int = 1280, height: int = 900
) -> tuple[Page, Recorder]:
    """Open a report file with the trap installed, every non-file request aborted and everything recorded."""
    rec = Recorder()
    context: BrowserContext = await browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=1,
        service_workers="block",
        java_script_enabled=True,  # the point: scripts could run, and none of the payloads may
    )
    context.set_default_timeout(5_000)
    await context.expose_binding("__replybench_hit", lambda _source, value: rec.hits.append(value))
    await context.expose_binding("__replybench_csp", lambda _source, value: rec.violations.append(value))
    await context.add_init_script(TRAP)

    async def route(r: Route) -> None:
        if r.request.url.startswith("file://"):
            await r.continue_()
        else:
            rec.blocked.append(r.request.url)
            await r.abort()

    async def dialog(d: Dialog) -> None:
        rec.dialogs.append(f"{d.type}: {d.message}")
        await d.dismiss()

    def request(req: Request) -> None:
        rec.requests.append(req.url)

    def console(msg: ConsoleMessage) -> None:
        rec.console.append(f"{msg.type}: {msg.text}")

    await context.route("**/*", route)
    context.on("request", request)
    context.on("requestfailed", lambda req: rec.failed.__setitem__(req.url, req.failure))
    page = await context.new_page()
    page.on("dialog", dialog)
    page.on("console", console)
    page.on("pageerror", lambda exc: rec.errors.append(str(exc)))
    page.on("framenavigated", lambda frame: rec.navigations.append(frame.url))
    await page.goto(html.as_uri(), wait_until="load")
    # Give delayed handlers (image errors, autofocus, a meta refresh) their chance; reach lazy content.
    from playwright.async_api import Error as PlaywrightError

    try:
        await page.mouse.move(width / 2, height / 2)
        await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        await page.keyboard.press("Tab")
    except PlaywrightError as exc:  # e.g. a meta refresh took the page away; assert_inert says where to
        rec.errors.append(f"could not interact with the page: {exc}")
    await page.wait_for_timeout(300)
    return page, rec


def hostile_report_outcomes() -> list[Outcome]:
    """The shared hostile fixture plus one probe per payload, carried in every field the report shows."""
    extra = [
        make_outcome(
            probe_id=f"p-x{i:02d}-{payload}",
            target_id=f"x{i:02d}",
            target_name=f"X{i:02d} {name} {payload}",
            industry="retail",
            first_response_class=payload,
            first_response_clock=payload,
            first_human_clock=payload,
            sent_clock=payload,
            state=payload,
            script_id=payload,
            persona_id=payload,
        )
        for i, (name, payload) in enumerate(PAYLOADS.items())
    ]
    # One payload as an industry too: industries appear in a table, the chart legend and the colours.
    extra.append(
        make_outcome(
            probe_id="p-industry", target_id="xind", target_name="Xind", industry=PAYLOADS["svg-onload"]
        )
    )
    return [*hostile_outcomes(), *extra]


def hostile_evidence() -> list[MessageRow]:
    """One matched reply per payload, the payload in every reply-derived field of the evidence rows."""
    return [
        MessageRow(
            probe_id=f"p-x{i:02d}-{payload}",
            message_store_id=i + 1,
            received_at=START + timedelta(hours=1),
            clock=payload,
            cls="human",
            rule=payload,
            confidence=0.9,
            evidence=payload,
            match_method=payload,
            message_id=f"<{name}@203.0.113.9>{payload}",
            subject=f"Re: {name} {payload}",
            excerpt=f"Dear customer, {payload} regards",
            after_horizon=i % 2 == 1,
        )
        for i, (name, payload) in enumerate(PAYLOADS.items())
    ]


def write_hostile_report(out_dir: Path) -> Path:
    """Write the HTML report of the hostile outcomes and evidence (notes hostile too); return its path."""
    meta = sample_meta(notes=tuple(PAYLOADS.values()))
    return write_reports(hostile_report_outcomes(), meta, out_dir, evidence=hostile_evidence()).html


def assert_inert(rec: Recorder, page_url: str) -> None:
    """No execution, no dialog, no request beyond the report file itself, no navigation."""
    assert rec.hits == [], f"payloads executed: {rec.hits}"
    assert rec.dialogs == [], f"dialogs opened: {rec.dialogs}"
    assert rec.blocked == [], f"requests tried to leave the page: {rec.blocked}"
    assert rec.requests == [page_url], f"requests beyond the report itself: {rec.requests}"
    assert set(rec.navigations) == {page_url}, f"the page navigated: {rec.navigations}"
    assert rec.errors == [], f"script errors: {rec.errors}"
    assert not [m for m in rec.console if "__xss" in m or "alert" in m], rec.console


@async_test
async def test_hostile_reply_content_is_inert_in_chromium(chromium: str, tmp_path: Path) -> None:
    html = write_hostile_report(tmp_path)
    async with launch_browser() as browser:
        page, rec = await open_report(browser, html)
        assert_inert(rec, html.as_uri())  # first: if the page navigated away, the checks below cannot run
        dom_findings: list[str] = await page.evaluate(DOM_AUDIT)
        text = await page.inner_text("body")
        title = await page.title()

    assert dom_findings == [], f"payload markup reached the DOM: {dom_findings}"
    # Escaped, not removed: the reader sees exactly what the company sent, as text.
    for name, payload in PAYLOADS.items():
        assert payload in text, f"payload {name!r} is not shown verbatim"
    assert f"X00 script {PAYLOADS['script']}" in text
    assert f"Re: script {PAYLOADS['script']}" in text, "the evidence rows' subjects are not shown"
    assert title == sample_meta().title
    # CSP violations would be allowed (the policy doing its job), but escaped text gives it nothing to refuse.
    assert rec.violations == [], rec.violations


#: Payloads a CSP cannot stop once they are in the DOM: a meta refresh navigates (escaping must stop it).
NOT_FOR_CSP = {"meta-refresh"}
#: Directives under which a remote URL may legitimately be refused (fetches, and the injected <base>).
_FETCH = {
    "base-uri",
    "img-src",
    "frame-src",
    "child-src",
    "style-src-elem",
    "style-src",
    "object-src",
    "default-src",
}


@async_test
async def test_csp_blocks_markup_that_escaping_would_have_missed(chromium: str, tmp_path: Path) -> None:
    """Second line of defence: markup injected into the live page still cannot run or fetch anything."""
    html = write_reports(sample_outcomes(), sample_meta(), tmp_path).html
    async with launch_browser() as browser:
        page, rec = await open_report(browser, html)
        await page.evaluate(
            """(payloads) => {
                 const box = document.createElement('div');
                 box.id = 'injected';
                 box.innerHTML = payloads.join('');
                 document.body.appendChild(box);
                 const s = document.createElement('script');  // innerHTML scripts never run; this one may try
                 s.textContent = "window.__xss = 'dom-script'";
                 document.body.appendChild(s);
               }""",
            [p for name, p in PAYLOADS.items() if name not in NOT_FOR_CSP],
        )
        await page.hover("#injected")
        await page.click("#injected a", no_wait_after=True)  # the javascript: link
        await page.wait_for_timeout(500)
        base_uri = await page.evaluate("document.baseURI")

        assert base_uri == html.as_uri(), "an injected <base> re-pointed the page's relative links"
        assert rec.hits == [], f"the CSP let injected code run: {rec.hits}"
        assert rec.dialogs == [], rec.dialogs
        # Chromium announces a request before its CSP check; what matters is that none reached the network
        # (the route, which sees every request that would, saw none) and each failed as refused by the CSP.
        assert rec.blocked == [], f"the CSP let requests through: {rec.blocked}"
        assert rec.requests[0] == html.as_uri()
        refused = {url: rec.failed.get(url) for url in rec.requests[1:]}
        assert refused, "the injected markup should have tried to fetch something"
        assert all("csp" in (why or "").lower() for why in refused.values()), refused
        assert f"{REMOTE}/pixel.gif" in refused
        violations = rec.violations
        directives = {v["directive"] for v in violations}
        assert "img-src" in directives, violations  # the remote pixel was refused by policy, not by luck
        assert directives & {"script-src-elem", "script-src"}, violations
        assert directives & {"script-src-attr", "script-src"}, violations
        assert "base-uri" in directives, violations
        assert not [v for v in violations if REMOTE in v["blocked"] and v["directive"] not in _FETCH], (
            violations
        )


#: Index of the "Target" column of the first table that has one, and that table's position among all tables.
FIND_TARGET_COLUMN = """
() => {
  const tables = [...document.querySelectorAll('table')];
  for (const [t, table] of tables.entries()) {
    if (!table.tHead) continue;
    const heads = [...table.tHead.rows[0].cells];
    const index = heads.findIndex((th) => th.textContent.trim() === 'Target');
    if (index >= 0) return [t, index];
  }
  return null;
}
"""


@async_test
async def test_sortable_tables_reorder_on_header_click(chromium: str, tmp_path: Path) -> None:
    html = write_hostile_report(tmp_path)
    if "<script" not in html.read_text(encoding="utf-8").lower():  # payloads are escaped: &lt;script
        pytest.skip("the report has no sortable-table script: nothing to click")
    async with launch_browser() as browser:
        page, rec = await open_report(browser, html)
        found: list[int] | None = await page.evaluate(FIND_TARGET_COLUMN)
        assert found is not None, "no table with a Target column"
        table_index, column = found
        table = page.locator("table").nth(table_index)
        rows = table.locator("tbody > tr")
        names = rows.locator(f":scope > :nth-child({column + 1}) .name")
        leftmost = rows.locator(":scope > :first-child")

        async def click_header(n: int) -> str | None:
            header = table.locator("thead th").nth(n)
            button = header.locator("button")
            await (button.first if await button.count() else header).click()
            return await header.get_attribute("aria-sort")

        async def leftmost_sorted_ascending() -> list[str]:
            """Sort by the first column (the rank), ascending, and return its cells."""
            if await click_header(0) == "descending":
                await click_header(0)
            return await leftmost.all_inner_texts()

        before = await names.all_inner_texts()
        ranks_before = await leftmost.all_inner_texts()
        first_state = await click_header(column)
        first = await names.all_inner_texts()
        second_state = await click_header(column)
        second = await names.all_inner_texts()
        ranks_after = await leftmost_sorted_ascending() if column else ranks_before

    assert len(before) > 3
    assert sorted(first) == sorted(before), "sorting lost or duplicated rows"
    assert first != before, "clicking the Target header did not reorder the rows"
    folded = [n.casefold() for n in first]
    assert folded in (sorted(folded), sorted(folded, reverse=True)), f"not sorted by target: {first}"
    assert second == list(reversed(first)), "a second click should reverse the order"
    assert {first_state, second_state} in ({None}, {"ascending", "descending"}), (
        "aria-sort must say which way"
    )
    assert ranks_after == ranks_before, "sorting by the first column again restores the original order"
    assert_inert(rec, html.as_uri())


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (and proof that it is a PNG)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("width", [1280, 390])
@async_test
async def test_screenshots_desktop_and_phone(chromium: str, tmp_path: Path, width: int) -> None:
    html = write_reports(sample_outcomes(), sample_meta(), tmp_path).html
    async with launch_browser() as browser:
        page, rec = await open_report(browser, html, width=width, height=800)
        await page.evaluate("window.scrollTo(0, 0)")
        shot = tmp_path / f"report-{width}.png"
        data = await page.screenshot(path=shot, full_page=True)
        overflow: int = await page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")

    assert shot.stat().st_size == len(data) > 10_000
    shot_width, shot_height = png_size(data)
    assert shot_width == width
    assert shot_height > 800, "a full-page screenshot of the whole report is taller than one screen"
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
    assert_inert(rec, html.as_uri())
