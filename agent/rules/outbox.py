"""Outbox delivery: rule mails through SMTP (smtplib) at most once, webhooks through httpx, retried with back-off.

Rule mails are delivered **at most once** per idempotency key. A row is marked ``sending`` (phase ``connect``) with
a lease before connecting; just before the message data is handed over, phase ``data`` is committed. A failure
before that point (connection refused, a 4xx answer, a refused recipient) is certain non-delivery and is retried
with back-off (60 s × 2^(n-1), capped) up to a maximum number of attempts. A failure during the data phase (the
connection drops before the server's answer), or a crash that leaves a row ``sending`` in phase ``data``, is
*ambiguous*: the server may have accepted the mail. Such a row becomes ``ambiguous`` and is never resent
automatically; `crm-agent outbox list --status ambiguous` shows it for review and `outbox retry ID` resends it on
a person's say-so. Every rule mail carries a Message-ID derived from its key, so a duplicate is recognisable.

Webhooks are delivered **at least once**: the request carries ``Idempotency-Key`` (the same key), a crash while
posting re-posts, and receivers de-duplicate on the key. 2xx is delivered; 408, 429 and 5xx are retried (a
Retry-After is honoured); other 4xx fail for good.
"""

from __future__ import annotations

import email.policy
import logging
import smtplib
import ssl
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

import httpx
from sqlalchemy import or_, select, update

from agent.errors import UserError
from agent.rules.engine import EngineOptions
from agent.store.db import Store
from agent.store.models_rules import OutboxMessage

log = logging.getLogger(__name__)


