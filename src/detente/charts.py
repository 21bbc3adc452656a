"""Charts for the web app and the PDF report: Vega-Lite specifications rendered to SVG on the server.

vl-convert (a PyPI package that bundles Vega and Vega-Lite) renders them, so pages
need no JavaScript and no internet. A chart is computed from records the viewer may
read, and carries the combined marking of those records.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

__all__ = [
    "NO_DATA",
    "NO_DATA_FILL",
    "Chart",
    "engagements_by_month",
    "fan_chart",
    "instant",
    "line_chart",
    "no_data_layer",
    "render_svg",
    "time_axis",
    "time_unit",
]

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
STATUS_COLOURS = {
    "proposed": "#8c8c8c",
    "planned": "#1f77b4",
    "approved": "#2ca02c",
    "executed": "#9467bd",
    "assessed": "#17becf",
    "cancelled": "#d62728",
}
_lock = threading.Lock()


@dataclass(frozen=True)
class Chart:
    """A rendered chart, the data behind it (shown as a table for screen readers) and the
    Vega-Lite specification it was drawn from."""

    title: str
    svg: str
    rows: list[dict[str, Any]]
    columns: tuple[str, ...]
    spec: dict[str, Any] = field(default_factory=dict)


def render_svg(spec: dict[str, Any]) -> str:
    import vl_convert

    with _lock:  # one renderer at a time: the bundled JavaScript engine is not shared safely
        return str(vl_convert.vegalite_to_svg({"$schema": SCHEMA, **spec}))


# ------------------------------------------------------------- time axes
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def _is_year(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 1000 <= value <= 9999
    return isinstance(value, str) and value.isdigit() and len(value) == 4


def time_unit(values: Iterable[Any], name: str = "", declared: str = "") -> str | None:
    """Whether values make a time axis: "month" when every value is a month (YYYY-MM), "year"
    when every value is a year and the axis says so (its type or name), else None."""
    seen = [v for v in values if v is not None]
    if not seen:
        return None
    if declared == "month" or all(isinstance(v, str) and _MONTH.match(v) for v in seen):
        return "month" if all(isinstance(v, str) and _MONTH.match(v) for v in seen) else None
    if (declared == "year" or "year" in name.lower()) and all(_is_year(v) for v in seen):
        return "year"
    return None


def instant(value: Any, unit: str) -> str:
    """The ISO date a month ("2019-03") or a year (1992) is drawn at: its first day."""
    return f"{value}-01" if unit == "month" else f"{int(value):04d}-01-01"


_STEPS = {"month": (1, 2, 3, 6, 12, 24, 60, 120), "year": (1, 2, 5, 10, 20, 25, 50, 100)}


def _periods(values: Iterable[Any], unit: str) -> int:
    """How many months or years the values span, first to last."""
    if unit == "year":
        years = [int(v) for v in values]
        return max(years) - min(years) + 1 if years else 1
    months = [int(str(v)[:4]) * 12 + int(str(v)[5:7]) for v in values]
    return max(months) - min(months) + 1 if months else 1


def time_axis(unit: str, title: str, values: Iterable[Any] = (), field: str = "t") -> dict[str, Any]:
    """A temporal x encoding: months read "Mar 2019", years "1992" (never "1,992"), in UTC,
    with at most about ten ticks, each on a whole month or year (``values``: the axis's months
    or years, which set the step)."""
    periods = _periods(list(values), unit)
    step = next((s for s in _STEPS[unit] if periods / s <= 10), _STEPS[unit][-1])
    return {
        "field": field,
        "type": "temporal",
        "timeUnit": "utcyearmonth" if unit == "month" else "utcyear",
        "title": title,
        "axis": {
            "format": "%b %Y" if unit == "month" else "%Y",
            "tickCount": {"interval": "month" if unit == "month" else "year", "step": step},
            "labelAngle": 0,
            "labelFlush": False,
            "labelOverlap": True,
        },
    }


def _span(value: Any, unit: str) -> tuple[str, str]:
    """The band a missing month or year covers, centred on where its point would be drawn."""
    if unit == "year":
        y = int(value)
        return f"{y - 1:04d}-07-02", f"{y:04d}-07-02"
    y, m = (int(p) for p in str(value).split("-"))
    before = (y, m - 1) if m > 1 else (y - 1, 12)
    return f"{before[0]:04d}-{before[1]:02d}-16", f"{y:04d}-{m:02d}-16"


NO_DATA = "no data"
NO_DATA_FILL = "#bdbdbd"


def no_data_layer(missing: dict[Any, list[str]], unit: str, x_title: str) -> dict[str, Any]:
    """Grey bands over the periods where a series has no value, with a legend entry of their
    own ("no data"), so that a gap is never read as a low value."""
    values = []
    for x, series in sorted(missing.items(), key=lambda kv: str(kv[0])):
        start, end = _span(x, unit)
        values.append({"start": start, "end": end, "period": str(x), "without": ", ".join(series)})
    return {
        "data": {"values": values},
        "mark": {"type": "rect", "opacity": 0.45, "clip": True},
        "encoding": {
            "x": {"field": "start", "type": "temporal", "title": x_title},
            "x2": {"field": "end"},
            "fill": {
                "datum": NO_DATA,
                "type": "nominal",
                "scale": {"domain": [NO_DATA], "range": [NO_DATA_FILL]},
                "legend": {"title": None, "symbolType": "square", "symbolOpacity": 0.45},
            },
            "tooltip": [
                {"field": "period", "title": x_title},
                {"field": "without", "title": NO_DATA},
            ],
        },
    }


# ---------------------------------------------------------------- charts
def engagements_by_month(records: Iterable[Any], title: str) -> Chart:
    """Engagements per month, stacked by lifecycle status, on a time axis (a month without
    engagements is a true zero: no bar)."""
    counts: Counter[tuple[str, str]] = Counter()
    for e in records:
        start: date = e.start_date
        counts[(f"{start:%Y-%m}", e.status)] += 1
    rows = [{"month": m, "status": s, "engagements": n} for (m, s), n in sorted(counts.items())]
    statuses = [s for s in STATUS_COLOURS if any(r["status"] == s for r in rows)]
    spec = {
        "width": 640,
        "height": 220,
        "data": {"values": [{**r, "t": instant(r["month"], "month")} for r in rows]},
        "mark": {"type": "bar"},
        "encoding": {
            "x": time_axis("month", "month", (r["month"] for r in rows)),
            "y": {
                "field": "engagements",
                "type": "quantitative",
                "title": "engagements",
                "axis": {"format": "d", "tickMinStep": 1},  # whole engagements
            },
            "color": {
                "field": "status",
                "type": "nominal",
                "scale": {"domain": statuses, "range": [STATUS_COLOURS[s] for s in statuses]},
            },
            "tooltip": [
                {"field": "t", "type": "temporal", "timeUnit": "utcyearmonth", "title": "month",
                 "format": "%B %Y"},
                {"field": "status"},
                {"field": "engagements"},
            ],
        },
    }  # fmt: skip
    svg = render_svg(spec) if rows else ""
    return Chart(title=title, svg=svg, rows=rows, columns=("month", "status", "engagements"), spec=spec)


def line_chart(
    rows: list[dict[str, Any]], *, x: str, y: str, series: str, title: str, x_type: str = "ordinal"
) -> Chart:
    """One line per ``series`` value: ``y`` over ``x``. Months (YYYY-MM) and years (an axis
    called "year", or ``x_type="year"``) go on a time axis; a missing value breaks its line
    and its period is shaded grey with a "no data" legend entry, never drawn as a low value."""
    unit = time_unit((r.get(x) for r in rows), x, x_type)
    kept = [r for r in rows if r.get(y) is not None]
    x_title = x.replace("_", " ")
    if unit is None:
        x_enc: dict[str, Any] = {"field": x, "type": x_type, "title": x_title, "axis": {"labelAngle": -45}}
        if x_type == "quantitative":
            x_enc["axis"] = {"format": "d"}  # numbers without thousands separators
        values = rows
    else:
        x_enc = time_axis(unit, x_title, (r[x] for r in rows if r.get(x) is not None))
        values = [{**r, "t": instant(r[x], unit)} for r in rows if r.get(x) is not None]
    line = {
        "data": {"values": values},
        "mark": {"type": "line", "point": True, "invalid": "break-paths-show-domains"},
        "encoding": {
            "x": x_enc,
            "y": {"field": y, "type": "quantitative", "title": y.replace("_", " ")},
            "color": {"field": series, "type": "nominal", "title": series},
            "tooltip": [{"field": series}, {"field": x}, {"field": y, "format": ".2f"}],
        },
    }
    layers: list[dict[str, Any]] = [line]
    missing: dict[Any, list[str]] = {}
    for r in rows:
        if r.get(y) is None and r.get(x) is not None:
            missing.setdefault(r[x], []).append(str(r.get(series, "")))
    if unit is not None and missing and kept:
        layers.insert(0, no_data_layer(missing, unit, x_title))
    spec = {"width": 640, "height": 220, "layer": layers}
    if len(layers) > 1:
        spec["resolve"] = {"legend": {"fill": "independent", "color": "independent"}}
    svg = render_svg(spec) if kept else ""
    rounded = [{**r, y: round(r[y], 3)} for r in kept]  # the data table: the values there are
    return Chart(title=title, svg=svg, rows=rounded, columns=(series, x, y), spec=spec)


def fan_chart(rows: list[dict[str, Any]], title: str) -> Chart:
    """Forecast quantiles per month: the 90% and 50% bands and the median line. Each row:
    month, q05, q25, q50, q75, q95."""
    base = {"x": time_axis("month", "month", (r["month"] for r in rows))}
    values = [{**r, "t": instant(r["month"], "month")} for r in rows]
    spec = {
        "width": 640,
        "height": 220,
        "data": {"values": values},
        "layer": [
            {
                "mark": {"type": "area", "opacity": 0.25, "color": "#b3261e"},
                "encoding": {**base, "y": {"field": "q05", "type": "quantitative", "title": "battle deaths"},
                             "y2": {"field": "q95"}},
            },
            {
                "mark": {"type": "area", "opacity": 0.45, "color": "#b3261e"},
                "encoding": {**base, "y": {"field": "q25", "type": "quantitative"}, "y2": {"field": "q75"}},
            },
            {
                "mark": {"type": "line", "color": "#7a1a14", "point": True},
                "encoding": {**base, "y": {"field": "q50", "type": "quantitative"},
                             "tooltip": [{"field": f} for f in ("month", "q05", "q50", "q95")]},
            },
        ],
    }  # fmt: skip
    svg = render_svg(spec) if rows else ""
    return Chart(
        title=title, svg=svg, rows=rows, columns=("month", "q05", "q25", "q50", "q75", "q95"), spec=spec
    )
