"""An EWS endpoint on 127.0.0.1 answering the operations crm-agent's ``ews`` connector sends, the way Exchange does.

No EWS server can run here (none is packaged for Debian or PyPI; see docs/MICROSOFT.md), so this one was written
from Microsoft's EWS reference and driven through the real exchangelib code path:

- ``GetFolder`` (distinguished ids and FolderIds), ``FindFolder`` (shallow or deep);
- ``SyncFolderItems``: the SyncState is opaque to the client; each answer carries up to ``MaxChangesReturned``
  changes (Create / Update / Delete, items as IdOnly) and a new SyncState; ``IncludesLastItemInRange`` says
  whether more remain. A state issued before ``mailbox.invalidate(folder)`` (or garbage) answers
  ``ErrorInvalidSyncStateData``;
- ``GetItem`` honours the shape (``IdOnly`` + ``AdditionalProperties``, or ``AllProperties``, which leaves
  out MimeContent as Exchange does); a missing item answers ``ErrorItemNotFound`` in its own response message;
- ``FindItem`` with ``CalendarView`` expands series into occurrences and exceptions;
- ``busy(back_off_ms)`` makes the next request a SOAP fault ``ErrorServerBusy`` with ``BackOffMilliseconds``;
- any other operation answers a SOAP fault, so a request this server does not know fails loudly.

Authentication: HTTP Basic against ``users``, a Bearer token the IdentityServer issued, or, with ``ntlm=True``,
NTLM as IIS does it: the three-message handshake on one keep-alive connection (pyspnego is the acceptor, reading
the users from ``$NTLM_USER_FILE``), after which that connection stays authenticated.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from lxml import etree

from tests.microsoft import ews_xml as x
from tests.microsoft.http_base import ProtocolServer, Request, Response
from tests.microsoft.mailbox import Mailbox

ITEM_DEFAULTS = {
    "item:Subject",
    "item:DateTimeReceived",
    "item:Size",
    "item:DateTimeSent",
    "message:Sender",
    "message:ToRecipients",
    "message:CcRecipients",
    "message:From",
    "message:InternetMessageId",
}
XML = {"Content-Type": "text/xml; charset=utf-8"}


class EwsServer(ProtocolServer):
    name = "ews-server"

    def __init__(self, mailbox: Mailbox, *, users: dict[str, str] | None = None, identity=None, cert=None,
                 ntlm: bool = False) -> None:
        super().__init__(cert=cert)
        self.mailbox = mailbox
        self.users = dict(users or {})
        self.identity = identity
        self.ntlm = ntlm
        self.ntlm_contexts: dict[int, object] = {}  # connection -> handshake in progress
        self.ntlm_users: dict[int, str] = {}  # connection -> the user it authenticated
        self.states: dict[str, dict] = {}
        self.operations: list[str] = []

    @property
    def url(self) -> str:
        return f"{self.base_url}/EWS/Exchange.asmx"

    def busy(self, back_off_ms: int, count: int = 1) -> None:
        self.fail_next(
            "/EWS/",
            Response(
                500,
                x.fault(
                    "ErrorServerBusy", "The server cannot service this request right now. Try again later.", back_off_ms
                ),
                XML,
            ),
            count,
        )

    # ---- dispatch -------------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path.lower() != "/ews/exchange.asmx":
            return Response(404, b"not found")
        if self.ntlm:
            challenge = self._ntlm_step(request)
            if challenge is not None:
                return challenge
        elif not self._authorized(request.headers.get("authorization", "")):
            return Response(401, b"", {"WWW-Authenticate": 'Basic realm="127.0.0.1"'})
        body = etree.fromstring(request.body).find(f"{{{x.SOAP}}}Body")
        operation = body[0]
        name = etree.QName(operation).localname
        with self.lock:
            self.operations.append(name)
        handler = getattr(self, f"_op_{name}", None)
        if handler is None:
            return Response(
                500, x.fault("ErrorInvalidOperation", f"crm-agent test EWS server: {name} is not implemented"), XML
            )
        with self.mailbox.lock:
            return Response(200, handler(operation), XML)

    def _ntlm_step(self, request: Request) -> Response | None:
        """None once the request's connection is authenticated; else the 401 that carries the handshake on."""
        import spnego

        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self.lock:
            if scheme.lower() != "ntlm":
                if request.connection in self.ntlm_users:
                    return None
                return Response(401, b"", {"WWW-Authenticate": "NTLM"})
            message = base64.b64decode(token)
            if message.startswith(b"NTLMSSP\x00\x01"):  # a Negotiate message starts a new handshake
                self.ntlm_contexts[request.connection] = spnego.server(protocol="ntlm")
            context = self.ntlm_contexts.get(request.connection)
            if context is None:
                return Response(401, b"", {"WWW-Authenticate": "NTLM"})
            try:
                answer = context.step(message)
            except spnego.exceptions.SpnegoError:
                del self.ntlm_contexts[request.connection]
                return Response(401, b"", {"WWW-Authenticate": "NTLM"})
            if not context.complete:
                return Response(401, b"", {"WWW-Authenticate": "NTLM " + base64.b64encode(answer).decode()})
            del self.ntlm_contexts[request.connection]
            self.ntlm_users[request.connection] = context.client_principal
            return None

    def _authorized(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            user, _, password = base64.b64decode(value).decode().partition(":")
            return self.users.get(user) == password
        if scheme.lower() == "bearer" and self.identity is not None:
            return self.identity.grant_for(value.strip()) is not None
        return False

    # ---- folders --------------------------------------------------------------------------------------------
    def _folder_ref(self, element) -> str | None:
        for child in element:
            if child.get("Id"):
                return child.get("Id")
        return None

    def _folder_xml(self, folder):
        total = (
            len(self.mailbox.in_folder(folder.id))
            if folder.kind == "mail"
            else sum(1 for e in self.mailbox.events.values() if e.folder == folder.id)
        )
        return x.folder_element(folder, total, len(self.mailbox.children(folder.id)))

    def _op_GetFolder(self, operation) -> bytes:
        replies = []
        for ref in operation.find(x.m("FolderIds")):
            folder = self.mailbox.folder("msgfolderroot" if ref.get("Id") == "root" else ref.get("Id"))
            if folder is None:
                replies.append(
                    x.message("GetFolder", "ErrorFolderNotFound", "The specified folder could not be found.")
                )
                continue
            reply = x.message("GetFolder")
            x.sub(reply, x.m("Folders")).append(self._folder_xml(folder))
            replies.append(reply)
        return x.response("GetFolder", replies)

    def _op_FindFolder(self, operation) -> bytes:
        deep = operation.get("Traversal") == "Deep"
        replies = []
        for ref in operation.find(x.m("ParentFolderIds")):
            parent = self.mailbox.folder("msgfolderroot" if ref.get("Id") == "root" else ref.get("Id"))
            found, queue = [], list(self.mailbox.children(parent.id)) if parent else []
            while queue:
                folder = queue.pop(0)
                found.append(folder)
                if deep:
                    queue.extend(self.mailbox.children(folder.id))
            reply = x.message("FindFolder")
            root = x.sub(reply, x.m("RootFolder"), TotalItemsInView=str(len(found)), IncludesLastItemInRange="true")
            holder = x.sub(root, x.t("Folders"))
            for folder in found:
                holder.append(self._folder_xml(folder))
            replies.append(reply)
        return x.response("FindFolder", replies)

    # ---- sync -----------------------------------------------------------------------------------------------
    def _current(self, folder) -> dict[str, tuple[str, str]]:
        """id -> (change key, item tag) of what the folder holds now, in creation order."""
        if folder.kind == "calendar":
            events = sorted((e for e in self.mailbox.events.values() if e.folder == folder.id), key=lambda e: e.created)
            return {e.id: (e.change_key, "CalendarItem") for e in events}
        return {msg.id: (msg.change_key, "Message") for msg in self.mailbox.in_folder(folder.id)}

    def _op_SyncFolderItems(self, operation) -> bytes:
        folder = self.mailbox.folder(self._folder_ref(operation.find(x.m("SyncFolderId"))) or "")
        if folder is None:
            return x.response(
                "SyncFolderItems", [x.message("SyncFolderItems", "ErrorFolderNotFound", "No such folder.")]
            )
        token = (operation.findtext(x.m("SyncState")) or "").strip()
        limit = int(operation.findtext(x.m("MaxChangesReturned")) or 100)
        if token:
            state = self.states.get(token)
            if state is None or state["folder"] != folder.id or state["epoch"] != folder.epoch:
                refusal = x.message(
                    "SyncFolderItems",
                    "ErrorInvalidSyncStateData",
                    "Synchronization state data is corrupt or otherwise invalid.",
                )
                x.sub(refusal, x.m("SyncState"))  # Exchange sends these two, empty, with the error
                x.sub(refusal, x.m("IncludesLastItemInRange"), True)
                return x.response("SyncFolderItems", [refusal])
            seen = dict(state["seen"])
        else:
            seen = {}
        current = self._current(folder)
        changes = [
            ("Create" if i not in seen else "Update", i) for i, (key, _) in current.items() if seen.get(i) != key
        ]
        changes += [("Delete", i) for i in seen if i not in current]
        page, complete = changes[:limit], len(changes) <= limit
        reply = x.message("SyncFolderItems")
        new_token = base64.b64encode(secrets.token_bytes(24)).decode()
        x.sub(reply, x.m("SyncState"), new_token)
        x.sub(reply, x.m("IncludesLastItemInRange"), complete)
        holder = x.sub(reply, x.m("Changes"))
        for kind, item_id in page:
            change = x.sub(holder, x.t(kind))
            if kind == "Delete":
                x.sub(change, x.t("ItemId"), Id=item_id, ChangeKey=seen[item_id])
                del seen[item_id]
            else:
                key, tag = current[item_id]
                x.sub(x.sub(change, x.t(tag)), x.t("ItemId"), Id=item_id, ChangeKey=key)
                seen[item_id] = key
        self.states[new_token] = {"folder": folder.id, "epoch": folder.epoch, "seen": seen}
        return x.response("SyncFolderItems", [reply])

    # ---- items ----------------------------------------------------------------------------------------------
    @staticmethod
    def _shape(operation) -> set[str]:
        shape = operation.find(x.m("ItemShape"))
        fields = {uri.get("FieldURI") for uri in shape.iter(x.t("FieldURI"))} if shape is not None else set()
        if shape is not None and shape.findtext(x.t("BaseShape")) in ("AllProperties", "Default"):
            fields |= ITEM_DEFAULTS
        return fields

    def _op_GetItem(self, operation) -> bytes:
        fields = self._shape(operation)
        replies = []
        for ref in operation.find(x.m("ItemIds")):
            element = self._item(ref.get("Id"), fields)
            if element is None:
                replies.append(
                    x.message("GetItem", "ErrorItemNotFound", "The specified object was not found in the store.")
                )
                continue
            reply = x.message("GetItem")
            x.sub(reply, x.m("Items")).append(element)
            replies.append(reply)
        return x.response("GetItem", replies)

    def _item(self, item_id: str, fields: set[str]):
        stored = self.mailbox.messages.get(item_id)
        if stored is not None:
            return x.message_element(stored, fields)
        event = self.mailbox.events.get(item_id)
        if event is not None:
            kind = "RecurringMaster" if event.is_series else "Single"
            return x.calendar_element(
                event,
                item_id=event.id,
                kind=kind,
                start=event.start,
                end=event.end,
                subject=event.subject,
                location=event.location,
                original_start=None,
                fields=fields,
                with_occurrences=True,
            )
        instance = self.mailbox.find_instance(item_id)
        if instance is not None:
            return x.calendar_element(
                instance.event,
                item_id=instance.id,
                kind=instance.kind,
                start=instance.start,
                end=instance.end,
                subject=instance.subject,
                location=instance.location,
                original_start=instance.original_start,
                fields=fields | {"calendar:RequiredAttendees"},
            )
        return None

    def _op_FindItem(self, operation) -> bytes:
        view = operation.find(x.m("CalendarView"))
        if view is None:
            return x.fault(
                "ErrorInvalidOperation", "crm-agent test EWS server: FindItem without CalendarView is not implemented"
            )
        start, end = (datetime.fromisoformat(view.get(k)) for k in ("StartDate", "EndDate"))
        instances = sorted(
            (i for e in self.mailbox.events.values() for i in e.instances(start, end)), key=lambda i: i.start
        )
        reply = x.message("FindItem")
        root = x.sub(reply, x.m("RootFolder"), TotalItemsInView=str(len(instances)), IncludesLastItemInRange="true")
        holder = x.sub(root, x.t("Items"))
        for instance in instances:
            holder.append(
                x.calendar_element(
                    instance.event,
                    item_id=instance.id,
                    kind=instance.kind,
                    start=instance.start,
                    end=instance.end,
                    subject=instance.subject,
                    location=instance.location,
                    original_start=instance.original_start,
                    fields=set(),
                )
            )
        return x.response("FindItem", [reply])
