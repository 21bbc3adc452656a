"""The vetting page: screen a name against the sanctions lists in the lake, compare the
chosen candidates side by side with the subject, and see the vetting decisions the viewer
may read with where each stands. Screening reads open data and stores nothing, so the
page is a GET form; the decisions are registry records and carry their markings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from detente.core.errors import NotFoundError, ValidationError
from detente.store.service import ListQuery
from detente.web.auth import opened

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _screen(request: Request, name: str, schema: str, dob: str, country: str) -> dict[str, Any]:
    from detente.relations.service import open_lake
    from detente.vetting.match import Subject
    from detente.vetting.screen import Screener

    subject = Subject(name, schema, (), dob or None, (country,) if country else ())
    with open_lake(request.app.state.workspace.path) as lake:
        screener = Screener.cached(lake)
    return {"subject": subject, "matches": screener.screen(subject, limit=10), "screener": screener}


@router.get("/vetting", response_class=HTMLResponse)
def vetting_page(
    request: Request,
    name: Annotated[str, Query(max_length=10_000)] = "",
    schema: Annotated[str, Query(max_length=40)] = "Person",
    dob: Annotated[str, Query(max_length=40)] = "",
    country: Annotated[str, Query(max_length=100)] = "",
    compare: Annotated[list[str] | None, Query(max_length=10)] = None,
    decided: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    from detente.vetting.match import SCHEMAS, THRESHOLD

    with opened(request) as (reg, page):
        form = {"name": name, "schema": schema, "dob": dob, "country": country}
        result: dict[str, Any] = {}
        error = None
        if name.strip():
            try:
                result = _screen(request, name, schema, dob, country)
            except ValidationError as exc:
                error = str(exc)
        chosen = [m for m in result.get("matches", []) if m.listed.key in set(compare or [])]
        decisions = page.mark_all(reg.list("vetting_decisions", ListQuery(limit=200)))
        return page.render(
            "vetting.html", **_decision_form(reg), decided=decided, decide_error=None, decide_values={},
            form=form, schemas=SCHEMAS, threshold=THRESHOLD, error=error,
            subject=result.get("subject"), matches=result.get("matches", []), chosen=chosen,
            versions=result["screener"].versions if result else {},
            listed=len(result["screener"].listed) if result else 0, decisions=decisions,
        )  # fmt: skip


def _decision_form(reg: Any) -> dict[str, Any]:
    """What the decision form offers: the actors that need vetting, outcomes, checklist."""
    from detente.registry.taxonomy import taxonomy
    from detente.vetting.guard import needs_vetting

    actors = [a for a in reg.list("actors", ListQuery(limit=None, order_by="name")) if needs_vetting(a.kind)]
    cycle = taxonomy().lifecycles["vetting"]
    return {"vet_actors": actors, "outcomes": cycle.start, "checklist": taxonomy().vetting_checklist}


@router.post("/vetting/decide", response_model=None)
async def vetting_decide(request: Request) -> Response:
    """Record a decision about an actor, with the screening made now."""
    from detente.relations.service import open_lake
    from detente.vetting.decisions import decide
    from detente.vetting.screen import Screener

    form = await request.form()
    values = {
        k: str(form.get(k, "")).strip()
        for k in ("actor", "outcome", "conditions", "valid_until", "marking", "officer")
    }
    checklist = [f"{k[6:]}={v}" for k, v in form.items() if k.startswith("check_") and str(v).strip()]
    try:
        with open_lake(request.app.state.workspace.path) as lake:
            screener = Screener.cached(lake)
        with opened(request, write=True, csrf=str(form.get("csrf_token", ""))) as (reg, _page):
            record = decide(
                reg, screener, actor=values["actor"] or None, outcome=values["outcome"], checklist=checklist,
                conditions=values["conditions"] or None, valid_until=values["valid_until"] or None,
                officer=values["officer"] or None, marking=values["marking"] or "UNCLASSIFIED",
            )  # fmt: skip
    except (ValidationError, NotFoundError) as exc:
        with opened(request) as (reg, page):
            decisions = page.mark_all(reg.list("vetting_decisions", ListQuery(limit=200)))
            return page.render(
                "vetting.html", status_code=422, **_decision_form(reg), decided=None,
                decide_error=exc.message, decide_values=values,
                form={"name": "", "schema": "Person", "dob": "", "country": ""},
                schemas=(), threshold=0.7, error=None, subject=None, matches=[], chosen=[], versions={},
                listed=0, decisions=decisions,
            )  # fmt: skip
    return RedirectResponse(f"/vetting?decided={record.id}#decisions", status_code=303)
