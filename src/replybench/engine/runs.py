"""Create a suite run: plan it, render every probe, give each a token and Message-ID, store it all at once."""

from __future__ import annotations

from datetime import datetime

from ulid import ULID

from replybench.models import Persona, ProbeState, Suite, Workspace
from replybench.plan import make_plan
from replybench.store import ProbeRecord, RunRecord, Store
from replybench.templating import context, render
from replybench.tokens import message_id_for, new_token, plus_address


def snapshot(ws: Workspace, suite: Suite, target_ids: set[str]) -> dict[str, object]:
    """The definitions a run used, stored with it so reports and re-analysis never need the workspace."""
    return {
        "workspace": ws.settings.name,
        "mode": ws.settings.mode,
        "suite": suite.model_dump(mode="json"),
        "targets": {
            t: ws.targets[t].model_dump(mode="json", exclude={"sandbox"}) for t in sorted(target_ids)
        },
        "personas": {p: ws.personas[p].model_dump(mode="json") for p in suite.personas},
        "scripts": {s: ws.scripts[s].model_dump(mode="json") for s in suite.scripts},
    }


def run_persona(ws: Workspace, run: RunRecord, persona_id: str) -> Persona:
    """A run's persona: the workspace's current definition, else the one the run's snapshot kept."""
    if persona_id in ws.personas:
        return ws.personas[persona_id]
    return Persona.model_validate(run.snapshot["personas"][persona_id])


def build_run(ws: Workspace, suite: Suite, now: datetime) -> tuple[RunRecord, list[ProbeRecord]]:
    """Plan and render a new run of ``suite`` without storing it (``check`` and dry runs use this too)."""
    run_id = str(ULID())
    plan = make_plan(ws, suite, now)
    probes: list[ProbeRecord] = []
    for planned in plan:
        target = ws.targets[planned.target_id]
        persona = ws.personas[planned.persona_id]
        script = ws.scripts[planned.script_id]
        probe_id = str(ULID())
        token = new_token()
        variables = context(target, persona, script, probe_id=probe_id, token=token)
        where = f"probe script {script.id!r} for target {target.id!r}"
        subject = render(script.subject, variables, where=f"{where}, subject")
        body = render(script.body, variables, where=f"{where}, body")
        to_address = target.address(planned.channel)
        identity = persona.email
        reply = plus_address(identity.address, token) if identity else ""
        domain = identity.domain if identity else "replybench.invalid"
        probes.append(
            ProbeRecord(
                id=probe_id,
                run_id=run_id,
                suite_id=suite.id,
                target_id=target.id,
                channel=planned.channel,
                script_id=script.id,
                persona_id=persona.id,
                token=token,
                due_at=planned.due_at,
                state=ProbeState.SKIPPED if planned.skip_reason else ProbeState.PLANNED,
                subject=subject,
                body=body,
                to_address=to_address,
                reply_address=reply,
                message_id=message_id_for(token, domain),
                error=planned.skip_reason,
            )
        )
    run = RunRecord(
        id=run_id,
        suite_id=suite.id,
        created_at=now,
        status="running",
        seed=suite.schedule.seed,
        wait_limit_s=suite.wait.limit.total_seconds(),
        until=suite.wait.until,
        snapshot=snapshot(ws, suite, {p.target_id for p in plan}),
    )
    return run, probes


def create_run(ws: Workspace, suite: Suite, store: Store, now: datetime) -> RunRecord:
    """Plan, render and store a new run."""
    run, probes = build_run(ws, suite, now)
    store.create_run(run, probes)
    return run
