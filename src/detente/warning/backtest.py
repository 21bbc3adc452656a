"""The challenge protocol end to end: for a window Y, every model forecasts from the data to
October of Y-1, and is scored on January-December of Y with CRPS, ignorance and the 90%
interval score (means over country-months), the average precision of P(>= 25 deaths) for
onsets (a month with >= 25 deaths after twelve months below 25), and calibration: the
coverage of the central 50% and 90% intervals (on the randomised PIT, overall and for the
country-months with deaths, where the plain share of outcomes inside the draws' quantiles
is given too) and the PIT histogram.

Draws can be written in the challenge's layout (one Parquet file per model: columns
``month_id``, ``country_id``, ``draw``, ``outcome``) so they can be compared with other
teams' submissions, or scored again with ``detente warning score``.

A ``FoldCache`` passed to several windows (``analyses/warning_windows.py``) lets the
ensemble compute each member's forecast at each earlier origin once; a ``progress``
callback hears of each model as it is run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from detente.sources.lake import Lake
from detente.warning import scoring
from detente.warning.catalog import MODELS
from detente.warning.data import HORIZONS, History, Window, history, truth
from detente.warning.ensemble import FoldCache
from detente.warning.intervals import Intervals
from detente.warning.models import Model, Run, published_draws, run_model

__all__ = ["Backtest", "Score", "backtest", "score", "write_draws"]

Progress = Callable[[str, int, int], None]  # (what is running, done so far, total)

ONSET = 25


@dataclass(frozen=True)
class Score:
    model: str
    crps: float
    ign: float
    mis: float
    onset_ap: float | None
    countries: int
    months: int
    draws: int
    cover50: float = float("nan")  # randomised-PIT coverage of the reported intervals, all months
    cover90: float = float("nan")
    deaths: int = 0  # country-months with deaths
    cover50_deaths: float = float("nan")
    cover90_deaths: float = float("nan")
    inside50_deaths: float = float("nan")  # plain share inside the reported interval's quantiles
    inside90_deaths: float = float("nan")
    pit: tuple[float, ...] = ()  # PIT histogram, ten bins
    central50: float = float("nan")  # the same coverage for the draws' own central intervals
    central90: float = float("nan")
    central50_deaths: float = float("nan")
    central90_deaths: float = float("nan")

    def row(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _onsets(lake: Lake, window: Window, actual: History) -> tuple[np.ndarray, np.ndarray]:
    """(eligible, onset) per scored country-month: eligible after twelve quiet months."""
    before = history(
        lake, window.scored_months[0] - 1, first=window.scored_months[0] - 12, context=False
    ).subset(actual.countries)
    series = np.concatenate([np.nan_to_num(before.values, nan=0.0), actual.values], axis=1)
    eligible = np.zeros(actual.values.shape, dtype=bool)
    for j in range(actual.values.shape[1]):
        eligible[:, j] = np.all(series[:, j : j + 12] < ONSET, axis=1)
    return eligible, actual.values >= ONSET


def score(
    name: str, draws: np.ndarray, actual: History, onsets: tuple[np.ndarray, np.ndarray],
    levels: dict[float, np.ndarray] | None = None,
) -> Score:  # fmt: skip
    """Scores of ``draws[country, scored month, draw]`` against ``actual``. ``levels``: the
    central level of the draws reported as the 50% and 90% intervals, per country-month
    (``intervals.Intervals``); without it, or for the ``central`` figures, the draws' own
    central 50% and 90%. CRPS, ignorance and the interval score (the challenge's, on the
    draws' central 90%) do not depend on it."""
    y = actual.values
    at = {c: (levels or {}).get(c, c) for c in (0.5, 0.9)}
    eligible, onset = onsets
    probability = np.mean(draws >= ONSET, axis=-1)
    deaths = y > 0

    def share(hit: np.ndarray, rows: np.ndarray | None = None) -> float:
        picked = hit if rows is None else hit[rows]
        return float(np.mean(picked)) if picked.size else float("nan")

    c50, c90 = scoring.coverage(draws, y, at[0.5]), scoring.coverage(draws, y, at[0.9])
    p50, p90 = scoring.coverage(draws, y, 0.5), scoring.coverage(draws, y, 0.9)
    return Score(
        name,
        float(np.mean(scoring.crps(draws, y))),
        float(np.mean(scoring.ignorance(draws, y))),
        float(np.mean(scoring.interval_score(draws, y))),
        scoring.average_precision(probability[eligible], onset[eligible]),
        len(actual.countries),
        y.shape[1],
        draws.shape[-1],
        share(c50),
        share(c90),
        int(deaths.sum()),
        share(c50, deaths),
        share(c90, deaths),
        share(scoring.inside(draws, y, at[0.5]), deaths),
        share(scoring.inside(draws, y, at[0.9]), deaths),
        tuple(float(x) for x in scoring.pit_histogram(draws, y)),
        share(p50),
        share(p90),
        share(p50, deaths),
        share(p90, deaths),
    )


@dataclass
class Backtest:
    window: Window
    scores: list[Score]
    draws: dict[str, np.ndarray] = field(default_factory=dict)  # [country, 14 horizons, draw]
    countries: np.ndarray = field(default_factory=lambda: np.array([], dtype=int))
    choices: dict[str, str] = field(default_factory=dict)  # model -> what it chose and why
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # model -> its parameters
    intervals: dict[str, Intervals] = field(default_factory=dict)  # model -> its learned levels


def backtest(
    lake: Lake,
    year: int,
    *,
    models: dict[str, Model] | None = None,
    k: int = 1000,
    seed: int = 2024,
    published: dict[str, Path] | None = None,
    cache: FoldCache | None = None,
    progress: Progress | None = None,
) -> Backtest:
    window = Window(year)
    actual = truth(lake, window)
    past = history(lake, window.cutoff).subset(actual.countries)
    onsets = _onsets(lake, window, actual)
    first_scored = window.forecast_months.index(window.scored_months[0])
    result = Backtest(window, [], countries=actual.countries)
    done: dict[str, Run] = {}
    chosen = MODELS if models is None else models
    cache = cache if cache is not None else FoldCache()
    total = len(chosen) + len(published or {})
    for step, (name, model) in enumerate(chosen.items()):
        if progress:
            progress(name, step, total)
        done[name] = run_model(model, past, HORIZONS, k, np.random.default_rng(seed), done, cache=cache)
        if done[name].choice:
            result.choices[name] = done[name].choice
        result.params[name] = done[name].params
        result.draws[name] = done[name].draws
        learned = done[name].intervals
        if learned is not None:
            result.intervals[name] = learned
        levels = {c: learned.level(c, HORIZONS)[:, first_scored:] for c in learned.levels} if learned else {}
        result.scores.append(score(name, done[name].draws[:, first_scored:, :], actual, onsets, levels))
    for step, (name, path) in enumerate((published or {}).items(), start=len(chosen)):
        if progress:
            progress(name, step, total)
        draws = published_draws(path, actual.countries, window.scored_months)
        result.scores.append(score(name, draws, actual, onsets))
    if progress:
        progress("done", total, total)
    return result


def write_draws(result: Backtest, folder: Path) -> list[Path]:
    """Each model's draws for the fourteen forecast months in the challenge's layout."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    months = np.array(result.window.forecast_months)
    for name, draws in result.draws.items():
        n, h, k = draws.shape
        table = pa.table(
            {
                "month_id": np.repeat(np.tile(months, n), k).astype(np.int64),
                "country_id": np.repeat(result.countries, h * k).astype(np.int64),
                "draw": np.tile(np.arange(k), n * h).astype(np.int64),
                "outcome": draws.reshape(-1).astype(np.float64),
            }
        )
        path = folder / f"{name}_{result.window.year}.parquet"
        pq.write_table(table, path)
        written.append(path)
    return written
