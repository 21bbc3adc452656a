"""The annual assessment report: every initiative the reader may see that ran in the
year, with its objectives and logic model, indicator status and charts, the engagements
that served it, evaluations and lessons; as HTML, and as PDF through WeasyPrint.

The banner (top and bottom of every page, in the PDF through ``@page`` margin boxes) is
the combination of the markings of everything the report shows or counted: the highest
classification, the common releasability, the strictest TLP. Each record carries its own
marking beside it. Charts are Vega-Lite rendered to SVG on the machine (vl-convert), so the
report needs no network.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from detente.assessment.metrics import Context
from detente.assessment.monitor import IndicatorReport, Reader, Scorecard
from detente.core.markings import Marking, derived_marking, parse
from detente.store.service import ListQuery

__all__ = ["Report", "annual_report", "indicator_chart", "to_pdf"]

STATUS_LABELS = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track", "no_data": "No data"}
OPEN = "UNCLASSIFIED//TLP:CLEAR"


def indicator_chart(report: IndicatorReport, width: int = 520, height: int = 160) -> str:
    """An indicator's values over time against its target trajectory, as SVG."""
    from detente.charts import render_svg

    i = report.indicator
    rows = [
        {"date": p.on.isoformat(), "value": p.value, "series": "computed" if p.computed else "observed"}
        for p in report.points
    ]
    spec = {
        "width": width,
        "height": height,
        "layer": [
            {
                "data": {"values": report.trajectory_rows()},
                "mark": {"type": "line", "strokeDash": [6, 4], "color": "#6b6b6b"},
                "encoding": {
                    "x": {"field": "date", "type": "temporal", "title": None},
                    "y": {"field": "value", "type": "quantitative", "title": i.unit},
                },
            },
            {
                "data": {"values": rows},
                "mark": {"type": "line", "point": True},
                "encoding": {
                    "x": {"field": "date", "type": "temporal"},
                    "y": {"field": "value", "type": "quantitative"},
                    "color": {
                        "field": "series",
                        "type": "nominal",
                        "title": None,
                        "scale": {"domain": ["observed", "computed"], "range": ["#1f4e9c", "#8a4b08"]},
                    },
                },
            },
        ],
    }
    return render_svg(spec)


@dataclass
class Report:
    year: int
    as_of: date
    html: str
    marking: str
    initiatives: int
    indicators: int


def _overlaps(initiative: Any, first: date, last: date) -> bool:
    start = initiative.start_date or date.min
    end = initiative.end_date or date.max
    return start <= last and end >= first


@cache
def _env() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("detente.assessment", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    env.filters["marking"] = parse
    env.filters["datauri"] = lambda svg: (
        "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    )
    return env


def annual_report(
    ctx: Context,
    year: int,
    *,
    organisation: str,
    coalitions: dict[str, set[str]] | None = None,
    today: date | None = None,
) -> Report:
    """The report for ``year`` as the reader behind ``ctx`` may see it. Status is as of the
    year's last day (or today, for the current year)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    as_of = min(today or date.today(), last)
    reader = Reader(ctx)
    cards: list[Scorecard] = [
        reader.scorecard(i, as_of)
        for i in ctx.reg.list("initiatives", ListQuery(limit=None, order_by="title"))
        if _overlaps(i, first, last)
    ]
    sections = []
    records: list[Any] = []
    for card in cards:
        within = lambda d: d is not None and first <= d <= last  # noqa: E731
        engagements = {e.id: e for o in card.objectives for e in o.engagements if within(e.start_date)}
        evaluations = [e for e in card.evaluations if within(e.conducted_on)]
        lessons = [x for x in card.lessons if within(x.identified_on)]
        charts = {r.indicator.id: indicator_chart(r) for r in card.indicators if r.points}
        sections.append(
            {"card": card, "engagements": sorted(engagements.values(), key=lambda e: e.start_date),
             "evaluations": evaluations, "lessons": lessons, "charts": charts}
        )  # fmt: skip
        records += [card.initiative, *engagements.values(), *evaluations, *lessons]
        for o in card.objectives:
            records += [o.objective, *o.agreements]
            for r in o.indicators:
                records += [r.indicator, *r.records]
    marking: Marking = derived_marking(records, coalitions)
    html = _env().get_template("report.html").render(
        year=year, as_of=as_of, organisation=organisation, sections=sections, banner=marking.render(),
        labels=STATUS_LABELS, reader=ctx.reg.principal,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )  # fmt: skip
    return Report(year, as_of, html, marking.render(), len(cards), sum(len(c.indicators) for c in cards))


def to_pdf(report: Report) -> bytes:
    """The report as PDF (WeasyPrint; needs Pango, which Debian's libpango provides)."""
    try:
        from weasyprint import HTML
    except OSError as exc:  # the Python package is there but the system's Pango is not
        from detente.core.errors import ConfigError

        raise ConfigError(
            f"PDF export needs the Pango library (apt-get install libpango-1.0-0 libpangoft2-1.0-0): {exc}"
        ) from None
    return bytes(HTML(string=report.html).write_pdf())
