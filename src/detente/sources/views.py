"""ViEWS country-month data (features, actuals, UCDP GED country-month aggregates).

ViEWS indexes everything by ``month_id`` (1 = January 1980, 121 = January 1990) and its
own ``country_id``. Months are arithmetic; countries need ViEWS' country table, which
the feature files carry as a ``gleditsch_ward`` column, and which can be given as a file
beside the data (``country.parquet`` with ``isoab``, or ``country_key.csv`` with
``gwcode`` and ``isoab``). Files with different columns for the same country-months
(features and actuals) are joined; the same column with two different values for one
country-month is refused.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from detente.core import bounded
from detente.core.errors import ValidationError
from detente.sources.tabular import MAX_BYTES, Parsed, Unmapped, read_table, to_iso3

__all__ = ["KEY_UNUSED", "month_id", "month_of", "parse_views"]

# the country list's own column that the key table leaves out (it keys on ``id``)
KEY_UNUSED = ("country_id",)


def month_of(month_id: int) -> tuple[int, int]:
    """(year, month) of a ViEWS month_id."""
    return 1980 + (month_id - 1) // 12, (month_id - 1) % 12 + 1


def month_id(year: int, month: int) -> int:
    return (year - 1980) * 12 + month


def _read_parquet(path: Path) -> pa.Table:
    try:
        # what the footer declares, before anything is inflated (a Parquet bomb)
        bounded.check_parquet(path, name=str(path), limit=MAX_BYTES)
        table = pq.read_table(path)
        table.column_names  # noqa: B018 (names must decode: a broken file can hold bytes)
        return table
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path}: not a readable Parquet file ({exc})") from None


def _quoted(name: str) -> str:
    """A column name as an SQL identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def _is_key(table: pa.Table) -> bool:
    names = set(table.column_names)
    return "month_id" not in names and ("isoab" in names or "gwcode" in names)


def _key_table(path: Path) -> pa.Table:
    if path.suffix == ".parquet":
        table = _read_parquet(path)
        if "country_id" not in table.column_names:
            raise ValidationError(f"{path}: a ViEWS country table needs a country_id column")
        return table
    cols = read_table(path, required=("id",))
    data = {"country_id": cols.ints("id", lo=1)}
    for name in ("gwcode", "isoab", "name"):
        if cols.has(name):
            data[name] = cols.ints(name) if name == "gwcode" else cols.str(name)
    return pa.table(data)


KEYS = ("month_id", "country_id", "gleditsch_ward")
INDEX_COLUMNS = ("", "_blank_0", "Unnamed: 0")  # a saved data frame's index, not data


def _numeric_csv(path: Path, notes: list[str]) -> pa.Table:
    """A CSV's columns as numbers: keys must be whole numbers (refused by line and field
    otherwise); a column with text is left out with a note, as is a saved index."""
    cols = read_table(path)
    data, text = {}, []
    for n in cols.names:
        if n in INDEX_COLUMNS:
            continue
        if n in KEYS:
            data[n] = cols.ints(n)
            continue
        try:
            data[n] = cols.floats(n)
        except ValidationError:
            text.append(n)
    if text:
        notes.append(f"{path.name}: column(s) {', '.join(text[:10])} hold text, not numbers: not loaded")
    return pa.table(data)


def _numeric(path: Path, table: pa.Table, notes: list[str]) -> pa.Table:
    """The table without columns that are not numbers (noted); keys must be numbers."""
    types = {n: table.schema.field(n).type for n in table.column_names}
    bad = [n for n, t in types.items() if not (pa.types.is_integer(t) or pa.types.is_floating(t))]
    keys = [n for n in bad if n in KEYS]
    if keys:
        raise ValidationError(f"{path}: column {keys[0]} must hold whole numbers")
    if bad:
        notes.append(f"{path.name}: column(s) {', '.join(bad[:10])} are not numeric: not loaded")
    return table.select([n for n in table.column_names if n not in bad and n not in INDEX_COLUMNS])


def parse_views(paths: list[Path]) -> Parsed:
    """ViEWS country-month files (and their country table) as one table: every file's
    columns merged by month and country, countries mapped to ISO3 (from the files' GW
    codes or ViEWS' country key), the months and countries covered said in words."""
    data, keys, notes = _read_files(paths)
    merged = _merge(data)
    ids = merged.column("month_id").to_pylist()
    years = [month_of(m)[0] for m in ids]
    countries = merged.column("country_id").to_pylist()
    gw, iso, unmapped = _countries(merged, keys, countries, years)
    front = {
        "month_id": merged.column("month_id"),
        "country_id": merged.column("country_id"),
        "year": pa.array(years, pa.int32()),
        "month": pa.array([month_of(m)[1] for m in ids], pa.int32()),
        "gwcode": pa.array(gw, pa.int64()),
        "iso3": pa.array(iso, pa.string()),
    }
    rest = {n: merged.column(n) for n in merged.column_names if n not in front and n != "gleditsch_ward"}
    table = pa.table({**front, **rest})
    lo, hi = min(ids), max(ids)
    coverage = (
        f"{month_of(lo)[0]}-{month_of(lo)[1]:02d} to {month_of(hi)[0]}-{month_of(hi)[1]:02d} "
        f"(month_id {lo}-{hi}), {len(set(countries))} countries, {len(rest)} columns"
    )
    return Parsed({"": table}, coverage, unmapped, notes=notes)


