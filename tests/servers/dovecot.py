"""A real, throw-away Dovecot (IMAP + LMTP on 127.0.0.1) for tests, and the ``dovecot`` pytest fixture.

Use it from a conftest with ``pytest_plugins = ["tests.servers.dovecot"]`` (or from a test module).
The fixture skips only when the ``dovecot`` binary is not installed (Debian: ``dovecot-imapd
dovecot-lmtpd``). Everything lives in a fresh temporary directory, binds 127.0.0.1 on free ports
chosen at run time, and the server is stopped at teardown.

Works as root (mail owned by Debian's ``mail`` user, uid 8, since Dovecot refuses uid 0 for mail)
and as an ordinary user (every Dovecot user setting is the invoking user, no chroot).

The server runs with ``TZ`` set to a non-UTC zone (UTC+05:45 by default) so that code which ignores
the offset of an INTERNALDATE is caught by tests.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

from replybench.netutil import free_port

HOST = "127.0.0.1"
#: POSIX TZ string (no tzdata needed): UTC+05:45, an offset that neither UTC nor whole-hour zones share.
DEFAULT_SERVER_TZ = "NPT-5:45"
DEFAULT_USERS: Mapping[str, str] = {"alice": "alice-secret", "bob": "bob-secret"}


def dovecot_binary() -> str | None:
    """Path of the dovecot binary, or None (it lives in /usr/sbin, which a non-root PATH may lack)."""
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)), None
    )


def doveadm_binary() -> str:
    """Path of the doveadm binary."""
    return shutil.which("doveadm") or "/usr/bin/doveadm"


def make_message(
    *,
    to: str,
    subject: str = "test",
    body: str = "hello\n",
    sender: str = "support@company.example",
    message_id: str | None = None,
) -> bytes:
    """A small RFC 5322 message as bytes (CRLF line ends), with a fresh Message-ID unless given."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="company.example")
    msg.set_content(body)
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def _group_alive(pgid: int) -> bool:
    """Whether process group ``pgid`` has a member that is not a zombie (zombies hold no ports or files)."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: a zombie counts as alive, so this may wait until the timeout
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # fields: state, ppid, pgrp, ...
            return True
    return False


def _end_group(pgid: int, sig: signal.Signals, wait: float) -> None:
    """Send ``sig`` to process group ``pgid`` (one we created) and wait until none of it runs."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.02)


