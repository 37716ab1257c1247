"""The ``replybench`` command line: thin — parse, call one function from :mod:`replybench.operations`, print."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from replybench import __version__, assisted, operations, review
from replybench.analysis.compare import Adjust, ComparisonReport, GroupComparison, p_text
from replybench.analysis.outcome import Outcome
from replybench.analysis.sla import SlaReport, describe_sla
from replybench.analysis.summary import GroupBy
from replybench.classify.promise import Promise
from replybench.engine.runner import RunProgress
from replybench.errors import ReplybenchError
from replybench.models import HUMAN_CLASSES, REVIEW_THRESHOLD, ProbeState
from replybench.report.export import write_outcomes
from replybench.report.terminal import print_summary
from replybench.store import ProbeRecord, Store
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
    if any(t.endpoints.form or t.endpoints.chat for t in ws.targets.values()):
        from replybench.browser import browser_unavailable_reason

        reason = asyncio.run(browser_unavailable_reason(ws.settings.browser.executable))
        if reason:
            console.print(f"[yellow]![/] form and chat: {reason}; those probes would be skipped")
        else:
            console.print("[green]✓[/] form and chat: a Chromium browser is available")
    for line, ok in operations.social_check(ws):
        console.print(("[green]✓[/] " if ok else "[yellow]![/] ") + escape(line))
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
                tasks["sent"] = bars.add_task("dispatched", total=p.total)
                tasks["done"] = bars.add_task("closed", total=p.total)
                tasks["replies"] = bars.add_task("replies received", total=None)
            bars.update(
                tasks["sent"],
                # every probe whose send is over, whatever came of it (sent, blocked, failed, skipped, ...)
                completed=p.total - p.counts.get(ProbeState.PLANNED, 0) - p.counts.get(ProbeState.SENDING, 0),
            )
            bars.update(tasks["done"], completed=p.done)
            bars.update(tasks["replies"], completed=p.received)

        run = operations.run_suite(ws, suite, new=new, progress=update)
    status = "finished" if run.status == "finished" else "stopped (run the same command again to resume)"
    console.print(f"Run [bold]{run.id}[/] of suite {suite!r}: {status}.")
    waiting = operations.assisted_count(ws, run.id)
    if waiting:
        console.print(
            f"[yellow]{waiting} probe(s) wait for a person to post them:[/] `replybench assisted` shows the"
            " text and where; `replybench attach PROBE URL` after posting, then run again to track replies."
        )
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
            if counts.get(ProbeState.ASSISTED):
                console.print(
                    f"{counts[ProbeState.ASSISTED]} probe(s) wait for a person to post them:"
                    " `replybench assisted`, then `replybench attach PROBE URL`."
                )
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
def artifacts(
    probe_id: Annotated[str, typer.Argument(help="The probe whose evidence to write out.")],
    workspace: WorkspaceOpt = Path("."),
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write into.")] = Path("."),
) -> None:
    """Write a probe's stored send evidence (screenshots before and after a form submit, a chat's screen)."""
    ws = operations.open_workspace(workspace)
    written = operations.save_artifacts(ws, probe_id, output)
    if not written:
        errors.print(f"Probe {probe_id} has no stored artifacts.")
    for path in written:
        console.print(str(path), markup=False)


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
    if paths.targets is not None:
        console.print(f"Every target (CSV): {paths.targets}")


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
    if paths.targets is not None:
        console.print(f"Every target (CSV): {paths.targets}")


def _classification_record(item: operations.ClassifiedFile) -> dict[str, object]:
    c = item.classification
    promise = Promise.from_detail(c.detail)
    person = c.cls in HUMAN_CLASSES
    flags = [
        flag for flag in ("deflection", "holding") if person and flag != c.cls.value and c.detail.get(flag)
    ]
    if c.detail.get("hard") == "true":
        flags.append("hard")
    if c.cls.value == "bounce" and c.detail.get("final") == "false":
        flags.append("not final")
    return {
        "file": item.file,
        "class": c.cls.value,
        "flags": flags,
        "rule": c.rule,
        "confidence": round(c.confidence, 3),
        "evidence": c.evidence,
        "ticket_id": c.detail.get("ticket_id"),
        "promise": {"says": promise.phrase, "means": promise.describe()} if promise else None,
        **({"detail": dict(c.detail)} if c.detail else {}),
        **({"error": item.error} if item.error else {}),
    }


@app.command()
def classify(
    files: Annotated[list[Path], typer.Argument(help="Email files (.eml) to classify.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per message (for scripts).")] = False,
) -> None:
    """Show what each message is: class, sub-flags, rule, confidence, why, ticket id and any promise."""
    records = [_classification_record(item) for item in operations.classify_files(files)]
    if as_json:
        for record in records:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    table = Table(show_edge=False, show_lines=True)
    for col in ("file", "class", "rule", "conf.", "ticket", "promise", "why"):
        table.add_column(col, overflow="fold")
    for r in records:
        promise = r["promise"]
        table.add_row(
            Text(Path(str(r["file"])).name),
            Text(" ".join([str(r["class"]), *map(str, cast(list[str], r["flags"]))]), style="bold"),
            Text(str(r["rule"])),
            f"{r['confidence']:.2f}",
            Text(str(r["ticket_id"] or "—")),
            Text(cast(dict[str, str], promise)["means"] if promise else "—"),
            Text(review.clean_excerpt(str(r.get("error") or r["evidence"]), 200)),
        )
    console.print(table)


# --------------------------------------------------------------------------------------------- review

ThresholdOpt = Annotated[
    float,
    typer.Option("--threshold", min=0.0, max=1.0, help="Review decisions less sure than this."),
]
WhoOpt = Annotated[
    str | None,
    typer.Option("--who", help="Your name for the audit (default: $REPLYBENCH_REVIEWER, else your login)."),
]


def _review_panel(item: review.ReviewItem, position: str) -> Panel:
    m = item.message
    lines = Text()
    lines.append(f"received {iso_ms(m.received_at)} · {m.channel} · from ", style="dim")
    lines.append(m.sender or m.envelope_from or "?")
    lines.append("\nsubject: ", style="dim")
    lines.append(review.clean_excerpt(m.subject or "", 200))
    lines.append("\nclass: ", style="dim")
    lines.append(f"{m.cls.value if m.cls else '?'}", style="bold")
    lines.append(f"  rule {m.rule} · confidence {m.confidence if m.confidence is not None else '?'}")
    if m.evidence:
        lines.append("\nwhy: ", style="dim")
        lines.append(review.clean_excerpt(m.evidence, 200))
    lines.append("\nprobe: ", style="dim")
    if item.probe is not None:
        lines.append(f"{item.probe.id} ({item.probe.target_id}, {item.probe.channel})", style="bold")
        lines.append(f"  by {m.match_method} · confidence {m.match_confidence}")
    else:
        lines.append("none")
    if m.match_detail:
        lines.append("\nmatch: ", style="dim")
        lines.append(review.clean_excerpt(m.match_detail, 200))
    lines.append("\n\n")
    lines.append(item.excerpt or "(no text)")
    return Panel(lines, title=f"message {m.id} · {position}", subtitle="; ".join(item.reasons))


def _ask_decision(store: Store, item: review.ReviewItem, name: str) -> str:
    """Prompt until the reviewer types a decision that can be applied: 'decided', 'skipped' or 'quit'."""
    while True:
        answer = typer.prompt("decision", default="", show_default=False).strip()
        key, _, rest = answer.partition(" ")
        if key == "q":
            return "quit"
        if key == "s":
            return "skipped"
        try:
            if key == "":
                review.decide(store, item.message.id, who=name, confirm=True)
            elif key == "x":
                review.decide(store, item.message.id, who=name, probe_id="")
            elif key == "p":
                review.decide(store, item.message.id, who=name, probe_id=rest.strip())
            else:
                review.decide(store, item.message.id, who=name, cls=review.parse_class(key))
        except review.ReviewError as exc:
            errors.print(f"[red]{escape(str(exc))}[/] · {review.choices_help()}")
            continue
        return "decided"


@app.command(name="review")
def review_queue(
    workspace: WorkspaceOpt = Path("."),
    threshold: ThresholdOpt = REVIEW_THRESHOLD,
    run_id: Annotated[str | None, typer.Option("--run", help="Only messages of this run.")] = None,
    who: WhoOpt = None,
    list_only: Annotated[bool, typer.Option("--list", help="Print the queue and exit.")] = False,
) -> None:
    """Confirm or correct the decisions the machine is unsure of; your decisions win in every report."""
    ws = operations.open_workspace(workspace)
    store = operations.workspace_store(ws)
    try:
        items = review.queue(store, threshold, run_id)
        if not items:
            console.print(f"Nothing to review: every decision is at least {threshold:.2f} sure or decided.")
            return
        if list_only:
            table = Table(show_edge=False)
            for col in ("message", "class", "rule", "conf.", "probe", "match", "excerpt"):
                table.add_column(col)
            for item in items:
                m = item.message
                table.add_row(
                    str(m.id),
                    m.cls.value if m.cls else "?",
                    m.rule or "",
                    f"{m.confidence:.2f}" if m.confidence is not None else "",
                    m.probe_id or "—",
                    f"{m.match_method} {m.match_confidence:.2f}" if m.match_confidence is not None else "—",
                    Text(review.clean_excerpt(item.excerpt, 80).replace("\n", " ")),
                )
            console.print(table)
            console.print(f"{len(items)} to review.")
            return
        name = review.reviewer_name(who)
        decided = 0
        console.print(review.choices_help())
        for n, item in enumerate(items, 1):
            console.print(_review_panel(item, f"{n} of {len(items)}"))
            outcome = _ask_decision(store, item, name)
            if outcome == "quit":
                break
            decided += outcome == "decided"
        console.print(f"{decided} decision(s) stored as {name}; they win in every report.")
    finally:
        store.close()


@app.command()
def override(
    message_id: Annotated[int, typer.Argument(help="The message (its id in `replybench review --list`).")],
    workspace: WorkspaceOpt = Path("."),
    cls: Annotated[
        str | None, typer.Option("--class", help="The class it really is (human, deflection, auto_ack …).")
    ] = None,
    probe_id: Annotated[str | None, typer.Option("--probe", help="The probe it really answers.")] = None,
    unmatch: Annotated[bool, typer.Option("--unmatch", help="It answers no probe.")] = False,
    confirm: Annotated[bool, typer.Option("--confirm", help="The machine was right.")] = False,
    note: Annotated[str | None, typer.Option("--note", help="Why, for the audit.")] = None,
    who: WhoOpt = None,
) -> None:
    """Decide one message's class or probe without the interactive queue (for scripts)."""
    if unmatch and probe_id:
        raise ReplybenchError("give either --probe or --unmatch, not both")
    ws = operations.open_workspace(workspace)
    store = operations.workspace_store(ws)
    try:
        updated = review.decide(
            store,
            message_id,
            who=review.reviewer_name(who),
            cls=review.parse_class(cls) if cls else None,
            probe_id="" if unmatch else probe_id,
            note=note,
            confirm=confirm,
        )
    finally:
        store.close()
    assert updated.override is not None
    console.print(
        f"message {message_id}: {updated.cls.value if updated.cls else '?'}, "
        f"probe {updated.probe_id or 'none'} (decided by {updated.override.who})",
        markup=False,
    )


