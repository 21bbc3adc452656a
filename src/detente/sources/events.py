"""CAMEO-coded event data: GDELT 1.0 and 2.0 exports and ICEWS, normalised to one schema.

GDELT publishes events as tab-separated files without a header: 57 columns in the 1.0
backfile (1979 to March 2013), 58 in the 1.0 daily files (``SOURCEURL`` added), 61 in the
2.0 15-minute exports (``ADM2Code`` in each geography block, ``DATEADDED`` to the second).
Copies re-saved by R or pandas carry a header line (and sometimes extra columns, ``NA``
nulls, commas); both are read, by field count or by column name, row by row, so a file
mixing layouts is read correctly.

ICEWS (Harvard Dataverse) publishes tab-separated files with a header (``Event ID``,
``Event Date``, ``Source Name``, ``Source Sectors``, ``Source Country``, ``CAMEO Code``,
``Intensity``, ...). The research copy ``ICEWS14`` of the temporal-knowledge-graph
literature (``entity2id.txt``, ``relation2id.txt``, ``train/valid/test.txt``) is read too:
relation names are CAMEO descriptions, mapped to codes through the lake's CAMEO codebook.

All become raw GDELT-named text columns, and the portable SQL in ``pipeline.py`` turns
them into the ``events`` schema: date, source and target country (ISO3) and actor type,
CAMEO code, root, quad class, Goldstein value, location, source id, dataset.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]

from detente.core.countries import convert
from detente.core.errors import ValidationError
from detente.sources import pipeline
from detente.sources.tabular import (
    NULLS,
    PROGRESS_EVERY,
    Parsed,
    Unmapped,
    coverage_years,
    parse_date,
    read_table,
    read_text,
    report_rows,
)

__all__ = ["GDELT_COLUMNS", "GDELT_LAYOUTS", "ICEWS_COLUMNS", "gdelt_names", "parse_gdelt", "parse_icews"]

_ACTOR = [
    "Code",
    "Name",
    "CountryCode",
    "KnownGroupCode",
    "EthnicCode",
    "Religion1Code",
    "Religion2Code",
    "Type1Code",
    "Type2Code",
    "Type3Code",
]
_EVENT = [
    "IsRootEvent",
    "EventCode",
    "EventBaseCode",
    "EventRootCode",
    "QuadClass",
    "GoldsteinScale",
    "NumMentions",
    "NumSources",
    "NumArticles",
    "AvgTone",
]


def _geo(adm2: bool) -> list[str]:
    parts = ["Type", "FullName", "CountryCode", "ADM1Code", *(["ADM2Code"] if adm2 else [])]
    return [*parts, "Lat", "Long", "FeatureID"]


def gdelt_names(columns: int) -> list[str]:
    """GDELT's column names for a layout of 57, 58 or 61 columns."""
    if columns not in (57, 58, 61):
        raise ValueError(columns)
    adm2 = columns == 61
    names = ["GLOBALEVENTID", "SQLDATE", "MonthYear", "Year", "FractionDate"]
    names += [f"Actor1{a}" for a in _ACTOR] + [f"Actor2{a}" for a in _ACTOR] + _EVENT
    for block in ("Actor1Geo_", "Actor2Geo_", "ActionGeo_"):
        names += [block + g for g in _geo(adm2)]
    names += ["DATEADDED"] + (["SOURCEURL"] if columns >= 58 else [])
    assert len(names) == columns
    return names


GDELT_LAYOUTS = {n: gdelt_names(n) for n in (57, 58, 61)}
GDELT_COLUMNS = tuple(dict.fromkeys(name for names in GDELT_LAYOUTS.values() for name in names))
# ICEWS's documented columns (Harvard Dataverse): those the loader does not read are known
ICEWS_COLUMNS = (
    "Event ID", "Event Date", "Source Name", "Source Sectors", "Source Country", "Event Text",
    "CAMEO Code", "Intensity", "Target Name", "Target Sectors", "Target Country", "Story ID",
    "Sentence Number", "Publisher", "City", "District", "Province", "Country", "Latitude",
    "Longitude",
)  # fmt: skip
_POSITIONS = {n: {name: i for i, name in enumerate(names)} for n, names in GDELT_LAYOUTS.items()}
_NEEDED = [c for c in pipeline.RAW_COLUMNS if c != "dataset"]
_REQUIRED = ("GLOBALEVENTID", "SQLDATE", "Actor1CountryCode", "Actor2CountryCode", "EventCode")
_CODE = re.compile(r"^[0-9]{2,4}$")
_INT = re.compile(r"^-?[0-9]+$")
FIRST_DAY = date(1979, 1, 1)

