"""Dyad-year panels: peacesciencer's create_dyadyears counts from the state lists, system
membership respected, symmetric alliance flags, and missing (not zero) outside coverage."""

from __future__ import annotations

import csv
import gzip
import io
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from detente.relations import panel
from detente.sources.lake import Lake
from detente.sources.service import load

LOADS = {
    "cow_states": "cow/states2016.csv",
    "gw_states": "peacesciencer/gw_states.csv.gz",
    "atop": "peacesciencer/atop_alliance.csv.gz",
    "cow_alliance": "peacesciencer/cow_alliance.csv.gz",
    "dcad": "dcad/DCAD-v1.0-main.csv",
    "exercises": "military_exercises/troopdata_mme_long.csv.gz",
    "unga_ideal": "unga_votes/IdealpointsJuly2025.dta",
}


@pytest.fixture(scope="module")
def lake(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    with Lake(tmp_path_factory.mktemp("lake")) as lake:
        for name, file in LOADS.items():
            load(lake, name, [shared / file], user="analyst")
        yield lake


def _rows(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _members_per_year(shared: Path, system: str) -> dict[int, set[int]]:
    """Straight from the state list: who was a member at any time in each year."""
    out: dict[int, set[int]] = defaultdict(set)
    if system == "cow":
        for r in _rows(shared / "cow" / "states2016.csv"):
            for year in range(int(r["styear"]), int(r["endyear"]) + 1):
                out[year].add(int(r["ccode"]))
    else:
        for r in _rows(shared / "peacesciencer" / "gw_states.csv.gz"):
            for year in range(int(r["startdate"][:4]), int(r["enddate"][:4]) + 1):
                out[year].add(int(float(r["gwcode"])))
    return out


# Expected sizes, derived from the state lists in ../shared/data by _members_per_year
# (n states in a year give n(n-1) directed and n(n-1)/2 undirected dyads), and pinned here:
# COW 1816-2016: 15,951 state-years, 1,912,350 directed dyad-years;
# GW 1816-2017: 1,939,354 directed dyad-years.
@pytest.mark.parametrize(("system", "first", "last", "states", "directed"), [
    ("cow", 1816, 2016, 15951, 1912350),
    ("gw", 1816, 2017, None, 1939354),
])  # fmt: skip
def test_dyad_year_counts_match_the_state_lists(
    lake: Lake, shared: Path, system: str, first: int, last: int, states: int | None, directed: int
) -> None:
    members = _members_per_year(shared, system)
    expected = sum(len(members[y]) * (len(members[y]) - 1) for y in range(first, last + 1))
    assert expected == directed
    assert panel.dyad_years(lake, system, first, last).num_rows == directed
    assert panel.dyad_years(lake, system, first, last, directed=False).num_rows == directed // 2
    if states is not None:
        assert (
            panel.state_years(lake, system, first, last).num_rows
            == states
            == sum(len(members[y]) for y in range(first, last + 1))
        )
    # a span: 1946-1950
    span = sum(len(members[y]) * (len(members[y]) - 1) for y in range(1946, 1951))
    assert panel.dyad_years(lake, system, 1946, 1950).num_rows == span


def test_no_dyad_includes_a_state_that_did_not_exist(lake: Lake) -> None:
    dyads = panel.dyad_years(lake, "cow", 1985, 2015, directed=False)
    with duckdb.connect() as db:
        db.register("d", dyads)
        sql = "SELECT min(year), max(year) FROM d WHERE code1 = {0} OR code2 = {0}"
        assert db.execute(sql.format(626)).fetchall() == [(2011, 2015)]  # South Sudan from 2011
        assert db.execute(sql.format(265)).fetchall() == [(1985, 1990)]  # the GDR until 1990


def test_alliances_are_symmetric_and_missing_outside_their_years(lake: Lake) -> None:
    dyads = panel.dyad_years(lake, "cow", 1975, 2016, additions=("atop", "cow_alliance", "dcad", "exercises"))
    with duckdb.connect() as db:
        db.register("d", dyads)
        asymmetric = db.execute(
            "SELECT count(*) FROM d a JOIN d b "
            "ON a.code1 = b.code2 AND a.code2 = b.code1 AND a.year = b.year "
            "WHERE a.atop_defense IS DISTINCT FROM b.atop_defense "
            "OR a.cow_defense IS DISTINCT FROM b.cow_defense "
            "OR a.dca_count IS DISTINCT FROM b.dca_count "
            "OR a.mme_joint_exercises IS DISTINCT FROM b.mme_joint_exercises"
        ).fetchall()
        assert asymmetric == [(0,)]
        coverage = db.execute(
            "SELECT year, count(dca_count), count(mme_joint_exercises), count(cow_defense), "
            "count(atop_defense), count(*) FROM d "
            "WHERE year IN (1979, 1980, 2010, 2011, 2012, 2013, 2016) GROUP BY year ORDER BY year"
        ).fetchall()
    # DCAD and MME cover 1980-2010, COW alliances to 2012, ATOP to 2018: outside, NULL
    for year, dca, mme, cow, atop, n in coverage:
        assert dca == (n if 1980 <= year <= 2010 else 0), year
        assert mme == (n if 1980 <= year <= 2010 else 0), year
        assert cow == (n if year <= 2012 else 0), year
        assert atop == n, year


def test_known_dyad_values_agree_with_the_raw_files(lake: Lake, shared: Path) -> None:
    dyads = panel.dyad_years(lake, "cow", 1985, 1985, additions=("atop", "dcad", "exercises"))
    row = next(r for r in dyads.to_pylist() if r["code1"] == 2 and r["code2"] == 20)
    # exercises with both the USA (GW 2) and Canada (GW 20) among participants, in 1985
    by_exercise: dict[str, set[int]] = defaultdict(set)
    for r in _rows(shared / "military_exercises" / "troopdata_mme_long.csv.gz"):
        if r["year"] and r["gwcode"] and int(float(r["year"])) == 1985:
            by_exercise[r["MMEID"]].add(int(float(r["gwcode"])))
    joint = sum(1 for members in by_exercise.values() if {2, 20} <= members)
    # USA-Canada agreements signed by 1985 and not ended before it
    dcas = sum(
        1
        for r in _rows(shared / "dcad" / "DCAD-v1.0-main.csv")
        if {r["ccode1"], r["ccode2"]} == {"2", "20"}
        and int(r["signYear"]) <= 1985 <= int(r["endYearEstimate"])
    )
    assert (row["mme_joint_exercises"], row["dca_count"], row["atop_defense"]) == (joint, dcas, 1)
    assert joint > 0 and dcas > 0


def test_the_cli_writes_the_panel(cli: Callable[..., str], shared: Path, tmp_path: Path) -> None:
    assert "not in the lake" in cli(
        "relations", "dyads", "--years", "1990-1991", "--out", str(tmp_path / "d.parquet"), code=2
    )
    cli("sources", "load", "cow_states", str(shared / "cow" / "states2016.csv"))
    cli("sources", "load", "atop", str(shared / "peacesciencer" / "atop_alliance.csv.gz"))
    out = cli(
        "relations", "dyads", "--years", "1990-1991", "--undirected", "--add", "atop",
        "--out", str(tmp_path / "d.parquet"),
    )  # fmt: skip
    table = pq.read_table(tmp_path / "d.parquet")
    assert f"{table.num_rows:,} undirected COW dyad-years, 1990-1991" in out
    assert "atop_defense" in table.column_names
    assert "give YEAR or FIRST-LAST" in cli("relations", "dyads", "--years", "x", "--out", "d.csv", code=2)


def test_un_ideal_point_distance_is_symmetric_and_read_from_the_stata_file(lake: Lake, shared: Path) -> None:
    import pandas as pd

    dyads = panel.dyad_years(lake, "cow", 1950, 1950, additions=("unga_ideal",))
    by_pair = {(r["code1"], r["code2"]): r["unga_ideal_distance"] for r in dyads.to_pylist()}
    points = pd.read_stata(shared / "unga_votes" / "IdealpointsJuly2025.dta")
    year = points[points["year"] == 1950].set_index("ccode")["idealpointfp"]
    assert by_pair[(2, 365)] == pytest.approx(abs(year[2] - year[365]))  # USA and the USSR
    assert by_pair[(2, 365)] == by_pair[(365, 2)] and by_pair[(2, 365)] > 1
    # a state with no ideal point that year (not a UN member) gives a missing distance, not 0
    without = [c for c in {k[0] for k in by_pair} if c not in year.index]
    assert without and all(by_pair[(c, 2)] is None for c in without)
