"""Early-warning speed: fit the recency model and produce 1,000 draws for the 2019 window's
191 countries x 14 horizons, against the same model family fitted naively.

detente fits once per forecast: one history query, one cross-validation of the decay,
and one set of draws shared by all 14 horizons (the model's distribution does not
depend on the horizon). The naive baseline fits one model per horizon without shared
work: for each horizon it reads the history from the lake again, cross-validates the
decay again and draws that horizon alone. Both give the same draws (checked); each runs
in its own process so its peak memory is its own.

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


def run(name: str, folder: Path) -> dict[str, float]:
    import hashlib

    import numpy as np

    from detente.sources.lake import Lake
    from detente.warning.data import Window, history, truth
    from detente.warning.models import Recency

    window = Window(YEAR)
    with Lake(folder) as lake:
        countries = truth(lake, window).countries
        start = time.perf_counter()
        model = Recency()
        if name == "detente":
            past = history(lake, window.cutoff).subset(countries)
            draws = model.draws(past, HORIZONS, K, np.random.default_rng(1))
        else:
            parts = []
            for _h in range(HORIZONS):
                past = history(lake, window.cutoff).subset(countries)  # nothing shared
                parts.append(model.draws(past, 1, K, np.random.default_rng(1)))
            draws = np.concatenate(parts, axis=1)
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "shape": list(draws.shape),
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
        results = in_processes(__file__, ("detente", "naive"), tmp)
    mine, base = results["detente"], results["naive"]
    print(f"recency model, window {YEAR}: {K:,} draws x {mine['shape'][0]} countries x {HORIZONS} horizons")
    for name, r in results.items():
        print(f"{name:>8}: {r['seconds']:.2f} s, peak {r['peak'] / 2**20:,.0f} MB")
    print(f"detente is {base['seconds'] / mine['seconds']:.1f}x the speed of one fit per horizon")
    print(f"same draws: {'yes' if mine['digest'] == base['digest'] else 'NO'}")


if __name__ == "__main__":
    main()
