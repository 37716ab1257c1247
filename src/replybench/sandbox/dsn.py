"""Delivery status notifications (RFC 3464) for mail to a mailbox that does not exist."""

from __future__ import annotations

import secrets
from datetime import datetime
from email import policy
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime

from replybench.timefmt import as_utc


def header_block(raw: bytes) -> str:
    """Return the header section of a raw message as it came over the wire."""
    normal = raw.replace(b"\r\n", b"\n")
    head = normal.split(b"\n\n", 1)[0]
    return head.decode("utf-8", "replace") + "\n"


def dsn_message_id(domain: str) -> str:
    """Return a fresh Message-ID for a DSN from the mail server of ``domain``."""
    return f"<{secrets.token_hex(8)}.dsn@mx.{domain}>"


def build_dsn(
    *,
    domain: str,
    original_headers: str,
    recipient: str,
    return_to: str,
    arrival: datetime,
    now: datetime,
    status: str = "5.1.1",
    diagnostic: str | None = None,
    message_id: str | None = None,
) -> MIMEMultipart:
    """Build a failed-delivery DSN from ``MAILER-DAEMON@domain`` to ``return_to`` about ``recipient``.

    ``original_headers`` is the header section of the undeliverable message (see :func:`header_block`).

    The message is ``multipart/report; report-type=delivery-status`` with a
    human-readable part, a ``message/delivery-status`` part and the original's headers as
    ``text/rfc822-headers``. It must be sent with a null envelope sender so that it can never bounce back.
    """
    mta = f"mx.{domain}"
    message_id = message_id or dsn_message_id(domain)
    diagnostic = diagnostic or (
        f"smtp; 550 {status} <{recipient}>: Recipient address rejected: User unknown in virtual mailbox table"
    )

    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = f"Mail Delivery System <MAILER-DAEMON@{domain}>"
    report["To"] = return_to
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Date"] = format_datetime(as_utc(now))
    report["Message-ID"] = message_id
    report["Auto-Submitted"] = "auto-replied"

    report.attach(
        MIMEText(
            f"This is the mail system at host {mta}.\n\n"
            "I'm sorry to have to inform you that your message could not\n"
            "be delivered to one or more recipients. It's attached below.\n\n"
            "                   The mail system\n\n"
            f"<{recipient}>: host {mta} said: 550 {status} <{recipient}>: Recipient\n"
            "    address rejected: User unknown in virtual mailbox table\n",
            "plain",
            "us-ascii",
        )
    )

    per_message = Message()
    per_message["Reporting-MTA"] = f"dns; {mta}"
    per_message["X-Postfix-Queue-ID"] = secrets.token_hex(5).upper()
    per_message["Arrival-Date"] = format_datetime(as_utc(arrival))
    per_recipient = Message()
    per_recipient["Final-Recipient"] = f"rfc822; {recipient}"
    per_recipient["Original-Recipient"] = f"rfc822;{recipient}"
    per_recipient["Action"] = "failed"
    per_recipient["Status"] = status
    per_recipient["Remote-MTA"] = f"dns; {mta}"
    per_recipient["Diagnostic-Code"] = diagnostic
    status_part = MIMEBase("message", "delivery-status")
    status_part.set_payload([per_message, per_recipient])
    report.attach(status_part)

    charset = "us-ascii" if original_headers.isascii() else "utf-8"
    report.attach(MIMEText(original_headers, "rfc822-headers", charset))
    return report


def dsn_bytes(message: Message) -> bytes:
    """Serialise a DSN for the wire (CRLF line endings)."""
    return message.as_bytes(policy=policy.SMTP)
