from __future__ import annotations

from replybench.tomllines import key_lines, line_of

DOC = '''name = "x"
[[targets]]
id = "a"
[targets.hours]
mon = ["09:00-12:00",
  "13:00-17:00"]
[[targets]]
id = "b"
body = """
fake = 3
"""
timezone = "UTC"
[suite]
targets = ["a"]
'''


def test_paths_and_lines() -> None:
    lines = key_lines(DOC)
    assert lines[("targets", 0, "id")] == 3
    assert lines[("targets", 0, "hours", "mon")] == 5
    assert lines[("targets", 1, "id")] == 8
    assert lines[("targets", 1, "timezone")] == 12
    assert ("targets", 1, "fake") not in lines  # inside a multi-line string
    assert lines[("suite", "targets")] == 14


def test_line_of_falls_back_to_enclosing_table() -> None:
    assert line_of(DOC, ("targets", 1, "missing")) == 7
    assert line_of(DOC, ("nothing",)) is None
