"""Routes around the pages: sign-in and sign-out, the CSRF token for scripts, /healthz and /metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse

from agent.web.metrics import CONTENT_TYPE, render_metrics
from agent.web.rendering import local_path, render
from agent.web.security import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, Guard

router = APIRouter()


def _guard(request: Request) -> Guard:
    return request.app.state.guard


@router.get("/healthz", tags=["system"], summary="Liveness: the page process answers")
def healthz(request: Request) -> dict[str, Any]:
    return {"status": "ok", "read_only": _guard(request).read_only}


@router.get("/metrics", tags=["system"], response_class=PlainTextResponse,
            summary="Sync and rule state in the Prometheus text format")
def metrics(request: Request) -> PlainTextResponse:
    service = request.app.state.service
    text = render_metrics(service.status(), service.activity(days=1)["work"])
    return PlainTextResponse(text, media_type=CONTENT_TYPE)


@router.get("/api/csrf", tags=["system"], summary="The CSRF token to send as X-CSRF-Token with the crm_csrf cookie")
def csrf(request: Request) -> dict[str, str]:
    return {"csrf_token": request.state.csrf_token, "header": CSRF_HEADER, "cookie": CSRF_COOKIE,
            "form_field": CSRF_FIELD}


@router.get("/login", tags=["system"], response_class=HTMLResponse, summary="The sign-in form")
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", {"status": 200, "message": "", "next": local_path(next)}, title="Sign in")


@router.post("/login", tags=["system"], response_class=HTMLResponse, summary="Sign in with the token (sets a cookie)")
def login(request: Request, token: Annotated[str, Form(max_length=4096)],
          csrf: Annotated[str, Form(max_length=128)] = "", next: Annotated[str, Form(max_length=2048)] = "/"):
    guard = _guard(request)
    if guard.token is None:
        raise HTTPException(404, "no token is configured: the page is open to this machine only")
    if not guard.token_matches(token):
        return render(request, "login.html", {"status": 401, "message": "wrong token", "next": local_path(next)},
                      status=401, title="Sign in")
    response = RedirectResponse(local_path(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, guard.session_value, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return response


@router.post("/logout", tags=["system"], summary="Sign out (clears the cookie)")
def logout(request: Request, csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
