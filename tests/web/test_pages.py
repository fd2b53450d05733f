"""The pages and their JSON twins over a store built by the real pipeline: what each shows, filters, errors."""

from __future__ import annotations

import html
import re

import pytest

from tests.web.conftest import csrf_of, form_csrf

PAGES = ["/", "/interactions", "/contacts", "/contacts/1", "/companies", "/companies/acme-industrie.fr", "/tasks",
         "/review", "/rules"]


def api_of(path: str) -> str:
    return "/api/overview" if path == "/" else f"/api{path}"


def interaction_id(local, subject_start: str) -> int:
    rows = local.get("/api/interactions", params={"limit": 1000}).json()["items"]
    return next(row["id"] for row in rows if row["subject"].startswith(subject_start))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_and_its_json_twin_answer(local, path):
    page = local.get(path)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert f'href="{api_of(path)}"' in page.text  # the page links to its twin
    twin = local.get(api_of(path))
    assert twin.status_code == 200
    assert twin.headers["content-type"].startswith("application/json")
    assert isinstance(twin.json(), dict)


def test_overview_shows_each_target_tasks_relances_and_activity(local):
    data = local.get("/api/overview").json()
    account = next(a for a in data["status"]["accounts"] if a["name"] == "claire")
    targets = {t["display"]: t for t in account["targets"]}
    assert set(targets) == {"INBOX", "Sent"}
    assert targets["INBOX"]["items_synced"] == 9 and targets["Sent"]["items_synced"] == 2
    assert all(t["status"] == "ACTIVE" and t["lag_text"] == "5 min ago" for t in targets.values())
    assert data["status"]["healthy"] is True
    assert [t["title"] for t in data["tasks"]["items"]] == [
        "Relancer Jean Dupont — Devis n°42 – agencement du hall",
        "Relancer Paul Martin — Devis n°43 – rénovation des bureaux"]
    assert data["tasks"]["open"] == 2
    days = {d["day"]: d for d in data["activity"]["days"]}
    assert len(days) == 60
    assert days["2026-10-05"]["emails"] == 4  # two quotes, Eve's mail and Marie's, all on Monday (Paris time)
    assert [days[f"2026-10-{n:02d}"]["emails"] for n in range(6, 11)] == [1, 2, 2, 1, 1]

    page = local.get("/").text
    assert "INBOX" in page and "Sent" in page and "ACTIVE" in page and "All accounts are syncing" in page
    assert "Relancer Jean Dupont" in page
    assert page.count('<g class="day">') == 60  # one bar group per day of the chart
    assert "<svg" in page and "Interactions per day" in page


def test_overview_says_what_went_wrong_in_plain_words(local, service):
    from agent.pipeline import sync_state
    from agent.store.models import SyncTarget

    with service.store.unit_of_work() as session:
        target = session.query(SyncTarget).filter_by(name="INBOX").one()
        sync_state.auth_failed(target, service.clock.now(), "LOGIN failed: AUTHENTICATIONFAILED")
    data = local.get("/api/overview").json()
    inbox = next(t for a in data["status"]["accounts"] for t in a["targets"] if t["display"] == "INBOX")
    assert inbox["status"] == "FAILED_AUTH"
    assert "refused the login" in inbox["error_text"] and "will not retry" in inbox["error_text"]
    page = local.get("/").text
    assert "Needs attention" in page and "refused the login" in page
    assert "LOGIN failed: AUTHENTICATIONFAILED" in page  # the server's own words stay visible as detail


def test_interaction_filters(local):
    def subjects(**params):
        answer = local.get("/api/interactions", params=params)
        assert answer.status_code == 200, answer.text
        return [row["subject"] for row in answer.json()["items"]]

    assert len(subjects()) == 11
    assert sorted(subjects(q="devis n°")) == ["Devis n°42 – agencement du hall",
                                             "Devis n°43 – rénovation des bureaux"]
    assert subjects(kind="meeting") == []
    assert subjects(contact="jean.dupont@acme-industrie.fr") == ["Devis n°42 – agencement du hall"]
    assert subjects(company="bati-ouest.fr") == ["Devis n°43 – rénovation des bureaux"]
    assert len(subjects(since="2026-10-07", until="2026-10-09")) == 4
    assert len(subjects(limit=3)) == 3
    # an HTML filter form sends every field, the empty ones as ""
    empty_form = {"q": "", "kind": "", "contact": "", "company": "", "since": "", "until": "", "limit": "100"}
    assert local.get("/interactions", params=empty_form).status_code == 200
    assert len(subjects(**empty_form)) == 11


