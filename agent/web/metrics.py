"""/metrics: the sync and rule state in the Prometheus text exposition format (version 0.0.4).

Written by hand rather than with prometheus_client: every value is read from the store at scrape time (several
agent processes may share it), so there is no in-process registry to keep, and no new dependency.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TARGET_STATUSES = ("NOT_SYNCED", "ONGOING", "ACTIVE", "FAILED_AUTH", "FAILED")


def escape_label(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, Any]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{escape_label(value)}"' for key, value in labels.items()) + "}"


def _number(value: float | int | bool) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


class Exposition:
    """Collects metric families; each is written once with its HELP and TYPE lines, then its samples."""

    def __init__(self) -> None:
        self._families: dict[str, tuple[str, str, list[str]]] = {}

    def add(self, name: str, metric_type: str, help_text: str, value: float | int | bool, /, **labels: Any) -> None:
        family = self._families.setdefault(name, (metric_type, help_text, []))
        family[2].append(f"{name}{_labels(labels)} {_number(value)}")

    def text(self) -> str:
        lines = []
        for name, (metric_type, help_text, samples) in self._families.items():
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {metric_type}")
            lines.extend(samples)
        return "\n".join(lines) + "\n"


def render_metrics(status: dict[str, Any], work: dict[str, Any]) -> str:
    """From ``service.status()`` and ``service.activity()["work"]``."""
    out = Exposition()
    out.add("crm_agent_healthy", "gauge", "1 when no enabled account failed or lags beyond sync.lag_warning.",
            status["healthy"])
    out.add("crm_agent_problems", "gauge", "Problems status reports (failed or lagging targets, expired sign-ins).",
            len(status["problems"]))
    for kind in ("emails", "meetings"):
        out.add("crm_agent_interactions", "gauge", "Interactions in the store.", status["totals"][kind],
                kind=kind.rstrip("s"))
    for key, name, help_text in (("contacts", "crm_agent_contacts", "Contacts (not merged away)."),
                                 ("companies", "crm_agent_companies", "Companies (not merged away)."),
                                 ("skipped", "crm_agent_skipped_items", "Items the pipeline chose not to log."),
                                 ("pending", "crm_agent_pending_items", "Items listed and waiting for import.")):
        out.add(name, "gauge", help_text, status["totals"][key])
    now = datetime.fromisoformat(status["generated_at"])
    for account in status["accounts"]:
        token = account.get("token")
        if token is not None and token.get("days_left") is not None:
            out.add("crm_agent_oauth_days_left", "gauge", "Days until the account's sign-in expires.",
                    token["days_left"], account=account["name"])
        for t in account["targets"]:
            labels = {"account": account["name"], "target": t["display"]}
            out.add("crm_agent_items_synced_total", "counter", "Items imported per target.", t["items_synced"],
                    **labels)
            out.add("crm_agent_items_skipped_total", "counter", "Items skipped per target.", t["items_skipped"],
                    **labels)
            out.add("crm_agent_target_pending_items", "gauge", "Items waiting for import per target.", t["pending"],
                    **labels)
            out.add("crm_agent_target_consecutive_failures", "gauge", "Failed attempts since the last success.",
                    t["failures"], **labels)
            out.add("crm_agent_target_error", "gauge", "1 when the target's last attempt failed.",
                    t["status"] in ("FAILED", "FAILED_AUTH"), **labels, kind=t["error_kind"] or "none")
            for state in TARGET_STATUSES:
                out.add("crm_agent_target_status", "gauge", "The target's status (one series per status, 1 = current).",
                        t["status"] == state, **labels, status=state)
            if t["lag_seconds"] is not None:
                out.add("crm_agent_target_lag_seconds", "gauge", "Seconds since the target's last successful sync.",
                        round(t["lag_seconds"], 3), **labels)
                last = now.timestamp() - t["lag_seconds"]
                out.add("crm_agent_target_last_success_timestamp_seconds", "gauge",
                        "Unix time of the target's last successful sync.", round(last, 3), **labels)
    for state in ("pending", "fired", "cancelled", "missed", "failed"):
        out.add("crm_agent_timers", "gauge", "Rule timers by status.", work["timers"].get(state, 0), status=state)
    out.add("crm_agent_tasks_open", "gauge", "Open tasks created by rules.", work["tasks_open"])
    for state, count in sorted(work["outbox"].items()):
        out.add("crm_agent_outbox_messages", "gauge", "Outbox rows (rule emails, webhooks) by status.", count,
                status=state)
    return out.text()
