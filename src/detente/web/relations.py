"""Relations pages: the defense-cooperation network, the dyad comparison, and the relations
section of a partner's page.

Every figure comes from the context lake and from the registry records the viewer may
read (through ``relations.service``); a figure that used registry records carries their
combined marking, and the page's banner includes it.
"""

from __future__ import annotations

import math
from datetime import date
from html import escape
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from detente.charts import Chart, line_chart
from detente.core.errors import ValidationError
from detente.relations import alignment as align
from detente.relations import index as idx
from detente.relations import network as net
from detente.relations import service
from detente.store.fields import Line
from detente.web.auth import opened

__all__ = ["partner_section", "router"]

router = APIRouter(include_in_schema=False)
P5 = ("USA", "RUS", "CHN", "GBR", "FRA")
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22")
WIDTH, HEIGHT, PAD = 900, 620, 24


def lake_folder(request: Request) -> Path | None:
    """The workspace folder when it has a lake (pages never create one by looking)."""
    folder: Path = request.app.state.workspace.path
    return folder if (folder / "lake.duckdb").exists() else None


def _default_year(lake: Any) -> int:
    """The latest year both the state system and the alliance data cover (2010 otherwise)."""
    years = [p.last_year for p in (lake.current("cow_states"), lake.current("atop")) if p and p.last_year]
    return min(years) if years else 2010


def _events_year(lake: Any) -> int | None:
    return idx.latest_events_year(lake)  # the relations slice owns the lake's SQL


def network_svg(data: dict[str, Any], focus: str | None, year: int) -> str:
    """The network as an SVG: states placed by a seeded spring layout, coloured by community,
    sized by strength; each state links to its focus view, with its measures as a tooltip."""
    pos = data.get("positions") or {}
    nodes = {n["id"]: n for n in data["nodes"] if n["degree"] > 0 and n["id"] in pos}
    if not nodes:
        return ""
    xs = [pos[n][0] for n in nodes]
    ys = [pos[n][1] for n in nodes]
    lo_x, hi_x, lo_y, hi_y = min(xs), max(xs), min(ys), max(ys)

    def at(n: str) -> tuple[float, float]:
        x, y = pos[n]
        return (
            PAD + (x - lo_x) / ((hi_x - lo_x) or 1) * (WIDTH - 2 * PAD),
            PAD + (y - lo_y) / ((hi_y - lo_y) or 1) * (HEIGHT - 2 * PAD),
        )

    strongest = sorted(nodes, key=lambda n: -nodes[n]["strength"])[:30]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="network" '
        f'data-focus="{escape(focus or "")}">'
    ]
    out.append('<g class="edges">')
    for e in data["edges"]:
        if e["a"] not in nodes or e["b"] not in nodes:
            continue
        (x1, y1), (x2, y2) = at(e["a"]), at(e["b"])
        cls = "edge focus" if focus in (e["a"], e["b"]) else "edge"
        out.append(
            f'<line class="{cls}" data-a="{e["a"]}" data-b="{e["b"]}" x1="{x1:.1f}" y1="{y1:.1f}" '
            f'x2="{x2:.1f}" y2="{y2:.1f}" stroke-width="{0.4 + 0.6 * e["weight"]:.1f}">'
            f"<title>{e['a']}-{e['b']}: {', '.join(e['layers'])}</title></line>"
        )
    out.append('</g><g class="nodes">')
    for n, d in sorted(nodes.items(), key=lambda kv: kv[1]["strength"]):
        x, y = at(n)
        colour = PALETTE[(d["community"] - 1) % len(PALETTE)] if d["community"] else "#999999"
        radius = 2.5 + 0.8 * math.sqrt(d["strength"])
        tip = (
            f"{n}: {d['degree']} partners, strength {d['strength']}, hub {d['eigenvector']:.3f}, "
            f"broker {d['betweenness']:.3f}, community {d['community'] or '-'}"
        )
        cls = "node focus" if n == focus else "node"
        out.append(
            f'<a href="/relations?year={year}&amp;focus={n}" aria-label="{escape(tip)}">'
            f'<g class="{cls}" data-id="{n}">'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="{colour}">'
            f"<title>{escape(tip)}</title></circle>"
        )
        if n in strongest or n == focus:
            out.append(f'<text x="{x + radius + 2:.1f}" y="{y + 4:.1f}">{n}</text>')
        out.append("</g></a>")
    out.append("</g></svg>")
    return "".join(out)


