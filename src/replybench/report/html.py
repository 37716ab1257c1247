"""The HTML report: one self-contained file (inline CSS, inline SVG charts, no scripts, no network).

Charts are built here in Python: their marks are inline SVG, their text is HTML (see the note above
:func:`median_chart`). Every piece of text placed in them is escaped with :func:`markupsafe.escape`; the
template escapes everything else through autoescaping, so reply-derived strings can never become markup. The
page's Content-Security-Policy forbids scripts and every external resource.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import jinja2
from markupsafe import Markup, escape

from replybench.analysis.outcome import Outcome
from replybench.analysis.summary import SurvivalCurve, km_curve, timing_data
from replybench.report.render import GroupRow, ReportMeta, fmt_median, fmt_median_ci, report_context
from replybench.timefmt import format_duration

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""The Content-Security-Policy of the report: no scripts, no fetches, inline styles and data: images only."""

#: Industry colours: the Okabe–Ito palette, distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#8C6D00", "#6B7280")
OVERALL_COLOUR = "#334155"

_TICKS: tuple[tuple[float, str], ...] = (
    (0.1, "100 ms"),
    (1, "1 s"),
    (10, "10 s"),
    (60, "1 min"),
    (300, "5 min"),
    (900, "15 min"),
    (3600, "1 h"),
    (4 * 3600, "4 h"),
    (12 * 3600, "12 h"),
    (86400, "1 d"),
    (2 * 86400, "2 d"),
    (7 * 86400, "7 d"),
    (14 * 86400, "14 d"),
    (30 * 86400, "30 d"),
    (90 * 86400, "90 d"),
    (365 * 86400, "1 y"),
)