class DovecotServer:
    """One Dovecot instance in its own directory: start, stop, restart, deliver over LMTP, kick users."""

    make_message = staticmethod(make_message)

    def __init__(
        self,
        root: Path,
        users: Mapping[str, str] = DEFAULT_USERS,
        *,
        server_tz: str | None = DEFAULT_SERVER_TZ,
    ) -> None:
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError("dovecot is not installed")
        self.binary = binary
        self.root = root
        self.users = dict(users)
        self.server_tz = server_tz
        self.host = HOST
        self.imap_port = 0
        self.lmtp_port = 0
        self.conf_path = root / "dovecot.conf"
        self.log_path = root / "dovecot.log"
        self.base_dir = root / "run"
        self.mail_root = root / "mail"
        self._proc: subprocess.Popen[bytes] | None = None
        self._as_root = os.geteuid() == 0

    # ----------------------------------------------------------------------------------------- config

    def _write_config(self) -> None:
        root = self.root
        for d in (self.base_dir, root / "state", self.mail_root):
            d.mkdir(parents=True, exist_ok=True)
        passwd = root / "passwd"
        passwd.write_text("".join(f"{name}:{{PLAIN}}{pw}::::::\n" for name, pw in self.users.items()))
        passwd.chmod(0o644)  # read by the auth process, which runs as the internal user
        if self._as_root:
            mail = pwd.getpwnam("mail")
            uid, gid = mail.pw_uid, mail.pw_gid
            login_user, internal_user = "dovenull", "dovecot"
            internal_group = grp.getgrgid(pwd.getpwnam("dovecot").pw_gid).gr_name
            os.chown(self.mail_root, uid, gid)
        else:
            uid, gid = os.getuid(), os.getgid()
            login_user = internal_user = pwd.getpwuid(uid).pw_name
            internal_group = grp.getgrgid(gid).gr_name
        self.conf_path.write_text(
            f"""\
instance_name = replybench-test-{os.getpid()}-{id(self):x}
base_dir = {self.base_dir}
state_dir = {root / "state"}
log_path = {self.log_path}
info_log_path = {self.log_path}
listen = {HOST}
protocols = imap lmtp
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
auth_username_format = %Ln
mail_location = maildir:{self.mail_root}/%n/Maildir
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
mail_max_userip_connections = 100
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
import_environment = TZ
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%n {passwd}
  default_fields = uid={uid} gid={gid} home={self.mail_root}/%n
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {HOST}
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = {HOST}
    port = {self.lmtp_port}
  }}
}}
service anvil {{
  chroot =
}}
"""
        )

    # ----------------------------------------------------------------------------------------- lifecycle

    @property
    def running(self) -> bool:
        """Whether the master process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Start Dovecot (in the foreground, as our child) and wait until IMAP and LMTP accept connections.

        Ports are chosen on the first start and kept across restarts; a port taken in the meantime
        by someone else is retried with fresh ports (first start only).
        """
        if self.running:
            return
        first = self.imap_port == 0
        for attempt in range(5):
            if first:
                self.imap_port, self.lmtp_port = free_port(), free_port()
            self._write_config()
            env = dict(os.environ)
            if self.server_tz is not None:
                env["TZ"] = self.server_tz
            self._proc = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.conf_path)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group, so cleanup can end exactly its processes
            )
            if self._wait_ready(timeout):
                return
            err = self._collect_failure()
            if not first or attempt == 4 or "in use" not in err:
                raise RuntimeError(f"dovecot did not start:\n{err}")
        raise AssertionError("unreachable")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        pending = [self.imap_port, self.lmtp_port]
        while pending and time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            try:
                with socket.create_connection((HOST, pending[0]), timeout=1.0) as s:
                    s.settimeout(2.0)
                    if s.recv(200):  # a greeting (IMAP "* OK", LMTP "220") means the service is up
                        pending.pop(0)
                        continue
            except OSError:
                pass
            time.sleep(0.02)
        return not pending

    def _collect_failure(self) -> str:
        stderr = b""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                _, stderr = self._proc.communicate(timeout=5)
            self._proc = None
        return stderr.decode(errors="replace") + self.log_text()[-4000:]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop Dovecot (SIGTERM to the master, then wait for it and its children to exit)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        # The master does not wait for busy mail processes: an IMAP process in IDLE would linger ~10 s
        # on the old instance. End what is left of our own process group, as a real restart would.
        _end_group(proc.pid, signal.SIGTERM, wait=3.0)
        _end_group(proc.pid, signal.SIGKILL, wait=2.0)
        if proc.stderr is not None:
            proc.stderr.close()

    def kill(self) -> None:
        """End Dovecot at once: SIGKILL to its own process group (the master and every service it forked)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)  # reap the master first: as a zombie it would keep the group alive
        _end_group(proc.pid, signal.SIGKILL, wait=2.0)
        if proc.stderr is not None:
            proc.stderr.close()

    def restart(self) -> None:
        """Stop and start again on the same ports."""
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """End the server (fast: its data is about to go) and delete its directory."""
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    # ----------------------------------------------------------------------------------------- helpers

    def log_text(self) -> str:
        """Dovecot's own log so far (handy in assertion messages)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def maildir(self, user: str) -> Path:
        """The user's Maildir (INBOX)."""
        return self.mail_root / user / "Maildir"

    def deliver(self, rcpt: str, message: bytes, mail_from: str = "support@company.example") -> None:
        """Deliver one message over LMTP; returns once Dovecot has stored it (INTERNALDATE = now)."""
        with smtplib.LMTP(HOST, self.lmtp_port, timeout=10) as lmtp:
            refused = lmtp.sendmail(mail_from, [rcpt], message)
        if refused:
            raise RuntimeError(f"LMTP refused {refused}")

    def doveadm(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``doveadm -c CONF ARGS`` against this instance."""
        return subprocess.run(
            [doveadm_binary(), "-c", str(self.conf_path), *args],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )

    def kick(self, user: str) -> None:
        """Drop every IMAP connection of ``user`` (``doveadm kick``)."""
        result = self.doveadm("kick", user)
        if result.returncode not in (0, 68):  # 68: no such user connected
            raise RuntimeError(f"doveadm kick failed: {result.returncode} {result.stderr}")

    def imap_pids(self, user: str) -> list[int]:
        """PIDs of ``user``'s IMAP processes (``doveadm who``), all in this instance's process group."""
        out = self.doveadm("who", "-1", user).stdout.splitlines()
        pids = [
            int(cols[2])
            for cols in (line.split() for line in out[1:])
            if len(cols) >= 3 and cols[2].isdigit()
        ]
        pgid = self._proc.pid if self._proc is not None else -1
        return [pid for pid in pids if os.getpgid(pid) == pgid]

    def crash_imap(self, user: str) -> int:
        """SIGKILL ``user``'s IMAP processes: the connection ends without BYE, as on a network failure."""
        pids = self.imap_pids(user)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return len(pids)

    def reset_uidvalidity(self, user: str) -> None:
        """Recreate the user's INBOX identity: stop, delete dovecot-uidlist and indexes, start.

        The messages stay, but Dovecot assigns a new UIDVALIDITY and renumbers them from 1.
        """
        was_running = self.running
        self.stop()
        md = self.maildir(user)
        for f in md.glob("dovecot*"):
            if f.is_file() and f.name != "dovecot-uidvalidity":
                f.unlink()
        if was_running:
            self.start()


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    """A running Dovecot with users alice/bob (see DEFAULT_USERS); stopped and deleted at teardown."""
    if dovecot_binary() is None:
        pytest.skip("dovecot is not installed (Debian: apt-get install dovecot-imapd dovecot-lmtpd)")
    # Not pytest's tmp_path: its parents are mode 0700, which the mail user (uid 8) cannot traverse.
    root = Path(tempfile.mkdtemp(prefix="replybench-dovecot-"))
    root.chmod(0o755)
    server = DovecotServer(root)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()
