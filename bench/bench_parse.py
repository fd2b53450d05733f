"""Benchmark email parsing: crm-agent's parse_email against the stdlib email package, in msg/s, one core.

Corpora are generated in memory (seeded, so every run parses the same bytes):

- header blocks as an IMAP backfill fetches them: From/To/Cc/Subject/Date/Message-ID/In-Reply-To/References plus
  the noise headers, Exchange-style message ids, names drawn from a pool of 400 people (a quarter with accents,
  RFC 2047-encoded, some "Last, First" quoted). *threaded* (typical): conversations among a fixed group, replies
  carrying the References chain (up to 30 ids); *random* (worst case for the caches): every To/Cc list is new;
- whole messages: multipart/alternative French B2B mails, a third with a PDF attachment and quoted replies.

Rates are messages per CPU second of this process, best of ``--repeat`` runs, caches emptied before each run.

The stdlib column parses the same bytes with ``email.message_from_bytes(policy=email.policy.default)`` and reads
the same fields (addresses, subject, date, ids; for whole messages the preferred text body and attachment names),
so both columns do the same work. Run: ``.venv/bin/python bench/bench_parse.py [--count N] [--repeat R]``.
The backfill target is >= 40,000 msg/s for header blocks on one core.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import random
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime

from agent.pipeline.parse_email import clear_caches, parse_email
from agent.records import Visibility

FIRST = ["Jean", "Marie", "Pierre", "Sophie", "Éric", "Hélène", "François", "Amélie", "Luc", "Claire", "Noël"]
LAST = ["Dupont", "Martin", "Bernard", "Lefèvre", "Moreau", "Girard", "Roux", "Fournier", "Mercier", "Chevalier"]
DOMAINS = ["acme-industrie.fr", "batiplus.fr", "cabinet-roux.fr", "gmail.com", "orange.fr", "transports-lb.com"]
SUBJECTS = ["Devis n°{n}", "Relance facture {n}", "Commande {n} — livraison", "Rendez-vous jeudi", "Contrat {n}"]
FOLDED_COMMA = ",\r\n "
PREFIXES = ["", "", "RE: ", "Re: ", "TR: ", "RE: RE: "]


def _pool(rng: random.Random, size: int = 400) -> list[str]:
    people = []
    for _ in range(size):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        address = f"{first.lower()}.{last.lower()}@{rng.choice(DOMAINS)}".encode("ascii", "ignore").decode()
        display = f"{first} {last}"
        if not display.isascii():
            display = _encoded_word(display)
        elif rng.random() < 0.2:
            display = f'"{last}, {first}"'
        people.append(f"{display} <{address}>" if rng.random() < 0.85 else address)
    return people


def _encoded_word(text: str) -> str:
    """RFC 2047 Q encoding, as mailers write non-ASCII names and subjects."""
    encoded = "".join(c if c.isascii() and c.isalnum() else "_" if c == " " else
                      "".join(f"={b:02X}" for b in c.encode()) for c in text)
    return f"=?UTF-8?Q?{encoded}?="


def _subject(rng: random.Random) -> str:
    return _encode(rng.choice(PREFIXES) + rng.choice(SUBJECTS).format(n=rng.randint(100, 9999)))


def _encode(text: str) -> str:
    return text if text.isascii() else _encoded_word(text)


def _outlook_id(rng: random.Random) -> str:
    """A Message-ID the way Exchange Online writes them (~90 characters), the most common kind in French SMEs."""
    server = f"{rng.choice(['PAXPR', 'AM0PR', 'DB9PR', 'PR1P264'])}0{rng.randint(1, 9)}MB{rng.randint(1000, 9999)}"
    return f"<{server}{rng.getrandbits(128):032X}@{server}.eurprd0{rng.randint(1, 9)}.prod.outlook.com>"


def _block(rng: random.Random, i: int, sender: str, to: list[str], cc: list[str], subject: str,
           references: list[str], message_id: str) -> bytes:
    lines = [
        f"Return-Path: <{sender.rpartition('<')[2].rstrip('>')}>",
        f"From: {sender}",
        "To: " + FOLDED_COMMA.join(to),
        "Cc: " + FOLDED_COMMA.join(cc),
        f"Subject: {subject}",
        f"Date: {format_datetime(_date(i))}",
        f"Message-ID: {message_id}",
        'Content-Type: multipart/alternative; boundary="_000_' + message_id[1:30] + '_"',
    ]
    if references:
        lines.append(f"In-Reply-To: {references[-1]}")
        lines.append("References: " + "\r\n ".join(references))
    if rng.random() < 0.1:
        lines.append(f"List-Unsubscribe: <mailto:unsub-{i}@lists.example.com>, <https://lists.example.com/u/{i}>")
    lines = [line for line in lines if not line.endswith(": ")]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def threaded_header_blocks(count: int, seed: int = 7) -> list[bytes]:
    """A mailbox as it is: conversations of 1-40 mails among a fixed group, replies carrying the References chain."""
    rng = random.Random(seed)
    people = _pool(rng)
    blocks: list[bytes] = []
    while len(blocks) < count:
        members = rng.sample(people, rng.randint(2, 7))
        topic = rng.choice(SUBJECTS).format(n=rng.randint(100, 9999))
        ids: list[str] = []
        for k in range(min(rng.randint(1, 40), count - len(blocks))):
            sender = members[k % 2] if rng.random() < 0.8 else rng.choice(members)
            others = [m for m in members if m != sender]
            subject = topic if k == 0 else rng.choice(["RE: ", "Re: ", "RE : ", "TR: "]) + topic
            message_id = _outlook_id(rng)
            blocks.append(_block(rng, len(blocks), sender, others[:1], others[1:], _encode(subject), ids, message_id))
            ids = [*ids, message_id][-30:]
    return blocks


def random_header_blocks(count: int, seed: int = 7) -> list[bytes]:
    """Worst case for the address caches: every To and Cc list is a new random draw from the pool."""
    rng = random.Random(seed)
    people = _pool(rng)
    blocks = []
    for i in range(count):
        ids = [_outlook_id(rng) for _ in range(rng.randint(0, 24))]
        to, cc = rng.sample(people, rng.randint(1, 6)), rng.sample(people, rng.randint(0, 6))
        blocks.append(_block(rng, i, rng.choice(people), to, cc, _subject(rng), ids, _outlook_id(rng)))
    return blocks


def _date(i: int) -> datetime:
    zone = timezone(timedelta(hours=1 if i % 3 else 2))
    return datetime(2024, 1, 1, tzinfo=zone) + timedelta(minutes=37 * i)


def whole_messages(count: int, seed: int = 11) -> list[bytes]:
    rng = random.Random(seed)
    headers = threaded_header_blocks(count, seed)
    messages = []
    for i, block in enumerate(headers):
        parsed = email.message_from_bytes(block, policy=email.policy.default)
        message = EmailMessage()
        for name in ("From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References"):
            if parsed[name] is not None:
                message[name] = str(parsed[name])
        text = (
            "Bonjour,\n\nVeuillez trouver ci-joint notre proposition, valable 30 jours.\n"
            "N'hésitez pas à revenir vers moi pour toute question.\n\nCordialement,\n-- \nJean Dupont\nACME\n"
        )
        if rng.random() < 0.6:
            text += "\nLe lun. 3 juin 2024 à 10:12, Marie Martin <marie@batiplus.fr> a écrit :\n" + "> ancien\n" * 20
        message.set_content(text)
        message.add_alternative(f"<html><body><p>{text.replace(chr(10), '<br>')}</p></body></html>", subtype="html")
        if i % 3 == 0:
            message.add_attachment(rng.randbytes(20_000), maintype="application", subtype="pdf",
                                   filename=f"Devis n°{i} signé.pdf")
        messages.append(message.as_bytes())
    return messages


def stdlib_headers(data: bytes) -> object:
    message = email.message_from_bytes(data, policy=email.policy.default)
    fields = [message[name] for name in ("from", "to", "cc", "subject", "message-id", "in-reply-to", "references")]
    addresses = [a.addr_spec for name in ("from", "to", "cc") if message[name] for a in message[name].addresses]
    date = message["date"]
    return fields, addresses, date.datetime if date is not None and date.datetime else None


def stdlib_whole(data: bytes) -> object:
    message = email.message_from_bytes(data, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    names = [part.get_filename() for part in message.iter_attachments()]
    return stdlib_headers(data), text, names


def rate(function: Callable[[bytes], object], corpus: list[bytes], repeat: int) -> float:
    """Best of ``repeat`` runs, in messages per CPU second of this process (other load on the machine does not
    count against us; a busy machine still slows both columns alike through shared caches)."""
    best = []
    for _ in range(repeat):
        clear_caches()  # every run starts cold, as a new backfill would
        start = time.process_time()
        for data in corpus:
            function(data)
        best.append(len(corpus) / max(time.process_time() - start, 1e-9))
    return max(best)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--count", type=int, default=20_000, help="header blocks (whole messages: a tenth)")
    options.add_argument("--repeat", type=int, default=3)
    args = options.parse_args()
    threaded, random_lists = threaded_header_blocks(args.count), random_header_blocks(args.count)
    messages = whole_messages(max(1, args.count // 10))
    for label, corpus in (("threaded", threaded), ("random", random_lists), ("whole", messages)):
        print(f"{label} corpus: {len(corpus)} items, mean {statistics.mean(map(len, corpus)):,.0f} bytes")
    print(f"{'corpus':<34}{'parse_email msg/s':>18}{'stdlib msg/s':>14}{'ratio':>8}")
    ours = lambda data: parse_email(data, visibility=Visibility.SNIPPET)  # noqa: E731
    rows = [
        ("header-only, threaded (typical)", ours, stdlib_headers, threaded),
        ("header-only, random lists (worst)", ours, stdlib_headers, random_lists),
        ("whole message", ours, stdlib_whole, messages),
    ]
    for label, ours, theirs, corpus in rows:
        # The stdlib is ~100x slower: its rate is taken on the first 2,000 items so a run stays short.
        fast, slow = rate(ours, corpus, args.repeat), rate(theirs, corpus[:2000], args.repeat)
        print(f"{label:<34}{fast:>18,.0f}{slow:>14,.0f}{fast / slow:>7.1f}x")


if __name__ == "__main__":
    main()
