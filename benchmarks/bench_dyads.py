"""Dyad panel speed: the full COW directed dyad-year panel with ATOP and COW alliances added.

detente builds it from the context lake (``relations.panel.dyad_years`` with
``additions=("atop", "cow_alliance")``: DuckDB SQL, symmetric joins on the unordered pair,
missing outside each source's years). The baseline is a plain pandas implementation of
the same steps, run in the same script on the same inputs: state-years from the COW state
list, a self-merge on year, the alliance tables reduced to unordered pairs and merged, and
NaN outside the sources' years. Each runs in its own process (peak memory is its own);
both are checked to give the same number of rows and the same alliance totals.

The COW state list in ../shared/data ends in 2016, so "1816-2018" is 1816-2016.

    .venv/bin/python benchmarks/bench_dyads.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import child_main, in_processes

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DETENTE_SHARED_DATA", ROOT.parent / "shared" / "data"))
FILES = {
    "cow_states": SHARED / "cow" / "states2016.csv",
    "atop": SHARED / "peacesciencer" / "atop_alliance.csv.gz",
    "cow_alliance": SHARED / "peacesciencer" / "cow_alliance.csv.gz",
}
FIRST, LAST = 1816, 2018


def run_detente(folder: Path) -> dict[str, float]:
    from detente.relations.panel import dyad_years
    from detente.sources.lake import Lake

    with Lake(folder) as lake:
        start = time.perf_counter()
        table = dyad_years(lake, "cow", FIRST, LAST, additions=("atop", "cow_alliance"))
        seconds = time.perf_counter() - start
        import pyarrow.compute as pc

        totals = [pc.sum(table.column(c)).as_py() or 0 for c in ("atop_defense", "cow_defense")]
    return {"seconds": seconds, "rows": table.num_rows, "atop": totals[0], "cow": totals[1]}


def run_pandas(_folder: Path) -> dict[str, float]:
    import pandas as pd

    states = pd.read_csv(FILES["cow_states"], usecols=["ccode", "styear", "endyear"])
    atop = pd.read_csv(FILES["atop"])
    cow = pd.read_csv(FILES["cow_alliance"])
    start = time.perf_counter()
    years = [
        pd.DataFrame({"ccode": r.ccode, "year": range(max(r.styear, FIRST), min(r.endyear, LAST) + 1)})
        for r in states.itertuples()
    ]
    sy = pd.concat(years).drop_duplicates()
    dyads = sy.merge(sy, on="year", suffixes=("1", "2"))
    dyads = dyads[dyads.ccode1 != dyads.ccode2]
    dyads["lo"] = dyads[["ccode1", "ccode2"]].min(axis=1)
    dyads["hi"] = dyads[["ccode1", "ccode2"]].max(axis=1)
    for frame, columns in (
        (atop, ["atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul"]),
        (cow, ["cow_defense", "cow_neutral", "cow_nonagg", "cow_entente"]),
    ):
        frame = frame.assign(
            lo=frame[["ccode1", "ccode2"]].min(axis=1).astype(int),
            hi=frame[["ccode1", "ccode2"]].max(axis=1).astype(int),
            year=frame["year"].astype(int),
        )
        pairs = frame.groupby(["lo", "hi", "year"], as_index=False)[columns].max()
        first, last = int(frame["year"].min()), int(frame["year"].max())
        dyads = dyads.merge(pairs, on=["lo", "hi", "year"], how="left")
        inside = dyads["year"].between(first, last)
        for c in columns:
            dyads[c] = dyads[c].where(~inside | dyads[c].notna(), 0).where(inside)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rows": len(dyads),
        "atop": float(dyads["atop_defense"].sum()),
        "cow": float(dyads["cow_defense"].sum()),
    }


RUNNERS = {"detente": run_detente, "pandas": run_pandas}


def main() -> None:
    if child_main(lambda name, folder: RUNNERS[name](folder)):
        return
    from detente.sources.lake import Lake
    from detente.sources.service import load

    with tempfile.TemporaryDirectory() as tmp:
        with Lake(Path(tmp)) as lake:  # loading is not timed: both read the same parsed inputs
            for name, path in FILES.items():
                load(lake, name, [path], user="bench")
        results = in_processes(__file__, RUNNERS, tmp)
    mine, base = results["detente"], results["pandas"]
    print(f"COW directed dyad-years {FIRST}-{LAST} (the list ends 2016) with ATOP and COW alliances")
    for name, r in results.items():
        print(
            f"{name:>8}: {r['rows']:,} rows in {r['seconds']:.2f} s "
            f"({r['rows'] / r['seconds']:,.0f} rows/s), peak {r['peak'] / 2**20:,.0f} MB"
        )
    print(f"detente is {base['seconds'] / mine['seconds']:.2f}x the speed of the pandas merge")
    same = mine["rows"] == base["rows"] and mine["atop"] == base["atop"] and mine["cow"] == base["cow"]
    print(f"same rows and alliance totals: {'yes' if same else 'NO'} (atop_defense {mine['atop']:,.0f})")


if __name__ == "__main__":
    main()