@router.get("/relations", response_class=HTMLResponse)
def network_page(
    request: Request,
    year: Annotated[int | None, Query(ge=1816, le=2100)] = None,
    layer: Annotated[list[Line] | None, Query(max_length=5)] = None,
    threshold: Annotated[float, Query(ge=0, le=100)] = net.INDEX_THRESHOLD,
    focus: Annotated[Line | None, Query(max_length=3)] = None,
) -> HTMLResponse:
    folder = lake_folder(request)
    with opened(request) as (reg, page):
        if folder is None:
            return page.render("relations_network.html", empty=True, layers_all=net.LAYERS)
        with service.open_lake(folder) as lake:
            if not lake.has("cow_states"):
                return page.render("relations_network.html", empty=True, layers_all=net.LAYERS)
            year = year or _default_year(lake)
            layers = tuple(layer or net.LAYERS)
            answer = service.network(lake, year, layers=layers, threshold=threshold, reg=reg, layout=True)
            focus_code = (focus or "").upper() or None
            ranking = None
            if focus_code:
                if focus_code not in {n["id"] for n in answer.data["nodes"]}:
                    raise ValidationError(
                        f"{focus_code} is not a state of the COW system in {year}", field="focus"
                    )
                ranking = service.partner(lake, focus_code, year, reg=reg)
        marking = page.derived(answer.records) if answer.records else None
        if ranking is not None and ranking.records:
            page.derived(ranking.records)
        data = answer.data
        by = sorted(data["nodes"], key=lambda n: -n["betweenness"])
        hubs = sorted(data["nodes"], key=lambda n: -n["eigenvector"])
        communities: dict[int, list[str]] = {}
        for n in data["nodes"]:
            if n["community"]:
                communities.setdefault(n["community"], []).append(n["id"])
        return page.render(
            "relations_network.html",
            empty=False,
            year=year,
            layers=layers,
            layers_all=net.LAYERS,
            threshold=threshold,
            data=data,
            svg=network_svg(data, focus_code, year),
            marking=marking,
            brokers=by[:15],
            hubs=hubs[:15],
            communities=sorted(communities.items())[:12],
            focus=focus_code,
            ranking=ranking.data if ranking else None,
        )


def _pair_rows(lake: Any, reg: Any, a: str, others: list[str], year: int | None) -> dict[str, Any]:
    first, last = (
        (date(year, 1, 1), date(year, 12, 31)) if year else (date.today().replace(day=1), date.today())
    )
    index_rows, align_rows, flags, records = [], [], [], []
    for b in others:
        pair = f"{a}-{b}"
        answer = service.dyad_index(lake, a, b, first, last, reg)
        records += answer.records
        index_rows += [
            {"pair": pair, "month": f"{r['year']}-{r['month']:02d}", "coop_index": r["coop_index"]}
            for r in answer.data["months"]
        ]
        if lake.has("unga_votes") or lake.has("unga_ideal"):
            rows = align.alignment(lake, a, None, None, partner=b)
            align_rows += [{"pair": pair, **r} for r in rows]
            flags += [f.text for f in align.flags_for(rows)]
    return {"index": index_rows, "alignment": align_rows, "flags": flags, "records": records}


