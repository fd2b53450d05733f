"""Real servers on 127.0.0.1 for the test suite and the benchmarks, each started and stopped by the caller.

Every server is a small class with ``start()``/``stop()`` and ``with`` support; it keeps its config and logs in
its own directory under one short base directory (``make_base_dir()``, because of unix-socket path limits) and
leaves no process behind (``leftover_processes()`` proves it). Importable as ``tests.harness`` from pytest and from
scripts run at the repository root.
"""

from .browser import CHROMIUM_ARGS, CHROMIUM_EXECUTABLE, chromium_launch_args, require_chromium
from .dovecot import IMAP_MAX_LINE_LENGTH, SPECIAL_USE_FOLDERS, Dovecot, parse_uid_set
from .fault_proxy import FaultProxy
from .maildir import MaildirWriter, maildir_folder_dirname
from .postgres import Postgres
from .process import (
                      INSTALL_HINT,
                      LOOPBACK,
                      HarnessError,
                      LoopbackServer,
                      MissingServerSoftware,
                      free_port,
                      leftover_processes,
                      make_base_dir,
)
from .radicale import Radicale
from .smtp_sink import ReceivedMessage, SmtpSink
from .tls import SelfSignedCert, make_self_signed_cert
from .xandikos import Xandikos

__all__ = [
    "CHROMIUM_ARGS", "CHROMIUM_EXECUTABLE", "Dovecot", "FaultProxy", "HarnessError", "IMAP_MAX_LINE_LENGTH",
    "INSTALL_HINT", "LOOPBACK", "LoopbackServer", "MaildirWriter", "MissingServerSoftware", "Postgres", "Radicale",
    "ReceivedMessage", "SPECIAL_USE_FOLDERS", "SelfSignedCert", "SmtpSink", "Xandikos", "chromium_launch_args",
    "free_port", "leftover_processes", "maildir_folder_dirname", "make_base_dir", "make_self_signed_cert",
    "parse_uid_set", "require_chromium",
]
