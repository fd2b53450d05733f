"""IMAP connections: TLS / STARTTLS / plain, password or XOAUTH2 login, and error classification at the edge."""

from __future__ import annotations

import imaplib
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from agent.errors import AuthError, TemporaryError, UserError

T = TypeVar("T")

_TEMPORARY_LOGIN_CODES = (b"[UNAVAILABLE]", b"[INUSE]", b"[LIMIT]", b"[SERVERBUG]", "[UNAVAILABLE]", "[INUSE]", "[LIMIT]")


def ssl_context(ca_file) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file)) if ca_file else ssl.create_default_context()


@contextmanager
def classified(what: str) -> Iterator[None]:
    """Turn client-library and socket errors into the agent's error classes, naming what was being done."""
    try:
        yield
    except (AuthError, TemporaryError, UserError):
        raise
    except LoginError as exc:
        text = str(exc)
        if any(str(code) in text for code in _TEMPORARY_LOGIN_CODES):
            raise TemporaryError(f"{what}: server busy: {text}") from None
        raise AuthError(f"{what}: login refused: {text}", fix="check the username and password (or token) in the config") from None
    except ssl.SSLCertVerificationError as exc:
        raise AuthError(f"{what}: TLS certificate rejected: {exc.verify_message}",
                        fix="check the host name, or set ca_file for a private certificate authority") from None
    except (socket.timeout, TimeoutError) as exc:
        raise TemporaryError(f"{what}: timed out ({exc})") from None
    except (IMAPClientAbortError, imaplib.IMAP4.abort, ConnectionError, ssl.SSLError, EOFError) as exc:
        raise TemporaryError(f"{what}: connection lost: {exc}") from None
    except OSError as exc:  # DNS failure, refused, unreachable
        raise TemporaryError(f"{what}: {exc.strerror or exc}") from None
    except (IMAPClientError, imaplib.IMAP4.error) as exc:
        raise TemporaryError(f"{what}: server said: {exc}") from None


def open_client(account, *, token: Callable[[], str] | None = None) -> IMAPClient:
    """A logged-in client for the account's settings, CONDSTORE enabled when offered."""
    where = f"account {account.name} ({account.host}:{account.effective_port})"
    with classified(where):
        context = ssl_context(account.ca_file) if account.security != "plain" else None
        client = IMAPClient(account.host, port=account.effective_port, ssl=account.security == "tls",
                            ssl_context=context, timeout=account.timeout)
        try:
            if account.security == "starttls":
                client.starttls(context)
            if account.auth == "oauth2":
                access = token() if token else (account.oauth2_token.reveal() if account.oauth2_token else None)
                if not access:
                    raise UserError(f"{where}: auth = \"oauth2\" needs oauth2_token or `crm-agent accounts login {account.name}`")
                try:
                    try:
                        client.oauth2_login(account.username, access)
                    except LoginError:
                        if not hasattr(token, "refresh"):
                            raise
                        # refused: revoked? A forced refresh either gives a token the server takes, or an AuthError
                        client.oauth2_login(account.username, token.refresh())
                except LoginError as exc:
                    if any(str(code) in str(exc) for code in _TEMPORARY_LOGIN_CODES):
                        raise
                    fix = f"run crm-agent accounts login {account.name}" if token else "renew oauth2_token in the config"
                    raise AuthError(f"{where}: XOAUTH2 login refused: {exc}", fix=fix) from None
            else:
                if account.password is None:
                    raise UserError(f"{where}: password is not set")
                client.login(account.username, account.password.reveal())
            capabilities = client.capabilities()
            if b"CONDSTORE" in capabilities and b"ENABLE" in capabilities:
                client.enable("CONDSTORE")
        except BaseException:
            _quiet_logout(client)
            raise
    return client


def _quiet_logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection may already be gone; nothing to report
        try:
            client.shutdown()
        except Exception:
            pass


close_client = _quiet_logout
