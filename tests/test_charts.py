"""Charts checked by their Vega-Lite specifications and the SVG they render to: months and
years on temporal axes (a year reads "1992", never "1,992"), and what has no data drawn
and labelled apart from low values (grey, under a "no data" legend entry of its own)."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace
from typing import Any

from detente.charts import NO_DATA, engagements_by_month, fan_chart, line_chart
from detente.web.worldmap import NONE_RECORDED, engagements_map, value_map


def _labels(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def test_engagements_per_month_are_on_a_time_axis_with_whole_counts() -> None:
    records = [SimpleNamespace(start_date=date(2023, m, 3), status="planned") for m in (1, 1, 2, 11)]
    records.append(SimpleNamespace(start_date=date(2024, 2, 9), status="executed"))
    chart = engagements_by_month(records, "t")
    x = chart.spec["encoding"]["x"]
    assert (x["type"], x["timeUnit"], x["axis"]["format"]) == ("temporal", "utcyearmonth", "%b %Y")
    assert chart.spec["encoding"]["y"]["axis"]["format"] == "d"
    assert {v["t"] for v in chart.spec["data"]["values"]} == {"2023-01-01", "2023-02-01", "2023-11-01",
                                                             "2024-02-01"}  # fmt: skip
    assert chart.rows[0] == {"month": "2023-01", "status": "planned", "engagements": 2}  # the data table
    labels = _labels(chart.svg)
    assert "Jan 2023" in labels and not any(re.fullmatch(r"20\d\d-\d\d", t) for t in labels)
    assert not any(re.fullmatch(r"\d\.\d", t) for t in labels)  # no half engagements on the count axis


def test_a_year_axis_reads_1992_and_a_gap_is_shaded_as_no_data() -> None:
    rows = [
        {
            "pair": pair,
            "year": year,
            "vote_agreement": None if (pair, year) in {("A", 1995), ("A", 1996)} else 0.5,
        }
        for pair in ("A", "B")
        for year in range(1980, 2019)
    ]
    chart = line_chart(rows, x="year", y="vote_agreement", series="pair", title="t", x_type="quantitative")
    gap, line = chart.spec["layer"]
    x = line["encoding"]["x"]
    assert (x["type"], x["timeUnit"], x["axis"]["format"]) == ("temporal", "utcyear", "%Y")
    assert line["mark"]["invalid"] == "break-paths-show-domains"  # the line stops, it does not dip to 0
    assert {
        v["vote_agreement"] for v in line["data"]["values"] if v["year"] == 1995 and v["pair"] == "A"
    } == {None}
    # the no-data layer: one grey band per missing year, centred on it, with its own legend entry
    assert gap["mark"]["type"] == "rect" and gap["encoding"]["fill"]["datum"] == NO_DATA
    assert gap["encoding"]["fill"]["scale"]["range"] == ["#bdbdbd"]
    assert [(v["period"], v["without"], v["start"], v["end"]) for v in gap["data"]["values"]] == [
        ("1995", "A", "1994-07-02", "1995-07-02"),
        ("1996", "A", "1995-07-02", "1996-07-02"),
    ]
    labels = _labels(chart.svg)
    assert {"1980", "1990", "2000", "2010", NO_DATA} <= set(labels), labels
    assert not any("," in t for t in labels)  # no "1,992"
    assert len([t for t in labels if re.fullmatch(r"\d{4}", t)]) <= 11  # about ten ticks, not 39
    assert {r["year"] for r in chart.rows if r["pair"] == "A"} == set(range(1980, 2019)) - {1995, 1996}


def test_months_without_gaps_have_no_no_data_layer_and_other_axes_are_left_as_they_are() -> None:
    months = [{"pair": "GBR-FRA", "month": f"2010-{m:02d}", "coop_index": float(m)} for m in range(1, 13)]
    chart = line_chart(months, x="month", y="coop_index", series="pair", title="t")
    (line,) = chart.spec["layer"]
    assert (line["encoding"]["x"]["timeUnit"], line["encoding"]["x"]["axis"]["format"]) == (
        "utcyearmonth",
        "%b %Y",
    )
    assert "Mar 2010" in _labels(chart.svg) and NO_DATA not in _labels(chart.svg)
    counts = [{"s": "x", "troops": 1500 + i, "share": i / 10} for i in range(5)]
    plain = line_chart(counts, x="troops", y="share", series="s", title="t", x_type="quantitative")
    x = plain.spec["layer"][0]["encoding"]["x"]
    assert (x["type"], x["axis"]["format"]) == ("quantitative", "d")  # a number, not a time; no separators
    fan = fan_chart(
        [{"month": f"2024-{m:02d}", "q05": 0, "q25": 1, "q50": 2, "q75": 3, "q95": 4} for m in (1, 2, 3)], "t"
    )
    assert all(layer["encoding"]["x"]["type"] == "temporal" for layer in fan.spec["layer"])


def _layers(spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    empty, valued = spec["layer"]
    return empty, valued


def test_maps_draw_countries_without_data_in_grey_under_their_own_legend_entry() -> None:
    risk = value_map({"NGA": 0.0, "KEN": 0.05, "SDN": 0.9}, "risk", "t")
    empty, valued = _layers(risk.spec)
    assert empty["encoding"]["fill"]["datum"] == NO_DATA and empty["encoding"]["fill"]["scale"]["range"] == [
        "#bdbdbd"
    ]
    without = {f["properties"]["iso3"] for f in empty["data"]["values"]}
    valued_iso = {f["properties"]["iso3"] for f in valued["data"]["values"]}
    assert (
        valued_iso == {"NGA", "KEN", "SDN"} and "FRA" in without and not without & valued_iso
    )  # 0 is a value
    scale = valued["encoding"]["color"]["scale"]
    assert scale["domain"] == [0, 1] and scale["scheme"]["extent"][0] > 0  # the lightest tint is no grey
    assert NO_DATA in _labels(risk.svg)
    talks = SimpleNamespace(lead_actor_id="gbr", partners=["fra"])
    counts = engagements_map([talks], {"gbr": "GBR", "fra": "FRA"}, "t")
    empty, valued = _layers(counts.spec)
    assert empty["encoding"]["fill"]["datum"] == NONE_RECORDED
    assert {f["properties"]["iso3"] for f in valued["data"]["values"]} == {"GBR", "FRA"}
    assert valued["encoding"]["color"]["scale"]["domainMin"] == 1
    assert NONE_RECORDED in _labels(counts.svg)
