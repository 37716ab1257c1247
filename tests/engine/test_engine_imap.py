"""Email end to end through a real Dovecot: the sandbox delivers replies over LMTP, the engine reads them
with IMAP IDLE (INTERNALDATE timing), and a dropped IMAP connection loses nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from replybench.analysis.outcomes import build_outcomes
from replybench.channels.email import EmailChannel
from replybench.engine.runner import Engine, RunOptions
from replybench.models import ProbeState
from replybench.sandbox import Route, Sandbox
from replybench.store import open_store
from replybench.workspace import load_workspace
from tests.engine.helpers import write_workspace
from tests.servers.dovecot import DEFAULT_USERS

pytestmark = [pytest.mark.dovecot, pytest.mark.slow]


def test_replies_via_imap_idle_with_internaldate(tmp_path: Path, dovecot, monkeypatch) -> None:
    root = write_workspace(
        tmp_path / "ws",
        {
            "acme": '{ profile = "fast", human_median = "1.5s", human_sigma = 0.2 }',
            "globex": '{ profile = "out_of_office", human_median = "2s", human_sigma = 0.2 }',
        },
        wait="10s",
        until="human",
        scripts=2,
        mode="live",
    )
    bench = root / "benchmarks" / "suite.toml"
    bench.write_text(bench.read_text().replace("ann@probes.example", "alice@probes.example"))
    monkeypatch.setenv("RB_IMAP_USER", "alice")
    monkeypatch.setenv("RB_IMAP_PASSWORD", DEFAULT_USERS["alice"])
    ws = load_workspace(root)
    store = open_store(ws.settings.store, ws.root)

    async def main():
        route = Route("127.0.0.1", dovecot.lmtp_port, "lmtp")
        async with Sandbox(list(ws.targets.values()), routes={"probes.example": route}) as sandbox:
            settings = ws.settings.email.model_validate(
                {
                    "outbound": {"host": "127.0.0.1", "port": sandbox.relay[1], "security": "none"},
                    "listener": "imap",
                    "imap": {
                        "host": "127.0.0.1",
                        "port": dovecot.imap_port,
                        "security": "none",
                        "username_env": "RB_IMAP_USER",
                        "password_env": "RB_IMAP_PASSWORD",
                    },
                }
            )
            channel = EmailChannel(settings, cursor=store)

            async def drop_connection():
                await asyncio.sleep(1.5)
                await asyncio.to_thread(dovecot.kick, "alice")

            dropper = asyncio.create_task(drop_connection())
            run = await Engine(ws, store, {"email": channel}).run("suite", RunOptions())
            await dropper
            return run, sandbox.truth

    run, truth = asyncio.run(main())
    assert run.status == "finished"
    probes = store.probes(run.id)
    assert len(probes) == 4 and {p.state for p in probes} == {ProbeState.CLOSED}

    messages = store.messages()
    assert messages and {m.received_clock for m in messages} == {"imap-internaldate"}
    assert all(m.uid is not None and m.uidvalidity is not None for m in messages)
    delivered = {r.message_id for r in truth.replies if r.status == "delivered"}
    assert delivered <= {m.message_id for m in messages}, "no reply lost across the dropped connection"

    for outcome in build_outcomes(store, [run.id]):
        assert outcome.first_human_at is not None and outcome.first_human_clock == "imap-internaldate"
        probe = next(p for p in probes if p.id == outcome.probe_id)
        human = next(r for r in truth.replies_for(probe.token) if r.kind == "human")
        true_s = (human.delivered_at - probe.sent_at).total_seconds()
        # Dovecot stamps INTERNALDATE during the delivery, which began when the company sent the reply and
        # ended at the 250 (delivered_at); it has whole seconds: never late, up to one second early.
        began_s = (human.sent_at - probe.sent_at).total_seconds()
        assert began_s - 1.0 < outcome.human_response_s <= true_s + 0.05
