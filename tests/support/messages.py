"""Test messages: small, valid RFC 5322 mails with controllable headers (threads, duplicates, noise)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

BASE = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


def make_message(
    n: int,
    *,
    sender: str = "client{n}@acme.fr",
    to: str = "claire@atelier-durand.fr",
    cc: str | None = None,
    subject: str = "Demande de devis n°{n}",
    message_id: str | None = "<msg{n}@acme.fr>",
    in_reply_to: str | None = None,
    date: datetime | None = None,
    extra_headers: dict[str, str] | None = None,
    body: str = "Bonjour,\n\nMerci de nous envoyer votre meilleure offre.\n\nCordialement,\n",
    size_pad: int = 0,
) -> bytes:
    when = date or BASE + timedelta(minutes=n)
    headers = {
        "From": sender.format(n=n),
        "To": to.format(n=n),
        "Subject": subject.format(n=n),
        "Date": format_datetime(when),
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Transfer-Encoding": "8bit",
    }
    if cc:
        headers["Cc"] = cc.format(n=n)
    if message_id:
        headers["Message-ID"] = message_id.format(n=n)
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
        headers["References"] = in_reply_to
    headers.update(extra_headers or {})
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    text = body + ("x" * size_pad + "\n" if size_pad else "")
    return (head + "\r\n" + text.replace("\n", "\r\n")).encode("utf-8")


def bulk(count: int, start: int = 0, **kwargs) -> list[bytes]:
    return [make_message(n, **kwargs) for n in range(start, start + count)]
