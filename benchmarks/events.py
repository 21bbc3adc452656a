"""Event pipeline speed: normalise CAMEO events and aggregate them to dyad-months.

Input: GDELT 2.0 exports as GDELT ships them (tab-separated, 61 columns, no header), of
1M, 10M and 50M rows made by resampling (seeded) the rows of the real export in
../shared/data. Three implementations read the same file and produce directed
dyad-month counts by CAMEO root with Goldstein sums:

- detente: the lake's portable SQL (``pipeline.NORMALISE`` + ``DYAD_MONTH``: dates,
  country codes mapped to ISO3 through the crosswalk, actor types, root and quad class)
  on DuckDB;
- pandas: a plain pandas implementation of the same steps (reading only the columns it
  needs, as a competent pandas user would);
- bare DuckDB: the practical limit, one query that reads the file with the same reader
  settings and groups by the raw keys (no normalisation, no country mapping).

Each run is its own process, so its peak memory (max RSS) is its own; the time counted
starts after the imports and the crosswalk lookup are ready (once per process; printed
as "setup" for detente). Reports rows/s,
detente's ratio to pandas (aim: at least 10x) and to bare DuckDB (aim: within 1.5x), and
checks that detente and pandas count the same events. Nothing asserts a time.

    .venv/bin/python benchmarks/events.py                  # 1M, 10M, 50M rows (50M: a 20 GB file)
    .venv/bin/python benchmarks/events.py --sizes 1M       # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

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
    """Imports and the country lookup (the crosswalk): once per process, not per row."""
    import duckdb  # noqa: F401
    import pandas  # noqa: F401

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


def child(name: str, path: Path) -> None:
    started = time.perf_counter()
    prepared = setup()
    start = time.perf_counter()
    groups, counted = RUNNERS[name](path, *prepared)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {"seconds": seconds, "setup": start - started, "groups": groups, "events": counted, "peak": peak}
        )
    )


def measure(name: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", name, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KM")) * scale)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1M,10M,50M")
    parser.add_argument("--child", nargs=2, metavar=("IMPL", "FILE"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    print(f"input: GDELT 2.0 rows resampled from {SEED_FILE.name}; 61 columns, tab-separated")
    print(f"{'rows':>11} {'impl':>8} {'seconds':>8} {'rows/s':>12} {'peak MB':>8}  vs detente")
    with tempfile.TemporaryDirectory(dir=os.environ.get("DETENTE_BENCH_TMP")) as tmp:
        for rows in (size(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"events_{rows}.CSV"
            generate(path, rows)
            results = {}
            for name in ("detente", "duckdb", "pandas"):
                if name == "pandas" and rows * PANDAS_BYTES_PER_ROW > 0.7 * memory():
                    print(f"{rows:>11,} {name:>8}  not run: plain pandas would need more memory than this")
                    continue
                results[name] = measure(name, path)
            mine = results["detente"]
            print(f"{'':>11} (setup before the clock: imports and crosswalk, {mine['setup']:.2f} s)")
            for name, r in results.items():
                ratio = (
                    "" if name == "detente" else f"detente is {r['seconds'] / mine['seconds']:.2f}x its speed"
                )
                print(
                    f"{rows:>11,} {name:>8} {r['seconds']:>8.2f} {rows / r['seconds']:>12,.0f} "
                    f"{r['peak'] / 2**20:>8,.0f}  {ratio}"
                )
            if "pandas" in results:
                same = (
                    results["pandas"]["events"] == mine["events"]
                    and results["pandas"]["groups"] == mine["groups"]
                )
                print(f"{'':>11} detente and pandas give the same dyad-months: {'yes' if same else 'NO'}")
            path.unlink()


if __name__ == "__main__":
    main()
