"""Exceptions raised by replybench; the CLI turns each into one clear line and a non-zero exit code."""

from __future__ import annotations

from pathlib import Path


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


class SendFailed(Exception):
    """The inquiry was certainly not delivered to the company's side; the probe may be marked `failed`."""


class SendUncertain(Exception):
    """The inquiry may have reached the company's side: the probe must never be re-sent automatically."""


class HeaderInjectionError(ValueError):
    """A rendered header value contains CR, LF or NUL."""
