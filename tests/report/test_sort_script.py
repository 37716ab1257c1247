"""The sort script in a real browser: it runs under the report's CSP, sorts by data-sort, and nothing else runs.

Headless Chromium (Debian's ``chromium``) loads a rendered report to which the test adds two scripts: a driver
whose hash the test adds to the CSP (it clicks headers and records the row order), and an injected inline
script without a hash, which the CSP must block. Skipped where Chromium is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from replybench.report.html import render_html, script_hash
from replybench.report.render import template_env
from tests.report.htmlcheck import csp_of, parse
from tests.report.sample_data import report_outcomes, sample_evidence, sample_meta

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

DRIVER = """(function () {
  var out = {};
  var table = document.querySelector("table.league");
  var heads = table.tHead.rows[0].cells;
  function names() {
    return Array.prototype.map.call(table.tBodies[0].rows, function (r) {
      return r.cells[1].querySelector(".name").textContent;
    });
  }
  out.buttons = table.querySelectorAll("thead button.sort-button").length;
  heads[5].querySelector("button").click();
  out.byMedian = names();
  out.aria = heads[5].getAttribute("aria-sort");
  heads[5].querySelector("button").click();
  out.byMedianDesc = names();
  heads[1].querySelector("button").click();
  out.byName = names();
  out.injected = document.documentElement.getAttribute("data-injected");
  document.body.setAttribute("data-result", JSON.stringify(out));
})();"""

INJECTED = 'document.documentElement.setAttribute("data-injected", "ran");'


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_sort_script_runs_under_the_csp_and_nothing_else_does(tmp_path: Path) -> None:
    outcomes = report_outcomes()
    html = render_html(outcomes, sample_meta(), template_env(None), sample_evidence(outcomes))
    assert "script-src " in csp_of(parse(html))
    page = html.replace("script-src ", f"script-src {script_hash(DRIVER)} ", 1)  # the meta CSP comes first
    page = page.replace("</body>", f"<script>{INJECTED}</script><script>{DRIVER}</script></body>")
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    assert CHROMIUM is not None
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=2000",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    dom = parse(result.stdout)
    (body,) = dom.find("body")
    assert body.get("data-result"), f"the driver did not run: {result.stderr[-2000:]}"
    out = json.loads(body["data-result"] or "{}")
    assert out["buttons"] == 12, "every header of the league table became a sort button"
    assert out["aria"] == "ascending"
    by_median = out["byMedian"]
    assert by_median[:3] == ["Netzwelle Fiber", "Alpenkasse", "Shopline"]
    assert set(by_median[-2:]) == {"Warenkorb24 GmbH & Co. KG", "FunkFix"}, "not reached sorts last"
    assert out["byMedianDesc"][:2] == ["Warenkorb24 GmbH & Co. KG", "FunkFix"]
    assert out["byName"] == sorted(by_median, key=str.casefold)
    assert out["injected"] is None, "an inline script without the hash must not run"
