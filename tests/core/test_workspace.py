"""Workspace loading: the example loads; every malformed input names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from replybench.errors import ConfigError
from replybench.workspace import load_workspace

TARGET = """
[[targets]]
id = "acme"
name = "Acme"
timezone = "Europe/Berlin"
country = "DE"
endpoints.email.address = "help@acme.example"
"""
PERSONA = """
[[personas]]
id = "p"
display_name = "Pat Lee"
email.address = "pat@probes.example"
"""
SCRIPT = 'subject = "Hi {{ target.name }}"\nbody = "Question from {{ persona.display_name }}"\n'
SUITE = """
[suite]
targets = ["acme"]
scripts = ["q"]
personas = ["p"]
"""


def test_example_workspace_loads(example_workspace: Path) -> None:
    ws = load_workspace(example_workspace)
    assert len(ws.targets) == 9
    assert {t.industry for t in ws.targets.values()} == {"banking", "retail", "telecom"}
    assert len({t.timezone for t in ws.targets.values()}) >= 3
    assert {"demo", "holiday-study"} <= set(ws.suites)
    assert "Hamburg" in ws.scripts["order-delivery"].body  # body_file was read


def test_minimal_workspace(make_workspace) -> None:
    root = make_workspace(files={"probes/q.toml": SCRIPT, "benchmarks/b.toml": TARGET + PERSONA + SUITE})
    ws = load_workspace(root)
    assert ws.suites["b"].targets == ["acme"]
    assert ws.targets["acme"].tz.key == "Europe/Berlin"


def _error(root: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_workspace(root)
    return info.value


def test_bad_timezone_names_file_line_and_field(make_workspace) -> None:
    bad = TARGET.replace("Europe/Berlin", "Europe/Atlantis")
    root = make_workspace(files={"probes/q.toml": SCRIPT, "benchmarks/b.toml": bad + PERSONA + SUITE})
    err = _error(root)
    assert err.file.name == "b.toml"
    assert err.line == 5  # the `timezone = ` line (line 1 is blank)
    assert err.field == "targets[0].timezone"
    assert "Europe/Atlantis" in str(err) and "IANA" in str(err)


def test_misspelt_key_is_an_error_not_ignored(make_workspace) -> None:
    bad = SUITE.replace("personas =", "persona =")
    root = make_workspace(files={"probes/q.toml": SCRIPT, "benchmarks/b.toml": TARGET + PERSONA + bad})
    err = _error(root)
    assert err.field in {"suite.persona", "suite.personas"}
    assert err.line is not None


def test_toml_syntax_error_has_line(make_workspace) -> None:
    root = make_workspace(files={"benchmarks/b.toml": 'x = 1\n[[targets]\nid = "a"\n'})
    err = _error(root)
    assert err.line == 2
    assert "invalid TOML" in err.message


def test_unknown_reference_lists_known_ids(make_workspace) -> None:
    bad = SUITE.replace('scripts = ["q"]', 'scripts = ["nope"]')
    root = make_workspace(files={"probes/q.toml": SCRIPT, "benchmarks/b.toml": TARGET + PERSONA + bad})
    err = _error(root)
    assert err.field == "suite.scripts"
    assert "'nope'" in err.message and "q" in err.message
    assert err.line == (TARGET + PERSONA + bad).splitlines().index('scripts = ["nope"]') + 1


def test_template_syntax_error_points_into_the_body(make_workspace) -> None:
    script = 'subject = "Hi"\nbody = """\nline one\n{{ target.name \n"""\n'
    root = make_workspace(files={"probes/q.toml": script, "benchmarks/b.toml": TARGET + PERSONA + SUITE})
    err = _error(root)
    assert err.field == "body"
    assert err.file.name == "q.toml"
    assert err.line is not None and err.line >= 3


def test_persona_address_with_plus_is_rejected(make_workspace) -> None:
    bad = PERSONA.replace("pat@", "pat+x@")
    root = make_workspace(files={"probes/q.toml": SCRIPT, "benchmarks/b.toml": TARGET + bad + SUITE})
    err = _error(root)
    assert err.field == "personas[0].email.address"


def test_unknown_country_is_a_config_error(make_workspace) -> None:
    bad = TARGET.replace('country = "DE"', 'country = "QQ"')
    root = make_workspace(files={"probes/q.toml": SCRIPT, "benchmarks/b.toml": bad + PERSONA + SUITE})
    err = _error(root)
    assert err.field == "targets[0].country"


def test_bad_duration(make_workspace) -> None:
    bad = SUITE + '[suite.wait]\nlimit = "three days"\n'
    root = make_workspace(files={"probes/q.toml": SCRIPT, "benchmarks/b.toml": TARGET + PERSONA + bad})
    err = _error(root)
    assert err.field == "suite.wait.limit"
    assert "duration" in err.message


def test_settings_errors_name_replybench_toml(make_workspace) -> None:
    root = make_workspace(settings='mode = "production"\n')
    err = _error(root)
    assert err.file.name == "replybench.toml"
    assert err.field == "mode" and err.line == 1
