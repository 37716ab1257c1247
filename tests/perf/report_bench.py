"""Scale benchmark: N synthetic probes → statistics → full HTML + Markdown report; RSS of this process.

Run by ``python -m tests.perf`` in its own process so the peak RSS is this pipeline's alone:
``python -m tests.perf.report_bench --n 1000000 --targets 10000 --channels 5``. Prints one JSON object.
Also times a straightforward pandas + lifelines pipeline computing the same per-target Kaplan–Meier medians
of time to first human response, and checks that both agree.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from replybench.analysis.summary import summarize
from replybench.analysis.synthetic import SYNTHETIC_WAIT_S, synthetic_outcomes
from replybench.report.render import ReportMeta, write_reports


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def lifelines_medians(outcomes) -> tuple[dict[str, tuple[float, float, float]], float, float]:
    """Per-target KM medians with pandas + lifelines: ({target: (median, next event time)}, frame s, fit s).

    lifelines takes the first time S(t) <= 0.5; replybench (like R's survival) takes the midpoint to the
    next event time when S(t) sits exactly at 0.5 — and lifelines' floating-point product can land a hair
    above 0.5 on that plateau and report the next event instead. So the two agree within the interval
    between the event times just before and just after lifelines' median.
    """
    import pandas as pd
    from lifelines import KaplanMeierFitter

    start = time.perf_counter()
    frame = pd.DataFrame(
        {
            "target": [o.target_id for o in outcomes],
            "sent": [o.sent_at is not None for o in outcomes],
            "t": [o.human_response_s for o in outcomes],
            "censor_at": [o.observed_for_s() for o in outcomes],
        }
    )
    frame = frame[frame["sent"] & frame["censor_at"].notna()]
    frame["event"] = frame["t"].notna()
    frame["duration"] = frame["t"].fillna(frame["censor_at"])
    built = time.perf_counter() - start
    start = time.perf_counter()
    medians: dict[str, tuple[float, float, float]] = {}
    kmf = KaplanMeierFitter()
    for target, group in frame.groupby("target", sort=False):
        kmf.fit(group["duration"], group["event"])
        median = float(kmf.median_survival_time_)
        events = group["duration"][group["event"]]
        later, earlier = events[events > median], events[events < median]
        medians[str(target)] = (
            median,
            float(earlier.max()) if len(earlier) else 0.0,
            float(later.min()) if len(later) else math.inf,
        )
    fitted = time.perf_counter() - start
    return medians, built, fitted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--targets", type=int, default=10_000)
    parser.add_argument("--channels", type=int, default=5)
    parser.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()

    start = time.perf_counter()
    outcomes = synthetic_outcomes(args.n, targets=args.targets, channels=args.channels, seed=1)
    figures: dict[str, float | int | str | None] = {
        "probes": args.n,
        "targets": args.targets,
        "channels": args.channels,
        "generate_s": round(time.perf_counter() - start, 2),
        "rss_after_generate_mb": round(peak_rss_mb()),
    }

    start = time.perf_counter()
    by_target = summarize(outcomes, by="target")
    figures["summarize_by_target_s"] = round(time.perf_counter() - start, 2)

    meta = ReportMeta(
        title="Scale benchmark",
        workspace="bench",
        suites=("baseline",),
        runs=("run-1", "run-2"),
        generated_at=datetime.now(UTC),
        wait_limits={"baseline": SYNTHETIC_WAIT_S},
    )
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        paths = write_reports(outcomes, meta, Path(tmp))
        figures["report_s"] = round(time.perf_counter() - start, 2)
        figures["html_mb"] = round(paths.html.stat().st_size / 1e6, 1)
        figures["markdown_mb"] = round(paths.markdown.stat().st_size / 1e6, 1)
    figures["pipeline_s"] = round(float(figures["summarize_by_target_s"]) + float(figures["report_s"]), 2)
    figures["peak_rss_mb"] = round(peak_rss_mb())

    if args.baseline:
        medians, built, fitted = lifelines_medians(outcomes)
        figures["pandas_frame_s"] = round(built, 2)
        figures["lifelines_fit_s"] = round(fitted, 2)
        figures["ratio_lifelines_to_summarize"] = round(
            (built + fitted) / float(figures["summarize_by_target_s"]), 1
        )
        ours = {g.key: g.first_human.median_s for g in by_target}
        disagree = 0
        for target, (theirs, previous_event, next_event) in medians.items():
            mine = ours.get(target)
            if math.isinf(theirs):
                # the plateau case at the last event: lifelines' product stays a hair above 0.5
                disagree += mine is not None and mine < previous_event - 1e-6
            elif mine is None or not (previous_event - 1e-6 <= mine <= next_event + 1e-6):
                disagree += 1
        figures["median_disagreements"] = disagree
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
