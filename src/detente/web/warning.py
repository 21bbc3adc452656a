"""The early-warning page: the latest saved forecast's risk map, the highest-risk countries
with their intervals, and alerts for the viewer's registry partners above a threshold the
viewer sets. The forecast is open data; the alerts name registry actors and carry their
markings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from detente.registry.service import ListQuery
from detente.web.auth import opened

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/warning", response_class=HTMLResponse)
def warning_page(request: Request, threshold: Annotated[float, Query(ge=0, le=1)] = 0.5) -> HTMLResponse:
    from detente.warning.forecast import latest, load_forecast, summary
    from detente.web.worldmap import value_map

    path = latest(request.app.state.workspace.path / "forecasts")
    with opened(request) as (reg, page):
        if path is None:
            return page.render("warning.html", forecast=None, threshold=threshold)
        fc = load_forecast(path)
        rows = summary(fc)
        risk = value_map(
            {r["iso3"]: r["p25"] for r in rows if r["iso3"]},
            "risk",
            f"Probability of a month with 25 or more battle deaths in the next three months "
            f"(data to {fc.meta['cutoff']})",
        )
        states = {
            a.country: a
            for a in reg.list("actors", ListQuery(filters={"kind": "state"}, limit=None))
            if a.country
        }
        alerts = [r for r in rows if r["iso3"] in states and r["p25"] >= threshold]
        page.mark_all(states[r["iso3"]] for r in alerts)
        return page.render(
            "warning.html",
            forecast=fc,
            meta=fc.meta,
            file=path.name,
            risk=risk,
            top=rows[:25],
            alerts=alerts,
            states=states,
            partners=len(states),
            threshold=threshold,
        )
