"""Tolerant parsing of inbound email into the few facts the classifier and the store need.

Real-world mail is often broken: missing dates, unknown or lying charsets, raw 8-bit headers, multiparts
without boundaries. :func:`parse_email` accepts all of that, records the problems as ``defects`` and raises
:class:`MalformedEmail` only when the bytes carry no header at all. Every string it returns is valid Unicode
(no lone surrogates), so it can be stored and printed without further care.

Parsing is bounded, so one hostile or absurd message costs well under a second and never stalls a listener:
the ``MAX_*`` constants below cap what is parsed, and each cap that cut a message short is named in
:attr:`ParsedEmail.limits` (``"size>10MB"``, ``"header>64KB"``, ``"headers>1000"``, ``"headers>256KB"``,
``"depth>50"``, ``"parts>2000"``, ``"mime-lines>500k"``, ``"mime-header>1KB"``, ``"html>1MB"``). The raw bytes
are never changed: the caller keeps them, and only the parse is cut. Steps of the standard library that are
superlinear on some inputs (its structured-header parser, ``html.parser``) are replaced or given a budget
that is spent deterministically, so the same bytes always give the same result.
"""

from __future__ import annotations

import codecs
import html as html_lib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import errors as email_errors
from email import feedparser, policy
from email.feedparser import FeedParser
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

__all__ = [
    "LIMIT_DEPTH",
    "LIMIT_HEADER",
    "LIMIT_HEADERS",
    "LIMIT_HEADER_BLOCK",
    "LIMIT_HTML",
    "LIMIT_MIME_HEADER",
    "LIMIT_MIME_LINES",
    "LIMIT_PARTS",
    "LIMIT_SIZE",
    "MAX_BODY_BYTES",
    "MAX_HEADERS",
    "MAX_HEADER_BLOCK_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_HTML_CHARS",
    "MAX_MIME_DEPTH",
    "MAX_MIME_HEADER",
    "MAX_MIME_LINES",
    "MAX_PARTS",
    "MalformedEmail",
    "ParsedEmail",
    "html_to_text",
    "parse_email",
]

# --------------------------------------------------------------------------------------------- limits

#: Bytes of body (everything after the header block) that are parsed; the rest is dropped, cut at a line
#: end when one is near. Limit ``size>10MB``.
MAX_BODY_BYTES = 10 * 1024 * 1024
#: Bytes of one header field, name and folded continuation lines included; longer fields are cut before the
#: parser sees them (a part's header fields too). Limit ``header>64KB``.
MAX_HEADER_BYTES = 64 * 1024
#: Header fields kept per header block. When there are more, the first and the last half are kept: relays
#: prepend trace fields (``Received``...), so the sender's own fields are at the end. Limit ``headers>1000``.
MAX_HEADERS = 1000
#: Bytes of the top-level header block kept (after the two caps above), again its first and last half.
#: Limit ``headers>256KB``.
MAX_HEADER_BLOCK_BYTES = 256 * 1024
#: MIME levels below the top-level message that are split into parts; a multipart or ``message/*`` part
#: this deep is kept whole, its body as text. Limit ``depth>50``.
MAX_MIME_DEPTH = 50
#: MIME parts parsed (the message itself counts); nothing after the last of them is read.
#: Limit ``parts>2000``.
MAX_PARTS = 2000
#: Lines read while splitting a MIME message into parts (a single-part body is not split); a line inside n
#: multiparts counts 1 + n/4, as the standard parser tests it against every enclosing boundary, and a header
#: line of a part 4 more (it is parsed, and searched on every header lookup). The rest of the message is
#: dropped. A 10 MB message of base64 attachments has about 140k lines. Limit ``mime-lines>500k``.
MAX_MIME_LINES = 500_000
#: Characters of a ``Content-*`` header the MIME machinery reads (type, boundary, charset, disposition);
#: the standard library's parameter parsing is quadratic in it. Limit ``mime-header>1KB``.
MAX_MIME_HEADER = 1024
#: Characters of an HTML body converted to text (only the top of a reply matters). Limit ``html>1MB``.
MAX_HTML_CHARS = 1024 * 1024

# The modern header parser is quadratic on some inputs (runs of quotes, backslashes or commas): values up to
# this long may use it, as long as the squared lengths of structured values parsed so far stay within
# _STRUCTURED_WORK (about 0.2 s of worst-case parsing). Other values take the linear compat32 decoder.
_MAX_STRUCTURED_HEADER = 8192
_STRUCTURED_WORK = 8 * 1024 * 1024
# The same for the Content-* headers the MIME tree reads (cheaper per character at worst; values repeat).
_MIME_WORK = 16 * 1024 * 1024
# MAX_MIME_LINES in units of a boundary test: a line read costs _LINE_COST plus one per enclosing boundary,
# and a part's header line _PART_HEADER_LINE_COST more.
_LINE_COST = 4
_PART_HEADER_LINE_COST = 16
# The header block is looked for in the first bytes only; a giant one is first reduced to its two ends.
_HEADER_SCAN_BYTES = MAX_BODY_BYTES
_HEADER_REDUCE_BYTES = 2 * MAX_HEADER_BLOCK_BYTES

_RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")
_DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status", "text/delivery-status"})
# Header names the modern policy parses as structured (address, date, MIME and id headers).
_STRUCTURED = frozenset(
    {"bcc", "cc", "content-disposition", "content-transfer-encoding", "content-type", "date", "from",
     "message-id", "mime-version", "orig-date", "reply-to", "resent-bcc", "resent-cc", "resent-date",
     "resent-from", "resent-sender", "resent-to", "sender", "to"}
)  # fmt: skip
_MSGID_RE = re.compile(r"<([^<>]*)>")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_ADJACENT_ENCODED_WORDS = re.compile(r"\?=[ \t]+(?==\?)")
_FIELD_RE = re.compile(r"^([!-9;-~]+)[ \t]*:(.*)$")
# What the standard feed parser takes for a header line (email.feedparser.headerRE, in bytes): the header
# block is every such line up to the first other one (usually the empty separator line).
_HEADER_BLOCK_RE = re.compile(rb"(?:(?:From |[\x21-\x39\x3b-\x7e]*:|[ \t])[^\r\n]*(?:\r\n|\r|\n|\Z))*")
_HEADER_LINE_RE = re.compile(rb"From |[\x21-\x39\x3b-\x7e]*:|[ \t]")
_LINE_END_RE = re.compile(rb"\r\n|\r|\n")
# Between two header fields: after a line end, before a line that does not start with white space.
_FIELD_SPLIT_RE = re.compile(rb"(?<=\n)(?![ \t])|(?<=\r)(?![\n \t])")
_FIELD_START_RE = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?![ \t])")


def _size_label(n: int) -> str:
    if n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)}MB"
    return f"{n // 1024}KB" if n % 1024 == 0 else str(n)


# The names parse_email puts in ParsedEmail.limits.
LIMIT_SIZE = f"size>{_size_label(MAX_BODY_BYTES)}"
LIMIT_HEADER = f"header>{_size_label(MAX_HEADER_BYTES)}"
LIMIT_HEADERS = f"headers>{MAX_HEADERS}"
LIMIT_HEADER_BLOCK = f"headers>{_size_label(MAX_HEADER_BLOCK_BYTES)}"
LIMIT_DEPTH = f"depth>{MAX_MIME_DEPTH}"
LIMIT_PARTS = f"parts>{MAX_PARTS}"
LIMIT_MIME_LINES = f"mime-lines>{MAX_MIME_LINES // 1000}k"
LIMIT_MIME_HEADER = f"mime-header>{_size_label(MAX_MIME_HEADER)}"
LIMIT_HTML = f"html>{_size_label(MAX_HTML_CHARS)}"


@dataclass
class _Budget:
    """What one parse has spent and which limits it hit (in the order they were hit)."""

    limits: list[str] = field(default_factory=list)
    structured_work: int = 0
    mime_work: int = 0
    mime_headers: dict[tuple[str, str], Any] = field(default_factory=dict)

    def hit(self, limit: str) -> None:
        if limit not in self.limits:
            self.limits.append(limit)

    def structured(self, length: int) -> bool:
        """Charge a structured header parse of ``length`` characters; False when it would overspend."""
        cost = length * length
        if self.structured_work + cost > _STRUCTURED_WORK:
            return False
        self.structured_work += cost
        return True


class MalformedEmail(Exception):
    """The bytes are not usable as an email at all (no header fields could be read)."""


@dataclass(frozen=True)
class ParsedEmail:
    """The facts of one inbound message, decoded and normalised.

    Addresses are lower-cased addr-specs; message ids keep their angle brackets; ``return_path`` is ``""`` for
    the null sender ``<>`` and ``None`` when the header is absent. ``dsn`` holds the fields of a
    ``message/delivery-status`` part: the per-message block first, then one mapping per recipient.
    ``limits`` names each parsing limit that cut the parse short (the ``LIMIT_*`` constants), in the order
    they were hit; the other fields then describe what was parsed.
    """

    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    from_addr: str | None
    from_name: str | None
    return_path: str | None
    recipients: tuple[str, ...]
    subject: str
    date: datetime | None
    text: str
    headers: Mapping[str, tuple[str, ...]]
    content_type: str
    report_type: str | None
    dsn: tuple[Mapping[str, str], ...]
    defects: tuple[str, ...]
    reply_to: tuple[str, ...] = ()
    limits: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        """Return the first decoded value of header ``name`` (case-insensitive), or None."""
        values = self.headers.get(name.lower())
        return values[0] if values else None


# --------------------------------------------------------------------------------------------- strings