def _read_files(paths: list[Path]) -> tuple[list[tuple[Path, pa.Table]], list[pa.Table], list[str]]:
    """The country-month files (checked for their keys) and the country tables, apart."""
    data: list[tuple[Path, pa.Table]] = []
    keys: list[pa.Table] = []
    notes: list[str] = []
    for path in paths:
        if path.suffix == ".parquet":
            table = _read_parquet(path)
            if _is_key(table):
                keys.append(_key_table(path))
                continue
        elif path.name.startswith("country_key") or path.name.startswith("country"):
            keys.append(_key_table(path))
            continue
        else:
            table = _numeric_csv(path, notes)
        names = table.column_names
        for needed in ("month_id", "country_id"):
            if needed not in names:
                raise ValidationError(
                    f"{path}: a ViEWS country-month file needs {needed} (found: {', '.join(names[:20])})"
                )
        table = _numeric(path, table.select([n for n in names if not n.startswith("__index_level")]), notes)
        data.append((path, table))
    if not data:
        raise ValidationError("no ViEWS country-month file among " + ", ".join(p.name for p in paths))
    return data, keys, notes


def _merge(data: list[tuple[Path, pa.Table]]) -> pa.Table:
    """The files as one table by month and country: months in range, no key twice in a
    file, and no two files giving different values for the same cell."""
    with duckdb.connect() as db:
        for i, (path, table) in enumerate(data):
            db.register(f"f{i}", table)
            lo, hi = db.execute(f"SELECT min(month_id), max(month_id) FROM f{i}").fetchone()  # type: ignore[misc]
            if lo is not None and (lo < 1 or hi > 12 * 150):
                raise ValidationError(f"{path}: month_id {lo}..{hi} is out of range (1 = January 1980)")
            dup = db.execute(
                f"SELECT month_id, country_id FROM f{i} GROUP BY ALL HAVING count(*) > 1 LIMIT 1"
            ).fetchone()
            if dup:
                raise ValidationError(f"{path}: month_id {dup[0]}, country_id {dup[1]} appears twice")
        union = " UNION ALL BY NAME ".join(f"SELECT * FROM f{i}" for i in range(len(data)))
        columns = [
            c
            for c in db.sql(f"SELECT * FROM ({union}) LIMIT 0").columns
            if c not in ("month_id", "country_id")
        ]
        for c in columns:
            q = _quoted(c)
            clash = db.execute(
                f"SELECT month_id, country_id FROM ({union}) GROUP BY ALL "
                f"HAVING max({q}) - min({q}) > 1e-9 * (1 + abs(max({q}))) LIMIT 1"
            ).fetchone()
            if clash:
                raise ValidationError(
                    f"two files give different {c} for month_id {clash[0]}, country_id {clash[1]}"
                )
        picks = ", ".join(f"max({_quoted(c)}) AS {_quoted(c)}" for c in columns)
        merged: pa.Table = (
            db.sql(
                f"SELECT month_id, country_id, {picks} FROM ({union}) GROUP BY month_id, country_id "
                "ORDER BY month_id, country_id"
            )
            .arrow()
            .read_all()
        )
    return merged


def _countries(
    merged: pa.Table, keys: list[pa.Table], countries: list[int], years: list[int]
) -> tuple[list[int | None], list[str | None], Unmapped]:
    """Each row's GW code and ISO3, from the files' GW codes or ViEWS' country key."""
    gw: list[int | None] = (
        merged.column("gleditsch_ward").to_pylist()
        if "gleditsch_ward" in merged.column_names
        else [None] * len(countries)
    )
    iso_from_key: dict[int, str] = {}
    gw_from_key: dict[int, int] = {}
    for key in keys:
        cid = key.column("country_id").to_pylist()
        if "gwcode" in key.column_names:
            gw_from_key.update(
                {c: g for c, g in zip(cid, key.column("gwcode").to_pylist(), strict=True) if g}
            )
        if "isoab" in key.column_names:
            iso_from_key.update(
                {c: i for c, i in zip(cid, key.column("isoab").to_pylist(), strict=True) if i}
            )
    # a country's GW code is the same in every month: rows of a file without the column
    # (actuals) take it from rows of another file that has it (features)
    for c, g in zip(countries, gw, strict=True):
        if g is not None:
            gw_from_key.setdefault(c, g)
    gw = [g if g is not None else gw_from_key.get(c) for g, c in zip(gw, countries, strict=True)]
    unmapped = Unmapped()
    if not any(g is not None for g in gw) and not iso_from_key:
        raise ValidationError(
            "these ViEWS files carry no country table: give ViEWS' country.parquet or country_key.csv too"
        )
    iso = to_iso3(gw, "gw", column="gleditsch_ward", unmapped=Unmapped(), year=years).to_pylist()
    iso = [i or iso_from_key.get(c) for i, c in zip(iso, countries, strict=True)]
    for c, i in zip(countries, iso, strict=True):
        if i is None:
            unmapped.counts[f"country_id={c}"] += 1
    return gw, iso, unmapped