# CAMEO country codes that are not ISO 3166 alpha-3 (regions such as AFR, EUR, WST are not
# countries and are reported as unmapped)
CAMEO_COUNTRIES = {"ROM": "ROU", "TMP": "TLS", "ZAR": "COD", "KOS": "XKX", "SRB": "SRB", "MNE": "MNE"}


class _RawEvents:
    """Raw GDELT-named text columns gathered from any number of files, row checked."""

    def __init__(self) -> None:
        self.cols: dict[str, list[str | None]] = {c: [] for c in pipeline.RAW_COLUMNS}
        self.files: Counter[str] = Counter()

    def add(self, values: dict[str, str | None], where: str, dataset: str) -> None:
        """Check one event's date, event code and numbers, and keep its columns."""
        day = values.get("SQLDATE")
        if day is None or not (len(day) == 8 and day.isdigit()):
            raise ValidationError(f"{where}, field SQLDATE: {day!r} is not a date YYYYMMDD")
        parse_date(day, f"{where}, field SQLDATE", FIRST_DAY, date.today() + timedelta(days=2))
        code = values.get("EventCode")
        if code is None or not _CODE.match(code):
            raise ValidationError(f"{where}, field EventCode: {code!r} is not a CAMEO event code")
        for name, lo, hi in (
            ("GoldsteinScale", -10.0, 10.0),
            ("ActionGeo_Lat", -90.0, 90.0),
            ("ActionGeo_Long", -180.0, 180.0),
        ):
            v = values.get(name)
            if v is not None:
                try:
                    x = float(v)
                except ValueError:
                    raise ValidationError(f"{where}, field {name}: {v!r} is not a number") from None
                if not lo <= x <= hi:
                    raise ValidationError(f"{where}, field {name}: {x} is outside [{lo}, {hi}]")
        for c in _NEEDED:
            self.cols[c].append(values.get(c))
        self.cols["dataset"].append(dataset)

    def table(self) -> pa.Table:
        """The events gathered, as text columns."""
        return pa.table({c: pa.array(v, pa.string()) for c, v in self.cols.items()})


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    v = value.strip()
    return None if v in NULLS else v


def _read_gdelt_file(path: Path, raw: _RawEvents) -> None:
    text = read_text(path)
    first = text.split("\n", 1)[0]
    head = first.split("\t" if "\t" in first else ",", 1)[0].strip().strip('"').upper()
    if head == "GLOBALEVENTID":
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
        table = read_table(path, delimiter=delimiter, required=_REQUIRED, text=text)
        for i in range(len(table)):
            values = {c: _clean(table.data[c][i]) if c in table.data else None for c in _NEEDED}
            layout = "gdelt2" if len(table.names) >= 61 or "Actor1Geo_ADM2Code" in table.data else "gdelt1"
            raw.add(values, f"{path}, line {table.lines[i]}", layout)
        raw.files[str(path)] = len(table)
        return
    if "\t" not in first:
        raise ValidationError(
            f"{path}, line 1: expected GDELT's tab-separated columns (or a header line "
            "starting GLOBALEVENTID)"
        )
    rows = 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    for number, row in enumerate(reader, start=1):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        positions = _POSITIONS.get(len(row))
        if positions is None:
            raise ValidationError(
                f"{path}, line {number}: {len(row)} fields; GDELT events have 57 (1.0 backfile), "
                "58 (1.0 daily) or 61 (2.0)"
            )
        values = {c: _clean(row[positions[c]]) if c in positions else None for c in _NEEDED}
        raw.add(values, f"{path}, line {number}", "gdelt2" if len(row) == 61 else "gdelt1")
        rows += 1
        if rows % PROGRESS_EVERY == 0:
            report_rows(PROGRESS_EVERY)
    report_rows(rows % PROGRESS_EVERY)
    raw.files[str(path)] = rows


def _normalise(raw: pa.Table, lookup: pa.Table) -> pa.Table:
    with duckdb.connect() as db:
        db.register("raw_events", raw)
        db.register("country_lookup", lookup)
        return pipeline.run_duckdb(db, aggregate=False).arrow().read_all()


