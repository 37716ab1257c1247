"""A count-only SMTP sink in its own process (like a real server would be): ``python -m tests.perf.sink PORT``."""

from __future__ import annotations

import asyncio
import sys

from aiosmtpd.smtp import SMTP


class Accept:
    """Accept every message and forget it."""

    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 2.0.0 Ok: queued"


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Accept(), hostname="sink.invalid"), "127.0.0.1", port)
    print("READY", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
