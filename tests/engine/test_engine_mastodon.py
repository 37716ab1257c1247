"""Mastodon end to end: the engine posts probes to the sandbox's Mastodon-compatible server, listens on the
streaming API, matches replies by thread or mention, classifies them and times them by ``created_at``.
"""

from __future__ import annotations

from pathlib import Path

from replybench import operations
from replybench.analysis.outcomes import build_outcomes
from replybench.models import MessageClass, ProbeState
from tests.engine.helpers import write_workspace
from tests.engine.test_engine_sandbox import run_engine

FAST = '{ profile = "fast", human_median = "0.6s", human_sigma = 0.1 }'
BEHAVIOURS = {
    "quick": FAST,
    "waiting": '{ profile = "fast", human_style = "holding", human_median = "0.4s", human_sigma = 0.1 }',
    "elsewhere": '{ profile = "fast", human_style = "deflect", human_median = "0.5s", human_sigma = 0.1 }',
    "silent": '{ profile = "never" }',
    "robot": '{ profile = "ack_only", promise = "within 24 hours" }',
}
ENDPOINTS = {
    "quick": 'endpoints.mastodon = { account = "@quick@social.sandbox.example", also = ["quick_help"] }',
    "waiting": 'endpoints.mastodon = { account = "waiting@social.sandbox.example", how = "direct" }',
    "elsewhere": 'endpoints.mastodon = { account = "elsewhere@social.sandbox.example" }',
    "silent": 'endpoints.mastodon = { account = "silent@social.sandbox.example" }',
    "robot": 'endpoints.mastodon = { account = "robot@social.sandbox.example" }',
}
PERSONA = 'mastodon = { account = "@ann@social.sandbox.example", server = "https://social.example" }'


def test_mastodon_probes_end_to_end(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "ws",
        BEHAVIOURS,
        wait="14s",
        until="horizon",
        endpoints=ENDPOINTS,
        channels=("mastodon",),
        persona=PERSONA,
        body="Do you deliver on Saturdays?",
    )
    ws, store, run, sandbox = run_engine(root)
    assert run.status == "finished"
    server = sandbox.mastodon
    probes = {p.target_id: p for p in store.probes(run.id)}
    assert {p.state for p in probes.values()} == {ProbeState.CLOSED}
    inquiries = {r.company_id: r for r in server.truth if r.kind == "inquiry"}
    assert len(inquiries) == 5, "every probe was posted exactly once"
    for tid, probe in probes.items():
        # sent_at is the server's created_at of our status, and the post is the probe's external id
        assert probe.sent_clock == "mastodon-created_at"
        assert probe.sent_at == inquiries[tid].created_at
        assert probe.external_id == f"mastodon:{inquiries[tid].status_id}"
    assert inquiries["waiting"].visibility == "direct"
    assert inquiries["quick"].visibility == "public"

    # every reply the server made was stored once, matched to its probe and timed by its created_at
    replies = [r for r in server.truth if r.kind != "inquiry"]
    stored = {m.message_id: m for m in store.messages()}
    for reply in replies:
        message = stored[f"mastodon:{reply.status_id}"]
        assert message.received_at == reply.created_at
        assert message.received_clock == "mastodon-created_at"
        assert message.probe_id == probes[reply.company_id].id, (reply.kind, message.match_detail)
    assert len(stored) == len(replies)

    outcomes = {o.target_id: o for o in build_outcomes(store, [run.id])}
    quick = {m.message_id: m for m in store.messages(probe_id=probes["quick"].id)}
    kinds = {r.kind: r for r in replies if r.company_id == "quick"}
    ack = quick[f"mastodon:{kinds['ack'].status_id}"]
    human = quick[f"mastodon:{kinds['human'].status_id}"]
    assert ack.cls is MessageClass.AUTO_ACK
    assert (human.cls, human.match_method, human.sender) == (
        MessageClass.HUMAN,
        "in_reply_to",
        "quick_help@social.sandbox.example",
    )
    assert outcomes["quick"].first_human_at == kinds["human"].created_at

    # holding, then the answer as a fresh mention (no thread): matched by mention of the persona
    waiting = {r.kind: r for r in replies if r.company_id == "waiting"}
    followup = stored[f"mastodon:{waiting['followup'].status_id}"]
    assert waiting["followup"].in_reply_to is None
    assert followup.match_method == "mention" and followup.cls is MessageClass.HUMAN
    assert outcomes["waiting"].holding
    assert outcomes["waiting"].first_answer_at == waiting["followup"].created_at

    assert outcomes["elsewhere"].deflected and outcomes["elsewhere"].first_answer_at is None
    assert outcomes["silent"].censored and outcomes["silent"].first_response_at is None
    robot = outcomes["robot"]
    assert robot.first_response_class == "auto_ack" and robot.first_human_at is None
    assert robot.promise is not None and "24 hours" in robot.promise

    # the report names the network's clock as a documented one
    paths = operations.write_report(ws, [run.id], tmp_path / "report")
    markdown = paths.markdown.read_text()
    assert (
        "| mastodon-created\\_at | sent\\_at, received\\_at | the Mastodon status's created\\_at" in markdown
    )
    assert "not a documented clock source" not in markdown
    # a post has no subject: the evidence names its author instead
    assert "@quick\\_help@social.sandbox.example" in markdown


