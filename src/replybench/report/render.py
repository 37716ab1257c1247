"""Report metadata, the Jinja environment, the view model the HTML and Markdown reports share, the writer.

The view model (:func:`report_context`) turns the outcomes table into display values once, so that the HTML
and Markdown reports say exactly the same thing. Every string in it is plain text: escaping is the job of the
output format (autoescaping in HTML, :func:`md_escape` in Markdown).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from replybench import __version__
from replybench.analysis.outcome import Outcome
from replybench.analysis.summary import GroupSummary, Rate, TimeEstimate, summarize
from replybench.models import MessageClass
from replybench.timefmt import as_utc, format_duration, iso_ms


@dataclass(frozen=True)
class ReportMeta:
    """What a report is about: title, workspace, suites and runs covered, when it was made, wait limits.

    ``wait_limits`` maps each suite to its wait limit (the censoring horizon) in seconds; ``notes`` are free
    remarks shown in the Methods section.
    """

    title: str
    workspace: str
    suites: tuple[str, ...]
    runs: tuple[str, ...]
    generated_at: datetime
    wait_limits: Mapping[str, float]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportPaths:
    """Where :func:`write_reports` wrote the reports."""

    html: Path
    markdown: Path


# --------------------------------------------------------------------------------------------- definitions

#: The measurement definitions every report states in its Methods section (backticks mark field names).
DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "Sent at",
        "`sent_at` is when the company's side accepted the inquiry: the SMTP 250 reply after DATA.",
    ),
    (
        "Received at",
        "`received_at` is when our side received the reply, by the receiving server's clock: our inbound "
        "SMTP receipt time in milliseconds, or the IMAP INTERNALDATE in whole seconds. The clock source is "
        "recorded for every message.",
    ),
    ("Response time", "Response time = `received_at` − `sent_at`."),
    (
        "First response",
        "Any reply counts, automatic acknowledgements included; bounces and our own copies do not.",
    ),
    (
        "First human response",
        "Automatic acknowledgements, bounces, out-of-office and marketing mail are excluded. This is the "
        "headline measure.",
    ),
    (
        "Business time",
        "Counts only the target's opening hours in its own time zone, public holidays excluded.",
    ),
    (
        "Censoring",
        "A probe without a qualifying reply by its horizon (`sent_at` + wait limit) is right-censored at "
        "the horizon, never dropped. Bounced probes stay in the denominator.",
    ),
    (
        "Statistics",
        "Medians come from Kaplan–Meier estimates (95\u00a0% intervals by the Brookmeyer–Crowley method "
        "on the log-log band); response rates carry Wilson 95\u00a0% intervals. A median is “not reached” "
        "when fewer than half of the probes had a qualifying reply by their horizon.",
    ),
    (
        "Not sent",
        "Probes never sent (failed, uncertain, skipped, blocked) are excluded from timing and rates and "
        "counted separately.",
    ),
)


# --------------------------------------------------------------------------------------------- formatting


NBSP = "\u00a0"


def _dur(seconds: float) -> str:
    """Format a duration that does not break across lines ("4\u00a0h\u00a012\u00a0min")."""
    return format_duration(max(seconds, 0.0)).replace(" ", NBSP)


def fmt_pct(value: float | None) -> str:
    """Format a share as a whole percentage ("62 %", with a no-break space); "—" for None."""
    return "—" if value is None else f"{value * 100:.0f}{NBSP}%"


def fmt_rate(rate: Rate) -> str:
    """Format a rate with its count: "62 % (8/13)"; "—" when nothing was sent."""
    return "—" if rate.value is None else f"{fmt_pct(rate.value)} ({rate.k}/{rate.n})"


def fmt_rate_ci(rate: Rate) -> str:
    """Format the Wilson interval of a rate: "41–79 %"; empty when nothing was sent."""
    if rate.low is None or rate.high is None:
        return ""
    return f"{rate.low * 100:.0f}–{rate.high * 100:.0f}{NBSP}%"


def fmt_median(est: TimeEstimate) -> str:
    """Format a Kaplan–Meier median: "4 h 12 min", "not reached", or "—" when there is no estimate."""
    if est.n == 0:
        return "—"
    if est.median_s is None:
        return "not reached"
    return _dur(est.median_s)


def fmt_median_ci(est: TimeEstimate, *, compact: bool = False) -> str:
    """Format the 95 % interval of a median: "2 h 5 min – 9 h", "1 h – not reached", or empty.

    ``compact`` writes an open upper limit as "n.r." (tables explain the abbreviation).
    """
    if est.n == 0 or est.events == 0 or est.low_s is None:
        return ""
    open_high = "n.r." if compact else "not reached"
    high = open_high if est.high_s is None else _dur(est.high_s)
    return f"{_dur(est.low_s)} – {high}"


def fmt_time(value: datetime | None) -> str:
    """Format a timestamp for people, UTC with milliseconds: "2025-03-03 08:00:01.234"; "—" for None."""
    text = iso_ms(value)
    return "—" if text is None else text.replace("T", " ").removesuffix("Z")


_MD_SPACE = re.compile(r"[ \t\r\n\f\v]+")
_MD_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md_escape(value: object) -> str:
    """Escape a string for a GitHub-flavoured Markdown table cell or paragraph so that it renders as text.

    Emphasis, code, links, table pipes and HTML are neutralised, line breaks become spaces, and bare URLs
    are kept from turning into links.
    """
    text = "" if value is None else str(value)
    text = _MD_SPACE.sub(" ", text).strip(" ")  # no line breaks inside a table row; no-break spaces stay
    text = _MD_ENTITY.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("://", "\\://").replace("www.", "www\\.")


def inline_code_html(text: str) -> Markup:
    """Escape ``text`` for HTML, then render `backticked` spans as <code>."""
    escaped = str(escape(text))
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))  # noqa: S704 - input escaped above


# --------------------------------------------------------------------------------------------- view model


@dataclass(frozen=True)
class GroupRow:
    """Display values of one group (a target or an industry) in the report tables."""

    summary: GroupSummary
    industry: str
    sent: str
    response_rate: str
    response_rate_ci: str
    human_rate: str
    human_rate_ci: str
    first_response: str
    first_response_ci: str
    first_human: str
    first_human_ci: str
    business: str
    business_ci: str


@dataclass(frozen=True)
class ProbeRow:
    """Display values of one probe in the evidence table."""

    outcome: Outcome
    sent_at: str
    first_response_at: str
    first_response_after: str
    first_response_class: str
    tag: str
    first_human_at: str
    first_human_after: str
    clocks: tuple[tuple[str, str], ...]
    state: str
    censored: bool
    sent: bool


@dataclass(frozen=True)
class Headline:
    """One key figure of the summary."""

    label: str
    value: str
    detail: str


def group_row(summary: GroupSummary, industry: str) -> GroupRow:
    """Return the display values of one group summary (intervals in the compact form of tables).

    A business-time median computed without some censored probes (their business time at the horizon
    unknown) is only a lower bound: it is shown as "≥ …" without an interval.
    """
    business = fmt_median(summary.first_human_business)
    business_ci = fmt_median_ci(summary.first_human_business, compact=True)
    if summary.business_unknown and summary.first_human_business.median_s is not None:
        business, business_ci = f"≥{NBSP}{business}", "lower bound"
    return GroupRow(
        summary=summary,
        industry=industry,
        sent=f"{summary.sent}/{summary.planned}",
        response_rate=fmt_rate(summary.response_rate),
        response_rate_ci=fmt_rate_ci(summary.response_rate),
        human_rate=fmt_rate(summary.human_rate),
        human_rate_ci=fmt_rate_ci(summary.human_rate),
        first_response=fmt_median(summary.first_response),
        first_response_ci=fmt_median_ci(summary.first_response, compact=True),
        first_human=fmt_median(summary.first_human),
        first_human_ci=fmt_median_ci(summary.first_human, compact=True),
        business=business,
        business_ci=business_ci,
    )


def rank_key(summary: GroupSummary) -> tuple[int, float, float, str]:
    """Sort key of targets: fastest median first; medians not reached last, higher human reply rate first."""
    est = summary.first_human
    reached = est.median_s is not None
    rate = summary.human_rate.value or 0.0
    return (0 if reached else 1, est.median_s if est.median_s is not None else -rate, -rate, summary.label)


_KNOWN_CLASSES = frozenset(c.value for c in MessageClass)


def _probe_row(o: Outcome) -> ProbeRow:
    clocks = tuple(
        (name, clock)
        for name, clock in (
            ("sent", o.sent_clock),
            ("response", o.first_response_clock),
            ("human", o.first_human_clock),
        )
        if clock
    )
    return ProbeRow(
        outcome=o,
        sent_at=fmt_time(o.sent_at),
        first_response_at=fmt_time(o.first_response_at),
        first_response_after="" if o.response_s is None else _dur(o.response_s),
        first_response_class=o.first_response_class or "",
        tag=o.first_response_class if o.first_response_class in _KNOWN_CLASSES else "other",
        first_human_at=fmt_time(o.first_human_at),
        first_human_after="" if o.human_response_s is None else _dur(o.human_response_s),
        clocks=clocks,
        state=o.state,
        censored=o.was_sent and o.human_response_s is None,
        sent=o.was_sent,
    )


def _probe_sort_key(o: Outcome) -> tuple[str, float, str]:
    when = o.sent_at or o.due_at
    return (o.target_name.casefold(), as_utc(when).timestamp() if when else math.inf, o.probe_id)


def report_context(outcomes: Sequence[Outcome], meta: ReportMeta) -> dict[str, Any]:
    """Compute the values both reports show: headline figures, per-target and per-industry rows, methods.

    Keys: ``meta``, ``version``, ``overall`` (a :class:`GroupRow`), ``targets`` and ``industries`` (lists of
    :class:`GroupRow`, targets fastest first), ``probes`` (:class:`ProbeRow` list), ``headlines``, ``lede``,
    ``definitions``, ``sample`` (label, value, indented), ``wait_limits`` (suite/duration
    pairs), ``business_note`` (empty or a caveat), ``generated_at``.
    """
    overall = summarize(outcomes, by="overall")[0]
    industries_of: dict[str, str] = {}
    for o in outcomes:
        industries_of.setdefault(o.target_id, o.industry)
    targets = sorted(summarize(outcomes, by="target"), key=rank_key)
    industries = summarize(outcomes, by="industry")
    n_targets = len(targets)

    overall_row = group_row(overall, "")
    not_sent = Counter(o.state for o in outcomes if not o.was_sent)
    fh = overall.first_human
    headlines = [
        Headline(
            "Median time to a first human reply",
            fmt_median(fh),
            f"95\u00a0% CI {fmt_median_ci(fh)}" if fmt_median_ci(fh) else "no estimate",
        ),
        Headline(
            "Answered by a person",
            fmt_pct(overall.human_rate.value),
            f"{overall.human_rate.k} of {overall.human_rate.n} sent · "
            f"95\u00a0% CI {fmt_rate_ci(overall.human_rate)}"
            if overall.human_rate.n
            else "nothing sent",
        ),
        Headline(
            "Median time to any first reply",
            fmt_median(overall.first_response),
            "automatic acknowledgements included",
        ),
        Headline(
            "Median in business hours",
            overall_row.business,
            "first human reply, opening hours only"
            + (" · a lower bound, see note" if overall.business_unknown else ""),
        ),
        Headline(
            "Inquiries sent",
            f"{overall.sent}",
            f"to {n_targets} {'company' if n_targets == 1 else 'companies'} · {overall.not_sent} not sent",
        ),
        Headline(
            "No human reply by the horizon",
            f"{overall.censored}",
            f"censored at the wait limit · {overall.bounced} bounced",
        ),
    ]

    if overall.sent:
        lede = (
            f"Of {overall.sent} inquiries sent to {n_targets} "
            f"{'company' if n_targets == 1 else 'companies'}, {overall.human_rate.k} "
            f"({fmt_pct(overall.human_rate.value)}) were answered by a person within the wait limit"
        )
        if fh.median_s is not None:
            lede += f"; the median time to that first human reply was {fmt_median(fh)}"
            ci = fmt_median_ci(fh)
            lede += f" (95\u00a0% CI {ci})." if ci else "."
        else:
            lede += "; the median time to a human reply was not reached within the wait limit."
    else:
        lede = "No inquiry has been sent yet, so there is nothing to time."

    sample = [
        ("Probes planned", str(overall.planned), False),
        ("Sent (enter timing and rates)", str(overall.sent), False),
        ("Not sent (excluded, counted here)", str(overall.not_sent), False),
        *((state, str(count), True) for state, count in sorted(not_sent.items())),
        ("Targets", str(n_targets), False),
        ("Industries", str(len(industries)), False),
        ("Any reply observed", str(overall.first_response.events), False),
        ("Human reply observed", str(overall.first_human.events), False),
        ("Censored at the horizon (no human reply)", str(overall.censored), False),
        ("Bounced", str(overall.bounced), False),
        ("Automatically acknowledged", str(overall.auto_acked), False),
    ]

    business_note = ""
    if overall.business_unknown:
        business_note = (
            f"Business-time medians leave out {overall.business_unknown} sent "
            f"{'probe' if overall.business_unknown == 1 else 'probes'} whose business time was unknown "
            "(a censored probe needs the business time elapsed at its horizon). Leaving censored probes out "
            "makes a median optimistic, so such medians are marked “≥”: the true value is at least that."
        )

    probes = sorted(outcomes, key=_probe_sort_key)
    return {
        "meta": meta,
        "version": __version__,
        "generated_at": fmt_time(meta.generated_at).rsplit(".", 1)[0] + " UTC",
        "overall": overall_row,
        "targets": [group_row(s, industries_of.get(s.key, "")) for s in targets],
        "industries": [group_row(s, s.label) for s in industries],
        "probes": [_probe_row(o) for o in probes],
        "headlines": headlines,
        "lede": lede,
        "definitions": DEFINITIONS,
        "sample": sample,
        "wait_limits": [(suite, _dur(s)) for suite, s in sorted(meta.wait_limits.items())],
        "business_note": business_note,
    }


# --------------------------------------------------------------------------------------------- environment

_HTML_EXTENSIONS = ("html", "htm", "xml", "svg", "html.j2", "htm.j2", "xml.j2", "svg.j2")


def template_env(overrides: Path | None) -> jinja2.Environment:
    """Return the Jinja environment of the reports: templates in ``overrides`` first, then the packaged ones.

    ``overrides`` is a directory (a workspace's ``reports/``) whose templates, by the same name, replace the
    packaged ones. Autoescaping is on for HTML, XML and SVG templates (``*.html.j2`` included) and off for
    Markdown, which escapes with the ``md`` filter instead. Undefined variables are errors.
    """
    loaders: list[jinja2.BaseLoader] = []
    if overrides is not None:
        loaders.append(jinja2.FileSystemLoader(str(overrides)))
    loaders.append(jinja2.PackageLoader("replybench.report", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=_HTML_EXTENSIONS, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["duration"] = format_duration
    env.filters["iso"] = iso_ms
    env.filters["md"] = md_escape
    env.filters["code"] = inline_code_html
    return env


def write_reports(
    outcomes: Sequence[Outcome], meta: ReportMeta, out_dir: Path, overrides: Path | None = None
) -> ReportPaths:
    """Render the HTML and Markdown reports into ``out_dir`` (created if missing): report.html, report.md."""
    from replybench.report.html import render_html
    from replybench.report.markdown import render_markdown

    env = template_env(overrides)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = ReportPaths(html=out_dir / "report.html", markdown=out_dir / "report.md")
    paths.html.write_text(render_html(outcomes, meta, env), encoding="utf-8")
    paths.markdown.write_text(render_markdown(outcomes, meta, env), encoding="utf-8")
    return paths