# --------------------------------------------------------------------------------------------- assisted mode

AtOpt = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="When it was posted: 2026-11-24T10:03 (this machine's time zone, or --tz), with an offset, or 'now'.",
    ),
]
TzOpt = Annotated[str | None, typer.Option("--tz", help="Time zone of --at when it has no offset.")]


def _waiting_panel(probe: ProbeRecord) -> Panel:
    ev = probe.evidence
    body = Text()
    body.append(f"{ev.get('instruction', 'Post it')}\n", style="bold")
    body.append(str(ev.get("text", probe.body)) + "\n\n")
    body.append(f"then: replybench attach {probe.id} URL", style="dim")
    return Panel(body, title=f"{probe.id} · {probe.channel} · {probe.target_id}", title_align="left")


@app.command(name="assisted")
def assisted_queue(
    workspace: WorkspaceOpt = Path("."),
    prompt: Annotated[
        bool, typer.Option("--prompt", help="Ask for each post's URL (and time when it cannot be looked up).")
    ] = False,
    tz: TzOpt = None,
) -> None:
    """List the probes a person is to post (X, Facebook), with the text and where; --prompt attaches them."""
    ws = operations.open_workspace(workspace)
    store = operations.workspace_store(ws)
    try:
        probes = assisted.waiting(store)
        if not probes:
            console.print("No probe waits for a person to post it.")
            return
        console.print(f"{len(probes)} probe(s) wait for a person to post them.")
        for probe in probes:
            console.print(_waiting_panel(probe))
            if not prompt:
                continue
            while True:
                answer = typer.prompt("URL of the post (Enter: later, n: not posted)", default="").strip()
                try:
                    if not answer:
                        break
                    if answer.lower() == "n":
                        assisted.not_posted(store, probe.id, "declined in `replybench assisted`")
                        console.print(f"{probe.id}: skipped")
                        break
                    try:
                        done = asyncio.run(assisted.attach(ws, store, probe.id, answer))
                    except assisted.TimeNeeded:
                        when = typer.prompt("When was it posted? (2026-11-24T10:03, or 'now')")
                        done = asyncio.run(
                            assisted.attach(ws, store, probe.id, answer, at=assisted.parse_when(when, tz))
                        )
                    console.print(_attached_line(done))
                    break
                except ReplybenchError as exc:
                    errors.print(f"error: {exc}", markup=False)
    finally:
        store.close()


