"""Durations ("1h30m") and UTC timestamps (ISO 8601 with milliseconds): parsing and formatting."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_UNITS = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|min|s|m|h|d|w)")


def parse_duration(text: str | int | float | timedelta) -> timedelta:
    """Parse "45s", "1h30m", "2d", "1.5h", "500ms" (or a number of seconds) into a timedelta."""
    if isinstance(text, timedelta):
        return text
    if isinstance(text, bool):
        raise ValueError("expected a duration such as '45s', '3h' or '2d'")
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=float(text))
    s = text.strip().lower().replace(" ", "")
    pos = 0
    total = 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not s or pos != len(s):
        raise ValueError(f"expected a duration such as '45s', '3h', '1h30m' or '2d', got {text!r}")
    return timedelta(seconds=total)


def format_duration(seconds: float | None) -> str:
    """Format seconds for people: '850 ms', '42 s', '3 min 5 s', '4 h 12 min', '2 d 3 h'; '—' for None."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, sec = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec} s" if sec else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def utcnow_ms() -> datetime:
    """The current UTC time truncated to whole milliseconds (the precision replybench records)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def as_utc(value: datetime) -> datetime:
    """Return an aware UTC datetime; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso_ms(value: datetime | None) -> str | None:
    """ISO 8601 UTC with milliseconds and a trailing Z, the format of every exported timestamp."""
    if value is None:
        return None
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.") + f"{as_utc(value).microsecond // 1000:03d}Z"


def parse_iso(value: str | None) -> datetime | None:
    """Parse an ISO 8601 timestamp written by :func:`iso_ms` (or any offset form) into aware UTC."""
    if value is None:
        return None
    return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