class NotSent(Exception):
    """Certainly not delivered; ``permanent`` failures are not retried."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class Ambiguous(Exception):
    """The message data was being handed over when the connection failed: it may or may not have arrived."""


def build_message(payload: dict[str, Any]) -> EmailMessage:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = payload["from"]
    message["To"] = ", ".join(payload["to"])
    if payload.get("cc"):
        message["Cc"] = ", ".join(payload["cc"])
    message["Subject"] = payload["subject"]
    message["Date"] = format_datetime(datetime.fromisoformat(payload["date"]))
    message["Message-ID"] = f"<{payload['message_id']}>"
    for name, value in payload.get("headers", {}).items():
        message[name] = value
    message.set_content(payload["body"])
    return message


def send_mail(smtp: Any, payload: dict[str, Any], *, before_data: Callable[[], None], timeout: float) -> list[str]:
    """Hand one mail to the SMTP server. Returns refused recipients. Raises NotSent or Ambiguous."""
    message = build_message(payload)
    recipients = [*payload["to"], *payload.get("cc", [])]
    try:
        if smtp.security == "tls":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
    except (OSError, smtplib.SMTPException) as error:
        raise NotSent(f"cannot connect to {smtp.host}:{smtp.port}: {error}") from None
    try:
        try:
            client.ehlo_or_helo_if_needed()
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if smtp.username:
                password = smtp.password.reveal() if smtp.password is not None else ""
                client.login(smtp.username, password)
            code, answer = client.mail(parseaddr(payload["from"])[1])  # the envelope takes the bare address
            if code != 250:
                raise NotSent(f"sender refused: {code} {answer.decode(errors='replace')}", permanent=code >= 500)
            refused = []
            for rcpt in recipients:
                code, answer = client.rcpt(rcpt)
                if code not in (250, 251):
                    refused.append(f"{rcpt}: {code} {answer.decode(errors='replace')}")
            if len(refused) == len(recipients):
                raise NotSent("every recipient refused: " + "; ".join(refused),
                              permanent=all(r.split(": ")[1].startswith("5") for r in refused))
        except smtplib.SMTPAuthenticationError as error:
            raise NotSent(f"SMTP login refused: {error.smtp_code}", permanent=True) from None
        except UserError as error:
            raise NotSent(error.message, permanent=True) from None
        except (OSError, smtplib.SMTPException) as error:
            raise NotSent(f"SMTP error before sending: {error}") from None
        before_data()
        try:
            client.data(message.as_bytes())
        except smtplib.SMTPDataError as error:  # the server answered: it did not take the message
            raise NotSent(f"message refused: {error.smtp_code} {error.smtp_error!r}",
                          permanent=error.smtp_code >= 500) from None
        except (OSError, smtplib.SMTPException) as error:
            raise Ambiguous(f"connection lost while handing over the message: {error}") from None
        return refused
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


def post_webhook(payload: dict[str, Any], key: str, timeout: float) -> None:
    headers = {**payload.get("headers", {}), "Idempotency-Key": key}
    try:
        response = httpx.post(payload["url"], content=payload["body"].encode(), headers=headers, timeout=timeout)
    except httpx.HTTPError as error:
        raise NotSent(f"POST {payload['url']}: {error}") from None
    if response.is_success:
        return
    retry_after = response.headers.get("retry-after")
    hint = float(retry_after) if retry_after and retry_after.isdigit() else None
    temporary = response.status_code in (408, 429) or response.status_code >= 500
    raise NotSent(f"POST {payload['url']}: HTTP {response.status_code}", permanent=not temporary, retry_after=hint)


class Outbox:
    """Delivers outbox rows for one worker; ``smtp`` is the SmtpSettings (None when not configured)."""

    def __init__(self, store: Store, options: EngineOptions, smtp: Any, owner: str) -> None:
        self.store = store
        self.options = options
        self.smtp = smtp
        self.owner = owner

    def deliver(self, now: datetime, *, limit: int = 100) -> dict[str, int]:
        counts: Counter[str] = Counter()
        with self.store.unit_of_work() as session:
            counts.update(self._settle_stale(session, now))
            session.flush()
            ids = self._claim(session, now, limit)
        for row_id in ids:
            counts[self.deliver_one(row_id, now)] += 1
        return dict(counts)

    def _settle_stale(self, session, now: datetime) -> Counter[str]:
        """Rows left ``sending`` by a worker that died: before the data phase they are safe to send again; in it,
        nobody knows, so they become ambiguous (at most once)."""
        counts: Counter[str] = Counter()
        stale = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "sending",
                                                            OutboxMessage.lease_until <= now))
        for row in stale:
            if row.kind == "email" and row.phase == "data":
                row.status, row.last_error = "ambiguous", "the agent stopped while handing the mail to the SMTP " \
                                                         "server: it may have been sent; not resent automatically"
                counts["ambiguous"] += 1
            else:
                row.status, row.next_attempt_at = "pending", now
                counts["requeued"] += 1
            row.lease_owner = row.lease_until = None
        return counts

    def _claim(self, session, now: datetime, limit: int) -> list[int]:
        free = or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now)
        query = (select(OutboxMessage.id)
                 .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now, free)
                 .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if ids:
            session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status == "pending")
                            .values(status="sending", phase="connect", lease_owner=self.owner,
                                    lease_until=now + self.options.lease, attempts=OutboxMessage.attempts + 1))
        return ids

    def deliver_one(self, row_id: int, now: datetime) -> str:
        with self.store.unit_of_work() as session:
            row = session.get(OutboxMessage, row_id)
            if row is None or row.status != "sending" or row.lease_owner != self.owner:
                return "lost_lease"
            kind, payload, key, attempts = row.kind, dict(row.payload), row.idempotency_key, row.attempts
        try:
            if kind == "email":
                if self.smtp is None:
                    raise NotSent("SMTP is not configured ([smtp] in the config)", permanent=True)
                refused = send_mail(self.smtp, payload, before_data=lambda: self._phase(row_id, "data"),
                                    timeout=self.options.smtp_timeout)
                note = "; ".join(refused)
            else:
                post_webhook(payload, key, self.options.webhook_timeout)
                note = ""
        except NotSent as failure:
            return self._failed(row_id, now, attempts, failure)
        except Ambiguous as failure:
            return self._finish(row_id, "ambiguous", str(failure), now)
        return self._finish(row_id, "delivered", f"refused: {note}" if note else "", now)

    def _phase(self, row_id: int, phase: str) -> None:
        with self.store.unit_of_work() as session:
            session.execute(update(OutboxMessage)
                            .where(OutboxMessage.id == row_id, OutboxMessage.lease_owner == self.owner)
                            .values(phase=phase))

    def _finish(self, row_id: int, status: str, note: str, now: datetime) -> str:
        with self.store.unit_of_work() as session:
            row = session.get(OutboxMessage, row_id)
            row.status, row.last_error, row.lease_owner, row.lease_until = status, note, None, None
            if status == "delivered":
                row.delivered_at, row.phase = now, "done"
        return status

    def _failed(self, row_id: int, now: datetime, attempts: int, failure: NotSent) -> str:
        with self.store.unit_of_work() as session:
            row = session.get(OutboxMessage, row_id)
            row.last_error, row.lease_owner, row.lease_until, row.phase = str(failure), None, None, ""
            if failure.permanent or attempts >= self.options.outbox_max_attempts:
                row.status = "failed"
                return "failed"
            delay = min(self.options.outbox_backoff * 2 ** (attempts - 1), self.options.outbox_backoff_cap)
            if failure.retry_after:
                delay = max(delay, timedelta(seconds=failure.retry_after))
            row.status, row.next_attempt_at = "pending", now + delay
        log.info("outbox %s: %s; retry in %s", row_id, failure, delay)
        return "retry"
