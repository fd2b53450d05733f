"""SOAP envelopes and EWS item elements for the test EWS server, as Microsoft's EWS reference documents them.

Namespaces, element names and the response layout (``<m:XResponse><m:ResponseMessages><m:XResponseMessage
ResponseClass=...><m:ResponseCode>``) follow the EWS XML reference pages (GetFolder, FindFolder, SyncFolderItems,
GetItem, FindItem with CalendarView, ResponseCode) and the "EWS throttling" page for ErrorServerBusy, which
Exchange sends as a SOAP fault carrying ``BackOffMilliseconds`` in ``MessageXml``.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from lxml import etree

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
E = "http://schemas.microsoft.com/exchange/services/2006/errors"
NSMAP = {"s": SOAP, "m": M, "t": T}
PARIS = "Romance Standard Time"  # the Windows zone id Exchange uses for Europe/Paris
SERIES_HORIZON = timedelta(days=3650)


def m(tag: str) -> str:
    return f"{{{M}}}{tag}"


def t(tag: str) -> str:
    return f"{{{T}}}{tag}"


def ews_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sub(parent: etree._Element, tag: str, text: object = None, **attrib: str) -> etree._Element:
    child = etree.SubElement(parent, tag, {k: v for k, v in attrib.items() if v is not None})
    if text is not None:
        child.text = (
            text if isinstance(text, str) else ("true" if text is True else "false" if text is False else str(text))
        )
    return child


def envelope(body_child: etree._Element) -> bytes:
    root = etree.Element(f"{{{SOAP}}}Envelope", nsmap=NSMAP)
    header = sub(root, f"{{{SOAP}}}Header")
    sub(
        header,
        t("ServerVersionInfo"),
        MajorVersion="15",
        MinorVersion="1",
        MajorBuildNumber="2507",
        MinorBuildNumber="6",
        Version="V2017_07_11",
    )
    sub(root, f"{{{SOAP}}}Body").append(body_child)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def response(operation: str, messages: list[etree._Element]) -> bytes:
    """``<m:{operation}Response><m:ResponseMessages>...`` around already built response messages."""
    outer = etree.Element(m(f"{operation}Response"), nsmap=NSMAP)
    holder = sub(outer, m("ResponseMessages"))
    for message in messages:
        holder.append(message)
    return envelope(outer)


def message(operation: str, code: str = "NoError", text: str | None = None) -> etree._Element:
    element = etree.Element(
        m(f"{operation}ResponseMessage"), ResponseClass="Success" if code == "NoError" else "Error", nsmap=NSMAP
    )
    if text:
        sub(element, m("MessageText"), text)
    sub(element, m("ResponseCode"), code)
    if code != "NoError":
        sub(element, m("DescriptiveLinkKey"), "0")
    return element


def fault(code: str, text: str, back_off_ms: int | None = None) -> bytes:
    """A SOAP fault as Exchange sends ErrorServerBusy (HTTP 500) and schema-level refusals."""
    root = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"s": SOAP, "e": E, "t": T})
    failure = sub(sub(root, f"{{{SOAP}}}Body"), f"{{{SOAP}}}Fault")
    sub(failure, "faultcode", f"a:{code}")
    sub(failure, "faultstring", text)
    detail = sub(failure, "detail")
    sub(detail, f"{{{E}}}ResponseCode", code)
    sub(detail, f"{{{E}}}Message", text)
    if back_off_ms is not None:
        xml = sub(detail, t("MessageXml"))
        sub(xml, t("Value"), str(back_off_ms), Name="BackOffMilliseconds")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def mailbox(parent: etree._Element, tag: str, name: str, address: str) -> etree._Element:
    holder = sub(parent, tag)
    box = sub(holder, t("Mailbox"))
    sub(box, t("Name"), name or address)
    sub(box, t("EmailAddress"), address)
    sub(box, t("RoutingType"), "SMTP")
    return holder


def recipients(parent: etree._Element, tag: str, boxes: list[tuple[str, str]]) -> None:
    if not boxes:
        return
    holder = sub(parent, tag)
    for name, address in boxes:
        box = sub(holder, t("Mailbox"))
        sub(box, t("Name"), name or address)
        sub(box, t("EmailAddress"), address)
        sub(box, t("RoutingType"), "SMTP")


def folder_element(folder, total: int, children: int) -> etree._Element:
    element = etree.Element(t("CalendarFolder" if folder.kind == "calendar" else "Folder"), nsmap=NSMAP)
    sub(element, t("FolderId"), Id=folder.id, ChangeKey="AQAAAA==")
    if folder.parent:
        sub(element, t("ParentFolderId"), Id=folder.parent, ChangeKey="AQAAAA==")
    sub(element, t("FolderClass"), "IPF.Appointment" if folder.kind == "calendar" else "IPF.Note")
    sub(element, t("DisplayName"), folder.name)
    sub(element, t("TotalCount"), total)
    sub(element, t("ChildFolderCount"), children)
    if folder.kind != "calendar":
        sub(element, t("UnreadCount"), 0)
    return element


def message_element(stored, fields: set[str]) -> etree._Element:
    """A ``t:Message`` with the FieldURIs asked (``item:MimeContent``, ``message:From``...); ItemId always."""
    element = etree.Element(t("Message"), nsmap=NSMAP)
    if "item:MimeContent" in fields:
        sub(element, t("MimeContent"), base64.b64encode(stored.raw).decode(), CharacterSet="UTF-8")
    sub(element, t("ItemId"), Id=stored.id, ChangeKey=stored.change_key)
    if "item:Subject" in fields:
        sub(element, t("Subject"), stored.header("Subject"))
    if "item:DateTimeReceived" in fields:
        sub(element, t("DateTimeReceived"), ews_time(stored.date()))
    if "item:Size" in fields:
        sub(element, t("Size"), len(stored.raw))
    if "item:InternetMessageHeaders" in fields:
        holder = sub(element, t("InternetMessageHeaders"))
        for name, value in stored.header_pairs():
            sub(holder, t("InternetMessageHeader"), value, HeaderName=name)
    if "item:DateTimeSent" in fields:
        sub(element, t("DateTimeSent"), ews_time(stored.date()))
    if "item:InReplyTo" in fields and stored.header("In-Reply-To"):
        sub(element, t("InReplyTo"), stored.header("In-Reply-To"))
    if "message:Sender" in fields:
        for name, address in (stored.addresses("Sender") or stored.addresses("From"))[:1]:
            mailbox(element, t("Sender"), name, address)
    for uri, tag, header in (
        ("message:ToRecipients", "ToRecipients", "To"),
        ("message:CcRecipients", "CcRecipients", "Cc"),
        ("message:BccRecipients", "BccRecipients", "Bcc"),
    ):
        if uri in fields:
            recipients(element, t(tag), stored.addresses(header))
    if "message:From" in fields:
        for name, address in stored.addresses("From")[:1]:
            mailbox(element, t("From"), name, address)
    if "message:InternetMessageId" in fields and stored.header("Message-ID"):
        sub(element, t("InternetMessageId"), stored.header("Message-ID"))
    if "message:References" in fields and stored.header("References"):
        sub(element, t("References"), stored.header("References"))
    if "message:ReplyTo" in fields:
        recipients(element, t("ReplyTo"), stored.addresses("Reply-To"))
    return element


def attendees(parent: etree._Element, tag: str, people: list) -> None:
    if not people:
        return
    holder = sub(parent, tag)
    for person in people:
        attendee = sub(holder, t("Attendee"))
        box = sub(attendee, t("Mailbox"))
        sub(box, t("Name"), person.name or person.address)
        sub(box, t("EmailAddress"), person.address)
        sub(box, t("RoutingType"), "SMTP")
        sub(attendee, t("ResponseType"), person.response)


def calendar_element(
    event,
    *,
    item_id: str,
    kind: str,
    start: datetime,
    end: datetime,
    subject: str,
    location: str,
    original_start: datetime | None,
    fields: set[str],
    with_occurrences: bool = False,
) -> etree._Element:
    """A ``t:CalendarItem``: a single event, a recurring master, or one occurrence / exception of a series."""
    element = etree.Element(t("CalendarItem"), nsmap=NSMAP)
    change_key = event.change_key if kind != "Exception" else f"{event.change_key}X"
    sub(element, t("ItemId"), Id=item_id, ChangeKey=change_key)
    sub(element, t("Subject"), subject)
    if "item:TextBody" in fields and event.body:
        sub(element, t("TextBody"), event.body, BodyType="Text")
    sub(element, t("UID"), event.uid)
    sub(element, t("Start"), ews_time(start))
    sub(element, t("End"), ews_time(end))
    if original_start is not None:
        sub(element, t("OriginalStart"), ews_time(original_start))
    sub(element, t("IsAllDayEvent"), event.all_day)
    sub(element, t("Location"), location)
    sub(element, t("IsCancelled"), event.cancelled)
    sub(element, t("CalendarItemType"), kind)
    mailbox(element, t("Organizer"), event.organizer.name, event.organizer.address)
    if kind != "Occurrence" or "calendar:RequiredAttendees" in fields:
        attendees(element, t("RequiredAttendees"), [a for a in event.attendees if a.required])
        attendees(element, t("OptionalAttendees"), [a for a in event.attendees if not a.required])
    if with_occurrences and event.is_series:
        modified = [i for i in event.instances(event.start, event.start + SERIES_HORIZON) if i.kind == "Exception"]
        if modified:
            holder = sub(element, t("ModifiedOccurrences"))
            for instance in modified:
                occurrence = sub(holder, t("Occurrence"))
                sub(occurrence, t("ItemId"), Id=instance.id, ChangeKey=f"{event.change_key}X")
                sub(occurrence, t("Start"), ews_time(instance.start))
                sub(occurrence, t("End"), ews_time(instance.end))
                sub(occurrence, t("OriginalStart"), ews_time(instance.original_start))
        if event.deleted:
            holder = sub(element, t("DeletedOccurrences"))
            for original in sorted(event.deleted):
                sub(sub(holder, t("DeletedOccurrence")), t("Start"), ews_time(original))
    sub(element, t("StartTimeZone"), Id=PARIS, Name="(UTC+01:00) Brussels, Copenhagen, Madrid, Paris")
    sub(element, t("EndTimeZone"), Id=PARIS, Name="(UTC+01:00) Brussels, Copenhagen, Madrid, Paris")
    return element
