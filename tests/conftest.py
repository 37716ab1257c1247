"""Shared fixtures: example workspaces copied to temporary folders, and the Dovecot server helper."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.browser.conftest import chromium  # noqa: F401 - real Chromium for every browser test

pytest_plugins = ["tests.servers.dovecot"]

REPO = Path(__file__).resolve().parents[1]
RESOURCES = Path(__file__).resolve().parent / "resources"


@pytest.fixture
def example_workspace(tmp_path: Path) -> Path:
    """A copy of the repository's example workspace (the one the demo runs)."""
    root = tmp_path / "ws"
    root.mkdir()
    shutil.copy(REPO / "replybench.toml", root / "replybench.toml")
    for folder in ("probes", "benchmarks", "reports"):
        shutil.copytree(REPO / folder, root / folder)
    return root


@pytest.fixture
def make_workspace(tmp_path: Path) -> Callable[..., Path]:
    """Write a small workspace from strings: make_workspace(settings=..., files={"benchmarks/x.toml": ...})."""

    def make(settings: str = "", files: dict[str, str] | None = None) -> Path:
        root = tmp_path / "custom"
        root.mkdir(exist_ok=True)
        (root / "replybench.toml").write_text(settings or 'name = "t"\n')
        for rel, text in (files or {}).items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return root

    return make
