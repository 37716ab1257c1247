"""One builder of the inquiry a channel is handed (:class:`OutboundProbe`), for channel tests and benchmarks."""

from __future__ import annotations

from replybench.channels.base import OutboundProbe
from replybench.models import Persona, Target
from replybench.tokens import message_id_for, new_token, plus_address


def outbound_probe(
    target: Target,
    persona: Persona,
    *,
    subject: str,
    body: str,
    domain: str = "probe.example",
    id_prefix: str = "probe",
) -> OutboundProbe:
    """A probe with a fresh token, replies going to the persona's plus-address for it.

    ``{token}`` in the body is replaced by the token.
    """
    token = new_token()
    assert persona.email is not None, "the persona needs an email address for replies"
    return OutboundProbe(
        probe_id=f"{id_prefix}-{token}",
        token=token,
        target=target,
        persona=persona,
        subject=subject,
        body=body.replace("{token}", token),
        message_id=message_id_for(token, domain),
        reply_address=plus_address(persona.email.address, token),
    )
