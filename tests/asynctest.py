"""Run async tests without a plugin: each in a fresh event loop, with a hard time limit."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def async_test(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    """Run an async test in a fresh event loop (with a hard limit so a hang fails instead of stalling)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return asyncio.run(asyncio.wait_for(fn(*args, **kwargs), 60))

    return wrapper
