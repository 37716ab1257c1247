"""Exceptions raised by replybench; the CLI turns each into one clear line and a non-zero exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class ReplybenchError(Exception):
    """Base class of every error a user can cause or fix."""

    exit_code = 2


class ConfigError(ReplybenchError):
    """A workspace file is malformed: names the file, the line (when known), the field and what is expected."""

    def __init__(self, file: Path | str, message: str, *, line: int | None = None, field: str | None = None):
        self.file = Path(file)
        self.line = line
        self.field = field
        self.message = message
        where = str(self.file) + (f":{line}" if line else "")
        what = f"{field}: " if field else ""
        super().__init__(f"{where}: {what}{message}")


class TemplateError(ReplybenchError):
    """A probe template failed to render (unknown variable, syntax error, forbidden character)."""


class StoreError(ReplybenchError):
    """The store cannot be opened, migrated or written."""


class UnknownSuiteError(ReplybenchError):
    """A suite id that the workspace does not define."""


class ChannelError(ReplybenchError):
    """A channel could not be used (missing credentials, unknown channel, bad endpoint)."""


class SendOutcomeError(Exception):
    """A send that did not succeed, with what the channel saw.

    ``evidence`` is JSON-ready; ``artifacts`` are binary (name → bytes, e.g. ``{"after.png": b"..."}``). The
    engine stores both with the probe.
    """

    def __init__(
        self,
        message: str = "",
        *,
        evidence: dict[str, Any] | None = None,
        artifacts: dict[str, bytes] | None = None,
    ):
        super().__init__(message)
        self.evidence: dict[str, Any] = dict(evidence or {})
        self.artifacts: dict[str, bytes] = dict(artifacts or {})


class SendFailed(SendOutcomeError):
    """The inquiry was certainly not delivered to the company's side; the probe may be marked `failed`."""


class SendUncertain(SendOutcomeError):
    """The inquiry may have reached the company's side: the probe must never be re-sent automatically."""


class SendBlocked(SendOutcomeError):
    """The company's side put a barrier before the inquiry (CAPTCHA, login wall): the probe is `blocked`."""


class HeaderInjectionError(ValueError):
    """A rendered header value contains CR, LF or NUL."""
