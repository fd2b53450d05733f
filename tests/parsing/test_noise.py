"""noise: which mails are bulk or automated, and which are deliberately not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.pipeline.noise import classify_noise, is_auto_reply, is_bounce
from agent.pipeline.parse_email import parse_email

PERSON = (
    "From: Claire Martin <claire.martin@batiplus.fr>\r\nTo: contact@acme-industrie.fr\r\n"
    "Subject: Demande de devis\r\nDate: Mon, 3 Jun 2024 10:00:00 +0200\r\nMessage-ID: <q@batiplus.fr>\r\n"
)


def mail(extra: str = "", subject: str | None = None, sender: str | None = None, body: str = "") -> object:
    text = PERSON
    if subject is not None:
        text = text.replace("Subject: Demande de devis", f"Subject: {subject}")
    if sender is not None:
        text = text.replace("From: Claire Martin <claire.martin@batiplus.fr>", f"From: {sender}")
    data = (text + extra + ("\r\n" + body if body else "")).encode()
    return parse_email(data, received_at=datetime(2024, 6, 3, tzinfo=UTC))


def test_a_person_writing_to_contact_at_is_not_noise() -> None:
    parsed = mail()
    assert classify_noise(parsed) is None and not is_auto_reply(parsed) and not is_bounce(parsed)


@pytest.mark.parametrize(
    "sender", ["contact@batiplus.fr", "info@batiplus.fr", "noreply@erp.batiplus.fr", "Facturation <compta@x.fr>"]
)
def test_role_and_noreply_senders_alone_are_not_noise(sender) -> None:
    assert classify_noise(mail(sender=sender)) is None


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("List-Id: Achats <achats.lists.batiplus.fr>\r\n", "bulk:list-id"),
        ("List-Unsubscribe: <mailto:u@lists.example>\r\n", "bulk:list-unsubscribe"),
        ("Precedence: bulk\r\n", "bulk:precedence"),
        ("Precedence: list\r\n", "bulk:precedence"),
        ("Precedence: JUNK\r\n", "bulk:precedence"),
        ("Auto-Submitted: auto-generated\r\n", "automated:auto-submitted"),
        ("Auto-Submitted: auto-replied\r\n", "automated:autoreply"),
        ("X-Autoreply: yes\r\n", "automated:autoreply"),
        ("X-Autorespond: Vacation\r\n", "automated:autoreply"),
        ("Precedence: auto_reply\r\n", "automated:autoreply"),
        ("X-CRM-Agent-Rule: relance-devis\r\n", "automated:crm-agent-rule"),
        ("X-Failed-Recipients: c@batiplus.fr\r\n", "bounce:dsn"),
        ("Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n", "bounce:dsn"),
        ("Content-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n",
         "automated:read-receipt"),
        ("Content-Type: text/calendar; method=REQUEST\r\n", "calendar:notification"),
        ("Content-Class: urn:content-classes:calendarmessage\r\n", "calendar:notification"),
    ],
)
def test_header_reasons(extra, reason) -> None:
    assert classify_noise(mail(extra)) == reason


@pytest.mark.parametrize(
    "extra", ["Auto-Submitted: no\r\n", "X-Autoreply: no\r\n", "Precedence: first-class\r\n",
              "X-Auto-Response-Suppress: All\r\n"],
)
def test_headers_that_do_not_make_noise(extra) -> None:
    assert classify_noise(mail(extra)) is None


@pytest.mark.parametrize(
    "subject",
    [
        "Réponse automatique : Demande de devis",
        "=?iso-8859-1?Q?R=E9ponse_automatique=A0:_Devis?=",
        "Absence du bureau",
        "Out of Office: Demande de devis",
        "Automatic reply: Demande de devis",
        "[EXT] Automatic reply: Devis",
        "Auto-Reply: Devis",
        "Message d'absence",
    ],
)
def test_auto_reply_subjects(subject) -> None:
    parsed = mail(subject=subject)
    assert is_auto_reply(parsed) and classify_noise(parsed) == "automated:autoreply"


@pytest.mark.parametrize(
    "subject", ["Re: votre absence du bureau de lundi", "Auto : devis pour la Peugeot 208", "Absence de M. Roux"]
)
def test_subjects_that_only_look_like_auto_replies(subject) -> None:
    assert not is_auto_reply(mail(subject=subject))


def test_mailer_daemon_is_a_bounce() -> None:
    parsed = mail(sender="MAILER-DAEMON@mx.batiplus.fr (Mail Delivery System)", subject="Returned mail")
    assert is_bounce(parsed) and classify_noise(parsed) == "bounce:mailer-daemon"
    assert not is_auto_reply(parsed)


def test_postmaster_needs_a_bounce_subject() -> None:
    assert classify_noise(mail(sender="postmaster@batiplus.fr", subject="Non remis : Devis")) == "bounce:mailer-daemon"
    assert classify_noise(mail(sender="postmaster@batiplus.fr", subject="Changement de serveur")) is None


def test_empty_return_path_with_bounce_subject_is_a_bounce() -> None:
    parsed = mail("Return-Path: <>\r\n", subject="Undeliverable: Devis", sender="Exchange <x@batiplus.fr>")
    assert classify_noise(parsed) == "bounce:mailer-daemon"


def test_a_bounce_marked_auto_replied_is_a_bounce_not_an_auto_reply() -> None:
    parsed = mail("Auto-Submitted: auto-replied\r\nX-Failed-Recipients: c@x.fr\r\n")
    assert classify_noise(parsed) == "bounce:dsn" and not is_auto_reply(parsed)


def test_calendar_part_in_a_multipart_mail_is_a_calendar_notification() -> None:
    body = (
        "--b\r\nContent-Type: text/plain\r\n\r\nInvitation\r\n"
        "--b\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n--b--\r\n"
    )
    parsed = mail("Content-Type: multipart/alternative; boundary=b\r\n", body=body)
    assert parsed.calendar_parts and classify_noise(parsed) == "calendar:notification"
