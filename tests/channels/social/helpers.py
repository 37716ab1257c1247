"""What the social channel tests share: a collecting sink and a polling wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from replybench.channels.base import InboundItem


class Sink:
    """Collects inbound items, as the engine's sink would store them."""

    def __init__(self) -> None:
        self.items: list[InboundItem] = []

    async def __call__(self, item: InboundItem) -> None:
        self.items.append(item)

    @property
    def keys(self) -> list[str | None]:
        return [i.key for i in self.items]


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.01) -> None:
    """Poll ``predicate`` until true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)
