"""Tell bulk and automated mail (lists, auto-replies, bounces, calendar notifications) from mail people wrote.

``classify_noise`` returns the first reason that applies, in this order, or None for a mail to keep:

================================  ==================================================================================
``bounce:dsn``                    ``multipart/report; report-type=delivery-status`` or an ``X-Failed-Recipients``
``bounce:mailer-daemon``          From MAILER-DAEMON, or From postmaster / Exchange system mailbox / an empty
                                  Return-Path with a bounce subject ("Undeliverable:", "Non remis :", ...)
``automated:autoreply``           ``is_auto_reply``: out-of-office and other automatic answers (FR and EN)
``automated:read-receipt``        ``multipart/report; report-type=disposition-notification``
``automated:crm-agent-rule``      an ``X-CRM-Agent-Rule`` header: a mail crm-agent's own rules sent; the rule
                                  engine records what it sends, and reading it back must never re-fire a rule
``calendar:notification``         an iTIP invitation, reply or cancellation (a text/calendar part, a text/calendar
                                  body, or Outlook's ``Content-Class: ...calendarmessage``): the meeting itself
                                  reaches the CRM through the calendar layer, which reads ``calendar_parts``
``automated:auto-submitted``      ``Auto-Submitted`` other than ``no`` (RFC 3834)
``bulk:list-id``                  a ``List-Id`` (RFC 2919)
``bulk:list-unsubscribe``         a ``List-Unsubscribe`` (RFC 2369; newsletters and marketing tools)
``bulk:precedence``               ``Precedence: bulk | list | junk``
================================  ==================================================================================

What is deliberately *not* noise: role addresses such as ``contact@`` and ``info@`` (for French SMEs they are the
company's real address, matched to the company) and ``noreply@`` senders without any of the headers above
(invoices and quotes from ERPs come from them). Blocklists are applied by the pipeline, not here.
``X-Auto-Response-Suppress`` is kept in ``noise_headers`` but not used: Outlook also sets it on mails people write.
"""

from __future__ import annotations

import re

from agent.records import ParsedEmail

_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)?(?:"
    r"réponse automatique|reponse automatique|absence du bureau|absent du bureau|message d'absence|"
    r"out of (?:the )?office|out-of-office|automatic reply|auto[- ]?reply|autoreply|"
    r"abwesenheitsnotiz|automatische antwort)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undeliverable|undelivered mail|non remis|message non remis|delivery status notification|"
    r"delivery failure|mail delivery failed|returned mail|failure notice|échec de la remise|echec de la remise|"
    r"unzustellbar|mail delivery (?:subsystem|system))",
    re.IGNORECASE,
)
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})


def classify_noise(parsed: ParsedEmail) -> str | None:
    """The reason this mail is noise (see the module table), or None when a person wrote it."""
    if (bounce := _bounce_reason(parsed)) is not None:
        return bounce
    if is_auto_reply(parsed):
        return "automated:autoreply"
    content_type = (parsed.header("content-type") or "").lower()
    if parsed.content_type == "multipart/report" and "disposition-notification" in content_type:
        return "automated:read-receipt"
    if parsed.header("x-crm-agent-rule") is not None:
        return "automated:crm-agent-rule"
    if _is_calendar_notification(parsed):
        return "calendar:notification"
    auto_submitted = _token(parsed.header("auto-submitted"))
    if auto_submitted and auto_submitted != "no":
        return "automated:auto-submitted"
    if parsed.header("list-id") is not None:
        return "bulk:list-id"
    if parsed.header("list-unsubscribe") is not None:
        return "bulk:list-unsubscribe"
    if _token(parsed.header("precedence")) in _BULK_PRECEDENCE:
        return "bulk:precedence"
    return None


def is_auto_reply(parsed: ParsedEmail) -> bool:
    """An automatic answer to a mail (out-of-office, "Réponse automatique", vacation responders).

    Rules use it too: an auto-reply is not a reply, so it never cancels a follow-up. Bounces are not
    auto-replies (see ``is_bounce``), even when their mailer marks them ``Auto-Submitted: auto-replied``.
    """
    if _bounce_reason(parsed) is not None:
        return False
    if _token(parsed.header("auto-submitted")) == "auto-replied":
        return True
    if _present(parsed.header("x-autoreply")) or _present(parsed.header("x-autorespond")):
        return True
    if _token(parsed.header("precedence")) == "auto_reply":
        return True
    return bool(parsed.subject) and _AUTO_REPLY_SUBJECT.match(parsed.subject) is not None


def is_bounce(parsed: ParsedEmail) -> bool:
    """A delivery failure report (DSN or a mailer daemon's message)."""
    return _bounce_reason(parsed) is not None


def _bounce_reason(parsed: ParsedEmail) -> str | None:
    content_type = (parsed.header("content-type") or "").lower()
    if parsed.content_type == "multipart/report" and "delivery-status" in content_type:
        return "bounce:dsn"
    if parsed.header("x-failed-recipients") is not None:
        return "bounce:dsn"
    senders = [mailbox.address.partition("@")[0] for mailbox in parsed.from_]
    if any(local in ("mailer-daemon", "mail-daemon") for local in senders):
        return "bounce:mailer-daemon"
    bounce_subject = bool(parsed.subject) and _BOUNCE_SUBJECT.match(parsed.subject) is not None
    system_sender = any(local == "postmaster" or local.startswith("microsoftexchange") for local in senders)
    empty_return_path = (parsed.header("return-path") or "").strip() == "<>"
    if bounce_subject and (system_sender or empty_return_path or not parsed.from_):
        return "bounce:mailer-daemon"
    return None


def _is_calendar_notification(parsed: ParsedEmail) -> bool:
    if parsed.calendar_parts or parsed.content_type == "text/calendar":
        return True
    return "calendarmessage" in (parsed.header("content-class") or "").lower()


def _token(value: str | None) -> str:
    """First word of a header value, lower-case: ``'Auto-Replied (vacation)'`` -> ``'auto-replied'``."""
    if not value:
        return ""
    return value.strip().split(None, 1)[0].split(";", 1)[0].lower() if value.strip() else ""


def _present(value: str | None) -> bool:
    """A flag header counts unless it says no (some gateways write ``X-Autoreply: no``)."""
    return value is not None and value.strip().lower() not in ("no", "false", "0")
