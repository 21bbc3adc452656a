"""The defense-cooperation network: ties from the sources as a plain count would give them,
measures consistent with the graph, deterministic communities, partner changes that follow
the sources, layers that do not cover a year reported missing; and the CLI commands."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from detente.relations import network as net
from detente.relations.panel import dyad_years
from detente.sources.lake import Lake
from detente.sources.service import load

LOADS = {
    "cow_states": ["cow/states2016.csv"],
    "atop": ["peacesciencer/atop_alliance.csv.gz"],
    "dcad": ["dcad/DCAD-v1.0-main.csv"],
    "exercises": ["military_exercises/troopdata_mme_long.csv.gz"],
}


@pytest.fixture(scope="module")
def lake(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    with Lake(tmp_path_factory.mktemp("lake")) as lake:
        for name, files in LOADS.items():
            load(lake, name, [shared / f for f in files], user="t")
        yield lake


def test_ties_are_the_union_of_the_layers(lake: Lake) -> None:
    graph = net.build(lake, 2005)
    assert graph.layers == ("alliance", "dca", "exercise")
    assert set(graph.missing) == {"events", "registry"}  # not loaded / no principal: said, not zero
    panel = dyad_years(lake, "cow", 2005, 2005, directed=False, additions=("atop", "dcad", "exercises"))
    expected = 0
    for r in panel.to_pylist():
        alliance = any(
            r[c] for c in ("atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul")
        )
        expected += bool(alliance or r["dca_count"] or r["mme_joint_exercises"])
    assert len(graph.edges) == expected > 1000
    g = graph.graph()
    for node, data in graph.nodes.items():
        assert data["degree"] == g.degree(node)
        assert data["strength"] == sum(len(ls) for e, ls in graph.edges.items() if node in e)
    assert all(1 <= len(ls) <= 3 for ls in graph.edges.values())
    # the United States is the network's main broker and among its hubs
    brokers = sorted(graph.nodes, key=lambda n: -graph.nodes[n]["betweenness"])
    hubs = sorted(graph.nodes, key=lambda n: -graph.nodes[n]["eigenvector"])
    assert brokers[0] == "USA" and "USA" in hubs[:5]


def test_communities_are_deterministic_and_cover_connected_states(lake: Lake) -> None:
    first, second = net.build(lake, 2005), net.build(lake, 2005)
    assert {n: d["community"] for n, d in first.nodes.items()} == {
        n: d["community"] for n, d in second.nodes.items()
    }
    connected = {n for e in first.edges for n in e}
    assert all(first.nodes[n]["community"] is not None for n in connected)
    assert len({d["community"] for d in first.nodes.values() if d["community"]}) >= 2


def test_partner_changes_follow_the_sources(lake: Lake) -> None:
    rows, _now, before = net.partners(lake, "GEO", 2010)
    assert before is not None and before.year == 2009
    panel = {
        (r["iso3_1"], r["iso3_2"], r["year"]): r
        for r in dyad_years(lake, "cow", 2009, 2010, additions=("exercises",)).to_pylist()
        if r["iso3_1"] == "GEO"
    }
    ranked = [r for r in rows if r["rank"]]
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    assert [r["weight"] for r in ranked] == sorted((r["weight"] for r in ranked), reverse=True)
    for r in ranked:
        if "exercise" in r["gained"]:
            p = r["partner"]
            assert panel[("GEO", p, 2009)]["mme_joint_exercises"] == 0
            assert panel[("GEO", p, 2010)]["mme_joint_exercises"] > 0
    assert any("exercise" in r["gained"] for r in ranked)
    dropped = [r for r in rows if r["change"] == "dropped"]
    assert all(r["partner"] not in {x["partner"] for x in ranked} for r in dropped)


def test_a_year_a_source_does_not_cover_is_drawn_without_it(lake: Lake) -> None:
    graph = net.build(lake, 2015)
    assert "dca" in graph.missing and "exercise" in graph.missing
    assert all(ls == ["alliance"] for ls in graph.edges.values())
    rows, _, _ = net.partners(lake, "USA", 2011)
    # DCAD ends in 2010: its absence in 2011 is not a lost agreement
    assert not any("dca" in r["lost"] for r in rows)


def test_cli_partner_network_index_alignment(cli: Callable[..., str], shared: Path, tmp_path: Path) -> None:
    for name, files in LOADS.items():
        cli("sources", "load", name, *[str(shared / f) for f in files])
    out = cli("relations", "partner", "GEO", "--year", "2010", "--top", "5")
    assert "Partners of GEO in 2010" in out and "USA" in out
    assert "marking of this answer: UNCLASSIFIED" in out
    target = tmp_path / "net.json"
    out = cli("relations", "network", "--year", "2005", "--top", "3", "--out", str(target))
    assert "Brokers" in out and "USA" in out
    data = json.loads(target.read_text())
    assert data["year"] == 2005 and len(data["edges"]) > 1000 and data["marking"].startswith("UNCLASSIFIED")
    assert "bad" in cli("relations", "network", "--year", "2005", "--layer", "bad", code=2)
    cameo = shared / "cameo"
    cli(
        "sources",
        "load",
        "cameo",
        str(cameo / "CAMEO.eventcodes.txt"),
        str(cameo / "CAMEO.goldsteinscale.txt"),
    )
    cli(
        "sources",
        "load",
        "icews",
        *[str(p) for p in sorted((shared / "icews" / "ICEWS14_tkg").glob("*.txt"))],
    )
    out = cli("relations", "index", "IRN", "IRQ", "--from", "2014-01", "--to", "2014-12")
    assert "2014-12" in out and "index" in out
    assert "give an ISO 3166 alpha-3" in cli("relations", "index", "IR", "IRQ", code=2)
    votes = shared / "unga_votes"
    cli("sources", "load", "unga_ideal", str(votes / "IdealpointsJuly2025.dta"))
    out = cli("relations", "alignment", "UKR", "RUS", "--years", "2015-2024")
    assert "fell sharply in 2022" in out
    panel = tmp_path / "dyads.parquet"
    out = cli(
        "relations", "dyads", "--years", "2014", "--add", "events", "--add", "registry", "--out", str(panel)
    )
    columns = pq.read_schema(panel).names
    assert {"coop_index", "material_conflict", "reg_engagements", "reg_agreements"} <= set(columns)
    out = cli("relations", "dyads", "--years", "2014", "--add", "events", "--out", str(panel))
    assert "reg_engagements" not in pq.read_schema(panel).names  # only when asked for
    out = cli("relations", "dyads", "--monthly", "--years", "2014", "--undirected", "--out", str(panel))
    months = pq.read_table(panel)
    assert "undirected COW dyad-months" in out and set(months.column("month").to_pylist()) == set(
        range(1, 13)
    )
    assert "takes no --add" in cli(
        "relations", "dyads", "--monthly", "--add", "atop", "--out", str(panel), code=2
    )
