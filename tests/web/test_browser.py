"""End to end in headless Chromium (Playwright): a person opens the overview, follows a contact, marks a task done,
resolves a duplicate, signs in from elsewhere; mail's XSS payloads never run. Screenshots go to test-artifacts/web/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from agent.web.server import WebHandle, serve
from tests.web.conftest import artifact_dir
from tests.web.world import XSS_ATTACHMENT, XSS_NAME, XSS_SUBJECT, XSS_UNKNOWN_NAME

TOKEN = "browser-test-token"


@pytest.fixture
def live(service) -> Iterator[WebHandle]:
    handle = serve(service, host="127.0.0.1", port=0)
    yield handle
    handle.stop()


@pytest.fixture
def watched(page: Page) -> Iterator[tuple[Page, list[str]]]:
    """The page, and every console message and uncaught error it produced (CSP refusals show up there)."""
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"console.{message.type}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    page.on("dialog", lambda dialog: dialog.accept())  # the page asks before merges and undos
    yield page, messages


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(artifact_dir() / f"{name}.png"), full_page=True)


def test_overview_contact_and_task_done(watched, live, service):
    page, messages = watched
    page.goto(live.url)
    expect(page.locator("h1")).to_have_text("Overview")
    expect(page.locator("#health")).to_contain_text("All accounts are syncing")
    expect(page.locator("#accounts")).to_contain_text("INBOX")
    expect(page.locator("#activity svg rect.bar-email")).to_have_count(6)  # six days with mail in the window
    expect(page.locator("#open-tasks .count")).to_have_text("2")
    shot(page, "01-overview")

    page.locator("#open-tasks").get_by_role("link", name="Jean Dupont").click()
    expect(page).to_have_url(re.compile(r"/contacts/1$"))
    expect(page.locator("h1")).to_have_text("Jean Dupont")
    expect(page.locator("#contact")).to_contain_text("jean.dupont@acme-industrie.fr")
    page.get_by_role("link", name="Devis n°42 – agencement du hall").click()
    expect(page.locator("#participants")).to_contain_text("the address is the contact's primary address")
    shot(page, "02-contact-interaction")

    page.get_by_role("link", name="Overview").click()
    jean_task = page.locator("#open-tasks tr", has_text="Relancer Jean Dupont")
    jean_task.get_by_role("button", name="Done").click()
    expect(page.locator("#open-tasks .count")).to_have_text("1")
    expect(page.locator("#open-tasks tr", has_text="Relancer Jean Dupont")).to_have_count(0)
    shot(page, "03-task-done")
    assert {t["id"]: t["status"] for t in service.feature("rules").tasks()} == {1: "done", 2: "open"}
    assert messages == []


def test_resolve_a_duplicate_and_undo_it(watched, live, service):
    page, messages = watched
    page.goto(live.url + "review")
    pair = page.locator("#duplicate-contacts + table tr[data-pair]")
    expect(pair).to_have_count(1)
    expect(pair).to_contain_text("j.dupont@orange.fr")
    shot(page, "04-review")
    pair.get_by_role("button", name="Merge, keep A").click()
    expect(page.locator("#duplicate-contacts + p.empty")).to_have_text("Nothing to review.")
    expect(page.locator("#merges-table tbody tr")).to_have_count(1)
    shot(page, "05-merged")
    emails = service.contact("1")["contact"]["emails"]
    assert set(emails) == {"jean.dupont@acme-industrie.fr", "j.dupont@orange.fr"}

    page.locator("#merges-table").get_by_role("button", name="Undo").click()
    expect(page.locator("#merges-table tbody tr")).to_contain_text("undone")
    assert service.contact("2")["contact"]["emails"] == ["j.dupont@orange.fr"]
    assert messages == []


def test_xss_payloads_render_as_text_and_never_run(watched, live, service):
    page, messages = watched
    eve_mail = next(i["id"] for i in service.interactions() if i["subject"] == XSS_SUBJECT)
    eve = service.contact("eve@evil-corp.example")["contact"]
    for path in ("", "interactions", f"interactions/{eve_mail}", "contacts", f"contacts/{eve['id']}",
                 f"companies/{eve['company_id']}", "review"):
        page.goto(live.url + path)
        assert page.evaluate("() => window.pwned") is None, f"a payload ran on /{path}"
        assert page.locator("script").count() == 1  # only /static/app.js
        assert page.locator("img, iframe, object, embed").count() == 0
    page.goto(live.url + "interactions")
    row = page.locator("tr", has_text="Devis <b>urgent</b>")
    expect(row.locator("td.subject a")).to_have_text(XSS_SUBJECT)
    expect(row.locator(".attachment")).to_have_text(XSS_ATTACHMENT)
    expect(row.get_by_role("link", name=re.compile("onerror"))).to_have_text(f"{XSS_NAME} <eve@evil-corp.example>")
    shot(page, "06-xss-as-text")
    page.goto(live.url + "review")
    expect(page.locator("#unknown-table .name", has_text="Mallory")).to_have_text(XSS_UNKNOWN_NAME)
    page.goto(f"{live.url}contacts/{eve['id']}")
    expect(page.locator("h1")).to_have_text("<script>window.pwned='contact'</script> <i>Eve</i>")
    assert messages == []  # not even a CSP refusal: nothing tried to run


def test_signing_in_from_another_machine(browser, service):
    """Through a proxy header the page sees another machine: it asks for the token, then the cookie opens it."""
    handle = serve(service, host="127.0.0.1", port=0, token=TOKEN)
    context = browser.new_context(extra_http_headers={"X-Forwarded-For": "203.0.113.9"})
    try:
        page = context.new_page()
        response = page.goto(handle.url + "tasks")
        assert response.status == 401
        expect(page.locator("h1")).to_have_text("Sign in")
        page.get_by_label("Token").fill("not-the-token")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".notice")).to_have_text("wrong token")
        page.get_by_label("Token").fill(TOKEN)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/tasks$"))
        cookie = next(c for c in context.cookies() if c["name"] == "crm_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert page.evaluate("() => document.cookie") == ""  # neither cookie is readable by scripts
        page.locator("tr", has_text="Relancer Paul Martin").get_by_role("button", name="Done").click()
        expect(page.locator("tr", has_text="Relancer Paul Martin")).to_contain_text("done")
        shot(page, "07-signed-in-from-elsewhere")
    finally:
        context.close()
        handle.stop()
