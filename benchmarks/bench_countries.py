"""Country crosswalk speed: detente's ``convert`` against country_converter's ``convert``.

Both convert the same rows, built by sampling (seeded) names and codes as they
appear in real data: the country names of the UCDP/PRIO conflict dataset and
the COW state list in ../shared/data, plus ISO codes. Reports rows per second
for each and the ratio, the share of rows on which both agree, and peak memory.

    .venv/bin/python benchmarks/bench_countries.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import random
import time
import tracemalloc
from pathlib import Path

import numpy as np

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


def timed(fn, *args, **kw):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--baseline-rows",
        type=int,
        default=20_000,
        help="rows given to country_converter (about 1,000 rows/s: a million "
        "would take a quarter of an hour)",
    )
    args = parser.parse_args()
    import country_converter as coco

    from detente.core.countries import _resolve_cached, convert

    logging.getLogger("country_converter").setLevel(logging.ERROR)
    rng = random.Random(42)
    pool = real_names()
    iso = [c for c in convert(pool, "name", "iso3") if c]
    pool += iso  # real data mixes names and codes
    rows = [rng.choice(pool) for _ in range(args.rows)]
    years = np.array([rng.randint(1950, 2016) for _ in range(args.rows)])
    print(
        f"rows: {len(rows):,} sampled from {len(set(pool))} distinct real names/codes "
        f"(UCDP/PRIO ACD locations, COW state names, ISO3)"
    )

    cc = coco.CountryConverter()
    convert(rows[:1000], "name", "iso3")  # load both tables before timing
    cc.convert(names=rows[:1000], to="ISO3", not_found=None)

    sub = rows[: args.baseline_rows]
    _resolve_cached.cache_clear()  # cold: every distinct name resolved within the timing
    _, t_sub = timed(convert, sub, "name", "iso3")
    theirs, t_theirs = timed(cc.convert, names=sub, to="ISO3", not_found=None)
    _resolve_cached.cache_clear()
    tracemalloc.start()
    ours, t_ours = timed(convert, rows, "name", "iso3")
    _, peak_ours = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    agree = np.mean([a == b for a, b in zip(ours[: len(sub)], theirs, strict=True)])
    print(f"\nname -> ISO3, the same {len(sub):,} rows")
    print(f"  detente.convert           {len(sub) / t_sub:>14,.0f} rows/s  ({t_sub:.3f} s)")
    print(f"  country_converter.convert {len(sub) / t_theirs:>14,.0f} rows/s  ({t_theirs:.2f} s)")
    print(f"  ratio: detente is {t_theirs / t_sub:,.0f}x faster")
    print(f"  rows where both agree: {agree:.1%}")
    print(f"name -> ISO3, all {len(rows):,} rows (detente only)")
    print(
        f"  detente.convert           {len(rows) / t_ours:>14,.0f} rows/s  ({t_ours:.2f} s, "
        f"peak traced memory {peak_ours / 2**20:.0f} MiB)"
    )

    iso_rows = [r if r else "FRA" for r in ours]
    sub_iso, sub_years = iso_rows[: args.baseline_rows], years[: args.baseline_rows]
    mine, t_sub = timed(convert, sub_iso, "iso3", "gw", year=sub_years)
    theirs, t_theirs = timed(cc.convert, names=sub_iso, src="ISO3", to="GWcode", not_found=None)
    _, t_all = timed(convert, iso_rows, "iso3", "gw", year=years)
    pairs = [(a, b) for a, b in zip(mine, theirs, strict=True) if a is not None]
    agree = np.mean([a == b for a, b in pairs])
    print(
        f"\nISO3 -> GW code, the same {len(sub_iso):,} rows "
        "(detente year-aware with one year per row; country_converter static)"
    )
    print(f"  detente.convert           {len(sub_iso) / t_sub:>14,.0f} rows/s  ({t_sub:.3f} s)")
    print(f"  country_converter.convert {len(sub_iso) / t_theirs:>14,.0f} rows/s  ({t_theirs:.2f} s)")
    print(f"  ratio: detente is {t_theirs / t_sub:,.0f}x faster")
    print(
        f"  rows where both agree (where detente has a code): {agree:.1%} (differences are "
        "year-aware spells, e.g. Serbia 345 before 2006, South Sudan before 2011)"
    )
    print(f"ISO3 -> GW code, all {len(iso_rows):,} rows with years (detente only)")
    print(f"  detente.convert           {len(iso_rows) / t_all:>14,.0f} rows/s  ({t_all:.2f} s)")


if __name__ == "__main__":
    main()
