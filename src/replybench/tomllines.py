"""Find the line where a key of a TOML document is written, so errors can point at it.

``tomllib`` keeps no positions. This scanner follows table headers (``[a.b]``, ``[[a]]`` with array indices)
and ``key = value`` lines, skipping the inside of multi-line strings and arrays, and maps each key path to its
line. It covers what people write in config files; anything it cannot place falls back to the nearest
enclosing table's line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)

Path = tuple[str | int, ...]


def _split_key(text: str) -> list[str]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", text)
    return [p.strip("\"'") for p in parts]


def key_lines(text: str) -> dict[Path, int]:
    """Map every key path (with array-of-tables indices) to its 1-based line number."""
    lines: dict[Path, int] = {}
    counts: dict[Path, int] = {}
    table: Path = ()
    in_string: str | None = None
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string:
            if in_string in line:
                in_string = None
            continue
        if depth > 0:
            depth += line.count("[") - line.count("]")
            continue
        header = _HEADER.match(line)
        if header:
            keys = _split_key(header.group(2))
            last = len(keys) - 1 if header.group(1) == "[[" else len(keys)
            resolved: list[str | int] = []
            for i, part in enumerate(keys):
                resolved.append(part)
                # [a.b] after [[a]] belongs to the latest element of the array a
                if i < last and tuple(keys[: i + 1]) in counts:
                    resolved.append(counts[tuple(keys[: i + 1])])
            if header.group(1) == "[[":
                base: Path = tuple(keys)
                index = counts.get(base, -1) + 1
                counts[base] = index
                table = (*resolved, index)
            else:
                table = tuple(resolved)
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            path = (*table, *_split_key(key.group(1)))
            lines.setdefault(path, number)
            rest = line[key.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) == 1:
                    in_string = quote
            if not in_string:
                depth = max(0, rest.count("[") - rest.count("]"))
    return lines


def line_of(text: str, path: Sequence[str | int]) -> int | None:
    """The line of the longest prefix of ``path`` written in ``text`` (None when even the root is implicit)."""
    known = key_lines(text)
    probe = tuple(path)
    while probe:
        if probe in known:
            return known[probe]
        probe = probe[:-1]
    return None
