"""Social-channel benchmarks: Mastodon timing accuracy, detection latency (stream vs polling), ingest cost.

The engine posts to the sandbox's Mastodon-compatible server on 127.0.0.1 and listens on its streaming API
(or, with the stream switched off, by polling notifications every second). Against the server's ground truth:

* timing accuracy: |received_at − the status's created_at| for every reply (goal: 0, the network's own time);
* detection latency: created_at → stored (observed_at), p50 / p99 / max, per listening mode;
* ingest cost: parse + match + classify per stored social item, re-run over everything stored.

``python -m tests.perf.social_bench [--targets 20] [--json]``; also ``nox -s perf -- --only social``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from replybench.engine.environment import open_environment
from replybench.engine.ingest import Ingestor
from replybench.engine.runner import Engine, RunOptions
from replybench.store import open_store
from replybench.workspace import load_workspace
from tests.engine.helpers import write_workspace
from tests.perf.stats import pct

PERSONA = 'mastodon = { account = "ann@social.sandbox.example", server = "https://social.sandbox.example" }'


def _workspace(root: Path, targets: int) -> Path:
    behaviours = {
        f"co{i:02d}": '{ profile = "fast", human_median = "1s", human_sigma = 0.3 }' for i in range(targets)
    }
    endpoints = {tid: f'endpoints.mastodon.account = "{tid}@social.sandbox.example"' for tid in behaviours}
    return write_workspace(
        root,
        behaviours,
        wait="30s",
        until="horizon",
        window="2s",
        endpoints=endpoints,
        channels=("mastodon",),
        persona=PERSONA,
        body="Do you deliver on Saturdays?",
        settings='[social]\npoll_interval = "1s"\n',
    )


def run_mode(targets: int, streaming: bool) -> dict[str, Any]:
    """One run of the suite with the stream on or off; figures against the server's ground truth."""
    with tempfile.TemporaryDirectory() as tmp:
        root = _workspace(Path(tmp) / "ws", targets)
        ws = load_workspace(root)
        store = open_store(ws.settings.store, ws.root)

        async def main() -> list[Any]:
            async with open_environment(ws, store, seed=1) as env:
                assert env.sandbox is not None
                env.sandbox.mastodon.streaming = streaming
                await Engine(ws, store, env.channels).run("suite", RunOptions(tick=0.1))
                return list(env.sandbox.mastodon.truth)

        truth = asyncio.run(main())
        replies = {f"mastodon:{r.status_id}": r for r in truth if r.kind != "inquiry"}
        messages = [m for m in store.messages() if m.message_id in replies]
        errors = [abs((m.received_at - replies[m.message_id].created_at).total_seconds()) for m in messages]
        latency = [(m.observed_at - replies[m.message_id].created_at).total_seconds() for m in messages]
        matched = sum(1 for m in messages if m.probe_id)
        started = time.perf_counter()
        ingestor = Ingestor(store)
        for m in store.messages():
            ingestor.process(m.id)
        ingest_ms = (time.perf_counter() - started) * 1000 / max(1, len(store.messages()))
        store.close()
    return {
        "mode": "stream" if streaming else "polling (1 s)",
        "replies": len(replies),
        "stored": len(messages),
        "matched": matched,
        "max_error_s": max(errors, default=None),
        "latency_p50_ms": round(pct(latency, 0.5) * 1000, 1) if latency else None,
        "latency_p99_ms": round(pct(latency, 0.99) * 1000, 1) if latency else None,
        "latency_max_ms": round(max(latency) * 1000, 1) if latency else None,
        "ingest_ms_per_item": round(ingest_ms, 2),
    }


def bench(targets: int = 20) -> list[dict[str, Any]]:
    """Both listening modes, printed as one line each."""
    results = [run_mode(targets, True), run_mode(targets, False)]
    print(f"Mastodon through the engine against the sandbox's ground truth, {targets} companies:")
    for r in results:
        print(
            f"  {r['mode']}: {r['stored']}/{r['replies']} replies stored, {r['matched']} matched;"
            f" max |received_at − created_at| {r['max_error_s']} s (goal 0);"
            f" created → stored p50 {r['latency_p50_ms']} ms, p99 {r['latency_p99_ms']} ms,"
            f" max {r['latency_max_ms']} ms; re-ingest {r['ingest_ms_per_item']} ms per item"
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = bench(args.targets)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
