"""An in-process SMTP sink on 127.0.0.1 (aiosmtpd) that records every message it accepts, for sending tests.

AUTH (PLAIN/LOGIN) is offered when credentials are given, without TLS since it is loopback only; ``require_auth``
turns away unauthenticated senders. Messages are recorded in a thread-safe list and ``wait_for`` blocks until
enough have arrived, so a test never sleeps for a guessed delay.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import threading
import time
from collections.abc import Mapping
from typing import Any, NamedTuple, Self

from .process import INSTALL_HINT, LOOPBACK, LoopbackServer, MissingServerSoftware, free_port


class ReceivedMessage(NamedTuple):
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    def parsed(self) -> email.message.EmailMessage:
        message = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        return message


class _Recorder:
    """aiosmtpd handler: runs in the controller's thread, hands messages over under a condition variable."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.messages: list[ReceivedMessage] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        with self.condition:
            self.messages.append(ReceivedMessage(envelope.mail_from, list(envelope.rcpt_tos), content))
            self.condition.notify_all()
        return "250 OK"


class SmtpSink(LoopbackServer):
    """``with SmtpSink({"agent": "secret"}) as sink: ...send...; sink.wait_for(1)``."""

    name = "smtp-sink"

    def __init__(self, credentials: Mapping[str, str] | None = None, *, require_auth: bool = False,
                 host: str = LOOPBACK) -> None:
        if require_auth and not credentials:
            raise ValueError("require_auth needs credentials")
        self.host = host
        self.port = 0
        self.credentials = dict(credentials or {})
        self.require_auth = require_auth
        self._recorder = _Recorder()
        self._controller: Any = None

    def start(self) -> Self:
        try:
            from aiosmtpd.controller import Controller
        except ImportError as missing:
            raise MissingServerSoftware(f"Python package aiosmtpd is missing; {INSTALL_HINT}") from missing
        started = time.monotonic()
        options: dict[str, Any] = {}
        if self.credentials:
            options = {"authenticator": self._authenticate, "auth_require_tls": False,
                       "auth_required": self.require_auth}
        # Controller.start() checks readiness by connecting to the port, so port 0 cannot work: choose one first.
        self.port = free_port()
        self._controller = Controller(self._recorder, hostname=self.host, port=self.port, **options)
        self._controller.start()
        self.start_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        success = self.credentials.get(login) == auth_data.password.decode("utf-8", "replace")
        if success:
            with self._recorder.condition:
                self._recorder.logins.append(login)
        return AuthResult(success=success, handled=False)

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._recorder.condition:
            return list(self._recorder.messages)

    @property
    def logins(self) -> list[str]:
        """User names that authenticated successfully, in order."""
        with self._recorder.condition:
            return list(self._recorder.logins)

    def reset(self) -> None:
        with self._recorder.condition:
            self._recorder.messages.clear()
            self._recorder.logins.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMessage]:
        """Block until at least ``count`` messages were received; TimeoutError names how many did arrive."""
        with self._recorder.condition:
            arrived = self._recorder.condition.wait_for(lambda: len(self._recorder.messages) >= count, timeout)
            if not arrived:
                raise TimeoutError(f"SMTP sink got {len(self._recorder.messages)} of {count} messages in {timeout} s")
            return list(self._recorder.messages)
