"""The harness's own benchmarks: timing accuracy, reply detection latency, send throughput, web forms, chat,
social channels.

Run with ``nox -s perf`` (or ``python -m tests.perf``). Prints figures and the goals they are read
against; nothing here passes or fails on a timing. Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiosmtplib

from replybench.analysis.outcomes import build_outcomes
from replybench.channels.email import EmailChannel
from replybench.engine.runner import Engine, RunOptions
from replybench.netutil import free_port
from replybench.sandbox import Route, Sandbox
from replybench.store import Store, open_store
from replybench.workspace import load_workspace
from tests.engine.helpers import write_workspace
from tests.perf.stats import pct


def fast_workspace(root: Path, targets: int, scripts: int, mode: str, wait: str = "15s") -> Path:
    behaviours = {
        f"co{i:02d}": '{ profile = "fast", human_median = "1.5s", human_sigma = 0.5 }' for i in range(targets)
    }
    return write_workspace(
        root, behaviours, wait=wait, until="human", window="3s", scripts=scripts, mode=mode
    )


def accuracy_report(label: str, store: Store, truth, run_id: str, arrival: str) -> None:
    """Max |measured − true| response time and arrival → stored latency, against sandbox ground truth.

    ``arrival`` names the truth field that marks a reply's arrival: ``sent_at`` (the company began the SMTP
    transaction to us) for the inbound SMTP server, ``delivered_at`` (Dovecot accepted it) for IMAP.
    """
    probes = {p.id: p for p in store.probes(run_id)}
    errors, latencies = [], []
    for outcome in build_outcomes(store, [run_id]):
        if outcome.first_human_at is None:
            continue
        probe = probes[outcome.probe_id]
        human = next(r for r in truth.replies_for(probe.token) if r.kind == "human")
        true_s = human.delivered_at - next(t for t in truth.probes if t.token == probe.token).received_at
        errors.append(abs(outcome.human_response_s - true_s.total_seconds()))
    for m in store.messages(run_id=run_id):
        reply = truth.reply(m.message_id) if m.message_id else None
        arrived = getattr(reply, arrival) if reply is not None else None
        if arrived is not None:
            latencies.append((m.observed_at - arrived).total_seconds())
    print(
        f"  {label}: {len(errors)} human replies timed; max |measured - true| = {max(errors) * 1000:.1f} ms,"
        f" median {statistics.median(errors) * 1000:.1f} ms"
    )
    if latencies:
        print(
            f"  {label}: detection latency (arrival -> stored) over {len(latencies)} messages:"
            f" p50 {pct(latencies, 0.5) * 1000:.0f} ms, p99 {pct(latencies, 0.99) * 1000:.0f} ms,"
            f" max {max(latencies) * 1000:.0f} ms (arrival = {arrival})"
        )


def bench_inbound_smtp(tmp: Path) -> None:
    print("Timing accuracy, inbound SMTP listener (goal: max error <= 50 ms; p99 latency < 1 s)")
    root = fast_workspace(tmp / "smtp", targets=10, scripts=3, mode="sandbox")
    ws = load_workspace(root)
    store = open_store(ws.settings.store, ws.root)

    async def main():
        from replybench.engine.environment import open_environment

        async with open_environment(ws, store, seed=5) as env:
            run = await Engine(ws, store, env.channels).run("suite", RunOptions())
            return run, env.sandbox.truth

    run, truth = asyncio.run(main())
    accuracy_report("smtp", store, truth, run.id, "sent_at")


def bench_imap(tmp: Path) -> None:
    print(
        "Timing accuracy, IMAP IDLE listener on Dovecot (goal: max error <= 1 s; Dovecot adds 0.5 s to IDLE)"
    )
    from tests.servers.dovecot import DEFAULT_USERS, DovecotServer, dovecot_binary

    if dovecot_binary() is None:
        print("  skipped: dovecot is not installed")
        return
    folder = Path(tempfile.mkdtemp(prefix="replybench-perf-dovecot-"))
    folder.chmod(0o755)
    server = DovecotServer(folder)
    server.start()
    try:
        root = fast_workspace(tmp / "imap", targets=10, scripts=3, mode="live")
        bench = root / "benchmarks" / "suite.toml"
        bench.write_text(bench.read_text().replace("ann@probes.example", "alice@probes.example"))
        ws = load_workspace(root)
        store = open_store(ws.settings.store, ws.root)
        env = {"U": "alice", "P": DEFAULT_USERS["alice"]}

        async def main():
            route = Route("127.0.0.1", server.lmtp_port, "lmtp")
            async with Sandbox(
                list(ws.targets.values()), routes={"probes.example": route}, seed=5
            ) as sandbox:
                settings = ws.settings.email.model_validate(
                    {
                        "outbound": {"host": "127.0.0.1", "port": sandbox.relay[1], "security": "none"},
                        "listener": "imap",
                        "imap": {
                            "host": "127.0.0.1",
                            "port": server.imap_port,
                            "security": "none",
                            "username_env": "U",
                            "password_env": "P",
                        },
                    }
                )
                channel = EmailChannel(settings, env=env, cursor=store)
                run = await Engine(ws, store, {"email": channel}).run("suite", RunOptions())
                return run, sandbox.truth

        run, truth = asyncio.run(main())
        accuracy_report("imap", store, truth, run.id, "delivered_at")
    finally:
        server.cleanup()


async def _start_sink() -> tuple[asyncio.subprocess.Process, int]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.perf.sink", str(port), stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    await proc.stdout.readline()  # READY
    return proc, port


def bench_throughput(tmp: Path, count: int, connections: int) -> None:
    print(
        f"Send throughput, {count} probes over {connections} connections to a count-only aiosmtpd sink"
        " (goal: replybench / raw aiosmtplib >= 0.7)"
    )
    targets = 20
    root = write_workspace(
        tmp / "tp",
        {f"t{i:02d}": '{ profile = "never" }' for i in range(targets)},
        wait="1s",
        window="0s",
        scripts=count // targets,
        mode="live",
    )
    ws = load_workspace(root)
    store = open_store(ws.settings.store, ws.root)
    probes_text = "Question for X\n\nHello, do you deliver on Saturdays?\nAnn Example\n"

    async def main() -> tuple[float, float, int, int]:
        sink, port = await _start_sink()
        try:
            # raw aiosmtplib: the same number of messages over the same number of connections
            async def raw_worker(n: int) -> int:
                smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="bench.invalid")
                await smtp.connect()
                for i in range(n):
                    msg = f"From: a@b.example\r\nTo: help@t.example\r\nSubject: {i}\r\n\r\n{probes_text}"
                    await smtp.sendmail("a@b.example", ["help@t.example", "a+copy@b.example"], msg)
                await smtp.quit()
                return n

            start = time.perf_counter()
            raw_count = sum(
                await asyncio.gather(*(raw_worker(count // connections) for _ in range(connections)))
            )
            raw_s = time.perf_counter() - start

            settings = ws.settings.email.model_validate(
                {
                    "outbound": {
                        "host": "127.0.0.1",
                        "port": port,
                        "security": "none",
                        "connections": connections,
                    },
                    "listener": "smtp",
                    "smtp": {"host": "127.0.0.1", "port": free_port()},
                }
            )
            ws_live = ws.model_copy(update={"settings": ws.settings.model_copy(update={"email": settings})})
            engine = Engine(ws_live, store, {"email": EmailChannel(settings, cursor=store)})
            run, _ = engine.start_or_resume("suite")
            await engine.run("suite", RunOptions(tick=0.02))
            probes = [p for p in store.probes(run.id) if p.sent_at is not None]
            first = min(p.attempt_at for p in probes)
            last = max(p.sent_at for p in probes)
            return raw_s, (last - first).total_seconds(), raw_count, len(probes)
        finally:
            sink.terminate()
            await sink.wait()

    raw_s, rb_s, raw_n, rb_n = asyncio.run(main())
    raw_rate, rb_rate = raw_n / raw_s, rb_n / rb_s
    print(f"  raw aiosmtplib: {raw_n} messages in {raw_s:.2f} s = {raw_rate:.0f} msg/s")
    print(
        f"  replybench run: {rb_n} probes in {rb_s:.2f} s = {rb_rate:.0f} msg/s"
        f" (store commits sending + sent per probe, fsync on)"
    )
    print(f"  ratio: {rb_rate / raw_rate:.2f}")


def bench_report(probes: int, targets: int, channels: int) -> None:
    """The analysis and report pipeline at scale, in its own process (so its peak RSS is its own)."""
    print(
        f"Report at scale: {probes:,} synthetic probes, {targets:,} targets, {channels} channels"
        " (goal: statistics + HTML + Markdown < 10 s and < 1 GB peak RSS)"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.perf.report_bench",
            "--n",
            str(probes),
            "--targets",
            str(targets),
            "--channels",
            str(channels),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    f = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"  summarize by target {f['summarize_by_target_s']} s + report {f['report_s']} s"
        f" = {f['pipeline_s']} s; peak RSS {f['peak_rss_mb']} MB"
        f" (of which {f['rss_after_generate_mb']} MB is the outcome rows); HTML {f['html_mb']} MB,"
        f" Markdown {f['markdown_mb']} MB"
    )
    print(
        f"  pandas + lifelines, per-target KM medians only: frame {f['pandas_frame_s']} s"
        f" + fits {f['lifelines_fit_s']} s = {f['ratio_lifelines_to_summarize']}x replybench's summarize;"
        f" medians that disagree beyond the documented convention: {f['median_disagreements']}"
    )


def bench_parse() -> None:
    from tests.perf.parse_bench import GOAL_S, describe, run_parse_bench

    print(f"Parsing pathological messages (goal: each < {GOAL_S:.0f} s for parse and for classify_bytes)")
    print("\n".join(describe(run_parse_bench())))
    bench_classify_corpus()


def bench_classify_corpus(rounds: int = 20) -> None:
    """Classification throughput over the realistic corpus (parse + classify, one message at a time)."""
    from replybench.classify import classify_bytes

    raws = [
        p.read_bytes() for p in sorted((Path(__file__).parents[1] / "resources" / "emails").glob("*.eml"))
    ]
    started = time.perf_counter()
    for _ in range(rounds):
        for raw in raws:
            classify_bytes(raw)
    per_message = (time.perf_counter() - started) / (rounds * len(raws))
    print(
        f"Classifying the corpus ({len(raws)} messages x {rounds}): {per_message * 1000:.2f} ms per message, "
        f"{1 / per_message:.0f} messages/s on one core"
    )


def bench_browser(form_probes: int, chat_probes: int) -> None:
    """Web forms (latency, throughput at 1/4/8 contexts, memory) and chat timing accuracy, real Chromium."""
    from tests.perf.chat_bench import describe, run_chat_bench
    from tests.perf.form_bench import run_form_bench

    print(
        f"Web forms against the sandbox: {form_probes} probes per level"
        " (goals: median < 2 s per form; 8 concurrent contexts on 2 cores without failures)"
    )
    forms = asyncio.run(run_form_bench(probes=form_probes))
    for level in forms["levels"]:
        print(
            f"  {level['contexts']} context(s): median {level['latency_median_s']} s, p95 {level['latency_p95_s']} s"
            f" (end to end {level['end_to_end_median_s']} s / {level['end_to_end_p95_s']} s);"
            f" {level['throughput_per_s']} forms/s; failures {level['failures']};"
            f" Chromium peak PSS {level['chromium_peak_pss_mb']} MB (RSS sum {level['chromium_peak_rss_mb']} MB)"
        )
    print("\n".join(describe(asyncio.run(run_chat_bench(chat_probes, 4)))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only",
        choices=["email", "report", "browser", "parse", "social"],
        help="run one group of benchmarks",
    )
    parser.add_argument("--form-probes", type=int, default=24, help="form probes per concurrency level")
    parser.add_argument("--chat-probes", type=int, default=24, help="chats for the timing accuracy benchmark")
    parser.add_argument("--count", type=int, default=1000, help="probes for the throughput benchmark")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--report-probes", type=int, default=1_000_000)
    parser.add_argument("--report-targets", type=int, default=10_000)
    parser.add_argument("--social-targets", type=int, default=20, help="companies for the Mastodon benchmark")
    args = parser.parse_args()
    if args.only in (None, "email"):
        with tempfile.TemporaryDirectory() as tmp:
            bench_inbound_smtp(Path(tmp))
            bench_imap(Path(tmp))
            bench_throughput(Path(tmp), args.count, args.connections)
    if args.only in (None, "report"):
        bench_report(args.report_probes, args.report_targets, 5)
    if args.only in (None, "parse"):
        bench_parse()
    if args.only in (None, "browser"):
        bench_browser(args.form_probes, args.chat_probes)
    if args.only in (None, "social"):
        from tests.perf.social_bench import bench as bench_social

        bench_social(args.social_targets)


if __name__ == "__main__":
    main()
