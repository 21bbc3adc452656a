"""Security ties between states: formal alliances (ATOP, COW), defense cooperation
agreements (DCAD), multinational military exercises (MME) and US troop deployments.

Each keeps the provider's COW or GW codes and adds ISO 3166 alpha-3 (year-aware).
Alliance files come as the providers' dyad-year files or peacesciencer's derived forms
(``atop_defense`` ... / ``cow_defense`` ...); both normalise to the same columns. DCAD is
published per agreement; it is kept so and also expanded to undirected dyad-years in
force (``dcad_dyad_years``) over the years DCAD covers, so that a year outside them is
missing in later joins, not zero.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from detente.core.errors import ValidationError
from detente.sources.tabular import (
    Col,
    Parsed,
    Unmapped,
    coverage_years,
    cow_iso3,
    read_table,
    select,
    to_iso3,
)

__all__ = [
    "DCAD_UNUSED",
    "MME_UNUSED",
    "TROOPS_UNUSED",
    "parse_atop",
    "parse_cow_alliance",
    "parse_dcad",
    "parse_exercises",
    "parse_us_troops",
]

# Columns the providers document that the lake leaves out: a header column neither read
# nor listed here is reported by the load.
DCAD_UNUSED = (
    "cowName1", "cowName2", "EIFDay", "EIFMonth", "span", "renewType", "renewYears",
    "durationActual", "asymmetry", "categoryConf", "UNTS", "fullText", "sourceType", "source",
    "factivaConf", "factivaSign", "factivaEIF",
)  # fmt: skip
MME_UNUSED = ("StartDate", "EndDate", "AdditionalParticipantInfo")
TROOPS_UNUSED = (
    "coast_guard_ad", "space_force_ad", "army_national_guard", "air_national_guard",
    "army_reserve", "navy_reserve", "marine_corps_reserve", "air_force_reserve",
    "coast_guard_reserve", "total_selected_reserve", "army_civilian", "navy_civilian",
    "marine_corps_civilian", "air_force_civilian", "dod_civilian", "total_civilian",
    "year_quarter", "troops_all",
)  # fmt: skip


def _flags(names: list[tuple[str, tuple[str, ...]]]) -> list[Col]:
    return [Col(out, "int", sources, lo=0, hi=1) for out, sources in names]


def _dyad_years(paths: list[Path], spec: list[Col], what: str, code: str = "cow") -> Parsed:
    parts, unmapped = [], Unmapped()
    for path in paths:
        cols = read_table(path)
        out = select(cols, spec)
        years = out["year"].to_pylist()
        out["iso3_1"] = to_iso3(out["ccode1"], code, column="ccode1", unmapped=unmapped, year=years)
        out["iso3_2"] = to_iso3(out["ccode2"], code, column="ccode2", unmapped=unmapped, year=years)
        parts.append(pa.table(out))
    table = pa.concat_tables(parts)
    coverage = coverage_years(table.column("year"), f"{table.num_rows:,} {what} dyad-years")
    return Parsed({"": table}, coverage, unmapped)


ATOP = [
    Col("ccode1", "int", ("ccode1", "stateA")),
    Col("ccode2", "int", ("ccode2", "stateB")),
    Col("year", "int", lo=1815, hi=2100),
    *_flags(
        [
            ("defense", ("atop_defense", "defense")),
            ("offense", ("atop_offense", "offense")),
            ("neutral", ("atop_neutral", "neutral")),
            ("nonagg", ("atop_nonagg", "nonagg")),
            ("consul", ("atop_consul", "consul")),
        ]
    ),
]


def parse_atop(paths: list[Path]) -> Parsed:
    """ATOP alliance obligations by dyad-year (official ``atop*ddyr.csv`` or peacesciencer)."""
    return _dyad_years(paths, ATOP, "ATOP")


COW = [
    Col("ccode1", "int"),
    Col("ccode2", "int"),
    Col("year", "int", lo=1816, hi=2100),
    *_flags(
        [
            ("defense", ("cow_defense", "defense")),
            ("neutrality", ("cow_neutral", "neutrality")),
            ("nonaggression", ("cow_nonagg", "nonaggression")),
            ("entente", ("cow_entente", "entente")),
        ]
    ),
]


def parse_cow_alliance(paths: list[Path]) -> Parsed:
    """COW Formal Alliances by dyad-year (official ``alliance_v4.1_by_dyad_yearly.csv``
    or peacesciencer)."""
    return _dyad_years(paths, COW, "COW alliance")


DCAD = [
    Col("dca_id", "str", ("DCAid",)),
    Col("ccode1", "int"),
    Col("ccode2", "int"),
    Col("sign_year", "int", ("signYear",), lo=1900, hi=2100),
    Col("sign_month", "int", ("signMonth",), lo=1, hi=12, required=False),
    Col("sign_day", "int", ("signDay",), lo=1, hi=31, required=False),
    Col("eif_year", "int", ("EIFYear",), lo=1900, hi=2100, required=False),
    Col("type"),
    Col("category1", required=False),
    Col("category2", required=False),
    Col("category3", required=False),
    Col("terminated", "int", required=False),
    Col("end_year_estimate", "int", ("endYearEstimate",), lo=1900, hi=2100),
]
DCAD_LAST_YEAR = 2010  # DCAD v1.0 observes agreements to 2010


def parse_dcad(paths: list[Path]) -> Parsed:
    """Defense Cooperation Agreement Dataset (Kinne 2020), agreement level, plus dyad-years."""
    if len(paths) != 1:
        raise ValidationError("DCAD is one file (DCAD-v1.0-main.csv)")
    path = paths[0]
    cols = read_table(path)
    out = select(cols, DCAD)
    unmapped = Unmapped()
    years = out["sign_year"].to_pylist()
    out["iso3_1"] = to_iso3(out["ccode1"], "cow", column="ccode1", unmapped=unmapped, year=years)
    out["iso3_2"] = to_iso3(out["ccode2"], "cow", column="ccode2", unmapped=unmapped, year=years)
    agreements = pa.table(out)
    last = max(DCAD_LAST_YEAR, max(y for y in years if y is not None))
    in_force: dict[tuple[int, int, int], list[str]] = defaultdict(list)
    general: dict[tuple[int, int, int], int] = defaultdict(int)
    for i, (a, b, start, end, kind, ident) in enumerate(
        zip(
            out["ccode1"].to_pylist(),
            out["ccode2"].to_pylist(),
            years,
            out["end_year_estimate"].to_pylist(),
            out["type"].to_pylist(),
            out["dca_id"].to_pylist(),
            strict=True,
        )
    ):
        if end is not None and end < start:
            raise ValidationError(
                f"{path}, line {cols.lines[i]}, field endYearEstimate: {end} is before {start}"
            )
        lo, hi = sorted((a, b))
        for year in range(start, min(end or last, last) + 1):
            in_force[(lo, hi, year)].append(ident)
            general[(lo, hi, year)] += kind == "general"
    keys = sorted(in_force)
    dyad_years = pa.table(
        {
            "ccode1": pa.array([k[0] for k in keys], pa.int64()),
            "ccode2": pa.array([k[1] for k in keys], pa.int64()),
            "year": pa.array([k[2] for k in keys], pa.int64()),
            "dca_count": pa.array([len(in_force[k]) for k in keys], pa.int64()),
            "dca_general": pa.array([general[k] for k in keys], pa.int64()),
            "dca_ids": pa.array([in_force[k] for k in keys], pa.list_(pa.string())),
        }
    )
    first = min(y for y in years if y is not None)
    coverage = (
        f"{first}-{last}, {agreements.num_rows:,} agreements, "
        f"{dyad_years.num_rows:,} undirected dyad-years in force"
    )
    return Parsed({"": agreements, "_dyad_years": dyad_years}, coverage, unmapped)


MME = [
    Col("exercise_id", "str", ("MMEID",)),
    Col("name", "str", ("Ex_Name",)),
    Col("series", "str", ("Series_Name",), required=False),
    Col("gwcode", "int"),
    Col("country"),
    Col("year", "int", lo=1900, hi=2100),
    Col("location", "str", ("Location",), required=False),
    Col("lat", "float", lo=-90, hi=90, required=False),
    Col("lon", "float", lo=-180, hi=180, required=False),
    Col("start_year", "int", ("s.year",), lo=1900, hi=2100, required=False),
    Col("start_month", "int", ("s.month",), lo=1, hi=12, required=False),
    Col("start_day", "int", ("s.day",), lo=1, hi=31, required=False),
    Col("end_year", "int", ("e.year",), lo=1900, hi=2100, required=False),
    Col("end_month", "int", ("e.month",), lo=1, hi=12, required=False),
    Col("end_day", "int", ("e.day",), lo=1, hi=31, required=False),
    *[
        Col(flag.lower(), "int", (flag,), lo=0, hi=1, required=False)
        for flag in (
            "CPX",
            "Air",
            "Land",
            "Sea",
            "Amphibious",
            "Cyber",
            "Warfighting",
            "Peacekeeping",
            "Humanitarian",
        )
    ],
    Col("focus", "str", ("FocusDescription",), required=False),
    Col("participant_count", "int", lo=1, required=False),
]


def parse_exercises(paths: list[Path]) -> Parsed:
    """Multinational Military Exercises (D'Orazio & Galambos), one row per exercise and participant."""
    parts, unmapped = [], Unmapped()
    for path in paths:
        cols = read_table(path)
        out = select(cols, MME)
        out["iso3"] = to_iso3(
            out["gwcode"], "gw", column="gwcode", unmapped=unmapped, year=out["year"].to_pylist()
        )
        parts.append(pa.table(out))
    table = pa.concat_tables(parts)
    exercises = len(pc.unique(table.column("exercise_id")))
    coverage = coverage_years(
        table.column("year"), f"{exercises:,} exercises, {table.num_rows:,} participations"
    )
    return Parsed({"": table}, coverage, unmapped)


TROOPS = [
    Col("ccode", "int"),
    Col("country", "str", ("countryname",)),
    Col("year", "int", lo=1945, hi=2100),
    Col("month", required=False),
    Col("quarter", "int", lo=1, hi=4, required=False),
    Col("source", required=False),
    Col("troops", "float", ("troops_ad",), lo=0),
    Col("army", "float", ("army_ad",), lo=0, required=False),
    Col("navy", "float", ("navy_ad",), lo=0, required=False),
    Col("air_force", "float", ("air_force_ad",), lo=0, required=False),
    Col("marine_corps", "float", ("marine_corps_ad",), lo=0, required=False),
    Col("civilians", "float", ("total_civilian",), lo=0, required=False),
    Col("region", required=False),
]


def parse_us_troops(paths: list[Path]) -> Parsed:
    """US military personnel deployed by country (troopdata, Allen, Flynn & Machain)."""
    parts, unmapped = [], Unmapped()
    for path in paths:
        cols = read_table(path)
        out = select(cols, TROOPS)
        out["iso3"] = cow_iso3(cols, out["ccode"], out["year"], unmapped=unmapped)
        parts.append(pa.table(out))
    table = pa.concat_tables(parts)
    coverage = coverage_years(table.column("year"), f"{table.num_rows:,} country-periods")
    return Parsed({"": table}, coverage, unmapped)
