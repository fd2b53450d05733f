"""Deterministic identifiers of the demo sample: Message-IDs in each mail program's own style, tokens, boundaries.

Everything is derived from a hash of a stable key (never from ``random`` or the clock), so the generator writes
byte-identical files on every run and adding a message does not change the identifiers of the others.
"""

from __future__ import annotations

import base64
import hashlib
import uuid

SEED = "atelier-durand/demo-sample/v1"


def digest(*parts: object) -> bytes:
    """32 stable pseudo-random bytes for these parts."""
    return hashlib.sha256("|".join(str(part) for part in [SEED, *parts]).encode()).digest()


def number(modulo: int, *parts: object) -> int:
    """A stable pseudo-random integer in ``range(modulo)``."""
    return int.from_bytes(digest(*parts)[:8], "big") % modulo


def hex_token(length: int, *parts: object) -> str:
    return (digest(*parts) + digest("more", *parts)).hex()[:length]


def uuid_token(*parts: object) -> str:
    return str(uuid.UUID(bytes=digest(*parts)[:16], version=4))


def message_id(key: str, client: str, domain: str) -> str:
    """The Message-ID (without angle brackets) the sender's mail program would have written."""
    raw = digest("message-id", key)
    if client == "thunderbird":
        return f"{uuid_token('mid', key)}@{domain}"
    if client == "apple":
        return f"{uuid_token('mid', key).upper()}@{domain}"
    if client == "gmail":
        token = base64.urlsafe_b64encode(raw + digest("mid2", key)[:10]).decode().rstrip("=").replace("-", "+")
        return f"CA{token[:54]}@mail.gmail.com"
    if client == "orange":
        return (f"{number(10**9, 'o1', key)}.{number(10**6, 'o2', key)}.{1_700_000_000_000 + number(10**11, key)}"
                f".JavaMail.open-xchange@opme11oxm0{number(4, key) + 1}nd1")
    if client == "roundcube":
        return f"{raw.hex()[:32]}@{domain}"
    if client == "outlook-desktop":
        return f"000{raw.hex()[:1]}01dc{raw.hex()[1:8]}${raw.hex()[8:16]}${raw.hex()[16:24]}$@{domain}"
    if client == "exchange":
        return f"{raw.hex()[:32].upper()}@EXCH01.{domain.split('.')[0]}.local"
    if client == "outlook":
        mailbox = f"PAXPR0{number(9, 'tenant', domain) + 1}MB{1000 + number(9000, 'box', domain)}"
        return f"{mailbox}{raw.hex()[:24].upper()}@{mailbox}.eurprd0{number(9, 'tenant', domain) + 1}.prod.outlook.com"
    return f"{raw.hex()[:12].upper()}.{raw.hex()[12:20]}@{domain}"


def boundary(key: str, depth: int) -> str:
    return f"------------{base64.b32encode(digest('boundary', key, depth)[:15]).decode().lower()}"


def thread_index(key: str, replies: int) -> str:
    """Outlook's Thread-Index: 22 bytes for the first message, 5 more per reply."""
    return base64.b64encode(digest("thread", key)[:22] + digest("reply", key)[: 5 * min(replies, 2)]).decode()


def outlook_uid(key: str) -> str:
    """An iCalendar UID in Outlook's GlobalObjectId style."""
    return "040000008200E00074C5B7101A82E00800000000" + hex_token(72, "uid", key).upper()


def thunderbird_uid(key: str) -> str:
    """An iCalendar UID as Thunderbird writes it (a bare UUID)."""
    return uuid_token("uid", key)
