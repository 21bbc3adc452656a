"""REST routes for monitoring: the dashboard, an initiative's scorecard, and the annual
report (HTML or PDF). Read as the caller: what is not releasable to them takes no part,
and each answer carries the combined marking of everything it shows or counted. The
records themselves (initiatives to lessons) have the generic record routes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from detente.api.deps import Unit, unit
from detente.api.errors import responses
from detente.core.markings import derived_marking

__all__ = ["router"]

router = APIRouter(prefix="/assessment", tags=["assessment"])
Work = Annotated[Unit, Depends(unit)]


class PointOut(BaseModel):
    on: date
    value: float
    source: str | None
    computed: bool


class IndicatorOut(BaseModel):
    id: str
    objective_id: str
    name: str
    unit: str
    marking: str
    baseline_value: float
    baseline_date: date
    target_value: float
    target_date: date
    computed_from: str | None
    status: str = Field(description="on_track, at_risk, off_track or no_data")
    expected: float | None = Field(description="The target trajectory's value on the latest value's date")
    next_due: date | None
    overdue_days: int
    note: str | None
    points: list[PointOut]


class ScorecardOut(BaseModel):
    marking: str = Field(description="The combination of the markings of everything it counted")
    initiative_id: str
    title: str
    status: str
    as_of: date
    counts: dict[str, int]
    overdue: int
    evaluations: int
    lessons: int
    indicators: list[IndicatorOut]


@contextmanager
def _context(work: Unit) -> Iterator[tuple[Any, Any, dict[str, set[str]]]]:
    from detente.assessment.metrics import Context
    from detente.relations.service import open_lake

    with work.sharing() as (sharing, principal), open_lake(work.workspace.path) as lake:
        from detente.store.service import Store

        reg = Store(sharing.session, principal)
        yield Context(reg, lake, principal.country), sharing, sharing.coalitions()


def _card(card: Any, coalitions: dict[str, set[str]]) -> ScorecardOut:
    return ScorecardOut(
        marking=derived_marking(card.records, coalitions).render(),
        initiative_id=card.initiative.id, title=card.initiative.title, status=card.initiative.status,
        as_of=card.as_of, counts=dict(card.counts), overdue=len(card.overdue),
        evaluations=len(card.evaluations), lessons=len(card.lessons),
        indicators=[
            IndicatorOut(
                **{k: getattr(r.indicator, k) for k in (
                    "id", "objective_id", "name", "unit", "marking", "baseline_value", "baseline_date",
                    "target_value", "target_date", "computed_from")},
                status=r.status, expected=r.expected, next_due=r.next_due, overdue_days=r.overdue_days,
                note=r.note,
                points=[PointOut(on=p.on, value=p.value, source=p.source, computed=p.computed)
                        for p in r.points],
            )
            for r in card.indicators
        ],
    )  # fmt: skip


@router.get(
    "/dashboard",
    response_model=list[ScorecardOut],
    summary="Every initiative you may see, with its indicators' status and what is overdue",
    responses=responses(401, 422),
    operation_id="assessment_dashboard",
)
def dashboard(work: Work, on: date | None = None) -> list[ScorecardOut]:
    from detente.assessment.monitor import dashboard as build

    with _context(work) as (ctx, _sharing, coalitions):
        return [_card(c, coalitions) for c in build(ctx, on)]


@router.get(
    "/initiatives/{initiative_id}/scorecard",
    response_model=ScorecardOut,
    summary="One initiative's scorecard: each indicator's values, status and due date",
    responses=responses(401, 404, 422),
    operation_id="assessment_scorecard",
)
def scorecard(work: Work, initiative_id: str, on: date | None = None) -> ScorecardOut:
    from detente.assessment.monitor import scorecard as build

    with _context(work) as (ctx, _sharing, coalitions):
        return _card(build(ctx, initiative_id, on), coalitions)


@router.get(
    "/report",
    summary="The annual assessment report as HTML or PDF; its marking is in X-Detente-Marking",
    responses={
        **responses(401, 422),
        200: {
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
            "description": "The report",
        },
    },
    operation_id="assessment_report",
)
def report(
    work: Work,
    year: Annotated[int, Query(ge=1900, le=2100)],
    format: Literal["html", "pdf"] = "html",
) -> Response:
    from detente.assessment.report import annual_report, to_pdf

    with _context(work) as (ctx, sharing, coalitions):
        org = next((o.name for o in sharing.orgs() if o.id == ctx.reg.principal.org), "")
        made = annual_report(ctx, year, organisation=org, coalitions=coalitions)
    headers = {"X-Detente-Marking": made.marking}
    if format == "pdf":
        headers["Content-Disposition"] = f'attachment; filename="assessment-report-{year}.pdf"'
        return Response(to_pdf(made), media_type="application/pdf", headers=headers)
    return HTMLResponse(made.html, headers=headers)
