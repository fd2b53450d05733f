"""Small helpers the demo storylines are written with: dates, fake attachment bytes, replies, quote texts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from agent.demo.sample import ids
from agent.demo.sample.cast import CLAIRE, Person
from agent.demo.sample.dates import PARIS, format_numeric
from agent.demo.sample.expectations import QuoteCase, format_euros
from agent.demo.sample.messages import Attachment, Mail, reply_subject


def at(text: str) -> datetime:
    """``"2026-11-13 10:15"`` in Europe/Paris, with stable pseudo-random seconds (mail programs write them)."""
    moment = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=PARIS)
    return moment.replace(second=ids.number(60, "seconds", text))


def fake_pdf(filename: str, title: str) -> Attachment:
    """A tiny but well-formed PDF naming what it stands for."""
    text = title.encode("latin-1", errors="replace")
    stream = b"BT /F1 14 Tf 72 770 Td (" + text + b") Tj ET"
    body = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R>>endobj\n"
            b"4 0 obj<</Length " + str(len(stream)).encode() + b">>stream\n" + stream + b"\nendstream endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")
    return Attachment(filename, "application/pdf", body)


def fake_jpeg(filename: str) -> Attachment:
    """A few bytes that start like a JPEG (the pipeline only keeps attachment names)."""
    return Attachment(filename, "image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + ids.digest("jpeg", filename)
                      + b"\xff\xd9")


def reply(key: str, parent: Mail, sender: Person, when: datetime, body: str, *, to: tuple[Person, ...] = (),
          cc: tuple[Person, ...] = (), **options) -> Mail:
    """A reply to ``parent`` (to its sender unless ``to`` says otherwise), subject prefixed the sender's way."""
    recipients = to or (parent.sender,)
    return Mail(key, sender, recipients, when, reply_subject(parent.subject, sender), body, cc=cc, parent=parent,
                **options)


def ttc(amount: Decimal) -> Decimal:
    return (amount * Decimal("1.2")).quantize(Decimal("0.01"))


def quote_mail(quote: QuoteCase, greeting: str, context: str, conditions: str, *, parent: Mail | None = None,
               sender: Person = CLAIRE) -> Mail:
    """Claire's quote email: the PDF, the amount line the relance rule reads, the usual conditions."""
    amount = format_euros(quote.amount_ht, quote.thousands_separator)
    body = (f"{greeting}\n\n{context}\n\nVeuillez trouver ci-joint notre devis n° {quote.number} du "
            f"{format_numeric(quote.sent_at)} ({quote.title.lower()}).\n\n"
            f"Montant total : {amount} HT\n"
            f"Soit {format_euros(ttc(quote.amount_ht), quote.thousands_separator)} TTC (TVA 20 %).\n"
            f"{conditions}\nDevis valable 30 jours.\n\n"
            "Je reste à votre disposition pour en discuter ou pour ajuster certains postes.\n\n"
            "Bien cordialement,")
    return Mail(quote.key, sender, (quote.client,), at(quote.sent_at.strftime("%Y-%m-%d %H:%M")), quote.subject,
                body, cc=quote.cc, parent=parent, quote_parent=False,
                attachments=(fake_pdf(quote.attachment, f"Atelier Durand - Devis {quote.number}"),))