@pytest.mark.parametrize(("params", "status", "words"), [
    ({"since": "2026-02-31"}, 422, "not a date"),
    ({"since": "yesterday"}, 422, "since"),
    ({"kind": "fax"}, 422, "kind"),
    ({"limit": "0"}, 422, "limit"),
    ({"company": "no-such-company.example"}, 404, "no company matches"),
])
def test_bad_filters_are_refused_with_a_reason(local, params, status, words):
    answer = local.get("/api/interactions", params=params)
    assert answer.status_code == status
    assert words in str(answer.json()["detail"])
    page = local.get("/interactions", params=params)
    assert page.status_code == status and page.headers["content-type"].startswith("text/html")


def test_contact_page_shows_the_timeline_by_id_or_address(local):
    by_id = local.get("/api/contacts/1").json()
    by_address = local.get("/api/contacts/jean.dupont@acme-industrie.fr").json()
    assert by_id == by_address
    assert by_id["contact"]["name"] == "Jean Dupont" and by_id["contact"]["company"] == "ACME Industrie"
    assert [row["subject"] for row in by_id["timeline"]] == ["Devis n°42 – agencement du hall"]
    page = local.get("/contacts/1").text
    assert "Jean Dupont" in page and "Devis n°42" in page and "devis-42.pdf" in page


def test_an_address_without_contact_still_shows_where_it_appeared(local):
    answer = local.get("/api/contacts/claire.martin@atelier-durand.fr").json()
    assert answer["contact"] is None and len(answer["timeline"]) == 11
    assert "No contact has the address" in local.get("/contacts/claire.martin@atelier-durand.fr").text


@pytest.mark.parametrize("ref", ["nobody@nowhere.example", "424242", "99999999999999999999999999", "²",
                                 "not an address"])
def test_unknown_contacts_are_404(local, ref):
    assert local.get(f"/contacts/{ref}").status_code == 404
    assert local.get(f"/api/contacts/{ref}").status_code == 404


def test_company_page_lists_people_and_timeline(local):
    data = local.get("/api/companies/acme-industrie.fr").json()
    assert data["company"]["name"] == "ACME Industrie" and data["company"]["domains"] == ["acme-industrie.fr"]
    assert [c["name"] for c in data["contacts"]] == ["Jean Dupont"]
    assert [row["subject"] for row in data["timeline"]] == ["Devis n°42 – agencement du hall"]
    listing = local.get("/api/companies", params={"q": "acme"}).json()["items"]
    assert [(c["name"], c["contacts"], c["interactions"]) for c in listing] == [("ACME Industrie", 1, 1)]
    assert local.get("/companies/no-such.example").status_code == 404


def test_interaction_page_says_why_each_participant_is_linked(local):
    quote = interaction_id(local, "Devis n°42")
    data = local.get(f"/api/interactions/{quote}").json()
    assert data["interaction"]["attachments"] == ["devis-42.pdf"]
    jean = next(p for p in data["participants"] if p["address"] == "jean.dupont@acme-industrie.fr")
    assert jean["contact"]["reason"] == "exact" and "primary address" in jean["contact"]["why"]
    page = local.get(f"/interactions/{quote}").text
    assert "primary address" in page and "claire/Sent" in page and "relance-devis" in page
    assert local.get("/interactions/987654").status_code == 404
    assert local.get(f"/interactions/{2**63}").status_code == 422


