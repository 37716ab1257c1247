"""Probe tokens: short random ids carried in the reply address (``local+TOKEN@domain``) and the Message-ID.

A token is 12 characters of Crockford's lower-case base-32 alphabet (60 bits), so it survives case-folding
mail systems and never contains characters that need quoting in an address.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
TOKEN_LENGTH = 12
TOKEN_RE = re.compile(rf"(?<![0-9a-z])[{ALPHABET}]{{{TOKEN_LENGTH}}}(?![0-9a-z])")
_PLUS_RE = re.compile(rf"^[^@+\s]+\+([{ALPHABET}]{{{TOKEN_LENGTH}}})(?:\.[a-z]+)?@", re.IGNORECASE)
_MSGID_RE = re.compile(rf"<rb\.([{ALPHABET}]{{{TOKEN_LENGTH}}})\.[0-9a-z]+@", re.IGNORECASE)

SENT_COPY_SUFFIX = "sent"


def new_token() -> str:
    """A fresh random token (cryptographically random: tokens must not be guessable or collide)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(TOKEN_LENGTH))


def is_token(text: str) -> bool:
    """True if ``text`` has the exact shape of a token."""
    return len(text) == TOKEN_LENGTH and all(c in ALPHABET for c in text)


def plus_address(address: str, token: str, suffix: str | None = None) -> str:
    """``anna@probe.example`` + token → ``anna+TOKEN@probe.example`` (``anna+TOKEN.sent@…`` with a suffix)."""
    if not is_token(token):
        raise ValueError(f"not a probe token: {token!r}")
    local, domain = address.rsplit("@", 1)
    if "+" in local:
        raise ValueError(f"a persona address may not contain '+' (it carries the token): {address!r}")
    tail = f".{suffix}" if suffix else ""
    return f"{local}+{token}{tail}@{domain}"


def token_from_address(address: str) -> str | None:
    """The token in a plus-address, or None. Case-insensitive, because some systems upper-case addresses."""
    m = _PLUS_RE.match(address.strip().strip("<>"))
    return m.group(1).lower() if m else None


def is_sent_copy_address(address: str) -> bool:
    """True for ``local+TOKEN.sent@domain``: the blind copy of a probe that proves the relay accepted it."""
    token = token_from_address(address)
    return token is not None and address.strip().strip("<>").lower().split("@")[0].endswith(
        f".{SENT_COPY_SUFFIX}"
    )


def message_id_for(token: str, domain: str) -> str:
    """A Message-ID that carries the token: ``<rb.TOKEN.RANDOM@domain>``."""
    if not is_token(token):
        raise ValueError(f"not a probe token: {token!r}")
    return f"<rb.{token}.{secrets.token_hex(6)}@{domain}>"


def token_from_message_id(message_id: str) -> str | None:
    """The token in a Message-ID made by :func:`message_id_for`, or None."""
    m = _MSGID_RE.search(message_id)
    return m.group(1).lower() if m else None


def tokens_in_text(text: str) -> list[str]:
    """Every token-shaped word in ``text``, in order, without repeats (candidates to look up)."""
    seen: dict[str, None] = {}
    for m in TOKEN_RE.finditer(text.lower()):
        seen.setdefault(m.group(0), None)
    return list(seen)


def message_id_tokens(text: str) -> list[str]:
    """Tokens of every Message-ID made by :func:`message_id_for` found anywhere in ``text``, in order."""
    seen: dict[str, None] = {}
    for m in _MSGID_RE.finditer(text):
        seen.setdefault(m.group(1).lower(), None)
    return list(seen)
