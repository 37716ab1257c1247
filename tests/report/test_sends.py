"""Web-send evidence: artifacts and reasons in the store, the rows built from them, the report section."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from replybench.analysis.outcomes import build_outcomes
from replybench.analysis.sends import SCREENSHOT_MAX_BYTES, build_send_rows, send_row
from replybench.channels.base import SendReceipt
from replybench.models import ProbeState
from replybench.report.render import ReportMeta, write_reports
from replybench.report.sections import send_views
from replybench.store import RunRecord, open_store
from tests.storebuilders import planned_probes

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
META = ReportMeta(
    title="t", workspace="w", suites=("suite",), runs=("run1",), generated_at=T0, wait_limits={"suite": 60.0}
)
HOSTILE_URL = 'https://shop.example/thanks?<script>alert("x")</script>'


def _store(tmp_path: Path):
    store = open_store(str(tmp_path / "s.sqlite3"))
    run = RunRecord(
        "run1", "suite", T0, "running", 1, 60.0, "human", {"targets": {"t": {"id": "t", "name": "T"}}}
    )
    probes = [
        dataclasses.replace(p, channel=channel)
        for p, channel in zip(planned_probes("run1", 4, T0), ["form", "form", "email", "chat"], strict=True)
    ]
    store.create_run(run, probes)
    return store, probes


def test_blocked_and_sent_forms_keep_evidence_and_artifacts(tmp_path: Path) -> None:
    store, (sent, blocked, email, chat) = _store(tmp_path)
    for p in (sent, blocked, email, chat):
        assert store.mark_sending(p.id, T0)
    receipt = SendReceipt(
        T0 + timedelta(seconds=2),
        "form-confirmation",
        {"final_url": HOSTILE_URL, "http_status": 200, "html_sha256": "ab" * 32, "confirmation": "Thanks!"},
    )
    assert store.mark_sent(sent.id, receipt, T0 + timedelta(minutes=1))
    store.put_artifact(sent.id, "before.png", "image/png", PNG)
    store.put_artifact(sent.id, "after.png", "image/png", PNG + b"after")
    assert store.mark_blocked(
        blocked.id, "CAPTCHA: reCAPTCHA frame", {"final_url": "https://t.example/contact"}
    )
    store.put_artifact(blocked.id, "before.png", "image/png", PNG)
    assert store.mark_failed(email.id, "550 no such user")
    assert store.mark_sent(
        chat.id, SendReceipt(T0, "page-clock", {"delivered_status": "delivered"}), T0 + timedelta(minutes=1)
    )

    assert store.get_probe(blocked.id).state is ProbeState.BLOCKED
    assert store.get_probe(blocked.id).evidence == {"final_url": "https://t.example/contact"}
    # an artifact of the same name replaces the old one
    store.put_artifact(sent.id, "after.png", "image/png", PNG + b"again")
    assert [a.name for a in store.artifacts(probe_id=sent.id)] == ["after.png", "before.png"]
    assert store.artifacts(probe_id=sent.id)[0].data == PNG + b"again"

    rows = {r.probe_id: r for r in build_send_rows(store, ["run1"])}
    assert set(rows) == {sent.id, blocked.id, email.id, chat.id}  # the failed email send is listed too
    assert rows[sent.id].screenshot_name == "after.png"
    assert rows[sent.id].screenshot == PNG + b"again"
    assert rows[sent.id].http_status == 200
    assert rows[blocked.id].state == "blocked"
    assert rows[blocked.id].screenshot_name == "before.png"
    assert rows[blocked.id].reason == "CAPTCHA: reCAPTCHA frame"
    assert not rows[chat.id].chat_offline
    assert rows[chat.id].confirmation == "our message was shown as delivered"
    offline = dataclasses.replace(store.get_probe(chat.id), evidence={"chat_offline": True})
    assert send_row(offline, []).chat_offline
    assert rows[email.id].screenshot is None

    outcomes = build_outcomes(store, ["run1"])
    meta = ReportMeta(
        title="t",
        workspace="w",
        suites=("suite",),
        runs=("run1",),
        generated_at=T0,
        wait_limits={"suite": 60.0},
    )
    paths = write_reports(outcomes, meta, tmp_path / "out", sends=list(rows.values()))
    html = paths.html.read_text()
    assert 'id="web"' in html
    assert "<script>alert" not in html  # the company's URL is escaped
    assert "&lt;script&gt;alert" in html
    assert len(re.findall(r'<img class="shot" src="data:image/png;base64,', html)) == 2
    md = paths.markdown.read_text()
    assert "## Web forms and chat" in md
    assert "CAPTCHA: reCAPTCHA frame" in md
    store.close()


def test_no_web_section_without_web_sends(tmp_path: Path) -> None:
    store, _probes = _store(tmp_path)
    outcomes = build_outcomes(store, ["run1"])
    meta = ReportMeta(
        title="t",
        workspace="w",
        suites=("suite",),
        runs=("run1",),
        generated_at=T0,
        wait_limits={"suite": 60.0},
    )
    paths = write_reports(outcomes, meta, tmp_path / "out", sends=build_send_rows(store, ["run1"]))
    assert 'id="web"' not in paths.html.read_text()
    assert "Web forms and chat" not in paths.markdown.read_text()
    store.close()


def test_screenshots_are_capped_and_large_ones_not_embedded(tmp_path: Path) -> None:
    store, probes = _store(tmp_path)
    for p in probes:
        store.mark_sending(p.id, T0)
        store.mark_uncertain(p.id, "timeout after the submit click")
        store.put_artifact(p.id, "after.png", "image/png", PNG)
    big = probes[0]
    store.put_artifact(big.id, "after.png", "image/png", b"x" * (SCREENSHOT_MAX_BYTES + 1))
    rows = build_send_rows(store, ["run1"])
    assert next(r for r in rows if r.probe_id == big.id).screenshot is None
    views, note = send_views(rows, max_rows=3, max_images=1)
    assert len(views) == 3
    assert sum(1 for v in views if v.image) == 1
    assert "Showing 3 of 4 web sends" in note
    assert "replybench artifacts" in note
    store.close()
