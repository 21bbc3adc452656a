"""Dyad panel speed: the full COW directed dyad-year panel with ATOP and COW alliances added.

detente builds it from the context lake (``relations.panel.dyad_years`` with
``additions=("atop", "cow_alliance")``: DuckDB SQL, symmetric joins on the unordered pair,
missing outside each source's years). The baseline is a plain pandas implementation of
the same steps on the same inputs: state-years from the COW state list, a self-merge on
year, the alliance tables reduced to unordered pairs and merged, and NaN outside the
sources' years.

Like for like: both sides import their libraries and open the same lake before the clock
starts; inside the clock both read their inputs from the lake (detente's SQL reads the
tables where they are; pandas fetches the same three tables as DataFrames) and return
the whole panel in memory (an Arrow table, a DataFrame), sorted by year and pair. Neither
is warmed up: each run is a fresh process. Both are checked to give the same number of
rows and the same alliance totals.

The COW state list in ../shared/data ends in 2016, so "1816-2018" is 1816-2016.

    .venv/bin/python benchmarks/bench_dyads.py [--quick] [--repeat 5]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import REPEAT, alternate, child_main, emit, row, spread

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DETENTE_SHARED_DATA", ROOT.parent / "shared" / "data"))
FILES = {
    "cow_states": SHARED / "cow" / "states2016.csv",
    "atop": SHARED / "peacesciencer" / "atop_alliance.csv.gz",
    "cow_alliance": SHARED / "peacesciencer" / "cow_alliance.csv.gz",
}
FIRST, LAST = 1816, 2018


def _imports() -> None:
    """The same libraries for both sides, before the clock."""
    import duckdb  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.compute  # noqa: F401

    import detente.relations.panel  # noqa: F401


def run_detente(lake: Any) -> dict[str, float]:
    import pyarrow.compute as pc

    from detente.relations.panel import dyad_years

    start = time.perf_counter()
    table = dyad_years(lake, "cow", FIRST, LAST, additions=("atop", "cow_alliance"))
    seconds = time.perf_counter() - start
    totals = [pc.sum(table.column(c)).as_py() or 0 for c in ("atop_defense", "cow_defense")]
    return {"seconds": seconds, "rows": table.num_rows, "atop": totals[0], "cow": totals[1]}


def _pairs(frame: Any, columns: dict[str, str]) -> Any:
    frame = frame.assign(
        lo=frame[["ccode1", "ccode2"]].min(axis=1), hi=frame[["ccode1", "ccode2"]].max(axis=1)
    ).rename(columns=columns)
    return frame.groupby(["lo", "hi", "year"], as_index=False)[list(columns.values())].max()


def run_pandas(lake: Any) -> dict[str, float]:
    import pandas as pd

    start = time.perf_counter()
    states = lake.db.sql("SELECT code, start_date, end_date FROM cow_states").df()
    atop = lake.db.sql("SELECT * FROM atop").df()
    cow = lake.db.sql("SELECT * FROM cow_alliance").df()
    states["first"] = states["start_date"].dt.year.clip(lower=FIRST)
    states["last"] = states["end_date"].dt.year.clip(upper=LAST)
    spans = states[states["first"] <= states["last"]]
    lengths = (spans["last"] - spans["first"] + 1).to_numpy()
    years = [np.arange(a, b + 1) for a, b in zip(spans["first"], spans["last"], strict=True)]
    sy = pd.DataFrame({"code": spans["code"].to_numpy().repeat(lengths), "year": np.concatenate(years)})
    sy = sy.drop_duplicates()
    dyads = sy.merge(sy, on="year", suffixes=("1", "2"))
    dyads = dyads[dyads.code1 != dyads.code2]
    dyads["lo"] = np.minimum(dyads["code1"], dyads["code2"])
    dyads["hi"] = np.maximum(dyads["code1"], dyads["code2"])
    for frame, columns in (
        (atop, {c: f"atop_{c}" for c in ("defense", "offense", "neutral", "nonagg", "consul")}),
        (cow, {"defense": "cow_defense", "neutrality": "cow_neutral", "nonaggression": "cow_nonagg",
               "entente": "cow_entente"}),
    ):  # fmt: skip
        pairs = _pairs(frame, columns)
        first, last = int(frame["year"].min()), int(frame["year"].max())
        dyads = dyads.merge(pairs, on=["lo", "hi", "year"], how="left")
        inside = dyads["year"].between(first, last)
        for c in columns.values():
            dyads[c] = dyads[c].fillna(0).where(inside)
    dyads = dyads.drop(columns=["lo", "hi"]).sort_values(["year", "code1", "code2"], ignore_index=True)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rows": len(dyads),
        "atop": float(dyads["atop_defense"].sum()),
        "cow": float(dyads["cow_defense"].sum()),
    }


RUNNERS = {"detente": run_detente, "pandas": run_pandas}


def run(name: str, folder: Path) -> dict[str, float]:
    _imports()
    from detente.sources.lake import Lake

    with Lake(folder) as lake:
        return RUNNERS[name](lake)


def main() -> None:
    if child_main(run):
        return
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else REPEAT
    from detente.sources.lake import Lake
    from detente.sources.service import load

    with tempfile.TemporaryDirectory() as tmp:
        with Lake(Path(tmp)) as lake:  # loading is not timed: both read the same parsed inputs
            for name, path in FILES.items():
                load(lake, name, [path], user="bench")
        runs = alternate(__file__, list(RUNNERS), tmp, repeat)
    mine, base = runs["detente"], runs["pandas"]
    same = all(
        (d["rows"], d["atop"], d["cow"]) == (b["rows"], b["atop"], b["cow"])
        for d, b in zip(mine, base, strict=True)
    )
    emit(
        "dyads",
        f"the full COW directed dyad-year panel {FIRST}-{LAST} (the state list ends 2016) with ATOP and COW "
        "alliances, from the lake; both sides import before the clock and read the lake inside it",
        [
            row(f"{mine[0]['rows']:,} dyad-years", mine, base, "plain pandas",
                note=f"same rows and alliance totals: {'yes' if same else 'NO'}; peak "
                f"{spread(r['peak'] / 2**20 for r in mine)['median']:,.0f} MB against "
                f"{spread(r['peak'] / 2**20 for r in base)['median']:,.0f} MB"),
        ],
    )  # fmt: skip


if __name__ == "__main__":
    main()
