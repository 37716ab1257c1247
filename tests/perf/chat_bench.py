"""Chat timing accuracy: the chat channel's page-clock stamps against the sandbox's socket writes.

Real Chromium, the real sandbox chat widget, several chats at once. For every company-side message the error
is |page stamp − the moment the sandbox wrote it to the WebSocket|; for every probe the response-time error is
|(agent stamp − sent_at) − (agent write − the sandbox's read of our message)|. Goal: max error ≤ 100 ms.

Run alone with ``python -m tests.perf.chat_bench [--probes N] [--sessions N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Sequence
from typing import Any

from replybench.browser import BrowserPool
from replybench.channels.base import InboundItem, OutboundProbe, SendReceipt
from replybench.channels.chat import ChatChannel
from replybench.channels.chatlog import ChatMessage
from replybench.models import ChatEndpoint, EmailIdentity, Endpoints, Persona, SandboxBehaviour, Target
from replybench.sandbox import Sandbox
from tests.outbound import outbound_probe

GOAL_MS = 100.0
PERSONA = Persona(id="anna", display_name="Anna Example", email=EmailIdentity(address="anna@probe.example"))


def _target(index: int) -> Target:
    return Target(
        id=f"chat{index:02d}",
        name=f"Chat Company {index}",
        endpoints=Endpoints(
            chat=ChatEndpoint(url=f"https://chat{index:02d}.example/chat", wait="30s", after_human="0.2s")
        ),
        sandbox=SandboxBehaviour(chat="live", chat_human_median="1.5s"),
    )


def _probe(target: Target, n: int) -> OutboundProbe:
    return outbound_probe(
        target,
        PERSONA,
        subject="Question",
        body="Hello, do you deliver on Saturdays? (ref {token})",
        id_prefix=f"bench-{n}",
    )


def _stats(errors_s: Sequence[float]) -> dict[str, float]:
    ms = sorted(e * 1000 for e in errors_s)
    if not ms:
        return {"n": 0}
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {
        "n": len(ms),
        "max_ms": round(ms[-1], 2),
        "median_ms": round(statistics.median(ms), 2),
        "p95_ms": round(p95, 2),
    }


async def run_chat_bench(
    probes: int = 24,
    sessions: int = 4,
    companies: int = 6,
    screenshots: bool = True,
    browser_args: Sequence[str] = (),
) -> dict[str, Any]:
    """Send ``probes`` chat inquiries (``sessions`` at a time) and compare every stamp with ground truth."""
    targets = [_target(i) for i in range(companies)]
    pool = BrowserPool(size=sessions, extra_args=browser_args)
    items: list[InboundItem] = []
    receipts: dict[str, tuple[OutboundProbe, SendReceipt]] = {}
    failures: list[str] = []
    started = time.perf_counter()
    async with Sandbox(targets, time_scale=1.0, seed=42) as sandbox:
        channel = ChatChannel(
            pool, sessions=sessions, url_for=lambda t: sandbox.web.url(t.id, "chat"), screenshots=screenshots
        )

        async def sink(item: InboundItem) -> None:
            items.append(item)

        listener = asyncio.create_task(channel.listen(sink))
        sends: list[asyncio.Task[None]] = []

        async def send(probe: OutboundProbe) -> None:
            try:
                receipts[probe.probe_id] = (probe, await channel.send(probe))
            except Exception as exc:
                failures.append(f"{probe.probe_id}: {type(exc).__name__}: {exc}")

        try:
            for n in range(probes):
                while not channel.ready():
                    await asyncio.sleep(0.02)
                sends.append(asyncio.create_task(send(_probe(targets[n % companies], n))))
                await asyncio.sleep(0.05)  # let the send take its slot before ready() is asked again
            await asyncio.gather(*sends)
            while channel.active:
                await asyncio.sleep(0.05)
        finally:
            await channel.aclose()
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
            await pool.close()
        truth = sandbox.truth.web("chat_message")
    elapsed = time.perf_counter() - started

    messages: dict[str, list[ChatMessage]] = {}
    for item in items:
        message = ChatMessage.from_json(item.raw)
        messages.setdefault(message.probe_id, []).append(message)
    stamp_errors: list[float] = []
    agent_errors: list[float] = []
    response_errors: list[float] = []
    sent_errors: list[float] = []
    for probe_id, (probe, receipt) in receipts.items():
        visitor = next(r for r in truth if r.author == "visitor" and probe.token in (r.text or ""))
        said = [r for r in truth if r.conversation == visitor.conversation and r.author != "visitor"]
        seen = [m for m in messages.get(probe_id, []) if m.author != "visitor"]
        sent_errors.append(abs((receipt.sent_at - visitor.at).total_seconds()))
        for record, message in zip(said, seen, strict=False):
            if (record.author, record.text) != (message.author, message.text):
                failures.append(f"{probe_id}: message order differs from ground truth")
                break
            error = abs((message.at - record.at).total_seconds())
            stamp_errors.append(error)
            if message.author == "agent":
                agent_errors.append(error)
                measured = (message.at - receipt.sent_at).total_seconds()
                true = (record.at - visitor.at).total_seconds()
                response_errors.append(abs(measured - true))
    agents = _stats(agent_errors)
    return {
        "probes": probes,
        "sessions": sessions,
        "seconds": round(elapsed, 1),
        "failures": failures,
        "goal_ms": GOAL_MS,
        "agent_message_stamp": agents,
        "company_message_stamp": _stats(stamp_errors),
        "response_time": _stats(response_errors),
        "sent_at_vs_server_read": _stats(sent_errors),
        "meets_goal": bool(agents.get("n")) and agents["max_ms"] <= GOAL_MS and not failures,
    }


def describe(result: dict[str, Any]) -> list[str]:
    """The figures as lines for the perf report."""
    a, c, r, s = (
        result[k]
        for k in ("agent_message_stamp", "company_message_stamp", "response_time", "sent_at_vs_server_read")
    )
    lines = [
        f"Chat timing accuracy, page clock vs sandbox socket writes (goal: max error <= {result['goal_ms']:.0f} ms)",
        f"  {result['probes']} chats, {result['sessions']} at a time, in {result['seconds']} s",
        f"  agent messages: n={a['n']}, max {a['max_ms']} ms, median {a['median_ms']} ms, p95 {a['p95_ms']} ms",
        f"  all company messages: n={c['n']}, max {c['max_ms']} ms, median {c['median_ms']} ms",
        f"  response time (agent - sent_at): max {r['max_ms']} ms, median {r['median_ms']} ms",
        f"  sent_at vs the server's read of our message: max {s['max_ms']} ms, median {s['median_ms']} ms",
    ]
    if result["failures"]:
        lines.append(f"  failures: {len(result['failures'])}: {result['failures'][:3]}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--probes", type=int, default=24)
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args()
    result = asyncio.run(run_chat_bench(args.probes, args.sessions))
    print(json.dumps(result, indent=2) if args.json else "\n".join(describe(result)))


if __name__ == "__main__":
    main()
