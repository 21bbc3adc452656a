"""Event pipeline speed: normalise CAMEO events and aggregate them to dyad-months.

Input: GDELT 2.0 exports as GDELT ships them (tab-separated, 61 columns, no header), of
1M and 10M rows (500,000 in the quick run; any sizes with ``--sizes``) made by resampling
(seeded) the rows of the real export in ../shared/data. Three implementations read the
same file and produce directed dyad-month counts by CAMEO root with Goldstein sums:

- detente: the lake's portable SQL (``pipeline.dyad_month_sql()``: dates, country codes
  mapped to ISO3 through the crosswalk, root and quad class) on DuckDB;
- pandas: a plain pandas implementation of the same steps (reading only the columns it
  needs, as a competent pandas user would);
- bare DuckDB: the practical limit, one query that reads the file with the same reader
  settings and groups by the raw keys (no normalisation, no country mapping): strictly
  less work than detente.

Each run is a fresh process (the harness: 5 runs a side, alternating); the clock starts
after the imports and the crosswalk lookup, the same setup on every side. Reports
detente's ratio to bare DuckDB (aim: at least level, 1.0x) and to pandas, and checks that
detente and pandas count the same events and dyad-months. Nothing asserts a time.

    .venv/bin/python benchmarks/events.py [--quick] [--sizes 1M,10M] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import REPEAT, alternate, child_main, emit, row, spread, value_row

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DETENTE_SHARED_DATA", ROOT.parent / "shared" / "data"))
SEED_FILE = SHARED / "gdelt" / "20191024143000.export.CSV"
PANDAS_BYTES_PER_ROW = 240  # measured: a plain pandas run peaks at about 2.2 GB for 10M rows


def generate(path: Path, rows: int) -> None:
    lines = [line + "\n" for line in SEED_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = np.random.default_rng(42)
    with path.open("w", encoding="utf-8") as out:
        for start in range(0, rows, 200_000):
            picks = rng.integers(0, len(lines), min(200_000, rows - start))
            out.write("".join(lines[i] for i in picks))


def setup() -> tuple[list[str], object, dict[str, str]]:
    """Imports and the country lookup (the crosswalk): once per process, not per row, and
    the same for every side (pyarrow.dataset is what DuckDB imports when it first reads an
    Arrow table, as detente's lookup is: an import, so before the clock like the others)."""
    import duckdb  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.dataset  # noqa: F401

    from detente.sources import events

    lookup = events.static_country_lookup()
    codes = dict(zip(*(lookup.column(c).to_pylist() for c in ("code", "iso3")), strict=True))
    return events.gdelt_names(61), lookup, codes


def run_detente(path: Path, names: list[str], lookup: object, _codes: dict[str, str]) -> tuple[int, int]:
    import duckdb

    from detente.sources import pipeline

    with duckdb.connect() as db:
        pipeline.duckdb_raw_view(db, [path], names, dataset="gdelt2")
        db.register("country_lookup", lookup)
        rows = db.execute(pipeline.dyad_month_sql()).fetchall()
    return len(rows), sum(r[6] for r in rows)


def run_bare(path: Path, names: list[str], _lookup: object, _codes: dict[str, str]) -> tuple[int, int]:
    import duckdb

    columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
    sql = f"""
        SELECT substr(SQLDATE, 1, 6), Actor1CountryCode, Actor2CountryCode, EventRootCode,
               count(*), sum(CAST(GoldsteinScale AS DOUBLE))
        FROM read_csv('{path}', delim='\t', header=false, quote='', escape='', auto_detect=false,
                      columns={columns})
        WHERE Actor1CountryCode IS NOT NULL AND Actor2CountryCode IS NOT NULL
        GROUP BY ALL
    """
    with duckdb.connect() as db:
        rows = db.execute(sql).fetchall()
    return len(rows), sum(r[4] for r in rows)


def run_pandas(path: Path, names: list[str], _lookup: object, lookup: dict[str, str]) -> tuple[int, int]:
    import csv

    import pandas as pd

    wanted = ["SQLDATE", "Actor1CountryCode", "Actor2CountryCode", "EventCode", "GoldsteinScale"]
    frame = pd.read_csv(
        path, sep="\t", header=None, names=names, usecols=wanted, dtype=str, quoting=csv.QUOTE_NONE
    )
    frame["source"] = frame["Actor1CountryCode"].map(lookup)
    frame["target"] = frame["Actor2CountryCode"].map(lookup)
    day = pd.to_datetime(frame["SQLDATE"], format="%Y%m%d")
    frame["year"], frame["month"] = day.dt.year, day.dt.month
    frame["root"] = frame["EventCode"].str[:2]
    frame["quad"] = np.select(
        [frame["root"] <= "05", frame["root"] <= "08", frame["root"] <= "13"], [1, 2, 3], default=4
    )
    frame["goldstein"] = frame["GoldsteinScale"].astype(float)
    frame = frame.dropna(subset=["source", "target"])
    out = frame.groupby(["year", "month", "source", "target", "root"]).agg(
        quad=("quad", "min"), events=("quad", "size"), goldstein=("goldstein", "sum")
    )
    return len(out), int(out["events"].sum())


RUNNERS = {"detente": run_detente, "pandas": run_pandas, "duckdb": run_bare}


def run(name: str, path: Path) -> dict[str, object]:
    """One run of one side in a fresh process: setup (imports, crosswalk) untimed for all."""
    started = time.perf_counter()
    prepared = setup()
    start = time.perf_counter()
    groups, counted = RUNNERS[name](path, *prepared)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "setup": start - started, "groups": groups, "events": counted}


def memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KM")) * scale)


def label(rows: int) -> str:
    return f"{rows // 1_000_000}M" if rows % 1_000_000 == 0 else f"{rows:,}"


def measure_size(rows: int, folder: Path, repeat: int) -> list[dict[str, object]]:
    path = folder / f"events_{rows}.CSV"
    generate(path, rows)
    names = ["detente", "duckdb"]
    if rows * PANDAS_BYTES_PER_ROW < 0.7 * memory():
        names.append("pandas")
    runs = alternate(__file__, names, path, repeat)
    path.unlink()
    mine = runs["detente"]
    out = [
        row(f"{label(rows)} rows vs bare DuckDB", mine, runs["duckdb"], "bare DuckDB query",
            note="the baseline does strictly less work: it groups the raw codes (no dates, no country "
            "mapping, no actor types, no quad class); ratio above 1 = detente faster"),
    ]  # fmt: skip
    if "pandas" in runs:
        same = all(
            (p["events"], p["groups"]) == (d["events"], d["groups"])
            for p, d in zip(runs["pandas"], mine, strict=True)
        )
        out.append(
            row(f"{label(rows)} rows vs pandas", mine, runs["pandas"], "plain pandas",
                note=f"same dyad-months and event counts as detente: {'yes' if same else 'NO'}")
        )  # fmt: skip
    else:
        out.append(
            value_row(f"{label(rows)} rows vs pandas", "not run", "plain pandas would need more memory")
        )
    rate = spread(rows / r["seconds"] for r in mine)
    out.append(value_row(f"{label(rows)} rows: detente throughput", f"{rate['median'] / 1e6:.2f} M rows/s "
                         f"({rate['min'] / 1e6:.2f}–{rate['max'] / 1e6:.2f}); peak "
                         f"{spread(r['peak'] / 2**20 for r in mine)['median']:,.0f} MB"))  # fmt: skip
    return out


def main() -> None:
    if child_main(run):
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=None, help="e.g. 1M,10M (default 1M,10M; --quick 500K)")
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = args.sizes or ("500K" if args.quick else "1M,10M")
    print(f"input: GDELT 2.0 rows resampled from {SEED_FILE.name}; 61 columns, tab-separated")
    rows_out: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("DETENTE_BENCH_TMP")) as tmp:
        for rows in (size(s) for s in sizes.split(",")):
            rows_out += measure_size(rows, Path(tmp), args.repeat)
    emit(
        "events",
        "normalise GDELT 2.0 events (61 columns, tab-separated, resampled from the real export) and "
        "aggregate them to directed dyad-months by CAMEO root, timed after the imports and the crosswalk "
        "lookup (the same setup, untimed, in every process)",
        rows_out,
    )


if __name__ == "__main__":
    main()
