"""Early-warning speed: detente's sharing of work against the same models run naively.

* **recency** (both runs): the recency model's 1,000 draws for the 2019 window's 191
  countries x 14 horizons, fit included. detente reads the history from the lake and
  cross-validates the decay once, and one set of draws serves every horizon; the naive
  baseline repeats all of it once per horizon (history read, decay cross-validated, draws
  made), 14 times. Both give the same draws (checked). Since the naive run is 14 copies
  of detente's work, each for one horizon, the ratio is capped near 14x: a median above
  that would mean the measurement is wrong (a single round can pass it when the machine's
  load changes between the two runs).
* **window** (full run only): one full backtest window (2019: every model, 1,000 draws,
  scored) as ``warning.backtest`` runs it (history read once, the ensemble reusing its
  members' draws and fold forecasts) against the same window with nothing shared: every
  model reads the history itself and the ensemble recomputes its members' fold forecasts
  for each use. The draws must be the same (checked).

Like for like: both sides import before the clock, open the same lake before it, and read
the history inside it; no warm-up on either side (each run is a fresh process). Loading
the lake is not timed.

    .venv/bin/python benchmarks/warning.py [--quick] [--repeat 5]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import REPEAT, alternate, child_main, emit, quick, row, spread, value_row

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DETENTE_SHARED_DATA", ROOT.parent / "shared" / "data"))
FILES = [
    SHARED / "ucdp_ged_cm" / "ged_cm_postpatch_to_oct2019.parquet",
    SHARED / "ucdp_ged_cm" / "country.parquet",
    *sorted((SHARED / "views_cm").glob("cm_*201[89].parquet")),
]
YEAR = 2019
K, HORIZONS = 1000, 14


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
    if name.startswith("recency"):
        return _recency(name, folder)
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


def _recency(name: str, folder: Path) -> dict[str, Any]:
    import hashlib

    import numpy as np

    from detente.sources.lake import Lake
    from detente.warning.data import Window, history, truth
    from detente.warning.models import Recency

    window = Window(YEAR)
    rng = np.random.default_rng(1)
    with Lake(folder) as lake:
        countries = truth(lake, window).countries  # which countries: not timed, both sides
        start = time.perf_counter()
        if name == "recency":
            draws = Recency().draws(history(lake, window.cutoff).subset(countries), HORIZONS, K, rng)
        else:
            parts = []
            for _ in range(HORIZONS):
                past = history(lake, window.cutoff).subset(countries)
                parts.append(Recency().draws(past, 1, K, rng))
            draws = np.concatenate(parts, axis=1)
        seconds = time.perf_counter() - start
    digest = hashlib.sha256(np.ascontiguousarray(draws).tobytes()).hexdigest()[:16]
    return {"seconds": seconds, "shape": list(draws.shape), "digest": digest}


def _peak(runs: list[dict[str, Any]]) -> str:
    """The median of the runs' peak resident memory (each run a process of its own)."""
    return f"{spread(r['peak'] / 2**20 for r in runs)['median']:,.0f} MB"


def main() -> None:
    if child_main(run):
        return
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else REPEAT
    from detente.sources.lake import Lake
    from detente.sources.service import load

    with tempfile.TemporaryDirectory() as tmp:
        with Lake(Path(tmp)) as lake:  # loading is not timed
            load(lake, "views", FILES, user="bench")
        rec = alternate(__file__, ["recency", "recency-naive"], tmp, repeat)
        win = {} if quick() else alternate(__file__, ["detente", "naive"], tmp, repeat)
    same = all(a["digest"] == b["digest"] for a, b in zip(rec["recency"], rec["recency-naive"], strict=True))
    rows = [
        row("recency model, 1,000 draws x 191 countries x 14 horizons", rec["recency"], rec["recency-naive"],
            "naive, once per horizon",
            note=f"the baseline is 14 copies of detente's work (one per horizon): the median ratio is capped "
            f"near 14x; same draws: {'yes' if same else 'NO'}; peak {_peak(rec['recency'])} against "
            f"{_peak(rec['recency-naive'])}"),
    ]  # fmt: skip
    if win:
        same = all(a["digest"] == b["digest"] for a, b in zip(win["detente"], win["naive"], strict=True))
        rows.append(
            row("a full backtest window (2019, every model, scored)", win["detente"], win["naive"],
                "nothing shared", note=f"same draws, every model: {'yes' if same else 'NO'}; peak "
                f"{_peak(win['detente'])} against {_peak(win['naive'])}")
        )  # fmt: skip
    else:
        rows.append(value_row("a full backtest window", "not run", "full run only (about 2 minutes a run)"))
    emit("warning", f"early warning, {YEAR} window: work shared across horizons and models", rows)


if __name__ == "__main__":
    main()