def test_marking_a_task_done_from_the_page(local, service):
    page = local.get("/tasks").text
    assert page.count('class="done"') == 2
    token = form_csrf(page)
    answer = local.post("/tasks/1/done", data={"csrf": token, "next": "/tasks"})
    assert answer.status_code == 303 and answer.headers["location"] == "/tasks"
    tasks = {t["id"]: t["status"] for t in service.feature("rules").tasks()}
    assert tasks == {1: "done", 2: "open"}
    assert local.get("/api/overview").json()["tasks"]["open"] == 1
    assert local.get("/tasks").text.count('class="done"') == 1


def test_marking_a_task_done_through_the_api(local, service):
    token = csrf_of(local)
    answer = local.post("/api/tasks/2/done", headers={"X-CSRF-Token": token})
    assert answer.status_code == 200 and answer.json()["status"] == "done"
    assert local.post("/api/tasks/999/done", headers={"X-CSRF-Token": token}).status_code == 409


def test_a_redirect_never_leaves_the_site(local):
    token = form_csrf(local.get("/tasks").text)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        answer = local.post("/tasks/1/done", data={"csrf": token, "next": target})
        assert answer.headers["location"] == "/"


def test_rules_page_shows_timers_and_last_firings(local):
    data = local.get("/api/rules").json()
    rule = next(r for r in data["rules"] if r["name"] == "relance-devis")
    assert rule["timers"] == {"fired": 2} and rule["last_fired"].startswith("2026-10-13")
    assert {f["decision"] for f in data["firings"]} >= {"armed", "fired"}
    page = local.get("/rules").text
    assert "relance-devis" in page and "2026-10-13" in page


def test_panels_of_missing_features_say_not_available(local, service, monkeypatch):
    monkeypatch.setattr(service, "feature", lambda name: None)
    data = local.get("/api/overview").json()
    assert data["tasks"] == {"available": False} and data["review"] == {"available": False}
    assert "not available" in local.get("/").text
    assert "not available" in local.get("/review").text
    token = csrf_of(local)
    assert local.post("/api/tasks/1/done", headers={"X-CSRF-Token": token}).status_code == 404


def test_a_failing_panel_does_not_take_the_overview_down(local, service, monkeypatch):
    rules = service.feature("rules")

    def broken(**_):
        raise RuntimeError("boom")

    monkeypatch.setattr(rules, "tasks", broken)
    data = local.get("/api/overview").json()
    assert data["tasks"]["available"] is False and "boom" in data["tasks"]["error"]
    assert data["status"]["accounts"]  # the sync status is still there


def test_unknown_paths_and_store_trouble_are_pages_not_tracebacks(local, service, monkeypatch):
    missing = local.get("/no/such/page")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert local.get("/api/no/such").json() == {"detail": "Not Found"}
    from agent.errors import UserError

    def outdated():
        raise UserError("database: schema 0002 is older than 0004; run `crm-agent db upgrade`")

    monkeypatch.setattr(service, "status", outdated)
    page = local.get("/")
    assert page.status_code == 503 and "crm-agent db upgrade" in html.unescape(page.text)


def test_healthz_and_csrf_endpoints(local):
    assert local.get("/healthz").json() == {"status": "ok", "read_only": False}
    token = local.get("/api/csrf").json()["csrf_token"]
    assert re.fullmatch(r"[0-9a-f]{64}", token)


def test_a_sign_in_about_to_expire_is_shown_with_its_fix(local, monkeypatch):
    from agent.views import status as status_view

    expiring = {"account": "claire", "flow": "device_code", "username": "claire@atelier-durand.fr",
                "state": "expiring", "expires_at": "2026-10-20T09:00:00+00:00", "days_left": 6,
                "warning": "sign-in expires in 6 days", "fix": "run crm-agent accounts login claire"}
    monkeypatch.setattr(status_view, "_token_states", lambda settings, now: {"claire": expiring})
    data = local.get("/api/overview").json()
    assert data["status"]["warnings"] == ["claire: sign-in expires in 6 days — run crm-agent accounts login claire"]
    page = local.get("/").text
    assert "expires 2026-10-20 (6 days left)" in page and "run crm-agent accounts login claire" in page
    assert 'class="token token-expiring"' in page