def _lookup(values: list[Any], system: str, unmapped: Unmapped, counts: Counter[Any]) -> pa.Table:
    """code -> iso3 for the distinct values; misses are counted by the rows they touch."""
    distinct = [v for v in counts if v is not None]
    aliased = [CAMEO_COUNTRIES.get(v, v) if system == "iso3" else v for v in distinct]
    mapped: list[Any] = list(convert(aliased, system, "iso3")) if distinct else []
    for value, iso in zip(distinct, mapped, strict=True):
        if iso is None:
            unmapped.counts[f"country={value}"] += counts[value]
    return pa.table({"code": pa.array(distinct, pa.string()), "iso3": pa.array(list(mapped), pa.string())})


def country_lookup(codes: list[Any], system: str = "iso3") -> tuple[pa.Table, Unmapped]:
    """``country_lookup(code, iso3)`` for the pipeline from raw country values."""
    unmapped = Unmapped()
    counts: Counter[Any] = Counter(codes)
    return _lookup(list(counts), system, unmapped, counts), unmapped


def static_country_lookup() -> pa.Table:
    """``country_lookup`` for every ISO3 code of the crosswalk plus CAMEO's own codes,
    without reading the data first (one pass over GDELT-scale files); codes outside it
    (regions such as AFR, EUR) stay unmapped."""
    from detente.core.countries import countries

    pairs = {c.iso3: c.iso3 for c in countries() if c.iso3}
    pairs.update(CAMEO_COUNTRIES)
    codes = sorted(pairs)
    return pa.table(
        {"code": pa.array(codes, pa.string()), "iso3": pa.array([pairs[c] for c in codes], pa.string())}
    )


def _finish(raw: pa.Table, system: str, what: str) -> Parsed:
    unmapped = Unmapped()
    counts: Counter[Any] = Counter(raw.column("Actor1CountryCode").to_pylist())
    counts.update(raw.column("Actor2CountryCode").to_pylist())
    lookup = _lookup(list(counts), system, unmapped, counts)
    events = _normalise(raw, lookup)
    years = events.column("year")
    return Parsed(
        tables={"": events},
        coverage=coverage_years(years, f"{events.num_rows:,} {what} events"),
        unmapped=unmapped,
    )


def parse_gdelt(paths: list[Path]) -> Parsed:
    """GDELT event files (raw 57, 58 or 61 columns, or with GDELT's header) as the events table."""
    raw = _RawEvents()
    for path in paths:
        _read_gdelt_file(path, raw)
    parsed = _finish(raw.table(), "iso3", "GDELT")
    parsed.notes.append("files: " + ", ".join(f"{Path(f).name} ({n:,})" for f, n in raw.files.items()))
    return parsed


# ------------------------------------------------------------------ ICEWS
_ICEWS_REQUIRED = ("Event ID", "Event Date", "Source Country", "CAMEO Code", "Intensity", "Target Country")

# actor type (CAMEO's codes) from ICEWS sector names or actor names, first match wins
_TYPES = [
    ("MIL", r"military|army|navy|air force|armed forces|defen[cs]e|soldier|marine"),
    ("COP", r"police"),
    ("SPY", r"intelligence"),
    ("REB", r"rebel|insurgent|militant|separatist|guerrilla"),
    ("JUD", r"judic|court|judge"),
    ("LEG", r"legislat|parliament"),
    ("GOV", r"government|ministry|cabinet|president|minister|executive|head of government"),
    ("OPP", r"opposition|dissident"),
    ("MED", r"media|news|journalist"),
    ("BUS", r"business|company|corporat"),
    ("CVL", r"citizen|civilian"),
    ("IGO", r"intergovernmental|united nations"),
    ("NGO", r"ngo|non-governmental"),
]
_TYPE_RE = [(code, re.compile(pattern, re.I)) for code, pattern in _TYPES]


def actor_type(text: str | None) -> str | None:
    """The CAMEO actor type (GOV, MIL, REB, ...) an ICEWS sector text names, or None."""
    if not text:
        return None
    for code, pattern in _TYPE_RE:
        if pattern.search(text):
            return code
    return None


