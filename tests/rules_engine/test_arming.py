"""Arming and cancelling: due dates in French business days, replies from any mailbox, what never counts as a reply."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from agent.rules import timers
from agent.store.models_rules import RuleFiring, Timer
from tests.rules_engine.support import OWN

CLAIRE = f"claire.martin@{OWN}"
JULIEN = f"julien.petit@{OWN}"
CLIENT = "jean.dupont@acme.fr"


def quote(world, **kwargs):
    return world.mail(CLAIRE, CLIENT, "Devis n°42 — maintenance annuelle", attachments=("Devis_42.pdf",),
                      body="Bonjour,\nveuillez trouver notre devis.\nMontant total : 12 450,00 € HT\n", **kwargs)


def reply_to(world, sent, *, sender=CLIENT, to=CLAIRE, **kwargs):
    draft = sent[0]
    kwargs.setdefault("thread", draft.thread_key)
    return world.mail(sender, to, f"RE: {draft.subject}", in_reply_to=draft.message_id, **kwargs)


def test_a_quote_on_thursday_before_a_holiday_is_due_after_the_holiday_and_the_weekend(make_world):
    world = make_world()
    report = world.ingest(quote(world), mailbox="claire/Sent")
    (timer,) = world.timers("pending")
    assert report.armed == [timer["dedupe_key"]]
    assert timer["due_at"] == "2026-05-13T16:40:00+02:00"  # Thu 7 May 16:40 → Fri 8 May holiday, weekend → Wed 13
    with world.service.store.read() as session:
        (reasons,) = session.scalars(select(RuleFiring.reasons).where(RuleFiring.decision == "armed"))
    assert "skipped Fri 2026-05-08: Victory Day" in reasons
    assert any("subject matched" in reason for reason in reasons)


def test_a_reply_in_a_colleagues_mailbox_cancels_the_relance(make_world):
    world = make_world()
    sent = quote(world)
    world.ingest(sent, mailbox="claire/Sent")
    world.clock.advance(timedelta(days=1))
    report = world.ingest(reply_to(world, sent, to=JULIEN), mailbox="julien/INBOX")
    (timer,) = world.timers()
    assert report.cancelled == [timer["id"]]
    assert timer["status"] == "cancelled" and CLIENT in timer["outcome"]
    assert timer["cancelled_by"] == world.last_ids[0]
    world.clock.advance(timedelta(days=10))
    assert world.rules.tick()["claimed"] == 0
    assert world.tasks() == []


def test_an_auto_reply_does_not_cancel_and_the_relance_fires(make_world):
    world = make_world()
    sent = quote(world)
    world.ingest(sent, mailbox="claire/Sent")
    world.clock.advance(timedelta(hours=1))
    absence = reply_to(world, sent, headers={"Auto-Submitted": "auto-replied"})
    report = world.ingest(absence)
    assert report.cancelled == [] and report.not_replies == world.last_ids
    world.clock.advance(timedelta(days=7))
    assert world.rules.tick()["fired"] == 1
    (task,) = world.tasks()
    assert task["title"] == f"Relancer {CLIENT} — Devis n°42 — maintenance annuelle"
    assert task["assignee"] == CLAIRE
    assert "Montant : 12\u202f450,00 € HT" in task["body"]


def test_our_own_rule_mail_never_counts_as_a_reply(make_world):
    world = make_world()
    sent = quote(world)
    world.ingest(sent, mailbox="claire/Sent")
    world.clock.advance(timedelta(hours=2))
    relayed = reply_to(world, sent, sender="relances@relay.example", headers={"X-CRM-Agent-Rule": "relance-devis"})
    copy = reply_to(world, sent, sender="robot@relay.example", message_id="crm-agent-rule.0123abcd@relay.example")
    report = world.ingest(relayed, copy)
    assert report.cancelled == [] and sorted(report.not_replies) == sorted(world.last_ids)
    world.clock.advance(timedelta(days=7))
    assert world.rules.tick()["fired"] == 1


def test_a_reply_after_the_due_time_but_before_the_tick_still_prevents_the_task(make_world):
    world = make_world()
    sent = quote(world)
    world.ingest(sent, mailbox="claire/Sent")
    world.clock.set(world.clock.now() + timedelta(days=7))  # a day past due, the tick has not run yet
    world.ingest(reply_to(world, sent), hook=False)  # only the fire-time check can see this reply
    assert world.timers("pending")
    counts = world.rules.tick()
    assert counts["cancelled"] == 1 and "fired" not in counts
    (timer,) = world.timers()
    assert timer["outcome"].startswith("checked when firing: reply from jean.dupont@acme.fr")
    assert world.tasks() == []


def test_a_reply_imported_before_the_quote_arms_the_timer_already_cancelled(make_world):
    world = make_world()
    sent = quote(world)
    answer = reply_to(world, sent, to=JULIEN, at=world.clock.now() + timedelta(days=1))
    world.clock.advance(timedelta(days=2))
    world.ingest(answer, mailbox="julien/INBOX")  # Julien's mailbox synced first
    report = world.ingest(sent, mailbox="claire/Sent")
    (timer,) = world.timers()
    assert report.born_closed == [timer["dedupe_key"]] and timer["status"] == "cancelled"
    assert timer["outcome"].startswith("cancelled when armed: reply from jean.dupont@acme.fr")


def test_in_reply_to_finds_the_thread_when_thread_keys_differ(make_world):
    world = make_world()
    sent = quote(world, thread="thread:older-root")
    world.ingest(sent, mailbox="claire/Sent")
    world.clock.advance(timedelta(hours=3))
    report = world.ingest(reply_to(world, sent, thread="thread:its-own"))
    assert len(report.cancelled) == 1


def test_a_reply_before_the_quote_in_the_same_thread_does_not_cancel(make_world):
    world = make_world()
    request = world.mail(CLIENT, CLAIRE, "Demande de devis", thread="thread:t1")
    world.ingest(request)
    world.clock.advance(timedelta(hours=4))
    world.ingest(quote(world, thread="thread:t1"), mailbox="claire/Sent")
    assert [t["status"] for t in world.timers()] == ["pending"]


def test_resync_and_a_second_mailbox_never_arm_a_second_timer(make_world):
    world = make_world()
    sent = quote(world, cc=(JULIEN,))
    world.ingest(sent, mailbox="claire/Sent")
    world.ingest(sent, mailbox="claire/Sent")  # re-import of the same mail (resync)
    world.ingest(sent, mailbox="julien/INBOX")  # the same mail in a colleague's mailbox
    world.clock.advance(timedelta(hours=1))
    world.ingest(quote(world, thread=sent[0].thread_key), mailbox="claire/Sent")  # a second quote in the thread
    with world.service.store.read() as session:
        assert session.scalar(select(func.count()).select_from(Timer)) == 1
        assert session.scalar(select(func.count()).select_from(RuleFiring).where(RuleFiring.decision == "armed")) == 1


def test_the_dedupe_key_is_what_refuses_a_second_arming(make_world):
    from agent.rules.arming import on_new_interactions
    from agent.rules.facts import load_rows

    world = make_world()
    world.ingest(quote(world), mailbox="claire/Sent")
    with world.service.store.unit_of_work() as session:
        rows = list(load_rows(session, world.last_ids).values())
        again = on_new_interactions(session, world.rules.engine, rows, world.clock.now())
    assert again.armed == [] and again.born_closed == []


def test_a_timer_later_than_the_grace_is_missed_not_fired(make_world):
    world = make_world()
    world.ingest(quote(world), mailbox="claire/Sent")
    world.clock.advance(timedelta(days=20))  # due on the 13th; the agent was down until the 27th
    assert world.rules.tick()["missed"] == 1
    (timer,) = world.timers()
    assert timer["status"] == "missed" and "more than the grace of 7 days" in timer["outcome"]
    assert world.tasks() == []


def test_overdue_timers_within_the_grace_fire_at_start_up(make_world, tmp_path):
    from agent.service import AgentService

    world = make_world()
    world.ingest(quote(world), mailbox="claire/Sent")
    world.clock.advance(timedelta(days=9))  # down over the due date, back two days later
    restarted = AgentService(world.settings, clock=world.clock)
    try:
        assert restarted.feature("rules").tick()["fired"] == 1
    finally:
        restarted.close()
    assert len(world.tasks()) == 1


def test_history_older_than_the_grace_is_recorded_missed_when_armed(make_world):
    world = make_world()
    old = quote(world, at=world.clock.now() - timedelta(days=60))
    report = world.ingest(old, mailbox="claire/Sent")
    (timer,) = world.timers()
    assert report.born_closed and timer["status"] == "missed"


def test_a_live_lease_is_respected_and_an_expired_one_taken_over(make_world):
    world = make_world()
    world.ingest(quote(world), mailbox="claire/Sent")
    world.clock.advance(timedelta(days=6))
    with world.service.store.unit_of_work() as session:
        taken = timers.claim_due(session, world.clock.now(), "other-worker", timedelta(minutes=5), 10,
                                 ["relance-devis"], ["relance-devis"])
    assert len(taken) == 1
    assert world.rules.tick()["claimed"] == 0  # another worker holds it
    world.clock.advance(timedelta(minutes=6))  # that worker died: its lease ran out
    assert world.rules.tick()["fired"] == 1
    assert len(world.tasks()) == 1


def test_a_timer_whose_rule_left_the_config_is_cancelled_with_the_reason(make_world):
    from agent.service import AgentService

    world = make_world()
    world.ingest(quote(world), mailbox="claire/Sent")
    world.clock.advance(timedelta(days=6))
    settings = world.settings.model_copy(update={"rules": []})
    other = AgentService(settings, clock=world.clock)
    try:
        assert other.feature("rules").tick()["cancelled"] == 1
    finally:
        other.close()
    assert "no longer in the config" in world.timers()[0]["outcome"]


def test_inbound_mail_from_the_contact_and_a_meeting_cancel_when_the_rule_says_so(make_world):
    rules = [{"name": "suivi", "on": "email.sent", "after": "2 days", "unless": ["inbound_from_contact"],
              "when": {"subject": "(?i)devis"}, "do": [{"type": "task", "title": "Suivi {{ contact.email }}"}]}]
    world = make_world(rules)
    world.contact(CLIENT, "Jean Dupont", company="ACME")
    world.ingest(quote(world), mailbox="claire/Sent")
    world.clock.advance(timedelta(hours=5))
    other_thread = world.mail(CLIENT, JULIEN, "Autre sujet", thread="thread:other")
    report = world.ingest(other_thread, mailbox="julien/INBOX")
    assert len(report.cancelled) == 1
    assert "mail from the contact" in world.timers()[0]["outcome"]


def test_a_meeting_with_the_contact_cancels_and_a_meeting_that_ended_arms_its_rule(make_world):
    rules = [
        {"name": "relance-rdv", "on": "email.sent", "after": "3 business days", "unless": ["meeting_booked"],
         "when": {"subject": "(?i)devis"}, "do": [{"type": "task", "title": "Relancer {{ contact.email }}"}]},
        {"name": "compte-rendu", "on": "meeting.ended", "after": "1 day",
         "do": [{"type": "task", "title": "Compte rendu : {{ interaction.subject }}"}]},
    ]
    world = make_world(rules)
    world.contact(CLIENT, "Jean Dupont", company="ACME")
    world.ingest(quote(world), mailbox="claire/Sent")
    start = world.clock.now() + timedelta(days=1)
    report = world.ingest(world.meeting(CLAIRE, [CLIENT], "Visite chantier ACME", start, start + timedelta(hours=1)),
                          mailbox="claire/Calendar")
    assert len(report.cancelled) == 1 and "meeting with the contact" in world.timers()[0]["outcome"]
    world.clock.set(start + timedelta(hours=2))
    counts = world.rules.tick()  # the meetings feature writes meeting.ended; the tick consumes it
    assert counts["meetings_ended"] == 1
    (timer,) = world.timers("pending")
    assert timer["rule"] == "compte-rendu" and timer["due_at"] == (start + timedelta(hours=1, days=1)).astimezone(
        world.service.zone).isoformat()
    world.clock.advance(timedelta(days=1))
    assert world.rules.tick()["fired"] == 1
    (task,) = world.tasks()
    assert task["title"] == "Compte rendu : Visite chantier ACME" and task["assignee"] == CLAIRE
    assert world.rules.tick().get("meetings_ended", 0) == 0  # consumed once


def test_explain_shows_the_rules_an_interaction_armed_or_cancelled(make_world):
    world = make_world()
    sent = quote(world)
    world.ingest(sent, mailbox="claire/Sent")
    quote_id = world.last_ids[0]
    world.clock.advance(timedelta(hours=1))
    world.ingest(reply_to(world, sent, headers={"Auto-Submitted": "auto-replied"}))
    absence_id = world.last_ids[0]
    world.clock.advance(timedelta(hours=1))
    world.ingest(reply_to(world, sent))
    reply_id = world.last_ids[0]
    (armed,) = world.service.explain(str(quote_id))["rules"]
    assert armed["did"] == "armed" and armed["status"] == "cancelled"
    assert "skipped Fri 2026-05-08: Victory Day" in armed["why"]
    (cancelled,) = world.service.explain(str(reply_id))["rules"]
    assert cancelled["did"] == "cancelled" and cancelled["text"].startswith("relance-devis: cancelled timer")
    (ignored,) = world.service.explain(str(absence_id))["rules"]
    assert ignored["text"] == "not a reply for any rule: auto-reply: does not count as a reply"


def test_a_threads_timer_counts_from_its_earliest_quote_whatever_the_sync_order(make_world):
    world = make_world()
    sent = quote(world, cc=(JULIEN,))
    answer = reply_to(world, sent, to=CLAIRE, cc=(JULIEN,), at=world.clock.now() + timedelta(hours=17))
    follow_up = world.mail(JULIEN, CLIENT, "Devis n°42 révisé — maintenance annuelle", thread=sent[0].thread_key,
                           at=world.clock.now() + timedelta(hours=19), cc=(CLAIRE,))
    world.clock.advance(timedelta(days=1))
    world.ingest(answer, follow_up, mailbox="claire/INBOX")  # Claire's INBOX is synced before her Sent folder
    assert [t["status"] for t in world.timers()] == ["pending"]  # armed by Julien's follow-up, after the answer
    report = world.ingest(sent, mailbox="claire/Sent")
    (timer,) = world.timers()
    assert report.moved == [timer["dedupe_key"]]
    assert timer["status"] == "cancelled" and timer["interaction_id"] == world.last_ids[0]
    assert timer["outcome"].startswith("cancelled when armed: reply from jean.dupont@acme.fr")
