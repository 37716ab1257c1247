"""A hardened headless Chromium through Playwright, for the browser tests and the web-form and chat channels.

The system's Chromium (Debian's ``chromium`` package) is preferred: :func:`find_chromium` looks for it, and
:func:`launch_browser` starts it with :data:`CHROMIUM_ARGS`. Only when none is found does Playwright fall back
to a browser of its own, if one was installed. Playwright is imported lazily, so replybench works without it
until a browser is actually needed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.async_api import Browser

#: Environment variable naming the Chromium executable to use (a path or a command on PATH).
CHROMIUM_ENV = "REPLYBENCH_CHROMIUM"

#: Where Debian installs Chromium, then the commands looked up on PATH, in this order.
SYSTEM_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_COMMANDS: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome")

#: Headless hardening: no sandbox (containers and root lack the namespaces it needs), no GPU, no /dev/shm,
#: and none of the browser's own traffic (background networking, component updates, sync, first-run, QUIC).
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


def find_chromium() -> str | None:
    """Return the Chromium executable to launch, or None to let Playwright use a browser of its own.

    Order: the ``REPLYBENCH_CHROMIUM`` environment variable (a path or a command on PATH), Debian's
    ``/usr/bin/chromium``, then ``chromium``, ``chromium-browser`` and ``google-chrome`` on PATH.

    Raises:
        FileNotFoundError: ``REPLYBENCH_CHROMIUM`` is set but names no executable (a misconfiguration is
            reported rather than silently replaced by another browser).
    """
    configured = os.environ.get(CHROMIUM_ENV, "").strip()
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise FileNotFoundError(f"{CHROMIUM_ENV}={configured!r} is not an executable file or command")
        return found
    if os.access(SYSTEM_CHROMIUM, os.X_OK) and Path(SYSTEM_CHROMIUM).is_file():
        return SYSTEM_CHROMIUM
    for command in CHROMIUM_COMMANDS:
        found = shutil.which(command)
        if found is not None:
            return found
    return None


@asynccontextmanager
async def launch_browser(
    *, extra_args: Sequence[str] = (), timeout_s: float = 30.0
) -> AsyncIterator[Browser]:
    """Start Playwright and a headless Chromium hardened with :data:`CHROMIUM_ARGS`; close both on exit.

    The executable is :func:`find_chromium`'s, or Playwright's own browser when it finds none. ``extra_args``
    are appended to the command line; ``timeout_s`` bounds the launch.

    Raises:
        ModuleNotFoundError: Playwright is not installed (``pip install playwright``; the ``test`` extra).
        FileNotFoundError: see :func:`find_chromium`.
    """
    from playwright.async_api import async_playwright

    executable = find_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[*CHROMIUM_ARGS, *extra_args],
            timeout=timeout_s * 1000,
        )
        try:
            yield browser
        finally:
            await browser.close()
