"""The new words of a reply: the body without the quoted original, the signature or a help desk's markers.

Classification and quality scoring read only what the company wrote this time: a reply that quotes our
inquiry must not score points for our own words, and a person's reply that quotes an auto-reply must not look
automatic. The splitting of replies and signatures in many languages is `mail-parser-reply`'s; this module
adds what it does not know (Outlook's "-----Original Message-----" in more languages, help-desk "reply above
this line" markers, interleaved ``>`` lines) and bounds the work on very long bodies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from mailparser_reply import EmailReplyParser

__all__ = ["LANGUAGES", "ReplyText", "new_text", "reply_text"]

#: Languages whose reply headers and signature openers are recognised (mail-parser-reply's codes).
LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "sv", "da", "pl", "cs", "ja")
#: How much of a body is read: a reply's own words come first; beyond this is history.
READ_CHARS = 16_000

_IM = re.IGNORECASE | re.MULTILINE

_QUOTE_START = re.compile(
    "|".join(
        (
            r"^-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original"
            r"|messaggio originale|oorspronkelijk bericht|originalmeddelande|opprinnelig melding"
            r"|oprindelig meddelelse|wiadomość oryginalna|původní zpráva|mensagem original)\s*-{2,}",
            r"^_{20,}\s*$",
            r"^(?:on|am|le|el|il|op|den|på|em|w dniu|dne)\s[^\n]{0,200}"
            r"(?:wrote|schrieb|a écrit|escribió|ha scritto|schreef|skrev|escreveu|napisał|napsal)[^\n]{0,80}:\s*$",
            r"^(?:from|von|de|da|van|från|fra|od)\s?:[^\n]*\n(?:[^\n]*\n){0,2}?"
            r"(?:sent|date|gesendet|datum|envoyé|enviado|inviato|verzonden|skickat|sendt|wysłano|odesláno)\s?:",
        )
    ),
    _IM,
)
_QUOTED_LINE = re.compile(r"^[ \t]*>.*$\n?", re.MULTILINE)
# Zendesk's "##- Please type your reply above this line -##" and its translations; Freshdesk and Help Scout
# use similar fences.
_REPLY_ABOVE = re.compile(
    r"^.*(?:##-.*-##|reply above this line|antworten sie oberhalb dieser zeile).*$\n?", _IM
)
_BLANK_RUNS = re.compile(r"\n{3,}")
# Zendesk and Freshdesk notifications list the conversation newest first, each comment under a dashed rule,
# the author's name and a date line: the new words end where the second such comment begins.
_COMMENT_HEAD = re.compile(
    r"^-{20,}[ \t]*\n(?:[ \t]*\n)*[^\n]{1,120}\n(?:[ \t]*\n)*[^\n]*\b(?:19|20)\d\d\b", re.M
)


@dataclass(frozen=True)
class ReplyText:
    """A body split into the reply's own words, the signature cut from them, and whether history was cut."""

    new: str
    signature: str
    quoted: bool


@cache
def _parser() -> EmailReplyParser:
    return EmailReplyParser(languages=list(LANGUAGES))


def reply_text(text: str) -> ReplyText:
    """Split ``text`` (a decoded body) into the new words, the signature and whether a quote was cut."""
    head = text[:READ_CHARS]
    quoted = False
    comments = list(_COMMENT_HEAD.finditer(head))
    if len(comments) > 1:
        head, quoted = head[: comments[1].start()], True
    m = _QUOTE_START.search(head)
    if m:
        head, quoted = head[: m.start()], True
    without_quotes = _QUOTED_LINE.sub("", head)
    quoted = quoted or without_quotes != head
    head = _REPLY_ABOVE.sub("", without_quotes)
    signature = ""
    replies = _parser().read(head).replies
    if replies:
        first = replies[0]
        quoted = quoted or len(replies) > 1
        signature = first.signatures.strip()
        # The library returns "" when a body is all signature (e.g. "Thanks, Anna"): keep the words then.
        head = first.body if first.body.strip() else first.content or head
    new = _BLANK_RUNS.sub("\n\n", head).strip()
    return ReplyText(new=new, signature=signature, quoted=quoted)


def new_text(text: str) -> str:
    """The reply's own words: no quoted original, no signature (see :func:`reply_text`)."""
    return reply_text(text).new
