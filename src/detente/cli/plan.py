"""``detente plan``: the planning checks (the Vienna Document, legal prerequisites,
calendars, vetting) of the engagements being planned, the Vienna Document drafts, and the
optimised engagement plan."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from detente.cli.context import console, open_registry

__all__ = ["app", "register"]

app = typer.Typer(
    help="Planning: Vienna Document checks, legal prerequisites, calendars and the optimised plan.",
    no_args_is_help=True,
)


@app.command()
def check(
    ctx: typer.Context,
    rule: Annotated[str | None, typer.Option(help="Only this rule, e.g. sofa or vd:notification.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Every finding on the engagements being planned that you may see: the rule, what it
    rests on and the record that is missing."""
    from dataclasses import asdict

    from detente.planning.board import board

    with open_registry(ctx) as (_ws, reg):
        made = board(reg)
    shown = {e.id for e in made.engagements}
    findings = [f for f in made.findings if f.engagement_id in shown and (rule is None or f.rule == rule)]
    if as_json:
        typer.echo(json.dumps([asdict(f) for f in findings], indent=1, default=str))
        return
    table = Table(title=f"{len(findings)} findings on {len(made.engagements)} engagements being planned")
    for col in ("engagement", "rule", "severity", "finding", "missing"):
        table.add_column(col, overflow="fold")
    for f in findings:
        style = "red" if f.severity == "violation" else "yellow"
        table.add_row(f.engagement, f.rule, f"[{style}]{f.severity}[/]", f.message, f.missing)
    console.print(table)
    counts = ", ".join(f"{k} {n}" for k, n in made.counts.most_common())
    console.print(f"by rule: {counts or 'none'}", highlight=False)


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
    year: Annotated[int, typer.Option(min=1990, max=2100, help="The year the calendar covers.")],
) -> None:
    """The Vienna Document annual calendar draft of your country's notifiable activities."""
    from detente.planning.board import activities
    from detente.planning.vienna import Rules, calendar_draft
    from detente.store.service import ListQuery

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
    table = Table(
        title=f"Plan for {year}: {len(plan.chosen)} of {len(made.problem.candidates)} ({made.currency})"
    )
    for col in ("engagement", "partner", "month", "cost"):
        table.add_column(col, overflow="fold")
    for c in plan.chosen:
        table.add_row(made.titles[c.candidate], c.partner, str(c.start + 1), f"{c.cost:,.0f}")
    console.print(table)
    text = plan.explain()
    for cid, title in made.titles.items():
        text = text.replace(cid, title)
    console.print(text, highlight=False)
    ratio = plan.value / base.value if base.value else float("inf")
    console.print(
        f"greedy heuristic: value {base.value:.4g} ({ratio:.3f}x less than the plan's)", highlight=False
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="plan")
