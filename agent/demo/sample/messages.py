"""Turns one scripted demo email (``Mail``) into the RFC 5322 bytes its sender's mail program would have written.

Replies quote their parent the way each program does (Thunderbird's "Le 13/11/2026 à 10:15, … a écrit :",
Gmail's, Apple Mail's, Roundcube's, Outlook's "-----Message d'origine-----" block), carry In-Reply-To and
References, and every text part is quoted-printable so the materializer can find and move the dates in it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage

from agent.demo.sample import ids
from agent.demo.sample.cast import Person
from agent.demo.sample.dates import (
    PARIS,
    format_abbreviated,
    format_iso,
    format_long,
    format_numeric,
    format_rfc5322,
)

# 76, not the stdlib's 78: the quoted-printable encoder uses this limit and RFC 2045 allows 76 characters a line.
POLICY = policy.default.clone(linesep="\n", max_line_length=76)
QUOTE_DEPTH = 3  # older history is cut, as long threads in real mailboxes often are


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(eq=False)
class Mail:
    """One scripted email. ``key`` is unique in the sample and seeds every identifier derived from it."""

    key: str
    sender: Person
    to: tuple[Person, ...]
    when: datetime
    subject: str
    body: str
    cc: tuple[Person, ...] = ()
    parent: Mail | None = None
    attachments: tuple[Attachment, ...] = ()
    extra_headers: tuple[tuple[str, str], ...] = ()
    has_message_id: bool = True
    reply_to: Person | None = None
    signed: bool = True
    quote_parent: bool = True
    forward: bool = False
    unread: bool = False
    flagged: bool = False
    calendar: str | None = None  # a text/calendar alternative (iTIP), with its METHOD
    html: str | None = None  # an HTML alternative (newsletters)
    builder: Callable[[Mail], bytes] | None = None  # hand-written MIME (bounces, broken charsets)
    delivered_to: tuple[str, ...] = ()  # envelope recipients when headers do not say (Bcc, lists)
    children: list[Mail] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.when.tzinfo is None:
            raise ValueError(f"{self.key}: naive date")
        if self.parent is not None:
            self.parent.children.append(self)

    @property
    def message_id(self) -> str | None:
        if not self.has_message_id:
            return None
        return ids.message_id(self.key, self.sender.client, self.sender.domain)

    @property
    def references(self) -> tuple[str, ...]:
        if self.parent is None or self.forward:
            return ()
        chain = self.parent.references + ((self.parent.message_id,) if self.parent.message_id else ())
        return chain[-8:]

    @property
    def recipients(self) -> tuple[Person, ...]:
        return self.to + self.cc


# ---------------------------------------------------------------------------------------------- text


_PREFIXES = re.compile(r"^(?:(?:re|tr|fwd?|aw|wg)\s?:\s*)+", re.IGNORECASE)


def reply_subject(parent_subject: str, replier: Person, forward: bool = False) -> str:
    """``RE : …`` from Outlook (French), ``Re: …`` elsewhere; forwards are ``TR : …`` / ``Fwd: …``."""
    core = _PREFIXES.sub("", parent_subject)
    if replier.style == "outlook":
        return ("TR : " if forward else "RE : ") + core
    return ("Fwd: " if forward else "Re: ") + core


def _clock(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%H:%M")


def _display(person: Person) -> str:
    return f"{person.name} <{person.address}>" if person.name else person.address


def _signature_block(mail: Mail) -> str:
    if not mail.signed or not mail.sender.signature:
        return ""
    delimiter = "-- \n" if mail.sender.style in ("thunderbird", "gmail", "orange", "roundcube") else ""
    return f"\n\n{delimiter}{mail.sender.signature}"


def _attribution(parent: Mail, replier: Person) -> str:
    local = parent.when.astimezone(PARIS)
    who = parent.sender.name or parent.sender.address
    if replier.style == "gmail":
        return f"Le {format_abbreviated(local)} à {_clock(local)}, {_display(parent.sender)} a écrit :"
    if replier.style == "apple":
        return f"Le {format_abbreviated(local, False)} à {_clock(local)}, {_display(parent.sender)} a écrit :"
    if replier.style == "roundcube":
        return f"Le {format_iso(local)} {_clock(local)}, {who} a écrit :"
    return f"Le {format_numeric(local)} à {_clock(local)}, {who} a écrit :"


def _outlook_header_block(parent: Mail) -> str:
    local = parent.when.astimezone(PARIS)
    lines = ["-----Message d'origine-----", f"De : {_display(parent.sender)}",
             f"Envoyé : {format_long(local)} {_clock(local)}",
             "À : " + "; ".join(_display(person) for person in parent.to)]
    if parent.cc:
        lines.append("Cc : " + "; ".join(_display(person) for person in parent.cc))
    lines.append(f"Objet : {parent.subject}")
    return "\n".join(lines)


def full_text(mail: Mail, depth: int = QUOTE_DEPTH) -> str:
    """The text part: new text, signature, then the quoted parent as the sender's program writes it."""
    text = mail.body.rstrip("\n") + _signature_block(mail)
    parent = mail.parent
    if parent is None or not mail.quote_parent or depth <= 1 or mail.sender.style == "robot":
        return text + "\n"
    quoted = full_text(parent, depth - 1).rstrip("\n")
    if mail.forward:
        local = parent.when.astimezone(PARIS)
        header = ("-------- Message transféré --------", f"Sujet : {parent.subject}",
                  f"Date : {format_numeric(local)} {_clock(local)}", f"De : {_display(parent.sender)}",
                  "Pour : " + ", ".join(_display(person) for person in parent.to))
        return f"{text}\n\n\n" + "\n".join(header) + f"\n\n\n{quoted}\n"
    if mail.sender.style == "outlook":
        return f"{text}\n\n{_outlook_header_block(parent)}\n\n{quoted}\n"
    prefixed = "\n".join(">" + line if line.startswith(">") or not line else "> " + line
                         for line in quoted.split("\n"))
    return f"{text}\n\n{_attribution(parent, mail.sender)}\n{prefixed}\n"


