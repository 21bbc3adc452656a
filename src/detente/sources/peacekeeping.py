"""Peacekeeping: UN uniformed personnel by contributor and mission (IPI Peacekeeping
Database), UN deployments by location (Geo-PKO) and the civil-war country-months of
Hultman, Kathman & Shannon (2013).

**IPI** (International Peace Institute, Providing for Peacekeeping): monthly UN records of
the troops, police and experts on mission (military observers) each country contributes.
Its files are told apart by their header, any mix in one load:

* contributor-months: ``contributor, Date, Troops, Police, Experts`` (the long file), or
  one file per contributor (``countries/Kenya.csv``: ``Date, Troops, Police, Experts``, the
  contributor named by the file, ``_`` for spaces);
* contributor x mission x month (``full_data.csv``, the monthly ``current_month.csv`` and
  ``update_archive`` files): IPI's 73 columns, of which the lake keeps the contributor, the
  mission and its country (ISO3 from IPI's own columns, else from the name) and the
  personnel. ``police`` is formed police units plus individual police (IPI's older
  ``Civilian_Police`` where those are blank); ``experts`` is experts on mission (else
  ``Observers``). A contributor-month with mission rows but no total row gets the sum of
  its missions (``basis`` = ``missions``);
* mission-months (``data_mission.csv``): personnel per mission and month.

IPI's aggregates (by continent, region, grouping, month) are left out with a note: the lake
recomputes them. A blank personnel field in a row that exists means none of that kind (0).
A row in two files (the long file and a contributor's own file hold the same months) is
kept once; the same key with different figures is refused, naming both places.

**Geo-PKO** (Uppsala, v2.3, the dashboard's aggregated files): ``FrontMap`` deployments by
mission, year and location (troops: the year's mean over the mission maps and its
maximum; infantry, reserve, HQ level, police, observers, medical and aviation presence),
``TTMap`` unit types by location, ``TCCMap`` the contributing countries at each location
(``"Nepal (150), Jordan (size unknown)"`` split into rows; an unknown size is null).

**HKS 2013** (Hultman, Kathman & Shannon, "United Nations Peacekeeping and Civilian
Protection in Civil War", AJPS 2013): civil-war country-months with one-sided violence
and the *previous* month's UN troops, police and observers in thousands, as published.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from detente.core.errors import ValidationError
from detente.sources.tabular import (
    Col,
    Columns,
    Parsed,
    Unmapped,
    coverage_years,
    head_bytes,
    read_table,
    select,
    to_iso3,
)

__all__ = ["GEOPKO_UNUSED", "HKS_UNUSED", "IPI_UNUSED", "parse_geopko", "parse_hks", "parse_ipi"]

_GROUPS = (
    "NAM", "G77", "AU", "Arab_League", "OIC", "CIS", "G20", "EU", "NATO", "G8", "OECD", "ASEAN",
    "OAS", "Shanghai", "GCC", "UMA", "COMESA", "CENSAD", "EAC", "ECCAS", "ECOWAS", "IGAD", "SADC",
)  # fmt: skip
_PLACE = ("Capital", "Capital_Latitude", "Capital_Longitude", "Continent", "Region")
# Columns IPI documents that the lake leaves out (capitals, regions, memberships of groupings)
IPI_UNUSED = (
    *(f"Contributor_{c}" for c in (*_PLACE, "P5G4A3", *_GROUPS)),
    "Contributor UN_Bloc",
    *(f"Mission_{c}" for c in ("HQ", "HQ_Longitude", "HQ_Latitude", "Continent", "Region", "UN_Bloc")),
    *(f"Mission_{c}" for c in ("P5G4A3", *_GROUPS)),
    "Mission HQ", "Mission HQ Longitude", "Mission HQ Latitude", "Mission Continent", "Mission Region",
    *(f"Mission - {g.replace('_', ' ')}" for g in _GROUPS),
)  # fmt: skip
GEOPKO_UNUSED = ("NoTroops",)  # read through its yearly maximum
HKS_UNUSED: tuple[str, ...] = ()

IPI_FIRST = date(1948, 1, 1)  # UNTSO, the first UN mission
MONTH = re.compile(r"^\d{4}-\d{2}")


# ------------------------------------------------------------------ IPI
@dataclass
class _Ipi:
    """What the IPI files give, keyed so that a row in two files is kept once."""

    totals: dict[tuple[str, date], dict[str, Any]] = field(default_factory=dict)
    missions: dict[tuple[str, date, str], dict[str, Any]] = field(default_factory=dict)
    mission_months: dict[tuple[str, date], dict[str, Any]] = field(default_factory=dict)
    repeated: int = 0
    skipped: list[str] = field(default_factory=list)
    unmapped: Unmapped = field(default_factory=Unmapped)

    def add(
        self, table: dict[Any, dict[str, Any]], key: Any, row: dict[str, Any], figures: tuple[str, ...]
    ) -> None:
        """Keep ``row`` under ``key``; the same key again with the same ``figures`` counts as
        repeated, with other figures it is refused naming both places."""
        seen = table.get(key)
        if seen is None:
            table[key] = row
            return
        if any(seen[f] != row[f] for f in figures):
            theirs = ", ".join(f"{f} {seen[f]}" for f in figures)
            ours = ", ".join(f"{f} {row[f]}" for f in figures)
            raise ValidationError(
                f"{row['_where']}: {ours} where {seen['_where']} has {theirs} for the same "
                f"{' / '.join(str(k) for k in key)}"
            )
        self.repeated += 1


def _header(path: Path) -> list[str]:
    """The file's column names, from its first line only."""
    first = head_bytes(path, 1 << 16).decode("utf-8-sig", errors="replace").splitlines()
    return [c.strip() for c in next(csv.reader(first[:1]), [])]


