"""`replybench compare` and `replybench sla` end to end: two sandbox runs, exit codes, tables, CI files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from replybench import cli as cli_module
from replybench.store import open_store
from tests.engine.helpers import write_workspace

QUICK = '{ profile = "fast", ack = false, human_median = "0.3s", human_sigma = 0.1 }'
NEVER = '{ profile = "never" }'
SLA = '[[suite.slas]]\nwithin = "1s"\ntarget_rate = 0.75\n'


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "replybench", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """Run the real entry point (error handling included) without paying for a new interpreter."""
    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["replybench", *args])
    with pytest.raises(SystemExit) as stopped:
        cli_module.main()
    out, err = capsys.readouterr()
    code = stopped.value.code
    return code if isinstance(code, int) else (0 if code is None else 1), out, err


def fits_80(text: str) -> bool:
    return max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.slow
def test_compare_and_sla_across_two_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Run A: the company answers every probe within a second. Run B: it stops answering.
    root = write_workspace(
        tmp_path / "ws", {"acme": QUICK}, wait="1.5s", until="human", scripts=4, window="0.2s"
    )
    suite_file = root / "benchmarks" / "suite.toml"
    suite_file.write_text(suite_file.read_text() + SLA)
    ws = str(root)
    first = cli("run", "suite", "--new", "-w", ws)
    assert first.returncode == 0, first.stderr

    code, out, err = in_process(monkeypatch, capsys, "sla", "-w", ws, "--junit", str(tmp_path / "sla-a.xml"))
    assert code == 0, out + err
    assert "OK: every SLA met" in " ".join(out.split())
    assert ET.parse(tmp_path / "sla-a.xml").getroot().attrib["failures"] == "0"

    suite_file.write_text(suite_file.read_text().replace(QUICK, NEVER))
    second = cli("run", "suite", "--new", "-w", ws)
    assert second.returncode == 0, second.stderr
    store = open_store(str(root / ".replybench" / "replybench.sqlite3"))
    run_a, run_b = (r.id for r in store.runs("suite"))
    store.close()

    # without thresholds a regression is reported but does not fail
    code, out, err = in_process(monkeypatch, capsys, "compare", run_a, run_b, "-w", ws)
    assert code == 0, out + err
    assert run_a in out and run_b in out
    assert "Acme Ltd" in out and "worse" in out and "log-rank" in out
    assert "4/4" in out and "100 → 0" in out and "not reached" in out

    gated = cli(
        "compare",
        "--suite",
        "suite",
        "-w",
        ws,
        "--fail-on-worse",
        "--max-median-increase",
        "20%",
        "--junit",
        str(tmp_path / "cmp.xml"),
        "--json",
        str(tmp_path / "cmp.json"),
    )
    assert gated.returncode == 1, gated.stdout + gated.stderr
    assert "FAIL: 2 threshold(s) breached" in " ".join(gated.stdout.split())
    assert "worse" in gated.stdout and fits_80(gated.stdout)
    junit = ET.parse(tmp_path / "cmp.xml").getroot()
    assert (junit.attrib["tests"], junit.attrib["failures"]) == ("1", "1")
    data = json.loads((tmp_path / "cmp.json").read_text())
    group = data["groups"][0]
    assert group["verdict"] == "worse" and group["pvalue"] < 0.05 and group["test"] == "log-rank"
    assert (group["a"]["sent"], group["b"]["sent"]) == (4, 4) and data["failed"] is True

    code, out, _ = in_process(
        monkeypatch, capsys, "compare", run_a, run_b, "-w", ws, "--max-rate-drop", "100%"
    )
    assert code == 0 and "OK: no threshold breached" in out

    sla_b = cli("sla", "-w", ws, "--json", str(tmp_path / "sla-b.json"))
    assert sla_b.returncode == 1, sla_b.stdout + sla_b.stderr
    assert "breached" in sla_b.stdout and "FAIL" in sla_b.stdout and fits_80(sla_b.stdout)
    results = json.loads((tmp_path / "sla-b.json").read_text())["results"]
    assert [(r["key"], r["met"], r["sent"], r["status"]) for r in results] == [
        ("acme", 0, 4, "breached"),
        ("overall", 0, 4, "breached"),
    ]
    assert in_process(monkeypatch, capsys, "sla", "--run", run_a, "-w", ws)[0] == 0

    # user errors: exit code 2, one clear line
    for args, words in (
        (("compare", run_a, run_a), "with itself"),
        (("compare", run_a), "first run"),
        (("compare", "--by", "colour"), "--by must be one of"),
        (("compare", "--max-median-increase", "lots"), "expected a percentage"),
        (("compare", "--targets", "acme", "nope"), "no probes of target 'nope'"),
        (("sla", "--run", "nope"), "no run 'nope'"),
    ):
        code, out, err = in_process(monkeypatch, capsys, *args, "-w", ws)
        assert code == 2, (args, out, err)
        assert words in " ".join(err.split())
