"""The HTML report: one self-contained file (inline CSS, inline SVG charts, one small hashed script).

Charts are built in :mod:`replybench.report.charts`; every text placed in them is escaped there, and the
template escapes everything else through autoescaping, so reply-derived strings can never become markup.

The only script is :data:`SORT_SCRIPT`, which makes tables with the class ``sortable`` sortable by clicking
a header. The page's Content-Security-Policy allows exactly that script by its SHA-256 hash (computed at
render time from the text that is written into the page) and forbids every other script, inline handler and
external resource, so even markup that slipped through escaping could not run. Without JavaScript the
tables read as they are, in their documented order.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

import jinja2
import numpy as np
from markupsafe import Markup

from replybench.analysis.evidence import MessageRow
from replybench.analysis.outcome import Outcome
from replybench.analysis.summary import SurvivalCurve
from replybench.report.charts import (
    OVERALL_COLOUR,
    SPLIT_COLOURS,
    bucket_chart,
    channel_chart,
    channel_colours,
    curve_domain,
    heatmap_html,
    median_chart,
    palette_of,
    small_multiples,
    split_bar,
    strip_chart,
    survival_chart,
    time_domain,
)
from replybench.report.limits import STRIP_MAX_PROBES
from replybench.report.render import GroupRow, LeagueRow, ReportData, ReportMeta, build_report
from replybench.report.sections import Curves, StripPoint, curve_of, strip_points, strip_sample
from replybench.timefmt import format_duration

SORT_SCRIPT = """(function () {
  "use strict";
  function key(cell) {
    var s = cell.getAttribute("data-sort");
    if (s === null) { s = cell.textContent.replace(/\\s+/g, " ").trim(); }
    if (s === "") { return null; }
    var n = Number(s);
    return isNaN(n) ? s.toLowerCase() : n;
  }
  function compare(a, b) {
    if (typeof a !== typeof b) { return typeof a === "number" ? -1 : 1; }
    if (typeof a === "string") { return a.localeCompare(b, undefined, { numeric: true }); }
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  function sortBy(table, index, th) {
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) { heads[i].removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.map.call(body.rows, function (row, i) {
      return { row: row, key: row.cells.length > index ? key(row.cells[index]) : null, i: i };
    });
    rows.sort(function (a, b) {
      if (a.key === null || b.key === null) { return (a.key === null) - (b.key === null) || a.i - b.i; }
      return (ascending ? 1 : -1) * compare(a.key, b.key) || a.i - b.i;
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, index, th); });
    });
    table.classList.add("sorting");
  });
})();"""
"""The page's only script: click a header of a ``table.sortable`` to sort its body rows by that column.

A cell sorts by its ``data-sort`` attribute when it has one (numbers compare as numbers, "Infinity" last),
else by its text; empty values always go last; a second click reverses the order; ties keep their order.
"""


def script_hash(script: str) -> str:
    """The CSP source expression allowing an inline script by content: ``'sha256-<base64>'``."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(script: str = SORT_SCRIPT) -> str:
    """The report's Content-Security-Policy: nothing external, inline styles, data: images, one script."""
    return (
        f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src {script_hash(script)}; "
        "base-uri 'none'; form-action 'none'"
    )


CSP = content_security_policy(SORT_SCRIPT)
"""The Content-Security-Policy of the packaged report (:func:`content_security_policy` of the sort script)."""


def _strip_rows(
    data: ReportData, rows: Sequence[LeagueRow]
) -> tuple[list[tuple[str, list[StripPoint]]], int]:
    """The dot strip of the targets ``rows``: their probes' marks (sampled beyond STRIP_MAX_PROBES per target).

    Returns the rows and how many targets had probes left out of their strip.
    """
    table = data.table
    keys, _, codes = table.group("target")
    wanted = {r.row.summary.key for r in rows}
    position = {k: i for i, k in enumerate(keys) if k in wanted}
    members: dict[str, list[Outcome]] = {k: [] for k in position}
    if position:
        mask = np.zeros(len(keys), dtype=bool)
        mask[list(position.values())] = True
        for i in np.flatnonzero(mask[codes]).tolist():
            members[keys[int(codes[i])]].append(table.rows[i])
    out: list[tuple[str, list[StripPoint]]] = []
    sampled = 0
    for r in rows:
        probes = members.get(r.row.summary.key, [])
        shown = strip_sample(probes, STRIP_MAX_PROBES)
        sampled += len(shown) < sum(1 for o in probes if o.was_sent)
        out.append((r.row.summary.label, strip_points(shown)))
    return out, sampled