def test_a_post_interrupted_by_a_crash_is_found_and_never_posted_again(tmp_path: Path) -> None:
    """A probe left `sending` (the process died around the POST) is looked for among our own posts."""
    import asyncio

    from replybench.channels.social import compose_post
    from replybench.engine.environment import open_environment
    from replybench.engine.runner import Engine, RunOptions
    from replybench.store import open_store
    from replybench.timefmt import utcnow
    from replybench.workspace import load_workspace
    from tests.outbound import outbound_probe

    root = write_workspace(
        tmp_path / "ws",
        {"posted": '{ profile = "never" }', "lost": '{ profile = "never" }'},
        wait="1s",
        grace="0.1s",
        endpoints={
            "posted": 'endpoints.mastodon.account = "posted@social.sandbox.example"',
            "lost": 'endpoints.mastodon.account = "lost@social.sandbox.example"',
        },
        channels=("mastodon",),
        persona=PERSONA,
        body="Do you deliver on Saturdays?",
    )
    ws = load_workspace(root)
    store = open_store(ws.settings.store, ws.root)

    async def main() -> tuple[object, list[object]]:
        async with open_environment(ws, store, seed=1) as env:
            engine = Engine(ws, store, env.channels)
            run, _ = engine.start_or_resume("suite")
            probes = {p.target_id: p for p in store.probes(run.id)}
            for probe in probes.values():
                assert store.mark_sending(probe.id, utcnow())
            # the first probe's post went out before the crash; the second never left
            posted = probes["posted"]
            text = compose_post(
                outbound_probe(ws.targets["posted"], ws.personas["ann"], subject="", body=posted.body),
                "mastodon",
                500,
            )
            status = env.sandbox.mastodon.post_as("ann", text)
            finished = await engine.run("suite", RunOptions(tick=0.05))
            return finished, [status, list(env.sandbox.mastodon.truth)]

    finished, (status, truth) = asyncio.run(main())
    assert finished.status == "finished"  # type: ignore[attr-defined]
    probes = {p.target_id: p for p in store.probes()}
    posted, lost = probes["posted"], probes["lost"]
    assert posted.state is ProbeState.CLOSED and posted.external_id == f"mastodon:{status['id']}"  # type: ignore[index]
    assert posted.sent_clock == "mastodon-created_at"
    assert lost.state is ProbeState.UNCERTAIN, "not found among our posts, and never posted again"
    inquiries = [r for r in truth if r.kind == "inquiry"]  # type: ignore[attr-defined]
    assert len(inquiries) == 1, "nothing was posted twice, nothing posted after the crash"
    events = [e.detail for e in store.events(probe_id=posted.id) if e.kind == "reconciled"]
    assert events and "found our post on mastodon" in str(events[0])
