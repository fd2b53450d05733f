"""Who may read and change the page: loopback or token, CSRF and Origin, read-only mode, headers, and escaping of
everything that comes from mail."""

from __future__ import annotations

import hashlib
from html.parser import HTMLParser

import pytest

from agent.web.security import CONTENT_SECURITY_POLICY
from tests.web.conftest import LOCAL_CLIENT, REMOTE_CLIENT, csrf_of, form_csrf
from tests.web.world import XSS_ATTACHMENT, XSS_NAME, XSS_SUBJECT, XSS_UNKNOWN_NAME

TOKEN = "s3cret-token-for-tests"
PAYLOADS = (XSS_SUBJECT, XSS_NAME, XSS_ATTACHMENT, XSS_UNKNOWN_NAME, "<script>window.pwned='contact'</script>",
            "<b>Evil</b> Corp")
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "link", "script", "body", "header", "nav", "a", "span", "form", "input",
    "button", "main", "h1", "h2", "section", "p", "ul", "li", "div", "strong", "table", "thead", "tbody", "tr", "th",
    "td", "figure", "svg", "line", "text", "g", "rect", "figcaption", "footer", "label", "select", "option", "dl",
    "dt", "dd", "code", "br", "path",
}


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(page: str) -> list[tuple[str, dict]]:
    collector = TagCollector()
    collector.feed(page)
    return collector.tags


def assert_inert(page: str) -> None:
    """Only the page's own markup: no tag or attribute that mail could have smuggled in, no inline code or style."""
    for tag, attrs in tags_of(page):
        assert tag in ALLOWED_TAGS, f"unexpected <{tag}> in the page"
        assert not any(name.startswith("on") for name in attrs), f"event handler on <{tag}>: {attrs}"
        assert "style" not in attrs, f"inline style on <{tag}>"
        if tag == "script":
            assert attrs.get("src") == "/static/app.js"
        for value in attrs.values():
            assert not (value or "").lower().startswith("javascript:")


# ---------------------------------------------------------------------------------------------------- escaping


def pages_with_payloads(local) -> dict[str, str]:
    eve_mail = next(r["id"] for r in local.get("/api/interactions").json()["items"] if r["subject"] == XSS_SUBJECT)
    eve = local.get("/api/contacts/eve@evil-corp.example").json()["contact"]
    paths = ["/", "/interactions", f"/interactions/{eve_mail}", "/contacts", f"/contacts/{eve['id']}",
             f"/companies/{eve['company_id']}", "/companies", "/review", "/tasks", "/rules",
             "/interactions?q=%3Cscript%3E", "/contacts?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"]
    return {path: local.get(path).text for path in paths}


def test_mail_data_is_escaped_on_every_page(local):
    pages = pages_with_payloads(local)
    for path, page in pages.items():
        assert_inert(page)
        for payload in PAYLOADS:
            assert payload not in page, f"{path} shows {payload!r} unescaped"
    feed = pages["/interactions"]
    assert ("&lt;script&gt;window.pwned = &#34;subject&#34;&lt;/script&gt; Devis &lt;b&gt;urgent&lt;/b&gt; &amp; co"
            in feed)
    assert "&lt;img src=x onerror=" in feed  # the sender's display name, shown as text
    assert "&#34;&gt;&lt;svg onload=" in feed  # the attachment name
    assert "&lt;img src=x onerror=&#34;window.pwned=&#39;unknown&#39;&#34;&gt;Mallory" in pages["/review"]


def test_search_terms_are_escaped_when_echoed(local):
    page = local.get("/interactions", params={"q": '"><script>alert(1)</script>'}).text
    assert_inert(page)
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page


def test_security_headers_on_pages_api_static_and_errors(make_client):
    local, remote = make_client(), make_client(client=REMOTE_CLIENT)
    responses = [local.get("/"), local.get("/api/overview"), local.get("/static/app.css"), local.get("/nope"),
                 remote.get("/"), remote.get("/api/overview")]
    for response in responses:
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY and "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "style-src 'self'" in CONTENT_SECURITY_POLICY
    assert local.get("/").headers["cache-control"] == "no-store"


def test_no_external_resource_is_referenced(local):
    for page in pages_with_payloads(local).values():
        for tag, attrs in tags_of(page):
            for name in ("src", "href", "action"):
                value = attrs.get(name) or ""
                assert not value.startswith(("http:", "https:", "//")), f"<{tag} {name}={value}> leaves the page"


# ---------------------------------------------------------------------------------------------------- reading


def test_other_machines_get_401_without_the_token(make_client):
    remote = make_client(client=REMOTE_CLIENT)
    page = remote.get("/")
    assert page.status_code == 401
    assert "only served to this machine" in page.text and "<form" not in page.text  # no token: nothing to sign in
    api = remote.get("/api/overview")
    assert api.status_code == 401 and api.headers["www-authenticate"].startswith("Bearer")
    assert remote.get("/metrics").status_code == 401
    assert remote.get("/api/openapi.json").status_code == 401
    assert remote.get("/contacts/1").status_code == 401
    assert remote.get("/static/app.css").status_code == 200  # the sign-in page needs its stylesheet
    assert remote.get("/healthz").status_code == 200


@pytest.mark.parametrize("headers", [{"Host": "evil.example:8765"}, {"X-Forwarded-For": "203.0.113.9"},
                                     {"Forwarded": "for=203.0.113.9"}])
def test_loopback_requests_under_a_foreign_name_or_through_a_proxy_need_the_token(make_client, headers):
    local = make_client()
    assert local.get("/api/overview", headers=headers).status_code == 401