def _layout(path: Path) -> str:
    names = set(_header(path))
    if {"Contributor", "Mission", "Troops", "Date"} <= names:
        return "missions"
    if {"contributor", "Date", "Troops", "Police", "Experts"} <= names:
        return "long"
    if {"Mission", "Country of Mission", "Troops", "Date"} <= names:
        return "mission_months"
    if {"Date", "Troops", "Police", "Experts"} <= names:
        return "contributor"
    if "Date" in names and names & {"Continent", "Region", "Grouping", "Number of Contributors"}:
        return "aggregate"
    raise ValidationError(
        f"{path}: not an IPI Peacekeeping Database file (found: {', '.join(sorted(names)[:30])}); "
        "expected contributor-months (contributor, Date, Troops, Police, Experts), a contributor's "
        "own file (Date, Troops, Police, Experts), contributor-mission-months (full_data.csv, "
        "current_month.csv) or mission-months (data_mission.csv)"
    )


def _counts(cols: Columns, names: Iterable[str]) -> dict[str, list[int | None]]:
    """Personnel columns as whole numbers >= 0 (blank, or a column the file lacks, is None here)."""
    blank: list[int | None] = [None] * len(cols)
    return {n: cols.ints(n, lo=0).to_pylist() if cols.has(n) else blank for n in names}


def _ym(day: date) -> tuple[int, int]:
    return day.year, day.month


def _contributor_rows(ipi: _Ipi, cols: Columns, names: list[str | None]) -> None:
    """Contributor-month totals (the long file, or one contributor's own file)."""
    days = cols.dates("Date", lo=IPI_FIRST).to_pylist()
    iso = to_iso3(names, "name", column="contributor", unmapped=ipi.unmapped).to_pylist()
    figures = _counts(cols, ("Troops", "Police", "Experts"))
    for i, day in enumerate(days):
        if day is None or names[i] is None:
            raise ValidationError(f"{cols.path}, line {cols.lines[i]}: no date or contributor")
        troops, police, experts = (figures[n][i] or 0 for n in ("Troops", "Police", "Experts"))
        row = {
            "contributor": names[i], "iso3": iso[i], "date": day, "troops": troops, "police": police,
            "experts": experts, "basis": "contributor", "_where": f"{cols.path}, line {cols.lines[i]}",
        }  # fmt: skip
        ipi.add(ipi.totals, (iso[i] or names[i], day), row, ("troops", "police", "experts"))


def _either(first: list[int | None], second: list[int | None], third: list[int | None]) -> list[int]:
    """first + second where either is given, else third (IPI's older single column), else 0."""
    out = []
    for a, b, c in zip(first, second, third, strict=True):
        out.append((a or 0) + (b or 0) if a is not None or b is not None else c or 0)
    return out


