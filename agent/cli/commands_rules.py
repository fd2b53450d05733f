"""Rules and what they do: `rules list|check|simulate|run`, `timers list|cancel`, `tasks list|done`, `deals list`,
`outbox list|retry`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from agent.cli.commands_sync import parse_day
from agent.cli.render import console, emit, short_date, table

TIMER_STATES = ("pending", "fired", "cancelled", "missed", "failed")
OUTBOX_STATES = ("pending", "sending", "delivered", "dry_run", "ambiguous", "failed")


def _rules(ctx: typer.Context):
    from agent.cli.main import state

    return state(ctx).service.feature("rules")


def _choice(value: str | None, choices: tuple[str, ...], option: str) -> str | None:
    from agent.errors import UserError

    if value is not None and value not in choices:
        raise UserError(f"{option}: {value!r} is not one of {', '.join(choices)}")
    return value


def register(app: typer.Typer) -> None:
    rules_app = typer.Typer(help="Rules from the config: list, check, simulate against history.", no_args_is_help=True)
    timers_app = typer.Typer(help="Timers: rules waiting for their due time.", no_args_is_help=True)
    tasks_app = typer.Typer(help="Tasks created by rules (relances...).", no_args_is_help=True)
    deals_app = typer.Typer(help="Deals created and updated by rules.", no_args_is_help=True)
    outbox_app = typer.Typer(help="Rule mails and webhooks waiting for delivery, delivered, or to review.",
                             no_args_is_help=True)
    for name, sub in (("rules", rules_app), ("timers", timers_app), ("tasks", tasks_app), ("deals", deals_app),
                      ("outbox", outbox_app)):
        app.add_typer(sub, name=name)

    @rules_app.command("list")
    def rules_list(ctx: typer.Context, json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Each rule: trigger, delay, cancel conditions, actions, and how many timers it has by state."""
        emit(_rules(ctx).list_rules(), json, lambda rows: console.print(table(None, [
            "rule", "on", "after", "unless", "do", "enabled", "timers"], [
            (r["name"], r["cron"] and f"schedule {r['cron']}" or r["on"], r["after"] or "-",
             ", ".join(r["unless"]) or "-",
             ", ".join(r["do"]), r["enabled"], ", ".join(f"{k} {v}" for k, v in r["timers"].items()) or "-")
            for r in rows])))

    @rules_app.command("check")
    def rules_check(ctx: typer.Context, json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Validate the rules and what firing them needs (SMTP, manager, webhook secrets); exit 1 on a problem."""
        result = _rules(ctx).check()

        def show(r: dict) -> None:
            console.print(f"{r['rules']} rule(s), {r['enabled']} enabled: "
                          f"{'ok' if r['ok'] else 'problems found'}", markup=False)
            for line in r["problems"]:
                console.print(f"problem: {line}", markup=False)
            for line in r["warnings"]:
                console.print(f"note: {line}", markup=False)

        emit(result, json, show)
        if not result["ok"]:
            raise typer.Exit(1)

    @rules_app.command("simulate")
    def rules_simulate(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="The rule's name.")],
        since: Annotated[str | None, typer.Option(help="Replay history from this date (YYYY-MM-DD).")] = None,
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Replay stored history against a rule: what would have fired, what was cancelled and why. Writes nothing."""
        emit(_rules(ctx).simulate(name, parse_day(since, "--since")), json, _show_simulation)

    @rules_app.command("run")
    def rules_run(ctx: typer.Context, json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Fire what is due now and deliver the outbox once (the daemon does this every minute)."""
        emit(_rules(ctx).run_due(), json, lambda r: console.print(
            f"timers: {r['timers']}; outbox: {r['outbox']}", markup=False))

    @timers_app.command("list")
    def timers_list(
        ctx: typer.Context,
        status: Annotated[str | None, typer.Option(help="pending, fired, cancelled, missed or failed.")] = None,
        limit: Annotated[int, typer.Option(min=1)] = 200,
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Timers by due date, with why each was cancelled, missed or failed."""
        rows = _rules(ctx).timers(_choice(status, TIMER_STATES, "--status"), limit)
        columns = ["id", "rule", "status", "due", "contact", "subject", "outcome"]
        emit(rows, json, lambda data: console.print(table(None, columns, [
            (t["id"], t["rule"], t["status"], short_date(t["due_at"]), t["contact"], t["subject"], t["outcome"])
            for t in data])))

    @timers_app.command("cancel")
    def timers_cancel(ctx: typer.Context, timer_id: Annotated[int, typer.Argument(help="The timer's id.")],
                      json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Cancel a pending timer (it will never fire)."""
        emit(_rules(ctx).cancel_timer(timer_id), json,
             lambda t: console.print(f"timer {t['id']} ({t['rule']}) cancelled", markup=False))

    @tasks_app.command("list")
    def tasks_list(
        ctx: typer.Context,
        open_only: Annotated[bool, typer.Option("--open", help="Open tasks only.")] = False,
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Tasks, open ones first, by due date."""
        emit(_rules(ctx).tasks(open_only), json, lambda data: console.print(table(None, [
            "id", "status", "due", "assignee", "title", "rule"], [
            (t["id"], t["status"], short_date(t["due_at"]), t["assignee"], t["title"], t["rule"]) for t in data])))

    @tasks_app.command("done")
    def tasks_done(ctx: typer.Context, task_id: Annotated[int, typer.Argument(help="The task's id.")],
                   json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Mark a task done."""
        emit(_rules(ctx).task_done(task_id), json,
             lambda t: console.print(f"task {t['id']} done: {t['title']}", markup=False))

    @deals_app.command("list")
    def deals_list(ctx: typer.Context, json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Deals, most recently changed first."""
        emit(_rules(ctx).deals(), json, lambda data: console.print(table(None, [
            "id", "name", "stage", "amount", "owner", "updated", "source"], [
            (d["id"], d["name"], d["stage"], d["amount"] and f"{d['amount']} {d['currency']}", d["owner"],
             short_date(d["updated_at"]), d["source"]) for d in data])))

    @outbox_app.command("list")
    def outbox_list(
        ctx: typer.Context,
        status: Annotated[str | None, typer.Option(
            help="pending, sending, delivered, dry_run, ambiguous or failed.")] = None,
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Rule mails and webhooks; `--status ambiguous` lists mails that may or may not have been sent."""
        rows = _rules(ctx).outbox(_choice(status, OUTBOX_STATES, "--status"))
        columns = ["id", "kind", "status", "to", "subject", "attempts", "error"]
        emit(rows, json, lambda data: console.print(table(None, columns, [
            (m["id"], m["kind"], m["status"], m["to"] if isinstance(m["to"], str) else ", ".join(m["to"] or []),
             m["subject"], m["attempts"], m["last_error"]) for m in data])))

    @outbox_app.command("retry")
    def outbox_retry(ctx: typer.Context, message_id: Annotated[int, typer.Argument(help="The outbox row's id.")],
                     json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Send a failed, ambiguous or dry-run message again (your decision: an ambiguous one may have gone)."""
        emit(_rules(ctx).outbox_retry(message_id), json,
             lambda r: console.print(f"outbox {r['id']} queued again", markup=False))


def _show_simulation(result: dict) -> None:
    console.print(f"Rule {result['rule']} ({result['event']}) over {result['examined']} event(s) since "
                  f"{short_date(result['since'])}: {result['matched']} matched — "
                  + (", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result["outcomes"].items()) or "nothing"),
                  markup=False)
    if result["note"]:
        console.print(result["note"], markup=False)
    for d in result["decisions"]:
        console.print(f"• {short_date(d['date'])} {d['subject'] or d['event']} → {d['outcome']} "
                      f"(due {short_date(d['due_at'])}): {d['because']}", markup=False)
        live = d.get("live")
        if live:
            console.print(f"    live: timer {live['timer']} is {live['status']}"
                          + (f" — {live['outcome']}" if live["outcome"] else ""), markup=False)
    nm = result["not_matched"]
    if nm["count"]:
        console.print(f"{nm['count']} event(s) did not match:", markup=False)
        for reason, count in nm["reasons"]:
            console.print(f"    {count} × {reason}", markup=False)


def show_demo_rules(story: dict) -> None:
    """The demo's rules section: tasks, armed timers, deals, and the mail and webhooks the local sinks received."""
    if not story:
        return
    console.print("Rules at the anchor (the five example rules of config.example.toml):", markup=False, style="bold")
    console.print(table("Tasks created (relances of quotes without a real reply)", ["id", "due", "assignee", "title"], [
        (t["id"], short_date(t["due_at"]), t["assignee"], t["title"]) for t in story["tasks"]]))
    console.print(table("Timers armed at the anchor, not due yet", ["rule", "due", "contact", "subject"], [
        (t["rule"], short_date(t["due_at"]), t["contact"], t["subject"]) for t in story["pending_timers"]]))
    if story["deals"]:
        console.print(table("Deals", ["id", "name", "stage", "amount", "source"], [
            (d["id"], d["name"], d["stage"], d["amount"] and f"{d['amount']} {d['currency']}", d["source"])
            for d in story["deals"]]))
    console.print(f"Mail received by the demo's SMTP sink on 127.0.0.1 ({len(story['emails'])}):", markup=False)
    shown: set[str] = set()
    for mail in story["emails"]:
        console.print(f"  • [{mail['rule']}] to {mail['to']}{' cc ' + mail['cc'] if mail['cc'] else ''}: "
                      f"{mail['subject']}", markup=False)
        if mail["rule"] not in shown:
            shown.add(mail["rule"])
            for line in mail["body"].strip().splitlines():
                console.print(f"      {line}", markup=False)
    for hook in story["webhooks"]:
        console.print(f"  • webhook received (signature {'valid' if hook['signature_ok'] else 'INVALID'}): "
                      f"{json.dumps(hook['body'], ensure_ascii=False)}", markup=False)
    for message in story["outbox"]:
        console.print(f"  • not sent ({message['status']}): {message['subject'] or message['to']} "
                      f"{message['last_error']}", markup=False)
