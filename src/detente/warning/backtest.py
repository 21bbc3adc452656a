"""The challenge protocol end to end: for a window Y, every model forecasts from the data to
October of Y-1, and is scored on January-December of Y with CRPS, ignorance and the 90%
interval score (means over country-months), plus the average precision of P(>= 25
deaths) for onsets (a month with >= 25 deaths after twelve months below 25).

Draws can be written in the challenge's layout (one Parquet file per model: columns
``month_id``, ``country_id``, ``draw``, ``outcome``) so they can be compared with other
teams' submissions, or scored again with ``detente warning score``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from detente.sources.lake import Lake
from detente.warning import scoring
from detente.warning.catalog import MODELS
from detente.warning.data import HORIZONS, History, Window, history, truth
from detente.warning.models import Model, Run, published_draws, run_model

__all__ = ["Score", "backtest", "score", "write_draws"]

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


def score(name: str, draws: np.ndarray, actual: History, onsets: tuple[np.ndarray, np.ndarray]) -> Score:
    """Scores of ``draws[country, scored month, draw]`` against ``actual``."""
    y = actual.values
    eligible, onset = onsets
    probability = np.mean(draws >= ONSET, axis=-1)
    return Score(
        name,
        float(np.mean(scoring.crps(draws, y))),
        float(np.mean(scoring.ignorance(draws, y))),
        float(np.mean(scoring.interval_score(draws, y))),
        scoring.average_precision(probability[eligible], onset[eligible]),
        len(actual.countries),
        y.shape[1],
        draws.shape[-1],
    )


@dataclass
class Backtest:
    window: Window
    scores: list[Score]
    draws: dict[str, np.ndarray] = field(default_factory=dict)  # [country, 14 horizons, draw]
    countries: np.ndarray = field(default_factory=lambda: np.array([], dtype=int))
    choices: dict[str, str] = field(default_factory=dict)  # model -> what it chose and why


def backtest(
    lake: Lake,
    year: int,
    *,
    models: dict[str, Model] | None = None,
    k: int = 1000,
    seed: int = 2024,
    published: dict[str, Path] | None = None,
) -> Backtest:
    window = Window(year)
    actual = truth(lake, window)
    past = history(lake, window.cutoff).subset(actual.countries)
    onsets = _onsets(lake, window, actual)
    first_scored = window.forecast_months.index(window.scored_months[0])
    result = Backtest(window, [], countries=actual.countries)
    done: dict[str, Run] = {}
    for name, model in (MODELS if models is None else models).items():
        done[name] = run_model(model, past, HORIZONS, k, np.random.default_rng(seed), done)
        if done[name].choice:
            result.choices[name] = done[name].choice
        result.draws[name] = done[name].draws
        result.scores.append(score(name, done[name].draws[:, first_scored:, :], actual, onsets))
    for name, path in (published or {}).items():
        draws = published_draws(path, actual.countries, window.scored_months)
        result.scores.append(score(name, draws, actual, onsets))
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