def _attached_line(done: assisted.Attached) -> str:
    how = "looked up on the network" if done.looked_up else "as given"
    return (
        f"{done.probe_id}: sent at {iso_ms(done.sent_at)} ({done.clock}, {how}); watching {done.external_id}"
    )


@app.command()
def attach(
    probe_id: Annotated[str, typer.Argument(help="The assisted probe (see `replybench assisted`).")],
    url: Annotated[str | None, typer.Argument(help="The URL of the post or message the person made.")] = None,
    workspace: WorkspaceOpt = Path("."),
    at: AtOpt = None,
    tz: TzOpt = None,
    not_posted: Annotated[
        str | None,
        typer.Option("--not-posted", help="It will not be posted (the reason); the probe is skipped."),
    ] = None,
) -> None:
    """Attach the post a person made for an assisted probe; from then on its replies are tracked."""
    ws = operations.open_workspace(workspace)
    store = operations.workspace_store(ws)
    try:
        if not_posted is not None:
            assisted.not_posted(store, probe_id, not_posted)
            console.print(f"{probe_id}: skipped (not posted: {not_posted})", markup=False)
            return
        if url is None:
            raise ReplybenchError("give the URL of the post (or --not-posted REASON)")
        when = assisted.parse_when(at, tz) if at else None
        done = asyncio.run(assisted.attach(ws, store, probe_id, url, at=when))
    finally:
        store.close()
    console.print(_attached_line(done), markup=False)


