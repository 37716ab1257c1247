"""A loopback HTTP server that answers with recorded API responses (X, Facebook, Bluesky).

The networks that cannot be reached from here are tested by pointing the real client code at this server,
which plays back responses recorded from (or written exactly after) the networks' public API documentation.
Nothing in the client is replaced: requests go over real HTTP on 127.0.0.1.

A cassette is a JSON file::

    {
      "source": "where the shapes come from (the public API reference pages)",
      "exchanges": [
        {"method": "GET", "path": "/2/tweets/search/recent", "query": {"query": "conversation_id:1"},
         "status": 200, "headers": {"x-rate-limit-remaining": "179"}, "body": {...}, "repeat": false}
      ]
    }

A request takes the first exchange not yet used whose method and path are equal and whose ``query`` (and
``json``, for a JSON body) is contained in the request's. ``repeat: true`` exchanges are never used up. An
unmatched request gets 501 and is listed in :attr:`ReplayServer.unmatched`, so a test can fail on it.
``body`` may be JSON, or ``body_text`` a string; ``{{BASE}}`` in either is replaced by the server's URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from replybench.asgiserve import LoopbackAsgiServer

RESOURCES = Path(__file__).parent / "resources" / "social"


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    matched: bool

    def json(self) -> Any:
        """The request body as JSON."""
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """The request body as a form."""
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.body.decode()))


@dataclass
class Exchange:
    """One recorded response and the request it answers."""

    method: str
    path: str
    status: int = 200
    query: dict[str, Any] = field(default_factory=dict)
    json_body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    body_text: str | None = None
    repeat: bool = False
    used: bool = False

    def matches(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> bool:
        if self.used or method != self.method.upper() or path != self.path:
            return False
        for key, wanted in self.query.items():
            values = wanted if isinstance(wanted, list) else [wanted]
            if not all(str(v) in query.get(key, []) for v in values):
                return False
        if self.json_body is not None:
            try:
                sent = json.loads(body)
            except ValueError:
                return False
            if not _contains(sent, self.json_body):
                return False
        return True


def _contains(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(
            k in actual and _contains(actual[k], v) for k, v in wanted.items()
        )
    return bool(actual == wanted)


def load_cassette(path: Path | str) -> list[Exchange]:
    """The exchanges of a cassette file (a path relative to tests/resources/social, or absolute)."""
    p = Path(path)
    if not p.is_absolute():
        p = RESOURCES / p
    data = json.loads(p.read_text(encoding="utf-8"))
    assert data.get("source"), f"{p}: a cassette must say where its shapes come from"
    return [
        Exchange(
            method=e["method"],
            path=e["path"],
            status=e.get("status", 200),
            query=e.get("query", {}),
            json_body=e.get("json"),
            headers=e.get("headers", {}),
            body=e.get("body"),
            body_text=e.get("body_text"),
            repeat=e.get("repeat", False),
        )
        for e in data["exchanges"]
    ]


class ReplayServer:
    """Plays back exchanges on 127.0.0.1; use as ``async with ReplayServer(exchanges) as server``."""

    def __init__(self, exchanges: list[Exchange]) -> None:
        self.exchanges = list(exchanges)
        self.requests: list[Recorded] = []
        self._server = LoopbackAsgiServer(self._app, name="replay server")

    def add(self, *cassettes: Path | str) -> None:
        """Append the exchanges of more cassettes."""
        for c in cassettes:
            self.exchanges.extend(load_cassette(c))

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self._server.base_url

    @property
    def unmatched(self) -> list[Recorded]:
        """Requests no exchange answered."""
        return [r for r in self.requests if not r.matched]

    def calls(self, method: str, path: str) -> list[Recorded]:
        """The requests received for one method and path."""
        return [r for r in self.requests if r.method == method and r.path == path]

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        query: dict[str, list[str]] = {}
        for k, v in request.query_params.multi_items():
            query.setdefault(k, []).append(v)
        method = request.method.upper()
        path = request.url.path
        exchange = next((e for e in self.exchanges if e.matches(method, path, query, body)), None)
        self.requests.append(
            Recorded(method, path, query, dict(request.headers), body, matched=exchange is not None)
        )
        if exchange is None:
            response = Response(
                json.dumps({"error": f"no recorded response for {method} {path} {query}"}),
                status_code=501,
                media_type="application/json",
            )
        else:
            exchange.used = not exchange.repeat
            if exchange.body_text is not None:
                content = exchange.body_text.replace("{{BASE}}", self.base_url)
                media = exchange.headers.get("content-type", "text/plain")
            else:
                content = json.dumps(exchange.body).replace("{{BASE}}", self.base_url)
                media = "application/json"
            headers = {k: v for k, v in exchange.headers.items() if k.lower() != "content-type"}
            response = Response(content, status_code=exchange.status, headers=headers, media_type=media)
        await response(scope, receive, send)

    async def __aenter__(self) -> ReplayServer:
        await self._server.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._server.stop()
