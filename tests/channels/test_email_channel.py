"""EmailChannel against real aiosmtpd servers on loopback: envelope, evidence, pool, outcomes, TLS, AUTH."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email
import email.policy
import ipaddress
import json
import logging
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from replybench.channels.base import Channel, InboundItem, OutboundProbe, channel_class
from replybench.channels.email import EmailChannel
from replybench.errors import ChannelError, SendFailed, SendUncertain
from replybench.models import (
    EmailEndpoint,
    EmailIdentity,
    EmailSettings,
    Endpoints,
    ImapInbound,
    Persona,
    SmtpInbound,
    SmtpOutbound,
    Target,
)
from replybench.netutil import free_port
from replybench.tokens import message_id_for, new_token, plus_address
from tests.asynctest import async_test

P = ParamSpec("P")
R = TypeVar("R")

USER = "anna@probe.example"
PASSWORD = "correct horse battery staple 9$"
ENV = {"RB_SMTP_USER": USER, "RB_SMTP_PASSWORD": PASSWORD}
TARGET = "support@acme.example"
PERSONA = "anna@probe.example"


def make_probe(
    *, subject: str = "Where is my parcel?", token: str | None = None, **persona: Any
) -> OutboundProbe:
    token = token or new_token()
    target = Target(id="acme", name="Acme", endpoints=Endpoints(email=EmailEndpoint(address=TARGET)))
    identity = EmailIdentity(address=PERSONA, **persona)
    return OutboundProbe(
        probe_id=f"probe-{token}",
        token=token,
        target=target,
        persona=Persona(id="anna", display_name="Anna Example", email=identity),
        subject=subject,
        body="Hello,\n.\nwhen will my order arrive?\n\nAnna\n",
        message_id=message_id_for(token, "probe.example"),
        reply_address=plus_address(PERSONA, token),
    )


# ------------------------------------------------------------------------------------------ test server


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    at: dt.datetime
    authenticated: bool


@dataclass
class Behaviour:
    """How the test server answers (defaults: accept everything)."""

    mail_reply: str | None = None
    rcpt_reply: Callable[[str], str | None] = lambda address: None
    data_command_reply: str | None = None
    data_delay: float = 0.0
    data_reply: str = "250 2.0.0 Ok: queued as 4F2A9"
    drop_after_data: bool = False
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)


class Recorder:
    """aiosmtpd handler: records every message that reaches the end of DATA."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.messages: list[Received] = []

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.behaviour.mail_reply:
            return self.behaviour.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self.behaviour.rcpt_reply(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert envelope.original_content is not None
        self.messages.append(
            Received(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                data=envelope.original_content,
                at=dt.datetime.now(dt.UTC),
                authenticated=bool(session.authenticated),
            )
        )
        if self.behaviour.data_delay:
            await asyncio.sleep(self.behaviour.data_delay)
        if self.behaviour.drop_after_data:
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()
        return self.behaviour.data_reply


class _ServerSMTP(SMTP):
    data_command_reply: str | None = None

    async def smtp_DATA(self, arg: str) -> None:
        if self.data_command_reply is not None:
            await self.push(self.data_command_reply)
            return
        await super().smtp_DATA(arg)


class SmtpTestServer:
    """A real aiosmtpd server on a free loopback port, run in the test's event loop."""

    def __init__(
        self,
        behaviour: Behaviour | None = None,
        *,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        auth: bool = False,
    ) -> None:
        self.behaviour = behaviour or Behaviour()
        self.handler = Recorder(self.behaviour)
        self.tls = tls
        self.implicit_tls = implicit_tls
        self.auth = auth
        self.connections = 0
        self.open_sessions = 0
        self.max_open_sessions = 0
        self.protocols: list[_ServerSMTP] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.behaviour.logins.append((data.login, data.password))
        ok = data.login == USER.encode() and data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)

    def _factory(self) -> _ServerSMTP:
        starttls = self.tls is not None and not self.implicit_tls
        protocol = _ServerSMTP(
            self.handler,
            hostname="mx.test",
            tls_context=self.tls if starttls else None,
            require_starttls=starttls,
            authenticator=self.authenticate if self.auth else None,
            auth_required=self.auth and starttls,
            # aiosmtpd cannot tell that an implicit-TLS socket is encrypted; it is.
            auth_require_tls=not self.implicit_tls,
            loop=asyncio.get_running_loop(),
        )
        protocol.data_command_reply = self.behaviour.data_command_reply
        original_made, original_lost = protocol.connection_made, protocol.connection_lost

        def made(transport: asyncio.BaseTransport) -> None:
            if protocol.transport is None:
                self.connections += 1
                self.open_sessions += 1
                self.max_open_sessions = max(self.max_open_sessions, self.open_sessions)
            original_made(transport)

        def lost(error: Exception | None) -> None:
            self.open_sessions -= 1
            original_lost(error)

        protocol.connection_made = made  # type: ignore[method-assign]
        protocol.connection_lost = lost  # type: ignore[method-assign]
        self.protocols.append(protocol)
        return protocol

    async def __aenter__(self) -> SmtpTestServer:
        loop = asyncio.get_running_loop()
        ssl_ctx = self.tls if self.implicit_tls else None
        self._server = await loop.create_server(self._factory, "127.0.0.1", 0, ssl=ssl_ctx)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        tasks = [p._handler_coroutine for p in self.protocols if p._handler_coroutine is not None]
        for task in tasks:
            task.cancel()
        self.drop_sessions()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()

    def drop_sessions(self) -> None:
        """Close every open session from the server side (like an idle timeout)."""
        for p in self.protocols:
            if p.transport is not None:
                p.transport.close()


