"""What each CLI command does, as plain functions (the CLI only parses arguments and prints)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import signal
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from replybench.analysis.compare import (
    Adjust,
    ComparisonReport,
    Side,
    Thresholds,
    compare_outcomes,
    parse_increase,
    parse_share,
)
from replybench.analysis.compare import check as check_comparison
from replybench.analysis.evidence import build_evidence
from replybench.analysis.outcome import Outcome
from replybench.analysis.outcomes import build_outcomes
from replybench.analysis.sends import build_send_rows
from replybench.analysis.sla import SlaReport, evaluate_slas, slas_from_snapshot
from replybench.analysis.summary import GroupBy
from replybench.classify import Classification, classify_email
from replybench.clock import BusinessClock
from replybench.engine.environment import open_environment, social_networks
from replybench.engine.runner import Engine, RunOptions, RunProgress
from replybench.engine.runs import build_run
from replybench.errors import ReplybenchError, UnknownSuiteError
from replybench.mailparse import MalformedEmail, ParsedEmail, parse_email
from replybench.models import MessageClass, ProbeState, Target, Workspace
from replybench.report.junit import comparison_suite, junit_xml, sla_suites
from replybench.report.render import ReportMeta, ReportPaths, write_reports
from replybench.store import ProbeRecord, RunRecord, Store, open_store
from replybench.timefmt import utcnow
from replybench.workspace import CONFIG_FILE, find_root, load_workspace


def scaffold_dir() -> Path:
    """The folder of the workspace template that ``init`` copies (shipped inside the package)."""
    return Path(str(resources.files("replybench") / "scaffold"))


def init_workspace(target: Path) -> list[Path]:
    """Create a commented example workspace in ``target``; refuses to overwrite an existing one."""
    if (target / CONFIG_FILE).exists():
        raise ReplybenchError(f"{target / CONFIG_FILE} already exists: choose an empty folder")
    target.mkdir(parents=True, exist_ok=True)
    created: list[Path] = []
    source = scaffold_dir()
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            dest = target / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            created.append(dest)
    for folder in ("probes", "benchmarks", "reports"):
        (target / folder).mkdir(exist_ok=True)
    return created


def open_workspace(path: Path) -> Workspace:
    """Find and load the workspace at or above ``path``."""
    return load_workspace(find_root(path))


def workspace_store(ws: Workspace) -> Store:
    """Open the workspace's store."""
    return open_store(ws.settings.store, ws.root)


@dataclass(frozen=True)
class PlanPreview:
    """What ``check`` and ``run --dry-run`` show: the rendered probes of a would-be run."""

    suite_id: str
    run: RunRecord
    probes: list[ProbeRecord]


def preview(ws: Workspace, suite_ids: Sequence[str] | None = None) -> list[PlanPreview]:
    """Plan (and render) suites without storing or sending anything."""
    ids = list(suite_ids) if suite_ids else sorted(ws.suites)
    out = []
    for sid in ids:
        if sid not in ws.suites:
            raise UnknownSuiteError(
                f"no suite {sid!r} in this workspace (suites: {', '.join(sorted(ws.suites))})"
            )
        run, probes = build_run(ws, ws.suites[sid], utcnow())
        out.append(PlanPreview(sid, run, probes))
    return out


def run_suite(
    ws: Workspace,
    suite_id: str,
    *,
    new: bool = False,
    progress: Callable[[RunProgress], None] | None = None,
    store: Store | None = None,
) -> RunRecord:
    """Run (or resume) a suite to completion. Ctrl-C stops cleanly: in-flight sends finish, nothing is lost."""
    own_store = store is None
    db = store or workspace_store(ws)

    async def main() -> RunRecord:
        options = RunOptions(new=new, progress=progress)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # not in the main thread, or no signals on this platform: Ctrl-C then raises KeyboardInterrupt
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, options.stop.set)
        seed = ws.suites[suite_id].schedule.seed if suite_id in ws.suites else 0
        async with open_environment(ws, db, seed=seed) as env:
            return await Engine(ws, db, env.channels, unavailable=env.unavailable).run(suite_id, options)

    try:
        return asyncio.run(main())
    finally:
        if own_store:
            db.close()


