"""Outbox delivery: retries with back-off, at most once for mail (ambiguous hand-overs are never resent by
themselves), at least once with an idempotency key for webhooks."""

from __future__ import annotations

import socket
import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from agent.store.models_rules import OutboxMessage
from tests.harness.process import free_port
from tests.rules_engine.support import OWN, WebhookReceiver

WELCOME = [{"name": "bienvenue", "on": "contact.created",
            "do": [{"type": "email", "to": "contact", "subject": "Bienvenue {{ contact.name }}",
                    "body": "Bonjour {{ contact.first_name }},\nMerci !\n", "dry_run": False}]}]


def smtp_at(port: int) -> dict:
    return {"host": "127.0.0.1", "port": port, "security": "plain", "sender": f"CRM Atelier Durand <crm@{OWN}>"}


def one_welcome(world) -> dict:
    world.rules.tick()
    world.contact("paul.neuf@prospect.fr", "Paul Neuf", status="prospect")
    assert world.rules.tick()["fired"] == 1
    (row,) = world.rules.outbox()
    return row


def use_smtp(world, sink) -> None:
    world.service.settings = world.settings.model_copy(update={"smtp": world.settings.smtp.model_copy(
        update={"host": sink.host, "port": sink.port})})


class DroppingSmtp:
    """An SMTP server that reads the whole message after DATA and then hangs up without answering."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            stream = conn.makefile("rb")
            conn.sendall(b"220 dropping ESMTP\r\n")
            while line := stream.readline():
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    conn.sendall(b"250 dropping\r\n")
                elif verb in (b"MAIL", b"RCPT"):
                    conn.sendall(b"250 OK\r\n")
                elif verb == b"DATA":
                    conn.sendall(b"354 go on\r\n")
                    while stream.readline() not in (b".\r\n", b""):
                        pass
                    self.received += 1
                    return  # hang up: the client cannot know whether the mail was taken

    def close(self) -> None:
        self.listener.close()


def test_a_down_server_is_retried_with_back_off_until_it_answers(make_world, smtp_sink):
    world = make_world(WELCOME, smtp=smtp_at(free_port()))
    one_welcome(world)
    assert world.rules.deliver_outbox() == {"retry": 1}
    (row,) = world.rules.outbox()
    assert row["status"] == "pending" and row["attempts"] == 1 and "cannot connect" in row["last_error"]
    assert world.rules.deliver_outbox() == {}  # not due before the back-off
    world.clock.advance(timedelta(seconds=61))
    assert world.rules.deliver_outbox() == {"retry": 1}
    world.clock.advance(timedelta(seconds=61))
    assert world.rules.deliver_outbox() == {}  # the second wait is two minutes
    world.clock.advance(timedelta(seconds=60))
    use_smtp(world, smtp_sink)
    assert world.rules.deliver_outbox() == {"delivered": 1}
    (mail,) = smtp_sink.wait_for(1)
    assert mail.rcpt_tos == ["paul.neuf@prospect.fr"] and mail.mail_from == f"crm@{OWN}"
    assert mail.parsed()["From"] == f"CRM Atelier Durand <crm@{OWN}>"
    assert mail.parsed()["Message-ID"].strip().endswith(f"@{OWN}>")
    assert world.rules.deliver_outbox() == {}


def test_after_the_last_attempt_the_mail_is_failed_and_kept_for_review(make_world):
    world = make_world(WELCOME, smtp=smtp_at(free_port()))
    world.rules.configure(outbox_max_attempts=3)
    one_welcome(world)
    outcomes = []
    for _ in range(3):
        outcomes.extend(world.rules.deliver_outbox())
        world.clock.advance(timedelta(hours=1))
    assert outcomes == ["retry", "retry", "failed"]
    assert world.rules.outbox("failed")[0]["attempts"] == 3


def test_a_connection_lost_during_the_hand_over_is_ambiguous_and_never_resent_by_itself(make_world, smtp_sink):
    dropping = DroppingSmtp()
    try:
        world = make_world(WELCOME, smtp=smtp_at(dropping.port))
        one_welcome(world)
        assert world.rules.deliver_outbox() == {"ambiguous": 1}
        assert dropping.received == 1
    finally:
        dropping.close()
    use_smtp(world, smtp_sink)
    world.clock.advance(timedelta(days=1))
    assert world.rules.deliver_outbox() == {}
    (row,) = world.rules.outbox("ambiguous")
    assert "connection lost while handing over" in row["last_error"]
    world.rules.outbox_retry(row["id"])  # a person decided: send it again
    assert world.rules.deliver_outbox() == {"delivered": 1}
    assert len(smtp_sink.wait_for(1)) == 1


@pytest.mark.parametrize(("phase", "expected"), [("data", "ambiguous"), ("connect", "delivered")])
def test_a_worker_that_died_while_sending_leaves_a_decision_by_phase(make_world, smtp_sink, phase, expected):
    world = make_world(WELCOME, smtp=smtp_at(smtp_sink.port) | {"host": smtp_sink.host})
    row = one_welcome(world)
    with world.service.store.unit_of_work() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == row["id"]).values(
            status="sending", phase=phase, lease_owner="dead-worker", attempts=1,
            lease_until=world.clock.now() + timedelta(minutes=5)))
    assert world.rules.deliver_outbox() == {}  # the dead worker's lease still runs
    world.clock.advance(timedelta(minutes=6))
    world.rules.deliver_outbox()
    assert world.rules.outbox()[0]["status"] == expected
    assert len(smtp_sink.messages) == (1 if expected == "delivered" else 0)


def test_webhooks_retry_on_5xx_honour_retry_after_and_fail_on_4xx(make_world):
    receiver = WebhookReceiver(answers=[(503, {"Retry-After": "300"}), 200, 400])
    try:
        rules = [{"name": "crm-hook", "on": "contact.created",
                  "do": [{"type": "webhook", "url": receiver.url, "secret": "literal-secret"}]}]
        world = make_world(rules)
        world.rules.tick()
        world.contact("a@client-a.fr", "A A")
        world.contact("b@client-b.fr", "B B")
        assert world.rules.tick()["fired"] == 2
        assert world.rules.deliver_outbox() == {"retry": 1, "delivered": 1}
        world.clock.advance(timedelta(minutes=2))  # the back-off alone would be 1 minute; Retry-After says 5
        assert world.rules.deliver_outbox() == {}
        world.clock.advance(timedelta(minutes=4))
        assert world.rules.deliver_outbox() == {"failed": 1}
        assert [m["status"] for m in world.rules.outbox()] == ["delivered", "failed"]  # newest first
        keys = [headers["idempotency-key"] for headers, _ in receiver.requests]
        assert len(keys) == 3 and keys[0] == keys[2] != keys[1]  # the retried call kept its key
    finally:
        receiver.close()
