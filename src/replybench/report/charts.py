"""The report's charts: HTML grids whose marks are inline SVG, built here in Python (no scripts, no network).

Every chart's marks are SVG drawn in a 1000-unit-wide viewBox stretched to the plot width
(``preserveAspectRatio="none"``, strokes with ``vector-effect="non-scaling-stroke"``, dots as zero-length
round-capped lines so they stay round), while every piece of text is HTML positioned in percent: text keeps
its CSS size from phone to desktop, with no second variant of a chart. Every text placed in a chart goes
through :func:`markupsafe.escape`, so reply-derived strings (target names come from the workspace, but are
treated the same) never become markup.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from replybench.analysis.summary import SurvivalCurve
from replybench.report.limits import CURVE_MAX_POINTS
from replybench.report.render import GroupRow, fmt_median, fmt_median_ci
from replybench.report.sections import (
    SPLIT_CATEGORIES,
    WEEKDAYS,
    Bucket,
    Curves,
    HeatCell,
    Heatmap,
    SplitRow,
    StripPoint,
)
from replybench.timefmt import format_duration

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
    return palette_of([r.industry for r in rows])


def palette_of(names: Iterable[str]) -> dict[str, str]:
    """A stable colour per distinct name (in alphabetical order)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(set(names)))}


# --------------------------------------------------------------------------------------------- charts
#
# Charts are HTML grids whose marks are inline SVG drawn in a 1000-unit-wide viewBox stretched to the plot
# width (preserveAspectRatio="none", strokes with vector-effect="non-scaling-stroke"), while every piece of
# text is HTML positioned in percent. Text thus stays at its CSS size from phone to desktop, with no second
# variant of the chart.

_W = 1000.0  # viewBox width of every plot
PANEL_MIN_DX = 4.0  # a small multiple is about 250 px wide: 4 viewBox units are about a pixel
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


def _gap_row(cls: str, text: str) -> str:
    """A row standing for the groups left out between the two ends of a capped chart."""
    return (
        f'<div class="{cls} chart-gap"><div class="{cls.split("-")[0]}-label"></div>'
        f'<div class="gap-text">{escape(text)}</div></div>'
    )


def median_chart(
    rows: Sequence[GroupRow],
    overall: GroupRow | None,
    colours: dict[str, str],
    horizon: float | None,
    *,
    gap: tuple[int, str] | None = None,
) -> Markup:
    """Median time to first human reply per group on a log axis with 95 % CI whiskers (HTML + inline SVG).

    Groups whose median was not reached get a faint dashed bar to the horizon; an open upper confidence
    limit ends in an arrow at the right edge. ``gap`` (position, text): a row saying what is left out there.
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
    gap_at = -1 if gap is None else gap[0] + (overall is not None)
    for position, (row, colour, is_overall) in enumerate(entries):
        if position == gap_at and gap is not None:
            html.append(_gap_row("bar-row", gap[1]))
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
    times: Sequence[float],
    values: Sequence[float],
    scale: LogScale,
    y: ShareScale,
    end: float,
    min_dx: float = 0.0,
) -> list[tuple[float, float]]:
    """Return the corner points of a step function starting at 1, ending at ``end``.

    With ``min_dx`` > 0, a step less than ``min_dx`` (viewBox units) right of the previous one is merged
    into it: the curve drops there to the later level. Drawn at a fraction of a pixel, it looks the same.
    """
    points = [(scale.x0, y(1.0))]
    for t, p in zip(times, values, strict=True):
        x = scale(t)
        if min_dx and len(points) > 1 and x - points[-1][0] < min_dx:
            points[-1] = (points[-1][0], y(p))
            continue
        points.append((x, points[-1][1]))
        points.append((x, y(p)))
    points.append((scale(end), points[-1][1]))
    return points


def _path(points: Sequence[tuple[float, float]]) -> str:
    return "M" + " L".join(f"{_n(x)} {_n(y)}" for x, y in points)


# --------------------------------------------------------------------------------------------- survival


@dataclass(frozen=True)
class KmLine:
    """One Kaplan–Meier curve in a chart: its colour and style, with an optional band and censoring ticks."""

    curve: SurvivalCurve
    colour: str
    css: str = "curve"
    width: float = 2.5
    dashed: bool = False
    band: bool = False
    censor_ticks: bool = False


def _share_at(curve: SurvivalCurve, t: float) -> float:
    """The curve's level at ``t`` (1 before its first step)."""
    i = bisect_right(curve.times, t)
    return curve.survival[i - 1] if i else 1.0


