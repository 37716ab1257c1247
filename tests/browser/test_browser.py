"""replybench.browser: which Chromium it picks, and that the browser it launches is the hardened one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from replybench import browser
from replybench.browser import CHROMIUM_ARGS, CHROMIUM_ENV, find_chromium, launch_browser
from tests.asynctest import async_test


def fake_executable(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def no_system_chromium(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No REPLYBENCH_CHROMIUM, no /usr/bin/chromium, and an empty folder as the whole PATH."""
    monkeypatch.delenv(CHROMIUM_ENV, raising=False)
    monkeypatch.setattr(browser, "SYSTEM_CHROMIUM", str(tmp_path / "absent" / "chromium"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def test_environment_variable_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    chosen = fake_executable(tmp_path / "opt", "my-chrome")
    monkeypatch.setenv(CHROMIUM_ENV, str(chosen))
    assert find_chromium() == str(chosen)


def test_environment_variable_may_name_a_command_on_path(
    monkeypatch: pytest.MonkeyPatch, no_system_chromium: Path
) -> None:
    chosen = fake_executable(no_system_chromium, "my-chrome")
    fake_executable(no_system_chromium, "chromium")
    monkeypatch.setenv(CHROMIUM_ENV, "my-chrome")
    assert find_chromium() == str(chosen)


def test_environment_variable_naming_nothing_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(CHROMIUM_ENV, str(tmp_path / "missing-chrome"))
    with pytest.raises(FileNotFoundError, match=CHROMIUM_ENV):
        find_chromium()


def test_system_chromium_before_path(
    monkeypatch: pytest.MonkeyPatch, no_system_chromium: Path, tmp_path: Path
) -> None:
    system = fake_executable(tmp_path / "usr-bin", "chromium")
    fake_executable(no_system_chromium, "chromium")
    monkeypatch.setattr(browser, "SYSTEM_CHROMIUM", str(system))
    assert find_chromium() == str(system)


def test_path_commands_in_order(no_system_chromium: Path) -> None:
    assert find_chromium() is None  # nothing anywhere: Playwright's own browser, if installed
    chrome = fake_executable(no_system_chromium, "google-chrome")
    assert find_chromium() == str(chrome)
    chromium_browser = fake_executable(no_system_chromium, "chromium-browser")
    assert find_chromium() == str(chromium_browser)
    chromium = fake_executable(no_system_chromium, "chromium")
    assert find_chromium() == str(chromium)


def test_importing_the_module_does_not_import_playwright() -> None:
    code = "import sys, replybench.browser; sys.exit('playwright' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False, timeout=30).returncode == 0


@async_test
async def test_launches_headless_chromium_with_the_hardening_flags(chromium: str) -> None:
    async with launch_browser(extra_args=["--lang=de-DE"]) as b:
        assert b.is_connected()
        assert b.browser_type.name == "chromium"
        page = await b.new_page()
        await page.goto("chrome://version")
        command_line = await page.inner_text("#command_line")
        user_agent: str = await page.evaluate("navigator.userAgent")
        assert "HeadlessChrome" in user_agent
        for flag in [*CHROMIUM_ARGS, "--lang=de-DE"]:
            assert flag in command_line.split(), f"{flag} missing from {command_line}"
        executable = await page.inner_text("#executable_path")
    assert not b.is_connected(), "leaving the context closes the browser"
    if find_chromium() == "/usr/bin/chromium":
        assert executable.startswith("/usr/lib/chromium/"), executable  # Debian's, not a downloaded one
