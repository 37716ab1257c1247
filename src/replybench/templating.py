"""Probe templates: Jinja2 in a sandboxed environment with StrictUndefined (a typo is an error, not blank)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from replybench.errors import TemplateError
from replybench.models import Persona, ProbeScript, Target


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    """The one template environment: sandboxed, strict, no autoescape (probes are plain text)."""
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


def check_syntax(source: str) -> tuple[int, str] | None:
    """(line, message) of a template syntax error, or None when the template parses."""
    try:
        environment().parse(source)
    except TemplateSyntaxError as exc:
        return exc.lineno, exc.message or "syntax error"
    return None


def context(
    target: Target, persona: Persona, script: ProbeScript, *, probe_id: str, token: str
) -> dict[str, Any]:
    """The variables a probe template may use."""
    return {
        "target": {
            "id": target.id,
            "name": target.name,
            "industry": target.industry,
            "country": target.country,
        },
        "persona": {
            "id": persona.id,
            "display_name": persona.display_name,
            "first_name": persona.given_name,
            "language": persona.language,
        },
        "script": {"id": script.id, "title": script.title or script.id, "category": script.category},
        "probe": {"id": probe_id, "token": token, "reference": token[:6].upper()},
    }


@lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    return environment().from_string(source)


def render(source: str, variables: dict[str, Any], *, where: str) -> str:
    """Render one template; any failure is a TemplateError that says where and what."""
    try:
        return _compiled(source).render(**variables).strip()
    except UndefinedError as exc:
        raise TemplateError(f"{where}: {exc.message} (available: target, persona, script, probe)") from exc
    except TemplateSyntaxError as exc:
        raise TemplateError(f"{where}: line {exc.lineno}: {exc.message}") from exc
    except SecurityError as exc:
        raise TemplateError(f"{where}: not allowed in a probe template: {exc}") from exc