def _mission_rows(ipi: _Ipi, cols: Columns) -> None:
    """Contributor x mission x month rows (IPI's full layout)."""
    cols.require(("Contributor", "Mission", "Date", "Troops"))
    days = cols.dates("Date", lo=IPI_FIRST).to_pylist()
    names = [v.strip() if v else None for v in cols.data["Contributor"]]
    missions = [v.strip() if v else None for v in cols.data["Mission"]]
    iso = _iso_or_name(cols, "Contributor_ISO-3", "Contributor", ipi.unmapped)
    where = [c.rstrip("'").strip() if c else c for c in cols.data.get("Mission_Country", [None] * len(cols))]
    host = _iso_or_name(cols, "Mission_Country_ISO-3", "Mission_Country", ipi.unmapped, names=where)
    n = _counts(cols, _MISSION_FIGURES)
    police = _either(n["Formed_Police_Units"], n["Inidividual_Police"], n["Civilian_Police"])
    experts = _either(n["Experts_on_Mission"], [None] * len(cols), n["Observers"])
    for i, (day, name, mission) in enumerate(zip(days, names, missions, strict=True)):
        if day is None or not name or not mission:
            raise ValidationError(f"{cols.path}, line {cols.lines[i]}: no date, contributor or mission")
        troops = n["Troops"][i] or 0
        given = n["Total"][i]
        row = {
            "contributor": name, "iso3": iso[i], "date": day, "mission": mission,
            "mission_country": where[i], "mission_iso3": host[i], "troops": troops, "police": police[i],
            "formed_police": n["Formed_Police_Units"][i] or 0,
            "individual_police": n["Inidividual_Police"][i] or 0, "experts": experts[i],
            "total": given if given is not None else troops + police[i] + experts[i],
            "_where": f"{cols.path}, line {cols.lines[i]}",
        }  # fmt: skip
        ipi.add(ipi.missions, (iso[i] or name, day, mission), row, ("troops", "police", "experts"))


_MISSION_FIGURES = (
    "Troops", "Formed_Police_Units", "Inidividual_Police", "Civilian_Police", "Experts_on_Mission",
    "Observers", "Total",
)  # fmt: skip


def _iso_or_name(
    cols: Columns, code: str, name: str, unmapped: Unmapped, names: list[str | None] | None = None
) -> list[str | None]:
    """The file's own ISO3 code where it gives a three-letter one, else the name mapped."""
    names = names if names is not None else cols.data.get(name, [None] * len(cols))
    mapped = to_iso3(names, "name", column=name, unmapped=Unmapped()).to_pylist()
    codes = cols.data.get(code, [None] * len(cols))
    out = []
    for given, by_name, text in zip(codes, mapped, names, strict=True):
        given = (given or "").strip().upper()
        iso = given if len(given) == 3 and given.isalpha() else by_name
        if iso is None and text:
            unmapped.counts[f"{name}={text}"] += 1
        out.append(iso)
    return out


def _mission_month_rows(ipi: _Ipi, cols: Columns) -> None:
    """Personnel per mission and month (``data_mission.csv``)."""
    days = cols.dates("Date", lo=IPI_FIRST).to_pylist()
    host = _iso_or_name(cols, "Country of Mission ISO-3", "Country of Mission", ipi.unmapped)
    n = _counts(cols, ("Number of Contributors", "Troops", "Police", "Observers", "Total"))
    for i, day in enumerate(days):
        mission = cols.data["Mission"][i]
        if day is None or not mission:
            raise ValidationError(f"{cols.path}, line {cols.lines[i]}: no date or mission")
        row = {
            "date": day, "mission": mission.strip(), "mission_country": cols.data["Country of Mission"][i],
            "mission_iso3": host[i], "contributors": n["Number of Contributors"][i],
            "troops": n["Troops"][i] or 0, "police": n["Police"][i] or 0,
            "experts": n["Observers"][i] or 0, "total": n["Total"][i] or 0,
            "_where": f"{cols.path}, line {cols.lines[i]}",
        }  # fmt: skip
        ipi.add(ipi.mission_months, (mission.strip(), day), row, ("troops", "police", "experts"))


def _read_ipi(paths: list[Path]) -> _Ipi:
    ipi = _Ipi()
    for path in paths:
        layout = _layout(path)
        if layout == "aggregate":
            ipi.skipped.append(path.name)
        elif layout == "missions":
            _mission_rows(ipi, read_table(path))
        elif layout == "mission_months":
            _mission_month_rows(ipi, read_table(path))
        else:
            cols = read_table(path)
            if layout == "long":
                names = [v.strip() if v else None for v in cols.data["contributor"]]
            else:  # a contributor's own file: the name is the file's (``Antigua_and_Barbuda.csv``)
                names = [path.name.split(".")[0].replace("_", " ").strip()] * len(cols)
            _contributor_rows(ipi, cols, names)
    return ipi


