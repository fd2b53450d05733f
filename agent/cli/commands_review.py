"""Review queues and merges: `review unknown …`, `review duplicates …`, `review merges`, `unmerge`, `dedupe`,
`companies list|show`."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.cli.render import console, emit, short_date, table

KINDS = ("contact", "company")


def _review(ctx: typer.Context):
    from agent.cli.main import state

    return state(ctx).service.feature("review")


def _kind(value: str) -> str:
    from agent.errors import UserError

    if value not in KINDS:
        raise UserError(f"--kind: {value!r} is not one of {', '.join(KINDS)}")
    return value


def _said(data: dict) -> None:
    """One line for a decision: what happened to which address or records."""
    parts = [f"{key} {value}" for key, value in data.items() if value not in (None, "", [], False)]
    console.print(", ".join(parts), markup=False)


def register(app: typer.Typer) -> None:
    review_app = typer.Typer(help="Review queues: unknown addresses, possible duplicates, the merge log.",
                             no_args_is_help=True)
    unknown_app = typer.Typer(help="Unknown external addresses: list them, or accept / attach / ignore / "
                                   "blocklist one.", invoke_without_command=True)
    duplicates_app = typer.Typer(help="Possible duplicates: list them side by side, merge, or mark not-duplicate.",
                                 invoke_without_command=True)
    companies_app = typer.Typer(help="Companies: list, and one company's page.", no_args_is_help=True)
    app.add_typer(review_app, name="review")
    review_app.add_typer(unknown_app, name="unknown")
    review_app.add_typer(duplicates_app, name="duplicates")
    app.add_typer(companies_app, name="companies")

    @unknown_app.callback()
    def unknown_list(
        ctx: typer.Context,
        search: Annotated[str | None, typer.Option("--search", "-s", help="Part of an address or name.")] = None,
        limit: Annotated[int, typer.Option(min=1)] = 100,
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Unknown addresses, most seen first: how often, how often we wrote to them, first and last seen."""
        if ctx.invoked_subcommand is not None:
            return
        emit(_review(ctx).unknown(limit=limit, search=search), json, show_unknown)

    @unknown_app.command("accept")
    def unknown_accept(
        ctx: typer.Context,
        address: Annotated[str, typer.Argument(help="The address to make a contact.")],
        name: Annotated[str | None, typer.Option(help="Name of the contact (default: the name seen in mail).")] = None,
        company: Annotated[str | None, typer.Option(help="Company id, domain or name (default: by domain).")] = None,
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Make the address a contact; its past interactions are linked at once."""
        emit(_review(ctx).accept_unknown(address, name=name, company_id=company), json, _said)

    @unknown_app.command("attach")
    def unknown_attach(
        ctx: typer.Context,
        address: Annotated[str, typer.Argument(help="The address to attach.")],
        company: Annotated[str, typer.Argument(help="Company id, domain or name.")],
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Link the address to a company, not to a person (a shared mailbox, a role address)."""
        emit(_review(ctx).attach_unknown(address, company), json, _said)

    @unknown_app.command("ignore")
    def unknown_ignore(ctx: typer.Context, address: Annotated[str, typer.Argument()],
                       json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Stop proposing the address; it is never made a contact automatically."""
        emit(_review(ctx).ignore_unknown(address), json, _said)

    @unknown_app.command("blocklist")
    def unknown_blocklist(ctx: typer.Context,
                          address: Annotated[str, typer.Argument(help="An address, or @domain.")],
                          json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Never log its mail again nor make it a contact (stored history stays)."""
        emit(_review(ctx).blocklist_unknown(address), json, _said)

    @duplicates_app.callback()
    def duplicates_list(
        ctx: typer.Context,
        kind: Annotated[str, typer.Option(help="contact or company.")] = "contact",
        limit: Annotated[int, typer.Option(min=1)] = 100,
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Pairs that may be one record, best first, both records side by side with the reasons."""
        if ctx.invoked_subcommand is not None:
            return
        emit(_review(ctx).duplicates(_kind(kind), limit=limit), json, show_duplicates)

    @duplicates_app.command("merge")
    def duplicates_merge(
        ctx: typer.Context,
        keep: Annotated[int, typer.Argument(help="Id of the record that stays.")],
        other: Annotated[int, typer.Argument(help="Id of the record folded into it.")],
        kind: Annotated[str, typer.Option(help="contact or company.")] = "contact",
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Merge two records (any two, queued or not); `crm-agent unmerge ID` undoes it."""
        emit(_review(ctx).merge(_kind(kind), keep, other), json, lambda r: console.print(
            f"merged {r['kind']} #{r['merged']} into #{r['kept']} (merge #{r['merge_id']}; undo: {r['undo']})",
            markup=False))

    @duplicates_app.command("not-duplicate")
    def duplicates_not(
        ctx: typer.Context,
        first: Annotated[int, typer.Argument(help="Id of one record.")],
        second: Annotated[int, typer.Argument(help="Id of the other.")],
        kind: Annotated[str, typer.Option(help="contact or company.")] = "contact",
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Remember that two records are different: never proposed nor merged again."""
        emit(_review(ctx).not_duplicate(_kind(kind), first, second), json, lambda r: console.print(
            f"{r['kind']} #{r['a_id']} and #{r['b_id']}: remembered as different", markup=False))

    @review_app.command("merges")
    def merges(ctx: typer.Context, limit: Annotated[int, typer.Option(min=1)] = 50,
               json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """The merge log, newest first (ids for `crm-agent unmerge`)."""
        emit(_review(ctx).merges(limit=limit), json, show_merges)

    @app.command()
    def unmerge(ctx: typer.Context, merge_id: Annotated[int, typer.Argument(help="Merge id (see `review merges`).")],
                json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Undo a merge exactly: both records, their addresses, phones and links, even after new mail."""
        emit(_review(ctx).unmerge(merge_id), json, lambda r: console.print(
            f"merge #{r['merge_id']} undone: {r['kind']} #{r['restored'][0]} and #{r['restored'][1]} restored, "
            f"{r['new_links_returned']} newer link(s) returned to #{r['restored'][1]}; the pair is remembered as "
            "different", markup=False))

    @app.command()
    def dedupe(ctx: typer.Context,
               auto_merge: Annotated[bool, typer.Option("--auto-merge/--no-auto-merge",
                                                        help="Merge pairs above merge_threshold.")] = True,
               json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Look for duplicate companies and contacts: merge the sure ones, queue the others for review."""
        emit(_review(ctx).find_duplicates(auto_merge=auto_merge), json, show_scan)

    @companies_app.command("list")
    def companies_list(ctx: typer.Context,
                       search: Annotated[str | None, typer.Option("--search", "-s",
                                                                  help="Part of a name or domain.")] = None,
                       limit: Annotated[int, typer.Option(min=1)] = 200,
                       json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Companies with their domains, contacts and interactions."""
        emit(_review(ctx).companies(search=search, limit=limit), json, lambda rows: console.print(table(None, [
            "id", "name", "domains", "contacts", "interactions", "last"], [
            (c["id"], c["name"], ", ".join(c["domains"]), c["contacts"], c["interactions"],
             short_date(c["last_interaction"])) for c in rows])))

    @companies_app.command("show")
    def companies_show(ctx: typer.Context,
                       ref: Annotated[str, typer.Argument(help="Company id, one of its domains, or its name.")],
                       json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """A company: domains, contacts, merged records and its timeline."""
        emit(_review(ctx).company(ref), json, show_company)

    _register_domains(companies_app)


def _register_domains(companies_app: typer.Typer) -> None:
    @companies_app.command("add-domain")
    def companies_add_domain(
        ctx: typer.Context,
        ref: Annotated[str, typer.Argument(help="Company id, one of its domains, or its name.")],
        domain: Annotated[str, typer.Argument(help="acme.fr, www.acme.fr, https://acme.fr/contact or an address.")],
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Give a company one more domain; past mail from it is linked to the company at once."""
        emit(_review(ctx).add_domain(ref, domain), json, lambda r: console.print(
            f"{r['domain']} → company #{r['company_id']}: {r['relinked']} past participant(s) linked", markup=False))


def show_unknown(rows: list[dict]) -> None:
    if not rows:
        console.print("No unknown address waiting for review.", markup=False)
        return
    for u in rows:
        company = u["suggested_company"]
        console.print(f"{u['address']} — {u['name'] or '(no name)'}: seen {u['count']}× (we wrote {u['sent']}), "
                      f"first {short_date(u['first_seen'])}, last {short_date(u['last_seen'])}"
                      + (f"; company? #{company['id']} {company['name']}" if company else ""), markup=False)
        console.print(f"    not created: {u['why']}", markup=False)
    console.print("Decide with: crm-agent review unknown accept|attach|ignore|blocklist ADDRESS", markup=False)


def _side(record: dict) -> str:
    emails = ", ".join(record.get("emails") or record.get("domains") or [])
    phones = ", ".join(p for p in [record.get("phone") or "", *record.get("other_phones", [])] if p)
    company = record.get("company") or ""
    return " | ".join(p for p in (f"#{record['id']} {record['name']}", emails, phones, company,
                                  f"{record['interactions']} interactions") if p)


def show_duplicates(rows: list[dict]) -> None:
    if not rows:
        console.print("No possible duplicate waiting for review (run `crm-agent dedupe` to look for some).",
                      markup=False)
        return
    for pair in rows:
        console.print(f"pair {pair['id']} ({pair['kind']}), score {pair['score']:.3f}", markup=False, style="bold")
        console.print(f"  {_side(pair['a'])}", markup=False)
        console.print(f"  {_side(pair['b'])}", markup=False)
        console.print(f"  why: {'; '.join(pair['reasons'])}", markup=False)
    console.print("Decide with: crm-agent review duplicates merge KEEP OTHER | not-duplicate A B  (--kind company)",
                  markup=False)


def show_merges(rows: list[dict]) -> None:
    if not rows:
        console.print("No merge yet.", markup=False)
        return
    console.print(table(None, ["id", "kind", "kept", "merged", "when", "how", "undone"], [
        (m["id"], m["kind"], f"#{m['kept']['id']} {m['kept']['name']}", f"#{m['merged']['id']} {m['merged']['name']}",
         short_date(m["at"]), f"auto ({m['score']:.3f})" if m["auto"] and m["score"] is not None else
         ("auto" if m["auto"] else "by hand"), short_date(m["undone_at"]) if m["undone_at"] else "") for m in rows]))


def show_scan(result: dict) -> None:
    for kind in ("company", "contact"):
        r = result[kind]
        console.print(f"{kind}: {r['pairs']} possible pair(s): {r['merged']} merged automatically "
                      f"(score >= {result['merge_threshold']}), {r['queued']} queued for review "
                      f"(score >= {result['review_threshold']})", markup=False)
    if result["contact"]["merge_ids"] or result["company"]["merge_ids"]:
        console.print("See them with: crm-agent review merges  (undo one: crm-agent unmerge ID)", markup=False)


def show_company(data: dict) -> None:
    from agent.cli.commands_data import interaction_table

    c = data["company"]
    console.print(f"#{c['id']} {c['name']} — {', '.join(c['domains']) or 'no domain'}", markup=False, style="bold")
    for merged in data["merged_from"]:
        console.print(f"  absorbed #{merged['id']} {merged['name']} (merge #{merged['merge_id']})", markup=False)
    for person in data["contacts"]:
        console.print(f"  contact #{person['id']} {person['name']} <{', '.join(person['emails'])}>", markup=False)
    console.print(interaction_table(data["timeline"]))


def show_demo_matching(data: dict) -> None:
    """The demo's few lines on de-duplication and the review queue."""
    console.print("Duplicates and unknown addresses (crm-agent dedupe, review):", markup=False, style="bold")
    for m in data["merges"]:
        how = f"merged automatically, score {m['score']:.3f}" if m["auto"] else "merged by hand"
        console.print(f"  {m['kind']} #{m['merged']['id']} {m['merged']['name']} → #{m['kept']['id']} "
                      f"{m['kept']['name']} ({how}; undo: crm-agent unmerge {m['id']})", markup=False)
        if m["reasons"]:
            console.print(f"    why: {'; '.join(m['reasons'][:3])}", markup=False)
    for pair in data["duplicates"]:
        console.print(f"  to review: #{pair['a']['id']} {pair['a']['name']} / #{pair['b']['id']} {pair['b']['name']} "
                      f"(score {pair['score']:.3f})", markup=False)
    for u in data["unknown"]:
        console.print(f"  unknown {u['address']} ({u['name'] or 'no name'}): seen {u['count']}×, last "
                      f"{short_date(u['last_seen'])} — {u['why']}", markup=False)
