"""Runs a private Dovecot IMAP server on 127.0.0.1 with its own config, users and Maildir tree.

The whole instance runs as one unprivileged account (``dovecot`` when we are root, ourselves otherwise): Dovecot
refuses to run its login processes as root. Each user has a one-line passwd-file that Dovecot reads on first
use, so ``add_user`` works at once while the server runs. The namespace uses "/" as separator and marks Sent,
Drafts and Trash with SPECIAL-USE, so the server advertises that capability as a real provider's would.
"""

from __future__ import annotations

import datetime as dt
import grp
import re
import signal
import socket
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import Self

from imapclient import IMAPClient

from .maildir import InternalDate, MaildirWriter
from .process import (
    LOOPBACK,
    HarnessError,
    LoopbackServer,
    ServerProcess,
    free_port,
    make_server_dir,
    require_executable,
    service_account,
)
from .tls import SelfSignedCert, make_self_signed_cert

# Dovecot's default limit on one command line; a UID list longer than this is answered "BAD Too long argument".
IMAP_MAX_LINE_LENGTH = 65536
SPECIAL_USE_FOLDERS = {"Sent": "\\Sent", "Drafts": "\\Drafts", "Trash": "\\Trash"}
MULTIAPPEND_BATCH = 1000

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/log/dovecot.log
protocols = imap
listen = {host}
ssl = {ssl}
{ssl_files}
disable_plaintext_auth = no
auth_mechanisms = plain login
# Dovecot waits 2 s before answering a failed login; tests of wrong passwords need no such brake.
auth_failure_delay = 0
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
last_valid_uid = {uid}
mail_location = maildir:~/Maildir
# Tests only: no fsync per message makes APPEND several times faster.
mail_fsync = never
passdb {{
  driver = passwd-file
  # One file per user: Dovecot re-reads a passwd-file at most once per second, so a user added to a shared
  # file in the same second as another login would stay unknown; a new file is read on first use.
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
{special_use}
}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {tls_port}
  }}
  chroot =
}}
service anvil {{
  chroot =
  # No auth penalty: after each failed login from an IP Dovecot would delay the next ones (2, 4, 8... s).
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    user = {user}
  }}
  unix_listener stats-writer {{
    user = {user}
  }}
}}
protocol imap {{
  mail_max_userip_connections = 200
}}
"""

_MAILBOX = """\
  mailbox {name} {{
    special_use = {flag}
    auto = subscribe
  }}"""

_APPENDUID = re.compile(rb"\[APPENDUID (\d+) ([0-9:,]+)\]")


def parse_uid_set(text: str) -> list[int]:
    """Expand an IMAP uid-set such as ``4:6,9`` into ``[4, 5, 6, 9]``."""
    uids: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition(":")
        first, last = int(low), int(high or low)
        uids.extend(range(min(first, last), max(first, last) + 1))
    return uids


class Dovecot(LoopbackServer):
    """A throwaway Dovecot: ``with Dovecot(dir) as imap: imap.add_user(...); imap.write_messages(...)``."""

    name = "dovecot"

    def __init__(self, root: Path, *, tls: bool = False, host: str = LOOPBACK) -> None:
        self.root = root
        self.host = host
        self.tls = tls
        self.port = 0
        self.tls_port = 0
        self.users: dict[str, str] = {}
        self.cert: SelfSignedCert | None = None
        self.account = service_account("dovecot")
        self.mail = MaildirWriter(root / "home", self.account)
        self._process: ServerProcess | None = None
        self._groups: set[int] = set()

    # ---- life cycle -------------------------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.root / "log" / "dovecot.log"

    @property
    def cert_path(self) -> Path:
        if self.cert is None:
            raise HarnessError("this Dovecot was started without tls=True")
        return self.cert.cert_path

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's self-signed certificate."""
        if self.cert is None:
            raise HarnessError("this Dovecot was started without tls=True")
        return self.cert.client_context()

    def start(self) -> Self:
        binary = require_executable("dovecot", "dovecot-imapd")
        if self._process is None:
            self._prepare(binary)
        assert self._process is not None
        try:
            self._process.start()
            self._groups.add(self._process.pid or 0)
            self.start_seconds = self._process.wait_until(self._greets)
        except BaseException:
            self._process.stop()
            raise
        return self

    def stop(self) -> None:
        if self._process is not None:
            # Signalled alone, the master waits about a second for its children; all at once, it exits in ms.
            self._process.stop(signal.SIGTERM, whole_group=True)

    def restart(self) -> None:
        """Stop gracefully and start again on the same ports with the same users and mail."""
        self.stop()
        self.start()

    def kill(self) -> None:
        """Crash the server (SIGKILL to all its processes); ``start()`` brings it back on the same ports."""
        if self._process is not None:
            self._process.kill()

    def running(self) -> bool:
        return self._process is not None and self._process.running()

    def process_groups(self) -> set[int]:
        return set(self._groups)

    def _prepare(self, binary: str) -> None:
        for sub in ("run", "state", "log", "home"):
            make_server_dir(self.root / sub)
        self.port = free_port()
        self.tls_port = free_port() if self.tls else 0
        ssl_files = ""
        if self.tls:
            self.cert = make_self_signed_cert(self.root / "tls")
            ssl_files = f"ssl_cert = <{self.cert.cert_path}\nssl_key = <{self.cert.key_path}"
        special_use = "\n".join(_MAILBOX.format(name=name, flag=flag) for name, flag in SPECIAL_USE_FOLDERS.items())
        group_name = _group_name(self.account.gid)
        self.config_path.write_text(_CONFIG.format(
            root=self.root, host=self.host, ssl="yes" if self.tls else "no", ssl_files=ssl_files,
            user=self.account.name, group=group_name, uid=self.account.uid, gid=self.account.gid,
            special_use=special_use, port=self.port, tls_port=self.tls_port))
        make_server_dir(self.root / "users")
        self.account.give(self.root)
        command = [*self.account.run_prefix(), binary, "-F", "-c", str(self.config_path)]
        self._process = ServerProcess(self.name, command, self.root / "log" / "stdout.log")

    def _greets(self) -> bool:
        """Ready means a real IMAP greeting, not just a listening socket (the master binds before imap-login runs)."""
        try:
            with socket.create_connection((self.host, self.port), timeout=2) as conn:
                return conn.recv(64).startswith(b"* OK")
        except OSError:
            return False

    # ---- users and clients ------------------------------------------------------------------------------------
    def add_user(self, name: str, password: str) -> None:
        """Add a login, usable at once, also while the server runs."""
        for value in (name, password):
            if not value or any(char in value for char in ":/\n\r") or value.startswith("."):
                raise ValueError(f"user name and password must be non-empty, without ':', '/', line breaks or a "
                                 f"leading '.': {value!r}")
        if name in self.users:
            raise ValueError(f"IMAP user {name!r} already exists")
        staging = self.root / "users" / f".{name}.new"
        staging.write_text(f"{name}:{{PLAIN}}{password}\n")
        self.account.give(staging)
        # Renamed into place so the auth process never reads a half-written file.
        staging.rename(self.root / "users" / name)
        self.users[name] = password

    def connect(self, user: str, *, tls: bool = False, starttls: bool = False, timeout: float = 30) -> IMAPClient:
        """A logged-in IMAPClient for ``user``: plain, implicit TLS (``tls``) or STARTTLS on the plain port."""
        if tls:
            client = IMAPClient(self.host, self.tls_port, ssl=True, ssl_context=self.ssl_context(), timeout=timeout)
        else:
            client = IMAPClient(self.host, self.port, ssl=False, timeout=timeout)
            if starttls:
                client.starttls(self.ssl_context())
        client.login(user, self.users[user])
        return client

    # ---- fixtures ---------------------------------------------------------------------------------------------
    def write_messages(self, user: str, folder: str, messages: Sequence[bytes], *,
                       internal_dates: Sequence[InternalDate] | None = None, seen: bool = False) -> list[Path]:
        """Fast fixture: files straight into the Maildir; UIDs follow list order, INTERNALDATE = given dates."""
        return self.mail.write_messages(user, folder, messages, internal_dates=internal_dates, seen=seen)

    def multiappend(self, user: str, folder: str, messages: Sequence[bytes], *, seen: bool = False,
                    internal_dates: Sequence[InternalDate] | None = None) -> list[int]:
        """Append through IMAP MULTIAPPEND (creating the folder if needed); returns the assigned UIDs in order."""
        if internal_dates is not None and len(internal_dates) != len(messages):
            raise ValueError(f"{len(internal_dates)} internal_dates for {len(messages)} messages")
        flags = ["\\Seen"] if seen else []
        uids: list[int] = []
        client = self.connect(user)
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for start in range(0, len(messages), MULTIAPPEND_BATCH):
                batch = []
                for index in range(start, min(start + MULTIAPPEND_BATCH, len(messages))):
                    item: dict[str, object] = {"msg": messages[index], "flags": flags}
                    when = _aware_datetime(internal_dates[index]) if internal_dates is not None else None
                    if when is not None:
                        item["date"] = when
                    batch.append(item)
                response = _response_bytes(client.multiappend(folder, batch))
                found = _APPENDUID.search(response)
                if found is None:
                    raise HarnessError(f"MULTIAPPEND into {folder!r} returned no APPENDUID: {response!r}")
                uids.extend(parse_uid_set(found.group(2).decode()))
        finally:
            client.logout()
        return uids

    def status(self, user: str, folder: str) -> dict[bytes, int]:
        client = self.connect(user)
        try:
            return dict(client.folder_status(folder, ["MESSAGES", "UIDNEXT", "UIDVALIDITY"]))
        finally:
            client.logout()

    def set_uidvalidity_change(self, user: str, folder: str) -> tuple[int, int]:
        """Make the server give ``folder`` a new UIDVALIDITY with the same messages, as after a server-side rebuild.

        Dovecot keeps UIDVALIDITY and the UID map in its index and dovecot-uidlist; without them it renumbers the
        messages from 1 in file-name order under a fresh UIDVALIDITY. Returns (old, new).
        """
        old = self.status(user, folder)[b"UIDVALIDITY"]
        path = self.mail.folder_path(user, folder)
        stale = [*path.glob("dovecot-uidlist*"), *path.glob("dovecot.index*")]
        # The mailbox-list index caches each folder's UIDVALIDITY for STATUS; it is rebuilt from the folders.
        stale += list(self.mail.maildir(user).glob("dovecot.list.index*"))
        for file in stale:
            file.unlink(missing_ok=True)
        new = self.status(user, folder)[b"UIDVALIDITY"]
        if new == old:
            raise HarnessError(f"UIDVALIDITY of {user}/{folder} did not change ({old})")
        return old, new


def _aware_datetime(when: InternalDate) -> dt.datetime | None:
    if when is None or isinstance(when, dt.datetime) and when.tzinfo is not None:
        return when
    if isinstance(when, dt.datetime):
        return when.replace(tzinfo=dt.UTC)
    return dt.datetime.fromtimestamp(when, tz=dt.UTC)


def _response_bytes(response: object) -> bytes:
    """IMAPClient hands back the tagged response as bytes, str or a sequence of them, depending on the command."""
    if isinstance(response, bytes):
        return response
    if isinstance(response, str):
        return response.encode()
    if isinstance(response, (list, tuple)):
        return b" ".join(_response_bytes(part) for part in response)
    return repr(response).encode()


def _group_name(gid: int) -> str:
    return grp.getgrgid(gid).gr_name
