"""``detente plan``: the planning checks (the Vienna Document, legal prerequisites,
calendars, vetting) of the engagements being planned, the Vienna Document drafts, and the
optimised engagement plan."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from detente.cli.context import console, open_registry

__all__ = ["app", "register"]

TOP = 10  # engagements listed in the summary

app = typer.Typer(
    help="Planning: Vienna Document checks, legal prerequisites, calendars and the optimised plan.",
    no_args_is_help=True,
)


@app.command()
def check(
    ctx: typer.Context,
    rule: Annotated[str | None, typer.Option(help="Only this rule, e.g. sofa or vd:notification.")] = None,
    all_organisations: Annotated[
        bool, typer.Option("--all-organisations", help="Every organisation's engagements you may read.")
    ] = False,
    everything: Annotated[bool, typer.Option("--all", help="Print every finding, grouped by rule.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the board as JSON (the API's answer), every finding.")
    ] = False,
) -> None:
    """The planning board: your organisation's engagements being planned, their findings
    grouped by rule and ranked (violations first), with counts per rule and per engagement.
    A summary by default; --all prints every finding, --json the whole board."""
    from detente.planning.board import board, rule_of
    from detente.sharing.coalitions import members

    rule = rule_of(rule)
    with open_registry(ctx) as (_ws, reg):
        made = board(reg, scope="all" if all_organisations else "own")
        banner, user = made.marking(members(reg.session)), reg.principal.user
    report = made.report(rule)
    if as_json:
        typer.echo(json.dumps({"marking": banner, **report}, indent=1, ensure_ascii=False))
        return
    console.print(f"marking of this answer: [bold]{banner}[/] (as {user})", highlight=False)
    _summary(report)
    if everything:
        _every_finding(report)
    else:
        console.print("every finding: --all; as JSON: --json", highlight=False)


def _summary(report: dict[str, Any]) -> None:
    """The totals, the rules ranked with their counts, the engagements with the most findings."""
    if report["scope"] == "own":
        whose = f"{report['engagements']} of your organisation's engagements being planned"
        if report["others"]:
            whose += f" ({report['others']} more of other organisations' you may read: --all-organisations)"
    else:
        whose = f"{report['engagements']} engagements being planned that you may read (every organisation's)"
    console.print(
        f"{whose}; {report['with_findings']} with findings: {report['violations']} violations, "
        f"{report['warnings']} warnings (as of {report['as_of']}).",
        highlight=False,
    )
    console.print(
        "Findings by rule, violations first (violations / warnings / engagements):", highlight=False
    )
    for g in report["groups"]:
        style = "red" if g["severity"] == "violation" else "yellow"
        console.print(
            f"  [{style}]{g['violations']:>3}[/] / {g['warnings']:>3} / {g['engagements']:>3}  "
            f"{g['label']} [dim]({g['rule']})[/]",
            highlight=False,
        )
    rows = report["by_engagement"]
    table = Table(title=f"Engagements, the most violations first ({min(len(rows), TOP)} of {len(rows)})")
    for col in ("engagement", "start", "violations", "warnings"):
        table.add_column(col, overflow="fold")
    for r in rows[:TOP]:
        table.add_row(r["title"], r["start_date"], str(r["violations"]), str(r["warnings"]))
    console.print(table)


def _every_finding(report: dict[str, Any]) -> None:
    """Every finding, rule by rule in the ranked order."""
    for g in report["groups"]:
        table = Table(title=f"{g['label']}: {g['violations']} violations, {g['warnings']} warnings")
        for col in ("engagement", "severity", "finding", "missing"):
            table.add_column(col, overflow="fold")
        for f in g["findings"]:
            style = "red" if f["severity"] == "violation" else "yellow"
            table.add_row(f["engagement"], f"[{style}]{f['severity']}[/]", f["message"], f["missing"])
        console.print(table)


@app.command()
def notification(
    ctx: typer.Context,
    engagement: Annotated[str, typer.Argument(help="The engagement: id, external id or title.")],
) -> None:
    """The Vienna Document prior notification draft for an engagement."""
    from detente.core.errors import ValidationError
    from detente.planning.board import activities
    from detente.planning.vienna import Rules, notification_draft

    with open_registry(ctx) as (_ws, reg):
        record = reg.get("engagements", reg.resolve_ref("engagements", engagement, field="engagement"))
        found = activities(reg, [record])
    if not found:
        raise ValidationError(
            f"{record.title}: no forces or no location, nothing to notify", field="engagement"
        )
    typer.echo(notification_draft(found[0], Rules.load()))


@app.command()
def calendar(
    ctx: typer.Context,
    year: Annotated[
        int | None,
        typer.Option(min=1990, max=2100, help="The year the calendar covers [default: next year]."),
    ] = None,
) -> None:
    """The Vienna Document annual calendar draft of your country's notifiable activities."""
    from datetime import date

    from detente.planning.board import activities
    from detente.planning.vienna import Rules, calendar_draft
    from detente.store.service import ListQuery

    year = year or date.today().year + 1
    with open_registry(ctx) as (_ws, reg):
        mine = reg.principal.country
        engagements = [e for e in reg.list("engagements", ListQuery(limit=None)) if e.status != "cancelled"]
        acts = [a for a in activities(reg, engagements) if a.start.year == year and a.notifying_state == mine]
    typer.echo(calendar_draft(acts, year, Rules.load(), mine))