def _km_marks(lines: Sequence[KmLine], scale: LogScale, y: ShareScale, min_dx: float = 1.0) -> list[str]:
    """The SVG marks of Kaplan–Meier curves: bands first, then the curves and their censoring ticks.

    A curve with more than :data:`~replybench.report.limits.CURVE_MAX_POINTS` steps is drawn with steps
    and ticks at least ``min_dx`` viewBox units apart (about a pixel); smaller curves are drawn exactly.
    """

    def gap(c: SurvivalCurve) -> float:
        return min_dx if len(c.times) > CURVE_MAX_POINTS else 0.0

    marks: list[str] = []
    for line in lines:
        c = line.curve
        if not c.times:
            continue
        end = max(c.times)
        if line.band and c.events:
            lows = [p if math.isnan(v) else v for v, p in zip(c.low, c.survival, strict=True)]
            highs = [p if math.isnan(v) else v for v, p in zip(c.high, c.survival, strict=True)]
            upper = _steps(c.times, highs, scale, y, end, gap(c))
            lower = _steps(c.times, lows, scale, y, end, gap(c))
            marks.append(
                f'<path d="{_path([*upper, *reversed(lower)])} Z" class="band" style="fill: {line.colour}"/>'
            )
    for line in lines:
        c = line.curve
        if not c.times:
            continue
        points = _steps(c.times, c.survival, scale, y, max(c.times), gap(c))
        dash = ' stroke-dasharray="7 4"' if line.dashed else ""
        marks.append(
            f'<path d="{_path(points)}" class="{line.css}" style="stroke: {line.colour}; '
            f'stroke-width: {_n(line.width)}px" fill="none" stroke-linejoin="round"{dash} {_NSS}/>'
        )
        if line.censor_ticks:
            tick_gap = min_dx if len(c.censored_times) > CURVE_MAX_POINTS else 0.0
            last_x = -math.inf
            for t in c.censored_times:
                if tick_gap and scale(t) - last_x < tick_gap:
                    continue
                last_x = scale(t)
                share = _share_at(c, t)
                marks.append(
                    f'<line x1="{_n(scale(t))}" x2="{_n(scale(t))}" y1="{_n(y(share) - 6)}" '
                    f'y2="{_n(y(share) + 6)}" class="censor" style="stroke: {line.colour}" {_NSS}/>'
                )
    return marks


def _share_grid(y: ShareScale) -> list[str]:
    out = []
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        yy = _n(y(share))
        cls = "grid half" if share == 0.5 else "grid"
        out.append(f'<line x1="0" x2="{_n(_W)}" y1="{yy}" y2="{yy}" class="{cls}" {_NSS}/>')
    return out


def km_chart(
    lines: Sequence[KmLine], horizon: float | None, aria: str, *, domain: tuple[float, float]
) -> Markup:
    """Kaplan–Meier step curves (share still waiting) on a log time axis, with y labels and an x axis."""
    height = 300.0
    scale = LogScale(domain[0], domain[1], 0.0, _W)
    y = ShareScale(height)
    marks = [_grid_svg(scale, height, horizon), *_share_grid(y), *_km_marks(lines, scale, y)]
    y_labels = "".join(
        f'<span style="top: {(1 - share) * 100:.0f}%">{share * 100:.0f}\u00a0%</span>'
        for share in (0, 0.25, 0.5, 0.75, 1)
    )
    return Markup(  # noqa: S704 - the only text is the fixed aria label and tick labels
        f'<div class="surv" role="img" aria-label="{escape(aria)}">'
        f'<div class="surv-y" aria-hidden="true">{y_labels}</div>'
        f'<div class="surv-plot"><svg viewBox="0 0 {_n(_W)} {_n(height)}" preserveAspectRatio="none" '
        f'aria-hidden="true" focusable="false">{"".join(marks)}</svg></div>'
        f"<div></div>{_axis_html(scale, 'surv-x')}"
        '<div></div><div class="surv-title" aria-hidden="true">time since sent (log scale)</div>'
        "</div>"
    )


