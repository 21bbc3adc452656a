"""Country shapes and neighbours, from Natural Earth.

The shapes are Natural Earth's 1:110m admin-0 countries (public domain) as shipped
inside the ``pyogrio`` wheel (its ``naturalearth_lowres`` dataset), read with pyogrio
and turned into GeoJSON with shapely: no download, no internet. Old Natural Earth
releases code France, Norway and Kosovo as ``-99``: those are resolved by name through
detente's country crosswalk. Neighbours are the countries whose shapes come within half
a degree (about 50 km) of each other, so land borders count and narrow straits do too
(the United Kingdom and France); the 1:110m shapes leave out the smallest states, which
have no neighbours here.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from detente.core.errors import ValidationError

__all__ = ["neighbours", "world"]

NEAR = 0.5  # degrees


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


@cache
def neighbours() -> dict[str, tuple[str, ...]]:
    """ISO3 -> the ISO3 codes of the countries within ``NEAR`` degrees, sorted."""
    import shapely

    shapes = {f["properties"]["iso3"]: shapely.geometry.shape(f["geometry"]) for f in world()}
    shapes.pop("", None)
    keys = list(shapes)
    tree = shapely.STRtree([shapes[k] for k in keys])
    out = {}
    for key in keys:
        found = tree.query(shapes[key].buffer(NEAR), predicate="intersects")
        out[key] = tuple(sorted(keys[i] for i in found if keys[i] != key))
    return out
