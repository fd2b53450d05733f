"""The pages people read, each registered twice: as HTML at its path and as the same dict as JSON under /api.

Query values come from plain HTML forms, which send empty fields as "": every optional filter therefore takes a
string and treats "" as absent, instead of answering a person's empty date box with a validation error.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse

from agent.errors import UserError
from agent.web import content
from agent.web.rendering import render

router = APIRouter()

MAX_ID = 2**63 - 1  # the largest id a database row can have; bigger numbers are 404, not an overflow
Text = Annotated[str | None, Query(max_length=200)]
DateText = Annotated[str | None, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$", description="YYYY-MM-DD")]
Limit = Annotated[int, Query(ge=1, le=1000)]
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
Ref = Annotated[str, Path(min_length=1, max_length=320, description="an id, an email address, a domain or a name")]
_DIGITS = re.compile(r"^[0-9]+$")


def service_of(request: Request):
    return request.app.state.service


def blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def parse_day(value: str | None, name: str) -> date | None:
    value = blank(value)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None


def checked_ref(ref: str) -> str:
    """A reference the views can look up: digits that cannot be a row id (too big, non-ASCII) are simply absent."""
    ref = ref.strip()
    if not ref:
        raise HTTPException(404, "nothing to look up")
    if ref.isdigit() and (not _DIGITS.match(ref) or int(ref) > MAX_ID):
        raise HTTPException(404, f"no record with id {ref}")
    return ref


@contextmanager
def lookup() -> Iterator[None]:
    """A reference or filter that names nothing is a 404 (the views say so with a UserError)."""
    try:
        yield
    except UserError as exc:
        raise HTTPException(404, exc.message) from None


def twin(path: str, template: str, title: str | Callable[[dict], str], summary: str) -> Callable:
    """Serve ``fn``'s dict as the page ``path`` (HTML) and as ``/api<path>`` (JSON): one reader, two renderings."""
    api_path = "/api/overview" if path == "/" else f"/api{path}"

    def register(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        @functools.wraps(fn)
        def html_page(**kwargs: Any) -> HTMLResponse:
            data = fn(**kwargs)
            return render(kwargs["request"], template, data, title=title(data) if callable(title) else title)

        @functools.wraps(fn)
        def json_twin(**kwargs: Any) -> dict[str, Any]:
            return fn(**kwargs)

        router.add_api_route(path, html_page, methods=["GET"], response_class=HTMLResponse, tags=["pages"],
                             summary=f"{summary} (HTML)", name=f"{fn.__name__}_page")
        router.add_api_route(api_path, json_twin, methods=["GET"], tags=["api"], summary=summary, name=fn.__name__)
        return fn

    return register


@twin("/", "overview.html", "Overview", "Accounts, targets, open tasks, pending relances, review counts, activity")
def overview(request: Request) -> dict[str, Any]:
    return content.overview(service_of(request))


@twin("/interactions", "interactions.html", "Interactions", "Interactions feed with search and filters")
def interactions(request: Request, q: Text = None,
                 kind: Annotated[str | None, Query(pattern=r"^(email|meeting)?$")] = None,
                 contact: Text = None, company: Text = None, since: DateText = None, until: DateText = None,
                 limit: Limit = 100) -> dict[str, Any]:
    filters = {"q": blank(q), "kind": blank(kind), "contact": blank(contact), "company": blank(company),
               "since": blank(since), "until": blank(until), "limit": limit}
    with lookup():
        rows = service_of(request).interactions(
            contact=filters["contact"], company=filters["company"], since=parse_day(since, "since"),
            until=parse_day(until, "until"), search=filters["q"], kind=filters["kind"], limit=limit)
    return {"filters": filters, "items": rows}


@twin("/interactions/{interaction_id}", "interaction.html", lambda d: d["interaction"]["subject"] or "Interaction",
      "One interaction: participants and why each is linked, where it was seen, what rules did")
def interaction(request: Request, interaction_id: RowId) -> dict[str, Any]:
    answer = service_of(request).explain(str(interaction_id))
    if answer.get("found") != "interaction":
        raise HTTPException(404, f"no interaction with id {interaction_id}")
    return answer


@twin("/contacts", "contacts.html", "Contacts", "Contacts with search")
def contacts(request: Request, q: Text = None, limit: Limit = 200) -> dict[str, Any]:
    return {"filters": {"q": blank(q), "limit": limit},
            "items": service_of(request).contacts(search=blank(q), limit=limit)}


@twin("/contacts/{ref:path}", "contact.html",
      lambda d: (d["contact"] or {}).get("name") or d.get("address") or "Contact",
      "A contact (by id or address) and its timeline of emails and meetings")
def contact(request: Request, ref: Ref, limit: Limit = 200) -> dict[str, Any]:
    with lookup():
        return service_of(request).contact(checked_ref(ref), limit=limit)


@twin("/companies", "companies.html", "Companies", "Companies with search")
def companies(request: Request, q: Text = None, limit: Limit = 200) -> dict[str, Any]:
    review = service_of(request).feature("review")  # companies are the matching feature's records
    if review is None:
        return {"available": False, "filters": {"q": blank(q), "limit": limit}, "items": []}
    return {"available": True, "filters": {"q": blank(q), "limit": limit},
            "items": review.companies(search=blank(q), limit=limit)}


@twin("/companies/{ref:path}", "company.html", lambda d: d["company"]["name"] or "Company",
      "A company (by id, domain or name), its contacts, the records merged into it and its timeline")
def company(request: Request, ref: Ref) -> dict[str, Any]:
    review = service_of(request).feature("review")
    if review is None:
        raise HTTPException(404, "company pages are not available in this build")
    with lookup():
        return review.company(checked_ref(ref))


@twin("/tasks", "tasks.html", "Tasks", "Tasks created by rules (open first)")
def tasks(request: Request, show: Annotated[str, Query(pattern=r"^(open|all)$")] = "all",
          limit: Limit = 500) -> dict[str, Any]:
    panel = content.tasks_panel(service_of(request), open_only=show == "open", limit=limit)
    return {"show": show, **panel}


@twin("/review", "review.html", "Review", "Review queues: unknown senders, duplicate contacts and companies, merges")
def review(request: Request, q: Text = None, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    return {"filters": {"q": blank(q), "limit": limit},
            **content.review_page(service_of(request), search=blank(q), limit=limit)}


@twin("/rules", "rules.html", "Rules", "Rules with their timers and last firings, and the rule log")
def rules(request: Request) -> dict[str, Any]:
    return content.rules_page(service_of(request))