# ---------------------------------------------------------------------------------------------- MIME


def _address_header(people: tuple[Person, ...]) -> tuple[Address, ...]:
    return tuple(Address(display_name=person.name, addr_spec=person.address) for person in people)


def _client_headers(mail: Mail) -> list[tuple[str, str]]:
    client = mail.sender.client
    if client == "thunderbird":
        return [("User-Agent", "Mozilla Thunderbird"), ("Content-Language", "fr")]
    if client == "outlook-desktop":
        return [("X-Mailer", "Microsoft Outlook 16.0"),
                ("Thread-Index", ids.thread_index(_root(mail).key, _depth(mail))),
                ("Content-Language", "fr")]
    if client in ("outlook", "exchange"):
        return [("Thread-Topic", _PREFIXES.sub("", mail.subject)),
                ("Thread-Index", ids.thread_index(_root(mail).key, _depth(mail))), ("Content-Language", "fr-FR"),
                ("X-MS-Has-Attach", "yes" if mail.attachments else "")]
    if client == "apple":
        return [("X-Mailer", "iPhone Mail (22B91)")]
    if client == "orange":
        return [("X-Mailer", "Open-Xchange Mailer v7.10.6-Rev62"), ("X-Originating-Client", "open-xchange-appsuite")]
    if client == "roundcube":
        return [("User-Agent", "Roundcube Webmail/1.6.9")]
    return []


def _root(mail: Mail) -> Mail:
    while mail.parent is not None and not mail.forward:
        mail = mail.parent
    return mail


def _depth(mail: Mail) -> int:
    depth = 0
    while mail.parent is not None and not mail.forward:
        depth, mail = depth + 1, mail.parent
    return depth


def build_message(mail: Mail) -> EmailMessage:
    """The message as it left the sender's program (no delivery headers)."""
    message = EmailMessage(policy=POLICY)
    message["Date"] = format_rfc5322(mail.when)
    message["MIME-Version"] = "1.0"
    for name, value in _client_headers(mail):
        message[name] = value
    message["From"] = _address_header((mail.sender,))
    message["To"] = _address_header(mail.to)
    if mail.cc:
        message["Cc"] = _address_header(mail.cc)
    if mail.reply_to is not None:
        message["Reply-To"] = _address_header((mail.reply_to,))
    message["Subject"] = mail.subject
    message.set_content(full_text(mail), charset="utf-8", cte="quoted-printable")
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html", charset="utf-8", cte="quoted-printable")
    if mail.calendar is not None:
        method = re.search(r"^METHOD:(\w+)", mail.calendar, re.MULTILINE)
        message.add_alternative(mail.calendar, subtype="calendar", charset="utf-8", cte="8bit",
                                params={"method": method[1] if method else "PUBLISH"})
    for attachment in mail.attachments:
        maintype, subtype = attachment.content_type.split("/")
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    for depth, part in enumerate(message.walk()):
        if part is not message:
            del part["MIME-Version"]  # the stdlib adds it to every part; mail programs do not
        if part.is_multipart():
            part.set_boundary(ids.boundary(mail.key, depth))
    return message


