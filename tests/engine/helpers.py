"""Build small workspaces for engine tests: targets with given sandbox behaviours and a quick suite."""

from __future__ import annotations

from pathlib import Path

SCRIPT = '''subject = "Question for {{ target.name }}"
body = """
Hello, do you deliver on Saturdays?
{{ persona.display_name }}
"""
'''


def write_workspace(
    root: Path,
    behaviours: dict[str, str],
    *,
    wait: str = "6s",
    until: str = "horizon",
    window: str = "0.5s",
    spacing: str = "0s",
    scripts: int = 1,
    settings: str = "",
    mode: str = "sandbox",
    grace: str = "2s",
    endpoints: dict[str, str] | None = None,
    channels: tuple[str, ...] = ("email",),
    persona: str = "",
    body: str | None = None,
) -> Path:
    """A workspace with one target per entry of ``behaviours`` (id -> inline sandbox table).

    ``endpoints`` adds TOML lines to a target (id -> lines, e.g. a form endpoint); ``channels`` are the
    suite's channels, and every script fits all of them. ``persona`` adds TOML lines to the persona (e.g. its
    social accounts); ``body`` replaces the scripts' body.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "replybench.toml").write_text(
        f'name = "engine test"\nmode = "{mode}"\nreconcile_grace = "{grace}"\n{settings}'
    )
    (root / "probes").mkdir(exist_ok=True)
    names = []
    fits = ", ".join(f'"{c}"' for c in channels)
    for i in range(scripts):
        script = (
            SCRIPT
            if body is None
            else f'subject = "Question for {{{{ target.name }}}}"\nbody = """{body}"""\n'
        )
        (root / "probes" / f"q{i}.toml").write_text(f"channels = [{fits}]\n" + script)
        names.append(f'"q{i}"')
    targets = ""
    for tid, sandbox in behaviours.items():
        targets += (
            f'[[targets]]\nid = "{tid}"\nname = "{tid.title()} Ltd"\nindustry = "retail"\n'
            f'timezone = "UTC"\nhours = {{ mon = ["00:00-24:00"], tue = ["00:00-24:00"], '
            f'wed = ["00:00-24:00"], thu = ["00:00-24:00"], fri = ["00:00-24:00"], '
            f'sat = ["00:00-24:00"], sun = ["00:00-24:00"], holidays = false }}\n'
            f'endpoints.email.address = "help@{tid}.example"\n{(endpoints or {}).get(tid, "")}\n'
            f"sandbox = {sandbox}\n\n"
        )
    (root / "benchmarks").mkdir(exist_ok=True)
    (root / "benchmarks" / "suite.toml").write_text(
        targets
        + '[[personas]]\nid = "ann"\ndisplay_name = "Ann Example"\nemail.address = "ann@probes.example"\n'
        + f"{persona}\n\n"
        + f'[suite]\ntargets = ["*"]\nscripts = [{", ".join(names)}]\npersonas = ["ann"]\n'
        + f"channels = [{fits}]\n"
        + f'[suite.schedule]\nwindow = "{window}"\nspacing = "{spacing}"\nseed = 3\n'
        + f'[suite.wait]\nlimit = "{wait}"\nuntil = "{until}"\n'
    )
    return root
