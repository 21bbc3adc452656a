"""Early-warning speed: one full backtest window (2019: every model, 1,000 draws for 191
countries x 14 horizons, scored) as detente runs it, against the same window computed
naively, with nothing shared.

* **detente**: the history is read from the lake once; the ensemble reuses its members'
  draws at the cutoff, and each member's forecast at each earlier origin (the folds its
  weights, their shrinkage and its calibration are chosen on) is computed once and shared
  by the three choices (``FoldCache``).
* **naive**: every model reads the history from the lake itself; the ensemble runs its
  members again at the cutoff and recomputes the members' fold forecasts for each use: the
  five folds of the weights, the five folds behind each of the five nested choices of the
  shrinkage, and the ten folds of the calibration. The draws must be the same (checked).
* **detente, second window**: 2019 run after 2018 with the cache of a backtest over years
  (``analyses/warning_windows.py``): the folds 2019 shares with 2018 are not recomputed.
* **the ensemble alone**, both ways: the boosted model, not shared and not a member,
  dominates a full window's time, so the sharing shows best here.

Each contender runs in its own process, so its peak memory is its own; loading the lake is
not timed. The contenders run in turn, twice, and each one's faster round is reported.

    .venv/bin/python benchmarks/warning.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import child_main, in_processes

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DETENTE_SHARED_DATA", ROOT.parent / "shared" / "data"))
FILES = [
    SHARED / "ucdp_ged_cm" / "ged_cm_postpatch_to_oct2019.parquet",
    SHARED / "ucdp_ged_cm" / "country.parquet",
    *sorted((SHARED / "views_cm").glob("cm_*201[89].parquet")),
]
YEAR = 2019
CONTENDERS = ("detente", "naive", "detente-second-window", "ensemble", "ensemble-naive")
ROUNDS = 2


def _naive_ensemble(model: Any, past: Any, k: int) -> Any:
    """The ensemble's draws with nothing shared: fold forecasts recomputed for each use."""
    import numpy as np

    from detente.warning.ensemble import FoldCache, level_group, mix_many
    from detente.warning.models import run_model

    def folds(history: Any, count: int) -> list[Any]:
        return model.fold_data(history, FoldCache(), count)  # a fresh cache: nothing kept

    recent = folds(past, model.folds)
    scores = model.fold_scores(recent)
    nested = []
    for j, fold in enumerate(recent[: model.nested]):
        before = model.fold_scores(folds(past.until(fold.origin), model.folds))
        if len(before) == model.folds:
            nested.append((scores[j], before))
    weights, _ = model.combine(scores, nested)
    calibration = model.calibrate(folds(past, model.calibration), weights)
    draws = [run_model(m, past, 14, k, np.random.default_rng(2024)).draws for m in model.members]
    return calibration.apply(mix_many(draws, weights), level_group(past.values))


def run(name: str, folder: Path) -> dict[str, Any]:
    import hashlib

    import numpy as np

    from detente.sources.lake import Lake
    from detente.warning.backtest import backtest
    from detente.warning.catalog import MODELS
    from detente.warning.data import Window, history, truth
    from detente.warning.ensemble import FoldCache
    from detente.warning.models import run_model
    from detente.warning.scoring import crps

    window = Window(YEAR)
    first = window.forecast_months.index(window.scored_months[0])
    with Lake(folder) as lake:
        if name == "detente-second-window":
            cache = FoldCache()
            backtest(lake, YEAR - 1, cache=cache)  # the window before, not timed
            start = time.perf_counter()
            result = backtest(lake, YEAR, cache=cache)
            seconds = time.perf_counter() - start
            draws = result.draws
        elif name in ("ensemble", "ensemble-naive"):  # the default model alone, members included
            start = time.perf_counter()
            actual = truth(lake, window)
            past = history(lake, window.cutoff).subset(actual.countries)
            model = MODELS["ensemble"]
            if name == "ensemble":
                draws = {"ensemble": run_model(model, past, 14, 1000, np.random.default_rng(2024)).draws}
            else:
                draws = {"ensemble": _naive_ensemble(model, past, 1000)}
            seconds = time.perf_counter() - start
        elif name == "detente":
            start = time.perf_counter()
            result = backtest(lake, YEAR)
            seconds = time.perf_counter() - start
            draws = result.draws
        else:
            start = time.perf_counter()
            actual = truth(lake, window)
            draws = {}
            for model_name, model in MODELS.items():
                past = history(lake, window.cutoff).subset(actual.countries)  # read again each time
                if model_name == "ensemble":
                    draws[model_name] = _naive_ensemble(model, past, 1000)
                else:
                    draws[model_name] = run_model(model, past, 14, 1000, np.random.default_rng(2024)).draws
            for d in draws.values():
                crps(d[:, first:, :], actual.values)  # scored like the backtest
            seconds = time.perf_counter() - start
        actual = truth(lake, window)
    return {
        "seconds": seconds,
        "crps": {n: float(np.mean(crps(d[:, first:, :], actual.values))) for n, d in draws.items()},
        "digest": {
            n: hashlib.sha256(np.ascontiguousarray(d).tobytes()).hexdigest()[:16] for n, d in draws.items()
        },
    }


def main() -> None:
    if child_main(run):
        return
    from detente.sources.lake import Lake
    from detente.sources.service import load

    with tempfile.TemporaryDirectory() as tmp:
        with Lake(Path(tmp)) as lake:  # loading is not timed
            load(lake, "views", FILES, user="bench")
        rounds = [in_processes(__file__, CONTENDERS, tmp) for _ in range(ROUNDS)]
    # the machine is shared: each contender's best round, the rounds interleaved
    results = {n: min((r[n] for r in rounds), key=lambda r: r["seconds"]) for n in CONTENDERS}
    print(f"window {YEAR}: every model, 1,000 draws x 191 countries x 14 horizons, scored ({ROUNDS} rounds)")
    for name, r in results.items():
        if name.startswith("ensemble"):
            continue
        print(
            f"{name:>22}: {r['seconds']:6.1f} s, peak {r['peak'] / 2**20:,.0f} MB, "
            f"ensemble CRPS {r['crps']['ensemble']:.3f}"
        )
    mine, base = results["detente"], results["naive"]
    print(
        f"detente is {base['seconds'] / mine['seconds']:.2f}x the speed of the naive window, "
        f"memory ratio (naive / detente) {base['peak'] / mine['peak']:.2f}"
    )
    alone, naive_alone = results["ensemble"], results["ensemble-naive"]
    print(
        f"the ensemble alone (its members at the cutoff and at 10 origins): {alone['seconds']:.1f} s against "
        f"{naive_alone['seconds']:.1f} s naive, {naive_alone['seconds'] / alone['seconds']:.2f}x; "
        f"same draws: {'yes' if alone['digest']['ensemble'] == naive_alone['digest']['ensemble'] else 'NO'}"
    )
    second = results["detente-second-window"]
    print(
        f"a second window with the first's folds cached: {base['seconds'] / second['seconds']:.2f}x the naive"
    )
    same = all(mine["digest"][n] == base["digest"][n] for n in mine["digest"])
    print(f"same draws both ways, every model: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