def curve_domain(curves: Sequence[SurvivalCurve], horizon: float | None) -> tuple[float, float]:
    """A shared log time domain for several curves and the wait limit."""
    return time_domain([t for c in curves for t in c.times], horizon)


def survival_chart(human: SurvivalCurve, any_reply: SurvivalCurve, horizon: float | None) -> Markup:
    """Share of probes still waiting for a first human reply (and for any reply) over time (HTML + SVG).

    Kaplan–Meier step curves on a log time axis; the human curve carries its 95 % band and tick marks where
    probes were censored.
    """
    lines = [
        KmLine(any_reply, "#94a3b8", css="curve-any", width=1.8),
        KmLine(human, "#1d4ed8", css="curve-human", band=True, censor_ticks=True),
    ]
    aria = "Share of probes still waiting for a first human reply over time (Kaplan–Meier), log time scale"
    return km_chart(lines, horizon, aria, domain=curve_domain([human, any_reply], horizon))


def channel_chart(channels: Sequence[Curves], colours: dict[str, str], horizon: float | None) -> Markup:
    """Kaplan–Meier curves per channel: first human reply solid (with its band), any first reply dashed."""
    lines: list[KmLine] = []
    for c in channels:
        colour = colours.get(c.key, PALETTE[0])
        lines.append(KmLine(c.any_reply, colour, css="curve-any", width=1.5, dashed=True))
        lines.append(KmLine(c.human, colour, css="curve-human", band=len(channels) <= 3, censor_ticks=True))
    domain = curve_domain([c.human for c in channels] + [c.any_reply for c in channels], horizon)
    aria = "Share of probes still waiting for a reply over time, per channel (Kaplan–Meier), log time scale"
    return km_chart(lines, horizon, aria, domain=domain)


_PANEL_TICKS = frozenset({1.0, 60.0, 3600.0, 86400.0, 7 * 86400.0, 30 * 86400.0})


def _panel_ticks(scale: LogScale) -> list[tuple[float, str]]:
    """Few labelled ticks for a small panel: the domain's ends and round units between, never crowded."""
    wanted = [
        (v, label)
        for v, label in _TICKS
        if scale.lo <= v <= scale.hi and (v in (scale.lo, scale.hi) or v in _PANEL_TICKS)
    ]
    out: list[tuple[float, str]] = []
    for i, (v, label) in enumerate(wanted):
        if out and scale(v) - scale(out[-1][0]) < 200:
            if i == len(wanted) - 1:
                out[-1] = (v, label)
            continue
        out.append((v, label))
    return out


def small_multiples(
    groups: Sequence[Curves],
    overall: SurvivalCurve,
    horizon: float | None,
    domain: tuple[float, float],
    *,
    gap: tuple[int, str] | None = None,
) -> Markup:
    """One small Kaplan–Meier panel per group on shared axes, the overall curve in grey behind each.

    Panels keep the order given (the league order), so the grid reads like the league table; each names its
    group, its median and how many of its sent probes a person answered. ``gap`` (position, text): a full-width
    line saying which groups are left out there.
    """
    height = 200.0
    scale = LogScale(domain[0], domain[1], 0.0, _W)
    y = ShareScale(height)
    grid = "".join([_grid_svg(scale, height, horizon), *_share_grid(y)])
    reference = "".join(
        _km_marks([KmLine(overall, "#cbd5e1", css="curve-ref", width=1.6)], scale, y, PANEL_MIN_DX)
    )
    ticks = _panel_ticks(scale)
    axis = "".join(f'<span style="left: {_pct(scale(v))}">{label}</span>' for v, label in ticks)
    panels: list[str] = []
    for position, g in enumerate(groups):
        if gap is not None and position == gap[0]:
            panels.append(
                f'<div class="mult-gap chart-gap"><div class="gap-text">{escape(gap[1])}</div></div>'
            )
        est = g.summary.first_human
        marks = _km_marks(
            [KmLine(g.human, "#1d4ed8", css="curve-human", width=2.2, band=True, censor_ticks=True)],
            scale,
            y,
            PANEL_MIN_DX,
        )
        name = escape(g.label)
        median = escape(fmt_median(est))
        ci = fmt_median_ci(est)
        tip = escape(f"{g.label}: median {fmt_median(est)}" + (f", 95 % CI {ci}" if ci else ""))
        answered = f"{est.events:,} of {est.n:,} answered"
        panels.append(
            f'<div class="mult" title="{tip}">'
            f'<div class="mult-head"><span class="mult-name">{name}</span></div>'
            f'<div class="mult-sub"><span class="mult-value{" muted" if est.median_s is None else ""}">{median}</span>'
            f" · {escape(answered)}</div>"
            f'<div class="mult-plot"><svg viewBox="0 0 {_n(_W)} {_n(height)}" preserveAspectRatio="none" '
            f'aria-hidden="true" focusable="false">{grid}{reference}{"".join(marks)}</svg></div>'
            f'<div class="mult-x" aria-hidden="true">{axis}</div>'
            "</div>"
        )
    aria = "Kaplan–Meier curves of the first human reply, one small panel per target, shared log time axis"
    return Markup(  # noqa: S704 - names and values escaped above
        f'<div class="multiples" role="img" aria-label="{aria}">{"".join(panels)}</div>'
    )