@app.command(name="add-reply")
def add_reply(
    probe_id: Annotated[str, typer.Argument(help="The social probe the reply answers.")],
    text: Annotated[str, typer.Option("--text", help="The reply's words, as posted.")],
    at: Annotated[str, typer.Option("--at", help="When the reply was posted (as the network shows it).")],
    workspace: WorkspaceOpt = Path("."),
    author: Annotated[
        str | None, typer.Option("--author", help="Who posted it (default: the company's account).")
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help="The reply's URL.")] = None,
    tz: TzOpt = None,
    who: WhoOpt = None,
) -> None:
    """Record a reply a person saw (assisted mode without API access); it is classified like any other."""
    ws = operations.open_workspace(workspace)
    store = operations.workspace_store(ws)
    try:
        probe = store.get_probe(probe_id)
        accounts = probe.evidence.get("company_accounts", []) if probe else []
        record = assisted.add_reply(
            store,
            probe_id,
            at=assisted.parse_when(at, tz),
            text=text,
            author=author or (accounts[0] if accounts else "company"),
            url=url,
            who=review.reviewer_name(who),
        )
    finally:
        store.close()
    console.print(
        f"message {record.id}: {record.cls.value if record.cls else '?'} ({record.rule}), "
        f"probe {record.probe_id or 'none'}, received {iso_ms(record.received_at)} (manual)",
        markup=False,
    )


# --------------------------------------------------------------------------------------------- compare, sla

_VERDICT_STYLE = {"better": "green", "worse": "bold red", "no evidence": "dim"}
_STATUS_STYLE = {"met": "green", "breached": "bold red", "undetermined": "yellow", "no data": "dim"}
_BY_CHOICES = ("target", "channel", "industry", "suite", "overall")


def _two_lines(first: str, second: str = "", style: str = "") -> Text:
    text = Text(first, style=style)
    if second:
        text.append("\n" + second, style="dim")
    return text


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}"


def _median_cell(g: GroupComparison, side: str) -> str:
    summary = g.a if side == "a" else g.b
    if summary.sent == 0:
        return "—"
    value = summary.first_human.median_s
    return "not reached" if value is None else format_duration(value)


