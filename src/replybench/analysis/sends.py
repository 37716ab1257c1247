"""Send evidence rows: how each web-form and chat inquiry went in the browser, for the reports.

A form probe leaves more than a timestamp: the page it ended on, the HTTP status of the submit, a hash of the
final page and screenshots before and after the click. A blocked (CAPTCHA, login wall), failed or uncertain
send of any channel is shown with its reason. Reports consume these rows, never store records.

Final URLs, reasons and confirmation texts come from the company's pages: they are UNTRUSTED plain text, made
safe by the output format's escaping.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from replybench.analysis.evidence import clean_text
from replybench.models import ProbeState
from replybench.store import ArtifactRecord, ProbeRecord, Store

BROWSER_CHANNELS = frozenset({"form", "chat"})
#: The screenshot shown for a probe: the first of these names that exists.
SCREENSHOT_ORDER = ("after.png", "chat.png", "before.png")
#: Screenshots larger than this are listed but not embedded (keeps the HTML report small).
SCREENSHOT_MAX_BYTES = 400_000


@dataclass(frozen=True)
class SendRow:
    """How one inquiry was sent: its state, why it was not (if it was not), and the browser's evidence."""

    probe_id: str
    target_id: str
    channel: str
    state: str
    reason: str
    final_url: str
    http_status: int | None
    page_sha256: str
    confirmation: str
    chat_offline: bool
    screenshot_name: str | None
    screenshot: bytes | None
    artifacts: tuple[str, ...]


def _screenshot(artifacts: list[ArtifactRecord]) -> tuple[str | None, bytes | None]:
    by_name = {a.name: a for a in artifacts}
    for name in SCREENSHOT_ORDER:
        found = by_name.get(name)
        if found is not None:
            return name, found.data if found.size <= SCREENSHOT_MAX_BYTES else None
    return None, None


def _status(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None


def _delivered(evidence: dict[str, object]) -> str:
    """A chat's proof of sending, in words: the status the widget gave our message."""
    status = evidence.get("delivered_status")
    return f"our message was shown as {status}" if status else ""


def send_row(probe: ProbeRecord, artifacts: list[ArtifactRecord]) -> SendRow:
    """Reduce a probe and its artifacts to a :class:`SendRow`."""
    ev = probe.evidence
    name, shot = _screenshot(artifacts)
    return SendRow(
        probe_id=probe.id,
        target_id=probe.target_id,
        channel=probe.channel,
        state=probe.state.value,
        reason=clean_text(probe.error, 300),
        final_url=clean_text(str(ev.get("final_url") or ev.get("url") or ""), 300),
        http_status=_status(ev.get("http_status")),
        page_sha256=clean_text(str(ev.get("html_sha256") or ""), 64),
        confirmation=clean_text(str(ev.get("confirmation") or _delivered(ev)), 200),
        chat_offline=bool(ev.get("chat_offline")),
        screenshot_name=name,
        screenshot=shot,
        artifacts=tuple(a.name for a in artifacts),
    )


NOT_SENT = frozenset({ProbeState.BLOCKED, ProbeState.FAILED, ProbeState.UNCERTAIN})


def build_send_rows(store: Store, run_ids: Iterable[str]) -> list[SendRow]:
    """Rows for every browser-channel probe that was attempted, and every blocked, failed or uncertain one.

    Run by run in the order given, each run's probes in due order.
    """
    rows: list[SendRow] = []
    for run_id in dict.fromkeys(run_ids):
        by_probe: dict[str, list[ArtifactRecord]] = {}
        for artifact in store.artifacts(run_id=run_id):
            by_probe.setdefault(artifact.probe_id, []).append(artifact)
        for probe in store.probes(run_id):
            attempted = probe.attempt_at is not None
            if (probe.channel in BROWSER_CHANNELS and attempted) or probe.state in NOT_SENT:
                rows.append(send_row(probe, by_probe.get(probe.id, [])))
    return rows
