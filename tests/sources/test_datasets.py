"""Every dataset in ../shared/data loads through the CLI, with its row count and values
checked against the raw files (the expected values were read off the files themselves:
MANIFEST.md's counts, and single records looked up with grep/awk)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

CAMEO = ("cameo/CAMEO.eventcodes.txt", "cameo/CAMEO.goldsteinscale.txt")

# (source, files (globs under shared), rows, [(sql, expected rows)])
CASES = [
    (
        "gdelt",
        ["gdelt/20191024143000.export.CSV"],
        2111,
        [
            (
                "SELECT date, target_country, cameo_code, root, quad_class, goldstein, dataset "
                "FROM gdelt WHERE source_id = '881990832'",
                [("2018-10-24", "AUS", "139", "13", 3, -7.0, "gdelt2")],
            ),
            ("SELECT count(*) FROM events", [(2111,)]),
        ],
    ),
    (
        "gdelt",
        ["gdelt/georgia_gdelt1_2011_2013/*.csv.gz"],
        105444,
        [("SELECT min(date), max(date) FROM gdelt", [("2011-06-01", "2013-05-31")])],
    ),
    (
        "gdelt",
        ["gdelt/gdelt1_sample_1000_events.csv"],
        710,
        [("SELECT count(url) FROM gdelt", [(509,)])],  # 509 rows of 58 columns carry SOURCEURL,
    ),
    (
        "ucdp_ged",
        ["ucdp_ged/uncertainUCDP_ucdpged_sample1000_v23.csv.gz"],
        1000,
        [
            (
                "SELECT country, iso3, date_start, best, type_of_violence FROM ucdp_ged WHERE id = '300380'",
                [("Syria", "SYR", "2013-01-03", 2, 1)],
            )
        ],
    ),
    ("ucdp_ged", ["ucdp_ged/ucdp_ged_syria_2020-01.csv.gz"], 16566, []),
    (
        "ucdp_ged",
        ["ucdp_ged/GEDEvent_v23_1_CAR482.geojson"],
        1848,
        [("SELECT best, longitude, iso3 FROM ucdp_ged WHERE id = '36210'", [(3, 26.486881, "CAF")])],
    ),
    (
        "ucdp_acd",
        ["ucdp_acd/ucdp-prio-acd-221.csv"],
        2568,
        [
            (
                "SELECT location, iso3_a, intensity_level, type_of_conflict FROM ucdp_acd "
                "WHERE conflict_id = 11342 AND year = 2012",
                [("India", ["IND"], 1, 3)],
            )
        ],
    ),
    (
        "ucdp_acd",
        ["peacesciencer/ucdp_acd.csv.gz"],
        5652,
        [("SELECT incompatibility FROM ucdp_acd WHERE conflict_id = 11342 AND year = 2012", [(1,)])],
    ),
    (
        "ucdp_brd",
        ["ucdp_brd/ucdp-brd-dyadic-221_to2019.csv"],
        1293,
        [
            (
                "SELECT bd_best, iso3_a_2nd FROM ucdp_brd WHERE conflict_id = 13840 AND year = 2019",
                [(78, ["FRA"])],
            )
        ],
    ),
    (
        "ucdp_onesided",
        ["ucdp_small/OneSided_v23_1_to2019.csv"],
        1060,
        [
            (
                "SELECT best, iso3_location FROM ucdp_onesided WHERE actor_id = 367 AND year = 2010",
                [(58, ["RUS"])],
            )
        ],
    ),
    ("ucdp_nonstate", ["ucdp_small/Nonstate_v23_1_to2019.csv"], 1308, []),
    ("ucdp_onsets", ["peacesciencer/ucdp_onsets.csv.gz"], 10142, []),
    (
        "views",
        ["views_cm/cm_features_to_oct201[89].parquet", "views_cm/cm_actuals_201[89].parquet"],
        4966,  # 191 countries x 24 feature months + 191 x 2 months (Nov-Dec 2019) only in the actuals
        [
            (
                "SELECT year, month, gwcode, iso3, round(ged_sb, 6) FROM views "
                "WHERE month_id = 457 AND country_id = 67",
                [(2018, 1, 615, "DZA", 10.0)],
            ),
            (
                "SELECT count(*) FROM views WHERE month_id = 480 AND iso3 IS NOT NULL",
                [(191,)],
            ),  # GW 935 Vanuatu too
        ],
    ),
    (
        "views",
        ["ucdp_ged_cm/ged_cm_postpatch_to_oct2019.parquet", "ucdp_ged_cm/country.parquet"],
        88697,
        [("SELECT year, month FROM views WHERE month_id = 121 LIMIT 1", [(1990, 1)])],
    ),
    (
        "atop",
        ["peacesciencer/atop_alliance.csv.gz"],
        273296,
        [
            (
                "SELECT defense, iso3_1, iso3_2 FROM atop WHERE ccode1 = 2 AND ccode2 = 20 AND year = 1942",
                [(1, "USA", "CAN")],
            )
        ],
    ),
    ("cow_alliance", ["peacesciencer/cow_alliance.csv.gz"], 120784, []),
    (
        "dcad",
        ["dcad/DCAD-v1.0-main.csv"],
        1871,
        [
            (
                "SELECT iso3_1, iso3_2, sign_year FROM dcad WHERE dca_id = 'DCADv1.0-0001'",
                [("USA", "CAN", 1984)],
            ),
            ("SELECT min(year), max(year) FROM dcad_dyad_years", [(1980, 2010)]),
        ],
    ),
    (
        "exercises",
        ["military_exercises/troopdata_mme_long.csv.gz"],
        13818,
        [
            (
                "SELECT name, participant_count FROM exercises WHERE exercise_id = 'mme100' AND iso3 = 'CAN'",
                [("Deterrent Force 1/80", 7)],
            )
        ],
    ),
    ("us_troops", ["us_troops_bases/troopdata_troopdata_rebuild_long.csv.gz"], 29629, []),
    (
        "unga_votes",
        ["unga_votes/unvotes_*.csv.gz"],
        869937,
        [
            (
                "SELECT iso3, vote FROM unga_votes "
                "WHERE rcid = 3 AND iso3 IN ('USA', 'CAN', 'CUB') ORDER BY iso3",
                [("CAN", "no"), ("CUB", "yes"), ("USA", "yes")],
            ),
            ("SELECT vote FROM unga_votes WHERE rcid = 3 AND iso3 = 'CAN'", [("no",)]),
            ("SELECT count(*) FROM unga_votes_roll_calls", [(6202,)]),
        ],
    ),
    (
        "unga_ideal",
        ["unga_votes/IdealpointsJuly2025.dta"],
        11440,
        [("SELECT round(ideal_point, 6) FROM unga_ideal WHERE iso3 = 'USA' AND year = 1946", [(1.663375,)])],
    ),
    (
        "sipri",
        ["sipri/sipri_trade-register_generated_2025-03-13.csv.gz"],
        29515,  # 29,511 whole rows + 4 deals broken over two lines, joined
        [
            (
                "SELECT tiv_total, comments FROM sipri WHERE recipient = 'Cote d''Ivoire' "
                "AND designation = 'vehicle engine' AND order_year = 2024",
                [(0.36, "Cummins (275hp) diesel engine for 12 Puma M-36 APC from South Africa")],
            )
        ],
    ),
    ("sipri", ["sipri/sipri_trade-register_generated_2026-05-18.csv.gz"], 29916, []),
    (
        "un_sanctions",
        ["un_consolidated/un_consolidated_2024-09-26.xml"],
        875,  # 682 individuals + 193 entities
        [
            (
                "SELECT list_contains(aliases, 'Haji Mudir'), "
                "list_contains(aliases, 'Mohammad Taher Anwari'), "
                "countries, schema FROM un_sanctions WHERE entity_id = 'TAi.005'",
                [(True, True, ["AFG"], "Person")],
            )
        ],
    ),
    (
        "ofac",
        ["ofac_sdn/sdn_2024-05-03.csv.gz"],
        14965,
        [
            (
                "SELECT name, aliases FROM ofac WHERE entity_id = 'ofac-306'",
                [("BANCO NACIONAL DE CUBA", ["BNC"])],
            )
        ],
    ),
    (
        "ofac",
        ["ofac_sdn/ofac_cons_nonsdn_2024-05-06.xml"],
        443,
        [
            (
                "SELECT name, list_contains(aliases, 'Ismaeel HANIYYA') "
                "FROM ofac WHERE entity_id = 'ofac-9639'",
                [("Ismail Abdul Salah HANIYA", True)],
            )
        ],
    ),
    (
        "opensanctions",
        ["opensanctions/*.ftm.json"],
        119,
        [("SELECT countries FROM opensanctions WHERE entity_id = 'NK-2GdmHtZTeNXjNVrBGEXZNj'", [(["BLR"],)])],
    ),
]


def _files(shared: Path, globs: list[str]) -> list[str]:
    out = [str(p) for g in globs for p in sorted(shared.glob(g))]
    assert out, globs
    return out


def _plain(rows: list[tuple]) -> list[tuple]:  # type: ignore[type-arg]
    return [tuple(v.isoformat() if hasattr(v, "isoformat") else v for v in row) for row in rows]


@pytest.mark.parametrize(
    ("name", "globs", "rows", "checks"), CASES, ids=[f"{c[0]}-{Path(c[1][0]).name}" for c in CASES]
)
def test_each_dataset_loads_through_the_cli(
    cli: Callable[..., str],
    lake_sql: Callable[[str], list[tuple]],  # type: ignore[type-arg]
    shared: Path,
    name: str,
    globs: list[str],
    rows: int,
    checks: list[tuple[str, list[tuple]]],  # type: ignore[type-arg]
) -> None:
    out = cli("sources", "load", name, *_files(shared, globs))
    assert f"{name}: loaded {rows:,} rows" in out, out
    assert lake_sql(f"SELECT count(*) FROM {name}") == [(rows,)]
    assert lake_sql(f"SELECT rows FROM provenance WHERE source = '{name}'") == [(rows,)]
    for sql, expected in checks:
        assert _plain(lake_sql(sql)) == expected, sql
    assert "unchanged" in cli("sources", "load", name, *_files(shared, globs))


def test_icews_knowledge_graph_copy_needs_the_codebook_then_maps_relations(
    cli: Callable[..., str],
    lake_sql: Callable[[str], list[tuple]],  # type: ignore[type-arg]
    shared: Path,
) -> None:
    triples = _files(shared, ["icews/ICEWS14_tkg/*.txt"])
    assert "load the CAMEO codebook first" in cli("sources", "load", "icews", *triples, code=2)
    cli("sources", "load", "cameo", *_files(shared, list(CAMEO)))
    out = cli("sources", "load", "icews", *triples)
    # 90,730 events; 50 name relations the codebook lacks, each reported by name
    assert "icews: loaded 90,680 rows" in out
    assert "relation=Demand_material_cooperation (14)" in out
    # train.txt line 1: Police_(Australia) -6-> Women_(Australia) at time 0
    # (relation 6 "Arrest, detain, or charge with legal action" is CAMEO 173)
    assert _plain(
        lake_sql(
            "SELECT date, source_country, source_type, target_country, cameo_code, quad_class "
            "FROM icews WHERE source_id = 'train:1'"
        )
    ) == [("2014-01-01", "AUS", "COP", "AUS", "173", 4)]
    assert lake_sql("SELECT count(*) FROM events WHERE dataset = 'icews'") == [(90680,)]


def test_unmapped_country_codes_are_reported_by_name_not_dropped(
    cli: Callable[..., str],
    lake_sql: Callable[[str], list[tuple]],  # type: ignore[type-arg]
    shared: Path,
) -> None:
    out = cli("sources", "load", "gdelt", str(shared / "gdelt" / "20191024143000.export.CSV"))
    # GDELT's regional codes (AFR Africa, EUR Europe ...) are not countries
    assert "country=AFR (46)" in out and "country=EUR (37)" in out
    assert lake_sql("SELECT count(*) FROM gdelt") == [(2111,)]
    notes = lake_sql("SELECT notes FROM provenance WHERE source = 'gdelt'")[0][0]
    assert "country=AFR (46)" in notes
    shown = cli("sources", "show", "gdelt")
    assert "country=AFR (46)" in shown and "gdelt (2,111 rows)" in shown and "data.html" in shown
    assert "not loaded" in cli("sources", "show", "sipri", code=4)
    out = cli("sources", "load", "ucdp_acd", str(shared / "ucdp_acd" / "ucdp-prio-acd-221.csv"))
    assert "gwno_a=751 (3)" in out  # Hyderabad (1948) has no ISO code
    assert lake_sql("SELECT count(*) FROM ucdp_acd WHERE conflict_id = 11342") != [(0,)]


def test_a_newer_release_replaces_the_older_whole_with_its_years(
    cli: Callable[..., str],
    lake_sql: Callable[[str], list[tuple]],  # type: ignore[type-arg]
    shared: Path,
) -> None:
    cli(
        "sources",
        "load",
        "ofac",
        str(shared / "ofac_sdn" / "sdn_2021-09-22.csv.gz"),
        "--version",
        "2021-09-22",
    )
    assert lake_sql("SELECT count(*) FROM ofac") == [(9114,)]
    cli(
        "sources",
        "load",
        "ofac",
        str(shared / "ofac_sdn" / "sdn_2024-05-03.csv.gz"),
        "--version",
        "2024-05-03",
    )
    assert lake_sql("SELECT count(*) FROM ofac") == [(14965,)]
    assert lake_sql("SELECT version, rows FROM provenance WHERE source = 'ofac'") == [("2024-05-03", 14965)]
    cli("sources", "load", "dcad", str(shared / "dcad" / "DCAD-v1.0-main.csv"))
    # the years a source covers travel with it: outside them its values are missing, not zero
    assert lake_sql("SELECT first_year, last_year FROM provenance WHERE source = 'dcad'") == [(1980, 2010)]
    assert lake_sql("SELECT first_year, last_year FROM provenance WHERE source = 'ofac'") == [(None, None)]
    listing = cli("sources", "list")
    assert "1980-2010" in listing and "14,965" in listing
