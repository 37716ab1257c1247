"""Web-form benchmark: contact-form probes in headless Chromium against the sandbox, on 127.0.0.1.

For 1, 4 and 8 concurrent browser contexts, sends a batch of form probes (labelled, German placeholder,
multi-step and honeypot forms in turn) and reports per-probe latency (median, p95: from a free context to
the confirmation, and end to end including the wait for a context), throughput, failures (any outcome but
sent, and any inquiry the sandbox did not receive exactly once) and the peak memory of the Chromium process
tree, read from /proc (RSS summed, which counts shared pages once per process, and PSS, which does not).

``python -m tests.perf.form_bench [--probes 24] [--no-screenshots]`` prints one JSON object. Goals: median
under 2 s per form, 8 concurrent contexts on 2 cores without failures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from replybench.browser import BrowserPool, find_chromium
from replybench.channels.base import OutboundProbe
from replybench.channels.webform import WebFormChannel
from replybench.errors import SendOutcomeError
from replybench.models import (
    EmailIdentity,
    Endpoints,
    FormEndpoint,
    Persona,
    SandboxBehaviour,
    SandboxForm,
    Target,
)
from replybench.sandbox import Sandbox
from tests.outbound import outbound_probe
from tests.perf.stats import pct
from tests.sandbox.helpers import Sink

VARIANTS: tuple[SandboxForm, ...] = ("labels", "placeholders", "multistep", "honeypot")
LEVELS = (1, 4, 8)
PERSONA = Persona(
    id="bench",
    display_name="Bea Bench",
    locale="en-GB",
    timezone="Europe/Vienna",
    email=EmailIdentity(address="bea@probes.example"),
)


# ------------------------------------------------------------------------------------------ memory


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name in parentheses may itself hold spaces or parentheses: split after the last ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(root: int) -> list[int]:
    tree = _children()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        for child in tree.get(pid, []):
            found.append(child)
            todo.append(child)
    return found


def _memory_kb(pid: int) -> tuple[str, int, int]:
    """(command, RSS kB, PSS kB) of one process; zeros when it is gone."""
    base = Path(f"/proc/{pid}")
    try:
        command = (base / "comm").read_text().strip()
        rss = next(
            int(line.split()[1])
            for line in (base / "status").read_text().splitlines()
            if line.startswith("VmRSS:")
        )
        pss = next(
            (
                int(line.split()[1])
                for line in (base / "smaps_rollup").read_text().splitlines()
                if line.startswith("Pss:")
            ),
            0,
        )
    except (OSError, StopIteration, ValueError):
        return "", 0, 0
    return command, rss, pss


class TreeSampler:
    """Samples the memory of this process's Chromium descendants every ``interval`` seconds, in a thread."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rows = [_memory_kb(pid) for pid in _descendants(os.getpid())]
            chromium = [(rss, pss) for command, rss, pss in rows if "chrom" in command.lower()]
            self.peak_rss_kb = max(self.peak_rss_kb, sum(r for r, _ in chromium))
            self.peak_pss_kb = max(self.peak_pss_kb, sum(p for _, p in chromium))
            self.peak_processes = max(self.peak_processes, len(chromium))
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# ------------------------------------------------------------------------------------------ the run


def _company(variant: SandboxForm) -> Target:
    return Target(
        id=variant,
        name=f"{variant.title()} AG",
        endpoints=Endpoints(form=FormEndpoint(url="http://sandbox.invalid/contact")),
        sandbox=SandboxBehaviour(profile="fast", form=variant),
    )


def _probe(target: Target) -> OutboundProbe:
    return outbound_probe(
        target,
        PERSONA,
        subject="Do you deliver on Saturdays?",
        body="Hello,\n\ndo you deliver on Saturdays? I am not at home during the week.\n\nBea",
        domain="probes.example",
        id_prefix="bench",
    )


async def _level(
    sandbox: Sandbox, contexts: int, probes: int, screenshots: bool, chromium: str | None
) -> dict[str, Any]:
    companies = [_company(v) for v in VARIANTS]
    pool = BrowserPool(size=contexts, executable=chromium)
    channel = WebFormChannel(pool, url_for=lambda t: sandbox.web.url(t.id, "form"), screenshots=screenshots)
    try:
        await channel.send(_probe(companies[0]))  # warm-up: launch the browser
        batch = [_probe(companies[i % len(companies)]) for i in range(probes)]
        service: list[float] = []
        total: list[float] = []
        failures: list[str] = []
        sent: set[str] = set()

        async def one(probe: OutboundProbe) -> None:
            started = time.monotonic()
            try:
                receipt = await channel.send(probe)
            except SendOutcomeError as exc:
                failures.append(f"{probe.target.id}: {type(exc).__name__}: {exc}")
                return
            elapsed = time.monotonic() - started
            sent.add(probe.token)
            total.append(elapsed)
            service.append(elapsed - receipt.evidence["timings_ms"]["context"] / 1000)

        with TreeSampler() as sampler:
            started = time.monotonic()
            await asyncio.gather(*(one(p) for p in batch))
            wall = time.monotonic() - started
        submissions = [str(r.detail["fields"]["email"]) for r in sandbox.truth.web("form_submission")]
        for probe in batch:
            received = sum(probe.token in address for address in submissions)
            if received > 1 or (probe.token in sent and received != 1):
                failures.append(f"{probe.target.id}: the sandbox received it {received} times")
    finally:
        await pool.close()
    return {
        "contexts": contexts,
        "probes": probes,
        "sent": len(total),
        "failures": len(failures),
        "failure_examples": failures[:3],
        "wall_s": round(wall, 2),
        "throughput_per_s": round(len(total) / wall, 2) if wall else None,
        "latency_median_s": round(statistics.median(service), 3) if service else None,
        "latency_p95_s": round(pct(service, 0.95), 3) if service else None,
        "end_to_end_median_s": round(statistics.median(total), 3) if total else None,
        "end_to_end_p95_s": round(pct(total, 0.95), 3) if total else None,
        "chromium_peak_rss_mb": round(sampler.peak_rss_kb / 1024, 1),
        "chromium_peak_pss_mb": round(sampler.peak_pss_kb / 1024, 1),
        "chromium_peak_processes": sampler.peak_processes,
    }


async def run_form_bench(
    *, probes: int = 24, levels: Sequence[int] = LEVELS, screenshots: bool = True
) -> dict[str, Any]:
    """Run the benchmark at each concurrency level; returns JSON-ready figures (see the module docstring)."""
    chromium = find_chromium()
    sink = await Sink().start()
    sandbox = Sandbox([_company(v) for v in VARIANTS], default_route=sink.route, time_scale=1000)
    await sandbox.start()
    try:
        results = [await _level(sandbox, n, probes, screenshots, chromium) for n in levels]
    finally:
        await sandbox.stop()
        await sink.stop()
    single = next((r for r in results if r["contexts"] == 1), results[0])
    widest = max(results, key=lambda r: r["contexts"])
    return {
        "cpus": os.cpu_count(),
        "chromium": chromium,
        "screenshots": screenshots,
        "levels": results,
        "goals": {
            "median_under_2s": single["latency_median_s"] is not None and single["latency_median_s"] < 2.0,
            f"{widest['contexts']}_contexts_without_failures": widest["failures"] == 0,
        },
    }


def main() -> None:
    """Command line: print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--probes", type=int, default=24, help="probes per concurrency level")
    parser.add_argument("--no-screenshots", action="store_true")
    args = parser.parse_args()
    figures = asyncio.run(run_form_bench(probes=args.probes, screenshots=not args.no_screenshots))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
