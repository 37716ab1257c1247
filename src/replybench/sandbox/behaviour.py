"""How a simulated help desk behaves: profile presets, field overrides, and the per-probe reply plan.

Delays here are *real seconds* (the demo must finish in minutes); the sandbox's ``time_scale`` divides them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from types import MappingProxyType
from typing import Literal

from replybench.models import SandboxBehaviour, SandboxProfile

ReplyKind = Literal["ack", "human", "ooo", "bounce"]

#: Relative jitter of automatic messages (an auto-responder is quick, but not clockwork).
_AUTO_JITTER = 0.2
#: How long after receipt a DSN for a non-existent mailbox is sent (real seconds, before ``time_scale``).
BOUNCE_DELAY = 0.2
#: A person never answers before the company's own automatic messages went out; keep this gap after them.
_HUMAN_AFTER_AUTO = 0.1


@dataclass(frozen=True)
class Behaviour:
    """A fully resolved :class:`~replybench.models.SandboxBehaviour`: every field set, durations in seconds.

    ``bounce`` wins over everything else (the mailbox does not exist, so nobody reads it).
    ``business_hours_only`` applies to the human reply only: automatic messages go out at any hour.
    """

    profile: SandboxProfile
    ack: bool
    ack_delay: float
    human_probability: float
    human_median: float
    human_sigma: float
    business_hours_only: bool
    bounce: bool
    out_of_office: bool


_BASE = Behaviour(
    profile="fast",
    ack=True,
    ack_delay=0.3,
    human_probability=1.0,
    human_median=3.0,
    human_sigma=0.6,
    business_hours_only=False,
    bounce=False,
    out_of_office=False,
)

#: The presets named by ``SandboxBehaviour.profile``.
PRESETS: Mapping[SandboxProfile, Behaviour] = MappingProxyType(
    {
        "fast": _BASE,
        "slow": replace(
            _BASE, profile="slow", ack_delay=1.0, human_probability=0.8, human_median=15.0, human_sigma=1.0
        ),
        "ack_only": replace(_BASE, profile="ack_only", human_probability=0.0),
        "business_hours": replace(_BASE, profile="business_hours", business_hours_only=True),
        "bounce": replace(_BASE, profile="bounce", ack=False, human_probability=0.0, bounce=True),
        "never": replace(_BASE, profile="never", ack=False, human_probability=0.0),
        "out_of_office": replace(
            _BASE, profile="out_of_office", ack=False, out_of_office=True, human_median=8.0
        ),
    }
)

_OVERRIDES = tuple(f.name for f in fields(Behaviour) if f.name != "profile")


def resolve_behaviour(spec: SandboxBehaviour | None) -> Behaviour:
    """Merge a workspace's ``sandbox`` table onto its profile's preset (no table: the ``fast`` preset)."""
    if spec is None:
        return PRESETS["fast"]
    changes: dict[str, object] = {}
    for name in _OVERRIDES:
        value = getattr(spec, name)
        if value is None:
            continue
        changes[name] = value.total_seconds() if name in ("ack_delay", "human_median") else value
    return replace(PRESETS[spec.profile], **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PlannedReply:
    """One message a help desk will send about a probe.

    ``delay`` is in real seconds after receipt, already divided by the time scale. When ``business_time`` is
    true the delay counts only time during which the company is open.
    """

    kind: ReplyKind
    delay: float
    business_time: bool = False


def plan_replies(behaviour: Behaviour, rng: random.Random, *, time_scale: float = 1.0) -> list[PlannedReply]:
    """Decide which replies one probe gets and when, in send order.

    Every random variate is drawn whatever the behaviour, in a fixed order, so changing one field (say
    ``human_probability``) never shifts the others' samples for the same seed.
    """
    if time_scale <= 0 or not math.isfinite(time_scale):
        raise ValueError(f"time_scale must be a positive number, got {time_scale!r}")
    ack_jitter = rng.uniform(1 - _AUTO_JITTER, 1 + _AUTO_JITTER)
    ooo_jitter = rng.uniform(1 - _AUTO_JITTER, 1 + _AUTO_JITTER)
    bounce_jitter = rng.uniform(1 - _AUTO_JITTER, 1 + _AUTO_JITTER)
    answer_draw = rng.random()
    human_z = rng.gauss(0.0, 1.0)

    if behaviour.bounce:
        return [PlannedReply("bounce", BOUNCE_DELAY * bounce_jitter / time_scale)]
    plan: list[PlannedReply] = []
    last_auto = 0.0
    if behaviour.ack:
        last_auto = behaviour.ack_delay * ack_jitter
        plan.append(PlannedReply("ack", last_auto / time_scale))
    if behaviour.out_of_office:
        # An out-of-office notice from the agent's mailbox follows the ticket system's acknowledgement.
        ooo = behaviour.ack_delay * ooo_jitter + (last_auto if behaviour.ack else 0.0)
        last_auto = ooo
        plan.append(PlannedReply("ooo", ooo / time_scale))
    if answer_draw < behaviour.human_probability:
        human = behaviour.human_median * math.exp(behaviour.human_sigma * human_z)
        if plan:
            human = max(human, last_auto + _HUMAN_AFTER_AUTO)
        plan.append(PlannedReply("human", human / time_scale, business_time=behaviour.business_hours_only))
    return plan
