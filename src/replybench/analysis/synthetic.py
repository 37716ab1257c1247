"""Synthetic outcomes tables for benchmarks and tests: realistic shapes, no store needed.

Each target gets its own behaviour: a share of probes that never get a human answer (20–65 %), a heavy-tailed
log-normal time to a human reply (medians from minutes to days), an auto-acknowledgement habit, and for some
targets bounces. Replies later than the wait limit (seven days) are censored at the horizon, as in real runs.
About 1 % of probes were never sent. The same ``seed`` always gives the same table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from replybench.analysis.outcome import Outcome, answers_of

SYNTHETIC_START = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
"""The first send time of a synthetic table (probes are spread over the following two weeks)."""

SYNTHETIC_WAIT_S = 7 * 86400.0
"""The wait limit (censoring horizon) of every synthetic probe, in seconds."""

_BUSINESS_SHARE = 0.3  # roughly 50 opening hours a week
_BUSINESS_WAIT_S = SYNTHETIC_WAIT_S * _BUSINESS_SHARE
_CHANNEL_NAMES = ("email", "webform", "chat", "phone", "social")
_INDUSTRIES = ("banking", "telecom", "retail", "energy", "insurance", "travel", "utilities", "software")


_CHUNK = 65_536


def _channel_names(channels: int) -> list[str]:
    if channels < 1:
        raise ValueError("channels must be at least 1")
    return [_CHANNEL_NAMES[i] if i < len(_CHANNEL_NAMES) else f"channel-{i + 1}" for i in range(channels)]


def synthetic_outcomes(n: int, targets: int = 100, channels: int = 1, seed: int = 0) -> list[Outcome]:
    """Return ``n`` synthetic outcomes spread evenly over ``targets`` targets and ``channels`` channels.

    Per target: no-human-reply probability uniform in [0.20, 0.65]; human response times log-normal with a
    median between 10 minutes and 2 days and a log-scale sigma between 0.8 and 2.0 (heavy tails), censored at
    seven days; auto-acknowledgements (a few seconds after sending) on 0–90 % of probes for about half the
    targets; a bounce rate up to 15 % for about one target in ten. About 1 % of probes are "failed" (never
    sent). Business time is a flat 30 % of wall-clock time. Quality is scored (uniform in [0, 1]) on human
    replies of about a third of the targets. Probes are split over two runs ("run-1", "run-2") of the suite
    "baseline"; channels alternate in blocks. Raises ValueError on negative ``n`` or fewer than one target
    or channel.
    """
    if n < 0 or targets < 1:
        raise ValueError("n must be >= 0 and targets >= 1")
    names = _channel_names(channels)
    rng = np.random.default_rng(seed)

    no_reply = rng.uniform(0.20, 0.65, targets)
    mu = np.log(rng.uniform(600.0, 2 * 86400.0, targets))
    sigma = rng.uniform(0.8, 2.0, targets)
    ack_p = np.where(rng.random(targets) < 0.5, rng.uniform(0.0, 0.9, targets), 0.0)
    bounce_p = np.where(rng.random(targets) < 0.1, rng.uniform(0.0, 0.15, targets), 0.0)
    scored = rng.random(targets) < 1 / 3
    industry = rng.integers(0, len(_INDUSTRIES), targets)

    target = np.arange(n) % targets
    channel = (np.arange(n) // targets) % len(names)
    failed = rng.random(n) < 0.01
    bounced = ~failed & (rng.random(n) < bounce_p[target])
    human_s = np.exp(mu[target] + sigma[target] * rng.standard_normal(n)).round(3)
    answered = ~failed & ~bounced & (rng.random(n) >= no_reply[target]) & (human_s <= SYNTHETIC_WAIT_S)
    acked = ~failed & ~bounced & (rng.random(n) < ack_p[target])
    ack_s = rng.uniform(1.0, 30.0, n).round(3)
    quality = (rng.random(n) * 100).round(1)
    offset_ms = rng.integers(0, 14 * 86400 * 1000, n)
    # Reply intelligence (drawn last, so the draws above keep their values): of the answered probes about
    # 85 % got a real answer with the first human reply, 10 % only a deflection, 5 % only a holding reply.
    kind_draw = rng.random(n)
    all_points = rng.random(n) < 0.5

    sent = ~failed
    first_is_ack = acked & (~answered | (ack_s < human_s))
    first_s = np.where(first_is_ack, ack_s, np.where(answered, human_s, np.nan))
    business_s = np.where(answered, (human_s * _BUSINESS_SHARE).round(3), np.nan)
    quality_s = np.where(answered & scored[target], quality, np.nan)

    wait = timedelta(seconds=SYNTHETIC_WAIT_S)
    target_ids = [f"t{i:05d}" for i in range(targets)]
    target_names = [f"Company {i:05d}" for i in range(targets)]
    industries = [_INDUSTRIES[i] for i in industry]

    human_or_nan = np.where(answered, human_s, np.nan)
    rows: list[Outcome] = []
    append = rows.append
    # Converted to Python objects a slice at a time: whole-column lists would add ~150 MB of scratch at 1M.
    columns = (
        target,
        channel,
        sent,
        offset_ms,
        human_or_nan,
        first_s,
        first_is_ack,
        acked,
        bounced,
        business_s,
        quality_s,
        kind_draw,
        all_points,
    )
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        for i, (t, c, ok, ms, human, first, ack_first, acks, bounce, business, q, kind, full) in enumerate(
            zip(*(col[lo:hi].tolist() for col in columns), strict=True), lo
        ):
            at = SYNTHETIC_START + timedelta(milliseconds=ms) if ok else None
            has_human = human == human  # not NaN
            has_first = first == first
            human_at = at + timedelta(seconds=human) if at is not None and has_human else None
            answers = None
            if human_at is not None:
                scored_q = q == q
                answers = answers_of(
                    holding=kind >= 0.95,
                    first_answer_at=human_at if kind < 0.85 else None,
                    answer_response_s=human if kind < 0.85 else None,
                    quality_matched="the answer" if scored_q else None,
                    quality_missing=None if not scored_q or full else "a detail",
                    answered_all=full if scored_q else None,
                    personalised=kind < 0.6 if scored_q else None,
                )
            append(
                Outcome(
                    **{
                        "probe_id": f"p{i:08d}",
                        "run_id": "run-1" if i % 2 == 0 else "run-2",
                        "suite": "baseline",
                        "target_id": target_ids[t],
                        "target_name": target_names[t],
                        "industry": industries[t],
                        "channel": names[c],
                        "script_id": "refund-question",
                        "persona_id": "anna",
                        "state": "closed" if ok else "failed",
                        "sent_at": at,
                        "sent_clock": "smtp-250" if ok else None,
                        # The first response is the human reply itself unless an acknowledgement came first
                        # (one object, as outcomes built from the store share the message's timestamp).
                        "first_response_at": (human_at if not ack_first else at + timedelta(seconds=first))
                        if at is not None and has_first
                        else None,
                        "first_response_class": ("auto_ack" if ack_first else "human") if has_first else None,
                        "first_human_at": human_at,
                        "bounced": bounce,
                        "censored": ok and not has_human,
                        "horizon_at": at + wait if at is not None else None,
                        "response_s": first if has_first else None,
                        "human_response_s": human if has_human else None,
                        "human_response_business_s": business if has_human else None,
                        "quality": q if q == q else None,
                        "first_response_clock": "smtp-receipt" if has_first else None,
                        "first_human_clock": "smtp-receipt" if has_human else None,
                        "auto_acked": acks,
                        "replies": acks + has_human + bounce,
                        "due_at": at,
                        "country": "DE",
                        "timezone": "Europe/Berlin",
                        "horizon_business_s": _BUSINESS_WAIT_S if ok and not has_human else None,
                        "deflected": 0.85 <= kind < 0.95 and has_human,
                        "answers": answers,
                    }
                )
            )
    return rows