# --------------------------------------------------------------------------------------------- distribution


def bucket_chart(buckets: Sequence[Bucket]) -> Markup:
    """Grouped bars: first replies of any kind and first human replies per response-time bucket.

    The buckets are categories of equal width, labelled with their limits; the last one, set apart and
    hatched, counts the probes without such a reply by the wait limit.
    """
    height = 200.0
    top = max((max(b.any_reply, b.human) for b in buckets), default=0)
    top = max(top, 1)
    slot = _W / max(len(buckets), 1)
    bars: list[str] = []
    labels: list[str] = []
    counts: list[str] = []
    for i, b in enumerate(buckets):
        x0 = slot * i
        for j, (value, css) in enumerate(((b.any_reply, "bar-any"), (b.human, "bar-human"))):
            x = x0 + slot * (0.16 + 0.35 * j)
            w = slot * 0.33
            h = value / top * (height - 4)
            extra = " bar-censored" if b.censored else ""
            if value:
                bars.append(
                    f'<rect x="{_n(x)}" y="{_n(height - h)}" width="{_n(w)}" height="{_n(h)}" '
                    f'class="{css}{extra}"/>'
                )
            counts.append(
                f'<span class="{css}-n" style="left: {_pct(x + w / 2)}; bottom: {value / top * 100:.1f}%">'
                f"{value:,}</span>"
            )
        if b.censored:
            bars.append(_line(x0, x0, 0, height, "sep"))
        labels.append(
            f'<span class="{"censored" if b.censored else ""}" style="left: {_pct(x0)}; width: {_pct(slot)}">'
            f"{escape(b.label)}</span>"
        )
    aria = "Number of first replies and first human replies per response-time interval"
    return Markup(  # noqa: S704 - labels are fixed strings, escaped anyway
        f'<div class="buckets" role="img" aria-label="{aria}">'
        f'<div class="buckets-plot"><svg viewBox="0 0 {_n(_W)} {_n(height)}" preserveAspectRatio="none" '
        f'aria-hidden="true" focusable="false">{"".join(bars)}</svg>'
        f'<div class="buckets-n" aria-hidden="true">{"".join(counts)}</div></div>'
        f'<div class="buckets-x" aria-hidden="true">{"".join(labels)}</div>'
        "</div>"
    )


_LANES = (13.0, 6.0, 20.0)


def _strip_marks(points: Sequence[StripPoint], scale: LogScale) -> tuple[str, str]:
    """SVG dots of one strip row, vertically offset where they would overlap, and their text description."""
    placed: list[tuple[float, int]] = []
    marks: list[str] = []
    order = {"censored": 0, "bounced": 0, "auto": 1, "human": 2}
    for p in sorted(points, key=lambda p: (p.seconds, order[p.kind])):
        x = scale(p.seconds)
        lane = 0
        busy = {ln for px, ln in placed if abs(px - x) < 14}
        while lane in busy and lane < len(_LANES) - 1:
            lane += 1
        placed.append((x, lane))
        yy = _n(_LANES[lane])
        xx = _n(x)
        dot = f'<line x1="{xx}" x2="{xx}" y1="{yy}" y2="{yy}" {_NSS} class="dot dot-{p.kind}"/>'
        marks.append(dot)
        if p.kind in ("auto", "censored", "bounced"):
            marks.append(f'<line x1="{xx}" x2="{xx}" y1="{yy}" y2="{yy}" {_NSS} class="dot-hole"/>')
    tips = "; ".join(p.tip for p in points)
    return "".join(marks), tips