def outcomes(
    ws: Workspace, run_ids: Sequence[str] | None = None, *, store: Store | None = None
) -> list[Outcome]:
    """The outcomes table of some runs (default: every run in the store)."""
    db = store or workspace_store(ws)
    try:
        for rid in run_ids or ():
            if db.get_run(rid) is None:
                raise ReplybenchError(f"no run {rid!r} in the store (see `replybench status`)")
        return build_outcomes(db, run_ids or None)
    finally:
        if store is None:
            db.close()


def latest_run_ids(store: Store, suite_id: str | None = None) -> list[str]:
    """The newest run (of a suite), as a one-element list; empty when there is none."""
    runs = store.runs(suite_id)
    return [runs[-1].id] if runs else []


def write_report(ws: Workspace, run_ids: Sequence[str], out_dir: Path | None = None) -> ReportPaths:
    """Render the HTML and Markdown report of some runs."""
    db = workspace_store(ws)
    try:
        runs = [r for r in (db.get_run(i) for i in run_ids) if r is not None]
        rows = build_outcomes(db, [r.id for r in runs])
        evidence = build_evidence(db, [r.id for r in runs])
        sends = build_send_rows(db, [r.id for r in runs])
    finally:
        db.close()
    meta = ReportMeta(
        title=f"{ws.settings.name}: responsiveness report",
        workspace=ws.settings.name,
        suites=tuple(sorted({r.suite_id for r in runs})),
        runs=tuple(r.id for r in runs),
        generated_at=utcnow(),
        wait_limits={r.suite_id: r.wait_limit_s for r in runs},
        notes=tuple(f"Run {r.id} ({r.suite_id}) in {r.snapshot.get('mode', 'live')} mode" for r in runs),
    )
    overrides = ws.path(ws.settings.reports)
    return write_reports(
        rows,
        meta,
        out_dir or ws.path(ws.settings.reports_dir),
        overrides if overrides.is_dir() else None,
        evidence=evidence,
        sends=sends,
    )


def demo_workspace(start: Path) -> Workspace:
    """The workspace the demo runs: the one here (the repo's example), else a fresh copy of the template."""
    try:
        return open_workspace(start)
    except ReplybenchError:
        folder = Path(tempfile.mkdtemp(prefix="replybench-demo-"))
        init_workspace(folder)
        return load_workspace(folder)


@dataclass(frozen=True)
class ClassifiedFile:
    """The classifier's verdict on one file, for ``replybench classify``."""

    file: str
    classification: Classification
    parsed: ParsedEmail | None
    error: str | None = None


def classify_files(paths: Sequence[Path]) -> list[ClassifiedFile]:
    """Parse and classify each file; a malformed or unreadable one is reported, never fatal."""
    out = []
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ReplybenchError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            parsed = parse_email(raw)
        except MalformedEmail as exc:
            verdict = Classification(MessageClass.UNKNOWN, "malformed", 0.0, str(exc)[:200], {})
            out.append(ClassifiedFile(str(path), verdict, None, str(exc)))
            continue
        out.append(ClassifiedFile(str(path), classify_email(parsed), parsed))
    return out


# --------------------------------------------------------------------------------------------- compare, SLAs


def _run_or_error(store: Store, run_id: str) -> RunRecord:
    run = store.get_run(run_id)
    if run is None:
        raise ReplybenchError(f"no run {run_id!r} in the store (see `replybench status`)")
    return run


def _describe_run(run: RunRecord) -> str:
    when = run.created_at.strftime("%Y-%m-%d %H:%M")
    return f"run {run.id} of suite {run.suite_id!r} ({when} UTC, {run.status})"