def _scrub(text: str) -> str:
    """Turn surrogate-escaped bytes back into text (UTF-8, else Windows-1252) and drop any lone surrogate."""
    if not _SURROGATE_RE.search(text):
        return text
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _SURROGATE_RE.sub("\ufffd", text)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode a body with its declared charset; unknown, non-text or lying charsets never raise."""
    if charset:
        try:
            info = codecs.lookup(charset)
            # Codecs such as "base64" or "zlib_codec" are not text encodings; treating them as one is unsafe.
            if getattr(info, "_is_text_encoding", True):
                return _scrub(data.decode(info.name, "replace"))
        except (LookupError, UnicodeError, ValueError, TypeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n[ \t]*", " ", value).strip()


def _decode_header(name: str, raw: Any, defects: list[str], budget: _Budget) -> str:
    """Decode one raw header value: the modern policy first, the compat32 decoder when that fails.

    Long values, and structured ones once the budget is spent, go straight to the compat32 decoder, which is
    linear where the modern parser is not.
    """
    if not isinstance(raw, str):
        raw = str(raw)
    # Raw 8-bit headers arrive surrogate-escaped; recover their text before RFC 2047 decoding.
    fixed = _scrub(raw)
    if fixed is not raw:
        defects.append(email_errors.UndecodableBytesDefect.__name__)
    if len(fixed) <= _MAX_STRUCTURED_HEADER and (name not in _STRUCTURED or budget.structured(len(fixed))):
        try:
            header = policy.default.header_fetch_parse(name, fixed)
            for defect in getattr(header, "defects", ()):
                defects.append(type(defect).__name__)
            return _scrub(str(header)).strip()
        except Exception:  # the modern parser raises assorted errors on hostile input; compat32 is lenient
            defects.append(email_errors.InvalidHeaderDefect.__name__)
    try:
        return _scrub(str(make_header(decode_header(_unfold(fixed))))).strip()
    except Exception:
        return _unfold(fixed)


# --------------------------------------------------------------------------------------------- header fields


def _msg_ids(values: tuple[str, ...]) -> tuple[str, ...]:
    """Every ``<...>`` id in the values, whitespace removed; a bare ``left@right`` counts as one id."""
    found: list[str] = []
    for value in values:
        ids = [re.sub(r"\s+", "", m) for m in _MSGID_RE.findall(value)]
        if not ids:
            ids = [w.strip("<>") for w in value.split() if "@" in w]
        found.extend(f"<{i}>" for i in ids if i)
    return tuple(dict.fromkeys(found))


def _addresses(raw: tuple[str, ...], decoded: tuple[str, ...], budget: _Budget) -> list[tuple[str, str]]:
    """(display name, lower-cased addr-spec) pairs from an address header, tolerating broken syntax.

    ``raw`` goes to the modern address parser (it decodes encoded words itself) while the budget lasts; the
    lenient compat32 parser reads the ``decoded`` text when that finds nothing.
    """
    pairs: list[tuple[str, str]] = []
    for value, text in zip(raw, decoded, strict=True):
        found: list[tuple[str, str]] = []
        if len(value) <= _MAX_STRUCTURED_HEADER and budget.structured(len(value)):
            try:
                # RFC 2047 says whitespace between adjacent encoded words is not text, but the stdlib's
                # phrase parser keeps it, so "=?..?= =?..?=" display names would gain a space.
                joined = _ADJACENT_ENCODED_WORDS.sub("?=", _unfold(value))
                header = policy.default.header_factory("to", joined)
                found = [(_scrub(a.display_name), _scrub(a.addr_spec)) for a in header.addresses]
            except Exception:
                found = []
        if not found:
            try:
                found = getaddresses([text])
            except Exception:
                found = []
        for display, addr in found:
            addr = addr.strip().strip("<>").strip().lower()
            if addr and addr != "<>":
                pairs.append((display.strip(), addr))
    return pairs


def _return_path(values: tuple[str, ...]) -> str | None:
    if not values:
        return None
    value = values[0].strip()
    m = _MSGID_RE.search(value)
    inner = m.group(1) if m else value
    inner = inner.strip()
    # Source routes ("<@relay:user@host>") are obsolete but still seen: keep the mailbox.
    if inner.startswith("@") and ":" in inner:
        inner = inner.split(":", 1)[1]
    return inner.lower()


def _date(values: tuple[str, ...]) -> datetime | None:
    for value in values:
        try:
            parsed = parsedate_to_datetime(value)
        except Exception:  # noqa: S112 - ValueError, TypeError or OverflowError on junk: try the next
            continue
        if parsed.tzinfo is None:
            # RFC 5322 "-0000" means "UTC, local zone unknown"; Python returns it naive.
            parsed = parsed.replace(tzinfo=UTC)
        return parsed
    return None


# --------------------------------------------------------------------------------------------- bounded parse


def _cut_field(data: bytes) -> bytes:
    """A header field cut to MAX_HEADER_BYTES, still ending with a line end."""
    cut = data[: MAX_HEADER_BYTES - 2].rstrip(b"\r\n")
    return cut + (b"\r\n" if data.endswith(b"\r\n") else b"\n")


def _keep_ends(fields: list[bytes], size: int) -> list[bytes]:
    """The first fields worth half of ``size`` bytes and the last worth the other half, in their order."""
    head: list[bytes] = []
    spent = 0
    for f in fields:
        if spent + len(f) > size // 2:
            break
        head.append(f)
        spent += len(f)
    tail: list[bytes] = []
    spent = 0
    for f in reversed(fields[len(head) :]):
        if spent + len(f) > size - size // 2:
            break
        tail.append(f)
        spent += len(f)
    return head + tail[::-1]


def _bound_header_block(block: bytes, budget: _Budget) -> bytes:
    """The header block with the field, field-count and block-size caps applied (unchanged when within)."""
    if len(block) <= MAX_HEADER_BYTES and block.count(b"\n") + block.count(b"\r") <= MAX_HEADERS:
        return block  # cannot exceed any cap: the common case costs two counts
    if len(block) > 2 * _HEADER_REDUCE_BYTES:
        # Splitting megabytes of tiny fields would itself be slow: keep only the two ends.
        budget.hit(LIMIT_HEADER_BLOCK)
        head = block[:_HEADER_REDUCE_BYTES]
        line_end = max(head.rfind(b"\n"), head.rfind(b"\r"))
        cut_line = head[line_end + 1 :]
        # A line cut short stays (the field cap cuts it further) if it still reads as a header line.
        head = head[: line_end + 1] + (cut_line + b"\n" if _HEADER_LINE_RE.match(cut_line) else b"")
        tail = block[-_HEADER_REDUCE_BYTES:]
        start = _FIELD_START_RE.search(tail)
        block = head + (tail[start.end() :] if start else b"")
    fields = [f for f in _FIELD_SPLIT_RE.split(block) if f]
    if len(fields) > MAX_HEADERS:
        budget.hit(LIMIT_HEADERS)
        fields = fields[: MAX_HEADERS // 2] + fields[len(fields) - (MAX_HEADERS - MAX_HEADERS // 2) :]
    if any(len(f) > MAX_HEADER_BYTES for f in fields):
        budget.hit(LIMIT_HEADER)
        fields = [_cut_field(f) if len(f) > MAX_HEADER_BYTES else f for f in fields]
    if sum(map(len, fields)) > MAX_HEADER_BLOCK_BYTES:
        budget.hit(LIMIT_HEADER_BLOCK)
        fields = _keep_ends(fields, MAX_HEADER_BLOCK_BYTES)
    return b"".join(fields)


def _bound_part_headers(lines: list[str], budget: _Budget) -> list[str]:
    """A MIME part's header lines (as the feed parser collected them) with the field caps applied."""
    if len(lines) <= MAX_HEADERS and sum(map(len, lines)) <= MAX_HEADER_BYTES:
        return lines
    fields: list[list[str]] = []
    for line in lines:
        if line[:1] in (" ", "\t") and fields:
            fields[-1].append(line)
        else:
            fields.append([line])
    if len(fields) > MAX_HEADERS:
        budget.hit(LIMIT_HEADERS)
        fields = fields[: MAX_HEADERS // 2] + fields[len(fields) - (MAX_HEADERS - MAX_HEADERS // 2) :]
    kept: list[str] = []
    for f in fields:
        size = 0
        for line in f:
            if size + len(line) > MAX_HEADER_BYTES:
                budget.hit(LIMIT_HEADER)
                if size == 0:
                    kept.append(line[: MAX_HEADER_BYTES - 2].rstrip("\r\n") + "\n")
                break
            kept.append(line)
            size += len(line)
    return kept


if TYPE_CHECKING:
    _EmailPolicyBase = EmailPolicy[EmailMessage]
else:  # not generic at run time
    _EmailPolicyBase = EmailPolicy


class _BoundedPolicy(_EmailPolicyBase):
    """``policy.default``, but with a budget for the ``Content-*`` headers the MIME machinery reads.

    They are cut to MAX_MIME_HEADER, parsed once per message and value, and by the modern parser only while
    the budget lasts; otherwise they stay text, which Message methods read as they do under compat32.
    """

    budget: _Budget | None = None

    def __init__(self, budget: _Budget) -> None:
        super().__init__()
        object.__setattr__(self, "budget", budget)  # policies are frozen; clone() copies the attribute

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name") or self.budget is None or not name.lower().startswith("content-"):
            return super().header_fetch_parse(name, value)
        budget = self.budget
        key = (name.lower(), value)
        cached = budget.mime_headers.get(key)
        if cached is not None:
            return cached
        text = "".join(re.split(r"\r\n|\r|\n", value))
        if len(text) > MAX_MIME_HEADER:
            budget.hit(LIMIT_MIME_HEADER)
            text = text[:MAX_MIME_HEADER]
        result: Any = text
        cost = len(text) * len(text)
        if budget.mime_work + cost <= _MIME_WORK:
            budget.mime_work += cost
            try:
                result = self.header_factory(name, text)
            except Exception:  # kept as text: get_content_type() and get_param() read it like compat32
                result = text
        budget.mime_headers[key] = result
        return result


# The feed parser's internals this module extends: stable since Python 3.3, and checked by the tests.
_BufferedSubFile: Any = getattr(feedparser, "BufferedSubFile")  # noqa: B009
_NeedMoreData: object = getattr(feedparser, "NeedMoreData")  # noqa: B009
_HEADER_RE: re.Pattern[str] = getattr(feedparser, "headerRE")  # noqa: B009
_NL_RE: re.Pattern[str] = getattr(feedparser, "NLCRE")  # noqa: B009
_FeedParserAny: Any = FeedParser
if TYPE_CHECKING:
    _FeedParserBase = FeedParser[EmailMessage]
else:  # not generic at run time
    _FeedParserBase = FeedParser


class _BoundedInput(_BufferedSubFile):  # type: ignore[misc]
    """The feed parser's line buffer with a line budget: once it is spent, the input ends there.

    ``readline`` is BufferedSubFile.readline with the count added (it runs once per line).
    """

    def __init__(self, budget: _Budget) -> None:
        super().__init__()
        self._budget = budget
        self._left = _LINE_COST * MAX_MIME_LINES
        self._spent = False
        self.header_cost = 0  # what a line costs on top while a part's header block is read

    def push(self, data: str) -> None:
        if not self._spent:
            super().push(data)

    def end(self, limit: str) -> None:
        """Drop the rest of the input: from now on every read is the end."""
        self._budget.hit(limit)
        self._spent = True
        self._lines.clear()

    def readline(self) -> Any:
        lines = self._lines
        if not lines:
            return "" if self._closed or self._spent else _NeedMoreData
        stack = self._eofstack
        self._left -= _LINE_COST + self.header_cost + len(stack)
        if self._left < 0:
            self.end(LIMIT_MIME_LINES)
            return ""
        line = lines.popleft()
        for at_eof in reversed(stack):
            if at_eof(line):
                lines.appendleft(line)
                return ""
        return line


class _BoundedParser(_FeedParserBase):
    """The standard feed parser with a depth and a part limit, and the root message as :attr:`root`.

    A multipart or ``message/*`` part at MAX_MIME_DEPTH is kept whole; the input ends at the first part
    beyond MAX_PARTS.
    """

    policy: Any
    _cur: Any
    _last: Any
    _msgstack: list[Message]
    _input: Any

    def __init__(self, budget: _Budget) -> None:
        super().__init__(EmailMessage, policy=_BoundedPolicy(budget=budget))
        self._budget = budget
        self._input = _BoundedInput(budget)
        self._depth = -1
        self._parts = 0
        self.root: EmailMessage | None = None

    def _parsegen(self) -> Iterator[object]:
        self._depth += 1
        try:
            if self._parts >= MAX_PARTS:
                yield from self._skip_part()
            else:
                self._parts += 1
                if self._depth > 0:
                    self._input.header_cost = _PART_HEADER_LINE_COST
                if self._depth >= MAX_MIME_DEPTH:
                    yield from self._whole_part()
                else:
                    yield from _FeedParserAny._parsegen(self)
        finally:
            self._depth -= 1

    def _new_message(self) -> None:
        _FeedParserAny._new_message(self)
        if self.root is None:
            self.root = self._cur

    def _parse_headers(self, lines: list[str]) -> None:
        self._input.header_cost = 0  # the header block has been read
        _FeedParserAny._parse_headers(self, _bound_part_headers(lines, self._budget))

    def _skip_part(self) -> Iterator[object]:
        # Nothing after the last part allowed is read; the caller pops a message after each part, so push
        # one that is attached nowhere.
        self._input.end(LIMIT_PARTS)
        dropped = EmailMessage(policy=self.policy)
        self._msgstack.append(dropped)
        self._cur = self._last = dropped
        yield from ()

    def _whole_part(self) -> Iterator[object]:
        # feedparser._parsegen's header loop, then the body as text whatever the content type.
        self._new_message()
        headers: list[str] = []
        for line in self._input:
            if line is _NeedMoreData:
                yield _NeedMoreData
                continue
            if not _HEADER_RE.match(line):
                if not _NL_RE.match(line):
                    self.policy.handle_defect(self._cur, email_errors.MissingHeaderBodySeparatorDefect())
                    self._input.unreadline(line)
                break
            headers.append(line)
        self._parse_headers(headers)
        if self._cur.get_content_maintype() in ("multipart", "message"):
            self._budget.hit(LIMIT_DEPTH)
        lines: list[str] = []
        for line in self._input:
            if line is _NeedMoreData:
                yield _NeedMoreData
                continue
            lines.append(line)
        self._cur.set_payload("".join(lines))


def _parse_bounded(data: bytes, budget: _Budget) -> EmailMessage:
    """Parse ``data`` with every cap applied; a top-level body that is not MIME is not split into lines."""
    match = _HEADER_BLOCK_RE.match(data, 0, min(len(data), _HEADER_SCAN_BYTES))
    end = match.end() if match else 0
    head = _bound_header_block(data[:end], budget)
    # The body starts after the empty line that ends the header block, or at the line that ended it.
    separator = _LINE_END_RE.match(data, end, end + 2)
    start = separator.end() if separator else end
    stop = len(data)
    if end >= _HEADER_SCAN_BYTES and stop > end:
        budget.hit(LIMIT_SIZE)  # a header block that does not end: nothing after it is read
        stop = end
    elif stop - start > MAX_BODY_BYTES:
        budget.hit(LIMIT_SIZE)
        limit = start + MAX_BODY_BYTES
        cut = data.rfind(b"\n", limit - MAX_HEADER_BYTES, limit)
        stop = cut + 1 if cut >= 0 else limit
    # The line after the header block (the empty separator, or the first body line) ends the headers.
    line = _LINE_END_RE.search(data, end, stop)
    first_end = line.end() if line else stop
    parser = _BoundedParser(budget)
    parser.feed((head + data[end:first_end]).decode("ascii", "surrogateescape"))
    body = data[first_end:stop].decode("ascii", "surrogateescape")
    root = parser.root
    # No root headers yet (though there are some) means the separator was a lone CR, which the parser holds
    # back until it sees the next character: then it cannot be told what the root is.
    single_part = (
        root is not None
        and (len(root) > 0 or not head)
        and root.get_content_maintype() not in ("multipart", "message")
    )
    if body and single_part:
        # A single-part body becomes the payload as it is: splitting it into lines would only cost time.
        msg = parser.close()
        # What the parser already holds (a first body line not preceded by an empty line), raw:
        # get_payload() would decode it.
        held = getattr(msg, "_payload", None)
        msg.set_payload((held if isinstance(held, str) else "") + body)
        return msg
    parser.feed(body)
    return parser.close()


# --------------------------------------------------------------------------------------------- MIME tree


def _safe_content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "text/plain"


def _safe_param(part: Message, param: str) -> str | None:
    try:
        value = part.get_param(param)
    except Exception:
        return None
    if isinstance(value, tuple):
        # RFC 2231 values come back as (charset, language, value).
        value = value[2]
    return _scrub(str(value)).strip() if value is not None else None


def _is_attachment(part: Message) -> bool:
    try:
        disposition = part.get_content_disposition()
    except Exception:
        return False
    return disposition == "attachment"


def _walk(root: Message) -> Iterator[Message]:
    """Every part, depth first, without descending into attached messages (a bounce's returned original)."""
    stack = [root]
    seen = 0
    while stack and seen < MAX_PARTS:
        part = stack.pop()
        seen += 1
        yield part
        ctype = _safe_content_type(part)
        if ctype.startswith("message/") and part is not root:
            continue
        if ctype in _DSN_TYPES:
            continue
        stack.extend(reversed(_children(part)))


def _children(part: Message) -> list[Message]:
    # get_payload() without decode=True decodes 8-bit text with the declared charset and can raise on it,
    # so it is only called on parts whose payload is a list.
    if not part.is_multipart():
        return []
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _payload_text(part: Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if not isinstance(data, bytes):
        return ""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return _decode_bytes(data, charset)


_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "tr", "li", "ul", "ol", "table", "blockquote", "section", "article", "header",
     "footer", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr", "title", "dd", "dt"}
)  # fmt: skip
_HIDDEN_TAGS = frozenset({"script", "style", "head", "template", "noscript"})
# One token at a '<' that has a '>' after it: a start or end tag, a comment opener, or another markup
# declaration. Tag names are read as html.parser reads them.
# One token: text (a '<' before anything but a letter, '/', '!' or '?' is text), a start or end tag, a comment
# opener, a marked section opener ("<![CDATA["), another declaration, or a '<' that starts none of these.
# Tag names are read as html.parser reads them.
_HTML_TOKEN_RE = re.compile(
    r"((?:[^<]+|<(?![a-zA-Z/!?]))+)"
    r"|<(?:(/?)([a-zA-Z][^\t\n\r\f />\x00]*)([^>]*)>|(!--)|!\[([a-zA-Z][-_.a-zA-Z0-9]*)|[!?/][^>]*>)|(<)"
)
_COMMENT_END_RE = re.compile(r"--\s*>")
# Marked sections end at "]]>" (<![CDATA[...]]>) or, in Microsoft Office's conditionals, at "]>".
_SECTION_END = {
    **{name: re.compile(r"]\s*]\s*>") for name in ("temp", "cdata", "ignore", "include", "rcdata")},
    **{name: re.compile(r"]\s*>") for name in ("if", "else", "endif")},
}
_RAW_TEXT_END = {name: re.compile(rf"</\s*{name}\s*>", re.IGNORECASE) for name in ("script", "style")}
# "<img src=x/>" is not self-closing for html.parser: the slash belongs to the unquoted value.
_BARE_VALUE_END_RE = re.compile(r"""=\s*(?!['"])[^\s>]*$""")
_QUOTED_RE = re.compile(r""""[^"]*"|'[^']*'""")
_SPACES_RE = re.compile(r"[ \t\r\f\v\u00a0]+")


def _html_chunks(html: str) -> list[str]:
    """The visible text of ``html`` in pieces, with a newline for each block element; linear in its length.

    Gives what html.parser gives (which is quadratic on unclosed markup) for well-formed HTML, except that a
    tag ends at the first '>' even inside a quoted attribute value.
    """
    chunks: list[str] = []
    hidden = 0
    pos = 0  # tokens before this were inside a comment, a section or a script
    # Tokens are read up to the last '>' only, so the tag pattern never scans to the end in vain; whatever
    # follows it is text.
    last_gt = html.rfind(">")
    searches: dict[str, tuple[int, re.Match[str] | None]] = {}

    def search_from(pattern: re.Pattern[str], start: int) -> re.Match[str] | None:
        # Starts only grow, so a search is repeated only when the match remembered lies behind it.
        origin, found = searches.get(pattern.pattern, (-1, None))
        if origin < 0 or start < origin or (found is not None and found.start() < start):
            found = pattern.search(html, start)
            searches[pattern.pattern] = (start, found)
        return found

    for m in _HTML_TOKEN_RE.finditer(html, 0, last_gt + 1):
        start = m.start()
        text, slash, name, attrs, comment, section, lone = m.groups()
        if start < pos:  # only text runs on past the end of what was skipped
            if text is not None and m.end() > pos and not hidden:
                chunks.append(html_lib.unescape(html[pos : m.end()]))
            continue
        if text is not None or lone is not None:
            if not hidden:
                chunks.append(html_lib.unescape(text) if text is not None else "<")
        elif name is not None:
            name = name.lower()
            if slash:
                if name in _HIDDEN_TAGS:
                    hidden = max(0, hidden - 1)
                elif name in _BLOCK_TAGS:
                    chunks.append("\n")
            elif attrs.endswith("/") and not _BARE_VALUE_END_RE.search(_QUOTED_RE.sub('""', attrs)):
                if name in _BLOCK_TAGS:  # <br/>: no content
                    chunks.append("\n")
            elif name in _RAW_TEXT_END:  # script and style hold raw text up to their end tag
                close = search_from(_RAW_TEXT_END[name], m.end())
                pos = close.end() if close is not None else len(html)
            elif name in _HIDDEN_TAGS:
                hidden += 1
            elif name in _BLOCK_TAGS:
                chunks.append("\n")
        else:
            end_re = _COMMENT_END_RE if comment else _SECTION_END.get((section or "").lower())
            close = search_from(end_re, start + (4 if comment else 3)) if end_re is not None else None
            if close is not None:
                pos = close.end()
            else:  # a declaration ends at '>'; so does an unclosed comment or section, but as text
                pos = html.find(">", start + 1) + 1
                if end_re is not None and not hidden:
                    chunks.append(html_lib.unescape(html[start:pos]))
    rest = max(pos, last_gt + 1)
    if rest < len(html) and not hidden:
        chunks.append(html_lib.unescape(html[rest:]))
    return chunks


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment: script, style and head dropped, blocks on their own lines.

    Linear in the length of ``html``, whatever its markup (html.parser is not); parse_email converts at most
    MAX_HTML_CHARS of a body.
    """
    text = "".join(_html_chunks(html))
    lines = (_SPACES_RE.sub(" ", line).strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _best_text(root: Message, budget: _Budget) -> str:
    plain: Message | None = None
    html: Message | None = None
    for part in _walk(root):
        ctype = _safe_content_type(part)
        if ctype not in ("text/plain", "text/html") or (_is_attachment(part) and part is not root):
            continue
        if ctype == "text/plain" and plain is None:
            plain = part
            break
        if ctype == "text/html" and html is None:
            html = part
    if plain is not None:
        return _payload_text(plain).replace("\r\n", "\n").strip()
    if html is not None:
        markup = _payload_text(html)
        if len(markup) > MAX_HTML_CHARS:
            budget.hit(LIMIT_HTML)
            markup = markup[:MAX_HTML_CHARS]
        return html_to_text(markup)
    if _safe_content_type(root).startswith("multipart/") and not root.is_multipart():
        # A multipart without a usable boundary is one opaque body: its text is still the best we have.
        return _payload_text(root).replace("\r\n", "\n").strip()
    return ""


def _parse_fields(block: str) -> dict[str, str]:
    """``Name: value`` lines with continuations into a dict (first occurrence wins)."""
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in block.splitlines():
        if line[:1] in (" ", "\t") and current is not None:
            current.append(line.strip())
            continue
        m = _FIELD_RE.match(line)
        if m and m.group(1).lower() not in fields:
            current = fields[m.group(1).lower()] = [m.group(2).strip()]
        else:
            current = None
    return {name: " ".join(p for p in parts if p) for name, parts in fields.items()}


def _text_blocks(part: Message) -> list[dict[str, str]]:
    text = _payload_text(part).replace("\r\n", "\n")
    return [fields for block in re.split(r"\n[ \t]*\n", text) if (fields := _parse_fields(block))]


def _dsn_blocks(part: Message) -> list[dict[str, str]]:
    """Read the field blocks of a delivery-status part.

    The stdlib parses ``message/delivery-status`` into one header-only sub-message per block, but
    ``message/global-delivery-status`` into one sub-message whose body holds the remaining blocks; anything
    else arrives as text.
    """
    if not part.is_multipart():
        return _text_blocks(part)
    blocks: list[dict[str, str]] = []
    for sub in _children(part):
        fields: dict[str, str] = {}
        for name, value in sub.raw_items():
            key = _scrub(str(name)).strip().lower()
            if key not in fields:
                fields[key] = re.sub(r"\s+", " ", _scrub(str(value))).strip()
        if fields:
            blocks.append(fields)
        if not sub.is_multipart():
            blocks.extend(_text_blocks(sub))
    return blocks


def _dsn(root: Message) -> tuple[Mapping[str, str], ...]:
    for part in _walk(root):
        if _safe_content_type(part) in _DSN_TYPES:
            blocks = _dsn_blocks(part)
            if blocks:
                return tuple(MappingProxyType(b) for b in blocks)
    return ()


def _defects(root: Message) -> list[str]:
    names: list[str] = []
    for part in _walk(root):
        names.extend(type(d).__name__ for d in getattr(part, "defects", ()))
    return names


# --------------------------------------------------------------------------------------------- entry point


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse raw RFC 5322 bytes; raise :class:`MalformedEmail` only if no header field can be read.

    Never raises anything else, whatever the bytes: decoding problems become ``defects``, and the parsing
    limits that cut the message short are named in ``limits``.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise MalformedEmail(f"expected bytes, got {type(raw).__name__}")
    budget = _Budget()
    try:
        msg = _parse_bounded(bytes(raw), budget)
        raw_headers = list(msg.raw_items())
    except Exception as exc:  # not expected: the limits keep the stdlib parser within its means
        raise MalformedEmail(f"unparseable message: {type(exc).__name__}") from exc
    if not raw_headers:
        raise MalformedEmail("no header fields found")

    try:
        return _build(msg, raw_headers, budget)
    except Exception as exc:  # a last guard: callers are promised MalformedEmail and nothing else
        raise MalformedEmail(f"cannot interpret message: {type(exc).__name__}: {exc}") from exc


def _build(msg: Message, raw_headers: list[tuple[str, Any]], budget: _Budget) -> ParsedEmail:
    defects: list[str] = []
    decoded: dict[str, list[str]] = {}
    raws: dict[str, list[str]] = {}
    for name, value in raw_headers:
        key = _scrub(str(name)).strip().lower()
        decoded.setdefault(key, []).append(_decode_header(key, value, defects, budget))
        raws.setdefault(key, []).append(_scrub(str(value)))
    headers = {k: tuple(v) for k, v in decoded.items()}

    def get(name: str) -> tuple[str, ...]:
        return headers.get(name, ())

    def addresses(name: str) -> list[tuple[str, str]]:
        return _addresses(tuple(raws.get(name, ())), get(name), budget)

    senders = addresses("from")
    recipients = [addr for name in _RECIPIENT_HEADERS for _, addr in addresses(name)]
    message_ids = _msg_ids(get("message-id")[:1])
    content_type = _safe_content_type(msg)
    report_type = _safe_param(msg, "report-type") if content_type == "multipart/report" else None
    defects = _defects(msg) + defects
    text = _best_text(msg, budget)
    return ParsedEmail(
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=_msg_ids(get("in-reply-to")),
        references=_msg_ids(get("references")),
        from_addr=senders[0][1] if senders else None,
        from_name=(senders[0][0] or None) if senders else None,
        return_path=_return_path(get("return-path")),
        recipients=tuple(dict.fromkeys(recipients)),
        subject=" ".join(get("subject")[:1]).strip(),
        date=_date(get("date")),
        text=text,
        headers=MappingProxyType(headers),
        content_type=content_type,
        report_type=report_type.lower() if report_type else None,
        dsn=_dsn(msg),
        defects=tuple(dict.fromkeys(defects)),
        reply_to=tuple(dict.fromkeys(addr for _, addr in addresses("reply-to"))),
        limits=tuple(budget.limits),
    )
