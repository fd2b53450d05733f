"""The changes a person can make from the page (task done, review decisions), as HTML form posts that redirect
back and as JSON posts under /api that answer with the changed record.

Both call the same service method; the guard and the CSRF dependency have already run (see security.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from agent.web.pages import MAX_ID, RowId
from agent.web.rendering import local_path

router = APIRouter()

Kind = Literal["contact", "company"]
UnknownVerb = Literal["accept", "attach", "ignore", "blocklist"]
FormId = Annotated[int, Form(ge=1, le=MAX_ID)]
FormText = Annotated[str, Form(max_length=2048)]


class UnknownDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str = Field(min_length=3, max_length=320)
    name: str | None = Field(default=None, max_length=256)
    company_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class MergeDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind
    keep_id: int = Field(ge=1, le=MAX_ID)
    other_id: int = Field(ge=1, le=MAX_ID)


class NotDuplicateDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind
    a_id: int = Field(ge=1, le=MAX_ID)
    b_id: int = Field(ge=1, le=MAX_ID)


def _feature(request: Request, name: str):
    feature = request.app.state.service.feature(name)
    if feature is None:
        raise HTTPException(404, f"the {name} feature is not available in this build")
    return feature


def _back(request: Request, next_path: str) -> RedirectResponse:
    """Back to the page the form was on (303, so a reload does not post again)."""
    return RedirectResponse(local_path(next_path, default="/"), status_code=303)


# ---------------------------------------------------------------------------------------------------- tasks


@router.post("/api/tasks/{task_id}/done", tags=["api"], summary="Mark a task done")
def api_task_done(request: Request, task_id: RowId) -> dict[str, Any]:
    return _feature(request, "rules").task_done(task_id)


@router.post("/tasks/{task_id}/done", tags=["pages"], summary="Mark a task done (form)")
def task_done(request: Request, task_id: RowId, csrf: FormText = "", next: FormText = "/tasks") -> RedirectResponse:
    _feature(request, "rules").task_done(task_id)
    return _back(request, next)


# ---------------------------------------------------------------------------------------------------- review


def _unknown(review, verb: str, decision: UnknownDecision) -> Any:
    if verb == "accept":
        return review.accept_unknown(decision.address, name=decision.name or None, company_id=decision.company_id)
    if verb == "attach":
        if decision.company_id is None:
            raise HTTPException(422, "company_id: required to attach an address to a company")
        return review.attach_unknown(decision.address, decision.company_id)
    if verb == "ignore":
        return review.ignore_unknown(decision.address)
    return review.blocklist_unknown(decision.address)


@router.post("/api/review/unknown/{verb}", tags=["api"],
             summary="Decide about an unknown sender: accept as contact, attach to a company, ignore, blocklist")
def api_unknown(request: Request, verb: UnknownVerb, decision: UnknownDecision) -> Any:
    return _unknown(_feature(request, "review"), verb, decision)


@router.post("/review/unknown/{verb}", tags=["pages"], summary="Decide about an unknown sender (form)")
def unknown(request: Request, verb: UnknownVerb, address: Annotated[str, Form(min_length=3, max_length=320)],
            name: Annotated[str, Form(max_length=256)] = "", company_id: Annotated[str, Form(max_length=20)] = "",
            csrf: FormText = "", next: FormText = "/review") -> RedirectResponse:
    company = _form_id(company_id, "company_id")
    _unknown(_feature(request, "review"), verb, UnknownDecision(address=address, name=name or None, company_id=company))
    return _back(request, next)


@router.post("/api/review/duplicates/merge", tags=["api"], summary="Merge two duplicate records (undoable)")
def api_merge(request: Request, decision: MergeDecision) -> Any:
    return _merge(request, decision)


@router.post("/review/duplicates/merge", tags=["pages"], summary="Merge two duplicate records (form)")
def merge(request: Request, kind: Annotated[Kind, Form()], keep_id: FormId, other_id: FormId, csrf: FormText = "",
          next: FormText = "/review") -> RedirectResponse:
    _merge(request, MergeDecision(kind=kind, keep_id=keep_id, other_id=other_id))
    return _back(request, next)


def _merge(request: Request, decision: MergeDecision) -> Any:
    if decision.keep_id == decision.other_id:
        raise HTTPException(422, "keep_id and other_id must differ")
    return _feature(request, "review").merge(decision.kind, decision.keep_id, decision.other_id)


@router.post("/api/review/duplicates/not-duplicate", tags=["api"],
             summary="Remember that two records are different (never proposed again)")
def api_not_duplicate(request: Request, decision: NotDuplicateDecision) -> Any:
    return _not_duplicate(request, decision)


@router.post("/review/duplicates/not-duplicate", tags=["pages"], summary="Not duplicates (form)")
def not_duplicate(request: Request, kind: Annotated[Kind, Form()], a_id: FormId, b_id: FormId, csrf: FormText = "",
                  next: FormText = "/review") -> RedirectResponse:
    _not_duplicate(request, NotDuplicateDecision(kind=kind, a_id=a_id, b_id=b_id))
    return _back(request, next)


def _not_duplicate(request: Request, decision: NotDuplicateDecision) -> Any:
    if decision.a_id == decision.b_id:
        raise HTTPException(422, "a_id and b_id must differ")
    return _feature(request, "review").not_duplicate(decision.kind, decision.a_id, decision.b_id)


@router.post("/api/review/duplicates/scan", tags=["api"],
             summary="Look for duplicate contacts and companies now (auto-merges above the merge threshold)")
def api_scan(request: Request) -> Any:
    return _feature(request, "review").find_duplicates()


@router.post("/review/duplicates/scan", tags=["pages"], summary="Look for duplicates now (form)")
def scan(request: Request, csrf: FormText = "", next: FormText = "/review") -> RedirectResponse:
    _feature(request, "review").find_duplicates()
    return _back(request, next)


@router.post("/api/review/merges/{merge_id}/unmerge", tags=["api"], summary="Undo a merge exactly")
def api_unmerge(request: Request, merge_id: RowId) -> Any:
    return _feature(request, "review").unmerge(merge_id)


@router.post("/review/merges/{merge_id}/unmerge", tags=["pages"], summary="Undo a merge (form)")
def unmerge(request: Request, merge_id: RowId, csrf: FormText = "", next: FormText = "/review") -> RedirectResponse:
    _feature(request, "review").unmerge(merge_id)
    return _back(request, next)


def _form_id(value: str, name: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise HTTPException(422, f"{name}: {value!r} is not a record id")
    return int(value)

