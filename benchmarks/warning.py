"""Early-warning speed: fit each of detente's models and produce 1,000 draws for the 2019
window's 191 countries x 14 horizons, against the same model family fitted naively, one
model per horizon without shared work.

* boost: detente computes the feature panel once and fits one LightGBM model for all 14
  horizons (the horizon is a feature). The naive baseline, for each horizon, reads the
  history from the lake again, recomputes the features and fits a model on that horizon's
  rows alone (with its own hold-out errors). The two are different models, so both are
  scored on the 2019 actuals too: sharing must not cost accuracy.
* recency: detente reads the history and cross-validates the decay once, and one set of
  draws serves every horizon. The naive baseline repeats all of it per horizon. Both give
  the same draws (checked).

Each contender runs in its own process, so its peak memory is its own; loading the lake is
not timed.

    .venv/bin/python benchmarks/warning.py
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
FILES = [
    SHARED / "ucdp_ged_cm" / "ged_cm_postpatch_to_oct2019.parquet",
    SHARED / "ucdp_ged_cm" / "country.parquet",
    *sorted((SHARED / "views_cm").glob("cm_*201[89].parquet")),
]
K, HORIZONS, YEAR = 1000, 14, 2019
CONTENDERS = ("boost", "boost-naive", "recency", "recency-naive")


def run(name: str, folder: Path) -> dict[str, object]:
    import hashlib

    import numpy as np

    from detente.sources.lake import Lake
    from detente.warning.boost import Boost
    from detente.warning.data import Window, history, truth
    from detente.warning.models import Recency
    from detente.warning.scoring import crps

    window = Window(YEAR)
    rng = np.random.default_rng(1)
    with Lake(folder) as lake:
        actual = truth(lake, window)
        countries = actual.countries
        start = time.perf_counter()
        if name == "boost":
            model = Boost()
            draws = model.sample(model.fit(history(lake, window.cutoff).subset(countries), HORIZONS), K)
        elif name == "boost-naive":
            model, parts = Boost(), []
            for h in range(1, HORIZONS + 1):
                past = history(lake, window.cutoff).subset(countries)  # nothing shared
                parts.append(model.sample(model.fit(past, h, only=[h]), K))
            draws = np.concatenate(parts, axis=1)
        elif name == "recency":
            draws = Recency().draws(history(lake, window.cutoff).subset(countries), HORIZONS, K, rng)
        else:
            parts = []
            for _h in range(HORIZONS):
                past = history(lake, window.cutoff).subset(countries)
                parts.append(Recency().draws(past, 1, K, rng))
            draws = np.concatenate(parts, axis=1)
        seconds = time.perf_counter() - start
    first = window.forecast_months.index(window.scored_months[0])
    return {
        "seconds": seconds,
        "shape": list(draws.shape),
        "crps": float(np.mean(crps(draws[:, first:, :], actual.values))),
        "digest": hashlib.sha256(np.ascontiguousarray(draws).tobytes()).hexdigest()[:16],
    }


def main() -> None:
    if child_main(run):
        return
    from detente.sources.lake import Lake
    from detente.sources.service import load

    with tempfile.TemporaryDirectory() as tmp:
        with Lake(Path(tmp)) as lake:  # loading is not timed
            load(lake, "views", FILES, user="bench")
        results = in_processes(__file__, CONTENDERS, tmp)
    shape = results["boost"]["shape"]
    print(f"window {YEAR}: {K:,} draws x {shape[0]} countries x {HORIZONS} horizons")
    for name, r in results.items():
        print(f"{name:>14}: {r['seconds']:6.2f} s, peak {r['peak'] / 2**20:,.0f} MB, CRPS {r['crps']:.3f}")
    for family in ("boost", "recency"):
        mine, base = results[family], results[f"{family}-naive"]
        speed, memory = base["seconds"] / mine["seconds"], base["peak"] / mine["peak"]
        print(
            f"{family}: detente is {speed:.1f}x the speed of one fit per horizon, memory ratio {memory:.2f}"
        )
    same = results["recency"]["digest"] == results["recency-naive"]["digest"]
    print(f"recency: same draws both ways: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
