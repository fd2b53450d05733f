"""Condition evaluation: each `when` key passing and failing, with the reasons `explain` prints."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from agent.rules.amounts import Amount
from agent.rules.conditions import (
    AmountBound,
    Conditions,
    InteractionFacts,
    ParticipantFacts,
    counts_as_reply,
    matches,
)

QUOTE = re.compile(r"(?i)\b(devis|quote|proposition commerciale|offre)\b")
DEVIS_PDF = re.compile(r"(?i)devis.*\.pdf")
ME = ParticipantFacts("paul@example.fr", "Paul Durand", "Example SARL", "", ("equipe",), is_internal=True)
CLAIRE = ParticipantFacts("claire.martin@ventes.acme.fr", "Claire Martin", "ACME SAS", "prospect", ("vip",))


def email(**fields: object) -> InteractionFacts:
    base: dict[str, object] = {"kind": "email", "direction": "out", "participants": (ME, CLAIRE)}
    base.update(fields)
    return InteractionFacts(**base)  # type: ignore[arg-type]


def test_subject_match_quotes_the_matched_words() -> None:
    result = matches(Conditions(subject=QUOTE), email(subject="Votre Devis n°42"))
    assert result.matched and bool(result)
    assert result.reasons == (f'subject matched {QUOTE.pattern} ("Devis")',)


def test_subject_miss() -> None:
    result = matches(Conditions(subject=QUOTE), email(subject="Compte rendu de réunion"))
    assert not result
    assert result.reasons == (f"subject did not match {QUOTE.pattern}",)


def test_attachment_names_the_file() -> None:
    facts = email(attachments=("CGV.pdf", "Devis_42.pdf"))
    assert matches(Conditions(attachment=DEVIS_PDF), facts).reasons == (
        f"attachment Devis_42.pdf matched {DEVIS_PDF.pattern}",
    )
    assert matches(Conditions(attachment=DEVIS_PDF), email(attachments=("CGV.pdf", "plan.png"))).reasons == (
        f"no attachment matched {DEVIS_PDF.pattern}",
    )
    nothing_attached = matches(Conditions(attachment=DEVIS_PDF), email())
    assert nothing_attached.reasons == (f"no attachment to match {DEVIS_PDF.pattern}",)


def test_body_reads_the_snippet_when_no_body_is_stored() -> None:
    order = re.compile(r"(?i)bon de commande")
    assert matches(Conditions(body=order), email(body="Ci-joint le bon de commande signé")).reasons == (
        f'body matched {order.pattern} ("bon de commande")',
    )
    assert matches(Conditions(body=order), email(snippet="Voici notre Bon de Commande")).reasons == (
        f'snippet matched {order.pattern} ("Bon de Commande")',
    )
    assert not matches(Conditions(body=order), email(subject="bon de commande"))


def test_conditions_are_anded_and_all_reasons_are_given() -> None:
    spec = Conditions(subject=QUOTE, attachment=DEVIS_PDF, amount=(AmountBound(">", Decimal(10000)),))
    result = matches(spec, email(subject="Devis", attachments=("CGV.pdf",), amount=Amount(Decimal(12450), "EUR")))
    assert not result
    assert len(result.reasons) == 3
    assert result.reasons[1] == f"no attachment matched {DEVIS_PDF.pattern}"
    assert result.reasons[2] == "amount 12450 > 10000"


def test_any_needs_one_alternative() -> None:
    spec = Conditions(any=(Conditions(subject=QUOTE), Conditions(attachment=DEVIS_PDF)))
    result = matches(spec, email(subject="Suite à notre échange", attachments=("Devis_42.pdf",)))
    assert result.matched
    assert result.reasons == (
        f"any[0]: subject did not match {QUOTE.pattern}",
        f"any[1]: attachment Devis_42.pdf matched {DEVIS_PDF.pattern}",
        "any: alternative 1 matched",
    )
    result = matches(spec, email(subject="Bonjour", attachments=("photo.jpg",)))
    assert not result.matched
    assert result.reasons[-1] == "any: no alternative matched"


def test_any_is_anded_with_the_other_keys() -> None:
    spec = Conditions(status=("client",), any=(Conditions(subject=QUOTE),))
    assert not matches(spec, email(subject="Devis"))
    assert matches(spec, email(subject="Devis", participants=(ME, ParticipantFacts("x@y.fr", status="client"))))


def test_participant_conditions_ignore_internal_people() -> None:
    assert matches(Conditions(company=re.compile("(?i)acme")), email()).reasons == (
        "company ACME SAS matched (?i)acme",
    )
    assert not matches(Conditions(company=re.compile("Example")), email())
    assert not matches(Conditions(tags=("equipe",)), email())
    assert matches(Conditions(contact=re.compile("(?i)claire")), email()).reasons == (
        "contact Claire Martin matched (?i)claire",
    )
    assert matches(Conditions(contact=re.compile(r"@ventes\.acme")), email())


def test_domain_includes_subdomains_only() -> None:
    assert matches(Conditions(domain=("acme.fr",)), email()).reasons == (
        "address claire.martin@ventes.acme.fr is in domain acme.fr",
    )
    assert matches(Conditions(domain=("ventes.acme.fr",)), email())
    result = matches(Conditions(domain=("me.fr", "example.fr")), email())
    assert not result and result.reasons == ("no participant address in me.fr, example.fr",)


def test_status_and_tags_are_case_insensitive() -> None:
    shouting = ParticipantFacts("a@b.fr", status="Prospect", tags=("VIP",))
    facts = email(participants=(shouting,))
    assert matches(Conditions(status=("lead", "prospect")), facts).reasons == ("contact a@b.fr has status Prospect",)
    assert matches(Conditions(tags=("vip",)), facts).reasons == ("contact a@b.fr has tag VIP",)
    result = matches(Conditions(status=("client",), tags=("salon",)), facts)
    assert result.reasons == ("no participant has status client", "no participant has tag salon")


@pytest.mark.parametrize(
    ("operator", "value", "matched", "reason"),
    [
        (">", "12450.00", True, "amount 12450 > 10000"),
        (">", "10000", False, "amount 10000 is not > 10000"),
        (">=", "10000", True, "amount 10000 >= 10000"),
        ("<", "9999.5", True, "amount 9999.5 < 10000"),
        ("<=", "10000.01", False, "amount 10000.01 is not <= 10000"),
    ],
)
def test_amount_bounds(operator: str, value: str, matched: bool, reason: str) -> None:
    spec = Conditions(amount=(AmountBound(operator, Decimal(10000)),))
    result = matches(spec, email(amount=Amount(Decimal(value), "EUR", "HT")))
    assert result.matched is matched
    assert result.reasons == (reason,)


def test_missing_amount_fails() -> None:
    result = matches(Conditions(amount=(AmountBound(">", Decimal(10000)),)), email())
    assert result == type(result)(False, ("no amount found (needs amount > 10000)",))


def test_deal_stage() -> None:
    spec = Conditions(stage=("won",))
    assert matches(spec, InteractionFacts(kind="deal", deal_stage="Won")).reasons == ("deal stage Won is one of won",)
    assert matches(spec, InteractionFacts(kind="deal")).reasons == ("deal stage (none) is not one of won",)


def test_empty_conditions_match_everything() -> None:
    assert matches(Conditions(), email()) == type(matches(Conditions(), email()))(True, ("no conditions",))


@pytest.mark.parametrize(
    ("flag", "reason"),
    [("is_own_rule_mail", "sent by a rule"), ("is_auto_reply", "auto-reply"), ("is_bounce", "bounce")],
)
def test_rules_never_fire_on_automatic_mail(flag: str, reason: str) -> None:
    result = matches(Conditions(subject=QUOTE), email(subject="Devis", **{flag: True}))
    assert not result
    assert result.reasons[0].startswith(reason)
    assert not matches(Conditions(), email(**{flag: True}))


def test_counts_as_reply() -> None:
    assert counts_as_reply(email(direction="in"))
    assert not counts_as_reply(email(direction="out"))
    assert not counts_as_reply(email(direction="internal"))
    assert not counts_as_reply(email(direction="in", is_auto_reply=True))
    assert not counts_as_reply(email(direction="in", is_bounce=True))
    assert not counts_as_reply(email(direction="in", is_own_rule_mail=True))
    assert not counts_as_reply(InteractionFacts(kind="meeting", direction="in"))


def test_long_bodies_are_read_up_to_the_limit() -> None:
    late = "x" * 200_000 + " devis"
    assert not matches(Conditions(body=QUOTE), email(body=late))
    assert matches(Conditions(body=QUOTE), email(body="x" * 1000 + " devis"))


def test_external_participants() -> None:
    assert email().external == (CLAIRE,)
