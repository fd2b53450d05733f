"""HTML rendering: the Jinja2 environment (autoescape always on), its filters, and the response helpers.

Everything a mail carries (subjects, names, addresses, attachment names) reaches templates as plain strings and
is escaped by Jinja2; no template marks mail data ``|safe``.
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader

from agent.web.chart import activity_chart
from agent.web.content import ago, short_time

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")

NAV = (("/", "Overview"), ("/interactions", "Interactions"), ("/contacts", "Contacts"), ("/companies", "Companies"),
       ("/tasks", "Tasks"), ("/review", "Review"), ("/rules", "Rules"))


def make_environment(zone: tzinfo | None = None) -> Environment:
    """The templates' environment; ``when`` shows times in ``zone`` (the agent's), whatever zone the data used."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = lambda iso: short_time(iso, zone)
    env.filters["day"] = lambda iso: (iso or "")[:10]
    env.filters["ago"] = ago
    env.filters["q"] = lambda value: quote(str(value), safe="")  # one path segment or query value
    env.filters["person"] = person
    env.globals["nav"] = NAV
    env.globals["activity_chart"] = activity_chart
    return env


def person(entry: dict[str, Any] | None) -> str:
    """'Name <address>' or the address alone."""
    if not entry:
        return ""
    name, address = entry.get("name") or "", entry.get("address") or ""
    return f"{name} <{address}>" if name and address else name or address


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path in ("/healthz", "/metrics")


def render(request: Request, template: str, data: dict[str, Any], *, status: int = 200,
           title: str = "") -> HTMLResponse:
    app = request.app
    context = {
        "data": data, "title": title, "path": request.url.path, "api_path": api_twin(request),
        "csrf_token": getattr(request.state, "csrf_token", ""), "read_only": app.state.guard.read_only,
        "token_configured": app.state.guard.token is not None,
        "signed_in": getattr(request.state, "signed_in", False),
        "generated_at": _now_text(app.state.service),
    }
    html = app.state.templates.get_template(template).render(context)
    return HTMLResponse(html, status_code=status)


def api_twin(request: Request) -> str:
    """The /api address of the page being shown, with the same query (kept percent-encoded)."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("latin-1").split("?", 1)[0]
    if path.startswith("/api/") or path.startswith(("/login", "/logout")):
        return "/api/overview"
    twin = "/api/overview" if path == "/" else f"/api{path}"
    query = request.scope.get("query_string", b"").decode("latin-1")
    return local_path(f"{twin}?{query}" if query else twin, default="/api/overview")


def _now_text(service) -> str:
    return service.clock.now().astimezone(service.zone).strftime("%Y-%m-%d %H:%M:%S")


def error_response(request: Request, status: int, message: str, headers: dict[str, str] | None = None):
    """The same refusal or error as JSON for /api and machines, or as a page for people."""
    if wants_json(request):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    template = "login.html" if status == 401 else "error.html"
    return _with_headers(render(request, template, {"status": status, "message": message, "next": _next_of(request)},
                                status=status, title="Sign in" if status == 401 else f"Error {status}"), headers)


def _with_headers(response, headers: dict[str, str] | None):
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _next_of(request: Request) -> str:
    return local_path(request.url.path + (f"?{request.url.query}" if request.url.query else ""))


def local_path(value: str | None, default: str = "/") -> str:
    """``value`` when it is a path on this site; ``default`` for anything that could lead elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or "\n" in value \
            or "\r" in value:
        return default
    return value