@app.command()
def optimise(
    ctx: typer.Context,
    budget: Annotated[float, typer.Option(min=0, help="The money available for the year.")],
    year: Annotated[int, typer.Option(min=1990, max=2100, help="The year planned.")],
    currency: Annotated[
        str | None, typer.Option(help="Consider engagements costed in it [default: most used].")
    ] = None,
    priority: Annotated[
        list[str] | None, typer.Option(help="A priority partner and its minimum, e.g. KEN=2 (repeatable).")
    ] = None,
    time_limit: Annotated[float, typer.Option(min=1, help="Seconds the solver may take.")] = 60,
) -> None:
    """Propose which of your engagements being planned to keep, and when: the most objective
    coverage for the budget (a mixed-integer programme, HiGHS), against a greedy heuristic,
    with what was left out and why, and what more budget buys."""
    from detente.core.countries import iso3
    from detente.core.errors import ValidationError
    from detente.planning.optimise import greedy
    from detente.planning.optimise import optimise as solve
    from detente.planning.proposal import problem_from_registry

    minimums: dict[str, int] = {}
    for item in priority or []:
        country, _, n = item.partition("=")
        if not n.strip().isdigit():
            raise ValidationError(f"{item!r}: give COUNTRY=NUMBER, e.g. KEN=2", field="priority")
        minimums[iso3(country.strip(), field="priority")] = int(n)
    with open_registry(ctx) as (_ws, reg):
        made = problem_from_registry(reg, year=year, budget=budget, currency=currency, priority=minimums)
    plan = solve(made.problem, time_limit=time_limit)
    base = greedy(made.problem)
    table = Table(title=f"Plan for {year}: {len(plan.chosen)} of {len(made.problem.candidates)} chosen")
    for col in ("engagement", "partner", "month", f"cost ({made.currency})"):
        table.add_column(col, overflow="fold")
    for c in plan.chosen:
        table.add_row(made.titles[c.candidate], c.partner, str(c.start + 1), f"{c.cost:,.0f}")
    console.print(table)
    _currencies(made)
    text = plan.explain()
    for cid, title in made.titles.items():
        text = text.replace(cid, title)
    console.print(text, highlight=False)
    if base.value >= plan.value - 1e-9:
        versus = "the same as the plan's"
    elif base.value > 0:
        versus = f"the plan's is {plan.value / base.value - 1:.1%} higher"
    else:
        versus = "the plan's is higher"
    console.print(f"greedy heuristic: value {base.value:.4g} ({versus})", highlight=False)


def _currencies(made: Any) -> None:
    """The budget's currency, the costs converted into it, and what was excluded and why."""
    console.print(f"budget in {made.currency}", highlight=False)
    if made.converted:
        console.print(f"converted at dated rates ({made.rates_source}):", highlight=False)
        groups: dict[tuple[str, float, int, int], int] = {}
        for c in made.converted:
            x = c.conversion
            key = (x.currency, x.rate, x.rate_year, x.year)
            groups[key] = groups.get(key, 0) + 1
        for (cur, rate, rate_year, year), n in groups.items():
            carried = "" if rate_year == year else f" (the latest average, used for {year})"
            console.print(
                f"  {n} cost(s) in {cur} at {rate:.6g} {made.currency}/{cur}, {rate_year} average{carried}",
                highlight=False,
            )
    for x in made.excluded:
        cost = f" ({x.currency} {x.cost:,.0f})" if x.cost is not None else ""
        console.print(f"excluded: {x.title}{cost}: {x.reason}", highlight=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="plan")
