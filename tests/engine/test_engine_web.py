"""The engine end to end with web forms and chat: real Chromium against the sandbox's pages.

Each sandbox company has one form variant or chat widget; the run goes through ``open_environment`` exactly
as ``replybench run`` does, and every result is checked against the sandbox's ground truth.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from replybench.analysis.outcomes import build_outcomes
from replybench.analysis.sends import build_send_rows
from replybench.engine.environment import open_environment
from replybench.engine.runner import Engine, RunOptions
from replybench.models import MessageClass, ProbeState
from replybench.store import open_store
from replybench.workspace import load_workspace
from tests.engine.helpers import write_workspace
from tests.engine.test_engine_sandbox import run_engine

pytestmark = pytest.mark.slow

FAST_EMAIL = '{ profile = "fast", human_median = "0.8s", human_sigma = 0.2'
FORM = 'endpoints.form.url = "https://www.{}.example/contact"'
CHAT = 'endpoints.chat = {{ url = "https://www.{}.example/help", wait = "{}", after_human = "0.5s" }}'


def _form_workspace(root: Path) -> Path:
    variants = ("labels", "placeholders", "multistep", "honeypot", "captcha", "login", "validation")
    return write_workspace(
        root,
        {v: f'{FAST_EMAIL}, form = "{v}" }}' for v in variants},
        endpoints={v: FORM.format(v) for v in variants},
        channels=("form",),
        wait="8s",
        until="human",
    )


def test_every_sandbox_form_variant_through_the_engine(tmp_path: Path, chromium: str) -> None:
    _ws, store, run, sandbox = run_engine(_form_workspace(tmp_path / "ws"))
    probes = {p.target_id: p for p in store.probes(run.id)}
    truth = sandbox.truth
    submitted = {r.company_id for r in truth.web("form_submission")}
    assert submitted == {"labels", "placeholders", "multistep", "honeypot"}
    for company in submitted:
        assert len(truth.web("form_submission", company)) == 1, f"{company}: submitted exactly once"
    assert truth.web("form_rejected") == [], "the honeypot was left empty; nothing was refused"

    for company in ("labels", "placeholders", "multistep", "honeypot"):
        probe = probes[company]
        assert probe.state is ProbeState.CLOSED, (company, probe.error)
        assert probe.sent_clock == "form-confirmation"
        assert probe.evidence["final_url"].startswith("http://127.0.0.1:")
        assert {a.name for a in store.artifacts(probe_id=probe.id)} >= {"before.png", "after.png"}
        # the desk answered by email, to the per-probe address the form was given
        assert truth.received_count(probe.token) == 1
    assert probes["captcha"].state is ProbeState.BLOCKED
    assert "captcha" in (probes["captcha"].error or "").lower()
    assert probes["login"].state is ProbeState.BLOCKED
    assert "login" in (probes["login"].error or "").lower()
    assert probes["validation"].state is ProbeState.FAILED

    outcomes = {o.target_id: o for o in build_outcomes(store, [run.id])}
    labels = outcomes["labels"]
    assert labels.first_human_at is not None and not labels.censored
    human = next(r for r in truth.replies_for(probes["labels"].token) if r.kind == "human")
    assert human.sent_at is not None and labels.human_response_s is not None
    # the response time runs from the observed confirmation to the reply's SMTP receipt
    assert labels.human_response_s == pytest.approx(
        (human.sent_at - labels.sent_at).total_seconds(), abs=0.25
    )
    assert not outcomes["captcha"].was_sent and outcomes["captcha"].state == "blocked"

    rows = {r.target_id: r for r in build_send_rows(store, [run.id])}
    assert set(rows) == set(probes)
    assert rows["captcha"].screenshot is not None  # the page that blocked us, as evidence
    store.close()


def _chat_workspace(root: Path) -> Path:
    widgets = {"live": "20s", "silent": "3s", "offline": "20s", "botonly": "3s"}
    kinds = {"live": "live", "silent": "silent", "offline": "offline", "botonly": "bot_only"}
    return write_workspace(
        root,
        {c: f'{FAST_EMAIL}, chat = "{kinds[c]}", chat_human_median = "1s" }}' for c in widgets},
        endpoints={c: CHAT.format(c, wait) for c, wait in widgets.items()},
        channels=("chat",),
        wait="15s",
        until="human",
    )


def test_chat_widgets_through_the_engine(tmp_path: Path, chromium: str) -> None:
    _ws, store, run, sandbox = run_engine(_chat_workspace(tmp_path / "ws"))
    probes = {p.target_id: p for p in store.probes(run.id)}
    outcomes = {o.target_id: o for o in build_outcomes(store, [run.id])}
    truth = sandbox.truth

    live = probes["live"]
    assert live.state is ProbeState.CLOSED and live.sent_clock == "page-clock"
    messages = store.messages(probe_id=live.id)
    assert all(m.channel == "chat" and m.received_clock == "page-clock" for m in messages)
    classes = [m.cls for m in messages]
    assert MessageClass.OWN_COPY in classes  # our own message is in the transcript
    assert MessageClass.HUMAN in classes and MessageClass.AUTO_ACK in classes
    o = outcomes["live"]
    assert o.first_human_at is not None and o.first_auto_at is not None
    assert o.first_auto_at < o.first_human_at
    assert o.response_s is not None and o.response_s > 0  # the greeting before our question did not count
    agent = [r for r in truth.web("chat_message", "live") if r.author == "agent"]
    assert agent, "the sandbox's agent answered"
    assert abs((o.first_human_at - agent[0].at).total_seconds()) < 0.1

    silent = outcomes["silent"]
    assert silent.censored and silent.first_response_at is None
    assert probes["silent"].closes_at - probes["silent"].sent_at == timedelta(
        seconds=3
    )  # the chat's own wait

    assert outcomes["botonly"].censored and outcomes["botonly"].first_auto_at is not None

    offline = probes["offline"]
    assert offline.state is ProbeState.CLOSED, offline.error
    assert offline.evidence.get("chat_offline") is True
    assert truth.received_count(offline.token) == 1  # the "leave a message" form reached the help desk
    assert outcomes["offline"].first_human_clock == "smtp-receipt"  # and the answer came by email
    store.close()


def test_probes_of_a_channel_the_run_cannot_offer_are_skipped_with_the_reason(tmp_path: Path) -> None:
    """Without a browser the form probes are skipped, saying why, and the email probes still run."""
    root = write_workspace(
        tmp_path / "ws",
        {"acme": f'{FAST_EMAIL}, form = "labels" }}'},
        endpoints={"acme": FORM.format("acme")},
        channels=("email", "form"),
        wait="5s",
        until="human",
    )
    ws = load_workspace(root)
    store = open_store(ws.settings.store, ws.root)

    async def main():
        async with open_environment(ws, store, seed=1) as env:
            email_only = {"email": env.channels["email"]}
            why = {"form": "no Chromium found"}
            return await Engine(ws, store, email_only, unavailable=why).run("suite", RunOptions())

    run = asyncio.run(main())
    assert run.status == "finished"
    states = {p.channel: (p.state, p.error) for p in store.probes(run.id)}
    assert states["email"][0] is ProbeState.CLOSED
    assert states["form"] == (
        ProbeState.SKIPPED,
        "channel 'form' is not available in this run: no Chromium found",
    )
    store.close()
