"""The early-warning page: the latest saved forecast's risk map, the highest-risk countries
with their intervals, and alerts for the viewer's registry partners above a threshold the
viewer sets. The forecast is open data; the alerts name registry actors and carry their
markings."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from detente.store.service import ListQuery
from detente.web.auth import opened

__all__ = ["country_section", "router"]

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


def country_section(request: Request, iso3: str) -> dict[str, Any] | None:
    """A country's forecast from the latest saved forecast: the fan chart of monthly battle
    deaths (median, 50% and 90% bands), the risk, and what drives it: each model's share of
    the draws and what it draws from (the recency model's months and their weights, the
    regime model's state and how often conflicts in it stopped; the boosted model's feature
    contributions)."""
    from detente.charts import fan_chart
    from detente.warning.forecast import bands, latest, load_forecast, summary

    path = latest(request.app.state.workspace.path / "forecasts")
    if path is None:
        return None
    fc = load_forecast(path)
    if iso3 not in fc.iso3:
        return None
    i = fc.iso3.index(iso3)
    rows = bands(fc, i)  # the intervals detente shows: the levels learned out of sample
    risk = next(r for r in summary(fc) if r["iso3"] == iso3)
    chart = fan_chart(rows, f"Forecast battle deaths per month, {iso3} (data to {fc.meta['cutoff']})")
    boosted = fc.meta.get("drivers", {}).get(iso3)
    params = fc.meta.get("params", {})
    return {
        "chart": chart,
        "risk": risk,
        "model": fc.model,
        "choice": params.get("choice", ""),
        "why": _why(fc, int(fc.countries[i]), params),
        "contributions": _contributions(boosted) if boosted else None,
    }


def _recency_months(cutoff: int, lam: float, span: int) -> str:
    from detente.sources.views import month_of

    weights = lam ** np.arange(span)
    weights = weights / weights.sum()
    shown = ", ".join("{}-{:02d} {:.0f}%".format(*month_of(cutoff - j), 100 * weights[j]) for j in range(6))
    return f"{shown}, older months less (decay {lam:g})"


def _why(fc: Any, country: int, params: dict[str, Any]) -> list[str]:
    """One sentence per model whose draws make the forecast, with its share."""
    members = params.get("members", {fc.model: params})
    weights = params.get("weights", {fc.model: 1.0})
    out = []
    for name, share in weights.items():
        if not share:
            continue
        own = members.get(name, {})
        part = f"{share:.0%} of the draws: {name}"
        if name == "conflictology":
            out.append(f"{part}, this country's last twelve months as they were")
        elif name == "recency" and own.get("lambda"):
            months = _recency_months(fc.cutoff, float(own["lambda"]), int(own.get("span", 36)))
            out.append(f"{part}, this country's own last three years, recent months weighted most: {months}")
        elif name == "regime" and str(country) in own.get("states", {}):
            st = own["states"][str(country)]
            where = (
                "no deaths in the last twelve months"
                if st["level"] == "none"
                else f"{st['level']} deaths a month, {st['trend']}"
            )
            out.append(
                f"{part}, how country-months in the same state went on: this country has {where}; in "
                f"{st['cases']:,} similar country-months ({st['pool']}), {st['p_stop']:.0%} had no deaths "
                "a month later"
            )
        else:
            out.append(part)
    return out


def _contributions(entry: dict[str, Any]) -> dict[str, Any]:
    """The boosted model's drivers for display: each feature's value in its own unit and the
    factor by which it moves the expected deaths (exp of its contribution to log deaths)."""
    import math

    from detente.warning.features import LABELS

    rows = []
    for name, value, contribution in entry["features"]:
        if value is None:
            shown = "not loaded"
        elif "log_" in name:
            shown = f"{math.expm1(value):,.0f} deaths"
        elif name in ("arms_imports", "event_conflict"):
            shown = f"{math.expm1(value):,.0f}"
        elif name == "since_25":
            shown = "none in 10 years" if value >= 120 else f"{value:.0f} months"
        else:
            shown = f"{value:.2f}"
        rows.append({"label": LABELS.get(name, name), "value": shown, "factor": math.exp(contribution)})
    return {"level": entry["level"], "rows": rows}