def _icews_official(path: Path, raw: _RawEvents) -> None:
    table = read_table(path, delimiter="\t", required=_ICEWS_REQUIRED)
    d = table.data
    for i in range(len(table)):
        where = f"{path}, line {table.lines[i]}"
        day = d["Event Date"][i]
        parsed = parse_date(day or "", f"{where}, field Event Date", FIRST_DAY, date.today())
        code = (d["CAMEO Code"][i] or "").strip()
        place = ", ".join(
            p for p in (d.get("City", [None] * len(table))[i], d.get("Province", [None] * len(table))[i]) if p
        )
        values = {
            "GLOBALEVENTID": d["Event ID"][i],
            "SQLDATE": parsed.strftime("%Y%m%d"),
            "Actor1CountryCode": _clean(d["Source Country"][i]),
            "Actor1Type1Code": actor_type(d.get("Source Sectors", [None] * len(table))[i]),
            "Actor2CountryCode": _clean(d["Target Country"][i]),
            "Actor2Type1Code": actor_type(d.get("Target Sectors", [None] * len(table))[i]),
            "EventCode": code,
            "GoldsteinScale": _clean(d["Intensity"][i]),
            "ActionGeo_FullName": place or _clean(d.get("Country", [None] * len(table))[i]),
            "ActionGeo_Lat": _clean(d.get("Latitude", [None] * len(table))[i]),
            "ActionGeo_Long": _clean(d.get("Longitude", [None] * len(table))[i]),
        }
        raw.add(values, where, "icews")
    raw.files[str(path)] = len(table)


# ICEWS names some CAMEO events by the CAMEO manual's wording where GDELT's lookup table
# (the codebook detente loads) abbreviates or misspells them
ICEWS_RELATIONS = {
    "make an appeal or request": "020",
    "express intent to engage in diplomatic cooperation such as policy support": "032",
    "express intent to provide material aid": "033",
    "meet at a third location": "044",
    "appeal to engage in or accept mediation": "028",
    "demand diplomatic cooperation such as policy support": "102",
    "threaten with political dissent protest": "133",
    "threaten with military force": "138",
    "conduct suicide car or other non military bombing": "183",
}

_TKG_START = {"ICEWS14": date(2014, 1, 1), "ICEWS18": date(2018, 1, 1), "ICEWS05-15": date(2005, 1, 1)}


def _fold(text: str) -> str:
    text = re.sub(r",? not specified below", "", text.lower())
    text = text.replace("_", " ")
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def _tkg_ids(path: Path) -> dict[int, str]:
    out: dict[int, str] = {}
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, ident = line.rpartition("\t")
        if not sep or not ident.strip().isdigit():
            raise ValidationError(f"{path}, line {number}: expected NAME TAB ID")
        out[int(ident)] = name
    return out


def _tkg_country(name: str) -> tuple[str | None, str | None]:
    """(country text, sector text) of an ICEWS actor name such as ``Military_(Ukraine)``."""
    match = re.match(r"^(.*)_\((.+)\)$", name)
    if match:
        return match.group(2).replace("_", " "), match.group(1).replace("_", " ")
    return name.replace("_", " "), None


@dataclass(frozen=True)
class _TkgCopy:
    """The knowledge-graph copy's id files, resolved: what each id in a triple means."""

    start: date  # its times count hours from this day
    entities: dict[int, str]
    relations: dict[int, str]
    codes: dict[int, tuple[str, float] | None]  # relation id -> (CAMEO code, Goldstein score)
    countries: dict[int, str | None]  # entity id -> ISO3
    types: dict[int, str | None]  # entity id -> CAMEO actor type


def _tkg_copy(by_name: dict[str, Path], cameo: dict[str, tuple[str, float]] | None) -> _TkgCopy:
    """Check the copy has its id files and says which copy it is, and resolve its ids."""
    for needed in ("entity2id.txt", "relation2id.txt"):
        if needed not in by_name:
            raise ValidationError(f"the ICEWS knowledge-graph copy needs {needed} beside its triples")
    if cameo is None:
        raise ValidationError(
            "the ICEWS knowledge-graph copy names CAMEO events by description: load the CAMEO "
            "codebook first (detente sources load cameo CAMEO.eventcodes.txt CAMEO.goldsteinscale.txt)"
        )
    folder = by_name["entity2id.txt"].parent.name.upper()
    start = next((d for k, d in _TKG_START.items() if k in folder), None)
    if start is None:
        raise ValidationError(
            f"{by_name['entity2id.txt'].parent}: the folder name must say which copy this is "
            f"({', '.join(_TKG_START)}): its times count hours from that copy's first day"
        )
    entities = _tkg_ids(by_name["entity2id.txt"])
    relations = _tkg_ids(by_name["relation2id.txt"])
    by_description = {_fold(desc): (code, g) for code, (desc, g) in cameo.items()}
    for folded, code in ICEWS_RELATIONS.items():
        if code in cameo:
            by_description.setdefault(folded, (code, cameo[code][1]))
    codes = {i: by_description.get(_fold(n)) for i, n in relations.items()}
    countries, types = _tkg_actors(entities)
    return _TkgCopy(start, entities, relations, codes, countries, types)