@pytest.mark.parametrize("client", [("::1", 4000), ("127.0.0.2", 4000)])
def test_every_loopback_address_is_local(make_client, client):
    assert make_client(client=client, host="localhost:8765").get("/api/overview").status_code == 200


def test_the_token_opens_reading_from_elsewhere(make_client):
    remote = make_client(token=TOKEN, client=REMOTE_CLIENT, host="crm.example.lan:8765")
    assert remote.get("/api/overview", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert remote.get("/api/overview", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert remote.get("/api/overview", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401


def test_the_login_form_sets_a_strict_httponly_cookie(make_client):
    remote = make_client(token=TOKEN, client=REMOTE_CLIENT, host="crm.example.lan:8765")
    form = remote.get("/login?next=/contacts")
    assert form.status_code == 200
    token = form_csrf(form.text)
    wrong = remote.post("/login", data={"token": "nope", "csrf": token, "next": "/contacts"})
    assert wrong.status_code == 401 and "wrong token" in wrong.text
    right = remote.post("/login", data={"token": TOKEN, "csrf": token, "next": "/contacts"})
    assert right.status_code == 303 and right.headers["location"] == "/contacts"
    cookie = right.headers["set-cookie"].lower()
    assert "crm_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert TOKEN not in right.headers["set-cookie"]  # the cookie holds a derived value, not the token
    assert remote.get("/contacts").status_code == 200
    logout = remote.post("/logout", data={"csrf": token})
    assert logout.status_code == 303
    assert remote.get("/contacts").status_code == 401


def test_login_without_a_configured_token_explains_itself(local):
    token = form_csrf(local.get("/tasks").text)
    assert "only" in local.get("/login").text
    assert local.post("/login", data={"token": "x", "csrf": token}).status_code == 404


# ---------------------------------------------------------------------------------------------------- changing


def task_status(service, task_id: int) -> str:
    return next(t["status"] for t in service.feature("rules").tasks() if t["id"] == task_id)


def test_a_change_without_csrf_token_is_refused(local, service):
    local.get("/")  # the browser has its CSRF cookie
    assert local.post("/api/tasks/1/done").status_code == 403
    assert local.post("/tasks/1/done", data={"next": "/tasks"}).status_code == 403
    assert local.post("/api/tasks/1/done", headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    assert task_status(service, 1) == "open"


def test_a_csrf_token_only_works_with_its_own_cookie(make_client, service):
    first, second = make_client(), make_client()
    stolen = csrf_of(first)
    csrf_of(second)  # the second browser has a cookie of its own
    assert second.post("/api/tasks/1/done", headers={"X-CSRF-Token": stolen}).status_code == 403
    fresh = make_client()  # no cookie at all
    assert fresh.post("/api/tasks/1/done", headers={"X-CSRF-Token": stolen}).status_code == 403
    assert task_status(service, 1) == "open"


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Referer": "http://evil.example/page"},
                                     {"Origin": "http://127.0.0.1:9999"}])
def test_a_cross_site_post_is_refused_even_with_a_valid_token(local, service, headers):
    token = csrf_of(local)
    answer = local.post("/api/tasks/1/done", headers={"X-CSRF-Token": token, **headers})
    assert answer.status_code == 403 and "cross-site" in answer.json()["detail"]
    assert task_status(service, 1) == "open"


def test_a_same_site_post_passes(local, service):
    token = csrf_of(local)
    answer = local.post("/api/tasks/1/done", headers={"X-CSRF-Token": token, "Origin": "http://127.0.0.1:8765"})
    assert answer.status_code == 200 and task_status(service, 1) == "done"


def test_changes_need_the_token_even_from_this_machine_when_one_is_configured(make_client, service):
    local = make_client(token=TOKEN)
    assert local.get("/api/overview").status_code == 200  # reading from this machine stays open
    token = csrf_of(local)
    assert local.post("/api/tasks/1/done", headers={"X-CSRF-Token": token}).status_code == 401
    answer = local.post("/api/tasks/1/done", headers={"X-CSRF-Token": token, "Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200


def test_the_token_alone_is_not_enough_to_change_anything(make_client, service):
    remote = make_client(token=TOKEN, client=REMOTE_CLIENT)
    answer = remote.post("/api/tasks/1/done", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 403
    assert task_status(service, 1) == "open"


def test_read_only_refuses_every_change_and_hides_the_buttons(make_client, service, world_db):
    before = hashlib.sha256(world_db.read_bytes()).hexdigest()
    viewer = make_client(read_only=True)
    page = viewer.get("/tasks").text
    assert 'class="done"' not in page and "read-only" in page
    token = csrf_of(viewer)
    for path in ("/api/tasks/1/done", "/tasks/1/done", "/api/review/unknown/ignore", "/review/merges/1/unmerge"):
        answer = viewer.post(path, headers={"X-CSRF-Token": token}, data={"csrf": token, "address": "a@b.fr"})
        assert answer.status_code == 403, path
    assert task_status(service, 1) == "open"
    assert viewer.get("/healthz").json()["read_only"] is True
    assert hashlib.sha256(world_db.read_bytes()).hexdigest() == before


def test_read_only_still_allows_signing_in(make_client):
    remote = make_client(token=TOKEN, read_only=True, client=REMOTE_CLIENT)
    token = form_csrf(remote.get("/login").text)
    assert remote.post("/login", data={"token": TOKEN, "csrf": token}).status_code == 303


def test_local_client_constant_is_loopback():
    from agent.web.security import is_loopback_ip

    assert is_loopback_ip(LOCAL_CLIENT[0]) and not is_loopback_ip(REMOTE_CLIENT[0])
    assert is_loopback_ip("::ffff:127.0.0.1") and not is_loopback_ip("testclient")
