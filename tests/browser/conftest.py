"""Browser tests: real Chromium through Playwright. They skip only when no Chromium can be found at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from replybench.browser import find_chromium


def _playwright_own_chromium() -> str | None:
    """The Chromium Playwright downloaded itself (``playwright install``), when there is one."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        path = playwright.chromium.executable_path
    return path if Path(path).is_file() else None


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium executable :func:`replybench.browser.launch_browser` will use; skips if there is none."""
    pytest.importorskip(
        "playwright.async_api", reason="Playwright is not installed (pip install -e '.[test]')"
    )
    path = find_chromium() or _playwright_own_chromium()
    if path is None:
        pytest.skip(
            "no Chromium found: install Debian's `chromium` (./dev tests does) or set REPLYBENCH_CHROMIUM"
        )
    return path