def _comparison_runs(store: Store, runs: Sequence[str], suite: str | None) -> tuple[RunRecord, RunRecord]:
    """Resolve the two runs of a run-against-run comparison (A the baseline, B the candidate)."""
    if len(runs) > 2:
        raise ReplybenchError(f"compare takes at most two run ids, got {len(runs)}")
    if len(runs) == 2:
        if suite is not None:
            raise ReplybenchError("give either two run ids or --suite, not both")
        if runs[0] == runs[1]:
            raise ReplybenchError(f"cannot compare run {runs[0]!r} with itself")
        return _run_or_error(store, runs[0]), _run_or_error(store, runs[1])
    if len(runs) == 1:
        b = _run_or_error(store, runs[0])
        if suite is not None and suite != b.suite_id:
            raise ReplybenchError(f"run {b.id!r} belongs to suite {b.suite_id!r}, not {suite!r}")
        earlier = [
            r for r in store.runs(b.suite_id) if r.id != b.id and (r.created_at, r.id) < (b.created_at, b.id)
        ]
        if not earlier:
            raise ReplybenchError(
                f"run {b.id!r} is the first run of suite {b.suite_id!r}: nothing to compare with"
            )
        return earlier[-1], b
    if suite is None:
        every = store.runs()
        if not every:
            raise ReplybenchError("no runs yet: start one with `replybench run SUITE`")
        suite = every[-1].suite_id
    of_suite = store.runs(suite)
    if len(of_suite) < 2:
        raise ReplybenchError(
            f"suite {suite!r} has {len(of_suite)} run(s); compare needs two "
            f"(run it again with `replybench run {suite} --new`)"
        )
    return of_suite[-2], of_suite[-1]


def comparison_thresholds(
    *, fail_on_worse: bool = False, max_median_increase: str | None = None, max_rate_drop: str | None = None
) -> Thresholds:
    """Build CI thresholds from command-line text: "20%" or "30m" for the median, "10%" for the rate drop."""
    relative = absolute = drop = None
    try:
        if max_median_increase is not None:
            relative, absolute = parse_increase(max_median_increase)
        if max_rate_drop is not None:
            drop = parse_share(max_rate_drop)
    except ValueError as exc:
        raise ReplybenchError(str(exc)) from exc
    return Thresholds(
        fail_on_worse=fail_on_worse,
        max_median_increase=relative,
        max_median_increase_s=absolute,
        max_rate_drop=drop,
    )