def _arrow(rows: Iterable[dict[str, Any]], spec: dict[str, pa.DataType]) -> pa.Table:
    """Rows as a table ordered by date (then contributor and mission), with year and month."""
    ordered = sorted(rows, key=lambda r: (r["date"], str(r.get("iso3") or ""), str(r.get("mission") or "")))
    days = [r["date"] for r in ordered]
    data = {
        "date": pa.array(days, pa.date32()),
        "year": pa.array([d.year for d in days], pa.int64()),
        "month": pa.array([d.month for d in days], pa.int64()),
    }
    for name, kind in spec.items():
        if name != "date":
            data[name] = pa.array([r.get(name) for r in ordered], kind)
    return pa.table(data)


_INT, _STR = pa.int64(), pa.string()
TOTALS = {"date": pa.date32(), "contributor": _STR, "iso3": _STR, "troops": _INT, "police": _INT,
          "experts": _INT, "total": _INT, "basis": _STR}  # fmt: skip
MISSIONS = {"date": pa.date32(), "contributor": _STR, "iso3": _STR, "mission": _STR, "mission_country": _STR,
            "mission_iso3": _STR, "troops": _INT, "police": _INT, "formed_police": _INT,
            "individual_police": _INT, "experts": _INT, "total": _INT}  # fmt: skip
MISSION_MONTHS = {"date": pa.date32(), "mission": _STR, "mission_country": _STR, "mission_iso3": _STR,
                  "contributors": _INT, "troops": _INT, "police": _INT, "experts": _INT,
                  "total": _INT}  # fmt: skip


def _derived_totals(ipi: _Ipi) -> int:
    """Contributor-months that have mission rows and no total row: the sum of their missions."""
    added = 0
    for (who, day, _mission), row in sorted(ipi.missions.items(), key=lambda kv: kv[1]["_where"]):
        key = (who, day)
        total = ipi.totals.get(key)
        if total is None:
            total = {"contributor": row["contributor"], "iso3": row["iso3"], "date": day, "troops": 0,
                     "police": 0, "experts": 0, "basis": "missions"}  # fmt: skip
            ipi.totals[key] = total
            added += 1
        if total["basis"] == "missions":
            for f in ("troops", "police", "experts"):
                total[f] += row[f]
    return added


def _span(days: Iterable[date]) -> str:
    found = sorted(set(days))
    return f"{found[0]:%Y-%m} to {found[-1]:%Y-%m}" if found else "no months"


def parse_ipi(paths: list[Path]) -> Parsed:
    """IPI Peacekeeping Database files: contributor-months (and, where given, contributor
    x mission x month rows and mission-months)."""
    ipi = _read_ipi(paths)
    if not ipi.totals and not ipi.missions:
        raise ValidationError(
            f"{', '.join(p.name for p in paths)}: no contributor file (IPI's aggregates alone "
            "are not contributions)"
        )
    derived = _derived_totals(ipi)
    for row in ipi.totals.values():
        row["total"] = row["troops"] + row["police"] + row["experts"]
    totals = _arrow(ipi.totals.values(), TOTALS)
    tables = {"": totals}
    contributors = len(pc.unique(totals.column("contributor")))
    coverage = (
        f"{_span(totals.column('date').to_pylist())}, {contributors} contributor"
        f"{'s' if contributors != 1 else ''}, "
        f"{totals.num_rows:,} contributor-months"
    )
    if ipi.missions:
        tables["_missions"] = missions = _arrow(ipi.missions.values(), MISSIONS)
        coverage += (
            f"; {missions.num_rows:,} contributor-mission-months "
            f"({_span(missions.column('date').to_pylist())}, "
            f"{len(pc.unique(missions.column('mission')))} missions)"
        )
    if ipi.mission_months:
        tables["_mission_months"] = months = _arrow(ipi.mission_months.values(), MISSION_MONTHS)
        coverage += f"; {months.num_rows:,} mission-months ({_span(months.column('date').to_pylist())})"
    notes = []
    if ipi.skipped:
        notes.append(f"{', '.join(ipi.skipped)}: IPI aggregates, not loaded (the lake sums contributions)")
    if ipi.repeated:
        notes.append(f"{ipi.repeated:,} rows appeared in more than one file with the same figures: kept once")
    if derived:
        notes.append(f"{derived:,} contributor-months summed from their missions (no total row given)")
    last = max(totals.column("date").to_pylist())
    return Parsed(tables, coverage, ipi.unmapped, notes, version=f"IPI to {last:%Y-%m}")


