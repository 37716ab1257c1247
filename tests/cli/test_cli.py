"""The command line as a user runs it: a subprocess, its output, its exit code."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from replybench.analysis.outcome import EXPORT_FIELDS
from replybench.models import ProbeState
from tests.engine.helpers import write_workspace

CONTRACT = [
    "probe_id",
    "run_id",
    "suite",
    "target_id",
    "target_name",
    "industry",
    "channel",
    "script_id",
    "persona_id",
    "state",
    "sent_at",
    "first_response_at",
    "first_response_class",
    "first_human_at",
    "bounced",
    "censored",
    "horizon_at",
    "response_s",
    "human_response_s",
    "human_response_business_s",
    "quality",
]


def cli(
    *args: str, cwd: Path | None = None, timeout: float = 120, stdin: str | None = None, columns: int = 80
) -> subprocess.CompletedProcess[str]:
    """Run ``replybench ARGS`` as a user would, in a terminal ``columns`` wide, typing ``stdin``."""
    return subprocess.run(
        [sys.executable, "-m", "replybench", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "COLUMNS": str(columns)},
    )


def test_init_then_check(tmp_path: Path) -> None:
    done = cli("init", str(tmp_path / "study"))
    assert done.returncode == 0, done.stderr
    for rel in ("replybench.toml", "probes/example-question.toml", "benchmarks/example.toml", "reports"):
        assert (tmp_path / "study" / rel).exists()
    checked = cli("check", "-w", str(tmp_path / "study"))
    assert checked.returncode == 0, checked.stderr
    assert "Acme Corp" in checked.stdout and "2 probes to send" in checked.stdout
    assert not (tmp_path / "study" / ".replybench").exists(), "check must not create a store or send"
    again = cli("init", str(tmp_path / "study"))
    assert again.returncode == 2 and "already exists" in again.stderr


def test_config_error_is_one_clear_line(tmp_path: Path) -> None:
    cli("init", str(tmp_path / "s"))
    bench = tmp_path / "s" / "benchmarks" / "example.toml"
    bench.write_text(bench.read_text().replace('timezone = "Europe/Berlin"', 'timezone = "Berlin"'))
    done = cli("check", "-w", str(tmp_path / "s"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, done.stderr
    assert "example.toml:" in lines[0] and "targets[1].timezone" in lines[0] and "Berlin" in lines[0]
    line_no = int(lines[0].split("example.toml:")[1].split(":")[0])
    assert 'timezone = "Berlin"' in bench.read_text().splitlines()[line_no - 1]


def test_unknown_suite_and_missing_workspace(tmp_path: Path) -> None:
    cli("init", str(tmp_path / "s"))
    done = cli("run", "nope", "-w", str(tmp_path / "s"))
    assert done.returncode == 2 and "no suite 'nope'" in done.stderr and "example" in done.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    done = cli("status", "-w", str(empty))
    assert done.returncode == 2 and "replybench init" in done.stderr


def test_dry_run_sends_nothing(tmp_path: Path) -> None:
    cli("init", str(tmp_path / "s"))
    done = cli("run", "example", "--dry-run", "-w", str(tmp_path / "s"))
    assert done.returncode == 0 and "nothing is sent" in done.stdout
    assert not (tmp_path / "s" / ".replybench").exists()


@pytest.mark.slow
def test_run_status_export_report(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "ws",
        {
            "quick": '{ profile = "fast", human_median = "0.4s", human_sigma = 0.1 }',
            "mute": '{ profile = "never" }',
        },
        wait="3s",
    )
    done = cli("run", "suite", "-w", str(root))
    assert done.returncode == 0, done.stderr
    assert "finished" in done.stdout

    status = cli("status", "-w", str(root))
    assert status.returncode == 0 and "Quick Ltd" in status.stdout and "closed" in status.stdout

    exported = cli("export", "--format", "json", "-w", str(root))
    records = json.loads(exported.stdout)
    assert len(records) == 2
    for rec in records:
        assert set(CONTRACT) <= set(rec)
        assert rec["sent_at"].endswith("Z") and len(rec["sent_at"]) == 24  # ISO 8601 UTC, milliseconds
    quick = next(r for r in records if r["target_id"] == "quick")
    mute = next(r for r in records if r["target_id"] == "mute")
    assert quick["human_response_s"] > 0 and not quick["censored"]
    assert mute["censored"] and mute["human_response_s"] is None

    out = tmp_path / "o.csv"
    done = cli("export", "--format", "csv", "-o", str(out), "-w", str(root))
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert tuple(rows[0]) == EXPORT_FIELDS and len(rows) == 3

    done = cli("report", "-w", str(root), "-o", str(tmp_path / "rep"))
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "Quick Ltd" in html and "Content-Security-Policy" in html
    assert "Quick Ltd" in (tmp_path / "rep" / "report.md").read_text()

    bad = cli("export", "--format", "xml", "-w", str(root))
    assert bad.returncode == 2 and "csv or json" in bad.stderr


def test_classify_prints_one_json_line_per_file(tmp_path: Path) -> None:
    from tests.conftest import RESOURCES

    files = sorted((RESOURCES / "emails").glob("*.eml"))
    garbage = tmp_path / "garbage.eml"
    garbage.write_bytes(b"\x00\xff\xfe not an email")
    done = cli("classify", "--json", *map(str, files), str(garbage))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == len(files) + 1
    for line, path in zip(lines, [*files, garbage], strict=True):
        assert line["file"] == str(path)
        assert {"class", "flags", "rule", "confidence", "evidence", "ticket_id", "promise"} <= set(line)
        assert 0.0 <= line["confidence"] <= 1.0
    by_name = {Path(line["file"]).name: line for line in lines}
    for name, line in by_name.items():
        if "__" in name:
            assert line["class"] == name.split("__")[0], name
    assert any(line["ticket_id"] for line in lines), "help-desk receipts name their ticket"
    assert any(line["promise"] for line in lines), "some acknowledgement states a response time"


def test_classify_shows_a_table_for_people(tmp_path: Path) -> None:
    eml = tmp_path / "ack.eml"
    eml.write_bytes(
        b"From: Acme Support <support@acme.example>\r\nTo: anna@p.example\r\n"
        b"Subject: [#48213] We have received your request\r\nAuto-Submitted: auto-replied\r\n"
        b"Message-ID: <x1@acme.example>\r\n\r\n"
        b"Thank you for contacting us. Your request #48213 has been received; we will reply within "
        b"2 business days.\r\n"
    )
    done = cli("classify", str(eml), columns=200)
    assert done.returncode == 0, done.stderr
    assert "auto_ack" in done.stdout
    assert "48213" in done.stdout
    assert "2 business days" in done.stdout


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_run_resumes(tmp_path: Path) -> None:
    import signal
    import time

    root = write_workspace(
        tmp_path / "ws", {"a": '{ profile = "never" }'}, wait="60s", window="0s", scripts=2
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "replybench", "run", "suite", "-w", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    store_path = root / ".replybench" / "replybench.sqlite3"
    deadline = time.monotonic() + 30
    from replybench.store import open_store

    while time.monotonic() < deadline:
        time.sleep(0.2)
        if store_path.exists():
            store = open_store(str(store_path))
            runs = store.runs()
            sent = store.state_counts(runs[0].id).get(ProbeState.SENT, 0) if runs else 0
            store.close()
            if sent == 2:
                break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    said = " ".join(out.split())  # rich wraps lines at the terminal width
    assert "stopped (run the same command again to resume)" in said
    status = cli("status", "-w", str(root))
    assert "running" in status.stdout and "sent" in status.stdout
