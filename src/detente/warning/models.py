"""Forecasting models: each turns a ``History`` (data to the cutoff) into draws
``[country, horizon, draw]`` for the months after the cutoff.

The ViEWS prediction challenge's benchmarks:

* ``zero``: every draw 0.
* ``poisson``: last-historical Poisson, draws from Poisson(the country's value in the
  cutoff month).
* ``bootstrap``: global bootstrap, draws from all countries' values in the last twelve
  months.
* ``conflictology``: each country's own last twelve months, as equally weighted draws.

``published`` reads a submission or benchmark in the challenge's layout (``month_id``,
``country_id``, ``draw``, ``outcome``) so it is scored by the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from detente.core.errors import ValidationError
from detente.warning.data import History, fold_windows
from detente.warning.intervals import Intervals

__all__ = ["BENCHMARKS", "Conflictology", "Model", "Recency", "Run", "published_draws", "run_model"]


class Model(Protocol):
    @property
    def name(self) -> str: ...

    def draws(self, history: History, horizons: int, k: int, rng: np.random.Generator) -> np.ndarray: ...


@dataclass
class Run:
    """A model's draws ``[country, horizon, draw]`` with what it chose and why (for the
    backtest report) and its parameters (for a forecast's provenance)."""

    draws: np.ndarray
    choice: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    fitted: Any = None  # the boosted model's fit, for its feature contributions
    intervals: Intervals | None = None  # the levels of the draws reported as 50% and 90% intervals


def run_model(
    model: Model, history: History, horizons: int, k: int, rng: np.random.Generator,
    done: dict[str, Run] | None = None, cache: Any = None,
) -> Run:  # fmt: skip
    """Run ``model``; ``done`` holds runs already made on the same history (an ensemble
    reuses its members' draws instead of fitting them again), and ``cache`` member forecasts
    at earlier origins shared between windows (for models that take one)."""
    own = getattr(model, "run", None)
    if own is not None:
        if cache is not None and getattr(model, "takes_cache", False):
            return own(history, horizons, k, rng, done or {}, cache=cache)
        return own(history, horizons, k, rng, done or {})
    return Run(model.draws(history, horizons, k, rng))


def _filled(values: np.ndarray) -> np.ndarray:
    return np.nan_to_num(values, nan=0.0)


@dataclass(frozen=True)
class Zero:
    name: str = "zero"

    def draws(self, history: History, horizons: int, k: int, rng: np.random.Generator) -> np.ndarray:
        return np.zeros((len(history.countries), horizons, k))


@dataclass(frozen=True)
class LastPoisson:
    name: str = "poisson"

    def draws(self, history: History, horizons: int, k: int, rng: np.random.Generator) -> np.ndarray:
        rate = _filled(history.last(1))[:, 0]
        return rng.poisson(np.broadcast_to(rate[:, None, None], (len(rate), horizons, k))).astype(float)


@dataclass(frozen=True)
class GlobalBootstrap:
    months: int = 12
    name: str = "bootstrap"

    def draws(self, history: History, horizons: int, k: int, rng: np.random.Generator) -> np.ndarray:
        pool = history.last(self.months)
        pool = pool[~np.isnan(pool)]
        if not len(pool):
            raise ValidationError("no observed country-months to bootstrap from")
        return rng.choice(pool, size=(len(history.countries), horizons, k))


@dataclass(frozen=True)
class Conflictology:
    months: int = 12
    name: str = "conflictology"

    def draws(self, history: History, horizons: int, k: int, rng: np.random.Generator) -> np.ndarray:
        recent = _filled(history.last(self.months))
        # each of the country's last months as often as k allows (the first k mod n once more)
        picks = np.resize(np.arange(recent.shape[1]), k)
        return np.broadcast_to(recent[:, None, picks], (len(recent), horizons, k)).copy()


BENCHMARKS: dict[str, Model] = {
    m.name: m for m in (Zero(), LastPoisson(), GlobalBootstrap(), Conflictology())
}


def _recency_draws(recent: np.ndarray, lam: float, k: int) -> np.ndarray:
    """``k`` draws per row from its months, month j (0 = the latest) weighted lam^j: each
    month repeated in proportion to its weight (largest remainders get the rest)."""
    span = recent.shape[1]
    weights = lam ** np.arange(span)[::-1]
    weights = weights / weights.sum()
    counts = np.floor(weights * k).astype(int)
    counts[np.argsort(-(weights * k - counts))[: k - counts.sum()]] += 1
    return recent[:, np.repeat(np.arange(span), counts)]


@dataclass(frozen=True)
class Recency:
    """detente's recency-weighted empirical model.

    A country's next months are drawn from its own last three years, month j back weighted
    lam^j, the same distribution at every horizon. It is conflictology with a decay
    instead of a 12-month box. lam is chosen by time-series cross-validation inside the
    training data: for a forecast made at cutoff T, each candidate forecasts the five
    challenge windows whose scored months all end before T (data to October Y-1, scored
    on Y), and the lowest mean CRPS wins. Nothing after T is used, and the 2019 actuals
    played no part in the design."""

    span: int = 36
    candidates: tuple[float, ...] = (0.75, 0.8, 0.85, 0.9, 0.95)
    folds: int = 5
    name: str = "recency"

    def choose(self, history: History, k: int = 200) -> tuple[float, dict[float, float]]:
        from detente.warning.scoring import crps_each

        scores: dict[float, list[float]] = {lam: [] for lam in self.candidates}
        for _year, c, first in fold_windows(history, self.folds, self.span):
            truth = history.values[:, first : first + 12]
            recent = history.values[:, c - self.span + 1 : c + 1]
            ok = ~np.isnan(truth).any(axis=1) & ~np.isnan(recent[:, -1])
            for lam in self.candidates:
                d = _recency_draws(_filled(recent[ok]), lam, k)
                scores[lam].append(float(np.mean(crps_each(d, truth[ok]))))
        means = {lam: float(np.mean(v)) for lam, v in scores.items() if v}
        if not means:  # too little history to cross-validate: the middle of the grid
            return self.candidates[len(self.candidates) // 2], {}
        return min(means, key=lambda lam: (means[lam], lam)), means

    def sample(self, history: History, lam: float, horizons: int, k: int) -> np.ndarray:
        """Draws with a given decay (``choose`` gives the cross-validated one)."""
        d = _recency_draws(_filled(history.last(self.span)), lam, k)
        return np.broadcast_to(d[:, None, :], (len(d), horizons, k)).copy()

    def run(
        self, history: History, horizons: int, k: int, rng: np.random.Generator, done: dict[str, Run]
    ) -> Run:
        lam, folds = self.choose(history)  # cross-validated once: for the draws and the report
        tried = ", ".join(f"{a:g}: {b:.2f}" for a, b in sorted(folds.items()))
        return Run(
            self.sample(history, lam, horizons, k),
            f"decay {lam:g}, chosen by mean CRPS over the five earlier windows ({tried})",
            {"lambda": lam, "cv_crps": {str(a): b for a, b in folds.items()}, "span": self.span},
        )

    def draws(self, history: History, horizons: int, k: int, rng: np.random.Generator) -> np.ndarray:
        return self.sample(history, self.choose(history)[0], horizons, k)


def published_draws(path: Path, countries: np.ndarray, months: list[int]) -> np.ndarray:
    """Draws from a file in the challenge's layout, as ``[country, month, draw]`` for the
    given countries and months (every one must be there, with the same number of draws)."""
    import pandas as pd

    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{path}: not a readable parquet or CSV file ({exc})") from None
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()
    missing = [c for c in ("month_id", "country_id", "draw", "outcome") if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"{path}: no column {missing[0]!r} (the layout is month_id, country_id, draw, outcome)"
        )
    frame = frame[frame.month_id.isin(months) & frame.country_id.isin(countries)]
    if frame.outcome.isna().any() or (frame.outcome < 0).any():
        raise ValidationError(f"{path}: outcome must be a number >= 0 in every row")
    counts = frame.groupby(["country_id", "month_id"]).size()
    if len(counts) != len(countries) * len(months):
        raise ValidationError(
            f"{path}: draws for {len(counts)} of the {len(countries) * len(months)} country-months scored"
        )
    if counts.nunique() != 1:
        raise ValidationError(f"{path}: country-months have different numbers of draws")
    k = int(counts.iloc[0])
    ordered = frame.sort_values(["country_id", "month_id", "draw"])
    ci = {c: i for i, c in enumerate(countries.tolist())}
    mi = {m: i for i, m in enumerate(months)}
    out = np.empty((len(countries), len(months), k))
    values = ordered.outcome.to_numpy(dtype=float).reshape(-1, k)
    keys = ordered[["country_id", "month_id"]].to_numpy()[::k]
    for (c, m), row in zip(keys, values, strict=True):
        out[ci[int(c)], mi[int(m)]] = row
    return out