def strip_chart(
    rows: Sequence[tuple[str, Sequence[StripPoint]]],
    horizon: float | None,
    domain: tuple[float, float],
    *,
    gap: tuple[int, str] | None = None,
) -> Markup:
    """Every probe of every target on one log time axis, one row per target.

    Human replies are filled dots, earlier automatic replies hollow grey ones, probes without a human reply
    by the limit hollow rings at their censoring time (red when the inquiry bounced). ``gap`` (position,
    text): a row saying which targets are left out there.
    """
    height = 26.0
    scale = LogScale(domain[0], domain[1], 0.0, _W)
    grid = _grid_svg(scale, height, horizon)
    html: list[str] = []
    for position, (label, points) in enumerate(rows):
        if gap is not None and position == gap[0]:
            html.append(_gap_row("strip-row", gap[1]))
        marks, tips = _strip_marks(points, scale)
        html.append(
            f'<div class="strip-row" title="{escape(label + ": " + tips)}">'
            f'<div class="strip-label">{escape(label)}</div>'
            f'<div class="strip-plot"><svg viewBox="0 0 {_n(_W)} {_n(height)}" preserveAspectRatio="none" '
            f'aria-hidden="true" focusable="false">{grid}{marks}</svg></div>'
            "</div>"
        )
    html.append(
        f'<div class="strip-row strip-axis-row"><div class="strip-label"></div>{_axis_html(scale, "strip-axis")}</div>'
    )
    aria = "Every probe's first replies per target on a log time scale"
    return Markup(  # noqa: S704 - every text escaped above
        f'<div class="strip" role="img" aria-label="{aria}">{"".join(html)}</div>'
    )


# --------------------------------------------------------------------------------------------- heatmap

#: The heatmap's colour ramp, fast (light) to slow (dark): a single-hue blue, readable in greyscale print.
RAMP = ("#eef4ff", "#c7dbfb", "#8fb8f3", "#4f8be3", "#2160c4", "#123f8c", "#0b2557")


def _hex(c: str) -> tuple[int, int, int]:
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


def ramp_colour(frac: float) -> str:
    """The colour at ``frac`` (0–1) along :data:`RAMP`, linearly interpolated in sRGB."""
    frac = min(max(frac, 0.0), 1.0) * (len(RAMP) - 1)
    i = min(int(frac), len(RAMP) - 2)
    t = frac - i
    a, b = _hex(RAMP[i]), _hex(RAMP[i + 1])
    r, g, bl = (round(x + (y - x) * t) for x, y in zip(a, b, strict=True))
    return f"#{r:02x}{g:02x}{bl:02x}"


