"""Tolerant parsing of inbound email into the few facts the classifier and the store need.

Real-world mail is often broken: missing dates, unknown or lying charsets, raw 8-bit headers, multiparts
without boundaries. :func:`parse_email` accepts all of that, records the problems as ``defects`` and raises
:class:`MalformedEmail` only when the bytes carry no header at all. Every string it returns is valid Unicode
(no lone surrogates), so it can be stored and printed without further care.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email import errors as email_errors
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from types import MappingProxyType
from typing import Any

__all__ = ["MalformedEmail", "ParsedEmail", "html_to_text", "parse_email"]

_RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")
_DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status", "text/delivery-status"})
_MSGID_RE = re.compile(r"<([^<>]*)>")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_ADJACENT_ENCODED_WORDS = re.compile(r"\?=[ \t]+(?==\?)")
_FIELD_RE = re.compile(r"^([!-9;-~]+)[ \t]*:(.*)$")
# The modern header parser is recursive and, on some inputs, slow: very long values take the simple path.
_MAX_STRUCTURED_HEADER = 8192
# Walking an absurdly deep MIME tree buys nothing; real mail nests a handful of levels.
_MAX_PARTS = 2000


class MalformedEmail(Exception):
    """The bytes are not usable as an email at all (no header fields could be read)."""


@dataclass(frozen=True)
class ParsedEmail:
    """The facts of one inbound message, decoded and normalised.

    Addresses are lower-cased addr-specs; message ids keep their angle brackets; ``return_path`` is ``""`` for
    the null sender ``<>`` and ``None`` when the header is absent. ``dsn`` holds the fields of a
    ``message/delivery-status`` part: the per-message block first, then one mapping per recipient.
    ``limits`` names each safety limit (size, depth, part count, header length) that cut the parse short.
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


def _decode_header(name: str, raw: Any, defects: list[str]) -> str:
    """Decode one raw header value: the modern policy first, the compat32 decoder when that fails."""
    if not isinstance(raw, str):
        raw = str(raw)
    # Raw 8-bit headers arrive surrogate-escaped; recover their text before RFC 2047 decoding.
    fixed = _scrub(raw)
    if fixed is not raw:
        defects.append(email_errors.UndecodableBytesDefect.__name__)
    if len(fixed) <= _MAX_STRUCTURED_HEADER:
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


def _addresses(raw: tuple[str, ...], decoded: tuple[str, ...]) -> list[tuple[str, str]]:
    """(display name, lower-cased addr-spec) pairs from an address header, tolerating broken syntax.

    ``raw`` goes to the modern address parser (it decodes encoded words itself); the lenient compat32
    parser reads the ``decoded`` text when that finds nothing.
    """
    pairs: list[tuple[str, str]] = []
    for value, text in zip(raw, decoded, strict=True):
        found: list[tuple[str, str]] = []
        if len(value) <= _MAX_STRUCTURED_HEADER:
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
    while stack and seen < _MAX_PARTS:
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


class _TextExtractor(HTMLParser):
    """Collects the visible text of an HTML document, one line per block element."""

    _BLOCK = frozenset(
        {"p", "div", "br", "tr", "li", "ul", "ol", "table", "blockquote", "section", "article", "header",
         "footer", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr", "title", "dd", "dt"}
    )  # fmt: skip
    _HIDDEN = frozenset({"script", "style", "head", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self.hidden += 1
        elif tag in self._BLOCK:
            self.chunks.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCK:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self._BLOCK:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment: script, style and head dropped, blocks on their own lines."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
        text = "".join(extractor.chunks)
    except Exception:  # html.parser still asserts on some malformed declarations
        text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>|<[^>]*>", " ", html)
    lines = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _best_text(root: Message) -> str:
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
        return html_to_text(_payload_text(html))
    if _safe_content_type(root).startswith("multipart/") and not root.is_multipart():
        # A multipart without a usable boundary is one opaque body: its text is still the best we have.
        return _payload_text(root).replace("\r\n", "\n").strip()
    return ""


def _parse_fields(block: str) -> dict[str, str]:
    """``Name: value`` lines with continuations into a dict (first occurrence wins)."""
    fields: dict[str, str] = {}
    name: str | None = None
    for line in block.splitlines():
        if line[:1] in (" ", "\t") and name is not None:
            fields[name] = f"{fields[name]} {line.strip()}".strip()
            continue
        m = _FIELD_RE.match(line)
        if m:
            name = m.group(1).lower()
            if name in fields:
                name = None
            else:
                fields[name] = m.group(2).strip()
        else:
            name = None
    return fields


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

    Never raises anything else, whatever the bytes: decoding problems become ``defects``.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise MalformedEmail(f"expected bytes, got {type(raw).__name__}")
    try:
        msg = BytesParser(policy=policy.default).parsebytes(bytes(raw))
        raw_headers = list(msg.raw_items())
    except Exception as exc:  # e.g. RecursionError on absurdly nested MIME
        raise MalformedEmail(f"unparseable message: {type(exc).__name__}") from exc
    if not raw_headers:
        raise MalformedEmail("no header fields found")

    try:
        return _build(msg, raw_headers)
    except Exception as exc:  # a last guard: callers are promised MalformedEmail and nothing else
        raise MalformedEmail(f"cannot interpret message: {type(exc).__name__}: {exc}") from exc


def _build(msg: Message, raw_headers: list[tuple[str, Any]]) -> ParsedEmail:
    defects: list[str] = []
    decoded: dict[str, list[str]] = {}
    raws: dict[str, list[str]] = {}
    for name, value in raw_headers:
        key = _scrub(str(name)).strip().lower()
        decoded.setdefault(key, []).append(_decode_header(key, value, defects))
        raws.setdefault(key, []).append(_scrub(str(value)))
    headers = {k: tuple(v) for k, v in decoded.items()}

    def get(name: str) -> tuple[str, ...]:
        return headers.get(name, ())

    def addresses(name: str) -> list[tuple[str, str]]:
        return _addresses(tuple(raws.get(name, ())), get(name))

    senders = addresses("from")
    recipients = [addr for name in _RECIPIENT_HEADERS for _, addr in addresses(name)]
    message_ids = _msg_ids(get("message-id")[:1])
    content_type = _safe_content_type(msg)
    report_type = _safe_param(msg, "report-type") if content_type == "multipart/report" else None

    defects = _defects(msg) + defects
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
        text=_best_text(msg),
        headers=MappingProxyType(headers),
        content_type=content_type,
        report_type=report_type.lower() if report_type else None,
        dsn=_dsn(msg),
        defects=tuple(dict.fromkeys(defects)),
        reply_to=tuple(dict.fromkeys(addr for _, addr in addresses("reply-to"))),
    )
