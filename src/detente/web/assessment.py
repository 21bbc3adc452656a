"""Assessment pages: the monitoring dashboard (every initiative the viewer may see, with
its indicators by status and what is overdue), an initiative's scorecard (objectives and
logic model, indicators with charts against their target trajectory, engagements,
evaluations, lessons), and the annual report as HTML or PDF. Everything is read as the
viewer; the page banner combines the markings of what is shown or counted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from detente.core.markings import parse
from detente.web.auth import opened
from detente.web.render import Page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Year = Annotated[int | None, Query(ge=1900, le=2100)]


@contextmanager
def _reading(request: Request) -> Iterator[tuple[Any, Page, Any]]:
    from detente.assessment.metrics import Context
    from detente.relations.service import open_lake

    with opened(request) as (reg, page), open_lake(request.app.state.workspace.path) as lake:
        yield reg, page, Context(reg, lake, page.principal.country if page.principal else "")


@router.get("/assessment", response_class=HTMLResponse)
def assessment_dashboard(request: Request) -> HTMLResponse:
    from detente.assessment.monitor import dashboard

    with _reading(request) as (_reg, page, ctx):
        cards = dashboard(ctx)
        for card in cards:
            page.derived(card.records)
        overdue = [(c, r) for c in cards for r in c.overdue]
        return page.render("assessment.html", cards=cards, overdue=overdue, today=date.today(),
                           year=date.today().year)  # fmt: skip


@router.get("/assessment/initiatives/{initiative_id}", response_class=HTMLResponse)
def assessment_scorecard(
    request: Request, initiative_id: Annotated[str, Path(max_length=64)]
) -> HTMLResponse:
    from detente.assessment.monitor import scorecard
    from detente.assessment.report import indicator_chart
    from detente.web.pages import actor_names

    with _reading(request) as (reg, page, ctx):
        card = scorecard(ctx, initiative_id)
        page.derived(card.records)
        charts = {
            r.indicator.id: indicator_chart(r, width=560, height=170) for r in card.indicators if r.points
        }
        names = actor_names(reg, [card.initiative.lead_actor_id])
        return page.render("assessment_scorecard.html", card=card, charts=charts, names=names)


def _report(request: Request, year: int | None) -> Any:
    from detente.assessment.report import annual_report
    from detente.sharing.service import Sharing

    with _reading(request) as (reg, page, ctx):
        org = next((o.name for o in Sharing(reg.session).orgs() if o.id == reg.principal.org), "")
        return annual_report(ctx, year or date.today().year, organisation=org, coalitions=page.coalitions)


@router.get("/assessment/report", response_class=HTMLResponse)
def assessment_report(request: Request, year: Year = None) -> HTMLResponse:
    made = _report(request, year)
    return HTMLResponse(made.html, headers={"X-Detente-Marking": made.marking})


@router.get("/assessment/report.pdf")
def assessment_report_pdf(request: Request, year: Year = None) -> Response:
    from detente.assessment.report import to_pdf

    made = _report(request, year)
    return Response(
        to_pdf(made),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="assessment-report-{made.year}.pdf"',
            "X-Detente-Marking": made.marking,
        },
    )


def event_chart(study: Any) -> str:
    """The event study: each year's estimate against the year before adoption, with its 95%
    interval, as SVG."""
    from detente.charts import render_svg

    rows = [
        {"years": c.label, "order": i, "estimate": c.estimate, "low": c.ci_low, "high": c.ci_high}
        for i, c in enumerate(study.event)
    ]
    x = {"field": "years", "type": "ordinal", "sort": {"field": "order"}, "title": "years since adoption"}
    spec = {
        "width": 560,
        "height": 200,
        "data": {"values": rows},
        "layer": [
            {"mark": {"type": "rule", "color": "#6b6b6b", "strokeDash": [4, 3], "aria": False},
             "encoding": {"y": {"datum": 0}}},
            {"mark": {"type": "rule", "color": "#1f4e9c"},
             "encoding": {"x": x, "y2": {"field": "high"},
                          "y": {"field": "low", "type": "quantitative", "title": study.outcome["unit"]}}},
            {"mark": {"type": "point", "filled": True, "color": "#1f4e9c", "size": 60},
             "encoding": {"x": x, "y": {"field": "estimate", "type": "quantitative"}}},
        ],
    }  # fmt: skip
    return render_svg(spec)


@router.get("/assessment/effects", response_class=HTMLResponse)
def assessment_effects(
    request: Request,
    treatment: Annotated[str, Query(max_length=64)] = "",
    outcome: Annotated[str, Query(max_length=64)] = "brd_log",
    first: Annotated[int, Query(alias="from", ge=1900, le=2100)] = 1990,
    last: Annotated[int, Query(alias="to", ge=1900, le=2100)] = 2010,
    placebos: Annotated[int, Query(ge=0, le=1000)] = 200,
    seed: Annotated[int, Query(ge=0, le=2**31)] = 1,
) -> HTMLResponse:
    """An effect study: a form, then the estimate, the event study, the pre-trend test, the
    placebo study and, in words, what the design can and cannot claim."""
    from detente.assessment.effects import OUTCOMES, TREATMENTS, registry_treatment, run_study
    from detente.core.errors import ValidationError

    form = {"treatment": treatment, "outcome": outcome, "from": first, "to": last, "placebos": placebos,
            "seed": seed}  # fmt: skip
    with _reading(request) as (reg, page, ctx):
        study, error, chart = None, None, ""
        if treatment:
            try:
                chosen = registry_treatment(reg) if treatment == "registry" else treatment
                study = run_study(ctx.lake, chosen, outcome, first, last, placebos=placebos, seed=seed)
                chart = event_chart(study)
                page.markings.append(parse(study.marking))
            except ValidationError as exc:
                error = str(exc)
        return page.render("assessment_effects.html", form=form, treatments=TREATMENTS, outcomes=OUTCOMES,
                           study=study, error=error, chart=chart)  # fmt: skip
