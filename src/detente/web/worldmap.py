"""World maps (choropleths by country) rendered with Vega-Lite, from the Natural Earth
shapes of ``detente.core.geography``, so the maps need no download and no internet."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from detente.charts import Chart, render_svg
from detente.core.geography import world

__all__ = ["engagements_map", "value_map", "world"]


def engagements_map(records: Iterable[Any], countries: Mapping[str, str | None], title: str) -> Chart:
    """Engagements per country: each engagement counts once for every country among its
    lead and partners (``countries`` maps the actor ids the viewer may see to theirs)."""
    counts: Counter[str] = Counter()
    for e in records:
        involved = {countries.get(a) for a in [e.lead_actor_id, *(getattr(e, "partners", []) or [])]}
        counts.update(c for c in involved if c)
    features = [
        {**f, "properties": {**f["properties"], "engagements": counts.get(f["properties"]["iso3"], 0)}}
        for f in world()
    ]
    spec = {
        "width": 720,
        "height": 360,
        "data": {"values": features, "format": {"type": "json"}},
        "projection": {"type": "equalEarth"},
        "mark": {"type": "geoshape", "stroke": "#ffffff", "strokeWidth": 0.4},
        "encoding": {
            "color": {
                "field": "properties.engagements",
                "type": "quantitative",
                "title": "engagements",
                "scale": {"scheme": "blues", "domainMin": 0},
            },
            "tooltip": [
                {"field": "properties.name", "title": "country"},
                {"field": "properties.engagements", "title": "engagements"},
            ],
        },
    }
    rows = [{"country": c, "engagements": n} for c, n in counts.most_common()]
    return Chart(title=title, svg=render_svg(spec), rows=rows, columns=("country", "engagements"))


def value_map(values: Mapping[str, float], field: str, title: str, *, scheme: str = "reds") -> Chart:
    """A choropleth of one value per country (ISO3); countries without a value stay grey."""
    features = [
        {**f, "properties": {**f["properties"], field: values.get(f["properties"]["iso3"])}} for f in world()
    ]
    spec = {
        "width": 720,
        "height": 360,
        "layer": [
            {
                "data": {"values": features, "format": {"type": "json"}},
                "projection": {"type": "equalEarth"},
                "mark": {
                    "type": "geoshape",
                    "stroke": "#ffffff",
                    "strokeWidth": 0.4,
                    "fill": "#dddddd",
                    "aria": False,
                },
            },
            {
                "data": {
                    "values": [f for f in features if f["properties"][field] is not None],
                    "format": {"type": "json"},
                },
                "projection": {"type": "equalEarth"},
                "mark": {"type": "geoshape", "stroke": "#ffffff", "strokeWidth": 0.4},
                "encoding": {
                    "color": {
                        "field": f"properties.{field}",
                        "type": "quantitative",
                        "title": field,
                        "scale": {"scheme": scheme, "domain": [0, 1]},
                    },
                    "tooltip": [
                        {"field": "properties.name", "title": "country"},
                        {"field": f"properties.{field}", "title": field, "format": ".2f"},
                    ],
                },
            },
        ],
    }
    rows = [{"country": c, field: round(v, 3)} for c, v in sorted(values.items(), key=lambda kv: -kv[1])]
    return Chart(title=title, svg=render_svg(spec), rows=rows, columns=("country", field))
