"""The military cooperation index: the documented formula on events built by hand, missing
versus zero, the yearly panel columns on real events, and registry records counted only
for principals who may read them (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from detente.relations import index as idx
from detente.relations import service
from detente.relations.panel import dyad_month_panel, dyad_years
from detente.sharing.service import Sharing
from detente.sources.lake import Lake, Provenance
from detente.sources.service import load, refresh_events_view
from detente.store.service import Store
from tests import factories as f

LAM = 0.5 ** (1 / 3)


def _events(rows: list[tuple[str, str, int, int, str, float]]) -> pa.Table:
    names = ("source_country", "target_country", "year", "month", "cameo_code", "goldstein")
    table = pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})
    quad = [1 if r[4][:2] <= "05" else 2 if r[4][:2] <= "08" else 3 if r[4][:2] <= "13" else 4 for r in rows]
    return table.append_column("quad_class", pa.array(quad, pa.int32()))


def _lake_with(folder: Path, rows: list[tuple[str, str, int, int, str, float]]) -> Lake:
    lake = Lake(folder)
    years = [r[2] for r in rows]
    record = Provenance(
        source="gdelt", version="test", files="hand-made", sha256="x", rows=len(rows), coverage="",
        loaded_at=datetime.now(UTC), loaded_by="test", first_year=min(years), last_year=max(years),
    )  # fmt: skip
    lake.replace("gdelt", _events(rows), record)
    refresh_events_view(lake)
    return lake


def _filler(year: int, month: int, n: int = 100) -> list[tuple[str, str, int, int, str, float]]:
    """Events between two other states, so the month counts as covered (>= 100 events)."""
    return [("NOR", "SWE", year, month, "042", 1.9)] * n


def test_formula_matches_the_documented_computation(tmp_path: Path) -> None:
    rows = [
        ("USA", "GBR", 2014, 1, "062", 7.4),  # cooperate militarily
        ("GBR", "USA", 2014, 1, "0422", 1.9),  # another event, other direction
        ("USA", "GBR", 2014, 1, "0312", 5.2),  # intent to cooperate militarily
        ("GBR", "USA", 2014, 1, "112", -2.0),  # accuse: verbal conflict, in the volume
        ("USA", "USA", 2014, 1, "062", 7.4),  # domestic: not a dyad
        *_filler(2014, 1),
        *_filler(2014, 2),
        # March: fewer than 100 events loaded in all -> not covered
        ("USA", "GBR", 2014, 3, "072", 8.3),
    ]
    with _lake_with(tmp_path, rows) as lake:
        out = idx.dyad_months(
            lake, date(2014, 1, 1), date(2014, 3, 31), country="GBR", partner="USA"
        ).to_pylist()
    jan, feb, mar = out
    assert (jan["iso3_1"], jan["iso3_2"]) == ("GBR", "USA")
    assert (jan["events_total"], jan["mil_events"], jan["mil_062"], jan["mil_0312"]) == (4, 2, 1, 1)
    assert (jan["verbal_conflict"], jan["material_conflict"]) == (1, 0)
    assert jan["mil_goldstein"] == pytest.approx(12.6)
    assert jan["coop_index"] == pytest.approx(100 * 12.6 / (10 * (4 + 5)))
    # February: covered, no events for the pair: 0 events, the index decays
    assert (feb["events_total"], feb["mil_events"]) == (0, 0)
    assert feb["coop_index"] == pytest.approx(100 * LAM * 12.6 / (10 * (LAM * 4 + 5)))
    # March: not covered: event parts missing (not 0), but the smoothing still counts them
    assert mar["events_total"] is None and mar["mil_events"] is None
    num = LAM**2 * 12.6 + 8.3
    vol = LAM**2 * 4 + 1
    assert mar["coop_index"] == pytest.approx(100 * num / (10 * (vol + 5)))
    assert "index" in idx.explain(out) and "military-cooperation events" in idx.explain(out[:2])


def test_yearly_panel_columns_are_missing_outside_covered_years(tmp_path: Path, shared: Path) -> None:
    rows = [("USA", "GBR", 2014, 1, "062", 7.4), ("FRA", "DEU", 2014, 1, "010", 0.0), *_filler(2014, 1)]
    with _lake_with(tmp_path, rows) as lake:
        load(lake, "cow_states", [shared / "cow" / "states2016.csv"], user="t")
        panel = dyad_years(lake, "cow", 2013, 2015, directed=True, additions=("events",)).to_pylist()
    by = {(r["iso3_1"], r["iso3_2"], r["year"]): r for r in panel}
    assert by[("USA", "GBR", 2014)]["mil_events"] == 1 == by[("GBR", "USA", 2014)]["mil_events"]
    assert by[("USA", "GBR", 2014)]["coop_index"] == pytest.approx(100 * 7.4 / (10 * 6))
    assert by[("FRA", "DEU", 2014)]["events_total"] == 1 and by[("FRA", "DEU", 2014)]["coop_index"] == 0
    assert by[("USA", "RUS", 2014)]["events_total"] == 0  # covered year, no events: 0
    assert by[("USA", "RUS", 2014)]["event_months"] == 1
    for year in (2013, 2015):  # not covered: missing
        assert by[("USA", "GBR", year)]["events_total"] is None
        assert by[("USA", "GBR", year)]["coop_index"] is None


def test_the_dyad_month_panel_covers_every_pair_and_month(tmp_path: Path, shared: Path) -> None:
    rows = [("USA", "GBR", 2014, 1, "062", 7.4), *_filler(2014, 1), *_filler(2014, 2)]
    with _lake_with(tmp_path, rows) as lake:
        load(lake, "cow_states", [shared / "cow" / "states2016.csv"], user="t")
        years = dyad_years(lake, "cow", 2014, 2014, directed=False)
        panel = dyad_month_panel(lake, "cow", 2014, 2014, directed=False).to_pylist()
    assert len(panel) == 12 * years.num_rows
    by = {(r["iso3_1"], r["iso3_2"], r["month"]): r for r in panel}
    assert by[("USA", "GBR", 1)]["mil_events"] == 1
    assert by[("USA", "GBR", 1)]["coop_index"] == pytest.approx(100 * 7.4 / (10 * 6))
    assert by[("USA", "GBR", 2)]["mil_events"] == 0  # covered, nothing that month
    assert by[("USA", "GBR", 2)]["coop_index"] == pytest.approx(100 * LAM * 7.4 / (10 * (LAM + 5)))
    assert by[("USA", "GBR", 3)]["events_total"] is None  # not covered: missing
    assert by[("USA", "GBR", 3)]["coop_index"] > 0  # still decaying from January
    assert by[("USA", "RUS", 2)]["coop_index"] == 0 and by[("USA", "RUS", 3)]["coop_index"] is None


def test_real_events_give_counts_that_add_up(tmp_path: Path, shared: Path) -> None:
    with Lake(tmp_path) as lake:
        cameo = shared / "cameo"
        load(lake, "cameo", [cameo / "CAMEO.eventcodes.txt", cameo / "CAMEO.goldsteinscale.txt"], user="t")
        load(lake, "icews", sorted((shared / "icews" / "ICEWS14_tkg").glob("*.txt")), user="t")
        months = idx.dyad_months(lake, date(2014, 1, 1), date(2014, 12, 31))
        direct = lake.db.execute(
            "SELECT count(*) FROM events WHERE source_country <> target_country AND ("
            + " OR ".join(f"cameo_code LIKE '{c}%'" for c in idx.MILITARY_CODES)
            + ")"
        ).fetchall()[0][0]
    rows = months.to_pylist()
    assert sum(r["mil_events"] for r in rows) == direct > 100
    assert sum(sum(r[f"mil_{c}"] for c in idx.MILITARY_CODES) for r in rows) == direct
    assert all(0 <= r["coop_index"] <= 100 for r in rows)
    assert all(r["mil_events"] <= r["events_total"] for r in rows)
    top = max(rows, key=lambda r: r["mil_events"])
    assert {top["iso3_1"], top["iso3_2"]} == {"IRN", "IRQ"}  # the pair with most, counted by hand


def test_a_secret_exercise_counts_only_for_those_who_may_see_it(ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with ws.session() as session:
        setup = f.two_organisations(session)
        sharing = Sharing(session)
        f.clerk(session, setup["gbr"])
        reg = Store(session, sharing.principal("gbr-planner"))
        gbr, fra = setup["states"]["GBR"], setup["states"]["FRA"]
        f.engagement(
            reg, gbr, [fra], kind="defense_dialogue", status="executed", start_date=date(2025, 1, 14),
            marking="UNCLASSIFIED//TLP:CLEAR",
        )  # fmt: skip
        f.engagement(
            reg, gbr, [fra], title="Exercise Quiet Harbour", kind="joint_exercise", status="executed",
            start_date=date(2025, 3, 3), marking="SECRET//REL TO GBR",
        )  # fmt: skip
    answers = {}
    with Lake(tmp_path / "lake") as lake:
        for user in ("gbr-planner", "gbr-clerk"):
            with ws.session() as session:
                reg = Store(session, Sharing(session).principal(user))
                answers[user] = service.dyad_index(
                    lake, "GBR", "FRA", date(2025, 1, 1), date(2025, 3, 31), reg
                )
    planner = {r["month"]: r for r in answers["gbr-planner"].data["months"]}
    clerk = {r["month"]: r for r in answers["gbr-clerk"].data["months"]}
    assert planner[3]["engagements"] == 1 and clerk[3]["engagements"] == 0
    both = 100 * 7.4 * (1 + LAM**2) / (10 * (1 + LAM**2 + 5))
    public_only = 100 * 7.4 * LAM**2 / (10 * (LAM**2 + 5))
    assert planner[3]["coop_index"] == pytest.approx(both)
    assert clerk[3]["coop_index"] == pytest.approx(public_only)
    assert planner[1]["coop_index"] == clerk[1]["coop_index"]  # January: the public dialogue only
    assert answers["gbr-planner"].marking().startswith("SECRET")
    assert answers["gbr-clerk"].marking().startswith("UNCLASSIFIED")
    # no event data loaded: the event parts are missing, not 0
    assert planner[1]["events_total"] is None
