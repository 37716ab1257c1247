"""The ``replybench`` command line: thin — parse, call one function from :mod:`replybench.operations`, print."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from replybench import __version__, operations
from replybench.analysis.outcome import Outcome
from replybench.engine.runner import RunProgress
from replybench.errors import ReplybenchError
from replybench.models import ProbeState
from replybench.report.export import write_outcomes
from replybench.report.terminal import print_summary
from replybench.timefmt import format_duration, iso_ms

app = typer.Typer(
    name="replybench",
    help="Measure how fast and how well companies answer their customers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
errors = Console(stderr=True, soft_wrap=True)

WorkspaceOpt = Annotated[
    Path, typer.Option("--workspace", "-w", help="Workspace folder (or any folder inside it).")
]


def _version(value: bool) -> None:
    if value:
        console.print(f"replybench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what the engine does.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command()
def init(directory: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")]) -> None:
    """Create a workspace with a commented example (replybench.toml, probes/, benchmarks/, reports/)."""
    created = operations.init_workspace(directory)
    console.print(f"Created a workspace in [bold]{directory}[/] ({len(created)} files).")
    console.print(f"Next: [bold]cd {directory} && replybench check[/], then [bold]replybench run example[/].")


def _plan_table(preview: operations.PlanPreview, ws_targets: dict[str, str]) -> Table:
    table = Table(title=f"Plan of suite {preview.suite_id!r} (nothing is sent)", title_justify="left")
    for col in ("due (UTC)", "target", "channel", "script", "persona", "to", "note"):
        table.add_column(col)
    for p in preview.probes:
        note = p.error or ""
        table.add_row(
            (iso_ms(p.due_at) or "")[:19].replace("T", " "),
            ws_targets.get(p.target_id, p.target_id),
            p.channel,
            p.script_id,
            p.persona_id,
            p.to_address,
            f"[yellow]{note}[/]" if note else "",
        )
    return table


@app.command()
def check(
    suites: Annotated[list[str] | None, typer.Argument(help="Suites to plan (default: all).")] = None,
    workspace: WorkspaceOpt = Path("."),
    show_body: Annotated[bool, typer.Option("--show-body", help="Print the first rendered probe.")] = False,
) -> None:
    """Validate the workspace and print each suite's plan: who gets what, when, through which channel."""
    ws = operations.open_workspace(workspace)
    console.print(
        f"[green]✓[/] {ws.root}: {len(ws.targets)} targets, {len(ws.personas)} personas, "
        f"{len(ws.scripts)} probe scripts, {len(ws.suites)} suites; mode [bold]{ws.settings.mode}[/]"
    )
    if ws.settings.mode == "live":
        from replybench.channels.email import EmailChannel

        desc = EmailChannel(ws.settings.email).describe()
        if desc.missing_credentials:
            console.print(
                f"[yellow]![/] email: environment variables not set: {', '.join(desc.missing_credentials)}"
            )
        else:
            console.print(
                f"[green]✓[/] email: credentials present ({', '.join(desc.credentials) or 'none needed'})"
            )
    names = {t.id: t.name for t in ws.targets.values()}
    for preview in operations.preview(ws, suites):
        console.print(_plan_table(preview, names))
        skipped = sum(1 for p in preview.probes if p.error)
        console.print(f"{len(preview.probes) - skipped} probes to send, {skipped} skipped.\n")
        if show_body and preview.probes:
            first = preview.probes[0]
            console.print(f"[bold]Subject:[/] {first.subject}\n{first.body}\n", markup=False)


def _run_with_progress(ws_path: Path, suite: str, new: bool) -> str:
    ws = operations.open_workspace(ws_path)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bars:
        tasks: dict[str, TaskID] = {}

        def update(p: RunProgress) -> None:
            if not tasks:
                tasks["sent"] = bars.add_task("sent", total=p.total)
                tasks["done"] = bars.add_task("closed", total=p.total)
                tasks["replies"] = bars.add_task("replies received", total=None)
            bars.update(
                tasks["sent"],
                completed=p.sent
                + p.counts.get(ProbeState.FAILED, 0)
                + p.counts.get(ProbeState.UNCERTAIN, 0)
                + p.counts.get(ProbeState.SKIPPED, 0),
            )
            bars.update(tasks["done"], completed=p.done)
            bars.update(tasks["replies"], completed=p.received)

        run = operations.run_suite(ws, suite, new=new, progress=update)
    status = "finished" if run.status == "finished" else "stopped (run the same command again to resume)"
    console.print(f"Run [bold]{run.id}[/] of suite {suite!r}: {status}.")
    return run.id


@app.command()
def run(
    suite: Annotated[str, typer.Argument(help="Suite id (a [suite] in benchmarks/).")],
    workspace: WorkspaceOpt = Path("."),
    new: Annotated[bool, typer.Option("--new", help="Start a new run even if one is unfinished.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; send nothing.")] = False,
) -> None:
    """Run a suite to completion. Resumable: running it again continues where it stopped, never re-sends."""
    if dry_run:
        check([suite], workspace)
        return
    _run_with_progress(workspace, suite, new)