def _tkg_actors(entities: dict[int, str]) -> tuple[dict[int, str | None], dict[int, str | None]]:
    """Each entity's country (ISO3) and CAMEO actor type, from names like ``Military_(Ukraine)``."""
    countries: dict[int, str | None] = {}
    types: dict[int, str | None] = {}
    named = {i: _tkg_country(n) for i, n in entities.items()}
    texts = sorted({c for c, _ in named.values() if c})
    resolved = dict(zip(texts, convert(texts, "name", "iso3"), strict=True))
    # a bare name is a country only if the crosswalk names it back the same way
    back = dict(zip(texts, convert([resolved[t] for t in texts], "iso3", "name"), strict=True))
    for i, (country, sector) in named.items():
        iso = resolved.get(country) if country else None
        if (
            sector is None
            and country
            and iso is not None
            and _fold(back.get(country) or "") != _fold(country)
        ):
            iso = None
        countries[i] = iso
        types[i] = actor_type(sector) if sector else ("GOV" if iso else None)
    return countries, types


def _tkg_triples(path: Path, copy: _TkgCopy, raw: _RawEvents, unknown_relations: Counter[str]) -> int:
    """Add one split file's triples to ``raw``; the events with an actor without a country."""
    split, rows, no_country = path.name, 0, 0
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        where = f"{path}, line {number}"
        if len(parts) < 4 or not all(_INT.match(p.strip()) for p in parts[:4]):
            raise ValidationError(f"{where}: expected SUBJECT TAB RELATION TAB OBJECT TAB TIME ids")
        s, r, o, t = (int(p) for p in parts[:4])
        for ident, table, what in (
            (s, copy.entities, "entity"),
            (r, copy.relations, "relation"),
            (o, copy.entities, "entity"),
        ):
            if ident not in table:
                raise ValidationError(f"{where}: {what} id {ident} is not in its id file")
        if t < 0 or t % 24:
            raise ValidationError(f"{where}: time {t} is not a whole day in hours")
        found = copy.codes[r]
        if found is None:
            unknown_relations[copy.relations[r]] += 1
            continue
        code, goldstein = found
        if copy.countries[s] is None or copy.countries[o] is None:
            no_country += 1
        day = copy.start + timedelta(days=t // 24)
        raw.add(
            {
                "GLOBALEVENTID": f"{split[:-4]}:{number}",
                "SQLDATE": day.strftime("%Y%m%d"),
                "Actor1CountryCode": copy.countries[s],
                "Actor1Type1Code": copy.types[s],
                "Actor2CountryCode": copy.countries[o],
                "Actor2Type1Code": copy.types[o],
                "EventCode": code,
                "GoldsteinScale": str(goldstein),
            },
            where,
            "icews",
        )
        rows += 1
    raw.files[str(path)] = rows
    return no_country


def _icews_tkg(paths: list[Path], cameo: dict[str, tuple[str, float]] | None) -> Parsed:
    """The ICEWS knowledge-graph copy (ICEWS14, ICEWS18, ICEWS05-15): id files and triples."""
    by_name = {p.name: p for p in paths}
    copy = _tkg_copy(by_name, cameo)
    raw = _RawEvents()
    no_country = 0
    unknown_relations: Counter[str] = Counter()
    for split in ("train.txt", "valid.txt", "test.txt"):
        path = by_name.get(split)
        if path is not None:
            no_country += _tkg_triples(path, copy, raw, unknown_relations)
    if not raw.files:
        raise ValidationError("the ICEWS knowledge-graph copy needs train.txt, valid.txt or test.txt")
    parsed = _finish(raw.table(), "iso3", "ICEWS")
    if unknown_relations:
        parsed.unmapped.counts.update({f"relation={k}": n for k, n in unknown_relations.items()})
        parsed.notes.append(
            f"{sum(unknown_relations.values()):,} events with a relation not in the CAMEO codebook "
            "were not loaded (listed below)"
        )
    parsed.notes.append(
        f"{no_country:,} events have an actor without a country (people and organisations "
        "the copy names without one)"
    )
    return parsed


def parse_icews(paths: list[Path], cameo: dict[str, tuple[str, float]] | None = None) -> Parsed:
    """ICEWS: the official tab-separated files, or the knowledge-graph copy's folder files."""
    names = {p.name for p in paths}
    if "entity2id.txt" in names or "relation2id.txt" in names:
        return _icews_tkg(paths, cameo)
    raw = _RawEvents()
    for path in paths:
        _icews_official(path, raw)
    return _finish(raw.table(), "name", "ICEWS")
