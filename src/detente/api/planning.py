"""REST routes for planning: the board (findings on the engagements being planned: the
Vienna Document, legal prerequisites, calendars, vetting; grouped by rule and ranked), the
Vienna Document drafts and the optimiser's proposal, read as the caller. The answer's
marking combines the engagements' and what the findings quote."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from detente.api.deps import Unit, unit
from detente.api.errors import responses
from detente.core.markings import derived_marking

__all__ = ["router"]

router = APIRouter(prefix="/planning", tags=["planning"])
Work = Annotated[Unit, Depends(unit)]


class FindingOut(BaseModel):
    engagement_id: str
    engagement: str
    rule: str = Field(description="e.g. sofa, host_consent, double_booking, vd:notification")
    severity: str = Field(description="violation or warning")
    message: str
    missing: str = Field(description="The record to add, or what to change")
    basis: str
    others: list[str] = Field(description="Other engagements involved")


class GroupOut(BaseModel):
    rule: str
    label: str
    severity: str = Field(description="The worst of its findings: violation or warning")
    violations: int
    warnings: int
    engagements: int = Field(description="Engagements it flags")
    findings: list[FindingOut] = Field(description="Violations first, then the soonest engagement")


class RowOut(BaseModel):
    engagement_id: str
    title: str
    start_date: date
    status: str
    violations: int
    warnings: int
    rules: list[str]


class BoardOut(BaseModel):
    marking: str
    as_of: date
    scope: str = Field(description="own: your organisation's engagements; all: every one you may read")
    rule: str | None
    engagements: int = Field(description="Engagements being planned in the scope")
    others: int = Field(description="Engagements being planned you may read outside the scope")
    with_findings: int
    violations: int
    warnings: int
    counts: dict[str, int] = Field(description="Findings per rule, the most first")
    groups: list[GroupOut] = Field(description="Findings by rule, ranked: violations first, then the most")
    by_engagement: list[RowOut] = Field(description="Engagements with findings, the most violations first")


@router.get(
    "/findings",
    response_model=BoardOut,
    summary="The planning board: findings on the engagements being planned, grouped by rule and ranked",
    responses=responses(401, 422),
    operation_id="planning_findings",
)
def findings(
    work: Work,
    rule: Annotated[str | None, Query(max_length=64)] = None,
    scope: Annotated[str, Query(max_length=8, description="own (default) or all")] = "own",
) -> BoardOut:
    """Your organisation's engagements being planned (``scope=all``: every one you may read),
    their findings grouped by rule and ranked, with counts per rule and per engagement: the
    same groups and counts as the web board and ``detente plan check``."""
    from detente.planning.board import board, rule_of
    from detente.planning.scope import scope_of

    chosen, where = rule_of(rule), scope_of(scope)
    with work.sharing() as (sharing, principal):
        from detente.store.service import Store

        made = board(Store(sharing.session, principal), scope=where)
        coalitions = sharing.coalitions()
    return BoardOut(marking=made.marking(coalitions), **made.report(chosen))


@router.get(
    "/notification/{engagement_id}",
    summary="The Vienna Document prior notification draft for an engagement",
    responses={
        **responses(401, 404, 422),
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "The draft"},
    },
    operation_id="planning_notification",
)
def notification(work: Work, engagement_id: str) -> PlainTextResponse:
    from detente.core.errors import ValidationError
    from detente.planning.board import activities
    from detente.planning.vienna import Rules, notification_draft

    with work.registry() as reg:
        record = reg.get("engagements", engagement_id)
        found = activities(reg, [record])
    if not found:
        raise ValidationError(
            f"{record.title}: no forces or no location, nothing to notify", field="engagement_id"
        )
    return PlainTextResponse(
        notification_draft(found[0], Rules.load()), headers={"X-Detente-Marking": record.marking}
    )


class ProposalRequest(BaseModel):
    budget: float = Field(ge=0, le=1e13, description="The money available for the year")
    year: int = Field(ge=1990, le=2100)
    currency: str | None = Field(None, min_length=3, max_length=3, description="Default: the most used")
    priority: dict[str, int] = Field(
        default_factory=dict, max_length=200, description="Partner (name or ISO3) -> minimum engagements"
    )
    time_limit: float = Field(30, ge=1, le=600, description="Seconds the solver may take")


class ChosenOut(BaseModel):
    engagement_id: str
    title: str
    partner: str
    start_month: int = Field(description="1 to 12")
    cost: float


class LeftOutOut(BaseModel):
    engagement_id: str
    title: str
    reason: str
    detail: str


class ConvertedOut(BaseModel):
    engagement_id: str
    title: str
    amount: float = Field(description="The cost as recorded")
    currency: str = Field(description="Its currency")
    converted: float = Field(description="In the budget's currency")
    rate: float = Field(description="Units of the budget's currency per unit of the cost's")
    rate_year: int = Field(description="The year whose average rates were used")
    note: str


class ExcludedOut(BaseModel):
    engagement_id: str
    title: str
    cost: float | None
    currency: str | None
    reason: str = Field(description="e.g. no cost recorded; no rate for KES in 2027")


class ProposalOut(BaseModel):
    marking: str
    currency: str = Field(description="The budget's currency: every cost below is in it")
    rates_source: str = Field(description="Where the exchange rates come from, and their date")
    converted: list[ConvertedOut] = Field(description="Costs in other currencies, converted")
    excluded: list[ExcludedOut] = Field(
        description="Engagements of the year left out before planning, and why"
    )
    status: str
    gap: float | None
    value: float
    max_value: float
    greedy_value: float
    spent: float
    chosen: list[ChosenOut]
    left_out: list[LeftOutOut]
    unmet: list[str]
    budget_steps: list[dict[str, float | str | None]]


@router.post(
    "/proposal",
    response_model=ProposalOut,
    summary="Propose which of your engagements being planned to keep, and when, for a budget",
    responses=responses(401, 422),
    operation_id="planning_proposal",
)
def proposal(work: Work, body: ProposalRequest) -> ProposalOut:
    from dataclasses import asdict

    from detente.core.countries import iso3
    from detente.planning.optimise import greedy, optimise
    from detente.planning.proposal import problem_from_registry

    minimums = {iso3(k, field="priority"): v for k, v in body.priority.items()}
    with work.sharing() as (sharing, principal):
        from detente.store.service import Store

        made = problem_from_registry(Store(sharing.session, principal), year=body.year, budget=body.budget,
                                     currency=body.currency, priority=minimums)  # fmt: skip
        coalitions = sharing.coalitions()
    plan = optimise(made.problem, time_limit=body.time_limit, explain_top=5, explain_time_limit=5)
    return ProposalOut(
        marking=derived_marking(made.records, coalitions).render(),
        currency=made.currency, rates_source=made.rates_source,
        converted=[ConvertedOut(engagement_id=c.engagement_id, title=c.title, amount=c.conversion.amount,
                                currency=c.conversion.currency, converted=c.conversion.converted,
                                rate=c.conversion.rate, rate_year=c.conversion.rate_year,
                                note=c.conversion.note) for c in made.converted],
        excluded=[ExcludedOut(engagement_id=x.engagement_id, title=x.title, cost=x.cost, currency=x.currency,
                              reason=x.reason) for x in made.excluded],
        status=plan.status, gap=plan.gap, value=plan.value, max_value=plan.max_value,
        greedy_value=greedy(made.problem).value, spent=plan.spent,
        chosen=[ChosenOut(engagement_id=c.candidate, title=made.titles[c.candidate], partner=c.partner,
                          start_month=c.start + 1, cost=c.cost) for c in plan.chosen],
        left_out=[LeftOutOut(engagement_id=o.candidate, title=made.titles[o.candidate], reason=o.reason,
                             detail=o.detail) for o in plan.left_out],
        unmet=[f"{u.partner}: {u.met} of {u.required}: {u.detail}" for u in plan.unmet],
        budget_steps=[asdict(s) for s in plan.budget_steps],
    )  # fmt: skip
