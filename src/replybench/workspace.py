"""Load and validate a workspace folder into typed models, with errors that name file, line and field.

Layout: ``replybench.toml`` (settings) beside ``probes/`` (one probe script per ``*.toml``, templates inline or in
a ``body_file``) and ``benchmarks/`` (``*.toml`` files holding ``[[targets]]``, ``[[personas]]`` and at most one
``[suite]`` each). ``reports/`` may hold template overrides.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from replybench.clock import BusinessClock
from replybench.errors import ConfigError
from replybench.models import SOCIAL_NETWORKS, Persona, ProbeScript, Settings, Suite, Target, Workspace
from replybench.templating import check_syntax
from replybench.tomllines import line_of

CONFIG_FILE = "replybench.toml"
M = TypeVar("M", bound=BaseModel)


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding a replybench.toml."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise ConfigError(start / CONFIG_FILE, "no workspace here: run `replybench init DIR` to create one")


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise ConfigError(path, f"cannot read: {exc.strerror}") from exc
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        # Python < 3.14 puts the position only in the message: "... (at line 2, column 10)"
        found = re.search(r"\s*\(at line (\d+), column \d+\)$", str(exc))
        line = int(found.group(1)) if found else getattr(exc, "lineno", None)
        message = str(exc)[: found.start()] if found else str(exc)
        raise ConfigError(path, f"invalid TOML: {message}", line=line) from exc


def _field_path(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _expected(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    message = str(error.get("msg", "invalid value"))
    if kind == "extra_forbidden":
        return "unknown key (check its spelling)"
    if kind == "missing":
        return "required key is missing"
    return message.removeprefix("Value error, ")


def validate(model: type[M], data: Any, path: Path, text: str, prefix: tuple[str | int, ...] = ()) -> M:
    """Validate ``data`` as ``model``; a failure becomes a ConfigError naming file, line and field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        loc = tuple(p for p in first["loc"] if isinstance(p, str | int))
        # pydantic adds the union member's name to the loc of union errors; it is not a TOML key
        loc = tuple(p for p in loc if not (isinstance(p, str) and p[:1].isupper()))
        field = _field_path((*prefix, *loc))
        more = (
            f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
            if len(errors) > 1
            else ""
        )
        raise ConfigError(
            path, _expected(first) + more, line=line_of(text, (*prefix, *loc)), field=field or None
        ) from exc


def load_settings(root: Path) -> Settings:
    """Read replybench.toml."""
    path = root / CONFIG_FILE
    data, text = _read_toml(path)
    return validate(Settings, data, path, text)


def _load_script(path: Path) -> ProbeScript:
    data, text = _read_toml(path)
    data.setdefault("id", path.stem)
    if "body_file" in data:
        body_path = path.parent / str(data.pop("body_file"))
        try:
            data["body"] = body_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                path,
                f"cannot read {body_path.name}: {exc.strerror}",
                field="body_file",
                line=line_of(text, ("body_file",)),
            ) from exc
    script = validate(ProbeScript, data, path, text)
    for field in ("subject", "body"):
        problem = check_syntax(getattr(script, field))
        if problem:
            base = line_of(text, (field,)) or 1
            inline = field == "body" and "body" in text
            raise ConfigError(
                path,
                f"template syntax error: {problem[1]}",
                field=field,
                line=base + problem[0] - 1 if inline else base,
            )
    return script


def _load_benchmark_file(
    path: Path,
    targets: dict[str, Target],
    personas: dict[str, Persona],
    suites: dict[str, tuple[Suite, Path, str]],
) -> None:
    data, text = _read_toml(path)
    unknown = set(data) - {"targets", "personas", "suite"}
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(
            path,
            "unknown top-level key: expected [[targets]], [[personas]] or [suite]",
            field=key,
            line=line_of(text, (key,)),
        )
    for index, raw in enumerate(data.get("targets", [])):
        target = validate(Target, raw, path, text, ("targets", index))
        if target.id in targets:
            raise ConfigError(
                path,
                f"target id {target.id!r} is defined twice",
                field=f"targets[{index}].id",
                line=line_of(text, ("targets", index, "id")),
            )
        try:
            BusinessClock.for_target(target)
        except ValueError as exc:
            raise ConfigError(
                path,
                str(exc),
                field=f"targets[{index}].country",
                line=line_of(text, ("targets", index, "country")),
            ) from exc
        targets[target.id] = target
    for index, raw in enumerate(data.get("personas", [])):
        persona = validate(Persona, raw, path, text, ("personas", index))
        if persona.id in personas:
            raise ConfigError(
                path,
                f"persona id {persona.id!r} is defined twice",
                field=f"personas[{index}].id",
                line=line_of(text, ("personas", index, "id")),
            )
        if persona.email and "+" in persona.email.local:
            raise ConfigError(
                path,
                "the address may not contain '+': replybench adds +TOKEN to it",
                field=f"personas[{index}].email.address",
                line=line_of(text, ("personas", index, "email", "address")),
            )
        personas[persona.id] = persona
    if "suite" in data:
        raw_suite = dict(data["suite"]) if isinstance(data["suite"], dict) else data["suite"]
        if isinstance(raw_suite, dict):
            raw_suite.setdefault("id", path.stem)
        suite = validate(Suite, raw_suite, path, text, ("suite",))
        if suite.id in suites:
            raise ConfigError(
                path,
                f"suite id {suite.id!r} is also defined in {suites[suite.id][1]}",
                field="suite.id",
                line=line_of(text, ("suite", "id")),
            )
        suites[suite.id] = (suite, path, text)


