"""What each page shows, as JSON-ready dicts built only from AgentService: the HTML page and its /api twin
render the very same dict, so whatever a person sees, a script can read.

Feature panels (rules, review) come from optional sub-services: a missing one shows as "not available", and a
failing one is logged and shown as unavailable rather than taking the whole page down.
"""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo
from typing import Any

log = logging.getLogger(__name__)

PANEL_LIMIT = 20  # rows of tasks and relances on the overview; the full lists have their own pages
CHART_DAYS = 60


def ago(seconds: float | None) -> str:
    """'never', '42 s ago', '5 min ago', '3 h ago', '2 d ago'."""
    if seconds is None:
        return "never"
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def plain_error(target: dict[str, Any]) -> str:
    """The target's last error said for a person: what happened and what happens next."""
    kind, message, status = target.get("error_kind") or "", target.get("error") or "", target.get("status")
    if status == "FAILED_AUTH" or kind == "auth":
        return ("The server refused the login. Fix the password or token in the configuration (or sign in again); "
                "the agent will not retry until the configuration changes.")
    if kind == "empty":
        return ("The server suddenly listed no items for a folder that held many. Nothing was deleted; check the "
                "mailbox. The agent tries again later.")
    if kind == "temporary":
        when = target.get("next_attempt")
        return ("Could not reach the server or it was busy; the agent tries again"
                + (f" at {short_time(when)}." if when else " later."))
    if message.startswith("full resync"):
        return "The server reset its change tracking, so everything is being listed again (without duplicates)."
    if message == "never synced":
        return "Not synced yet: the agent has not run for this account."
    return message


def short_time(iso: str | None, zone: tzinfo | None = None) -> str:
    """'2026-10-05 11:00' from an ISO time, in ``zone`` when given and the time carries its offset."""
    if not iso:
        return ""
    try:
        when = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    if zone is not None and when.tzinfo is not None:
        when = when.astimezone(zone)
    return when.strftime("%Y-%m-%d %H:%M")


def _panel(name: str, read):
    """Run a feature panel's reader; an exception becomes an 'unavailable' panel and a log line."""
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 - one broken panel must not hide the sync status
        log.exception("status page: the %s panel failed", name)
        return {"available": False, "error": f"{type(exc).__name__}: {exc}"}


# ---------------------------------------------------------------------------------------------------- overview


def overview(service) -> dict[str, Any]:
    status = service.status()
    for account in status["accounts"]:
        account["error_text"] = plain_error({"error": account["error"]}) if account["error"] else ""
        for target in account["targets"]:
            target["lag_text"] = ago(target["lag_seconds"])
            target["error_text"] = plain_error(target)
    activity = service.activity(days=CHART_DAYS)
    tasks = tasks_panel(service, open_only=True, limit=PANEL_LIMIT)
    if tasks.get("available"):
        tasks["open"] = activity["work"]["tasks_open"]  # exact, while the panel lists only the first rows
    return {"status": status, "tasks": tasks,
            "relances": relances_panel(service, limit=PANEL_LIMIT), "review": review_counts(service),
            "activity": activity}


def tasks_panel(service, *, open_only: bool, limit: int = 500) -> dict[str, Any]:
    rules = service.feature("rules")
    if rules is None:
        return {"available": False}

    return _panel("tasks", lambda: {"available": True, "items": rules.tasks(open_only=open_only, limit=limit)})


def relances_panel(service, *, limit: int) -> dict[str, Any]:
    """Pending timers: relances and other rule actions waiting for their due time."""
    rules = service.feature("rules")
    if rules is None:
        return {"available": False}
    return _panel("relances", lambda: {"available": True, "items": rules.timers(status="pending", limit=limit)})


def review_counts(service) -> dict[str, Any]:
    review = service.feature("review")
    if review is None:
        return {"available": False}

    return _panel("review", lambda: {"available": True, **service.review_counts()})


# ---------------------------------------------------------------------------------------------------- other pages


def rules_page(service) -> dict[str, Any]:
    rules = service.feature("rules")
    if rules is None:
        return {"available": False, "rules": [], "firings": []}

    def read() -> dict[str, Any]:
        activity = service.activity(days=1)
        last = activity["last_firings"]
        listed = [{**rule, **last.get(rule["name"], {"last_fired": None, "last_event": None, "last_decision": None})}
                  for rule in rules.list_rules()]
        return {"available": True, "rules": listed, "firings": activity["firings"]}

    return _panel("rules", read)


def review_page(service, *, search: str | None, limit: int) -> dict[str, Any]:
    review = service.feature("review")
    if review is None:
        return {"available": False}

    def read() -> dict[str, Any]:
        return {"available": True,
                "unknown": review.unknown(limit=limit, search=search),
                "duplicate_contacts": review.duplicates("contact", limit=limit),
                "duplicate_companies": review.duplicates("company", limit=limit),
                "merges": review.merges(limit=limit)}

    return _panel("review", read)