def identity_headers(mail: Mail) -> bytes:
    """Message-ID, In-Reply-To, References and the extra (list, auto-reply) headers, written by hand.

    The stdlib folds a long message id into an RFC 2047 encoded word, which no mail program does and which breaks
    threading for parsers that (rightly) do not decode encoded words there; folding happens between ids only.
    """
    lines = [f"Message-ID: <{mail.message_id}>"] if mail.message_id else []
    if mail.references:
        lines.append(f"In-Reply-To: <{mail.references[-1]}>")
        references = [f"<{ref}>" for ref in mail.references]
        lines.append("References: " + references[0])
        for ref in references[1:]:
            if len(lines[-1]) + 1 + len(ref) <= POLICY.max_line_length:
                lines[-1] += " " + ref
            else:
                lines.append(" " + ref)
    for name, value in mail.extra_headers:  # List-Id, List-Unsubscribe, Auto-Submitted: ASCII, never encoded
        pieces = value.split(", ")
        lines.append(f"{name}: {pieces[0]}")
        for piece in pieces[1:]:
            lines[-1] += ","
            lines.append(" " + piece)
    return "".join(line + "\n" for line in lines).encode("ascii")


def render(mail: Mail) -> bytes:
    """The bytes of the message as sent (what the Sent folder keeps)."""
    if mail.builder is not None:
        return mail.builder(mail)
    return identity_headers(mail) + build_message(mail).as_bytes(policy=POLICY)


# ---------------------------------------------------------------------------------------------- delivery

_RELAYS = {
    "gmail.com": ("mail-wr1-f{n}.google.com", "209.85.221.{n}"),
    "orange.fr": ("smtp{n}.smtpout.orange.fr", "80.12.242.{n}"),
    "wanadoo.fr": ("smtp{n}.smtpout.orange.fr", "80.12.242.{n}"),
}


def _relay(sender: Person) -> tuple[str, str]:
    """The host that handed the message to our MX (documentation-range addresses for invented hosts)."""
    n = ids.number(200, "relay", sender.address) + 20
    if sender.domain in _RELAYS:
        host, ip = _RELAYS[sender.domain]
        return host.format(n=n), ip.format(n=n)
    if sender.client in ("outlook", "exchange"):
        return (f"mail-db{n % 9 + 1}eur0{n % 5 + 1}on2{n}.outbound.protection.outlook.com", f"198.51.100.{n}")
    return (f"mo{n}.mail-out.ovh.net", f"203.0.113.{n}")


def delivery_time(mail: Mail) -> datetime:
    """When our server stored the copy: a few seconds after the Date header."""
    return mail.when + timedelta(seconds=2 + ids.number(9, "delay", mail.key))


def delivery_headers(mail: Mail, recipient: str) -> bytes:
    """Return-Path, Delivered-To and Received lines our MX and Dovecot prepend to an inbound copy."""
    delivered = delivery_time(mail)
    queue_id = ids.hex_token(11, "queue", mail.key).upper()
    lmtp_id = ids.hex_token(22, "lmtp", mail.key, recipient)
    envelope = mail.sender.address if mail.sender.client != "robot" or "@" not in mail.sender.address else \
        f"bounce-{ids.hex_token(10, 'bounce', mail.key)}@{mail.sender.domain}"
    if mail.sender.address.startswith("MAILER-DAEMON"):
        envelope = ""
    lines = [f"Return-Path: <{envelope}>", f"Delivered-To: {recipient}",
             "Received: from mail.atelier-durand.fr", "\tby mail.atelier-durand.fr with LMTP", f"\tid {lmtp_id}",
             f"\t(envelope-from <{envelope}>)", f"\tfor <{recipient}>; {format_rfc5322(delivered)}"]
    if mail.sender.is_internal:
        lines += ["Received: from [192.168.1.23] (unknown [192.0.2.45])",
                  f"\tby mail.atelier-durand.fr (Postfix) with ESMTPSA id {queue_id}",
                  f"\tfor <{recipient}>; {format_rfc5322(delivered - timedelta(seconds=1))}"]
    else:
        host, ip = _relay(mail.sender)
        lines += [f"Received: from {host} ({host} [{ip}])",
                  "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))",
                  f"\tby mx.atelier-durand.fr (Postfix) with ESMTPS id {queue_id}",
                  f"\tfor <{recipient}>; {format_rfc5322(delivered - timedelta(seconds=1))}"]
    return ("\n".join(lines) + "\n").encode("ascii")
