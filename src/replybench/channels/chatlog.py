"""One observed chat message as the chat channel stores it: a small JSON document, stored raw like an email.

The chat channel watches a widget's message list with a MutationObserver and turns every new message into a
:class:`ChatMessage`. Everything the classifier needs travels inside the item (the transcript so far, when
the page opened, when our inquiry was delivered), so classification stays a pure, re-derivable function of
the stored bytes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from replybench.timefmt import as_utc, iso_ms

ChatAuthor = Literal["visitor", "bot", "agent", "system", "unknown"]
"""Who wrote a message, as the widget's markup says (``unknown`` when it says nothing)."""

CHAT_CLOCK = "page-clock"
"""The clock of chat timestamps: the page's high-resolution clock (``performance.timeOrigin + now()``) in UTC."""

FORMAT = "replybench.chat/1"


class MalformedChatItem(ValueError):
    """Stored chat bytes that are not a chat message of this format."""


@dataclass(frozen=True)
class ChatMessage:
    """One message of a chat transcript, with the context that classifies it.

    ``at`` is when the message was rendered, on the page's clock. ``page_opened_at`` is when the chat was
    opened (the launcher click, or the page load for a widget that is always open): an "instant" greeting is
    measured from it. ``inquiry_at`` is when our inquiry was rendered as delivered (None before it).
    ``earlier`` holds the company-side messages before this one as ``(author, name, text)``.
    """

    probe_id: str
    token: str
    seq: int
    author: ChatAuthor
    text: str
    at: datetime
    page_opened_at: datetime
    inquiry_at: datetime | None = None
    name: str | None = None
    avatar: str | None = None
    url: str = ""
    earlier: tuple[tuple[str, str | None, str], ...] = field(default_factory=tuple)

    @property
    def before_inquiry(self) -> bool:
        """True for a message rendered before our inquiry was (a greeting nobody asked for)."""
        return self.inquiry_at is None or self.at < self.inquiry_at

    def to_json(self) -> bytes:
        """The stored form: UTF-8 JSON with ISO 8601 UTC timestamps to the microsecond."""
        data: dict[str, Any] = asdict(self)
        for key in ("at", "page_opened_at", "inquiry_at"):
            value = data[key]
            data[key] = as_utc(value).isoformat() if value is not None else None
        data["earlier"] = [list(e) for e in self.earlier]
        data["format"] = FORMAT
        return json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> ChatMessage:
        """Read stored bytes back; raises :class:`MalformedChatItem` for anything else."""
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or data.pop("format", None) != FORMAT:
                raise MalformedChatItem(f"not a {FORMAT} item")
            for key in ("at", "page_opened_at", "inquiry_at"):
                if data.get(key) is not None:
                    data[key] = as_utc(datetime.fromisoformat(data[key]))
            data["earlier"] = tuple(
                (str(a), None if n is None else str(n), str(t)) for a, n, t in data.get("earlier", [])
            )
            message = cls(**data)
        except MalformedChatItem:
            raise
        except (UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError, KeyError) as exc:
            raise MalformedChatItem(f"unreadable chat item: {exc}") from exc
        if message.author not in ("visitor", "bot", "agent", "system", "unknown"):
            raise MalformedChatItem(f"unknown chat author {message.author!r}")
        return message

    def describe(self) -> str:
        """One line for people: time, author, name, text."""
        who = f"{self.author}{f' ({self.name})' if self.name else ''}"
        return f"{iso_ms(self.at)} {who}: {self.text[:200]}"
