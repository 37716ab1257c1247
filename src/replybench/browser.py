"""A hardened headless Chromium through Playwright, for the browser tests and the web-form and chat channels.

The system's Chromium (Debian's ``chromium`` package) is preferred: :func:`find_chromium` looks for it, and
:func:`launch_browser` starts it with :data:`CHROMIUM_ARGS`. Only when none is found does Playwright fall back
to a browser of its own, if one was installed. Playwright is imported lazily, so replybench works without it
until a browser is actually needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext

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
    *, extra_args: Sequence[str] = (), timeout_s: float = 30.0, executable: str | None = None
) -> AsyncIterator[Browser]:
    """Start Playwright and a headless Chromium hardened with :data:`CHROMIUM_ARGS`; close both on exit.

    The executable is ``executable`` when given, else :func:`find_chromium`'s, else Playwright's own browser.
    ``extra_args``
    are appended to the command line; ``timeout_s`` bounds the launch.

    Raises:
        ModuleNotFoundError: Playwright is not installed (``pip install playwright``; the ``test`` extra).
        FileNotFoundError: see :func:`find_chromium`.
    """
    from playwright.async_api import async_playwright

    executable = executable or find_chromium()
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


class BrowserPool:
    """One shared headless Chromium and a bounded number of fresh browser contexts, one per probe.

    The browser starts on first use and is shared by the web-form and chat channels of a run; each probe gets
    a new context (no cookies or storage shared between probes) with the persona's locale and time zone.
    At most ``size`` contexts are open at once; :meth:`context` waits for a free one.
    """

    def __init__(self, *, size: int = 4, executable: str | None = None, extra_args: Sequence[str] = ()):
        if size < 1:
            raise ValueError(f"a browser pool needs at least one context, got {size}")
        self.size = size
        self._executable = executable
        self._extra_args = tuple(extra_args)
        self._slots = asyncio.Semaphore(size)
        self._start_lock = asyncio.Lock()
        self._stack: AsyncExitStack | None = None
        self._browser: Browser | None = None
        self._in_use = 0

    @property
    def in_use(self) -> int:
        """Contexts open right now."""
        return self._in_use

    async def browser(self) -> Browser:
        """The shared browser, launched on first call."""
        async with self._start_lock:
            if self._browser is None:
                stack = AsyncExitStack()
                try:
                    self._browser = await stack.enter_async_context(
                        launch_browser(extra_args=self._extra_args, executable=self._executable)
                    )
                except BaseException:
                    await stack.aclose()
                    raise
                self._stack = stack
            return self._browser

    @asynccontextmanager
    async def context(
        self,
        *,
        locale: str | None = None,
        timezone: str | None = None,
        viewport: tuple[int, int] = (1280, 900),
    ) -> AsyncIterator[BrowserContext]:
        """A fresh browser context (waits for a free slot), closed on exit."""
        async with self._slots:
            browser = await self.browser()
            ctx = await browser.new_context(
                locale=locale,
                timezone_id=timezone,
                viewport={"width": viewport[0], "height": viewport[1]},
                service_workers="block",
            )
            self._in_use += 1
            try:
                yield ctx
            finally:
                self._in_use -= 1
                with contextlib.suppress(Exception):
                    await ctx.close()

    async def close(self) -> None:
        """Close the browser (contexts still open are closed with it)."""
        async with self._start_lock:
            stack, self._stack, self._browser = self._stack, None, None
            if stack is not None:
                await stack.aclose()


async def browser_unavailable_reason(executable: str | None = None) -> str | None:
    """Why no browser can be launched here (None when one can): no Playwright, or no Chromium at all."""
    try:
        from playwright.async_api import async_playwright
    except ModuleNotFoundError:
        return "Playwright is not installed (pip install playwright)"
    if executable:
        return None if shutil.which(executable) else f"browser.executable {executable!r} is not executable"
    try:
        if find_chromium() is not None:
            return None
    except FileNotFoundError as exc:
        return str(exc)
    async with async_playwright() as playwright:
        own = playwright.chromium.executable_path
    if shutil.which(own):  # an executable file (Playwright downloads one with `playwright install`)
        return None
    return (
        "no Chromium found: install Debian's `chromium` package, set REPLYBENCH_CHROMIUM, "
        "or run `playwright install chromium`"
    )
