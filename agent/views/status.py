"""The status view: accounts and targets with their sync state, lag and last error, plus store totals."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.store.models import Account, Interaction, PendingRef, SkippedItem, SyncTarget
from agent.store.models_crm import Company, Contact


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def status_view(session: Session, settings, now: datetime) -> dict:
    """Everything `crm-agent status` prints; ``healthy`` is False when an account failed or lags too much."""
    configured = {a.name: a for a in settings.accounts}
    # .all(), not .tuples(): SQLAlchemy 2.1 deprecates tuples() and an ORM session's result no longer supports it
    pending = dict(session.execute(select(PendingRef.target_id, func.count()).group_by(PendingRef.target_id)).all())
    accounts = []
    problems: list[str] = []
    warnings: list[str] = []
    tokens = _token_states(settings, now)
    lag_limit: timedelta = settings.sync.lag_warning
    rows = {a.name: a for a in session.scalars(select(Account))}
    for name in list(configured) + [n for n in rows if n not in configured]:
        account = rows.get(name)
        cfg = configured.get(name)
        entry = {
            "name": name,
            "kind": cfg.kind if cfg else (account.kind if account else "?"),
            "configured": cfg is not None,
            "enabled": bool(cfg and cfg.enabled),
            "error": (account.details or {}).get("last_error", "") if account else "",
            "details": {k: v for k, v in (account.details or {}).items() if k != "last_error"} if account else {},
            "targets": [],
        }
        if account is None and cfg is not None:
            entry["error"] = entry["error"] or "never synced"
        targets = session.scalars(select(SyncTarget).where(SyncTarget.account_id == account.id).order_by(SyncTarget.id)) if account else []
        for t in targets:
            lag = (now - t.last_success_at).total_seconds() if t.last_success_at else None
            entry["targets"].append({
                "id": t.id, "name": t.name, "display": t.display or t.name, "kind": t.kind, "role": t.role,
                "status": t.status, "stage": t.stage, "last_success": _iso(t.last_success_at),
                "last_attempt": _iso(t.last_attempt_at), "next_attempt": _iso(t.next_attempt_at),
                "lag_seconds": lag, "items_synced": t.items_synced, "items_skipped": t.items_skipped,
                "known_items": t.known_items, "pending": pending.get(t.id, 0), "failures": t.failures,
                "error": t.last_error, "error_kind": t.error_kind,
            })
            if cfg is not None and cfg.enabled:
                if t.status in ("FAILED", "FAILED_AUTH"):
                    problems.append(f"{name}/{t.display or t.name}: {t.status}: {t.last_error}")
                elif lag is not None and lag > lag_limit.total_seconds():
                    problems.append(f"{name}/{t.display or t.name}: last success {int(lag // 60)} min ago")
        if cfg is not None and cfg.enabled and entry["error"] and not entry["targets"]:
            problems.append(f"{name}: {entry['error']}")
        token = tokens.get(name)
        if token is not None:
            entry["token"] = token  # OAuth2 sign-in: expiry, days left, and the fix when it needs one
            if cfg is not None and cfg.enabled and token["state"] in ("missing", "revoked", "expired"):
                problems.append(f"{name}: {token['warning']} — {token['fix']}")
            elif cfg is not None and cfg.enabled and token["state"] == "expiring":
                warnings.append(f"{name}: {token['warning']} — {token['fix']}")
        accounts.append(entry)
    totals = {
        "interactions": session.scalar(select(func.count()).select_from(Interaction)) or 0,
        "emails": session.scalar(select(func.count()).select_from(Interaction).where(Interaction.kind == "email")) or 0,
        "meetings": session.scalar(select(func.count()).select_from(Interaction).where(Interaction.kind == "meeting")) or 0,
        "contacts": session.scalar(select(func.count()).select_from(Contact).where(Contact.merged_into_id.is_(None))) or 0,
        "companies": session.scalar(select(func.count()).select_from(Company).where(Company.merged_into_id.is_(None))) or 0,
        "skipped": session.scalar(select(func.count()).select_from(SkippedItem)) or 0,
        "pending": sum(pending.values()),
    }
    return {"generated_at": now.isoformat(), "healthy": not problems, "problems": problems, "warnings": warnings,
            "accounts": accounts, "totals": totals}


def _token_states(settings, now: datetime) -> dict[str, dict]:
    """Token state per OAuth2 account (read from the token files' plain part: no key, no network)."""
    from agent.auth.store import TokenStore
    from agent.errors import UserError

    try:
        return {entry["account"]: entry for entry in TokenStore(settings.accounts).status(now)}
    except UserError:  # a broken oauth2 table: `config check` and the sync name it; status shows the rest
        return {}
