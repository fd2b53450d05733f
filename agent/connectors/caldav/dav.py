"""The WebDAV requests the CalDAV connector makes, over the caldav library's client, with errors classified here.

The caldav library does the HTTP (auth negotiation, sessions, TLS) and RFC 6578 sync-collection
(``get_objects_by_sync_token`` with ``disable_fallback=True``, so asking for changes never silently turns into a
full download). The small PROPFIND and calendar-multiget bodies are written here, so one request answers for a
whole collection and the answer is read exactly as the RFCs define it.

Every href is handled *unquoted* (``/u/cal/a b.ics``); it is quoted again only when sent.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, unquote, urljoin, urlsplit

from lxml import etree

from agent.errors import AuthError, TemporaryError, UserError

log = logging.getLogger(__name__)

DAV, CALDAV, CS = "DAV:", "urn:ietf:params:xml:ns:caldav", "http://calendarserver.org/ns/"
_NS = {"d": DAV, "c": CALDAV, "cs": CS}
VALID_SYNC_TOKEN = "{DAV:}valid-sync-token"
SUPPORTED_REPORT = "{DAV:}supported-report"
_HREF_SAFE = "/:@!$&'()*+,;=-._~"
_COLLECTION_PROPS = (
    '<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/">'
    "<d:prop><d:displayname/><d:resourcetype/><c:supported-calendar-component-set/><cs:getctag/><d:sync-token/>"
    "</d:prop></d:propfind>"
)
# Discovery leaves getctag and sync-token out: a server computes them over every object of every calendar.
_DISCOVERY_PROPS = (
    '<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    "<d:prop><d:displayname/><d:resourcetype/><c:supported-calendar-component-set/></d:prop></d:propfind>"
)
_ETAG_PROPS = '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:resourcetype/></d:prop></d:propfind>'
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


class SyncUnsupported(Exception):
    """The server refused the sync-collection REPORT itself (not a token): use the ctag + ETag fallback."""


class TokenRejected(Exception):
    """The server no longer accepts this sync-token (RFC 6578 §3.2 valid-sync-token, or 409/412)."""


@dataclass(frozen=True, slots=True)
class Collection:
    """A WebDAV collection as PROPFIND describes it."""

    path: str
    display: str = ""
    is_calendar: bool = False
    components: tuple[str, ...] = ()  # empty: the server did not say (then it holds anything)
    ctag: str = ""
    sync_token: str = ""

    @property
    def holds_events(self) -> bool:
        return self.is_calendar and (not self.components or "VEVENT" in self.components)


@dataclass(frozen=True, slots=True)
class SyncPage:
    """A sync-collection answer: the new token, changed hrefs with their ETags, deleted hrefs."""

    token: str
    changed: dict[str, str]
    deleted: frozenset[str]


def href_path(value: object) -> str:
    """The unquoted path of a URL or href (``http://h/u/a%20b.ics`` → ``/u/a b.ics``)."""
    return unquote(urlsplit(str(value)).path)


def _text(element, path: str) -> str:
    found = element.find(path, _NS)
    return (found.text or "").strip() if found is not None else ""


def _ok_props(response) -> list:
    """The ``prop`` elements of a multistatus response that came with a 2xx status."""
    props = []
    for propstat in response.findall("d:propstat", _NS):
        status = _text(propstat, "d:status")
        if not status or " 2" in status:
            prop = propstat.find("d:prop", _NS)
            if prop is not None:
                props.append(prop)
    return props


def _responses(body: bytes) -> Iterator:
    if not body:
        return iter(())
    try:
        root = etree.fromstring(body, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise TemporaryError(f"unreadable answer from the CalDAV server: {exc}") from None
    return iter(root.findall("d:response", _NS))


def parse_collections(body: bytes) -> list[Collection]:
    found = []
    for response in _responses(body):
        href = href_path(_text(response, "d:href"))
        display = ctag = sync_token = ""
        is_calendar = False
        components: tuple[str, ...] = ()
        for prop in _ok_props(response):
            display = display or _text(prop, "d:displayname")
            ctag = ctag or _text(prop, "cs:getctag")
            sync_token = sync_token or _text(prop, "d:sync-token")
            kinds = prop.find("d:resourcetype", _NS)
            if kinds is not None and kinds.find("c:calendar", _NS) is not None:
                is_calendar = True
            comps = prop.find("c:supported-calendar-component-set", _NS)
            if comps is not None:
                components = tuple(c.get("name", "").upper() for c in comps.findall("c:comp", _NS))
        found.append(Collection(href, display, is_calendar, components, ctag, sync_token))
    return found


def parse_etags(body: bytes, collection: str) -> dict[str, str]:
    """href -> ETag of the objects (not sub-collections) in a depth-1 PROPFIND answer."""
    etags: dict[str, str] = {}
    base = collection.rstrip("/")
    for response in _responses(body):
        href = href_path(_text(response, "d:href"))
        if href.rstrip("/") == base:
            continue
        for prop in _ok_props(response):
            kinds = prop.find("d:resourcetype", _NS)
            if kinds is not None and len(kinds):
                break  # a sub-collection
            etag = _text(prop, "d:getetag")
            if etag:
                etags[href] = etag
    return etags


def parse_multiget(body: bytes) -> dict[str, tuple[str, bytes]]:
    """href -> (ETag, iCalendar bytes) of the objects a calendar-multiget returned (404s left out)."""
    found: dict[str, tuple[str, bytes]] = {}
    for response in _responses(body):
        href = href_path(_text(response, "d:href"))
        for prop in _ok_props(response):
            data = prop.find("c:calendar-data", _NS)
            if data is not None and data.text:
                found[href] = (_text(prop, "d:getetag"), data.text.encode("utf-8"))
    return found


def multiget_body(hrefs: Sequence[str]) -> str:
    refs = "".join(f"<d:href>{_xml_escape(quote(h, safe=_HREF_SAFE))}</d:href>" for h in hrefs)
    return (
        '<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
        f"<d:prop><d:getetag/><c:calendar-data/></d:prop>{refs}</c:calendar-multiget>"
    )


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ------------------------------------------------------------------------------------------------ errors


def _http_errors() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = []
    for module_name in ("niquests", "requests"):
        try:
            module = __import__(f"{module_name}.exceptions", fromlist=["RequestException"])
        except ImportError:
            continue
        found.append(module.RequestException)
    return tuple(found)


_HTTP_ERRORS = _http_errors()


@contextmanager
def classified(what: str) -> Iterator[None]:
    """Turn caldav, HTTP and socket errors into the agent's error classes, naming what was being done."""
    from caldav.lib import error

    try:
        yield
    except (AuthError, TemporaryError, UserError, SyncUnsupported, TokenRejected):
        raise
    except error.RateLimitError as exc:
        raise TemporaryError(f"{what}: the server asks to slow down", retry_after=exc.retry_after_seconds) from None
    except error.AuthorizationError as exc:
        if exc.status == 403:
            raise AuthError(f"{what}: access refused (403)",
                            fix="check that this login may read the calendar") from None
        raise AuthError(f"{what}: login refused", fix="check the username and password in the config") from None
    except error.DAVError as exc:
        raise TemporaryError(f"{what}: server said {exc.status or ''} {exc.reason}".replace("  ", " ")) from None
    except ssl.SSLCertVerificationError as exc:
        raise AuthError(f"{what}: TLS certificate rejected: {exc.verify_message}",
                        fix="check the URL, or set ca_file for a private certificate authority") from None
    except _HTTP_ERRORS as exc:
        if isinstance(exc.__context__, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
            raise AuthError(f"{what}: TLS certificate rejected",
                            fix="set ca_file for a private certificate authority") from None
        raise TemporaryError(f"{what}: {type(exc).__name__}: {exc}") from None
    except (TimeoutError, ConnectionError, OSError) as exc:
        raise TemporaryError(f"{what}: {exc}") from None
    except etree.XMLSyntaxError as exc:
        raise TemporaryError(f"{what}: unreadable answer: {exc}") from None


def _check(response, what: str) -> bytes:
    status = getattr(response, "status", 0) or 0
    if status >= 500:
        raise TemporaryError(f"{what}: server error {status}")
    if status >= 400:
        raise TemporaryError(f"{what}: server said {status}")
    raw = response._raw
    return raw if isinstance(raw, bytes) else (raw or "").encode("utf-8")


# ------------------------------------------------------------------------------------------------ session


class DavSession:
    """One caldav client for one account; built on first use, so a connector can be made without the network."""

    def __init__(self, account, *, client_factory=None) -> None:
        self.account = account
        self._client_factory = client_factory
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = (self._client_factory or self._make_client)()
        return self._client

    def _make_client(self):
        import caldav

        account = self.account
        verify: bool | str = str(account.ca_file) if account.ca_file else account.verify_tls
        password = account.password.reveal() if account.password is not None else None
        return caldav.DAVClient(url=account.url, username=account.username, password=password,
                                ssl_verify_cert=verify, timeout=account.timeout, enable_rfc6764=False,
                                rate_limit_handle=False)

    def url(self, path: str) -> str:
        return urljoin(self.account.url, quote(path, safe=_HREF_SAFE))

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # noqa: BLE001 — closing a dead session must not fail the caller
                log.debug("closing the CalDAV session failed", exc_info=True)
            self._client = None

    # ------------------------------------------------------------------ discovery and collection state

    def describe(self, path: str, depth: int = 0, *, state: bool = True) -> list[Collection]:
        """Collections at ``path`` (and below, depth 1); ``state`` adds getctag and sync-token."""
        with classified(f"PROPFIND {path}"):
            body = _COLLECTION_PROPS if state else _DISCOVERY_PROPS
            response = self.client.propfind(self.url(path), props=body, depth=depth)
            return parse_collections(_check(response, f"PROPFIND {path}"))

    def calendars(self) -> list[Collection]:
        """The configured URL itself when it is a calendar, else the calendars of the principal's home set."""
        start = href_path(self.account.url) or "/"
        own = [c for c in self.describe(start, state=False) if c.path.rstrip("/") == start.rstrip("/")]
        if own and own[0].is_calendar:
            return own
        with classified("finding the calendars (principal, calendar-home-set)"):
            home = href_path(self.client.principal().calendar_home_set.url)
        return [c for c in self.describe(home, depth=1, state=False) if c.is_calendar]

    def state(self, path: str) -> Collection:
        found = [c for c in self.describe(path) if c.path.rstrip("/") == path.rstrip("/")]
        if not found:
            raise TemporaryError(f"calendar {path}: the server did not describe it")
        return found[0]

    # ------------------------------------------------------------------ listing

    def sync(self, path: str, token: str) -> SyncPage:
        """RFC 6578 sync-collection: everything (empty token) or the changes since ``token``."""
        import caldav
        from caldav.lib import error

        calendar = caldav.Calendar(client=self.client, url=self.url(path))
        with classified(f"sync-collection {path}"):
            try:
                result = calendar.get_objects_by_sync_token(token or None, load_objects=False, disable_fallback=True)
            except error.DAVError as exc:
                status = exc.status
                if isinstance(exc, error.RateLimitError) or status == 401:
                    raise
                if token and (VALID_SYNC_TOKEN in exc.preconditions or status in (403, 409, 410, 412)):
                    raise TokenRejected(f"sync-token refused ({status})") from None
                if status is not None and status >= 500 and status != 501:
                    raise
                if SUPPORTED_REPORT in exc.preconditions or status in (400, 403, 404, 405, 415, 422, 501) or \
                        (isinstance(exc, error.ReportError) and status is None):
                    raise SyncUnsupported(f"sync-collection refused ({status or exc.reason})") from None
                raise
        if not result.sync_token:
            raise SyncUnsupported("the server answered sync-collection without a sync-token")
        changed = {}
        for obj in result.objects:
            etag = (getattr(obj, "props", None) or {}).get("{DAV:}getetag", "")
            changed[href_path(obj.url)] = etag
        deleted = frozenset(href_path(url) for url in result.deleted_urls)
        for href in deleted:
            changed.pop(href, None)
        base = path.rstrip("/")
        changed = {h: e for h, e in changed.items() if h.rstrip("/") != base}
        return SyncPage(str(result.sync_token), changed, deleted)

    def etags(self, path: str) -> dict[str, str]:
        with classified(f"PROPFIND {path}"):
            response = self.client.propfind(self.url(path), props=_ETAG_PROPS, depth=1)
            return parse_etags(_check(response, f"PROPFIND {path}"), path)

    # ------------------------------------------------------------------ fetching

    def multiget(self, path: str, hrefs: Sequence[str]) -> dict[str, tuple[str, bytes]] | None:
        """href -> (ETag, bytes) through one calendar-multiget; None when the server does not offer it."""
        with classified(f"calendar-multiget {path}"):
            response = self.client.report(self.url(path), multiget_body(hrefs), depth=None)
            status = getattr(response, "status", 0) or 0
            if status in (400, 403, 405, 415, 422, 501):
                return None
            return parse_multiget(_check(response, f"calendar-multiget {path}"))

    def get(self, href: str) -> tuple[str, bytes] | None:
        with classified(f"GET {href}"):
            response = self.client.request(self.url(href), "GET")
            if response.status == 404 or response.status == 410:
                return None
            raw = _check(response, f"GET {href}")
            body = getattr(response, "_raw_body", b"") or raw
            return (response.headers.get("ETag", "") or "", body)
