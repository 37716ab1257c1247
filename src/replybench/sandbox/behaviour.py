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

#: How a person answers: with the answer, first with a holding reply and later the answer, or by deflecting.
HumanStyle = Literal["answer", "holding", "deflect"]
#: ``human`` is a person's answer; ``holding`` a person's "we will get back to you" and ``followup`` the answer
#: that comes after it in the same ticket (no token, no thread); ``deflection`` a person's "please call us".
ReplyKind = Literal["ack", "human", "ooo", "bounce", "holding", "followup", "deflection"]
#: The kinds of reply a person writes (the others are automatic).
PERSON_KINDS: frozenset[ReplyKind] = frozenset({"human", "holding", "followup", "deflection"})

#: Relative jitter of automatic messages (an auto-responder is quick, but not clockwork).
_AUTO_JITTER = 0.2
#: How long after receipt a DSN for a non-existent mailbox is sent (real seconds, before ``time_scale``).
BOUNCE_DELAY = 0.2
#: A person never answers before the company's own automatic messages went out; keep this gap after them.
_HUMAN_AFTER_AUTO = 0.1
#: After a holding reply the answer comes this many times the holding reply's delay after receipt.
FOLLOWUP_FACTOR = (2.0, 6.0)
#: The answer never comes less than this long after the holding reply (real seconds, before ``time_scale``).
_FOLLOWUP_AFTER_HOLDING = 0.1


@dataclass(frozen=True)
class Behaviour:
    """A fully resolved :class:`~replybench.models.SandboxBehaviour`: every field set, durations in seconds.

    ``bounce`` wins over everything else (the mailbox does not exist, so nobody reads it).
    ``business_hours_only`` applies to the people's replies only: automatic messages go out at any hour.
    ``promise`` is the response time the acknowledgement states; None leaves it to the help desk, which picks
    one per company (:class:`~replybench.sandbox.desk.HelpDesk`).
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
    human_style: HumanStyle = "answer"
    promise: str | None = None


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
    true the delay counts only time during which the company is open (from receipt, for a follow-up too).
    """

    kind: ReplyKind
    delay: float
    business_time: bool = False


def plan_replies(behaviour: Behaviour, rng: random.Random, *, time_scale: float = 1.0) -> list[PlannedReply]:
    """Decide which replies one probe gets and when, in send order.

    Every random variate is drawn whatever the behaviour, in a fixed order, so changing one field (say
    ``human_probability``) never shifts the others' samples for the same seed. Variates added later are
    drawn after the older ones, so a new feature leaves the old samples of a seed as they were.

    A person's reply is a ``human`` answer, a ``deflection``, or a ``holding`` reply followed by the answer
    (``followup``) at the holding reply's delay times a factor drawn from :data:`FOLLOWUP_FACTOR`.
    """
    if time_scale <= 0 or not math.isfinite(time_scale):
        raise ValueError(f"time_scale must be a positive number, got {time_scale!r}")
    ack_jitter = rng.uniform(1 - _AUTO_JITTER, 1 + _AUTO_JITTER)
    ooo_jitter = rng.uniform(1 - _AUTO_JITTER, 1 + _AUTO_JITTER)
    bounce_jitter = rng.uniform(1 - _AUTO_JITTER, 1 + _AUTO_JITTER)
    answer_draw = rng.random()
    human_z = rng.gauss(0.0, 1.0)
    followup_factor = rng.uniform(*FOLLOWUP_FACTOR)

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
        business = behaviour.business_hours_only
        if behaviour.human_style == "holding":
            followup = max(human * followup_factor, human + _FOLLOWUP_AFTER_HOLDING)
            plan.append(PlannedReply("holding", human / time_scale, business_time=business))
            plan.append(PlannedReply("followup", followup / time_scale, business_time=business))
        elif behaviour.human_style == "deflect":
            plan.append(PlannedReply("deflection", human / time_scale, business_time=business))
        else:
            plan.append(PlannedReply("human", human / time_scale, business_time=business))
    return plan
