"""The email channel: submit probes over SMTP (at most once) and hear replies over inbound SMTP or IMAP.

Sending is one explicit SMTP transaction — EHLO, [STARTTLS, EHLO], [AUTH], MAIL, RCPT, DATA, body — on a
connection from a small pool. Where it fails decides what the dispatcher may conclude:

* before any byte of the message body is written (connect, AUTH, MAIL, RCPT, or the ``DATA`` command itself
  refused or unanswered): the relay holds no message → :class:`SendFailed`;
* a ``5xx`` reply to the body: the relay refused the message → :class:`SendFailed`;
* anything else once the body is on its way (timeout, disconnect, ``4xx``, odd reply): the relay may have
  queued it → :class:`SendUncertain`, never retried automatically;
* ``250`` after the body: sent, and the moment that reply arrived is ``sent_at`` (clock ``smtp-250``).

Credentials are read from the environment variables *named* in the settings, at connection time; their values
never appear in logs, evidence or exception messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import ssl
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiosmtplib

from replybench.channels.base import ChannelDescription, InboundSink, OutboundProbe, SendReceipt
from replybench.channels.message import build_probe_message, serialize
from replybench.channels.smtp_inbound import InboundSmtpServer
from replybench.errors import ChannelError, HeaderInjectionError, SendFailed, SendUncertain
from replybench.models import EmailSettings
from replybench.timefmt import utcnow_ms
from replybench.tokens import SENT_COPY_SUFFIX, plus_address

if TYPE_CHECKING:
    from replybench.channels.imap_listener import CursorStore

log = logging.getLogger(__name__)

#: The clock that dates a probe sent by email: the relay's ``250`` reply to the message body.
SEND_CLOCK = "smtp-250"
# How long a pooled connection may take to answer the RSET that proves it is still alive.
_REUSE_CHECK_TIMEOUT = 10.0
# A connection that finished a transaction this recently is reused without the RSET round trip: servers drop
# idle clients after tens of seconds, and a dead one fails at MAIL FROM, before anything is delivered.
_FRESH_FOR = 2.0
_QUIT_TIMEOUT = 5.0
_LEADING_DOT = re.compile(rb"(?m)^\.")
_LINE_ENDS = re.compile(rb"\r\n|\r|\n")


def _smtp_reply(code: int, message: str) -> str:
    return f"{code} {message}".strip()


def _wire_body(message: bytes) -> bytes:
    """Turn the message into DATA content: CRLF line ends, leading dots doubled, a final ``.`` line."""
    body = _LINE_ENDS.sub(b"\r\n", message)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return _LEADING_DOT.sub(b"..", body) + b".\r\n"


class EmailChannel:
    """Sends probes through the configured submission server; listens with inbound SMTP or IMAP IDLE.

    ``env`` is where the credential variables named in the settings are looked up (``os.environ`` by default);
    ``cursor`` is required for the IMAP listener. ``tls_context`` overrides the default certificate checks for
    TLS/STARTTLS (e.g. a private CA); without it the system trust store and host-name check are used.
    """

    name = "email"

    def __init__(
        self,
        settings: EmailSettings,
        *,
        env: Mapping[str, str] = os.environ,
        cursor: CursorStore | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self._env = env
        self._cursor = cursor
        self._tls_context = tls_context
        out = settings.outbound
        self._relay = f"{out.host}:{out.port}"
        self._timeout = out.timeout.total_seconds()
        self._slots = asyncio.Semaphore(out.connections)
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self._closed = False
        self._inbound: InboundSmtpServer | None = None
        #: Connections opened so far (reused connections are not counted again).
        self.connections_opened = 0

    # ------------------------------------------------------------------------------------------ send

    async def send(self, probe: OutboundProbe) -> SendReceipt:
        """Submit ``probe`` once; raise :class:`SendFailed` (certainly not sent) or :class:`SendUncertain`."""
        if self._closed:
            raise SendFailed("the email channel is closed")
        target = probe.target.endpoints.email
        if target is None:
            raise SendFailed(f"target {probe.target.id!r} has no email address")
        identity = probe.persona.email
        if identity is None:
            raise SendFailed(f"persona {probe.persona.id!r} has no email identity")
        # Many help desks answer the From address and ignore Reply-To, so From carries the token too.
        from_address = probe.reply_address if identity.token_in_from else identity.address
        try:
            message = build_probe_message(
                probe, from_address=from_address, display_name=probe.persona.display_name
            )
            copy_to = (
                plus_address(identity.address, probe.token, suffix=SENT_COPY_SUFFIX)
                if self.settings.outbound.sent_copy
                else None
            )
        except (HeaderInjectionError, ValueError) as exc:
            raise SendFailed(f"the probe message could not be built: {exc}") from exc
        data = _wire_body(serialize(message))

        async with self._slots:
            smtp, unchecked = await self._checkout()
            reusable = False
            try:
                try:
                    receipt = await self._transaction(smtp, probe, data, target.address, copy_to)
                except SendFailed as exc:
                    # A pooled connection the server dropped fails before DATA: nothing was delivered, so
                    # one retry on a fresh connection is safe (and saves the probe from `failed`).
                    if not (
                        unchecked and isinstance(exc.__cause__, aiosmtplib.SMTPServerDisconnected | OSError)
                    ):
                        raise
                    smtp.close()
                    smtp, unchecked = await self._connect(), False
                    receipt = await self._transaction(smtp, probe, data, target.address, copy_to)
                reusable = True
            finally:
                if reusable and not self._closed:
                    self._idle.append((smtp, time.monotonic()))
                else:
                    smtp.close()
        log.info(
            "probe %s sent to %s via %s: %s",
            probe.probe_id,
            target.address,
            self._relay,
            receipt.evidence["smtp_response"],
        )
        return receipt

    async def _transaction(
        self,
        smtp: aiosmtplib.SMTP,
        probe: OutboundProbe,
        data: bytes,
        target: str,
        copy_to: str | None,
    ) -> SendReceipt:
        relay = self._relay
        # --- envelope: refusals and failures here mean the relay holds no message
        try:
            # VERP: bounces go to the plus address, so they name their probe.
            # SIZE lets a relay refuse an oversized message now, while a refusal still means "not sent".
            size = [f"SIZE={len(data)}"] if smtp.supports_extension("size") else []
            await smtp.mail(probe.reply_address, options=size)
        except aiosmtplib.SMTPSenderRefused as exc:
            raise SendFailed(f"{relay} refused MAIL FROM: {_smtp_reply(exc.code, exc.message)}") from exc
        except Exception as exc:
            raise SendFailed(f"{relay} failed at MAIL FROM: {_describe(exc)}") from exc
        try:
            await smtp.rcpt(target)
        except aiosmtplib.SMTPRecipientRefused as exc:
            raise SendFailed(
                f"{relay} refused recipient {target}: {_smtp_reply(exc.code, exc.message)}"
            ) from exc
        except Exception as exc:
            raise SendFailed(f"{relay} failed at RCPT TO: {_describe(exc)}") from exc
        accepted = [target]
        copy_refused: str | None = None
        if copy_to is not None:
            try:
                await smtp.rcpt(copy_to)
                accepted.append(copy_to)
            except aiosmtplib.SMTPRecipientRefused as exc:
                # The inquiry itself can still go; only the proof-of-relay copy is lost.
                copy_refused = _smtp_reply(exc.code, exc.message)
                log.warning(
                    "%s refused the sent copy %s (%s); sending without it", relay, copy_to, copy_refused
                )
            except Exception as exc:
                raise SendFailed(f"{relay} failed at RCPT TO (sent copy): {_describe(exc)}") from exc

        # --- DATA command: until the first body byte is written, nothing can be delivered
        try:
            start = await smtp.execute_command(b"DATA")
        except Exception as exc:
            raise SendFailed(f"{relay} failed at DATA before the message was sent: {_describe(exc)}") from exc
        if start.code != 354:
            raise SendFailed(f"{relay} refused DATA: {_smtp_reply(start.code, start.message)}")
        protocol = smtp.protocol
        if protocol is None:
            raise SendFailed(f"{relay} disconnected before the message was sent")
        try:
            protocol.write(data)
        except Exception as exc:
            raise SendFailed(
                f"{relay} connection lost before the message was sent: {_describe(exc)}"
            ) from exc

        # --- the body is on its way: from here the relay may hold the message
        try:
            reply = await protocol.read_response(timeout=self._timeout)
        except Exception as exc:
            smtp.close()
            raise SendUncertain(
                f"no reply from {relay} after the message was sent: {_describe(exc)}"
            ) from exc
        sent_at = utcnow_ms()
        response = _smtp_reply(reply.code, reply.message)
        if reply.code == 250:
            evidence: dict[str, Any] = {
                "message_id": probe.message_id,
                "smtp_response": response,
                "relay": relay,
                "recipients_accepted": accepted,
                "sent_copy": copy_to is not None and copy_to in accepted,
            }
            if copy_refused is not None:
                evidence["sent_copy_refused"] = copy_refused
            return SendReceipt(sent_at=sent_at, clock=SEND_CLOCK, evidence=evidence)
        smtp.close()
        if 500 <= reply.code < 600:
            raise SendFailed(f"{relay} rejected the message: {response}")
        raise SendUncertain(f"{relay} answered the message with {response}")

    # ------------------------------------------------------------------------------------------ pool

    async def _checkout(self) -> tuple[aiosmtplib.SMTP, bool]:
        """A live connection (a pooled one that answers RSET, or a new one), and whether it went unchecked."""
        while self._idle:
            smtp, last_used = self._idle.pop()
            if not smtp.is_connected:
                smtp.close()
                continue
            if time.monotonic() - last_used < _FRESH_FOR:
                return smtp, True
            try:
                await smtp.rset(timeout=min(self._timeout, _REUSE_CHECK_TIMEOUT))
            except Exception as exc:
                log.debug("pooled connection to %s is dead (%s); reconnecting", self._relay, _describe(exc))
                smtp.close()
                continue
            return smtp, False
        return await self._connect(), False

    async def _connect(self) -> aiosmtplib.SMTP:
        out = self.settings.outbound
        credentials = self._login_names()
        smtp = aiosmtplib.SMTP(
            hostname=out.host,
            port=out.port,
            use_tls=out.security == "tls",
            start_tls=False,
            timeout=self._timeout,
            tls_context=self._tls_context,
        )
        step = "connect"
        try:
            await smtp.connect()
            self.connections_opened += 1
            step = "EHLO"
            await smtp.ehlo()
            if out.security == "starttls":
                step = "STARTTLS"
                await smtp.starttls()
                await smtp.ehlo()
            if credentials is not None:
                step = "AUTH"
                await smtp.login(self._env[credentials[0]], self._env[credentials[1]])
        except asyncio.CancelledError:
            smtp.close()
            raise
        except aiosmtplib.SMTPAuthenticationError as exc:
            smtp.close()
            user_var = credentials[0] if credentials else "?"
            reply = _smtp_reply(exc.code, exc.message)
            # ``from None``: the login frames hold the credentials as locals.
            raise SendFailed(f"{self._relay} refused the login (user from ${user_var}): {reply}") from None
        except Exception as exc:
            smtp.close()
            if step == "AUTH":
                # Only the type: e.g. a UnicodeEncodeError would quote part of the password.
                raise SendFailed(f"{self._relay} failed at AUTH: {type(exc).__name__}") from None
            raise SendFailed(f"{self._relay} failed at {step} ({out.security}): {_describe(exc)}") from exc
        return smtp

    def _login_names(self) -> tuple[str, str] | None:
        """Return the (username, password) variable names to log in with, or None (SendFailed if unset)."""
        out = self.settings.outbound
        if out.username_env is None and out.password_env is None:
            return None
        if out.username_env is None or out.password_env is None:
            raise SendFailed("outbound SMTP AUTH needs both username_env and password_env")
        missing = [name for name in (out.username_env, out.password_env) if not self._env.get(name)]
        if missing:
            raise SendFailed(f"outbound SMTP AUTH needs the environment variable(s) {', '.join(missing)}")
        return out.username_env, out.password_env

    # ------------------------------------------------------------------------------------------ listen

    async def listen(self, sink: InboundSink) -> None:
        """Run the configured listener (inbound SMTP server or IMAP IDLE) until cancelled."""
        if self.settings.listener == "smtp":
            host, port = self.settings.smtp.host, self.settings.smtp.port
            server = InboundSmtpServer(sink, host, port)
            try:
                await server.start()
            except OSError as exc:
                raise ChannelError(
                    f"cannot listen for replies on {host}:{port}: {exc.strerror or exc}"
                ) from exc
            self._inbound = server
            try:
                await asyncio.Future()  # until cancelled
            finally:
                self._inbound = None
                await server.stop()
            return
        imap = self.settings.imap
        if imap is None:
            raise ChannelError("listener = 'imap' needs an [email.imap] table")
        if self._cursor is None:
            raise ChannelError("the IMAP listener needs a cursor store to remember how far it has read")
        missing = [name for name in (imap.username_env, imap.password_env) if not self._env.get(name)]
        if missing:
            raise ChannelError(f"the IMAP listener needs the environment variable(s) {', '.join(missing)}")
        # Imported here: imapclient is only needed when a workspace listens with IMAP.
        from replybench.channels.imap_listener import ImapAccount, ImapListener

        account = ImapAccount(
            host=imap.host,
            port=imap.port,
            security=imap.security,
            username=self._env[imap.username_env],
            password=self._env[imap.password_env],
            mailbox=imap.mailbox,
            idle_renew=imap.idle_renew.total_seconds(),
        )
        await ImapListener(account, self._cursor).run(sink)

    # ------------------------------------------------------------------------------------------ describe

    def describe(self) -> ChannelDescription:
        """Credentials by variable name (and which are unset), the listener, and how probes leave."""
        out = self.settings.outbound
        names = [n for n in (out.username_env, out.password_env) if n]
        if self.settings.listener == "smtp":
            smtp = self.settings.smtp
            port = self._inbound.port if self._inbound is not None and self._inbound.is_serving else smtp.port
            listens_with = f"smtp {smtp.host}:{port}"
        else:
            imap = self.settings.imap
            assert imap is not None  # EmailSettings validates this
            names += [imap.username_env, imap.password_env]
            listens_with = f"imap {imap.host}:{imap.port}/{imap.mailbox}"
        credentials = tuple(dict.fromkeys(names))
        missing = tuple(n for n in credentials if not self._env.get(n))
        copy = "with" if out.sent_copy else "without"
        return ChannelDescription(
            name=self.name,
            credentials=credentials,
            missing_credentials=missing,
            listens_with=listens_with,
            concurrency=out.connections,
            notes=(
                f"sends via {self._relay} ({out.security}), up to {out.connections} connection(s), "
                f"{copy} sent copy"
            ),
        )

    # ------------------------------------------------------------------------------------------ close

    async def aclose(self) -> None:
        """Say QUIT on every pooled connection and close it; later sends fail with SendFailed."""
        self._closed = True
        idle, self._idle = self._idle, []
        for smtp, _ in idle:
            with contextlib.suppress(Exception):
                await smtp.quit(timeout=_QUIT_TIMEOUT)
            smtp.close()


def _describe(exc: BaseException) -> str:
    """Describe an SMTP or network error in one line (never with credentials)."""
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _smtp_reply(exc.code, exc.message)
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
