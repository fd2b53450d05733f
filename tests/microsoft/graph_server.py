"""A Microsoft Graph server on 127.0.0.1 answering what crm-agent's ``m365`` connector uses, as Microsoft documents it.

Built from the Graph v1.0 reference pages (message: delta, event: delta on calendarView, get message, get
MIME content ``$value``, mailFolder, error responses) and the delta query / throttling guides:

- delta rounds page with ``@odata.nextLink`` (``$skiptoken``) and end with ``@odata.deltaLink`` (``$deltatoken``);
  ``Prefer: odata.maxpagesize`` sets the page size; a later round from the deltaLink returns only what changed,
  deleted items as ``{"id": ..., "@removed": {"reason": "deleted"}}``;
- a delta token issued before ``mailbox.invalidate(folder)`` answers ``410 Gone`` (``syncStateNotFound``);
- ``fail_next`` injects ``429`` / ``503`` with ``Retry-After``;
- access tokens come from the ``IdentityServer``; the body, ``bodyPreview`` and ``$value`` need ``Mail.Read``
  (``Mail.ReadBasic`` leaves them out, per the permission reference), else ``403``;
- occurrences have their own ``iCalUId`` (as Graph returns today) and point at their master by ``seriesMasterId``;
- anything not implemented answers ``400 BadRequest`` naming the request, so a gap fails loudly.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from datetime import UTC, datetime
from typing import Any

from tests.microsoft.http_base import ProtocolServer, Request, Response
from tests.microsoft.identity_server import IdentityServer
from tests.microsoft.mailbox import Instance, Mailbox, StoredEvent, StoredMessage

_PREFIX = re.compile(r"^/v1\.0/(me|users/[^/]+)(/.*)$")
_RESPONSES = {
    "Accept": "accepted",
    "Decline": "declined",
    "Tentative": "tentativelyAccepted",
    "Organizer": "organizer",
    "NoResponseReceived": "notResponded",
    "Unknown": "none",
}
BODY_FIELDS = frozenset({"body", "bodyPreview", "uniqueBody"})


def graph_time(value: datetime) -> dict[str, str]:
    return {"dateTime": value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def _address(name: str, address: str) -> dict:
    return {"emailAddress": {"name": name or address, "address": address}}


class GraphServer(ProtocolServer):
    name = "graph-server"

    def __init__(self, mailbox: Mailbox, identity: IdentityServer) -> None:
        super().__init__(cert=identity.cert)  # one certificate for both, so a client trusts one CA file
        self.mailbox = mailbox
        self.identity = identity
        self.rounds: dict[str, dict] = {}
        self.states: dict[str, dict] = {}
        self.default_page = 10
        self._request = threading.local()  # the scopes of the token of the request being answered

    @property
    def graph_url(self) -> str:
        return f"{self.base_url}/v1.0"

    # ---- dispatch -------------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        grant = self.identity.grant_for(request.headers.get("authorization", "").removeprefix("Bearer ").strip())
        if grant is None:
            return self._error(401, "InvalidAuthenticationToken", "Access token is empty, expired or revoked.")
        match = _PREFIX.match(request.path)
        if request.method != "GET" or match is None:
            return self._error(
                400, "BadRequest", f"crm-agent test Graph server: not implemented: {request.method} {request.path}"
            )
        self._request.scopes = grant.scopes
        parts = match.group(2).strip("/").split("/")
        if parts[0] == "mailFolders" and len(parts) == 1:
            root = self.mailbox.folder("msgfolderroot")
            return Response.json(
                {"value": [self._folder_json(f) for f in self.mailbox.children(root.id) if f.kind == "mail"]}
            )
        if parts[0] == "mailFolders":
            folder = self.mailbox.folder(parts[1])
            if folder is None:
                return self._error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
            if len(parts) == 2:
                return Response.json(self._folder_json(folder))
            if parts[2:] == ["childFolders"]:
                return Response.json({"value": [self._folder_json(f) for f in self.mailbox.children(folder.id)]})
            if parts[2:] == ["messages", "delta"]:
                return self._message_delta(request, folder.id)
        if parts[0] == "messages" and len(parts) >= 2:
            return self._message(request, parts[1], raw=parts[2:] == ["$value"])
        if parts == ["calendarView", "delta"]:
            return self._calendar_delta(request)
        if parts[0] == "events" and len(parts) == 2:
            return self._event(parts[1])
        return self._error(400, "BadRequest", f"crm-agent test Graph server: not implemented: GET {request.path}")

    def _allows_body(self) -> bool:
        return any(s.endswith(("/Mail.Read", "/.default")) for s in self._request.scopes)

    @staticmethod
    def _error(status: int, code: str, message: str, **headers: str) -> Response:
        return Response.json({"error": {"code": code, "message": message}}, status, **headers)

    # ---- folders and messages -------------------------------------------------------------------------------
    def _folder_json(self, folder) -> dict:
        return {
            "id": folder.id,
            "displayName": folder.name,
            "parentFolderId": folder.parent,
            "childFolderCount": len(self.mailbox.children(folder.id)),
            "totalItemCount": len(self.mailbox.in_folder(folder.id)),
        }

    def message_json(self, message: StoredMessage, select: list[str] | None) -> dict:
        full = {
            "id": message.id,
            "@odata.etag": f'W/"{message.change_key}"',
            "changeKey": message.change_key,
            "receivedDateTime": message.date().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "sentDateTime": message.date().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "subject": message.header("Subject"),
            "internetMessageId": message.header("Message-ID") or None,
            "from": next((_address(*a) for a in message.addresses("From")), None),
            "sender": next((_address(*a) for a in message.addresses("Sender") or message.addresses("From")), None),
            "toRecipients": [_address(*a) for a in message.addresses("To")],
            "ccRecipients": [_address(*a) for a in message.addresses("Cc")],
            "bccRecipients": [_address(*a) for a in message.addresses("Bcc")],
            "replyTo": [_address(*a) for a in message.addresses("Reply-To")],
            "parentFolderId": message.folder,
            "hasAttachments": False,
            "isRead": False,
            "internetMessageHeaders": [{"name": k, "value": v} for k, v in message.header_pairs()],
            "bodyPreview": message.text()[:255],
            "body": {"contentType": "text", "content": message.text()},
        }
        if select is None:
            full.pop("internetMessageHeaders")  # only returned when $select asks for it
            return full
        return {k: v for k, v in full.items() if k in ("id", "@odata.etag") or k in select}

    def _message(self, request: Request, message_id: str, *, raw: bool) -> Response:
        message = self.mailbox.messages.get(message_id)
        if message is None:
            return self._error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        select = request.query["$select"].split(",") if "$select" in request.query else None
        if (raw or select is None or BODY_FIELDS & set(select)) and not self._allows_body():
            return self._error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        if raw:
            return Response(200, message.raw, {"Content-Type": "text/plain"})
        return Response.json(self.message_json(message, select))

    def _message_delta(self, request: Request, folder_id: str) -> Response:
        select = request.query["$select"].split(",") if "$select" in request.query else ["subject"]
        if BODY_FIELDS & set(select) and not self._allows_body():
            return self._error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        current = {m.id: m for m in self.mailbox.in_folder(folder_id)}
        found = re.search(r"receivedDateTime ge (\S+)", request.query.get("$filter", ""))
        if found:  # the one filter message delta supports
            since = datetime.fromisoformat(found.group(1))
            current = {i: m for i, m in current.items() if m.date() >= since}
        return self._delta(
            request,
            ("folder", folder_id),
            {i: m.change_key for i, m in current.items()},
            lambda item_id: self.message_json(current[item_id], select),
        )

    # ---- events ---------------------------------------------------------------------------------------------
    def instance_json(self, instance: Instance) -> dict:
        event = instance.event
        kind = {"Single": "singleInstance", "Occurrence": "occurrence", "Exception": "exception"}[instance.kind]
        data = self._event_fields(event, instance.start, instance.end, instance.subject, instance.location)
        data.update(id=instance.id, type=kind, changeKey=event.change_key)
        if event.is_series:
            assert instance.original_start is not None
            data.update(
                seriesMasterId=event.id,
                originalStart=instance.original_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                iCalUId=f"{event.uid}-{instance.original_start:%Y%m%dT%H%M%S}",
            )  # Graph: one per occurrence
        return data

    def _event_fields(self, event: StoredEvent, start: datetime, end: datetime, subject: str, location: str) -> dict:
        return {
            "iCalUId": event.uid,
            "subject": subject,
            "isAllDay": event.all_day,
            "isCancelled": event.cancelled,
            "start": graph_time(start),
            "end": graph_time(end),
            "location": {"displayName": location},
            "organizer": _address(event.organizer.name, event.organizer.address),
            "attendees": [
                {
                    "type": "required" if a.required else "optional",
                    "status": {"response": _RESPONSES.get(a.response, "none"), "time": "0001-01-01T00:00:00Z"},
                    **_address(a.name, a.address),
                }
                for a in event.attendees
            ],
            "bodyPreview": event.body[:255],
            "body": {"contentType": "text", "content": event.body},
            "seriesMasterId": None,
            "@odata.etag": f'W/"{event.change_key}"',
        }

    def _event(self, event_id: str) -> Response:
        event = self.mailbox.events.get(event_id)
        if event is not None and event.is_series:
            data = self._event_fields(event, event.start, event.end, event.subject, event.location)
            data.update(
                id=event.id,
                type="seriesMaster",
                changeKey=event.change_key,
                recurrence={
                    "pattern": {"type": "daily", "interval": event.every_days},
                    "range": {"type": "numbered", "numberOfOccurrences": event.count},
                },
            )
            return Response.json(data)
        instance = self.mailbox.find_instance(event_id) if event is None else event.instances(event.start, event.end)[0]
        if instance is None:
            return self._error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return Response.json(self.instance_json(instance))

    def _calendar_delta(self, request: Request) -> Response:
        if "$skiptoken" in request.query or "$deltatoken" in request.query:
            window = (None, None)
        else:
            try:
                window = (
                    datetime.fromisoformat(request.query["startDateTime"]),
                    datetime.fromisoformat(request.query["endDateTime"]),
                )
            except (KeyError, ValueError):
                return self._error(400, "ErrorInvalidParameter", "startDateTime and endDateTime are required.")
        state = self.states.get(request.query.get("$deltatoken", ""), {})
        start, end = window if window[0] else (state.get("window") or (None, None))
        instances: dict[str, Instance] = {}
        if start is not None:
            with self.mailbox.lock:
                for event in self.mailbox.events.values():
                    for instance in event.instances(start, end):
                        instances[instance.id] = instance
        versions = {i: f"{inst.event.change_key}{inst.start.isoformat()}" for i, inst in instances.items()}
        return self._delta(
            request,
            ("calendar", self.mailbox.folder("calendar").id),
            versions,
            lambda item_id: self.instance_json(instances[item_id]),
            window=(start, end),
        )

    # ---- delta rounds ---------------------------------------------------------------------------------------
    def _delta(
        self, request: Request, scope: tuple[str, str], versions: dict[str, str], render, window=None
    ) -> Response:
        size = self._page_size(request)
        with self.lock:
            if "$skiptoken" in request.query:
                round_ = self.rounds.get(request.query["$skiptoken"])
                if round_ is None:
                    return self._error(400, "BadRequest", "unknown $skiptoken")
                return self._page(request, round_, size)
            folder = self.mailbox.folders[scope[1]]
            if "$deltatoken" in request.query:
                state = self.states.get(request.query["$deltatoken"])
                if state is None or state["epoch"] != folder.epoch:
                    return self._error(410, "syncStateNotFound", "The sync state is not found or has expired; resync.")
                seen = state["seen"]
            else:
                seen = {}
            items = [render(i) for i, v in versions.items() if seen.get(i) != v]
            items += [{"id": i, "@removed": {"reason": "deleted"}} for i in seen if i not in versions]
            round_ = {
                "items": items,
                "offset": 0,
                "path": request.path,
                "next": {"epoch": folder.epoch, "seen": dict(versions), "window": window},
            }
            return self._page(request, round_, size)

    def _page(self, request: Request, round_: dict, size: int) -> Response:
        items, offset = round_["items"], round_["offset"]
        page = items[offset : offset + size]
        body: dict[str, Any] = {"@odata.context": f"{self.graph_url}/$metadata#Collection", "value": page}
        if offset + size < len(items):
            token = secrets.token_urlsafe(12)
            self.rounds[token] = {**round_, "offset": offset + size}
            body["@odata.nextLink"] = f"{self.base_url}{round_['path']}?$skiptoken={token}"
        else:
            token = base64.urlsafe_b64encode(secrets.token_bytes(12)).decode()
            self.states[token] = round_["next"]
            body["@odata.deltaLink"] = f"{self.base_url}{round_['path']}?$deltatoken={token}"
        return Response(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def _page_size(self, request: Request) -> int:
        found = re.search(r"odata\.maxpagesize=(\d+)", request.headers.get("prefer", ""))
        return int(found.group(1)) if found else self.default_page
