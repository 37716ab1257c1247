"""The inbound sink never loses or crashes on a message, whatever its bytes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replybench.channels.base import InboundItem
from replybench.engine.ingest import Ingestor
from replybench.store import open_store

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

header_lines = st.lists(
    st.tuples(
        st.sampled_from(["Subject", "From", "To", "Message-ID", "Content-Type", "Auto-Submitted", "X-Junk"]),
        st.text(max_size=60),
    ),
    max_size=6,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.one_of(
        st.binary(max_size=3000),
        header_lines.map(
            lambda hs: ("".join(f"{k}: {v}\r\n" for k, v in hs) + "\r\nbody").encode("utf-8", "surrogatepass")
        ),
    )
)
def test_any_bytes_are_stored_raw_and_processed(tmp_path: Path, raw: bytes) -> None:
    store = open_store(str(tmp_path / "ingest.db"))
    ingestor = Ingestor(store, wait_limits=lambda _run: None)

    async def main() -> None:
        await ingestor.accept(
            InboundItem("email", raw, T0, "smtp-receipt", "smtp://test", envelope_to=("x@y",))
        )
        await ingestor.drain()

    asyncio.run(main())
    (message,) = [m for m in store.messages() if m.raw == raw]
    assert message.status in {"parsed", "malformed"}, message.error
    assert message.cls is not None and message.rule
    assert message.probe_id is None and message.match_detail
    store.close()
    (tmp_path / "ingest.db").unlink()
