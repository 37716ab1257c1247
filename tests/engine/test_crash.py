"""Crash safety: kill the engine mid-send, restart it, and check nothing was sent twice or lost."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from replybench.models import ProbeState
from replybench.netutil import free_port
from replybench.sandbox import Route, Sandbox
from replybench.store import open_store
from replybench.workspace import load_workspace
from tests.conftest import REPO
from tests.engine.crashdriver import CRASH_EXIT
from tests.engine.helpers import write_workspace

pytestmark = pytest.mark.slow


async def _engine(root: Path, point: str) -> int:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.engine.crashdriver",
        str(root),
        point,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode in (0, CRASH_EXIT), err.decode()
    return proc.returncode or 0


def _crash_and_restart(tmp_path: Path, point: str):
    inbound = free_port()
    root = tmp_path / "ws"
    write_workspace(
        root,
        {"acme": '{ profile = "fast", human_median = "0.3s", human_sigma = 0.1 }'},
        wait="4s",
        window="0s",
        scripts=3,
        mode="live",
        grace="3s",
    )
    ws = load_workspace(root)

    async def main():
        async with Sandbox(
            list(ws.targets.values()), default_route=Route("127.0.0.1", inbound), retry_interval=0.2
        ) as sandbox:
            settings = (
                f'\n[email.outbound]\nhost = "127.0.0.1"\nport = {sandbox.relay[1]}\nsecurity = "none"\n'
                f'connections = 1\nusername_env = "NOT_USED"\n'
                f'[email.smtp]\nhost = "127.0.0.1"\nport = {inbound}\n'
            ).replace('username_env = "NOT_USED"\n', "")
            toml = root / "replybench.toml"
            toml.write_text(toml.read_text() + settings)
            first = await _engine(root, point)
            second = await _engine(root, "none")
            return sandbox.truth, first, second

    truth, first, second = asyncio.run(main())
    store = open_store(str(root / ".replybench" / "replybench.sqlite3"))
    return truth, first, second, store


@pytest.mark.parametrize("point", ["before_data", "after_250", "after_commit"])
def test_crash_never_resends_and_loses_nothing(tmp_path: Path, point: str) -> None:
    truth, first, second, store = _crash_and_restart(tmp_path, point)
    assert first == CRASH_EXIT and second == 0
    (run,) = store.runs()
    probes = store.probes(run.id)
    assert len(probes) == 3
    for p in probes:
        assert truth.received_count(p.token) <= 1, f"{p.id} reached the company twice"
        assert p.state in (ProbeState.CLOSED, ProbeState.UNCERTAIN), p.state
    crashed = min(probes, key=lambda p: p.attempt_at or p.due_at)
    events = [e.kind for e in store.events(probe_id=crashed.id)]
    if point == "before_data":
        assert truth.received_count(crashed.token) == 0
        assert crashed.state is ProbeState.UNCERTAIN, "may-have-been-sent is never retried"
        assert "uncertain" in events
    elif point == "after_250":
        assert truth.received_count(crashed.token) == 1
        assert crashed.state is ProbeState.CLOSED
        assert crashed.sent_clock == "sent-copy-receipt"
        assert "reconciled" in events
    else:
        assert truth.received_count(crashed.token) == 1
        assert crashed.state is ProbeState.CLOSED and crashed.sent_clock == "smtp-250"
    # the other probes were never attempted before the crash: sent once by the restarted engine
    for p in probes:
        if p.id != crashed.id:
            assert truth.received_count(p.token) == 1 and p.state is ProbeState.CLOSED
    # no reply was lost: every reply the company delivered is in the store
    delivered = {r.message_id for r in truth.replies if r.status == "delivered"}
    stored = {m.message_id for m in store.messages()}
    assert delivered <= stored


@pytest.mark.usefixtures("chromium")
def test_crash_right_after_a_form_submit_click_never_submits_twice(tmp_path: Path) -> None:
    """The submit click is the form's point of no return: after a crash there, no second submission."""
    inbound = free_port()
    root = tmp_path / "ws"
    behaviour = '{ profile = "fast", human_median = "0.3s", human_sigma = 0.1, form = "labels" }'
    placeholder = "http://placeholder.invalid/contact"  # the sandbox's page URL is known once it runs
    write_workspace(
        root,
        {"acme": behaviour},
        wait="4s",
        window="0s",
        mode="live",
        grace="3s",
        channels=("form",),
        endpoints={"acme": f'endpoints.form.url = "{placeholder}"'},
    )
    ws = load_workspace(root)

    async def main():
        async with Sandbox(
            list(ws.targets.values()), default_route=Route("127.0.0.1", inbound), retry_interval=0.2
        ) as sandbox:
            suite = root / "benchmarks" / "suite.toml"
            suite.write_text(suite.read_text().replace(placeholder, sandbox.web.url("acme", "form")))
            toml = root / "replybench.toml"
            toml.write_text(toml.read_text() + f'\n[email.smtp]\nhost = "127.0.0.1"\nport = {inbound}\n')
            first = await _engine(root, "after_click")
            submissions_after_crash = len(sandbox.truth.web("form_submission"))
            second = await _engine(root, "none")
            return sandbox.truth, first, second, submissions_after_crash

    truth, first, second, after_crash = asyncio.run(main())
    assert first == CRASH_EXIT and second == 0
    assert after_crash == 1, "the click reached the company before the crash"
    assert len(truth.web("form_submission")) == 1, "the restarted engine did not submit again"
    store = open_store(str(root / ".replybench" / "replybench.sqlite3"))
    (probe,) = store.probes()
    # reconciled by the company's email reply, which carries the probe's token; never re-sent
    assert probe.state is ProbeState.CLOSED, probe.state
    assert probe.sent_clock == "send-attempt"
    assert "reconciled" in [e.kind for e in store.events(probe_id=probe.id)]


