"""The review queues on the page: unknown senders and duplicate pairs with their actions, merges and their undo."""

from __future__ import annotations

import pytest

from tests.web.conftest import csrf_of, form_csrf
from tests.web.world import UNKNOWN_SENDERS

LUC, MALLORY = UNKNOWN_SENDERS


@pytest.fixture
def review(service):
    feature = service.feature("review")
    assert feature is not None, "the review feature (agent.matching.service) is part of this build"
    return feature


def listed(review) -> dict:
    return {"available": True, "unknown": len(review.unknown(limit=10_000)),
            "duplicate_contacts": len(review.duplicates("contact", limit=10_000)),
            "duplicate_companies": len(review.duplicates("company", limit=10_000))}


def test_overview_counts_the_queues(local, review):
    counts = local.get("/api/overview").json()["review"]
    assert counts == {"available": True, "unknown": 2, "duplicate_contacts": 1, "duplicate_companies": 0}
    page = local.get("/").text
    assert 'href="/review#unknown"><span class="number">2</span> unknown senders' in page


def test_the_counts_follow_the_queues_through_every_decision(local, review, service):
    """The overview counts in SQL; the queues list through the review feature: both agree after each change."""
    headers = {"X-CSRF-Token": csrf_of(local)}
    steps = [
        ("/api/review/unknown/accept", {"address": LUC}),
        ("/api/review/duplicates/merge", {"kind": "contact", "keep_id": 1, "other_id": 2}),
        (None, None),  # unmerge the merge just made
        ("/api/review/duplicates/not-duplicate", {"kind": "contact", "a_id": 1, "b_id": 2}),
        ("/api/review/unknown/ignore", {"address": MALLORY}),
    ]
    assert local.get("/api/overview").json()["review"] == listed(review)
    for path, body in steps:
        if path is None:
            merge_id = review.merges()[0]["id"]
            assert local.post(f"/api/review/merges/{merge_id}/unmerge", headers=headers).status_code == 200
        else:
            assert local.post(path, headers=headers, json=body).status_code == 200, path
        assert local.get("/api/overview").json()["review"] == listed(review), path
    assert listed(review) == {"available": True, "unknown": 0, "duplicate_contacts": 0, "duplicate_companies": 0}


def test_review_page_shows_senders_and_pairs_with_their_actions(local, review):
    data = local.get("/api/review").json()
    assert {u["address"] for u in data["unknown"]} == {LUC, MALLORY}
    pair = data["duplicate_contacts"][0]
    assert {pair["a"]["id"], pair["b"]["id"]} == {1, 2} and "same phone +33123456789" in pair["reasons"]
    page = local.get("/review").text
    for action in ("accept", "attach", "ignore", "blocklist"):
        assert page.count(f'action="/review/unknown/{action}"') == 2
    assert page.count('action="/review/duplicates/merge"') == 2  # keep A or keep B
    assert 'action="/review/duplicates/not-duplicate"' in page
    assert "j.dupont@orange.fr" in page and "same phone +33123456789" in page
    assert "2026-10-08 15:00" in page  # Mallory's mail, stored 13:00 UTC, shown in the agent's zone (Paris)
    searched = local.get("/api/review", params={"q": "luc"}).json()["unknown"]
    assert [u["address"] for u in searched] == [LUC]


def test_accepting_an_unknown_sender_makes_a_contact(local, review):
    token = form_csrf(local.get("/review").text)
    answer = local.post("/review/unknown/accept", data={"csrf": token, "address": LUC, "name": "Luc Bernard",
                                                        "company_id": "", "next": "/review"})
    assert answer.status_code == 303 and answer.headers["location"] == "/review"
    contact = local.get(f"/api/contacts/{LUC}").json()["contact"]
    assert contact["name"] == "Luc Bernard"
    assert [u["address"] for u in local.get("/api/review").json()["unknown"]] == [MALLORY]


def test_attach_ignore_and_blocklist_through_the_api(local, review):
    token = csrf_of(local)
    headers = {"X-CSRF-Token": token}
    attached = local.post("/api/review/unknown/attach", headers=headers, json={"address": LUC, "company_id": 1})
    assert attached.status_code == 200 and attached.json()["status"] == "attached"
    missing = local.post("/api/review/unknown/attach", headers=headers, json={"address": MALLORY})
    assert missing.status_code == 422 and "company_id" in missing.json()["detail"]
    blocked = local.post("/api/review/unknown/blocklist", headers=headers, json={"address": MALLORY})
    assert blocked.status_code == 200 and blocked.json()["status"] == "blocklisted"
    assert local.get("/api/review").json()["unknown"] == []
    again = local.post("/api/review/unknown/ignore", headers=headers, json={"address": "nobody@nowhere.example"})
    assert again.status_code == 409  # not in the queue: the service says so, the page does not crash


def test_merge_then_undo_from_the_page(local, review):
    token = form_csrf(local.get("/review").text)
    merged = local.post("/review/duplicates/merge",
                        data={"csrf": token, "kind": "contact", "keep_id": "1", "other_id": "2", "next": "/review"})
    assert merged.status_code == 303
    contact = local.get("/api/contacts/1").json()["contact"]
    assert set(contact["emails"]) == {"jean.dupont@acme-industrie.fr", "j.dupont@orange.fr"}
    assert local.get("/api/review").json()["duplicate_contacts"] == []
    merges = local.get("/api/review").json()["merges"]
    assert len(merges) == 1 and merges[0]["kept"]["id"] == 1 and merges[0]["merged"]["id"] == 2
    page = local.get("/review").text
    assert f'action="/review/merges/{merges[0]["id"]}/unmerge"' in page
    undone = local.post(f"/review/merges/{merges[0]['id']}/unmerge", data={"csrf": token, "next": "/review"})
    assert undone.status_code == 303
    assert local.get("/api/contacts/1").json()["contact"]["emails"] == ["jean.dupont@acme-industrie.fr"]
    assert local.get("/api/contacts/2").json()["contact"]["emails"] == ["j.dupont@orange.fr"]
    assert local.get("/api/review").json()["merges"][0]["undone_at"] is not None


def test_not_duplicate_is_remembered(local, review):
    headers = {"X-CSRF-Token": csrf_of(local)}
    answer = local.post("/api/review/duplicates/not-duplicate", headers=headers,
                        json={"kind": "contact", "a_id": 2, "b_id": 1})
    assert answer.status_code == 200 and answer.json()["status"] == "not_duplicate"
    assert local.post("/api/review/duplicates/scan", headers=headers).status_code == 200
    assert local.get("/api/review").json()["duplicate_contacts"] == []  # never proposed again


@pytest.mark.parametrize(("body", "status"), [
    ({"kind": "contact", "keep_id": 1, "other_id": 1}, 422),
    ({"kind": "deal", "keep_id": 1, "other_id": 2}, 422),
    ({"kind": "contact", "keep_id": 1, "other_id": 999}, 409),
    ({"kind": "contact", "keep_id": 1, "other_id": 2, "extra": True}, 422),
])
def test_bad_merges_are_refused(local, review, body, status):
    answer = local.post("/api/review/duplicates/merge", headers={"X-CSRF-Token": csrf_of(local)}, json=body)
    assert answer.status_code == status
