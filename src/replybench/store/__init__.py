"""The store: one API over SQLite (default) and, later, PostgreSQL. Open it with :func:`open_store`."""

from __future__ import annotations

from pathlib import Path

from replybench.errors import StoreError
from replybench.store.records import (
    ArtifactRecord,
    EventRecord,
    MessageRecord,
    OverrideRecord,
    ProbeRecord,
    RunRecord,
)
from replybench.store.sqlite import SqliteStore

Store = SqliteStore
"""The store API (one implementation today; PostgreSQL will implement the same methods)."""

__all__ = [
    "ArtifactRecord",
    "EventRecord",
    "MessageRecord",
    "OverrideRecord",
    "ProbeRecord",
    "RunRecord",
    "Store",
    "open_store",
]


def open_store(location: str, root: Path | None = None) -> Store:
    """Open (and migrate) the store at ``location``: a SQLite path, relative to ``root`` when given."""
    if location.startswith(("postgres://", "postgresql://")):
        raise StoreError("PostgreSQL stores are not supported yet; use a SQLite path for `store`")
    path = Path(location.removeprefix("sqlite:///"))
    if not path.is_absolute() and root is not None:
        path = root / path
    return SqliteStore(path)
