"""CalDAV test sources: the contract's mail fixtures turned into events, on Radicale, Xandikos, or Radicale behind a
proxy that refuses sync-collection (a server without RFC 6578, to exercise the ctag + ETag fallback).
"""

from __future__ import annotations

import email
import email.utils
import http.server
import shutil
import threading
import urllib.request
import uuid
from datetime import UTC, timedelta

import caldav

from agent.config.accounts_caldav import CalDavAccount
from agent.connectors.caldav import CalDavConnector
from agent.records import TargetRef


def event_from_mail(data: bytes) -> bytes:
    """An event standing for one contract message: UID from its Message-ID, which DESCRIPTION repeats verbatim
    (the contract checks fetched bytes by that header line)."""
    message = email.message_from_bytes(data)
    message_id = message["Message-ID"].strip()
    start = email.utils.parsedate_to_datetime(message["Date"]).astimezone(UTC)
    end = start + timedelta(hours=1)
    sender = email.utils.parseaddr(message["From"])[1]
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crm-agent tests//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{message_id.strip('<>')}\r\nDTSTAMP:20261001T080000Z\r\n"
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDTEND:{end:%Y%m%dT%H%M%SZ}\r\n"
        f"SUMMARY:{message['Subject']}\r\nDESCRIPTION:Message-ID: {message_id}\r\n"
        f"ORGANIZER:mailto:{sender}\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:claire@atelier-durand.fr\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def caldav_account(url: str, user: str | None = None, password: str | None = None, *, name: str = "cal",
                   **extra) -> CalDavAccount:
    values = {"name": name, "kind": "caldav", "url": url, **extra}
    if user is not None:
        values.update(username=user, password=password)
    return CalDavAccount.model_validate(values)


class CalDavSource:
    """One calendar on a CalDAV server, filled through HTTP PUT like a calendar program would."""

    def __init__(self, calendar_url: str, client: caldav.DAVClient, account: CalDavAccount) -> None:
        self.calendar_url = calendar_url if calendar_url.endswith("/") else calendar_url + "/"
        self.client = client
        self.account = account
        self._connectors: list[CalDavConnector] = []
        self.hrefs: list[str] = []
        self.items: dict[str, bytes] = {}

    def connector(self) -> CalDavConnector:
        conn = CalDavConnector(self.account)
        self._connectors.append(conn)
        return conn

    def target(self) -> TargetRef:
        path = urllib.request.urlparse(self.calendar_url).path
        return TargetRef(self.account.name, path, "calendar", "calendar")

    def put(self, name: str, data: bytes) -> None:
        response = self.client.put(self.calendar_url + name, data.decode(), {"Content-Type": "text/calendar"})
        assert response.status in (201, 204), response.status
        if name not in self.items:
            self.hrefs.append(name)
        self.items[name] = data

    def add(self, messages) -> None:
        for data in messages:
            self.put(f"{uuid.uuid4().hex}.ics", event_from_mail(data))

    def delete(self, count: int) -> None:
        for name in sorted(self.hrefs)[:count]:
            self.client.delete(self.calendar_url + name)
            self.hrefs.remove(name)
            self.items.pop(name, None)

    def invalidate(self):
        return None

    def close(self) -> None:
        for conn in self._connectors:
            conn.close()


class RadicaleSource(CalDavSource):
    def __init__(self, radicale, user: str, calendar: str = "cal", **account_extra) -> None:
        self.radicale, self.user, self.calendar = radicale, user, calendar
        radicale.write_ics_files(user, calendar, {}, displayname=f"Agenda {calendar}")
        password = radicale.users[user]
        client = caldav.DAVClient(radicale.user_url(user), username=user, password=password)
        account = caldav_account(radicale.user_url(user), user, password, **account_extra)
        super().__init__(radicale.user_url(user) + calendar + "/", client, account)

    def invalidate(self):
        """The server lost its sync-token history (restored from a backup holding one more event)."""
        shutil.rmtree(self.radicale.calendar_dir(self.user, self.calendar) / ".Radicale.cache", ignore_errors=True)
        self.put("restored.ics", event_from_mail(email_stub()))
        return True


class XandikosSource(CalDavSource):
    def __init__(self, xandikos) -> None:
        self.xandikos = xandikos
        client = caldav.DAVClient(xandikos.url)
        self.calendar_id = f"c{uuid.uuid4().hex[:10]}"
        self.principal = client.principal()
        calendar = self.principal.make_calendar(name=f"Agenda {self.calendar_id}", cal_id=self.calendar_id)
        account = caldav_account(xandikos.principal_url, calendars=[self.calendar_id])
        super().__init__(str(calendar.url), client, account)

    def invalidate(self):
        """The calendar was rebuilt (deleted and re-created from a backup with one more event): new history.

        Xandikos's sync-token is the git tree of the calendar, so the old token stays valid for as long as that
        exact tree exists again; the restored event is written first so no intermediate state equals the old one.
        """
        caldav.Calendar(client=self.client, url=self.calendar_url).delete()
        self.principal.make_calendar(name=f"Agenda {self.calendar_id}", cal_id=self.calendar_id)
        kept, self.items, self.hrefs = dict(self.items), {}, []
        self.put("restored.ics", event_from_mail(email_stub()))
        for name, data in kept.items():
            self.put(name, data)
        return True


def email_stub() -> bytes:
    from tests.support.messages import make_message

    return make_message(9999, message_id="<restored@acme.fr>")


class NoSyncCollectionProxy:
    """An HTTP proxy to a CalDAV server that answers every sync-collection REPORT with 403 DAV:supported-report,
    the way servers without RFC 6578 refuse it; everything else is forwarded unchanged."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.refused = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep pytest output clean
                return None

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.command == "REPORT" and b"sync-collection" in body:
                    proxy.refused += 1
                    answer = (b'<?xml version="1.0" encoding="utf-8"?>'
                              b'<D:error xmlns:D="DAV:"><D:supported-report/></D:error>')
                    self.send_response(403)
                    self.send_header("Content-Type", "application/xml; charset=utf-8")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    return
                request = urllib.request.Request(proxy.upstream + self.path, data=body or None, method=self.command)
                for key, value in self.headers.items():
                    if key.lower() not in ("host", "content-length", "connection", "accept-encoding"):
                        request.add_header(key, value)
                try:
                    with urllib.request.urlopen(request, timeout=30) as upstream:
                        status, headers, payload = upstream.status, upstream.headers, upstream.read()
                except urllib.error.HTTPError as error:
                    status, headers, payload = error.code, error.headers, error.read()
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = do_OPTIONS = do_PROPPATCH = do_MKCALENDAR = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