@app.command()
def status(
    workspace: WorkspaceOpt = Path("."),
    run_id: Annotated[str | None, typer.Option("--run", help="Run id (default: every run).")] = None,
) -> None:
    """Show the progress of runs: probe states as bars, and a table per target."""
    ws = operations.open_workspace(workspace)
    store = operations.workspace_store(ws)
    try:
        runs = [r for r in store.runs() if run_id is None or r.id == run_id]
        if not runs:
            raise ReplybenchError(
                "no runs yet: start one with `replybench run SUITE`"
                if run_id is None
                else f"no run {run_id!r} in the store"
            )
        for r in runs:
            counts = store.state_counts(r.id)
            total = sum(counts.values())
            console.rule(f"run {r.id} · suite {r.suite_id} · {r.status} · created {iso_ms(r.created_at)}")
            with Progress(
                TextColumn("{task.description:>10}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                auto_refresh=False,
            ) as bars:
                for state in ProbeState:
                    if counts.get(state):
                        bars.add_task(state.value, total=total, completed=counts[state])
                bars.refresh()
            table = Table(show_edge=False)
            for col in ("target", "probes", "sent", "replies", "fastest human reply", "states"):
                table.add_column(col)
            rows = operations.outcomes(ws, [r.id], store=store)
            by_target: dict[str, list[Outcome]] = {}
            for o in rows:
                by_target.setdefault(o.target_name, []).append(o)
            for name, items in sorted(by_target.items()):
                humans = [o.human_response_s for o in items if o.human_response_s is not None]
                states = Counter(o.state for o in items)
                table.add_row(
                    name,
                    str(len(items)),
                    str(sum(o.was_sent for o in items)),
                    str(sum(o.replies for o in items)),
                    format_duration(min(humans)) if humans else "—",
                    ", ".join(f"{k} {v}" for k, v in sorted(states.items())),
                )
            console.print(table)
    finally:
        store.close()


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv or json")] = "csv",
    workspace: WorkspaceOpt = Path("."),
    run_ids: Annotated[
        list[str] | None, typer.Option("--run", help="Run id (repeatable; default all).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default: standard output).")
    ] = None,
) -> None:
    """Write the outcomes table (one record per probe; the documented export contract)."""
    if fmt not in ("csv", "json"):
        raise ReplybenchError(f"--format must be csv or json, not {fmt!r}")
    ws = operations.open_workspace(workspace)
    rows = operations.outcomes(ws, run_ids)
    if output is None:
        write_outcomes(rows, fmt, sys.stdout)  # type: ignore[arg-type]
    else:
        with output.open("w", encoding="utf-8", newline="") as fh:
            write_outcomes(rows, fmt, fh)  # type: ignore[arg-type]
        errors.print(f"Wrote {len(rows)} outcomes to {output}")


@app.command()
def report(
    workspace: WorkspaceOpt = Path("."),
    run_ids: Annotated[
        list[str] | None, typer.Option("--run", help="Run id (repeatable; default: latest).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Folder for the report files.")
    ] = None,
) -> None:
    """Write the HTML and Markdown report of runs (default: the latest run)."""
    ws = operations.open_workspace(workspace)
    if not run_ids:
        store = operations.workspace_store(ws)
        try:
            run_ids = operations.latest_run_ids(store)
        finally:
            store.close()
        if not run_ids:
            raise ReplybenchError("no runs yet: start one with `replybench run SUITE`")
    paths = operations.write_report(ws, run_ids, output)
    console.print(f"HTML report: [bold]{paths.html}[/]\nMarkdown report: {paths.markdown}")


@app.command()
def demo(
    workspace: WorkspaceOpt = Path("."),
    suite: Annotated[str | None, typer.Option("--suite", help="Suite to run (default: 'demo').")] = None,
) -> None:
    """Run the example suite against the embedded sandbox and print the results (about a minute)."""
    ws = operations.demo_workspace(workspace)
    suite = suite or ("demo" if "demo" in ws.suites else sorted(ws.suites)[0])
    if ws.settings.mode != "sandbox":
        raise ReplybenchError(
            f"the demo runs only in sandbox mode, but {ws.root} is in {ws.settings.mode} mode"
        )
    console.print(
        f"Demo: suite {suite!r} of {ws.root} against {len(ws.targets)} simulated companies (sandbox)."
    )
    started = time.monotonic()
    run_id = _run_with_progress(ws.root, suite, new=True)
    rows = operations.outcomes(ws, [run_id])
    print_summary(rows, console)
    paths = operations.write_report(ws, [run_id])
    console.print(f"Finished in {time.monotonic() - started:.0f} s.")
    console.print(f"HTML report: [bold]{paths.html}[/]\nMarkdown report: {paths.markdown}")


@app.command()
def classify(files: Annotated[list[Path], typer.Argument(help="Email files (.eml) to classify.")]) -> None:
    """Print one JSON line per message: file, class, rule, confidence (and why)."""
    for item in operations.classify_files(files):
        c = item.classification
        record = {
            "file": item.file,
            "class": c.cls.value,
            "rule": c.rule,
            "confidence": round(c.confidence, 3),
            "evidence": c.evidence,
            **({"detail": dict(c.detail)} if c.detail else {}),
            **({"error": item.error} if item.error else {}),
        }
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


def main() -> None:
    """Entry point: user mistakes become one clear line on stderr and exit code 2, never a traceback."""
    try:
        app()
    except ReplybenchError as exc:
        errors.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        errors.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
