"""Build the probe email: an ordinary, personal-looking text/plain message that carries the token.

The message must look like one person writing to a company: help desks silently drop or auto-close mail that
announces itself as automatic, so a probe never carries ``Auto-Submitted``, ``Precedence``,
``X-Auto-Response-Suppress`` or any ``List-*`` header.
"""

from __future__ import annotations

import base64
import unicodedata
from datetime import UTC, datetime
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from replybench.channels.base import OutboundProbe
from replybench.errors import HeaderInjectionError

#: SMTPUTF8 stays off: non-ASCII header text is RFC 2047-encoded, so any relay can carry the message.
POLICY = email_policy.default
#: The policy to serialize a probe for SMTP (CRLF line ends).
WIRE_POLICY = email_policy.default.clone(linesep="\r\n")

#: Headers that mark mail as automatic or bulk; a probe never has any of them (checked in tests).
FORBIDDEN_HEADERS = ("auto-submitted", "precedence", "x-auto-response-suppress")
FORBIDDEN_HEADER_PREFIXES = ("list-",)

# Longest encoded word we emit: short enough that "Subject: " plus one word stays under 78 columns, so the
# email package writes our pre-folded value verbatim instead of refolding it.
_MAX_EW_BYTES = 36


def header_problem(value: str) -> str | None:
    """Why ``value`` may not appear in a header (CR, LF, NUL, another line break or control), else None."""
    for ch in value:
        if ch in "\r\n\0":
            return f"contains {ch!r}"
        if ch == "\t":
            continue
        category = unicodedata.category(ch)
        # Cc covers the other C0/C1 controls (incl. VT, FF, NEL); Zl/Zp are U+2028/U+2029. Python's own
        # str.splitlines() treats several of these as line breaks, so they could fold a header in two.
        if category in ("Cc", "Zl", "Zp"):
            return f"contains the control character {ch!r}"
        if category == "Cs":
            return "contains an unpaired surrogate (not valid Unicode)"
    return None


def check_header_value(field: str, value: str) -> None:
    """Raise :class:`HeaderInjectionError` if ``value`` could break out of header ``field``."""
    problem = header_problem(value)
    if problem is not None:
        raise HeaderInjectionError(f"{field} {problem}; refusing to build the probe")


def build_probe_message(probe: OutboundProbe, *, from_address: str, display_name: str) -> EmailMessage:
    """Build the probe as an :class:`~email.message.EmailMessage` (From, Reply-To, To, Subject, Date, ...).

    Every header value is checked first: CR, LF, NUL (or any other line break or control character) raises
    :class:`HeaderInjectionError` before anything is built.
    """
    target = probe.target.endpoints.email
    if target is None:
        raise ValueError(f"target {probe.target.id!r} has no email endpoint")
    values = {
        "Subject": probe.subject,
        "From display name": display_name,
        "From address": from_address,
        "Reply-To": probe.reply_address,
        "To": target.address,
        "Message-ID": probe.message_id,
    }
    for field, value in values.items():
        check_header_value(field, value)

    msg = EmailMessage(policy=POLICY)
    _set_mailbox(msg, "From", display_name, from_address)
    msg["Reply-To"] = Address(addr_spec=probe.reply_address)
    msg["To"] = Address(addr_spec=target.address)
    _set_text(msg, "Subject", probe.subject)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = probe.message_id
    body = probe.body if probe.body.endswith("\n") else probe.body + "\n"
    msg.set_content(body, subtype="plain", charset="utf-8", cte=_body_cte(body))
    return msg


def serialize(msg: EmailMessage) -> bytes:
    """Return the message as it goes over SMTP (CRLF line ends, 7-bit headers)."""
    return msg.as_bytes(policy=WIRE_POLICY)


def _body_cte(body: str) -> str:
    # 7bit when it is plain ASCII with legal line lengths; otherwise quoted-printable, which every relay
    # carries (no 8BITMIME needed) and which stays readable in the stored raw copy.
    if body.isascii() and all(len(line) <= 998 for line in body.splitlines()):
        return "7bit"
    return "quoted-printable"


def _set_text(msg: EmailMessage, name: str, value: str) -> None:
    if "=?" in value:
        # Text that looks like an RFC 2047 encoded word would be decoded by the recipient (and by the email
        # package itself); encoding all of it keeps it literal.
        msg.set_raw(name, _encoded_words(value))
    else:
        msg[name] = value


def _set_mailbox(msg: EmailMessage, name: str, display_name: str, addr_spec: str) -> None:
    if "=?" in display_name:
        msg.set_raw(name, f"{_encoded_words(display_name)}\r\n <{Address(addr_spec=addr_spec).addr_spec}>")
    else:
        msg[name] = Address(display_name=display_name, addr_spec=addr_spec)


def _encoded_words(value: str) -> str:
    """``value`` as UTF-8 base64 encoded words, one per folded line (whitespace between them is not text)."""
    words: list[str] = []
    chunk = ""
    for ch in value:
        if len((chunk + ch).encode("utf-8")) > _MAX_EW_BYTES:
            words.append(chunk)
            chunk = ""
        chunk += ch
    words.append(chunk)
    encoded = [f"=?utf-8?b?{base64.b64encode(w.encode('utf-8')).decode('ascii')}?=" for w in words if w]
    return "\r\n ".join(encoded) if encoded else '""'
