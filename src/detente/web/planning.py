"""The planning board: the engagements being planned with every check's findings (the
Vienna Document, legal prerequisites, calendars, vetting), your organisation's by default,
grouped by rule and ranked (``detente.planning.board``: the API and the CLI show the same
groups and counts), filtered by rule; the Vienna Document drafts; and the optimiser's
proposal. Read as the viewer: the banner combines the markings of the engagements shown and
of every record a finding quotes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from detente.core.markings import parse
from detente.store.service import ListQuery
from detente.web.auth import opened

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/planning", response_class=HTMLResponse)
def planning_board(
    request: Request,
    rule: Annotated[str, Query(max_length=64)] = "",
    scope: Annotated[str, Query(max_length=8)] = "own",
) -> HTMLResponse:
    """The board: your organisation's engagements being planned (``scope=all``: every
    organisation's you may read), the findings grouped by rule and ranked, details folded."""
    from detente.planning.board import RULE_LABELS, board, rule_of
    from detente.planning.scope import scope_of

    chosen, where = rule_of(rule), scope_of(scope)
    with opened(request) as (reg, page):
        made = board(reg, scope=where)
        page.markings.extend(parse(m) for m in made.markings())
        return page.render("planning.html", board=made, report=made.report(chosen), rule=rule,
                           groups=made.groups(chosen), rows=made.rows(chosen), labels=RULE_LABELS,
                           year=date.today().year + 1)  # fmt: skip


@router.get("/planning/notification/{engagement_id}", response_class=HTMLResponse)
def notification(request: Request, engagement_id: Annotated[str, Path(max_length=64)]) -> HTMLResponse:
    from detente.planning.board import activities
    from detente.planning.vienna import Rules, notification_draft

    with opened(request) as (reg, page):
        e = page.mark(reg.get("engagements", engagement_id))
        found = activities(reg, [e])
        text = notification_draft(found[0], Rules.load()) if found else None
        empty = "This engagement has no forces or no location: nothing to notify."
        return page.render("planning_draft.html", title=f"Prior notification: {e.title}", text=text,
                           empty=empty)  # fmt: skip


@router.get("/planning/calendar", response_class=HTMLResponse)
def calendar(request: Request, year: Annotated[int | None, Query(ge=1990, le=2100)] = None) -> HTMLResponse:
    """The Vienna Document annual calendar draft of your country's notifiable activities for
    ``year`` (default: next year, the one the calendar exchanged by 15 November covers)."""
    from detente.planning.board import activities
    from detente.planning.vienna import Rules, calendar_draft

    year = year or date.today().year + 1
    with opened(request) as (reg, page):
        mine: Any = page.principal.country if page.principal else ""
        engagements = [e for e in reg.list("engagements", ListQuery(limit=None)) if e.status != "cancelled"]
        acts = [a for a in activities(reg, engagements) if a.start.year == year and a.notifying_state == mine]
        page.mark_all(e for e in engagements if e.id in {a.id for a in acts})
        text = calendar_draft(acts, year, Rules.load(), mine)
        return page.render(
            "planning_draft.html", title=f"Annual calendar {year}: {mine}", text=text, empty=""
        )


def _priorities(text: str) -> dict[str, int]:
    """``KEN:2, GHA:1`` -> {"KEN": 2, "GHA": 1} (countries by name or code)."""
    from detente.core.countries import iso3
    from detente.core.errors import ValidationError

    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        country, _, n = part.partition(":")
        try:
            out[iso3(country.strip(), field="priority")] = int(n or 1)
        except ValueError:
            raise ValidationError(f"{part!r}: give COUNTRY:NUMBER, e.g. KEN:2", field="priority") from None
    return out


@router.get("/planning/proposal", response_class=HTMLResponse)
def proposal(
    request: Request,
    budget: Annotated[float, Query(ge=0, le=1e13)] = 0,
    year: Annotated[int, Query(ge=1990, le=2100)] = date.today().year + 1,
    currency: Annotated[str, Query(max_length=3)] = "",
    priority: Annotated[str, Query(max_length=500)] = "",
) -> HTMLResponse:
    """The optimiser's proposal: which of your engagements being planned for a year to keep
    and when, for a budget; what it left out and why; what more budget would buy."""
    from detente.core.errors import ValidationError
    from detente.planning.optimise import greedy, optimise
    from detente.planning.proposal import problem_from_registry

    form = {"budget": budget, "year": year, "currency": currency, "priority": priority}
    with opened(request) as (reg, page):
        made = plan = baseline = error = None
        if budget > 0:
            try:
                made = problem_from_registry(reg, year=year, budget=budget, currency=currency or None,
                                             priority=_priorities(priority))  # fmt: skip
                plan = optimise(made.problem, time_limit=20, explain_top=5, explain_time_limit=5)
                baseline = greedy(made.problem)
                page.mark_all(made.records)
            except ValidationError as exc:
                error = str(exc)
        return page.render("planning_proposal.html", form=form, made=made, plan=plan, baseline=baseline,
                           error=error)  # fmt: skip