@router.get("/relations/dyads", response_class=HTMLResponse)
def dyad_page(
    request: Request,
    a: Annotated[Line | None, Query(max_length=3)] = None,
    b: Annotated[Line | None, Query(max_length=3)] = None,
    c: Annotated[Line | None, Query(max_length=3)] = None,
    year: Annotated[int | None, Query(ge=1816, le=2100)] = None,
) -> HTMLResponse:
    """Compare the relations of A with B and with C: ties, cooperation index, alignment."""
    folder = lake_folder(request)
    with opened(request) as (reg, page):
        first, second, third = (a or "").upper(), (b or "").upper(), (c or "").upper()
        form: dict[str, Any] = {"a": first, "b": second, "c": third, "year": year}
        if folder is None or not first or not (second or third):
            return page.render("relations_dyads.html", form=form, result=None, empty=folder is None)
        others = [x for x in (second, third) if x]
        with service.open_lake(folder) as lake:
            index_year = year or _events_year(lake)
            result = _pair_rows(lake, reg, first, others, index_year)
            ties = {}
            tie_year = year or _default_year(lake)
            if lake.has("cow_states"):
                graph = service.network(lake, tie_year, reg=reg)
                result["records"] += graph.records
                edges = {(e["a"], e["b"]): e["layers"] for e in graph.data["edges"]}
                ties = {x: edges.get((min(form["a"], x), max(form["a"], x)), []) for x in others}
        marking = page.derived(result["records"]) if result["records"] else None
        index_chart = line_chart(
            result["index"], x="month", y="coop_index", series="pair",
            title=f"Military cooperation index per month, {index_year or 'last months'} (0-100)",
        )  # fmt: skip
        agreement = line_chart(
            result["alignment"], x="year", y="vote_agreement", series="pair", x_type="quantitative",
            title="UN General Assembly vote agreement",
        )  # fmt: skip
        distance = line_chart(
            result["alignment"], x="year", y="ideal_distance", series="pair", x_type="quantitative",
            title="UN ideal-point distance (0 = the same position)",
        )  # fmt: skip
        return page.render(
            "relations_dyads.html",
            form=form,
            empty=False,
            result=result,
            ties=ties,
            tie_year=tie_year,
            index_chart=index_chart,
            agreement=agreement,
            distance=distance,
            marking=marking,
        )


def partner_section(request: Request, reg: Any, page: Any, iso3: str) -> dict[str, Any] | None:
    """The relations section of a state's partner page: its strongest cooperation indices
    per month and its UN alignment with the permanent five, with change flags."""
    folder = lake_folder(request)
    if folder is None:
        return None
    with service.open_lake(folder) as lake:
        year = _events_year(lake)
        first, last = (
            (date(year, 1, 1), date(year, 12, 31))
            if year
            else (date(date.today().year - 1, 1, 1), date.today())
        )
        activity = idx.registry_activity(reg, first, last, iso3)
        months = idx.dyad_months(lake, first, last, country=iso3, registry=activity).to_pylist()
        peak: dict[tuple[str, str], float] = {}
        for r in months:
            pair = (r["iso3_1"], r["iso3_2"])
            peak[pair] = max(peak.get(pair, 0.0), r["coop_index"])
        top = sorted(peak, key=lambda p: -peak[p])[:5]
        index_rows = [
            {
                "pair": f"{r['iso3_1']}-{r['iso3_2']}",
                "month": f"{r['year']}-{r['month']:02d}",
                "coop_index": r["coop_index"],
            }
            for r in months
            if (r["iso3_1"], r["iso3_2"]) in top
        ]
        align_rows: list[dict[str, Any]] = []
        flags: list[str] = []
        if lake.has("unga_votes") or lake.has("unga_ideal"):
            rows = align.alignment(lake, iso3, date.today().year - 35)
            align_rows = [{"pair": f"{iso3}-{r['partner']}", **r} for r in rows if r["partner"] in P5]
            newest = max((r["year"] for r in rows), default=0)
            flags = [f.text for f in align.flags_for(rows) if f.year >= newest - 10][:12]
    marking = page.derived(activity.records) if activity.records else None
    index_chart: Chart = line_chart(
        index_rows, x="month", y="coop_index", series="pair",
        title=f"Military cooperation index with the five strongest partners, {year or 'last months'} (0-100)",
    )  # fmt: skip
    distance = line_chart(
        align_rows, x="year", y="ideal_distance", series="pair", x_type="quantitative",
        title="UN ideal-point distance to the permanent members of the Security Council",
    )  # fmt: skip
    return {"index": index_chart, "marking": marking, "distance": distance, "flags": flags, "iso3": iso3}
