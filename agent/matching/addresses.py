"""Email address normalization: one canonical string per mailbox, so matching is a dictionary lookup."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=65536)
def normalize_address(raw: str, lowercase_local: bool = True) -> str | None:
    """``'Alice@Exämple.FR '`` -> ``'alice@xn--exmple-cua.fr'``; None when ``raw`` is not an address."""
    text = raw.strip().strip("<>").strip()
    if text.count("@") < 1 or any(ch.isspace() for ch in text):
        return None
    local, _, domain = text.rpartition("@")
    domain = domain.strip(".").lower()
    if not local or not domain or "." not in domain:
        return None
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return f"{local.lower() if lowercase_local else local}@{domain}"
