"""The status page's FastAPI app: ``create_app(service)`` wires the pages, their /api twins, the access guard
and the security headers around one AgentService.

No route talks to the store: pages read through AgentService and its feature services only.
"""

from __future__ import annotations

import logging

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from agent.errors import AgentError, UserError
from agent.web.rendering import STATIC, error_response, make_environment, wants_json
from agent.web.security import CSRF_COOKIE, SECURITY_HEADERS, Guard, require_csrf

log = logging.getLogger(__name__)


def create_app(service, *, read_only: bool = False, token: str | None = None) -> FastAPI:
    """The page over ``service``; ``token`` (revealed) opens it beyond this machine, ``read_only`` refuses changes."""
    from agent import __version__
    from agent.web import actions, pages, system

    app = FastAPI(title="crm-agent status page", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json", dependencies=[Depends(require_csrf)],
                  description="Every page of the status page has a JSON twin under /api. Reading from this "
                              "machine needs nothing; from elsewhere, `Authorization: Bearer <token>`. Changes "
                              "also need the X-CSRF-Token header with the crm_csrf cookie (GET /api/csrf).")
    app.state.service = service
    app.state.guard = Guard(token, read_only)
    app.state.templates = make_environment(service.zone)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(system.router)
    app.include_router(pages.router)
    app.include_router(actions.router)
    _install_guard(app)
    _install_error_handlers(app)
    return app


def _install_guard(app: FastAPI) -> None:
    guard: Guard = app.state.guard

    @app.middleware("http")
    async def guard_and_headers(request: Request, call_next):
        nonce, new_nonce = guard.nonce_from(request)
        request.state.csrf_token = guard.csrf_token(nonce)
        request.state.signed_in = guard.signed_in(request)
        refusal = guard.refusal(request)
        if refusal is not None:
            status, message = refusal
            headers = {"WWW-Authenticate": 'Bearer realm="crm-agent"'} if status == 401 else None
            response = error_response(request, status, message, headers)
        else:
            response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")  # pages hold customer data
        if new_nonce:
            response.set_cookie(CSRF_COOKIE, nonce, httponly=True, samesite="strict", path="/",
                                secure=request.url.scheme == "https")
        return response


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return error_response(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_input(request: Request, exc: RequestValidationError):
        if wants_json(request):
            return JSONResponse({"detail": _plain_errors(exc)}, status_code=422)
        return error_response(request, 422, "; ".join(e["message"] for e in _plain_errors(exc)))

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError):
        # Lookups turn their own UserErrors into 404 (pages.lookup); what is left on a read is the configuration
        # or the store (e.g. a schema to upgrade): 503. A change the current state does not allow is 409.
        return error_response(request, 503 if request.method in ("GET", "HEAD") else 409, exc.message)

    @app.exception_handler(AgentError)
    async def agent_error(request: Request, exc: AgentError):
        log.warning("status page: %s %s: %s", request.method, request.url.path, exc.message)
        return error_response(request, 503, exc.message)


def _plain_errors(exc: RequestValidationError) -> list[dict]:
    out = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body"))
        out.append({"field": where, "message": f"{where}: {error.get('msg', 'invalid')}" if where else
                    str(error.get("msg", "invalid"))})
    return out
