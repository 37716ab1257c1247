"""What each CLI command does, as plain functions (the CLI only parses arguments and prints)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from replybench.analysis.outcome import Outcome
from replybench.analysis.outcomes import build_outcomes
from replybench.classify import Classification, classify_email
from replybench.engine.environment import open_environment
from replybench.engine.runner import Engine, RunOptions, RunProgress
from replybench.engine.runs import build_run
from replybench.errors import ReplybenchError, UnknownSuiteError
from replybench.mailparse import MalformedEmail, ParsedEmail, parse_email
from replybench.models import MessageClass, Workspace
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
            return await Engine(ws, db, env.channels).run(suite_id, options)

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
        rows, meta, out_dir or ws.path(ws.settings.reports_dir), overrides if overrides.is_dir() else None
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