# ------------------------------------------------------------------ Geo-PKO
_GEO_PLACE = [
    Col("mission"),
    Col("year", "int", lo=1948, hi=2100),
    Col("location"),
    Col("latitude", "float", lo=-90, hi=90),
    Col("longitude", "float", lo=-180, hi=180),
]
DEPLOYMENTS = [
    *_GEO_PLACE[:2],
    Col("country"),
    *_GEO_PLACE[2:],
    Col("troops_avg", "int", ("ave.no.troops",), lo=0),
    Col("infantry", "int", ("Infantry",), lo=0),
    Col("reserve", "int", ("Reserve",), lo=0),
    Col("hq", "int", lo=0, hi=3),
    Col("unpol", "int", ("UNPOL",), lo=0, hi=1),
    Col("unmo", "int", ("UNMO",), lo=0, hi=1),
    Col("medical", "int", ("Med",), lo=0, hi=1),
    Col("aviation", "int", ("Av",), lo=0),
]
UNITS = [
    *_GEO_PLACE,
    Col("infantry", "int", ("Infantry",), lo=0),
    *(Col(name, "int", (short,), lo=0) for name, short in (
        ("engineering", "eng"), ("medical", "med"), ("signals", "sig"), ("aviation", "av"),
        ("riverine", "riv"), ("maintenance", "maint"), ("transport", "trans"),
    )),
]  # fmt: skip
TCC = [*_GEO_PLACE, Col("contributors", "int", ("No.TCC",), lo=0), Col("overview", "str", ("year.overview",))]
_TCC_ITEM = re.compile(r"\s*(.+?) \((\d+|size unknown)\)(?:,|$)")


def _geo_layout(path: Path) -> str:
    names = set(_header(path))
    for layout, needed in (
        ("deployments", {"mission", "year", "country", "location", "ave.no.troops", "NoTroops"}),
        ("contributors", {"mission", "year", "location", "No.TCC", "year.overview"}),
        ("units", {"mission", "year", "location", "eng", "med", "sig", "trans"}),
    ):
        if needed <= names:
            return layout
    raise ValidationError(
        f"{path}: not a Geo-PKO file this loader reads (found: {', '.join(sorted(names)[:30])}); "
        "expected the Geo-PKO v2.3 deployments (FrontMap: mission, year, country, location, "
        "NoTroops, ave.no.troops ...), contributors (TCCMap: No.TCC, year.overview) or unit "
        "types (TTMap: eng, med, sig ...)"
    )


def _deployments(cols: Columns, unmapped: Unmapped) -> pa.Table:
    """One row per mission, year, country and location: the file has one per distinct troop
    count of the year's maps; the year's maximum is kept beside the provider's mean."""
    out = select(cols, DEPLOYMENTS)
    most = cols.ints("NoTroops", lo=0).to_pylist()
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    rows = pa.table(out).to_pylist()
    for row, troops in zip(rows, most, strict=True):
        key = (row["mission"], row["year"], row["country"], row["location"])
        seen = groups.setdefault(key, {**row, "troops_max": troops, "hq": row["hq"]})
        if troops is not None and (seen["troops_max"] is None or troops > seen["troops_max"]):
            seen["troops_max"] = troops
        seen["hq"] = max(seen["hq"] or 0, row["hq"] or 0)
    schema = pa.table(out).schema.append(pa.field("troops_max", _INT))
    table = pa.Table.from_pylist(list(groups.values()), schema=schema)
    iso = to_iso3(table.column("country"), "name", column="country", unmapped=unmapped)
    return table.add_column(3, "iso3", iso)


