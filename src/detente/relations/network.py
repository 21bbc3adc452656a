"""The defense-cooperation network of one year, and one country's partners in it.

Nodes are the states of the COW system that year (by ISO3; COW's abbreviation where a
state has none). An edge joins two states with at least one of these ties that year,
each a **layer**:

* ``alliance``: an ATOP obligation of any kind (defense, offense, neutrality,
  non-aggression, consultation);
* ``dca``: a defense cooperation agreement in force (DCAD);
* ``exercise``: at least one joint multinational exercise (MME);
* ``events``: the yearly military cooperation index (``relations.index``) at or above a
  threshold (default 5);
* ``registry``: engagements executed or agreements in force in the registry, as the
  requesting principal may see them.

The edge's weight is the number of its layers (1-5). Measures per node (networkx):
degree; strength (weighted degree); eigenvector centrality on the weights (hubs);
betweenness centrality with distance 1/weight (brokers: on the short paths between
others); and communities by Louvain modularity on the weights (seeded, so the same
data gives the same communities). A layer whose source is not loaded, or does not cover
the year, is listed in ``missing``: the network is drawn without it, never with it as 0.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from detente.core.errors import ValidationError
from detente.relations.index import RegistryActivity
from detente.relations.panel import dyad_years
from detente.sources.lake import Lake

__all__ = ["LAYERS", "Network", "build", "partners"]

LAYERS = ("alliance", "dca", "exercise", "events", "registry")
SOURCES = {"alliance": "atop", "dca": "dcad", "exercise": "exercises", "events": "events"}
INDEX_THRESHOLD = 5.0


@dataclass
class Network:
    year: int
    nodes: dict[str, dict[str, Any]]
    edges: dict[tuple[str, str], list[str]]  # (lo, hi) -> layers
    layers: tuple[str, ...]
    missing: dict[str, str] = field(default_factory=dict)  # layer -> why it is absent

    def weight(self, a: str, b: str) -> int:
        return len(self.edges.get((min(a, b), max(a, b)), []))

    def graph(self) -> Any:
        import networkx as nx

        g: Any = nx.Graph()
        g.add_nodes_from(self.nodes)
        for (a, b), layers in self.edges.items():
            g.add_edge(a, b, weight=len(layers), distance=1 / len(layers), layers=",".join(layers))
        return g


def _layer_columns(lake: Lake, year: int, wanted: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    additions, missing = [], {}
    for layer in wanted:
        if layer == "registry":
            continue
        source = SOURCES[layer]
        if not lake.has(source):
            missing[layer] = f"{source} is not loaded"
            continue
        if layer != "events":
            p = lake.current(source)
            if p is None or p.first_year is None or not (p.first_year <= year <= (p.last_year or year)):
                missing[layer] = f"{source} does not cover {year}"
                continue
        additions.append(source)
    return additions, missing


_CACHE: OrderedDict[tuple[Any, ...], Network] = OrderedDict()
CACHE_SIZE = 64


def _cache_key(lake: Lake, year: int, layers: tuple[str, ...], threshold: float) -> tuple[Any, ...]:
    """What an open-data network depends on: the lake file, the loaded versions of its
    sources (their file hashes), and the question."""
    from detente.sources.service import EVENT_SOURCES

    stamps = []
    for source in ("cow_states", "atop", "dcad", "exercises", *EVENT_SOURCES):
        p = lake.current(source)
        stamps.append((source, p.sha256 if p else None))
    return (str(lake.path), tuple(stamps), year, layers, threshold)


def build(
    lake: Lake,
    year: int,
    *,
    layers: tuple[str, ...] = LAYERS,
    threshold: float = INDEX_THRESHOLD,
    registry: RegistryActivity | None = None,
) -> Network:
    """The network of ``year`` with node measures (see the module docstring). Networks of
    open data alone (no registry records in the year) are kept in a small cache keyed by
    the sources' file hashes: betweenness on ~200 states takes a second or two."""
    open_only = registry is None or not any(r[2] // 12 == year for r in registry.rows)
    key = (*_cache_key(lake, year, layers, threshold), registry is None) if open_only else None
    if key is not None and key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    net = _build(lake, year, layers=layers, threshold=threshold, registry=registry)
    if key is not None:
        _CACHE[key] = net
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return net


def _build(
    lake: Lake,
    year: int,
    *,
    layers: tuple[str, ...],
    threshold: float,
    registry: RegistryActivity | None,
) -> Network:
    unknown = [x for x in layers if x not in LAYERS]
    if unknown:
        raise ValidationError(f"unknown layer {unknown[0]!r}; one of {', '.join(LAYERS)}", field="layers")
    additions, missing = _layer_columns(lake, year, layers)
    use_registry = "registry" in layers and registry is not None
    if "registry" in layers and registry is None:
        missing["registry"] = "no principal given"
    panel = dyad_years(
        lake,
        "cow",
        year,
        year,
        directed=False,
        additions=tuple(additions),
        registry=registry if use_registry else None,
    ).to_pylist()
    if "events" in additions and panel and panel[0].get("event_months") is None:
        missing["events"] = f"the loaded events do not cover {year}"
        additions.remove("events")
    names = {}
    edges: dict[tuple[str, str], list[str]] = {}
    for r in panel:
        a = r["iso3_1"] or f"COW{r['code1']}"
        b = r["iso3_2"] or f"COW{r['code2']}"
        names[a], names[b] = r["code1"], r["code2"]
        present = []
        if "atop" in additions and any(
            r[c] for c in ("atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul")
        ):
            present.append("alliance")
        if "dcad" in additions and r.get("dca_count"):
            present.append("dca")
        if "exercises" in additions and r.get("mme_joint_exercises"):
            present.append("exercise")
        if "events" in additions and (r.get("coop_index") or 0) >= threshold:
            present.append("events")
        if use_registry and (r.get("reg_engagements") or r.get("reg_agreements")):
            present.append("registry")
        if present:
            edges[(min(a, b), max(a, b))] = present
    if not names:  # a year with one state or none
        years = lake.db.execute(
            "SELECT min(year(start_date)), max(year(end_date)) FROM cow_states"
        ).fetchall()
        raise ValidationError(f"no dyads in {year}: the COW system covers {years[0][0]}-{years[0][1]}")
    net = Network(
        year,
        {n: {"cow": c} for n, c in sorted(names.items())},
        edges,
        tuple(x for x in layers if x not in missing),
        missing,
    )
    _measure(net)
    return net


def _measure(net: Network) -> None:
    import networkx as nx

    g = net.graph()
    strength = dict(g.degree(weight="weight"))
    betweenness = nx.betweenness_centrality(g, weight="distance", normalized=True)
    try:
        # power iteration: defined on disconnected graphs too (isolated states get 0)
        eigen = nx.eigenvector_centrality(g, weight="weight", max_iter=1000) if g.number_of_edges() else {}
    except (nx.NetworkXException, ArithmeticError, ValueError):
        eigen = {}
    communities = (
        nx.community.louvain_communities(g, weight="weight", seed=2024) if g.number_of_edges() else []
    )
    ordered = sorted((sorted(c) for c in communities if len(c) > 1), key=lambda c: (-len(c), c[0]))
    community = {n: i + 1 for i, members in enumerate(ordered) for n in members}
    for n, data in net.nodes.items():
        data["degree"] = g.degree(n)
        data["strength"] = strength.get(n, 0)
        data["eigenvector"] = abs(float(eigen.get(n, 0.0)))
        data["betweenness"] = float(betweenness.get(n, 0.0))
        data["community"] = community.get(n)


def partners(
    lake: Lake,
    country: str,
    year: int,
    *,
    layers: tuple[str, ...] = LAYERS,
    threshold: float = INDEX_THRESHOLD,
    registry: RegistryActivity | None = None,
) -> tuple[list[dict[str, Any]], Network, Network | None]:
    """``country``'s partners in ``year`` ranked by tie weight (then by the partner's
    own centrality), each with what changed since the year before: new, dropped, layers
    gained and lost, and the change in rank."""
    country = country.upper()
    now = build(lake, year, layers=layers, threshold=threshold, registry=registry)
    if country not in now.nodes:
        raise ValidationError(f"{country} is not a state of the COW system in {year}", field="country")
    try:
        before: Network | None = build(lake, year - 1, layers=layers, threshold=threshold, registry=registry)
    except ValidationError:
        before = None

    def ranked(net: Network | None) -> list[tuple[str, tuple[str, ...]]]:
        if net is None:
            return []
        ties = [
            ((b if a == country else a), tuple(layers))
            for (a, b), layers in net.edges.items()
            if country in (a, b)
        ]
        return sorted(ties, key=lambda t: (-len(t[1]), -net.nodes[t[0]]["eigenvector"], t[0]))

    # changes are judged on the layers both years have (DCAD ends in 2010: its absence
    # in 2011 is not a lost agreement)
    common = set(now.layers) & set(before.layers if before is not None else ())
    previous = {
        p: (i + 1, [x for x in layers if x in common]) for i, (p, layers) in enumerate(ranked(before))
    }
    rows = []
    for i, (p, layers) in enumerate(ranked(now)):
        old_rank, old_layers = previous.get(p, (None, []))
        rows.append(
            {
                "partner": p,
                "rank": i + 1,
                "weight": len(layers),
                "layers": layers,
                "previous_rank": old_rank,
                "change": "new" if before is not None and old_rank is None else "",
                "gained": [x for x in layers if x in common and x not in old_layers] if old_rank else [],
                "lost": [x for x in old_layers if x not in layers],
            }
        )
    current = {r["partner"] for r in rows}
    for p, (old_rank, old_layers) in previous.items():
        if p not in current and old_layers:
            rows.append(
                {
                    "partner": p,
                    "rank": None,
                    "weight": 0,
                    "layers": [],
                    "previous_rank": old_rank,
                    "change": "dropped",
                    "gained": [],
                    "lost": old_layers,
                }
            )
    return rows, now, before
