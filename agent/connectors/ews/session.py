"""An exchangelib Account from the settings, without probing, and EWS errors classified at the edge.

No probing: the server version and the auth type come from the config (``server_version``, ``auth``), so the
first request is real work, not a version guess or an auth negotiation round. Autodiscover runs only when
``autodiscover = true``. The retry policy is exchangelib's fail-fast one: nothing sleeps in here, a busy server
becomes a ``TemporaryError`` carrying the server's back-off, and the engine schedules the retry.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import ClassVar
from urllib.parse import urlsplit

import requests
from exchangelib import BASIC, DELEGATE, NTLM, OAUTH2, Account, Build, Configuration, Credentials, FailFast, Version
from exchangelib import errors as ews_errors
from exchangelib.credentials import OAuth2AuthorizationCodeCredentials
from exchangelib.protocol import BaseProtocol

from agent.errors import AuthError, CursorInvalid, TemporaryError, UserError

API_BUILDS = {
    "Exchange2007_SP1": Build(8, 1),
    "Exchange2010": Build(14, 0),
    "Exchange2010_SP1": Build(14, 1),
    "Exchange2010_SP2": Build(14, 2),
    "Exchange2013": Build(15, 0),
    "Exchange2013_SP1": Build(15, 0, 847),
    "Exchange2016": Build(15, 1),
}
AUTH_TYPES = {"ntlm": NTLM, "basic": BASIC, "oauth2": OAUTH2}
_CURSOR_ERRORS = (ews_errors.ErrorInvalidSyncStateData, ews_errors.ErrorSyncFolderNotFound)


def server_version(text: str) -> Version:
    """``Exchange2016`` or a build number ``15.1.2507.6`` → an exchangelib Version (no version guessing request)."""
    if text in API_BUILDS:
        return Version(build=API_BUILDS[text], api_version=text)
    numbers = [int(part) for part in text.split(".")] + [0, 0]
    return Version(build=Build(*numbers[:4]))


class TokenCredentials(OAuth2AuthorizationCodeCredentials):
    """OAuth2 for exchangelib with tokens from agent.auth: ``refresh()`` (called on expiry) asks the getter again."""

    def __init__(self, getter: Callable[[], str]) -> None:
        super().__init__(access_token=_token_dict(getter))
        self._getter = getter

    def refresh(self, session) -> None:
        self.access_token = _token_dict(self._getter)


def _token_dict(getter) -> dict:
    token = getter.token() if hasattr(getter, "token") else None
    value = token.value if token is not None else getter()
    expires = token.expires_at if token is not None else datetime.now(UTC) + timedelta(minutes=30)
    return {"access_token": value, "token_type": "Bearer", "expires_at": expires.timestamp()}


class PrivateCaAdapter(requests.adapters.HTTPAdapter):
    """Verifies the servers listed in ``ca_files`` (host:port → CA file) against that CA; others as usual.

    exchangelib builds its HTTP sessions itself, and requests lets $REQUESTS_CA_BUNDLE override a session's
    ``verify``; deciding per host here is what makes ``ca_file`` work for an on-premises server's private CA.
    """

    ca_files: ClassVar[dict[str, str]] = {}

    def _verify(self, url: str, verify):
        return self.ca_files.get(urlsplit(url).netloc, verify)

    def cert_verify(self, conn, url, verify, cert):
        return super().cert_verify(conn, url, self._verify(url, verify), cert)

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        return super().get_connection_with_tls_context(
            request, self._verify(request.url, verify), proxies=proxies, cert=cert
        )


def open_account(settings, *, token: Callable[[], str] | None = None) -> Account:
    """An exchangelib Account for ``settings`` (an EwsAccount); no request is sent until it is used."""
    if settings.auth == "oauth2":
        if token is None:
            raise UserError(
                f'account {settings.name}: auth = "oauth2" needs `crm-agent accounts login {settings.name}`'
            )
        credentials = TokenCredentials(token)
    else:
        credentials = Credentials(settings.login, settings.password.reveal())
    if BaseProtocol.HTTP_ADAPTER_CLS is requests.adapters.HTTPAdapter:
        # installed before any session exists: exchangelib pools sessions per server across Account objects
        BaseProtocol.HTTP_ADAPTER_CLS = PrivateCaAdapter
    if settings.ca_file and settings.url:
        PrivateCaAdapter.ca_files[urlsplit(settings.url).netloc] = str(settings.ca_file)
    BaseProtocol.TIMEOUT = settings.timeout
    version = server_version(settings.server_version)
    if settings.autodiscover:
        config = Configuration(
            credentials=credentials,
            auth_type=AUTH_TYPES[settings.auth],
            version=version,
            retry_policy=FailFast(),
            max_connections=2,
        )
        return Account(settings.email, config=config, autodiscover=True, access_type=DELEGATE)
    config = Configuration(
        service_endpoint=settings.url,
        credentials=credentials,
        auth_type=AUTH_TYPES[settings.auth],
        version=version,
        retry_policy=FailFast(),
        max_connections=2,
    )
    account = Account(settings.email, config=config, autodiscover=False, access_type=DELEGATE)
    # exchangelib shares one Protocol per (URL, credentials) across Accounts, with the version it was first given:
    # the account's own version makes an edited server_version apply without a restart
    account.version = version
    return account


@contextmanager
def classified(what: str) -> Iterator[None]:
    """exchangelib and network failures → CursorInvalid / TemporaryError (with the server's back-off) / AuthError."""
    try:
        yield
    except (AuthError, TemporaryError, UserError, CursorInvalid):
        raise
    except _CURSOR_ERRORS as exc:
        raise CursorInvalid(f"{what}: {type(exc).__name__}: {exc}") from None
    except ews_errors.ErrorServerBusy as exc:
        raise TemporaryError(f"{what}: server busy (ErrorServerBusy)", retry_after=exc.back_off) from None
    except ews_errors.UnauthorizedError as exc:
        raise AuthError(
            f"{what}: credentials refused ({exc})", fix="check username, password or sign-in in the config"
        ) from None
    except (
        ews_errors.ErrorAccessDenied,
        ews_errors.ErrorImpersonateUserDenied,
        ews_errors.ErrorNonExistentMailbox,
    ) as exc:
        raise AuthError(
            f"{what}: {type(exc).__name__}: {exc}", fix="check the mailbox address and this account's rights on it"
        ) from None
    except ews_errors.ErrorFolderNotFound as exc:
        raise UserError(f"{what}: folder not found ({exc})") from None
    except ews_errors.CASError as exc:
        raise TemporaryError(f"{what}: Exchange front end said {exc}") from None
    except ews_errors.TransportError as exc:  # includes every EWS response error code not handled above
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "SSLError" in text:
            raise AuthError(
                f"{what}: TLS certificate rejected",
                fix="check the URL, or set ca_file for a private certificate authority",
            ) from None
        raise TemporaryError(f"{what}: {type(exc).__name__}: {text[:300]}") from None
    except ews_errors.EWSError as exc:  # an answer this connector does not expect: loud, retried later
        raise TemporaryError(f"{what}: {type(exc).__name__}: {exc}") from None
    except (requests.exceptions.RequestException, ssl.SSLError, OSError) as exc:
        raise TemporaryError(f"{what}: {type(exc).__name__}: {exc}") from None
