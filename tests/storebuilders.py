"""Build store records for tests that talk to the store directly."""

from __future__ import annotations

from datetime import datetime, timedelta

from replybench.models import ProbeState
from replybench.store import ProbeRecord
from replybench.tokens import message_id_for, new_token


def planned_probes(
    run_id: str, n: int, start: datetime, *, id_prefix: str | None = None
) -> list[ProbeRecord]:
    """``n`` planned email probes of one run, due a second apart from ``start``, ids ``{id_prefix}{i}``."""
    prefix = f"{run_id}-p" if id_prefix is None else id_prefix
    out = []
    for i in range(n):
        token = new_token()
        out.append(
            ProbeRecord(
                id=f"{prefix}{i}",
                run_id=run_id,
                suite_id="suite",
                target_id="t",
                channel="email",
                script_id="s",
                persona_id="a",
                token=token,
                due_at=start + timedelta(seconds=i),
                state=ProbeState.PLANNED,
                subject="Q",
                body="B",
                to_address="help@t.example",
                reply_address=f"a+{token}@p.example",
                message_id=message_id_for(token, "p.example"),
            )
        )
    return out
