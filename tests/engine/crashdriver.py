"""Run the engine in this process and kill it (os._exit) at a chosen point of the first send.

Used by test_crash.py as ``python -m tests.engine.crashdriver ROOT POINT``. POINT is one of
``before_data`` (the DATA command is about to be issued), ``after_250`` (the server accepted the message
but the store has not recorded it), ``after_commit`` (right after `sent` is committed), ``after_click``
(a web form's submit button was clicked; the process dies a moment later, before any outcome is seen), or
``none``.
The code path is the real one; only the kill is injected.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import aiosmtplib

from replybench import operations
from replybench.store.sqlite import SqliteStore
from replybench.workspace import load_workspace

CRASH_EXIT = 17


def install(point: str) -> None:
    if point == "before_data":
        original_execute = aiosmtplib.SMTP.execute_command

        async def execute_command(self: Any, *args: Any, **kwargs: Any) -> Any:
            if args and args[0] == b"DATA":
                os._exit(CRASH_EXIT)
            return await original_execute(self, *args, **kwargs)

        aiosmtplib.SMTP.execute_command = execute_command  # type: ignore[method-assign]
    elif point in ("after_250", "after_commit"):
        original_mark_sent = SqliteStore.mark_sent

        def mark_sent(self: SqliteStore, *args: Any, **kwargs: Any) -> bool:
            if point == "after_250":
                os._exit(CRASH_EXIT)
            result = original_mark_sent(self, *args, **kwargs)
            os._exit(CRASH_EXIT)
            return result

        SqliteStore.mark_sent = mark_sent  # type: ignore[method-assign]
    elif point == "after_click":
        import asyncio

        from playwright.async_api import Locator

        original_click = Locator.click

        async def click(self: Locator, *args: Any, **kwargs: Any) -> Any:
            result = await original_click(self, *args, **kwargs)
            if not kwargs.get("trial"):
                await asyncio.sleep(1.0)  # the browser's POST reaches the company; we never see the answer
                os._exit(CRASH_EXIT)
            return result

        Locator.click = click  # type: ignore[method-assign]
    elif point != "none":
        raise SystemExit(f"unknown crash point {point!r}")


def main() -> None:
    root, point = Path(sys.argv[1]), sys.argv[2]
    install(point)
    ws = load_workspace(root)
    run = operations.run_suite(ws, "suite")
    print(run.status)


if __name__ == "__main__":
    main()