def _comparison_table(report: ComparisonReport) -> Table:
    """One row per group: sent A/B, human reply rates, medians, verdict; fits 80 columns."""
    c = report.comparison
    table = Table(header_style="bold", show_edge=False, pad_edge=False, expand=False)
    table.add_column(c.by.title() if c.by != "overall" else "", min_width=8, ratio=1)
    table.add_column("Sent\nA/B", justify="right", no_wrap=True)
    table.add_column("Human\nreply %", justify="right", no_wrap=True)
    table.add_column("Median\nA", justify="right", no_wrap=True)
    table.add_column("Median\nB", justify="right", no_wrap=True)
    table.add_column("Verdict\n(log-rank)", no_wrap=True)
    breached = {(b.key, b.overall) for b in report.breaches}
    for g in c.groups:
        if g.overall and len(c.groups) > 1:
            table.add_section()
        diff = (
            ""
            if g.rate_difference is None
            else f"{round(g.rate_difference * 100):+d}pp {p_text(g.rate_pvalue, spaced=False)}"
        )
        change = g.median_increase
        change_text = (
            "" if change is None else ("+∞" if change == float("inf") else f"{round(change * 100):+d} %")
        )
        if change == float("-inf"):
            change_text = "−∞"
        p_cell = "no test" if g.pvalue is None else p_text(g.pvalue, spaced=False)
        verdict = _two_lines(g.verdict, p_cell, _VERDICT_STYLE[g.verdict])
        if (g.key, g.overall) in breached:
            verdict.append(" ✗", style="bold red")
        table.add_row(
            Text(g.label, style="bold" if g.overall else ""),
            f"{g.a.sent}/{g.b.sent}",
            _two_lines(f"{_pct(g.a.human_rate.value)} → {_pct(g.b.human_rate.value)}", diff),
            _median_cell(g, "a"),
            _two_lines(_median_cell(g, "b"), change_text),
            verdict,
        )
    return table


def _print_comparison(report: ComparisonReport) -> None:
    c = report.comparison
    console.print(Text(f"A: {c.a.description}"), Text(f"B: {c.b.description}"), sep="\n")
    console.print(_comparison_table(report))
    adjusted = c.adjust == "holm" and c.tests > 1
    note = (
        f"Verdict: two-sided log-rank test on the time to first human reply (no reply: censored at the "
        f"wait limit), α = {c.alpha:g}"
        + (f", p Holm-adjusted over {c.tests} tests" if adjusted else "")
        + "; better/worse = B answers sooner/later than A. Medians: Kaplan–Meier. Rate p: Fisher exact."
    )
    console.print(Text(note, style="dim"))
    for name, only in (("A", c.only_a), ("B", c.only_b)):
        if only:
            console.print(Text(f"Only in {name} (not compared): {', '.join(only)}", style="yellow"))
    for breach in report.breaches:
        console.print(Text(f"✗ {breach.message}", style="bold red"))
    if report.thresholds.any:
        if report.failed:
            console.print(Text(f"FAIL: {len(report.breaches)} threshold(s) breached.", style="bold red"))
        else:
            console.print(Text("OK: no threshold breached.", style="green"))


@app.command()
def compare(
    runs: Annotated[
        list[str] | None,
        typer.Argument(
            help="RUN_A RUN_B; or one run, compared with the run of its suite before it; "
            "none: the two latest runs (of --suite). With --targets/--channels: the runs to pool.",
            show_default=False,
        ),
    ] = None,
    workspace: WorkspaceOpt = Path("."),
    suite: Annotated[
        str | None, typer.Option("--suite", help="Compare the two latest runs of SUITE.")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Rows: target, channel, industry, suite or overall.")
    ] = None,
    targets: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--targets", help="Compare target A with target B within the run(s).", show_default=False
        ),
    ] = None,
    channels: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--channels", help="Compare channel A with channel B within the run(s).", show_default=False
        ),
    ] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="Significance level of the verdict.")] = 0.05,
    adjust: Annotated[
        str, typer.Option("--adjust", help="holm (adjust p-values over the rows) or none.")
    ] = "holm",
    fail_on_worse: Annotated[
        bool, typer.Option("--fail-on-worse", help="Exit 1 when any row's verdict is 'worse'.")
    ] = False,
    max_median_increase: Annotated[
        str | None,
        typer.Option("--max-median-increase", help="Exit 1 when a median rises more: '20%' or '30m'."),
    ] = None,
    max_rate_drop: Annotated[
        str | None,
        typer.Option("--max-rate-drop", help="Exit 1 when a human reply rate falls more: '10%' (points)."),
    ] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML to FILE.")] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the comparison as JSON to FILE.")
    ] = None,
) -> None:
    """Compare two runs (or two targets or channels): reply rates, medians, and a log-rank verdict.

    Exit code 1 when a threshold (--fail-on-worse, --max-median-increase, --max-rate-drop) is breached.
    """
    if by is not None and by not in _BY_CHOICES:
        raise ReplybenchError(f"--by must be one of {', '.join(_BY_CHOICES)}, not {by!r}")
    if adjust not in ("holm", "none"):
        raise ReplybenchError(f"--adjust must be holm or none, not {adjust!r}")
    thresholds = operations.comparison_thresholds(
        fail_on_worse=fail_on_worse, max_median_increase=max_median_increase, max_rate_drop=max_rate_drop
    )
    ws = operations.open_workspace(workspace)
    report = operations.compare(
        ws,
        runs or (),
        suite=suite,
        targets=targets,
        channels=channels,
        by=cast(GroupBy | None, by),
        alpha=alpha,
        adjust=cast(Adjust, adjust),
        thresholds=thresholds,
    )
    _print_comparison(report)
    for path in operations.write_ci_files(report, junit=junit, json_path=json_path):
        errors.print(f"Wrote {path}", highlight=False)
    if report.failed:
        raise typer.Exit(1)