def compare(
    ws: Workspace,
    runs: Sequence[str] = (),
    *,
    suite: str | None = None,
    targets: tuple[str, str] | None = None,
    channels: tuple[str, str] | None = None,
    by: GroupBy | None = None,
    alpha: float = 0.05,
    adjust: Adjust = "holm",
    thresholds: Thresholds | None = None,
    store: Store | None = None,
) -> ComparisonReport:
    """Compare two runs, or two targets or channels within runs, and check the result against thresholds.

    Run against run: ``runs`` = (A, B); or one run id B, compared with the run of its suite before it; or
    none, meaning the two latest runs of ``suite`` (default: the suite of the latest run). Groups default to
    targets. Within runs: ``targets=(X, Y)`` or ``channels=(X, Y)`` compares X (side A) with Y (side B) over
    the probes of ``runs`` (default: the latest run, of ``suite`` if given); rows default to a single one.
    """
    if targets is not None and channels is not None:
        raise ReplybenchError("give either --targets or --channels, not both")
    if not 0.0 < alpha < 1.0:
        raise ReplybenchError(f"--alpha must be between 0 and 1, got {alpha}")
    db = store or workspace_store(ws)
    try:
        if targets is None and channels is None:
            run_a, run_b = _comparison_runs(db, runs, suite)
            rows = build_outcomes(db, [run_a.id, run_b.id])
            rows_a = [o for o in rows if o.run_id == run_a.id]
            rows_b = [o for o in rows if o.run_id == run_b.id]
            side_a = Side("A", _describe_run(run_a), (run_a.id,))
            side_b = Side("B", _describe_run(run_b), (run_b.id,))
            group_by: GroupBy = by or "target"
        else:
            field, pair = ("target", targets) if targets is not None else ("channel", channels)
            assert pair is not None
            if by == field:
                raise ReplybenchError(
                    f"--by {field} cannot be combined with --{field}s (they pick the {field}s)"
                )
            if pair[0] == pair[1]:
                raise ReplybenchError(f"cannot compare {field} {pair[0]!r} with itself")
            chosen = [_run_or_error(db, r) for r in runs]
            if not chosen:
                latest = latest_run_ids(db, suite)
                if not latest:
                    raise ReplybenchError(
                        "no runs yet: start one with `replybench run SUITE`"
                        if suite is None
                        else f"suite {suite!r} has no run yet"
                    )
                chosen = [_run_or_error(db, latest[0])]
            rows = build_outcomes(db, [r.id for r in chosen])

            def value(o: Outcome) -> str:
                return o.target_id if field == "target" else o.channel

            present = sorted({value(o) for o in rows})
            for name in pair:
                if name not in present:
                    raise ReplybenchError(
                        f"no probes of {field} {name!r} in run(s) {', '.join(r.id for r in chosen)} "
                        f"({field}s: {', '.join(present) or 'none'})"
                    )
            rows_a = [o for o in rows if value(o) == pair[0]]
            rows_b = [o for o in rows if value(o) == pair[1]]
            where = ", ".join(r.id for r in chosen)
            side_a = Side("A", f"{field} {pair[0]} in run {where}", tuple(r.id for r in chosen))
            side_b = Side("B", f"{field} {pair[1]} in run {where}", tuple(r.id for r in chosen))
            group_by = by or "overall"
    finally:
        if store is None:
            db.close()
    comparison = compare_outcomes(
        rows_a, rows_b, by=group_by, alpha=alpha, adjust=adjust, side_a=side_a, side_b=side_b
    )
    if not comparison.groups:
        raise ReplybenchError(
            f"nothing to compare: no {group_by} has probes on both sides "
            f"(only in A: {', '.join(comparison.only_a) or 'none'}; "
            f"only in B: {', '.join(comparison.only_b) or 'none'})"
        )
    return check_comparison(comparison, thresholds or Thresholds())


def _business_seconds(run: RunRecord) -> Callable[[Outcome, datetime], float | None]:
    clocks: dict[str, BusinessClock] = {}
    specs = run.snapshot.get("targets", {})

    def business_seconds(outcome: Outcome, at: datetime) -> float | None:
        if outcome.sent_at is None or outcome.target_id not in specs:
            return None
        if outcome.target_id not in clocks:
            clocks[outcome.target_id] = BusinessClock.for_target(
                Target.model_validate(specs[outcome.target_id])
            )
        return clocks[outcome.target_id].business_seconds(outcome.sent_at, at)

    return business_seconds


def check_slas(
    ws: Workspace,
    run_id: str | None = None,
    *,
    suite: str | None = None,
    strict: bool = False,
    store: Store | None = None,
) -> SlaReport:
    """Evaluate the SLAs of a run's suite (as the run's snapshot recorded them) per target and overall.

    Default run: the latest (of ``suite`` if given). ``strict`` also fails undetermined results and results
    without data. Raises ReplybenchError when the run's suite defines no SLA.
    """
    db = store or workspace_store(ws)
    try:
        if run_id is None:
            latest = latest_run_ids(db, suite)
            if not latest:
                raise ReplybenchError(
                    "no runs yet: start one with `replybench run SUITE`"
                    if suite is None
                    else f"suite {suite!r} has no run yet"
                )
            run_id = latest[0]
        run = _run_or_error(db, run_id)
        if suite is not None and run.suite_id != suite:
            raise ReplybenchError(f"run {run.id!r} belongs to suite {run.suite_id!r}, not {suite!r}")
        try:
            slas = slas_from_snapshot(run.snapshot)
        except ValidationError as exc:
            raise ReplybenchError(f"run {run.id!r}: the stored SLA definitions are invalid: {exc}") from exc
        if not slas:
            raise ReplybenchError(
                f"suite {run.suite_id!r} (run {run.id}) defines no SLA: add a [[suite.slas]] table "
                "with `within` (and optionally channel, measure, business_time, target_rate)"
            )
        rows = build_outcomes(db, [run.id])
    finally:
        if store is None:
            db.close()
    return evaluate_slas(
        rows, slas, suite=run.suite_id, runs=(run.id,), strict=strict, business_seconds=_business_seconds(run)
    )