def settings_for(server: SmtpTestServer, **outbound: Any) -> EmailSettings:
    values: dict[str, Any] = {"host": "127.0.0.1", "port": server.port, "security": "none", "timeout": 5}
    values.update(outbound)
    return EmailSettings(outbound=SmtpOutbound(**values))


def parse(raw: bytes) -> email.message.EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, email.message.EmailMessage)
    return msg


# ------------------------------------------------------------------------------------------ TLS material


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost: (cert.pem, key.pem)."""
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError:
        openssl = shutil.which("openssl")
        if openssl is None:
            pytest.skip(
                "neither the cryptography package nor the openssl CLI is available to make a certificate"
            )
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(key_path), "-out", str(cert_path), "-days", "2", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*certificate)
    return ctx


@pytest.fixture
def client_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


# ------------------------------------------------------------------------------------------ happy path


def test_is_a_registered_channel() -> None:
    channel = EmailChannel(EmailSettings(), env={})
    assert isinstance(channel, Channel)
    assert channel.name == "email"
    assert channel_class("email") is EmailChannel


@async_test
async def test_send_delivers_one_message_with_the_right_envelope_and_evidence() -> None:
    probe = make_probe()
    async with SmtpTestServer(Behaviour(data_delay=0.15)) as server:
        channel = EmailChannel(settings_for(server), env={})
        before = dt.datetime.now(dt.UTC)
        receipt = await channel.send(probe)
        after = dt.datetime.now(dt.UTC)
        await channel.aclose()

    (got,) = server.messages
    copy = plus_address(PERSONA, probe.token, suffix="sent")
    assert got.mail_from == probe.reply_address  # VERP: bounces carry the token
    assert got.rcpt_tos == [TARGET, copy]
    msg = parse(got.data)
    assert msg["Message-ID"] == probe.message_id
    assert "Bcc" not in msg
    assert b"sent@" not in got.data  # the blind copy is envelope-only
    assert msg["From"].addresses[0].addr_spec == probe.reply_address
    assert msg["Reply-To"].addresses[0].addr_spec == probe.reply_address
    assert [a.addr_spec for a in msg["To"].addresses] == [TARGET]
    body = msg.get_content()
    assert isinstance(body, str)
    assert body.replace("\r\n", "\n") == probe.body  # the lone "." line survived dot-stuffing

    assert receipt.clock == "smtp-250"
    assert receipt.sent_at.utcoffset() == dt.timedelta(0)
    assert receipt.sent_at.microsecond % 1000 == 0
    # sent_at is when the 250 came back (after the server's 150 ms pause), not when sending started
    assert receipt.sent_at >= got.at.replace(microsecond=got.at.microsecond // 1000 * 1000)
    assert receipt.sent_at - got.at >= dt.timedelta(milliseconds=140)
    assert before <= receipt.sent_at <= after
    assert receipt.evidence == {
        "message_id": probe.message_id,
        "smtp_response": "250 2.0.0 Ok: queued as 4F2A9",
        "relay": f"127.0.0.1:{server.port}",
        "recipients_accepted": [TARGET, copy],
        "sent_copy": True,
    }
    json.dumps(receipt.evidence)  # storable as is


@async_test
async def test_without_sent_copy_and_without_token_in_from() -> None:
    probe = make_probe(token_in_from=False)
    async with SmtpTestServer() as server:
        channel = EmailChannel(settings_for(server, sent_copy=False), env={})
        receipt = await channel.send(probe)
        await channel.aclose()
    (got,) = server.messages
    assert got.rcpt_tos == [TARGET]
    assert got.mail_from == probe.reply_address
    msg = parse(got.data)
    assert msg["From"].addresses[0].addr_spec == PERSONA
    assert msg["Reply-To"].addresses[0].addr_spec == probe.reply_address
    assert receipt.evidence["sent_copy"] is False
    assert receipt.evidence["recipients_accepted"] == [TARGET]


@async_test
async def test_refused_sent_copy_does_not_stop_the_probe() -> None:
    behaviour = Behaviour(rcpt_reply=lambda a: "550 5.1.1 no such user" if ".sent@" in a else None)
    probe = make_probe()
    async with SmtpTestServer(behaviour) as server:
        channel = EmailChannel(settings_for(server), env={})
        receipt = await channel.send(probe)
        await channel.aclose()
    (got,) = server.messages
    assert got.rcpt_tos == [TARGET]
    assert receipt.evidence["sent_copy"] is False
    assert receipt.evidence["recipients_accepted"] == [TARGET]
    assert receipt.evidence["sent_copy_refused"] == "550 5.1.1 no such user"


# ------------------------------------------------------------------------------------------ pool


@async_test
async def test_sequential_sends_reuse_one_connection() -> None:
    async with SmtpTestServer() as server:
        channel = EmailChannel(settings_for(server, connections=4), env={})
        for _ in range(5):
            await channel.send(make_probe())
        assert server.connections == 1
        assert channel.connections_opened == 1
        await channel.aclose()
        await asyncio.sleep(0.05)
        assert server.open_sessions == 0  # aclose said QUIT
    assert len(server.messages) == 5


@async_test
async def test_concurrent_sends_use_at_most_the_pool_size() -> None:
    async with SmtpTestServer(Behaviour(data_delay=0.05)) as server:
        channel = EmailChannel(settings_for(server, connections=3), env={})
        probes = [make_probe() for _ in range(12)]
        receipts = await asyncio.gather(*(channel.send(p) for p in probes))
        await channel.aclose()
    assert 1 <= server.connections <= 3
    assert server.max_open_sessions <= 3
    assert len(server.messages) == 12
    assert {parse(m.data)["Message-ID"] for m in server.messages} == {p.message_id for p in probes}
    assert [r.evidence["message_id"] for r in receipts] == [p.message_id for p in probes]


@async_test
async def test_dead_pooled_connection_is_replaced() -> None:
    async with SmtpTestServer() as server:
        channel = EmailChannel(settings_for(server, connections=1), env={})
        await channel.send(make_probe())
        server.drop_sessions()  # e.g. the relay's idle timeout
        await asyncio.sleep(0.05)
        await channel.send(make_probe())
        await channel.aclose()
    assert server.connections == 2
    assert len(server.messages) == 2


@async_test
async def test_closed_channel_refuses_to_send() -> None:
    async with SmtpTestServer() as server:
        channel = EmailChannel(settings_for(server), env={})
        await channel.aclose()
        with pytest.raises(SendFailed, match="closed"):
            await channel.send(make_probe())
    assert server.connections == 0


# ------------------------------------------------------------------------------------------ outcome mapping


@async_test
async def test_connection_refused_is_send_failed() -> None:
    port = free_port()
    settings = EmailSettings(outbound=SmtpOutbound(host="127.0.0.1", port=port, security="none", timeout=2))
    channel = EmailChannel(settings, env={})
    with pytest.raises(SendFailed, match=f"127.0.0.1:{port}"):
        await channel.send(make_probe())


@async_test
async def test_sender_refused_is_send_failed() -> None:
    async with SmtpTestServer(Behaviour(mail_reply="553 5.7.1 sender not allowed")) as server:
        channel = EmailChannel(settings_for(server), env={})
        with pytest.raises(SendFailed, match=r"553 5\.7\.1"):
            await channel.send(make_probe())
        await channel.aclose()
    assert server.messages == []


@pytest.mark.parametrize("reply", ["550 5.1.1 unknown user", "450 4.2.1 mailbox busy"])
@async_test
async def test_recipient_refused_is_send_failed(reply: str) -> None:
    async with SmtpTestServer(Behaviour(rcpt_reply=lambda a: reply if a == TARGET else None)) as server:
        channel = EmailChannel(settings_for(server), env={})
        with pytest.raises(SendFailed, match=reply):
            await channel.send(make_probe())
        # the channel recovers: the next probe goes through on a fresh connection
        server.behaviour.rcpt_reply = lambda a: None
        await channel.send(make_probe())
        await channel.aclose()
    assert len(server.messages) == 1


@pytest.mark.parametrize("reply", ["554 5.5.1 no valid recipients", "451 4.3.0 not now"])
@async_test
async def test_refused_data_command_is_send_failed(reply: str) -> None:
    # Refused before the 354: no byte of the message was sent, so it certainly was not delivered.
    async with SmtpTestServer(Behaviour(data_command_reply=reply)) as server:
        channel = EmailChannel(settings_for(server), env={})
        with pytest.raises(SendFailed, match=reply.split()[0]):
            await channel.send(make_probe())
        await channel.aclose()
    assert server.messages == []


@async_test
async def test_554_to_the_message_is_send_failed() -> None:
    async with SmtpTestServer(Behaviour(data_reply="554 5.7.1 rejected as spam")) as server:
        channel = EmailChannel(settings_for(server), env={})
        with pytest.raises(SendFailed, match=r"554 5\.7\.1 rejected as spam"):
            await channel.send(make_probe())
        await channel.aclose()


@async_test
async def test_4xx_to_the_message_is_send_uncertain() -> None:
    async with SmtpTestServer(Behaviour(data_reply="451 4.3.0 queue trouble")) as server:
        channel = EmailChannel(settings_for(server), env={})
        with pytest.raises(SendUncertain, match=r"451 4\.3\.0"):
            await channel.send(make_probe())
        await channel.aclose()


@async_test
async def test_server_hanging_after_the_message_is_send_uncertain() -> None:
    async with SmtpTestServer(Behaviour(data_delay=5)) as server:
        channel = EmailChannel(settings_for(server, timeout=0.3), env={})
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(SendUncertain, match="no reply"):
            await channel.send(make_probe())
        assert loop.time() - started < 2
        # the relay did get the whole message: exactly why this must never be retried automatically
        assert len(server.messages) == 1
        # the desynchronised connection is not reused
        server.behaviour.data_delay = 0
        await channel.send(make_probe())
        assert server.connections == 2
        await channel.aclose()


@async_test
async def test_disconnect_after_the_message_is_send_uncertain() -> None:
    async with SmtpTestServer(Behaviour(drop_after_data=True)) as server:
        channel = EmailChannel(settings_for(server), env={})
        with pytest.raises(SendUncertain):
            await channel.send(make_probe())
        await channel.aclose()
    assert len(server.messages) == 1


@async_test
async def test_header_injection_fails_before_connecting() -> None:
    async with SmtpTestServer() as server:
        channel = EmailChannel(settings_for(server), env={})
        with pytest.raises(SendFailed, match="Subject"):
            await channel.send(make_probe(subject="Hi\r\nBcc: everyone@example.com"))
        await channel.aclose()
    assert server.connections == 0


@async_test
async def test_target_without_email_is_send_failed() -> None:
    probe = make_probe()
    probe = OutboundProbe(**{**probe.__dict__, "target": Target(id="acme", name="Acme")})
    channel = EmailChannel(EmailSettings(), env={})
    with pytest.raises(SendFailed, match="no email"):
        await channel.send(probe)


# ------------------------------------------------------------------------------------------ TLS and AUTH


def _assert_secret_absent(caplog: pytest.LogCaptureFixture, *texts: str) -> None:
    secrets = [PASSWORD, base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()]
    for record in caplog.records:
        line = record.getMessage() + (record.exc_text or "")
        for secret in secrets:
            assert secret not in line, f"secret in log record {record.name}: {line!r}"
    for text in texts:
        for secret in secrets:
            assert secret not in text


@pytest.mark.parametrize("security", ["starttls", "tls"])
@async_test
async def test_tls_with_auth_from_env(
    security: str,
    server_tls: ssl.SSLContext,
    client_tls: ssl.SSLContext,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    probe = make_probe()
    async with SmtpTestServer(tls=server_tls, implicit_tls=security == "tls", auth=True) as server:
        settings = settings_for(
            server, security=security, username_env="RB_SMTP_USER", password_env="RB_SMTP_PASSWORD"
        )
        channel = EmailChannel(settings, env=ENV, tls_context=client_tls)
        receipt = await channel.send(probe)
        await channel.send(make_probe())  # reused connection stays authenticated
        await channel.aclose()
    assert server.connections == 1
    assert server.behaviour.logins == [(USER.encode(), PASSWORD.encode())]
    assert all(m.authenticated for m in server.messages)
    assert len(server.messages) == 2
    assert receipt.evidence["smtp_response"].startswith("250")
    _assert_secret_absent(caplog, json.dumps(receipt.evidence), repr(receipt), repr(channel.describe()))


@async_test
async def test_wrong_password_is_send_failed_without_the_secret(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    env = {"RB_SMTP_USER": USER, "RB_SMTP_PASSWORD": PASSWORD + "-wrong"}
    async with SmtpTestServer(tls=server_tls, auth=True) as server:
        settings = settings_for(
            server, security="starttls", username_env="RB_SMTP_USER", password_env="RB_SMTP_PASSWORD"
        )
        channel = EmailChannel(settings, env=env, tls_context=client_tls)
        with pytest.raises(SendFailed) as failed:
            await channel.send(make_probe())
        await channel.aclose()
    assert "535" in str(failed.value)
    assert failed.value.__cause__ is None
    assert server.messages == []
    for secret in (PASSWORD, PASSWORD + "-wrong"):
        assert secret not in str(failed.value)
        assert all(secret not in r.getMessage() for r in caplog.records)


@async_test
async def test_untrusted_certificate_is_refused(server_tls: ssl.SSLContext) -> None:
    async with SmtpTestServer(tls=server_tls) as server:
        channel = EmailChannel(settings_for(server, security="starttls"), env={})  # system trust store only
        with pytest.raises(SendFailed, match="STARTTLS"):
            await channel.send(make_probe())
    assert server.messages == []


@async_test
async def test_missing_credential_variable_is_named_not_its_value() -> None:
    async with SmtpTestServer() as server:
        settings = settings_for(server, username_env="RB_SMTP_USER", password_env="RB_SMTP_PASSWORD")
        channel = EmailChannel(settings, env={"RB_SMTP_USER": "secret-user-value"})
        with pytest.raises(SendFailed) as failed:
            await channel.send(make_probe())
    assert "RB_SMTP_PASSWORD" in str(failed.value)
    assert "secret-user-value" not in str(failed.value)
    assert server.connections == 0


# ------------------------------------------------------------------------------------------ describe


def test_describe_smtp_listener() -> None:
    settings = EmailSettings(
        outbound=SmtpOutbound(username_env="RB_SMTP_USER", password_env="RB_SMTP_PASSWORD"),
        smtp=SmtpInbound(host="127.0.0.1", port=2525),
    )
    described = EmailChannel(settings, env={"RB_SMTP_USER": "u"}).describe()
    assert described.name == "email"
    assert described.credentials == ("RB_SMTP_USER", "RB_SMTP_PASSWORD")
    assert described.missing_credentials == ("RB_SMTP_PASSWORD",)
    assert described.listens_with == "smtp 127.0.0.1:2525"
    assert not described.needs_browser


def test_describe_imap_listener() -> None:
    settings = EmailSettings(
        listener="imap",
        imap=ImapInbound(host="imap.example", username_env="RB_IMAP_USER", password_env="RB_IMAP_PASSWORD"),
    )
    described = EmailChannel(settings, env={"RB_IMAP_USER": "u", "RB_IMAP_PASSWORD": "p"}).describe()
    assert described.credentials == ("RB_IMAP_USER", "RB_IMAP_PASSWORD")
    assert described.missing_credentials == ()
    assert described.listens_with == "imap imap.example:993/INBOX"


# ------------------------------------------------------------------------------------------ listen


@async_test
async def test_listen_with_the_builtin_smtp_server() -> None:
    received: list[InboundItem] = []

    async def sink(item: InboundItem) -> None:
        received.append(item)

    channel = EmailChannel(EmailSettings(smtp=SmtpInbound(host="127.0.0.1", port=0)), env={})
    task = asyncio.create_task(channel.listen(sink))
    for _ in range(200):
        if not channel.describe().listens_with.endswith(":0"):
            break
        await asyncio.sleep(0.01)
    port = int(channel.describe().listens_with.rsplit(":", 1)[1])
    assert port
    await aiosmtplib.send(
        b"Subject: Re: parcel\r\n\r\nIt ships today.\r\n",
        sender="help@acme.example",
        recipients=["anna+abcdefghjk23@probe.example"],
        hostname="127.0.0.1",
        port=port,
        start_tls=False,
    )
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (item,) = received
    assert item.clock == "smtp-receipt"
    assert item.envelope_to == ("anna+abcdefghjk23@probe.example",)
    assert item.raw.endswith(b"It ships today.\r\n")
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)


@async_test
async def test_listen_on_a_taken_port_is_a_channel_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        channel = EmailChannel(EmailSettings(smtp=SmtpInbound(host="127.0.0.1", port=port)), env={})
        with pytest.raises(ChannelError, match=f"127.0.0.1:{port}"):
            await channel.listen(_noop_sink)


def _imap_settings() -> EmailSettings:
    return EmailSettings(
        listener="imap",
        imap=ImapInbound(
            host="imap.example",
            port=1993,
            security="starttls",
            username_env="RB_IMAP_USER",
            password_env="RB_IMAP_PASSWORD",
            mailbox="Probes",
            idle_renew="10m",
        ),
    )


class _Cursor:
    def get_cursor(self, source: str) -> tuple[int, int] | None:
        return None

    def set_cursor(self, source: str, uidvalidity: int, last_uid: int) -> None:
        return None


async def _noop_sink(item: InboundItem) -> None:
    return None


@async_test
async def test_imap_listener_needs_a_cursor() -> None:
    channel = EmailChannel(_imap_settings(), env={"RB_IMAP_USER": "u", "RB_IMAP_PASSWORD": "p"})
    with pytest.raises(ChannelError, match="cursor"):
        await channel.listen(_noop_sink)


@async_test
async def test_imap_listener_names_a_missing_variable_not_a_value() -> None:
    channel = EmailChannel(_imap_settings(), env={"RB_IMAP_USER": "user-value-xyz"}, cursor=_Cursor())
    with pytest.raises(ChannelError) as failed:
        await channel.listen(_noop_sink)
    assert "RB_IMAP_PASSWORD" in str(failed.value)
    assert "user-value-xyz" not in str(failed.value)


@async_test
async def test_imap_listener_is_built_from_settings_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import replybench.channels.imap_listener as imap_listener

    seen: dict[str, Any] = {}

    class FakeListener:
        def __init__(self, account: Any, cursor: Any) -> None:
            seen["account"], seen["cursor"] = account, cursor

        async def run(self, sink: Any) -> None:
            seen["sink"] = sink

    monkeypatch.setattr(imap_listener, "ImapListener", FakeListener)
    cursor = _Cursor()
    env: Mapping[str, str] = {"RB_IMAP_USER": "anna", "RB_IMAP_PASSWORD": "imap-secret"}
    await EmailChannel(_imap_settings(), env=env, cursor=cursor).listen(_noop_sink)
    account = seen["account"]
    assert (account.host, account.port, account.security) == ("imap.example", 1993, "starttls")
    assert (account.username, account.password, account.mailbox) == ("anna", "imap-secret", "Probes")
    assert account.idle_renew == 600
    assert "imap-secret" not in repr(account)
    assert seen["cursor"] is cursor
    assert seen["sink"] is _noop_sink
