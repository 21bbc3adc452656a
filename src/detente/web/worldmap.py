"""A world map of engagements by country, from Natural Earth shapes.

The shapes are Natural Earth's 1:110m admin-0 countries (public domain) as shipped
inside the ``pyogrio`` wheel (its ``naturalearth_lowres`` dataset), read with pyogrio
and turned into GeoJSON with shapely, so the map needs no download and no internet.
Old Natural Earth releases code France, Norway and Kosovo as ``-99``: those are
resolved by name through detente's country crosswalk.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from detente.core.errors import ValidationError
from detente.web.charts import Chart, render_svg

__all__ = ["engagements_map", "value_map", "world"]


def _source() -> Path:
    import pyogrio

    return (
        Path(pyogrio.__file__).parent
        / "tests"
        / "fixtures"
        / "naturalearth_lowres"
        / "naturalearth_lowres.shp"
    )


@cache
def world() -> tuple[dict[str, Any], ...]:
    """Natural Earth 1:110m countries as GeoJSON features with ``iso3`` and ``name``."""
    import pyogrio.raw
    import shapely

    from detente.core.countries import resolve

    meta, _ids, geometries, fields = pyogrio.raw.read(_source())
    columns = {name: values for name, values in zip(meta["fields"], fields, strict=True)}
    features = []
    for wkb, name, iso3 in zip(geometries, columns["name"], columns["iso_a3"], strict=True):
        code = str(iso3)
        if code == "-99":
            try:
                code = resolve(str(name)).iso3 or ""
            except ValidationError:
                code = ""  # N. Cyprus, Somaliland: no ISO code
        shape = shapely.from_wkb(wkb)
        features.append(
            {
                "type": "Feature",
                "properties": {"iso3": code, "name": str(name)},
                "geometry": shapely.geometry.mapping(shape),
            }
        )
    return tuple(features)


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
