"""The engine end to end against the sandbox: send, receive, match, classify, time — checked against truth."""

from __future__ import annotations

import asyncio
from pathlib import Path

from replybench.analysis.outcomes import build_outcomes
from replybench.engine.environment import open_environment
from replybench.engine.runner import Engine, RunOptions
from replybench.models import MessageClass, ProbeState
from replybench.store import open_store
from replybench.workspace import load_workspace
from tests.engine.helpers import write_workspace

BEHAVIOURS = {
    "fast": '{ profile = "fast", human_median = "0.6s", human_sigma = 0.2 }',
    "ackonly": '{ profile = "ack_only" }',
    "bouncer": '{ profile = "bounce" }',
    "silent": '{ profile = "never" }',
    "away": '{ profile = "out_of_office", human_median = "1s", human_sigma = 0.2 }',
}


def run_engine(root: Path, suite: str = "suite", **options):
    ws = load_workspace(root)
    store = open_store(ws.settings.store, ws.root)

    async def main():
        async with open_environment(ws, store, seed=1) as env:
            run = await Engine(ws, store, env.channels).run(suite, RunOptions(**options))
            # let the sandbox finish any reply still in flight so the truth is complete
            await asyncio.sleep(0.3)
            return run, env.sandbox

    run, sandbox = asyncio.run(main())
    return ws, store, run, sandbox


def test_suite_runs_to_completion_with_true_timings(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", BEHAVIOURS, wait="5s")
    _ws, store, run, sandbox = run_engine(root)
    assert run.status == "finished"
    probes = store.probes(run.id)
    assert len(probes) == 5
    assert {p.state for p in probes} == {ProbeState.CLOSED}
    truth = sandbox.truth
    for p in probes:
        assert truth.received_count(p.token) == 1, "every probe reached its company exactly once"
        assert p.sent_clock == "smtp-250"
        assert p.evidence["smtp_response"].startswith("250")

    outcomes = {o.target_id: o for o in build_outcomes(store, [run.id])}
    fast = outcomes["fast"]
    assert fast.first_response_class == MessageClass.AUTO_ACK.value
    assert fast.first_human_at is not None and not fast.censored
    assert fast.first_human_clock == "smtp-receipt"
    # measured response time against the sandbox's own record of when it delivered the reply
    probe = next(p for p in probes if p.target_id == "fast")
    human = next(r for r in truth.replies_for(probe.token) if r.kind == "human")
    true_probe = next(t for t in truth.probes if t.token == probe.token)
    true_response = (human.delivered_at - true_probe.received_at).total_seconds()
    assert abs(fast.human_response_s - true_response) <= 0.05

    assert outcomes["ackonly"].first_response_class == "auto_ack" and outcomes["ackonly"].censored
    assert outcomes["bouncer"].bounced and outcomes["bouncer"].censored
    assert outcomes["bouncer"].first_response_at is None, "a bounce is not a response"
    assert outcomes["silent"].censored and outcomes["silent"].replies == 0
    assert outcomes["silent"].response_s is None
    away = outcomes["away"]
    assert away.first_response_class == "out_of_office" and away.first_human_at is not None
    assert away.out_of_office and not fast.out_of_office

    # every message the sandbox delivered to us is stored (raw), matched and classified
    delivered = [d for d in truth.deliveries if d.status == "delivered"]
    assert store.message_count() == len(delivered)
    assert store.unmatched_messages() == []
    copies = [m for m in store.messages() if m.cls is MessageClass.OWN_COPY]
    assert len(copies) == 5, "one blind copy per probe proves the relay accepted it"


def test_resume_never_resends(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "ws",
        {"a": '{ profile = "never" }', "b": '{ profile = "never" }'},
        wait="30s",
        window="0s",
        spacing="0s",
        scripts=2,
    )
    ws = load_workspace(root)
    store = open_store(ws.settings.store, ws.root)

    async def first_half():
        async with open_environment(ws, store) as env:
            options = RunOptions()
            engine = Engine(ws, store, env.channels)

            async def stop_when_sent():
                while True:
                    await asyncio.sleep(0.05)
                    runs = store.runs()
                    if runs and store.state_counts(runs[-1].id).get(ProbeState.SENT, 0) == 4:
                        options.stop.set()
                        return

            stopper = asyncio.create_task(stop_when_sent())
            run = await engine.run("suite", options)
            await stopper
            return run, env.sandbox

    run, sandbox = asyncio.run(first_half())
    assert run.status == "running", "stopped before the horizon: the run stays open"
    assert sum(sandbox.truth.received_count(p.token) for p in store.probes(run.id)) == 4

    # resume with a new process-equivalent: same store, new sandbox; nothing is sent again
    store.close()
    _ws2, store2, run2, sandbox2 = run_engine(root, tick=0.05)
    assert run2.id == run.id
    assert sandbox2.truth.probes == []
    assert {p.state for p in store2.probes(run.id)} <= {ProbeState.SENT, ProbeState.CLOSED}


def test_until_human_closes_early(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", {"fast": BEHAVIOURS["fast"]}, wait="60s", until="human")
    _ws, store, run, _sandbox = run_engine(root)
    assert run.status == "finished"
    probe = store.probes(run.id)[0]
    assert probe.state is ProbeState.CLOSED
    assert (probe.closed_at - probe.sent_at).total_seconds() < 10, (
        "closed by the human reply, not the horizon"
    )
    outcome = build_outcomes(store, [run.id])[0]
    assert not outcome.censored and outcome.horizon_at == probe.closes_at


def test_do_not_contact_is_never_sent(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "ws",
        {"a": BEHAVIOURS["fast"], "b": BEHAVIOURS["fast"]},
        wait="3s",
        settings='do_not_contact = ["help@b.example"]\n',
    )
    _ws, store, run, sandbox = run_engine(root)
    states = {p.target_id: p.state for p in store.probes(run.id)}
    assert states["b"] is ProbeState.SKIPPED
    assert [t.company_id for t in sandbox.truth.probes] == ["a"]


def test_rate_limit_postpones_instead_of_sending(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "ws", {"a": '{ profile = "never" }'}, wait="30s", window="0s", scripts=3
    )
    bench = root / "benchmarks" / "suite.toml"
    bench.write_text(
        bench.read_text().replace(
            'sandbox = { profile = "never" }',
            'sandbox = { profile = "never" }\nrate_limit = { max_per_day = 1 }',
        )
    )
    ws = load_workspace(root)
    store = open_store(ws.settings.store, ws.root)

    async def main():
        async with open_environment(ws, store) as env:
            options = RunOptions(tick=0.05)

            async def stop_soon():
                await asyncio.sleep(2)
                options.stop.set()

            stopper = asyncio.create_task(stop_soon())
            run = await Engine(ws, store, env.channels).run("suite", options)
            await stopper
            return run, env.sandbox

    run, sandbox = asyncio.run(main())
    probes = store.probes(run.id)
    sent = [p for p in probes if p.state is ProbeState.SENT]
    waiting = [p for p in probes if p.state is ProbeState.PLANNED]
    assert len(sent) == 1 and len(waiting) == 2
    assert len(sandbox.truth.probes) == 1
    for p in waiting:
        assert (p.due_at - sent[0].attempt_at).total_seconds() >= 86400 - 1