def write_ci_files(
    report: ComparisonReport | SlaReport, *, junit: Path | None = None, json_path: Path | None = None
) -> list[Path]:
    """Write a comparison or SLA report as JUnit XML and/or JSON; returns the files written."""
    written: list[Path] = []
    outputs: list[tuple[Path | None, Callable[[], bytes]]] = [
        (
            junit,
            lambda: junit_xml(
                [comparison_suite(report)] if isinstance(report, ComparisonReport) else sla_suites(report)
            ),
        ),
        (
            json_path,
            lambda: (
                json.dumps(report.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
            ).encode(),
        ),
    ]
    for path, render in outputs:
        if path is None:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(render())
        except OSError as exc:
            raise ReplybenchError(f"cannot write {path}: {exc.strerror or exc}") from exc
        written.append(path)
    return written


def save_artifacts(ws: Workspace, probe_id: str, out_dir: Path) -> list[Path]:
    """Write a probe's stored artifacts (form screenshots, …) into ``out_dir``; returns the files written.

    Raises:
        ReplybenchError: no probe has this id.
    """
    db = workspace_store(ws)
    try:
        if db.get_probe(probe_id) is None:
            raise ReplybenchError(f"no probe {probe_id!r} in the store {ws.settings.store}")
        artifacts = db.artifacts(probe_id=probe_id)
    finally:
        db.close()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for artifact in artifacts:
        path = out_dir / f"{probe_id}-{Path(artifact.name).name}"
        path.write_bytes(artifact.data)
        written.append(path)
    return written


def social_check(ws: Workspace) -> list[tuple[str, bool]]:
    """One line per social network the workspace uses: what runs it here, and which secrets are missing.

    Names environment variables only, never their values.
    """
    from replybench.channels.social import missing_secrets

    lines: list[tuple[str, bool]] = []
    for network in social_networks(ws):
        personas = [p for p in ws.personas.values() if p.social(network) is not None]
        if not personas:
            lines.append(
                (f"{network}: no persona has a {network} account; those probes cannot be planned", False)
            )
            continue
        assisted = [p.id for p in personas if p.social_mode(network) == "assisted"]
        mode = (
            f" (assisted for {', '.join(assisted)}: a person posts, then `replybench attach`)"
            if assisted
            else ""
        )
        if ws.settings.mode == "sandbox":
            if network == "mastodon":
                lines.append(("mastodon: simulated by the sandbox's Mastodon-compatible server", True))
            else:
                lines.append((f"{network}: not simulated by the sandbox; its probes would be skipped", False))
            continue
        missing = missing_secrets(ws.personas, network)
        if missing:
            lines.append((f"{network}: environment variables not set: {', '.join(missing)}{mode}", False))
        else:
            lines.append((f"{network}: credentials present{mode}", True))
    return lines


def assisted_count(ws: Workspace, run_id: str) -> int:
    """How many probes of a run wait for a person to post them."""
    store = workspace_store(ws)
    try:
        return store.state_counts(run_id).get(ProbeState.ASSISTED, 0)
    finally:
        store.close()
