"""Thread keys: which conversation an email belongs to, from its Message-ID chain, else from its subject.

``thread_key`` takes, in order:

1. ``mid:<first id of References>`` -- the thread root. Mailers that trim a long References header keep its
   first id (RFC 5322 §3.6.4, and ``parse_email`` keeps it when it caps the list at 50), so every reply of a
   thread agrees on it;
2. ``mid:<In-Reply-To>`` -- for mailers that send only In-Reply-To (some mobile and web mailers);
3. ``mid:<own Message-ID>`` -- a first message is the root of its own thread;
4. ``subj:<normalized subject, case-folded>`` -- no ids at all (some scanners, web forms, broken gateways);
5. ``hash:<content hash>`` -- no ids and no subject (e.g. ``metadata`` visibility): never glue such mails together.

Limits, on purpose:

- A reply whose mailer sent In-Reply-To only, to a message that itself had References, gets the parent's id,
  not the root: the two halves join only when a later message carries the full References chain.
- Exchange/Outlook ``Thread-Index`` and Gmail ``X-GM-THRID`` are not read: they are not in every copy of a mail.
- Subject keys merge unrelated mails with the same subject ("Devis") and never join a thread whose subject was
  edited; they are a last resort for mails without any id.
"""

from __future__ import annotations

import re

from agent.records import ParsedEmail

# Reply and forward prefixes, in the languages French SMEs receive: RE/AW/SV/Antw/RIF (reply), FW/Fwd/TR/WG
# (forward), RÉF/REF followed by a colon (older Outlook FR). Ambiguous short words (VS, ENC, RV) are left out:
# stripping is applied to every mail alike, so a missed prefix splits a thread, a wrong one merges two.
# A counter may follow ("RE[2]:", "Re(3):", "Re^2:"); a space before the colon is French typography ("RE :").
_PREFIX = re.compile(
    r"^\s*(?:re|aw|sv|antw|rif|fw|fwd|tr|wg|r[ée]f\.?)"
    r"\s*(?:\[\d+\]|\(\d+\)|\^\d+)?[\s\u00a0\u202f]*[:：]\s*",
    re.IGNORECASE,
)
# Tags a security gateway adds to inbound mail only: they would split a thread between the inbound and the
# outbound halves. List tags ("[liste-achats]") are kept: every mail of that list carries them.
_GATEWAY_TAG = re.compile(
    r"^\s*[\[(](?:ext|extern|externe|external|spam|suspect|suspicious|caution|warning|attention|"
    r"courriel externe|mail externe|external email|external sender)[\])]\s*:?\s*",
    re.IGNORECASE,
)


def normalize_subject(subject: str) -> str:
    """``'RE : TR: [EXT] Re: Devis  n°42'`` -> ``'Devis n°42'``: reply/forward prefixes and gateway tags removed.

    Conservative: only prefixes followed by a colon are removed, so "Réf. 2024-042" (a reference number) and
    "Re-lancement" stay as written; bracketed tags other than gateway markers stay. Case is kept (thread keys
    fold it); runs of blanks become one space.
    """
    text = " ".join(subject.split())
    while True:
        stripped = _GATEWAY_TAG.sub("", _PREFIX.sub("", text, count=1), count=1)
        if stripped == text:
            return text
        text = stripped


def thread_key(parsed: ParsedEmail) -> str:
    """The conversation key of an email (see the module docstring for the order and its limits)."""
    if parsed.references:
        return f"mid:{parsed.references[0]}"
    if parsed.in_reply_to:
        return f"mid:{parsed.in_reply_to}"
    if parsed.message_id:
        return f"mid:{parsed.message_id}"
    subject = normalize_subject(parsed.subject).casefold()
    if subject:
        return f"subj:{subject}"
    return f"hash:{parsed.content_hash}"
