"""Partner relations as the interfaces ask for them: one call per question, each answer
carrying the marking of the registry records it used (open data is unclassified).

The registry side is read through a ``Registry`` bound to the requesting principal, so
a record that principal may not read adds nothing to any figure here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from detente.core.errors import ValidationError
from detente.core.markings import derived_marking
from detente.relations import alignment as align
from detente.relations import index as idx
from detente.relations import network as net
from detente.sources.lake import Lake

__all__ = ["Answer", "dyad_alignment", "dyad_index", "network", "open_lake", "partner"]

OPEN = "UNCLASSIFIED//TLP:CLEAR"
_lake_lock = threading.Lock()


@contextmanager
def open_lake(folder: Path) -> Iterator[Lake]:
    """The workspace's lake for one request of a server: opened and closed around it (so a
    `detente sources load` is not locked out between requests), one request at a time."""
    with _lake_lock, Lake(folder) as lake:
        yield lake


@dataclass
class Answer:
    data: dict[str, Any]
    records: list[Any] = field(default_factory=list)  # registry records it used

    def marking(self, coalitions: dict[str, set[str]] | None = None) -> str:
        return derived_marking(self.records, coalitions).render()


def _iso3(code: str, what: str = "country") -> str:
    code = (code or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValidationError(f"{what} {code!r}: give an ISO 3166 alpha-3 code, e.g. USA", field=what)
    return code


def _activity(reg: Any, first: date, last: date, country: str | None) -> idx.RegistryActivity | None:
    return idx.registry_activity(reg, first, last, country) if reg is not None else None


def dyad_index(lake: Lake, a: str, b: str, first: date, last: date, reg: Any = None) -> Answer:
    """The cooperation index of the pair per month, with its parts and why it moved."""
    a, b = _iso3(a, "a"), _iso3(b, "b")
    if a == b:
        raise ValidationError("a pair needs two different countries", field="b")
    activity = _activity(reg, first, last, a)
    rows = idx.dyad_months(lake, first, last, country=a, partner=b, registry=activity).to_pylist()
    moves = [
        idx.explain(rows[: i + 1])
        for i in range(1, len(rows))
        if rows[i]["coop_index"] != rows[i - 1]["coop_index"]
    ]
    return Answer(
        {"a": a, "b": b, "months": rows, "moves": moves[-12:], "formula": idx.__doc__},
        activity.records if activity else [],
    )


def dyad_alignment(lake: Lake, a: str, b: str, first: int | None = None, last: int | None = None) -> Answer:
    a, b = _iso3(a, "a"), _iso3(b, "b")
    rows = align.alignment(lake, a, first, last, partner=b)
    flags = align.flags_for(rows)
    return Answer(
        {
            "a": a,
            "b": b,
            "years": rows,
            "trend_agreement_per_decade": align.trend([(r["year"], r["vote_agreement"]) for r in rows]),
            "trend_distance_per_decade": align.trend([(r["year"], r["ideal_distance"]) for r in rows]),
            "flags": [f.text for f in flags],
        }
    )


def network(
    lake: Lake,
    year: int,
    *,
    layers: tuple[str, ...] = net.LAYERS,
    threshold: float = net.INDEX_THRESHOLD,
    reg: Any = None,
    layout: bool = False,
) -> Answer:
    activity = _activity(reg, date(year, 1, 1), date(year, 12, 31), None) if "registry" in layers else None
    graph = net.build(lake, year, layers=layers, threshold=threshold, registry=activity)
    data: dict[str, Any] = {
        "year": year,
        "layers": list(graph.layers),
        "missing": graph.missing,
        "nodes": [{"id": n, **d} for n, d in graph.nodes.items()],
        "edges": [{"a": a, "b": b, "weight": len(ls), "layers": ls} for (a, b), ls in graph.edges.items()],
    }
    if layout:
        import networkx as nx

        pos = nx.spring_layout(graph.graph(), weight="weight", seed=7, k=0.3, iterations=60)
        data["positions"] = {n: (float(x), float(y)) for n, (x, y) in pos.items()}
    return Answer(data, activity.records if activity else [])


def partner(lake: Lake, country: str, year: int, *, reg: Any = None, top: int = 20) -> Answer:
    """One country in ``year``: its place in the network, its partners ranked with what
    changed, alignment flags of the last decade and the strongest cooperation indices."""
    country = _iso3(country)
    activity = _activity(reg, date(year - 1, 1, 1), date(year, 12, 31), country)
    ranking, now, before = net.partners(lake, country, year, registry=activity)
    out: dict[str, Any] = {
        "country": country,
        "year": year,
        "node": now.nodes[country],
        "layers": list(now.layers),
        "missing": now.missing,
        "partners": ranking,
        "previous_year": before.year if before else None,
    }
    if lake.has("unga_votes") or lake.has("unga_ideal"):
        rows = align.alignment(lake, country, year - 15, year)
        out["flags"] = [f.text for f in align.flags_for(rows) if f.year >= year - 10]
        latest: dict[str, dict[str, Any]] = {}
        for r in rows:
            if r["year"] <= year and (r["vote_agreement"] is not None or r["ideal_distance"] is not None):
                latest[r["partner"]] = r
        out["alignment"] = sorted(
            latest.values(), key=lambda r: (r["ideal_distance"] is None, r["ideal_distance"] or 0)
        )
    else:
        out["flags"], out["alignment"] = [], []
    if lake.has("events") or activity:
        months = idx.dyad_months(
            lake, date(year, 1, 1), date(year, 12, 31), country=country, registry=activity
        )
        last = [r for r in months.to_pylist() if r["month"] == 12]
        out["index"] = sorted(last, key=lambda r: -r["coop_index"])[:top]
    else:
        out["index"] = []
    return Answer(out, activity.records if activity else [])
