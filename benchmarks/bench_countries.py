"""Country crosswalk speed: detente's ``convert`` against country_converter's ``convert``.

Both convert the same rows, built by sampling (seeded) names and codes as they
appear in real data: the country names of the UCDP/PRIO conflict dataset and
the COW state list in ../shared/data, plus ISO codes. Reports rows per second
for each and the ratio, the share of rows on which both agree, and peak memory.

Each side runs in a fresh process, alternating, 5 runs each.

    .venv/bin/python benchmarks/bench_countries.py [--quick] [--rows 1000000] [--baseline-rows 20000]
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import REPEAT, alternate, child_main, emit, row, spread, value_row

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DETENTE_SHARED_DATA", ROOT.parent / "shared" / "data"))


def real_names() -> list[str]:
    names: list[str] = []
    with (SHARED / "ucdp_acd" / "ucdp-prio-acd-221.csv").open(newline="") as h:
        for row in csv.DictReader(h):
            names += [n.strip() for n in row["location"].split(",") if n.strip()]
    with (SHARED / "cow" / "states2016.csv").open(newline="") as h:
        names += [row["statenme"] for row in csv.DictReader(h)]
    return names


def rows_of(n: int) -> list[str]:
    """The same seeded rows in every process: real names mixed with ISO codes."""
    from detente.core.countries import convert

    rng = random.Random(42)
    pool = real_names()
    pool += [c for c in convert(pool, "name", "iso3") if c]  # real data mixes names and codes
    return [rng.choice(pool) for _ in range(n)]


def run(name: str, _folder: Path) -> dict[str, Any]:
    """One side: rows built and tables loaded before the clock (both warmed the same way),
    caches cleared, then name -> ISO3 over the same rows."""
    import country_converter as coco

    from detente.core.countries import _resolve_cached, convert

    logging.getLogger("country_converter").setLevel(logging.ERROR)
    n, total = int(sys.argv[4]), int(sys.argv[5])
    rows = rows_of(max(n, total) if name == "detente" else n)
    cc = coco.CountryConverter()
    convert(rows[:1000], "name", "iso3")  # load both tables before timing
    cc.convert(names=rows[:1000], to="ISO3", not_found=None)
    _resolve_cached.cache_clear()  # cold: every distinct name resolved within the timing
    start = time.perf_counter()
    out = (
        convert(rows[:n], "name", "iso3")
        if name == "detente"
        else cc.convert(names=rows[:n], to="ISO3", not_found=None)
    )
    seconds = time.perf_counter() - start
    result: dict[str, Any] = {"seconds": seconds, "codes": [c or None for c in out]}
    if name == "detente":
        _resolve_cached.cache_clear()
        start = time.perf_counter()
        convert(rows, "name", "iso3")
        result["all_rows_s"] = time.perf_counter() - start
    return result


def main() -> None:
    if child_main(run):
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows for detente's throughput")
    parser.add_argument(
        "--baseline-rows",
        type=int,
        default=None,
        help="rows both convert (country_converter does about 1,000 rows/s); 20,000, quick 2,000",
    )
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = args.baseline_rows or (2_000 if args.quick else 20_000)
    with tempfile.TemporaryDirectory() as tmp:
        runs = alternate(__file__, ["detente", "coco"], tmp, args.repeat, args=[str(n), str(args.rows)])
    mine, theirs = runs["detente"], runs["coco"]
    agree = np.mean([a == b for a, b in zip(mine[0]["codes"], theirs[0]["codes"], strict=True)])
    rate = spread(args.rows / r["all_rows_s"] for r in mine)
    emit(
        "countries",
        "country names and codes to ISO3 (UCDP/PRIO ACD locations, COW state names and ISO3 codes, sampled), "
        "tables loaded before the clock on both sides, detente's cache cleared",
        [
            row(f"the same {n:,} rows", mine, theirs, "country_converter.convert",
                note=f"both agree on {agree:.1%} of rows"),
            value_row(f"detente over {args.rows:,} rows", f"{rate['median'] / 1e6:.2f} M rows/s "
                      f"({rate['min'] / 1e6:.2f}–{rate['max'] / 1e6:.2f})"),
        ],
    )  # fmt: skip


if __name__ == "__main__":
    main()
