"""The world map's shapes: Natural Earth countries with ISO codes, offline."""

from __future__ import annotations

from types import SimpleNamespace

from detente.web.worldmap import engagements_map, world


def test_natural_earth_countries_have_iso_codes_even_where_the_file_says_minus_99() -> None:
    features = world()
    assert len(features) == 177
    codes = {f["properties"]["iso3"] for f in features}
    assert {"FRA", "NOR", "KEN", "GBR", "USA", "XKX"} <= codes and "-99" not in codes
    france = next(f for f in features if f["properties"]["iso3"] == "FRA")
    assert france["geometry"]["type"] == "MultiPolygon"  # metropolitan France and French Guiana


def test_the_map_counts_each_country_once_per_engagement_and_only_visible_actors() -> None:
    talks = SimpleNamespace(lead_actor_id="gbr", partners=["fra", "fra-mod", "hidden"])
    visit = SimpleNamespace(lead_actor_id="fra", partners=[])
    chart = engagements_map([talks, visit], {"gbr": "GBR", "fra": "FRA", "fra-mod": "FRA"}, "t")
    assert {r["country"]: r["engagements"] for r in chart.rows} == {"FRA": 2, "GBR": 1}
    assert chart.svg.startswith("<svg") and "path" in chart.svg