def select_targets(selectors: Sequence[str], targets: Mapping[str, Target]) -> list[str]:
    """Resolve a suite's target list: ids, ``"*"`` (all) or ``"industry:NAME"``; order kept, no repeats."""
    chosen: dict[str, None] = {}
    for sel in selectors:
        if sel == "*":
            chosen.update(dict.fromkeys(sorted(targets)))
        elif sel.startswith("industry:"):
            chosen.update(dict.fromkeys(sorted(t for t, v in targets.items() if v.industry == sel[9:])))
        else:
            chosen[sel] = None
    return list(chosen)


def _check_references(
    suite: Suite,
    path: Path,
    text: str,
    ws_targets: Mapping[str, Target],
    personas: Mapping[str, Persona],
    scripts: Mapping[str, ProbeScript],
) -> None:
    def fail(field: str, bad: str, known: Sequence[str], what: str) -> None:
        hint = ", ".join(sorted(known)) or "none defined"
        raise ConfigError(
            path,
            f"unknown {what} {bad!r} (known: {hint})",
            field=f"suite.{field}",
            line=line_of(text, ("suite", field)),
        )

    for sel in suite.targets:
        if sel.startswith("industry:"):
            if not any(t.industry == sel[9:] for t in ws_targets.values()):
                fail(
                    "targets",
                    sel,
                    sorted({f"industry:{t.industry}" for t in ws_targets.values()}),
                    "industry",
                )
        elif sel != "*" and sel not in ws_targets:
            fail("targets", sel, list(ws_targets), "target")
    for sid in suite.scripts:
        if sid not in scripts:
            fail("scripts", sid, list(scripts), "probe script")
    for pid in suite.personas:
        if pid not in personas:
            fail("personas", pid, list(personas), "persona")
        if "email" in suite.channels and personas[pid].email is None:
            raise ConfigError(
                path,
                f"persona {pid!r} has no email identity but the suite uses the email channel",
                field="suite.personas",
                line=line_of(text, ("suite", "personas")),
            )
        for network in SOCIAL_NETWORKS:
            if network in suite.channels and personas[pid].social(network) is None:
                raise ConfigError(
                    path,
                    f"persona {pid!r} has no {network} account but the suite uses the {network} channel"
                    f' (add {network} = {{ account = "…" }} to the persona)',
                    field="suite.personas",
                    line=line_of(text, ("suite", "personas")),
                )
    if not select_targets(suite.targets, ws_targets):
        raise ConfigError(
            path,
            "the target selection is empty",
            field="suite.targets",
            line=line_of(text, ("suite", "targets")),
        )


def load_workspace(root: Path) -> Workspace:
    """Load and validate a whole workspace; raises ConfigError at the first problem."""
    root = root.resolve()
    settings = load_settings(root)
    scripts: dict[str, ProbeScript] = {}
    probes_dir = root / settings.probes
    for path in sorted(probes_dir.glob("*.toml")) if probes_dir.is_dir() else []:
        script = _load_script(path)
        if script.id in scripts:
            raise ConfigError(path, f"probe script id {script.id!r} is defined twice", field="id")
        scripts[script.id] = script
    targets: dict[str, Target] = {}
    personas: dict[str, Persona] = {}
    suites: dict[str, tuple[Suite, Path, str]] = {}
    bench_dir = root / settings.benchmarks
    for path in sorted(bench_dir.glob("*.toml")) if bench_dir.is_dir() else []:
        _load_benchmark_file(path, targets, personas, suites)
    for suite, path, text in suites.values():
        _check_references(suite, path, text, targets, personas, scripts)
    return Workspace(
        root=root,
        settings=settings,
        targets=targets,
        personas=personas,
        scripts=scripts,
        suites={k: v[0] for k, v in suites.items()},
        sources={k: str(v[1].relative_to(root)) for k, v in suites.items()},
    )