def _sla_tables(report: SlaReport) -> list[Table]:
    tables = []
    for i, sla in enumerate(report.slas, 1):
        sla_id = f"sla{i}"
        table = Table(
            title=Text(f"{sla_id}: {describe_sla(sla)}"),
            title_justify="left",
            header_style="bold",
            show_edge=False,
        )
        table.add_column("Target", min_width=10, ratio=1)
        for name in ("Sent", "Met", "Missed", "Open"):
            table.add_column(name, justify="right", no_wrap=True)
        table.add_column("Share\n(95 % CI)", justify="right", no_wrap=True)
        table.add_column("Status", no_wrap=True)
        for r in (r for r in report.results if r.sla_id == sla_id):
            if r.overall:
                table.add_section()
            ci = (
                ""
                if r.rate.low is None or r.rate.high is None
                else f"{_pct(r.rate.low)}–{_pct(r.rate.high)} %"
            )
            status = Text(r.status, style=_STATUS_STYLE[r.status])
            if report.failing(r):
                status.append(" ✗", style="bold red")
            table.add_row(
                Text(r.label, style="bold" if r.overall else ""),
                str(r.n),
                str(r.met),
                str(r.missed),
                str(r.undetermined),
                _two_lines("—" if r.rate.value is None else f"{_pct(r.rate.value)} %", ci),
                status,
            )
        tables.append(table)
    return tables


@app.command()
def sla(
    workspace: WorkspaceOpt = Path("."),
    run_id: Annotated[str | None, typer.Option("--run", help="Run id (default: the latest run).")] = None,
    suite: Annotated[str | None, typer.Option("--suite", help="Use the latest run of SUITE.")] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Also fail SLAs that are undetermined or have no data.")
    ] = False,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML to FILE.")] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the results as JSON to FILE.")
    ] = None,
) -> None:
    """Check a run against its suite's SLAs, per target and overall. Exit code 1 when an SLA is breached.

    An SLA is breached when the share of sent probes answered within its time is below its target rate
    (point estimate; the 95 % Wilson interval is shown for information).
    """
    ws = operations.open_workspace(workspace)
    report = operations.check_slas(ws, run_id, suite=suite, strict=strict)
    console.print(Text(f"SLAs of suite {report.suite!r}, run {', '.join(report.runs)}"))
    for table in _sla_tables(report):
        console.print(table)
    console.print(
        Text(
            "Share: sent probes answered within the SLA time (point estimate, compared with the target); "
            "Open: followed for less than that time without a reply.",
            style="dim",
        )
    )
    for path in operations.write_ci_files(report, junit=junit, json_path=json_path):
        errors.print(f"Wrote {path}", highlight=False)
    failures = report.failures
    if failures:
        for r in failures:
            console.print(Text(f"✗ {r.sla_id}: {r.message()}", style="bold red"))
        console.print(Text(f"FAIL: {len(failures)} SLA result(s) failed.", style="bold red"))
        raise typer.Exit(1)
    console.print(
        Text("OK: every SLA met" + ("" if report.strict else " or not yet decidable") + ".", style="green")
    )


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
