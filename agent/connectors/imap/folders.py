"""Which IMAP folders to sync: INBOX and the Sent folder (SPECIAL-USE \\Sent, else well-known names, French included)."""

from __future__ import annotations

import unicodedata

from agent.records import TargetRef

_SENT_NAMES = {
    "sent", "sent items", "sent messages", "sent mail", "sent-mail", "envoyes", "elements envoyes",
    "messages envoyes", "mails envoyes", "courrier envoye", "gesendet", "gesendete elemente", "enviados",
}


def _fold(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(plain.casefold().replace("_", " ").split())


def looks_sent(name: str, delimiter: str | None) -> bool:
    leaf = name.rsplit(delimiter, 1)[-1] if delimiter else name
    return _fold(leaf) in _SENT_NAMES


def choose_targets(account: str, listing: list[tuple[tuple, str | None, str]], configured: list[str] | None) -> list[TargetRef]:
    """From LIST results ``(flags, delimiter, name)`` (names already decoded from modified UTF-7)."""
    by_name = {
        name: (tuple(f.decode() if isinstance(f, bytes) else f for f in flags), delim.decode() if isinstance(delim, bytes) else delim)
        for flags, delim, name in listing
    }
    if configured is not None:
        missing = [n for n in configured if n not in by_name and n.upper() != "INBOX"]
        if missing:
            from agent.errors import UserError

            raise UserError(f"account {account}: folder {missing[0]!r} not found on the server (have: {', '.join(sorted(by_name))[:300]})")
        return [_ref(account, name, by_name.get(name, ((), None))[0], by_name.get(name, ((), None))[1]) for name in configured]
    targets = [TargetRef(account, "INBOX", "mail", "inbox", "INBOX")]
    sent = [name for name, (flags, _) in by_name.items() if "\\Sent" in flags]
    if not sent:
        sent = sorted((name for name, (_, delim) in by_name.items() if looks_sent(name, delim)), key=len)[:1]
    for name in sent[:1]:
        targets.append(TargetRef(account, name, "mail", "sent", name))
    return targets


def _ref(account: str, name: str, flags: tuple, delimiter: str | None) -> TargetRef:
    if name.upper() == "INBOX":
        return TargetRef(account, "INBOX", "mail", "inbox", "INBOX")
    role = "sent" if "\\Sent" in flags or looks_sent(name, delimiter) else "other"
    return TargetRef(account, name, "mail", role, name)
