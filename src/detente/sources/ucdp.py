"""UCDP (Uppsala Conflict Data Program): georeferenced events, armed conflicts, battle
deaths, one-sided violence, non-state conflicts, and peacesciencer's derived forms.

Every table keeps UCDP's identifiers and Gleditsch-Ward codes and adds ISO 3166 alpha-3
through the crosswalk (year-aware: a GW code means different states in different years).
UCDP writes several countries into one field (``"560, 571"``); those become lists.
Column names changed between releases (``best`` / ``best_est``, ``gwnob`` / ``gwno_b``,
GED 19.1 has no ``relid``); each table lists the names it accepts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from detente.core.bounded import check_json_depth
from detente.core.errors import ValidationError
from detente.sources.tabular import (
    Col,
    Columns,
    Parsed,
    Unmapped,
    code_list,
    coverage_years,
    head_bytes,
    iso3_lists,
    read_table,
    read_text,
    select,
    to_iso3,
)

__all__ = [
    "ACD_UNUSED",
    "BRD_UNUSED",
    "GED_UNUSED",
    "NONSTATE_UNUSED",
    "ONESIDED_UNUSED",
    "parse_acd",
    "parse_brd",
    "parse_ged",
    "parse_nonstate",
    "parse_onesided",
    "parse_onsets",
]

# Columns UCDP documents that the lake leaves out (ids of sides, sources' texts, precision
# codes...): a header column neither read nor listed here is reported by the load.
_SIDES = ("side_a_id", "side_a_2nd", "side_b_id", "side_b_2nd")
ACD_UNUSED = (*_SIDES, "start_prec", "start_prec2", "ep_end_prec", "version")
BRD_UNUSED = (*_SIDES, "territory_name", "version")
GED_UNUSED = (
    "active_year", "code_status", "conflict_dset_id", "dyad_dset_id", "side_a_dset_id",
    "side_b_dset_id", "number_of_sources", "source_article", "source_office", "source_date",
    "source_headline", "source_original", "where_coordinates", "where_description", "geom_wkt",
    "priogrid_gid", "gwnoa", "gwnob", "version",
)  # fmt: skip
ONESIDED_UNUSED = ("coalition_components", "actor_name_mothertongue", "version")
NONSTATE_UNUSED = (
    "side_a_name_fulltext", "side_a_name_mothertongue", "side_a_id", "side_a_components",
    "side_a_2nd", "gwno_a_2nd", "side_b_name_fulltext", "side_b_name_mothertongue", "side_b_id",
    "side_b_components", "side_b_2nd", "gwno_b_2nd", "start_date", "start_prec", "start_date2",
    "start_prec2", "ep_end", "ep_end_date", "ep_end_prec", "version",
)  # fmt: skip

YEAR = Col("year", "int", lo=1946, hi=2100)
GED = [
    Col("id"),  # whole numbers since 19.1; older releases used "SUD-2004-1-433-5"
    Col("relid", required=False),
    YEAR,
    Col("type_of_violence", "int", lo=1, hi=3),
    Col("conflict_new_id", "int"),
    Col("conflict_name"),
    Col("dyad_new_id", "int"),
    Col("dyad_name"),
    Col("side_a_new_id", "int"),
    Col("side_a"),
    Col("side_b_new_id", "int"),
    Col("side_b"),
    Col("where_prec", "int", lo=1, hi=7, required=False),
    Col("adm_1", required=False),
    Col("adm_2", required=False),
    Col("latitude", "float", lo=-90, hi=90),
    Col("longitude", "float", lo=-180, hi=180),
    Col("country"),
    Col("gwno", "int", ("country_id",)),
    Col("region", required=False),
    Col("event_clarity", "int", required=False),
    Col("date_prec", "int", required=False),
    Col("date_start", "date"),
    Col("date_end", "date"),
    Col("deaths_a", "int", lo=0),
    Col("deaths_b", "int", lo=0),
    Col("deaths_civilians", "int", lo=0),
    Col("deaths_unknown", "int", lo=0),
    Col("best", "int", ("best", "best_est"), lo=0),
    Col("low", "int", ("low", "low_est"), lo=0),
    Col("high", "int", ("high", "high_est"), lo=0),
]


def _geojson(path: Path) -> Columns:
    """A GED GeoJSON export (features whose properties are GED's columns) as columns."""
    text = read_text(path)
    check_json_depth(text, name=str(path))  # before json recurses into it
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        raise ValidationError(f"{path}: expected a GeoJSON FeatureCollection")
    names: list[str] = []
    rows: list[dict[str, Any]] = []
    for i, feature in enumerate(features):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            raise ValidationError(f"{path}: feature {i + 1} has no properties")
        props = dict(props)
        geometry = feature.get("geometry") or {}
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if "longitude" not in props and isinstance(coords, list) and len(coords) >= 2:
            props["longitude"], props["latitude"] = coords[0], coords[1]
        for k in props:
            if k not in names:
                names.append(k)
        rows.append(props)
    data = {
        n: [
            None if r.get(n) in (None, "") else str(r[n])[:10] if n.startswith("date_") else str(r[n])
            for r in rows
        ]
        for n in names
    }
    # a feature has no line of its own: report its ordinal as the "line"
    return Columns(path=path, names=names, data=data, lines=list(range(1, len(rows) + 1)))


def release(cols: Columns) -> str | None:
    """UCDP's own ``version`` column ("23.1", "22,1" or "221") as ``23.1``."""
    if not cols.has("version"):
        return None
    found = {v.strip().replace(",", ".") for v in cols.data["version"] if v and v.strip()}
    found = {f"{v[:2]}.{v[2:]}" if v.isdigit() and len(v) == 3 else v for v in found}
    return ", ".join(sorted(found)) or None


def _concat(parts: list[dict[str, pa.Array]]) -> pa.Table:
    return (
        pa.concat_tables([pa.table(p) for p in parts], promote_options="default") if parts else pa.table({})
    )


def parse_ged(paths: list[Path]) -> Parsed:
    """GED events from CSV (any release from 19.1) or GeoJSON."""
    parts, shifted = [], []
    for path in paths:
        head = head_bytes(path, 1).strip() if path.suffix.lower() in (".json", ".geojson") else b""
        cols = _geojson(path) if head == b"{" else read_table(path)
        if _shifted(cols):
            # some older exports lost the id column but kept its name: every value sits one
            # column left of its header; relid (then the event's identifier) stands in for id
            cols = read_table(path, header=False, skip_lines=1, names=[*cols.names[1:], "_trailing"])
            cols.data["id"] = cols.data["relid"]
            shifted.append(path.name)
        out = select(cols, GED)
        out["id"] = pa.array([_whole_text(v) for v in out["id"].to_pylist()], pa.string())
        if pc.any(pc.less(out["date_end"], out["date_start"])).as_py():
            i = pc.index(pc.less(out["date_end"], out["date_start"]), True).as_py()
            raise ValidationError(f"{path}, line {cols.lines[i]}, field date_end: before date_start")
        parts.append(out)
    table = _concat(parts)
    seen: set[str] = set()
    keep = [i not in seen and not seen.add(i) for i in table.column("id").to_pylist()]  # type: ignore[func-returns-value]
    duplicates = keep.count(False)
    if duplicates:  # files that overlap (a country and one of its regions): each event once
        table = table.filter(pa.array(keep))
    unmapped = Unmapped()
    iso = to_iso3(
        table.column("gwno"),
        "gw",
        column="country_id",
        unmapped=unmapped,
        year=table.column("year").to_pylist(),
    )
    table = table.append_column("iso3", iso)
    coverage = coverage_years(
        table.column("year"), f"{table.num_rows:,} events, {len(pc.unique(iso))} countries"
    )
    notes = (
        [f"{', '.join(shifted)}: columns shifted one left of the header (no id); relid used as id"]
        if shifted
        else []
    )
    if duplicates:
        notes.append(f"{duplicates:,} events appeared in more than one file and were kept once")
    return Parsed({"": table}, coverage, unmapped, notes)


def _whole_text(value: str | None) -> str | None:
    """``"300380.0"`` (ids re-saved as floats by R or pandas) -> ``"300380"``."""
    if value and value.endswith(".0") and value[:-2].isdigit():
        return value[:-2]
    return value


def _shifted(cols: Columns) -> bool:
    return (
        bool(cols.names)
        and cols.names[0] == "id"
        and cols.has("active_year")
        and len(cols) > 0
        and (cols.data["year"][0] or "").strip() in ("True", "False")
        and (cols.data["active_year"][0] or "") not in ("True", "False", "0", "1")
    )


def _with_lists(cols: Columns, out: dict[str, pa.Array], fields: list[str], unmapped: Unmapped) -> None:
    years = out["year"].to_pylist()
    for name in fields:
        if not cols.has(name):
            continue
        codes = code_list(cols.data[name], cols, name)
        out[name] = pa.array(codes, pa.list_(pa.int64()))
        out[name.replace("gwno", "iso3")] = iso3_lists(codes, "gw", years, column=name, unmapped=unmapped)


_INCOMPATIBILITY = {"territory": 1, "government": 2, "both": 3}
_CONFLICT_TYPE = {
    "extrasystemic": 1,
    "interstate": 2,
    "intrastate": 3,
    "internationalized intrastate": 4,
    "ii": 4,
}


def _coded(cols: Columns, name: str, words: dict[str, int]) -> pa.Array:
    out: list[int | None] = []
    for i, v in enumerate(cols.data[name]):
        if v is None:
            out.append(None)
            continue
        text = v.strip().lower()
        if text in words:
            out.append(words[text])
            continue
        try:
            out.append(int(float(text)))
        except ValueError:
            raise ValidationError(
                f"{cols.path}, line {cols.lines[i]}, field {name}: {v!r} is not one of {', '.join(words)}"
            ) from None
    return pa.array(out, pa.int64())


ACD = [
    Col("conflict_id", "int"),
    YEAR,
    Col("location", required=False),
    Col("side_a", required=False),
    Col("side_b", required=False),
    Col("territory_name", required=False),
    Col("intensity_level", "int", lo=1, hi=2),
    Col("cumulative_intensity", "int", required=False),
    Col("start_date", "date", required=False),
    Col("start_date2", "date", required=False),
    Col("ep_end", "int", required=False),
    Col("ep_end_date", "date", required=False),
    Col("region", required=False),
]


def parse_acd(paths: list[Path]) -> Parsed:
    """UCDP/PRIO Armed Conflict Dataset (official CSV, or peacesciencer's ``ucdp_acd``)."""
    parts, unmapped = [], Unmapped()
    for path in paths:
        cols = read_table(path, required=("incompatibility", "type_of_conflict", "gwno_a"))
        out = select(cols, ACD)
        out["incompatibility"] = _coded(cols, "incompatibility", _INCOMPATIBILITY)
        out["type_of_conflict"] = _coded(cols, "type_of_conflict", _CONFLICT_TYPE)
        _with_lists(cols, out, ["gwno_a", "gwno_a_2nd", "gwno_b", "gwno_b_2nd", "gwno_loc"], unmapped)
        for name in ("gwno_a_2nd", "gwno_b", "gwno_b_2nd", "gwno_loc"):
            if name not in out:
                out[name] = pa.nulls(len(cols), pa.list_(pa.int64()))
                out[name.replace("gwno", "iso3")] = pa.nulls(len(cols), pa.list_(pa.string()))
        parts.append(out)
    table = _concat(parts)
    coverage = coverage_years(
        table.column("year"),
        f"{table.num_rows:,} conflict-years, {len(pc.unique(table.column('conflict_id')))} conflicts",
    )
    return Parsed({"": table}, coverage, unmapped, version=release(cols))


def _with_code_lists(
    paths: list[Path], spec: list[Col], lists: list[str], required: tuple[str, ...]
) -> tuple[pa.Table, Unmapped, str | None]:
    """Each file read by ``spec``, its GW code-list fields mapped to ISO3 lists; the
    tables concatenated, the misses counted, UCDP's release read from the (last) file."""
    parts, unmapped, version = [], Unmapped(), None
    for path in paths:
        cols = read_table(path, required=required)
        out = select(cols, spec)
        _with_lists(cols, out, lists, unmapped)
        parts.append(out)
        version = release(cols)
    return _concat(parts), unmapped, version


BRD = [
    Col("conflict_id", "int"),
    Col("dyad_id"),  # "11979, 11978" where a dyad was merged
    YEAR,
    Col("side_a"),
    Col("side_b"),
    Col("location_inc", required=False),
    Col("battle_location", required=False),
    Col("incompatibility", "int", lo=1, hi=3),
    Col("type_of_conflict", "int", lo=1, hi=4),
    Col("bd_best", "int", lo=0),
    Col("bd_low", "int", lo=0),
    Col("bd_high", "int", lo=0),
    Col("region", required=False),
]


def parse_brd(paths: list[Path]) -> Parsed:
    """UCDP battle-related deaths, dyadic (dyad-year)."""
    lists = ["gwno_a", "gwno_a_2nd", "gwno_b", "gwno_b_2nd", "gwno_loc", "gwno_battle"]
    table, unmapped, version = _with_code_lists(paths, BRD, lists, ("gwno_a", "gwno_loc"))
    deaths = pc.sum(table.column("bd_best")).as_py() or 0
    coverage = coverage_years(
        table.column("year"), f"{table.num_rows:,} dyad-years, {deaths:,} deaths (best)"
    )
    return Parsed({"": table}, coverage, unmapped, version=version)


FATALITIES = [
    Col("best", "int", ("best_fatality_estimate", "best"), lo=0),
    Col("low", "int", ("low_fatality_estimate", "low"), lo=0),
    Col("high", "int", ("high_fatality_estimate", "high"), lo=0),
]
ONESIDED = [
    Col("conflict_id", "int"),
    Col("dyad_id", "int"),
    Col("actor_id", "int"),
    Col("actor_name"),
    Col("actor_name_fulltext", required=False),  # "LRA" is "Lord's Resistance Army" here
    YEAR,
    *FATALITIES,
    Col("is_government_actor", "int", lo=0, hi=1),
    Col("location", required=False),
    Col("region", required=False),
]


def parse_onesided(paths: list[Path]) -> Parsed:
    """UCDP one-sided violence (actor-year)."""
    table, unmapped, version = _with_code_lists(
        paths, ONESIDED, ["gwno_location", "gwnoa"], ("gwno_location",)
    )
    coverage = coverage_years(table.column("year"), f"{table.num_rows:,} actor-years")
    return Parsed({"": table}, coverage, unmapped, version=version)


NONSTATE = [
    Col("conflict_id", "int"),
    Col("dyad_id", "int"),
    Col("side_a", "str", ("side_a_name", "side_a")),
    Col("side_b", "str", ("side_b_name", "side_b")),
    Col("org", "int", lo=1, hi=3),
    YEAR,
    *FATALITIES,
    Col("location", required=False),
    Col("region", required=False),
]


def parse_nonstate(paths: list[Path]) -> Parsed:
    """UCDP non-state conflict (dyad-year)."""
    table, unmapped, version = _with_code_lists(paths, NONSTATE, ["gwno_location"], ("gwno_location",))
    coverage = coverage_years(table.column("year"), f"{table.num_rows:,} dyad-years")
    return Parsed({"": table}, coverage, unmapped, version=version)


ONSETS = [
    Col("gwcode", "int"),
    Col("year", "int", lo=1816, hi=2100),
    Col("sumnewconf", "int", lo=0),
    Col("sumonset1", "int", lo=0),
    Col("sumonset2", "int", lo=0),
    Col("sumonset3", "int", lo=0),
    Col("sumonset5", "int", lo=0),
    Col("sumonset10", "int", lo=0),
]


def parse_onsets(paths: list[Path]) -> Parsed:
    """peacesciencer's UCDP onsets by country-year (``ucdp_onsets``)."""
    parts, unmapped = [], Unmapped()
    for path in paths:
        cols = read_table(path)
        out = select(cols, ONSETS)
        out["iso3"] = to_iso3(
            out["gwcode"], "gw", column="gwcode", unmapped=unmapped, year=out["year"].to_pylist()
        )
        parts.append(out)
    table = _concat(parts)
    return Parsed(
        {"": table}, coverage_years(table.column("year"), f"{table.num_rows:,} country-years"), unmapped
    )
