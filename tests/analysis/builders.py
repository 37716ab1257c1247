"""Small outcome builders for the statistics tests (independent of the report fixtures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from replybench.analysis.outcome import Outcome

START = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
HORIZON_S = 7 * 86400.0


def probe(
    target: str,
    human: float | None = None,
    *,
    pid: str = "p",
    sent: bool = True,
    response: float | None = None,
    bounced: bool = False,
    acked: bool = False,
    quality: float | None = None,
    horizon_s: float = HORIZON_S,
    until_s: float | None = None,
    run: str = "run-1",
    channel: str = "email",
    industry: str = "retail",
) -> Outcome:
    """One probe of ``target``: a human reply after ``human`` seconds, or none (censored at the horizon).

    ``until_s`` makes the probe still open, observed for that many seconds.
    """
    sent_at = START if sent else None
    first = response if response is not None else human
    return Outcome(
        probe_id=pid,
        run_id=run,
        suite="baseline",
        target_id=target,
        target_name=target.title(),
        industry=industry,
        channel=channel,
        script_id="refund-question",
        persona_id="anna",
        state="closed" if sent else "failed",
        sent_at=sent_at,
        sent_clock="smtp-250" if sent else None,
        first_response_at=None if sent_at is None or first is None else sent_at + timedelta(seconds=first),
        first_response_class=None if first is None else ("auto_ack" if acked else "human"),
        first_human_at=None if sent_at is None or human is None else sent_at + timedelta(seconds=human),
        bounced=bounced,
        censored=sent and human is None,
        horizon_at=None if sent_at is None else sent_at + timedelta(seconds=horizon_s),
        response_s=first if sent else None,
        human_response_s=human if sent else None,
        human_response_business_s=None,
        quality=quality,
        auto_acked=acked,
        observed_until=None if sent_at is None or until_s is None else sent_at + timedelta(seconds=until_s),
    )
