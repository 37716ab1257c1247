"""The sandbox: simulated companies on loopback, the embedded default for the demo and the tests."""

from replybench.sandbox.behaviour import (
    PRESETS,
    Behaviour,
    PlannedReply,
    ReplyKind,
    plan_replies,
    resolve_behaviour,
)
from replybench.sandbox.core import Sandbox
from replybench.sandbox.desk import HelpDesk
from replybench.sandbox.mastodon import MastodonRecord, SandboxMastodon
from replybench.sandbox.mta import Route
from replybench.sandbox.smtpd import LoopbackServer
from replybench.sandbox.truth import DeliveryRecord, GroundTruth, ProbeRecord, ReplyRecord

__all__ = [
    "PRESETS",
    "Behaviour",
    "DeliveryRecord",
    "GroundTruth",
    "HelpDesk",
    "LoopbackServer",
    "MastodonRecord",
    "PlannedReply",
    "ProbeRecord",
    "ReplyKind",
    "ReplyRecord",
    "Route",
    "Sandbox",
    "SandboxMastodon",
    "plan_replies",
    "resolve_behaviour",
]