def _n(value: float) -> str:
    """Format a coordinate with one decimal, without a trailing '.0'."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class LogScale:
    """Maps seconds to x on a logarithmic axis; values outside [lo, hi] are clamped to the edges."""

    lo: float
    hi: float
    x0: float
    x1: float

    def __call__(self, seconds: float) -> float:
        """Return the x coordinate of ``seconds``."""
        value = min(max(seconds, self.lo), self.hi)
        frac = (math.log(value) - math.log(self.lo)) / (math.log(self.hi) - math.log(self.lo))
        return self.x0 + frac * (self.x1 - self.x0)

    def ticks(self, min_gap: float) -> list[tuple[float, str]]:
        """Return the round ticks inside the domain, thinned so labels are at least ``min_gap`` apart."""
        out: list[tuple[float, str]] = []
        for value, label in _TICKS:
            if self.lo <= value <= self.hi and (not out or self(value) - self(out[-1][0]) >= min_gap):
                out.append((value, label))
        return out


def time_domain(values: Sequence[float | None], horizon: float | None) -> tuple[float, float]:
    """Return a round log-axis domain covering the positive ``values`` and the horizon."""
    positive = [v for v in values if v is not None and v > 0]
    if horizon is not None and horizon > 0:
        positive.append(horizon)
    if not positive:
        return 60.0, 7 * 86400.0
    small, large = min(positive), max(positive)
    lo = max((t for t, _ in _TICKS if t <= small), default=_TICKS[0][0])
    hi = min((t for t, _ in _TICKS if t >= large), default=large)
    if hi <= lo:
        hi = lo * 10
    return float(lo), float(hi)


def industry_colours(rows: Sequence[GroupRow]) -> dict[str, str]:
    """Return a stable colour per industry (industries in alphabetical order)."""
    names = sorted({r.industry for r in rows})
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


# --------------------------------------------------------------------------------------------- charts
#
# Charts are HTML grids whose marks are inline SVG drawn in a 1000-unit-wide viewBox stretched to the plot
# width (preserveAspectRatio="none", strokes with vector-effect="non-scaling-stroke"), while every piece of
# text is HTML positioned in percent. Text thus stays at its CSS size from phone to desktop, with no second
# variant of the chart.

_W = 1000.0  # viewBox width of every plot
_NSS = 'vector-effect="non-scaling-stroke"'


def _line(x1: float, x2: float, y1: float, y2: float, cls: str) -> str:
    """Return an SVG line whose stroke keeps its width however the plot is stretched."""
    return f'<line x1="{_n(x1)}" x2="{_n(x2)}" y1="{_n(y1)}" y2="{_n(y2)}" class="{cls}" {_NSS}/>'


def _pct(x: float) -> str:
    """Format a viewBox x (0–1000) as a CSS percentage."""
    return f"{x / _W * 100:.2f}%"


def _axis_html(scale: LogScale, cls: str) -> str:
    """Tick labels in percent; those that would crowd a phone-width plot carry the class ``minor``."""
    ticks = scale.ticks(85)
    major: list[float] = []
    for value, _ in ticks:
        if not major or scale(value) - scale(major[-1]) >= 170:
            major.append(value)
    minor = ' class="minor"'
    labels = "".join(
        f'<span{"" if value in major else minor} style="left: {_pct(scale(value))}">{label}</span>'
        for value, label in ticks
    )
    return f'<div class="{cls}" aria-hidden="true">{labels}</div>'


def _grid_svg(scale: LogScale, height: float, horizon: float | None) -> str:
    lines = [
        f'<line x1="{_n(scale(v))}" x2="{_n(scale(v))}" y1="0" y2="{_n(height)}" class="grid" {_NSS}/>'
        for v, _ in scale.ticks(85)
    ]
    if horizon is not None and scale.lo < horizon <= scale.hi:
        x = _n(scale(horizon))
        lines.append(f'<line x1="{x}" x2="{x}" y1="0" y2="{_n(height)}" class="limit" {_NSS}/>')
    return "".join(lines)


def median_chart(
    rows: Sequence[GroupRow],
    overall: GroupRow | None,
    colours: dict[str, str],
    horizon: float | None,
) -> Markup:
    """Median time to first human reply per group on a log axis with 95 % CI whiskers (HTML + inline SVG).

    Groups whose median was not reached get a faint dashed bar to the horizon; an open upper confidence
    limit ends in an arrow at the right edge.
    """
    entries: list[tuple[GroupRow, str, bool]] = []
    if overall is not None:
        entries.append((overall, OVERALL_COLOUR, True))
    entries.extend((r, colours.get(r.industry, PALETTE[0]), False) for r in rows)
    estimates = [e.summary.first_human for e, _, _ in entries]
    lo, hi = time_domain([v for est in estimates for v in (est.median_s, est.low_s, est.high_s)], horizon)
    scale = LogScale(lo, hi, 0.0, _W)
    row_h, bar_y, bar_h = 30.0, 8.0, 14.0
    mid = bar_y + bar_h / 2
    grid = _grid_svg(scale, row_h, horizon)

    html: list[str] = []
    for row, colour, is_overall in entries:
        est = row.summary.first_human
        marks: list[str] = [grid]
        if est.median_s is not None:
            end = scale(max(est.median_s, lo))
            marks.append(
                f'<rect x="0" y="{_n(bar_y)}" width="{_n(max(end, 3.0))}" height="{_n(bar_h)}" '
                f'fill="{colour}"/>'
            )
        elif est.n:
            end = scale(horizon if horizon is not None else hi)
            marks.append(
                f'<rect x="0" y="{_n(bar_y)}" width="{_n(max(end, 3.0))}" height="{_n(bar_h)}" '
                f'fill="{colour}" fill-opacity="0.12" stroke="{colour}" stroke-opacity="0.6" '
                f'stroke-dasharray="4 3" {_NSS}/>'
            )
        if est.events and est.low_s is not None:
            wl = scale(max(est.low_s, lo))
            wh = _W if est.high_s is None else scale(max(est.high_s, lo))
            marks.append(_line(wl, wh, mid, mid, "whisker"))
            marks.append(_line(wl, wl, mid - 5, mid + 5, "whisker"))
            if est.high_s is not None:
                marks.append(_line(wh, wh, mid - 5, mid + 5, "whisker"))
        arrow = (
            '<span class="open-arrow" title="upper confidence limit not reached"></span>'
            if est.events and est.high_s is None
            else ""
        )
        value = escape(fmt_median(est))
        label = escape(row.summary.label)
        ci = fmt_median_ci(est)
        tip = escape(f"{row.summary.label}: median {fmt_median(est)}" + (f", 95 % CI {ci}" if ci else ""))
        html.append(
            f'<div class="bar-row{" bar-overall" if is_overall else ""}" title="{tip}">'
            f'<div class="bar-label">{label}</div>'
            f'<div class="bar-plot">{arrow}<svg viewBox="0 0 {_n(_W)} {_n(row_h)}" '
            f'preserveAspectRatio="none" aria-hidden="true" focusable="false">{"".join(marks)}</svg></div>'
            f'<div class="bar-value{" muted" if est.median_s is None else ""}">{value}</div>'
            "</div>"
        )
    html.append(
        '<div class="bar-row bar-axis-row"><div class="bar-label"></div>'
        f'{_axis_html(scale, "bar-axis")}<div class="bar-value"></div></div>'
    )
    aria = "Median time to first human reply per target, log scale, with 95 % confidence intervals"
    return Markup(  # noqa: S704 - every interpolated text is escaped above
        f'<div class="bars" role="img" aria-label="{aria}">' + "".join(html) + "</div>"
    )


@dataclass(frozen=True)
class ShareScale:
    """Maps a share (0–1) to y in a plot of the given height (1 at the top)."""

    height: float

    def __call__(self, share: float) -> float:
        """Return the y coordinate of ``share``."""
        return (1.0 - min(max(share, 0.0), 1.0)) * self.height


def _steps(
    times: Sequence[float], values: Sequence[float], scale: LogScale, y: ShareScale, end: float
) -> list[tuple[float, float]]:
    """Return the corner points of a step function starting at 1, ending at ``end``."""
    points = [(scale.x0, y(1.0))]
    for t, p in zip(times, values, strict=True):
        x = scale(t)
        points.append((x, points[-1][1]))
        points.append((x, y(p)))
    points.append((scale(end), points[-1][1]))
    return points


def _path(points: Sequence[tuple[float, float]]) -> str:
    return "M" + " L".join(f"{_n(x)} {_n(y)}" for x, y in points)


def survival_chart(human: SurvivalCurve, any_reply: SurvivalCurve, horizon: float | None) -> Markup:
    """Share of probes still waiting for a first human reply (and for any reply) over time (HTML + SVG).

    Kaplan–Meier step curves on a log time axis; the human curve carries its 95 % band and tick marks where
    probes were censored.
    """
    height = 300.0
    lo, hi = time_domain([*human.times, *any_reply.times], horizon)
    scale = LogScale(lo, hi, 0.0, _W)
    y = ShareScale(height)
    marks: list[str] = [_grid_svg(scale, height, horizon)]
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        yy = _n(y(share))
        cls = "grid half" if share == 0.5 else "grid"
        marks.append(f'<line x1="0" x2="{_n(_W)}" y1="{yy}" y2="{yy}" class="{cls}" {_NSS}/>')

    if human.times and human.events:
        lows = [p if math.isnan(v) else v for v, p in zip(human.low, human.survival, strict=True)]
        highs = [p if math.isnan(v) else v for v, p in zip(human.high, human.survival, strict=True)]
        upper = _steps(human.times, highs, scale, y, max(human.times))
        lower = _steps(human.times, lows, scale, y, max(human.times))
        marks.append(f'<path d="{_path([*upper, *reversed(lower)])} Z" class="band"/>')
    if any_reply.times:
        points = _steps(any_reply.times, any_reply.survival, scale, y, max(any_reply.times))
        marks.append(f'<path d="{_path(points)}" class="curve-any" {_NSS}/>')
    if human.times:
        points = _steps(human.times, human.survival, scale, y, max(human.times))
        marks.append(f'<path d="{_path(points)}" class="curve-human" {_NSS}/>')
        for t in human.censored_times:
            share = 1.0  # the estimate at t: the last step at or before t
            for tt, p in zip(human.times, human.survival, strict=True):
                if tt > t:
                    break
                share = p
            marks.append(_line(scale(t), scale(t), y(share) - 6, y(share) + 6, "censor"))

    y_labels = "".join(
        f'<span style="top: {(1 - share) * 100:.0f}%">{share * 100:.0f}\u00a0%</span>'
        for share in (0, 0.25, 0.5, 0.75, 1)
    )
    aria = "Share of probes still waiting for a first human reply over time (Kaplan–Meier), log time scale"
    return Markup(  # noqa: S704 - no untrusted text in this chart
        f'<div class="surv" role="img" aria-label="{aria}">'
        f'<div class="surv-y" aria-hidden="true">{y_labels}</div>'
        f'<div class="surv-plot"><svg viewBox="0 0 {_n(_W)} {_n(height)}" preserveAspectRatio="none" '
        f'aria-hidden="true" focusable="false">{"".join(marks)}</svg></div>'
        f"<div></div>{_axis_html(scale, 'surv-x')}"
        '<div></div><div class="surv-title" aria-hidden="true">time since sent (log scale)</div>'
        "</div>"
    )


# --------------------------------------------------------------------------------------------- page


def html_context(outcomes: Sequence[Outcome], meta: ReportMeta) -> dict[str, object]:
    """Return the report view model plus the HTML-only parts: the CSP, industry colours and the charts.

    The charts' time axis ends at the longest wait limit (or, without any, the longest horizon seen).
    """
    ctx = report_context(outcomes, meta)
    targets: list[GroupRow] = ctx["targets"]
    overall: GroupRow = ctx["overall"]
    colours = industry_colours(targets)
    horizon = max(meta.wait_limits.values(), default=None)
    if horizon is None:
        spans = [s for o in outcomes if (s := o.observed_for_s()) is not None]
        horizon = max(spans, default=None)
    human = km_curve(*timing_data(outcomes, "first_human")[:2])
    any_reply = km_curve(*timing_data(outcomes, "first_response")[:2])
    ctx.update(
        csp=CSP,
        colours=sorted(colours.items()),
        overall_colour=OVERALL_COLOUR,
        median_chart=median_chart(targets, overall, colours, horizon),
        survival_chart=survival_chart(human, any_reply, horizon),
        horizon_label="" if horizon is None else format_duration(horizon),
        has_data=bool(human.n),
    )
    return ctx


def render_html(outcomes: Sequence[Outcome], meta: ReportMeta, env: jinja2.Environment) -> str:
    """Render the self-contained HTML report (template ``report.html.j2``)."""
    return env.get_template("report.html.j2").render(**html_context(outcomes, meta))
