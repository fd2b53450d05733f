"""Merges keep everything and undo exactly: survivorship rules, links, phones, other tables, new mail in between."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from agent.errors import UserError
from agent.matching import survivorship
from agent.store.models import Participant
from agent.store.models_crm import Company, CompanyDomain, Contact, ContactAddress
from agent.store.models_matching import ContactPhone, MergeLog
from agent.store.models_rules import Task
from tests.matching.review_world import CLAIRE, NOW, World, import_csv, table_rows

BOOKKEEPING = frozenset({"merge_log", "not_duplicate", "duplicate_candidate"})
LEMAIRE = ("Lemaire;Sophie;sophie.lemaire@boulangerie-lemaire.fr;Boulangerie Lemaire;04 65 71 20 14;Gérante;prospect\n"
           "Sophie LEMAIRE;;s.lemaire@orange.fr;;+33 6 39 98 41 27;;client\n")


def row(**values):
    base = {"id": 1, "display_name": "", "first_name": "", "last_name": "", "title": "", "status": "", "phone": "",
            "company_id": None, "tags": [], "notes": "", "source": "import", "created_at": NOW, "updated_at": NOW}
    return {**base, **values}


def test_survivorship_most_recent_non_empty_value_and_nothing_dropped():
    older = row(id=1, display_name="Sophie Lemaire", first_name="Sophie", last_name="Lemaire", title="Gérante",
                status="prospect", phone="+33465712014", company_id=2, tags=["salon"], notes="rencontrée au salon",
                created_at=NOW - timedelta(days=30), updated_at=NOW - timedelta(days=2))
    recent = row(id=5, display_name="Sophie LEMAIRE", last_name="Sophie LEMAIRE", status="client",
                 phone="+33639984127", tags=["vip", "salon"], notes="préfère le portable",
                 created_at=NOW - timedelta(days=3), updated_at=NOW - timedelta(days=1))
    merged = survivorship.merged_contact(older, recent, NOW)
    assert merged["status"] == "client" and merged["phone"] == "+33639984127"  # the recent record's values
    assert merged["title"] == "Gérante" and merged["company_id"] == 2  # empty there: the other's value
    # the name moves as one unit, from the record that has both halves
    names = (merged["display_name"], merged["first_name"], merged["last_name"])
    assert names == ("Sophie Lemaire", "Sophie", "Lemaire")
    assert merged["tags"] == ["vip", "salon"] and merged["notes"] == "rencontrée au salon\n\npréfère le portable"
    assert merged["created_at"] == older["created_at"] and merged["updated_at"] == NOW
    assert survivorship.extra_phones(merged["phone"], [older["phone"], recent["phone"]]) == ["+33465712014"]


def test_a_person_given_value_beats_one_guessed_from_mail_and_ties_go_to_the_kept_record():
    typed = row(id=1, company_id=1, status="client", updated_at=NOW - timedelta(days=9))
    guessed = row(id=9, company_id=7, source="auto", updated_at=NOW)
    assert survivorship.merged_contact(typed, guessed, NOW)["company_id"] == 1
    assert survivorship.merged_contact(guessed, typed, NOW)["company_id"] == 1
    a, b = row(id=1, status="client"), row(id=2, status="prospect")
    assert survivorship.merged_contact(a, b, NOW)["status"] == "client"
    assert survivorship.merged_contact(b, a, NOW)["status"] == "prospect"


def test_the_older_records_primary_address_stays_primary_unless_configured():
    older, newer = row(id=1, created_at=NOW - timedelta(days=5)), row(id=2)
    addresses = [{"contact_id": 1, "address": "a@x.fr", "is_primary": True},
                 {"contact_id": 2, "address": "b@x.fr", "is_primary": True}]
    assert survivorship.primary_address(newer, older, addresses) == "a@x.fr"
    assert survivorship.primary_address(newer, older, addresses, primary="keep") == "b@x.fr"
    assert survivorship.primary_address(newer, row(id=3), addresses) == "b@x.fr"  # the older one has no address


@pytest.fixture
def world(tmp_path):
    world = World(tmp_path)
    import_csv(world, LEMAIRE)
    world.mail(sender="Sophie Lemaire <sophie.lemaire@boulangerie-lemaire.fr>", to=CLAIRE, subject="Devis four",
               days_ago=9)
    world.mail(sender="Sophie <s.lemaire@orange.fr>", to=CLAIRE, subject="Depuis mon portable", days_ago=8)
    world.mail(sender=CLAIRE, to="s.lemaire@orange.fr", subject="Re: Depuis mon portable", days_ago=7)
    world.sync()
    yield world
    world.close()


def ids(world) -> tuple[int, int]:
    return world.contact_of("sophie.lemaire@boulangerie-lemaire.fr").id, world.contact_of("s.lemaire@orange.fr").id


def test_merge_keeps_every_address_phone_link_and_row_of_other_tables(world):
    keep, other = ids(world)
    with world.service.store.unit_of_work() as s:
        s.add(Task(title="Rappeler Sophie", created_at=NOW, contact_id=other))
    result = world.review.merge("contact", keep, other)
    assert result["kept"] == keep and result["undo"] == f"crm-agent unmerge {result['merge_id']}"
    with world.service.store.read() as s:
        kept_phone, merged_into = s.get(Contact, keep).phone, s.get(Contact, other).merged_into_id
        addresses = {a.address: a.is_primary for a in s.scalars(select(ContactAddress))}
        phones = set(s.scalars(select(ContactPhone.phone).where(ContactPhone.contact_id == keep)))
        task = s.scalar(select(Task.contact_id))
    assert merged_into == keep
    assert addresses == {"sophie.lemaire@boulangerie-lemaire.fr": True, "s.lemaire@orange.fr": False}
    assert (kept_phone, phones) == ("+33465712014", {"+33639984127"})  # a tie: the kept record's number leads
    assert task == keep
    assert world.links("s.lemaire@orange.fr") == [
        ("Depuis mon portable", keep, "alias", None, None), ("Re: Depuis mon portable", keep, "alias", None, None)]
    assert world.service.contact("s.lemaire@orange.fr")["contact"]["id"] == keep  # old ids and addresses lead on
    assert len(world.service.contact(str(keep))["timeline"]) == 3


def test_merge_then_new_mail_then_unmerge_restores_both_records_exactly(world):
    keep, other = ids(world)
    with world.service.store.read() as s:
        before = table_rows(s, BOOKKEEPING)
    merge_id = world.review.merge("contact", keep, other)["merge_id"]
    world.clock.advance(timedelta(hours=1))
    world.mail(sender="Sophie <s.lemaire@orange.fr>", to=CLAIRE, subject="Après la fusion", days_ago=0.5)
    world.mail(sender=CLAIRE, to="sophie.lemaire@boulangerie-lemaire.fr", subject="Facture", days_ago=0.4)
    world.sync()
    assert {link[1] for link in world.links("s.lemaire@orange.fr")} == {keep}
    result = world.review.unmerge(merge_id)
    assert result["new_links_returned"] == 1
    with world.service.store.read() as s:
        after = table_rows(s, BOOKKEEPING)
    for name in ("contact", "contact_address", "contact_phone", "company", "company_domain", "task"):
        assert after[name] == before[name], name
    old = {r for r in before["participant"]}
    assert old <= set(after["participant"])  # every link that existed is back as it was
    assert world.links("s.lemaire@orange.fr")[-1] == ("Après la fusion", other, "exact", None, None)
    assert world.links("sophie.lemaire@boulangerie-lemaire.fr")[-1][1:3] == (keep, "exact")
    with pytest.raises(UserError, match="already undone"):
        world.review.unmerge(merge_id)


def test_merges_undo_last_first(world):
    keep, other = ids(world)
    import_csv(world, "Lemaire;S.;sophie@boulangerie-lemaire.fr;Boulangerie Lemaire;;;\n")
    third = world.contact_of("sophie@boulangerie-lemaire.fr").id
    first = world.review.merge("contact", keep, other)["merge_id"]
    second = world.review.merge("contact", keep, third)["merge_id"]
    with pytest.raises(UserError, match=f"undo it first \\(crm-agent unmerge {second}\\)"):
        world.review.unmerge(first)
    world.review.unmerge(second)
    world.review.unmerge(first)
    assert {world.contact_of(a).id for a in ("sophie.lemaire@boulangerie-lemaire.fr", "s.lemaire@orange.fr",
                                             "sophie@boulangerie-lemaire.fr")} == {keep, other, third}
    assert [(m["id"], m["undone_at"] is not None) for m in world.review.merges()] == [(second, True), (first, True)]


@pytest.mark.parametrize(("call", "message"), [
    (lambda r, a, b: r.merge("contact", a, a), "with itself"),
    (lambda r, a, b: r.merge("contact", a, 999), "no contact with id 999"),
    (lambda r, a, b: r.merge("person", a, b), "kind must be contact or company"),
    (lambda r, a, b: r.unmerge(999), "no merge with id 999"),
])
def test_bad_merge_requests_are_user_errors(world, call, message):
    keep, other = ids(world)
    with pytest.raises(UserError, match=message):
        call(world.review, keep, other)


def test_a_merged_record_cannot_be_merged_again(world):
    keep, other = ids(world)
    world.review.merge("contact", keep, other)
    with pytest.raises(UserError, match=f"already merged into #{keep}"):
        world.review.merge("contact", other, keep)


def test_company_merge_moves_domains_contacts_and_links_and_unmerge_returns_new_mail(tmp_path):
    world = World(tmp_path)
    import_csv(world, "Générale;Paul;paul@societegenerale.fr;Société Générale;;;\n"
                      "Martin;Anne;anne@sg-bank.fr;SOCIETE GENERALE SA;;;\n")
    world.mail(sender="Service <service@sg-bank.fr>", to=CLAIRE, subject="Relevé", days_ago=5)
    world.sync()
    keep, other = world.company_of_domain("societegenerale.fr"), world.company_of_domain("sg-bank.fr")
    with world.service.store.read() as s:
        before = table_rows(s, BOOKKEEPING)
    merge_id = world.review.merge("company", keep, other)["merge_id"]
    assert world.company_of_domain("sg-bank.fr") == keep
    page = world.review.company("sg-bank.fr")
    assert page["company"]["id"] == keep and sorted(page["company"]["domains"]) == ["sg-bank.fr", "societegenerale.fr"]
    assert sorted(c["name"] for c in page["contacts"]) == ["Anne Martin", "Paul Générale"]
    assert page["merged_from"] == [{"id": other, "name": "SOCIETE GENERALE SA", "merge_id": merge_id}]
    assert [t["subject"] for t in page["timeline"]] == ["Relevé"]
    world.mail(sender="Service <service@sg-bank.fr>", to=CLAIRE, subject="Nouveau relevé", days_ago=1)
    world.sync()
    assert world.links("service@sg-bank.fr")[-1][3] == keep
    world.review.unmerge(merge_id)
    with world.service.store.read() as s:
        after = table_rows(s, BOOKKEEPING)
    for name in ("contact", "contact_address", "company", "company_domain"):
        assert after[name] == before[name], name
    assert [link[3:] for link in world.links("service@sg-bank.fr")] == [(other, "domain"), (other, "domain")]


def test_merge_and_unmerge_on_postgresql(tmp_path, pg_url):
    world = World(tmp_path, database=pg_url)
    import_csv(world, LEMAIRE)
    world.mail(sender="Sophie <s.lemaire@orange.fr>", to=CLAIRE, subject="Portable", days_ago=3)
    world.sync()
    keep, other = ids(world)
    with world.service.store.read() as s:
        before = table_rows(s, BOOKKEEPING)
    merge_id = world.review.merge("contact", keep, other)["merge_id"]
    with world.service.store.read() as s:
        assert s.get(MergeLog, merge_id).snapshot["other"]["id"] == other
        assert s.scalar(select(Participant.contact_id).where(Participant.address == "s.lemaire@orange.fr")) == keep
    world.review.unmerge(merge_id)
    with world.service.store.read() as s:
        assert table_rows(s, BOOKKEEPING) == before
    world.close()


def test_companies_list_and_page(world):
    rows = world.review.companies()
    assert [(c["name"], c["domains"], c["contacts"], c["interactions"]) for c in rows] == [
        ("Boulangerie Lemaire", ["boulangerie-lemaire.fr"], 1, 1)]
    assert world.review.companies(search="lemaire.fr") == rows and world.review.companies(search="zzz") == []
    with world.service.store.read() as s:
        company = s.scalar(select(CompanyDomain.company_id))
        assert s.get(Company, company).name == "Boulangerie Lemaire"
    with pytest.raises(UserError, match="no company matches"):
        world.review.company("inconnue.fr")