def _luminance(colour: str) -> float:
    r, g, b = (v / 255 for v in _hex(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@dataclass(frozen=True)
class ColourScale:
    """Maps a median in seconds to a ramp colour on a log scale between ``lo`` and ``hi``."""

    lo: float
    hi: float

    def frac(self, seconds: float) -> float:
        """The position of ``seconds`` on the scale (0–1)."""
        if self.hi <= self.lo:
            return 0.5
        value = min(max(seconds, self.lo), self.hi)
        return (math.log(value) - math.log(self.lo)) / (math.log(self.hi) - math.log(self.lo))

    def __call__(self, seconds: float) -> str:
        """The colour of ``seconds``."""
        return ramp_colour(self.frac(seconds))


def _cell(cell: HeatCell, scale: ColourScale, css: str) -> str:
    tip = escape(cell.tip)
    text = escape(cell.text)
    if cell.n == 0:
        return f'<div class="hm-cell hm-empty {css}" title="{tip}"></div>'
    if cell.estimate.median_s is None:
        return f'<div class="hm-cell hm-nr {css}" title="{tip}"><span>{text}</span></div>'
    colour = scale(cell.estimate.median_s)
    ink = "#ffffff" if _luminance(colour) < 0.45 else "#0f172a"
    return (
        f'<div class="hm-cell {css}" title="{tip}" style="background: {colour}; color: {ink}">'
        f"<span>{text}</span></div>"
    )


def heatmap_html(hm: Heatmap) -> Markup:
    """The weekday × hour heatmap as an HTML grid: colour = median time to a first human reply (log scale).

    Rows are weekdays, columns the hour the inquiry was sent (target's local time); a last column gives each
    weekday's median, a last row each hour's. Hatched cells: median not reached; blank cells: nothing sent.
    """
    medians = hm.medians
    scale = ColourScale(min(medians, default=60.0), max(medians, default=86400.0))
    parts: list[str] = ['<div class="hm-corner"></div>']
    parts += [
        f'<div class="hm-h{"" if h % 6 == 0 else " hm-minor" if h % 3 == 0 else " hm-minor hm-minor2"}">{h:02d}</div>'
        for h in range(24)
    ]
    parts.append('<div class="hm-h hm-total-h">All</div>')
    for d, row in enumerate(hm.rows):
        parts.append(f'<div class="hm-day">{WEEKDAYS[d]}</div>')
        parts += [_cell(c, scale, "") for c in row]
        parts.append(_cell(hm.weekday_totals[d], scale, "hm-total"))
    parts.append('<div class="hm-day hm-total-day">All</div>')
    parts += [_cell(c, scale, "hm-total-row") for c in hm.hour_totals]
    parts.append(_cell(hm.overall, scale, "hm-total hm-total-row"))
    stops = ", ".join(f"{c} {i / (len(RAMP) - 1) * 100:.0f}%" for i, c in enumerate(RAMP))
    lo, hi = escape(format_duration(scale.lo)), escape(format_duration(scale.hi))
    legend = (
        '<div class="hm-legend" aria-hidden="true">'
        f'<span class="hm-ramp-label">{lo}</span>'
        f'<span class="hm-ramp" style="background: linear-gradient(90deg, {stops})"></span>'
        f'<span class="hm-ramp-label">{hi}</span>'
        '<span class="hm-key"><span class="hm-swatch hm-nr"></span>median not reached</span>'
        '<span class="hm-key"><span class="hm-swatch hm-empty"></span>nothing sent</span>'
        "</div>"
    )
    aria = "Median time to a first human reply by weekday and hour the inquiry was sent, target local time"
    return Markup(  # noqa: S704 - cell texts and tips escaped above
        f'<div class="hm-wrap"><div class="hm" role="img" aria-label="{aria}">{"".join(parts)}</div></div>{legend}'
    )


# --------------------------------------------------------------------------------------------- ack split

#: Colours of the acknowledgement/human categories (Okabe–Ito; "nothing" neutral grey).
SPLIT_COLOURS = {"human": "#009E73", "both": "#56B4E9", "auto": "#E69F00", "none": "#CBD5E1"}


def split_bar(row: SplitRow) -> Markup:
    """A 100 % stacked bar of one target's sent probes by acknowledgement/human category (SVG)."""
    x = 0.0
    rects: list[str] = []
    for i, (key, _) in enumerate(SPLIT_CATEGORIES):
        w = row.share(i) * _W
        if w > 0:
            rects.append(f'<rect x="{_n(x)}" y="0" width="{_n(w)}" height="14" fill="{SPLIT_COLOURS[key]}"/>')
            x += w
    if not rects:
        rects.append(f'<rect x="0" y="0" width="{_n(_W)}" height="14" fill="#f1f5f9"/>')
    return Markup(  # noqa: S704 - numbers and fixed colours only
        f'<svg class="split-bar" viewBox="0 0 {_n(_W)} 14" preserveAspectRatio="none" aria-hidden="true" '
        f'focusable="false">{"".join(rects)}</svg>'
    )


def channel_colours(channels: Sequence[GroupRow]) -> dict[str, str]:
    """A stable colour per channel key, in the given order."""
    return {c.summary.key: PALETTE[i % len(PALETTE)] for i, c in enumerate(channels)}