@pytest.mark.parametrize("point", ["after_250", "after_commit"])
def test_a_mastodon_post_interrupted_by_a_crash_is_never_posted_twice(
    tmp_path: Path, point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed right after the server made our status (before or after the store recorded it): on restart the
    post is found among the persona's own (`find_sent`) or already recorded; it is never posted again, and
    every reply the company made is stored."""
    root = tmp_path / "ws"
    write_workspace(
        root,
        {"acme": '{ profile = "fast", human_median = "0.3s", human_sigma = 0.1 }'},
        wait="4s",
        window="0s",
        scripts=2,
        mode="live",
        grace="0.5s",
        channels=("mastodon",),
        endpoints={"acme": 'endpoints.mastodon.account = "acme@social.sandbox.example"'},
        persona=(
            'mastodon = { account = "ann@social.sandbox.example", server = "http://placeholder.invalid",'
            ' token_env = "RB_CRASH_MASTODON_TOKEN" }'
        ),
        body="Do you deliver on Saturdays?",
        settings='[email.smtp]\nhost = "127.0.0.1"\nport = 0\n',
    )
    ws = load_workspace(root)

    async def main():
        async with Sandbox(list(ws.targets.values()), time_scale=20.0) as sandbox:
            server = sandbox.mastodon
            monkeypatch.setenv("RB_CRASH_MASTODON_TOKEN", server.register("ann", "Ann Example"))
            suite = root / "benchmarks" / "suite.toml"
            suite.write_text(suite.read_text().replace("http://placeholder.invalid", server.base_url))
            first = await _engine(root, point)
            posted_before_restart = [r for r in server.truth if r.kind == "inquiry"]
            second = await _engine(root, "none")
            return list(server.truth), first, second, posted_before_restart

    truth, first, second, before = asyncio.run(main())
    assert first == CRASH_EXIT and second == 0
    assert len(before) == 1, "the crash came right after the first post"
    store = open_store(str(root / ".replybench" / "replybench.sqlite3"))
    probes = store.probes()
    inquiries = [r for r in truth if r.kind == "inquiry"]
    assert len(inquiries) == 2, "each probe was posted exactly once"
    assert {p.external_id for p in probes} == {f"mastodon:{r.status_id}" for r in inquiries}
    assert all(p.state is ProbeState.CLOSED for p in probes)
    crashed = next(p for p in probes if p.external_id == f"mastodon:{before[0].status_id}")
    assert crashed.sent_at == before[0].created_at
    if point == "after_250":
        assert "reconciled" in [e.kind for e in store.events(probe_id=crashed.id)]
    replies = {f"mastodon:{r.status_id}" for r in truth if r.kind != "inquiry"}
    stored = {m.message_id for m in store.messages()}
    assert replies and replies <= stored, "no reply was lost across the crash"
