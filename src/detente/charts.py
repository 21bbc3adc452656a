"""Charts for the web app and the PDF report: Vega-Lite specifications rendered to SVG on the server.

vl-convert (a PyPI package that bundles Vega and Vega-Lite) renders them, so pages
need no JavaScript and no internet. A chart is computed from records the viewer may
read, and carries the combined marking of those records.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

__all__ = ["Chart", "engagements_by_month", "fan_chart", "line_chart", "render_svg"]

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
    """A rendered chart and the data behind it (shown as a table for screen readers)."""

    title: str
    svg: str
    rows: list[dict[str, Any]]
    columns: tuple[str, ...]


def render_svg(spec: dict[str, Any]) -> str:
    import vl_convert

    with _lock:  # one renderer at a time: the bundled JavaScript engine is not shared safely
        return str(vl_convert.vegalite_to_svg({"$schema": SCHEMA, **spec}))


def engagements_by_month(records: Iterable[Any], title: str) -> Chart:
    """Engagements per month, stacked by lifecycle status."""
    counts: Counter[tuple[str, str]] = Counter()
    for e in records:
        start: date = e.start_date
        counts[(f"{start:%Y-%m}", e.status)] += 1
    rows = [{"month": m, "status": s, "engagements": n} for (m, s), n in sorted(counts.items())]
    statuses = [s for s in STATUS_COLOURS if any(r["status"] == s for r in rows)]
    spec = {
        "width": 640,
        "height": 220,
        "data": {"values": rows},
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": "month", "type": "ordinal", "title": "month", "axis": {"labelAngle": -45}},
            "y": {"field": "engagements", "type": "quantitative", "title": "engagements"},
            "color": {
                "field": "status",
                "type": "nominal",
                "scale": {"domain": statuses, "range": [STATUS_COLOURS[s] for s in statuses]},
            },
            "tooltip": [{"field": "month"}, {"field": "status"}, {"field": "engagements"}],
        },
    }
    svg = render_svg(spec) if rows else ""
    return Chart(title=title, svg=svg, rows=rows, columns=("month", "status", "engagements"))


def line_chart(
    rows: list[dict[str, Any]], *, x: str, y: str, series: str, title: str, x_type: str = "ordinal"
) -> Chart:
    """One line per ``series`` value: ``y`` over ``x`` (missing values leave gaps)."""
    kept = [r for r in rows if r.get(y) is not None]
    spec = {
        "width": 640,
        "height": 220,
        "data": {"values": kept},
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {"field": x, "type": x_type, "title": x, "axis": {"labelAngle": -45}},
            "y": {"field": y, "type": "quantitative", "title": y.replace("_", " ")},
            "color": {"field": series, "type": "nominal", "title": series},
            "tooltip": [{"field": series}, {"field": x}, {"field": y, "format": ".2f"}],
        },
    }
    svg = render_svg(spec) if kept else ""
    rounded = [{**r, y: round(r[y], 3)} for r in kept]
    return Chart(title=title, svg=svg, rows=rounded, columns=(series, x, y))


def fan_chart(rows: list[dict[str, Any]], title: str) -> Chart:
    """Forecast quantiles per month: the 90% and 50% bands and the median line. Each row:
    month, q05, q25, q50, q75, q95."""
    base = {"x": {"field": "month", "type": "ordinal", "title": "month", "axis": {"labelAngle": -45}}}
    spec = {
        "width": 640,
        "height": 220,
        "data": {"values": rows},
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
    return Chart(title=title, svg=svg, rows=rows, columns=("month", "q05", "q25", "q50", "q75", "q95"))