def _contributors(cols: Columns, unmapped: Unmapped) -> pa.Table:
    """The contributing countries at each location, one row each."""
    out = pa.table(select(cols, TCC)).to_pylist()
    rows = []
    for i, row in enumerate(out):
        items = _TCC_ITEM.findall(row["overview"] or "")
        if len(items) != row["contributors"]:
            raise ValidationError(
                f"{cols.path}, line {cols.lines[i]}, field year.overview: {len(items)} contributors "
                f"where No.TCC says {row['contributors']}"
            )
        for name, size in items:
            place = {k: row[k] for k in ("mission", "year", "location", "latitude", "longitude")}
            troops = None if size == "size unknown" else int(size)
            rows.append({**place, "contributor": name.strip(), "troops": troops})
    table = pa.Table.from_pylist(rows, schema=pa.schema([
        ("mission", _STR), ("year", _INT), ("location", _STR), ("latitude", pa.float64()),
        ("longitude", pa.float64()), ("contributor", _STR), ("troops", _INT),
    ]))  # fmt: skip
    iso = to_iso3(table.column("contributor"), "name", column="contributor", unmapped=unmapped)
    return table.add_column(6, "iso3", iso)


def parse_geopko(paths: list[Path]) -> Parsed:
    """Geo-PKO v2.3: deployments by location (required), with their contributors and unit types."""
    parts: dict[str, list[pa.Table]] = {"deployments": [], "contributors": [], "units": []}
    unmapped = Unmapped()
    for path in paths:
        layout = _geo_layout(path)
        cols = read_table(path)
        if layout == "deployments":
            parts[layout].append(_deployments(cols, unmapped))
        elif layout == "contributors":
            parts[layout].append(_contributors(cols, unmapped))
        else:
            parts[layout].append(pa.table(select(cols, UNITS)))
    if not parts["deployments"]:
        raise ValidationError(
            f"{', '.join(p.name for p in paths)}: no Geo-PKO deployments file (FrontMap_v.2.3.csv) among them"
        )
    tables = {"": pa.concat_tables(parts["deployments"])}
    main = tables[""]
    coverage = coverage_years(
        main.column("year"),
        f"{len(pc.unique(main.column('mission')))} missions, {main.num_rows:,} mission-year-locations",
    )
    for layout, suffix in (("contributors", "_contributors"), ("units", "_units")):
        if parts[layout]:
            tables[suffix] = pa.concat_tables(parts[layout])
            coverage += f"; {tables[suffix].num_rows:,} {layout} rows"
    return Parsed(tables, coverage, unmapped, version="2.3")


# ------------------------------------------------------------------ HKS 2013
HKS = [
    Col("country", "str", ("location",)),
    Col("year", "int", lo=1946, hi=2100),
    Col("month", "int", ("mon",), lo=1, hi=12),
    Col("osv", "int", ("osvAll",), lo=0),
    Col("troops_lag", "float", ("troopLag",), lo=0),
    Col("police_lag", "float", ("policeLag",), lo=0),
    Col("observers_lag", "float", ("militaryobserversLag",), lo=0),
    Col("brd_lag", "int", ("brv_AllLag",), lo=0),
    Col("osv_lag_any", "int", ("osvAllLagDum",), lo=0, hi=1),
    Col("incompatibility", "int", ("incomp",), lo=1, hi=3),
    Col("episode_months", "int", ("epduration",), lo=0),
    Col("ln_population", "float", ("lntpop",)),
]


def parse_hks(paths: list[Path]) -> Parsed:
    """Hultman, Kathman & Shannon (2013) civil-war country-months, with UN personnel of the
    month before (thousands) and ``pko_present`` (any of them above zero)."""
    parts, unmapped = [], Unmapped()
    for path in paths:
        cols = read_table(path)
        out = select(cols, HKS)
        iso = to_iso3(out["country"], "name", column="location", unmapped=unmapped)
        out = {"country": out.pop("country"), "iso3": iso, **out}
        personnel = pc.add(pc.add(out["troops_lag"], out["police_lag"]), out["observers_lag"])
        out["personnel_lag"] = personnel
        out["pko_present"] = pc.cast(pc.greater(personnel, 0), pa.int64())
        parts.append(pa.table(out))
    table = pa.concat_tables(parts)
    countries = len(pc.unique(table.column("country")))
    present = pc.sum(table.column("pko_present")).as_py() or 0
    coverage = coverage_years(
        table.column("year"),
        f"{countries} countries, {table.num_rows:,} country-months, "
        f"{present:,} with UN personnel the month before",
    )
    return Parsed({"": table}, coverage, unmapped, version="2013")
