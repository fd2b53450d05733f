"""threads: subject normalization (conservative) and the thread key order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.pipeline.threads import normalize_subject, thread_key
from agent.records import Mailbox, ParsedEmail


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("RE: Devis n°42", "Devis n°42"),
        ("Re : Devis n°42", "Devis n°42"),
        ("RE\u00a0: Devis", "Devis"),
        ("TR: RE: Re: Devis", "Devis"),
        ("Fwd: Fw: FW: Devis", "Devis"),
        ("AW: WG: Angebot", "Angebot"),
        ("RÉF : Commande 12", "Commande 12"),
        ("Réf. : Commande 12", "Commande 12"),
        ("Re[2]: Devis", "Devis"),
        ("Re(3): Devis", "Devis"),
        ("[EXT] RE: Devis", "Devis"),
        ("RE: [EXTERNAL] Devis", "Devis"),
        ("[SPAM] Devis", "Devis"),
        ("  RE:   Devis    terrasse  ", "Devis terrasse"),
        # kept on purpose
        ("Réf. 2024-042 devis", "Réf. 2024-042 devis"),
        ("Re-lancement du projet", "Re-lancement du projet"),
        ("Transport: livraison lundi", "Transport: livraison lundi"),
        ("[Projet Lilas] Devis", "[Projet Lilas] Devis"),
        ("RE: [liste-achats] Devis", "[liste-achats] Devis"),
        ("Résumé de la réunion", "Résumé de la réunion"),
        ("", ""),
        ("RE:", ""),
    ],
)
def test_normalize_subject(subject, expected) -> None:
    assert normalize_subject(subject) == expected


def email(**fields) -> ParsedEmail:
    base = dict(message_id=None, subject="", date=datetime(2024, 6, 3, tzinfo=UTC), from_=(Mailbox("a@x.fr"),))
    return ParsedEmail(**(base | fields))


def test_thread_key_prefers_the_references_root() -> None:
    parsed = email(message_id="c@x", in_reply_to="b@x", references=("root@x", "b@x"))
    assert thread_key(parsed) == "mid:root@x"


def test_thread_key_falls_back_to_in_reply_to_then_own_id() -> None:
    assert thread_key(email(message_id="c@x", in_reply_to="b@x")) == "mid:b@x"
    assert thread_key(email(message_id="c@x")) == "mid:c@x"


def test_thread_key_without_ids_uses_the_folded_normalized_subject() -> None:
    first = email(subject="Devis terrasse")
    reply = email(subject="RE : DEVIS   terrasse")
    assert thread_key(first) == thread_key(reply) == "subj:devis terrasse"


def test_thread_key_without_ids_nor_subject_never_merges_two_mails() -> None:
    one, two = email(content_hash="h1"), email(content_hash="h2")
    assert thread_key(one) == "hash:h1" and thread_key(two) == "hash:h2"


def test_a_reply_and_its_root_share_a_key() -> None:
    root = email(message_id="root@x", subject="Devis")
    reply = email(message_id="r1@y", subject="RE: Devis", in_reply_to="root@x", references=("root@x",))
    reply_of_reply = email(message_id="r2@x", in_reply_to="r1@y", references=("root@x", "r1@y"))
    assert thread_key(root) == thread_key(reply) == thread_key(reply_of_reply)
