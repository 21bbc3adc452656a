"""World maps (choropleths by country) rendered with Vega-Lite, from the Natural Earth
shapes of ``detente.core.geography``, so the maps need no download and no internet.

A country without a value is drawn apart from low values: in grey, under a legend entry
of its own ("no data", or "none recorded" for counts of the viewer's records), while the
colour scale of the values starts at a tint that no grey can be taken for."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from detente.charts import NO_DATA, NO_DATA_FILL, Chart, render_svg
from detente.core.geography import world

__all__ = ["NONE_RECORDED", "engagements_map", "value_map", "world"]

NONE_RECORDED = "none recorded"
WIDTH, HEIGHT = 720, 360


def _map(features: list[dict[str, Any]], field: str, color: dict[str, Any], label: str,
         tooltip: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """Two layers: the countries without a value (grey, their own legend entry ``label``),
    then those with one (``color``)."""
    shape = {"type": "geoshape", "stroke": "#ffffff", "strokeWidth": 0.4}
    empty = [f for f in features if f["properties"][field] is None]
    valued = [f for f in features if f["properties"][field] is not None]
    name = {"field": "properties.name", "title": "country"}
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "projection": {"type": "equalEarth"},
        "layer": [
            {
                "data": {"values": empty, "format": {"type": "json"}},
                "mark": shape,
                "encoding": {
                    "fill": {
                        "datum": label,
                        "type": "nominal",
                        "scale": {"domain": [label], "range": [NO_DATA_FILL]},
                        "legend": {"title": None, "symbolType": "square"},
                    },
                    "tooltip": [name, {"datum": label, "title": tooltip["title"]}],
                },
            },
            {
                "data": {"values": valued, "format": {"type": "json"}},
                "mark": shape,
                "encoding": {"color": color, "tooltip": [name, tooltip]},
            },
        ],
        "resolve": {"scale": {"fill": "independent", "color": "independent"}},
    }


def engagements_map(records: Iterable[Any], countries: Mapping[str, str | None], title: str) -> Chart:
    """Engagements per country: each engagement counts once for every country among its
    lead and partners (``countries`` maps the actor ids the viewer may see to theirs). A
    country with none is grey, "none recorded", not the palest shade of the scale."""
    counts: Counter[str] = Counter()
    for e in records:
        involved = {countries.get(a) for a in [e.lead_actor_id, *(getattr(e, "partners", []) or [])]}
        counts.update(c for c in involved if c)
    features = [
        {**f, "properties": {**f["properties"], "engagements": counts.get(f["properties"]["iso3"])}}
        for f in world()
    ]
    color = {
        "field": "properties.engagements",
        "type": "quantitative",
        "title": "engagements",
        "scale": {"scheme": {"name": "blues", "extent": [0.3, 1]}, "domainMin": 1},
        "legend": {"format": "d", "tickMinStep": 1},
    }
    tooltip = {"field": "properties.engagements", "title": "engagements"}
    spec = _map(features, "engagements", color, NONE_RECORDED, tooltip)
    rows = [{"country": c, "engagements": n} for c, n in counts.most_common()]
    return Chart(title=title, svg=render_svg(spec), rows=rows, columns=("country", "engagements"), spec=spec)


def value_map(values: Mapping[str, float], field: str, title: str, *, scheme: str = "reds") -> Chart:
    """A choropleth of one value per country (ISO3), 0 to 1; a country without a value is
    grey under a "no data" legend entry (0 is the scale's lightest tint, not grey)."""
    features = [
        {**f, "properties": {**f["properties"], field: values.get(f["properties"]["iso3"])}} for f in world()
    ]
    color = {
        "field": f"properties.{field}",
        "type": "quantitative",
        "title": field,
        "scale": {"scheme": {"name": scheme, "extent": [0.12, 1]}, "domain": [0, 1]},
    }
    tooltip = {"field": f"properties.{field}", "title": field, "format": ".2f"}
    spec = _map(features, field, color, NO_DATA, tooltip)
    rows = [{"country": c, field: round(v, 3)} for c, v in sorted(values.items(), key=lambda kv: -kv[1])]
    return Chart(title=title, svg=render_svg(spec), rows=rows, columns=("country", field), spec=spec)