def _target_curves(data: ReportData, rows: Sequence[LeagueRow]) -> list[Curves]:
    """Kaplan–Meier curves of the first human reply of the targets ``rows`` (estimated on their rows only)."""
    table = data.table
    keys, _, codes = table.group("target")
    index = {k: i for i, k in enumerate(keys)}
    slots = np.full(len(keys), -1, dtype=np.int64)
    for j, r in enumerate(rows):
        if r.row.summary.key in index:
            slots[index[r.row.summary.key]] = j
    empty = SurvivalCurve((), (), (), (), (), 0, 0)
    if not table.n:
        return [Curves(r.row.summary.key, r.row.summary.label, empty, empty, r.row.summary) for r in rows]
    km = table.km("first_human", slots[codes], len(rows))
    return [
        Curves(r.row.summary.key, r.row.summary.label, curve_of(km, j), empty, r.row.summary)
        for j, r in enumerate(rows)
    ]


def html_context(
    outcomes: Sequence[Outcome],
    meta: ReportMeta,
    evidence: Sequence[MessageRow] = (),
    *,
    data: ReportData | None = None,
) -> dict[str, object]:
    """Return the report view model plus the HTML-only parts: CSP, script, colours and the charts.

    The charts' time axis ends at the longest wait limit (or, without any, the longest horizon seen).
    ``data`` is the shared computation (:func:`~replybench.report.render.build_report`) when the caller has it.
    """
    data = data or build_report(outcomes, meta, evidence)
    ctx = dict(data.context)
    chart_rows: list[LeagueRow] = ctx["chart_league"]
    overall: GroupRow = ctx["overall"]
    channels: list[GroupRow] = ctx["channels"]
    colours = palette_of(data.industries_of.values())
    horizon = max(meta.wait_limits.values(), default=None)
    if horizon is None:
        spans = data.table.cols.observed_s
        horizon = float(np.nanmax(spans)) if np.any(~np.isnan(spans)) else None
    human = data.overall_human
    any_reply = data.overall_any
    target_curves = _target_curves(data, chart_rows)
    km_domain = curve_domain([human, *(c.human for c in target_curves)], horizon)
    strip_rows, sampled = _strip_rows(data, chart_rows)
    strip_values = [p.seconds for _, points in strip_rows for p in points]
    ch_colours = channel_colours(channels)
    gap = (ctx["chart_head"], ctx["chart_gap"]) if ctx["chart_gap"] else None
    if sampled:
        ctx["strip_note"] = (
            f"Rows of targets with more than {STRIP_MAX_PROBES} sent inquiries show {STRIP_MAX_PROBES} of them, "
            "every k-th in order of time, so that the marks keep the shape of the distribution."
        )
    ctx.update(
        csp=content_security_policy(SORT_SCRIPT),
        sort_script=Markup(SORT_SCRIPT),  # noqa: S704 - a constant of this module, hashed into the CSP
        colours=sorted(colours.items()),
        overall_colour=OVERALL_COLOUR,
        channel_colours=[(c.summary.label, ch_colours[c.summary.key]) for c in channels],
        split_colours=SPLIT_COLOURS,
        median_chart=median_chart([r.row for r in chart_rows], overall, colours, horizon, gap=gap),
        survival_chart=survival_chart(human, any_reply, horizon),
        target_multiples=small_multiples(target_curves, human, horizon, km_domain, gap=gap),
        channel_chart=channel_chart(data.channel_curves, ch_colours, horizon),
        bucket_chart=bucket_chart(ctx["buckets"]),
        strip_chart=strip_chart(strip_rows, horizon, time_domain(strip_values, horizon), gap=gap),
        heatmap_chart=heatmap_html(ctx["heatmap"]),
        split_bars=[split_bar(r) for r in ctx["split"]],
        horizon_label="" if horizon is None else format_duration(horizon),
        has_data=bool(human.n),
    )
    return ctx


def render_html(
    outcomes: Sequence[Outcome],
    meta: ReportMeta,
    env: jinja2.Environment,
    evidence: Sequence[MessageRow] = (),
    *,
    data: ReportData | None = None,
) -> str:
    """Render the self-contained HTML report (template ``report.html.j2``); ``data`` as in :func:`html_context`."""
    return env.get_template("report.html.j2").render(**html_context(outcomes, meta, evidence, data=data))
