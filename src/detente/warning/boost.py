"""detente's gradient-boosted model.

``Boost`` is one LightGBM model for every horizon (the horizon is a feature, the country
features of ``detente.warning.features`` are computed once and shared). It predicts the
change in log deaths from the country's recent level:

    z = log1p(y[t+h]) - log1p(mean of y over the three months to t)

so a country's scale comes from its own history and the trees learn how conflicts grow,
persist and end. Its uncertainty is empirical and depends on the horizon: the model is fitted
on outcomes up to ``holdout`` months before the cutoff, and the errors it makes on the
held-out months (outcomes it never saw, every origin whose target falls in them) form one
pool per horizon. A country's draws are the ``neighbours`` held-out errors of that horizon
whose predictions were nearest its own, added to its prediction on the log scale:
forecasts far ahead spread wider because the errors far ahead were larger. Draws are
quantiles of those errors, so they are the same on every run.

Feature contributions (LightGBM's TreeSHAP, ``pred_contrib``) say how much each feature moved
the predicted log change: ``exp(contribution)`` multiplies the expected deaths.

It is not a member of the default ensemble (``detente.warning.ensemble``): run as one
over the challenge windows 2006-2019, each share chosen on the folds before its cutoff,
it made the ensemble worse where a war escalated past the levels the trees had seen
(2013, Syria). It stays available by name, with its feature contributions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from detente.core.errors import ValidationError
from detente.warning.data import History
from detente.warning.features import NAMES, features
from detente.warning.models import Run

__all__ = ["Boost", "Fitted"]

COLUMNS = (*NAMES, "horizon")
_BASE = NAMES.index("log_sum_3")


def _base(f: np.ndarray) -> np.ndarray:
    """log1p of the mean of the last three months, from the features' log1p(sum of 3)."""
    return np.log1p(np.expm1(f[..., _BASE]) / 3)


@dataclass
class Fitted:
    booster: Any  # lightgbm.Booster
    prediction: np.ndarray  # [country, horizon] on the log1p scale
    rows: np.ndarray  # the forecast's feature rows, [country * horizon, column], horizon-major
    errors: list[tuple[np.ndarray, np.ndarray]]  # per horizon: (sorted predictions, their errors)
    trained_rows: int
    held_out_rows: int

    def contributions(self) -> tuple[np.ndarray, np.ndarray]:
        """(contributions [country, horizon, column], expected value) on the log-change scale."""
        n, horizons = self.prediction.shape
        raw = self.booster.predict(self.rows, pred_contrib=True)
        return raw[:, :-1].reshape(horizons, n, -1).transpose(1, 0, 2), raw[:, -1]


@dataclass(frozen=True)
class Boost:
    years: int = 10
    holdout: int = 24
    neighbours: int = 2000  # chosen by CV on the folds before the 2018 and 2019 cutoffs (100-2000 tried)
    trees: int = 300
    seed: int = 2024
    refit: bool = True
    quiet: int = 4
    threads: int = 1  # on a shared machine, LightGBM's OpenMP threads spin: 120 trees took 42 s
    # on two busy cores with two threads and 0.9 s with one
    name: str = "boost"

    def params(self) -> dict[str, Any]:
        return {
            "objective": "l2",
            "learning_rate": 0.05,
            "num_leaves": 31,
            "min_data_in_leaf": 50,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "feature_fraction": 0.8,
            "max_bin": 1023,  # the default 255 bins lump together the few large death counts
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.threads,
            "verbosity": -1,
        }

    def _stack(
        self, f: np.ndarray, y: np.ndarray, pairs: list[tuple[int, int]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows for (origin t, horizon h) pairs where the origin and the target are observed:
        features at t with h, target z, and the base at t."""
        xs, zs = [], []
        for t, h in pairs:
            ok = ~np.isnan(y[:, t + h]) & ~np.isnan(y[:, t])
            xs.append(np.column_stack([f[ok, t, :], np.full(ok.sum(), h)]))
            zs.append(np.log1p(y[ok, t + h]) - _base(f[ok, t, :]))
        if not xs:
            return np.empty((0, len(COLUMNS))), np.empty(0), np.empty(0)
        x = np.concatenate(xs)
        return x, np.concatenate(zs), _base(x[:, : len(NAMES)])

    def _train(self, x: np.ndarray, z: np.ndarray) -> Any:
        """LightGBM on the rows, keeping one in ``quiet`` of the rows with no deaths in the last
        36 months and none at the target (three quarters of all rows), weighted by ``quiet``:
        the same expected loss at a fraction of the time."""
        import lightgbm as lgb

        calm = (x[:, NAMES.index("log_sum_36")] == 0) & (z == 0)
        keep = ~calm | (np.cumsum(calm) % self.quiet == 0)
        weight = np.where(calm[keep], float(self.quiet), 1.0)
        data = lgb.Dataset(x[keep], z[keep], weight=weight, free_raw_data=True)
        return lgb.train(self.params(), data, self.trees)

    def fit(self, history: History, horizons: int, only: list[int] | None = None) -> Fitted:
        """Fit for horizons 1..``horizons`` (or just those in ``only``: one model per horizon,
        as the benchmark's naive baseline does)."""
        steps = only or list(range(1, horizons + 1))
        f = features(history)
        y = history.values
        c = y.shape[1] - 1  # the cutoff's index
        end = c - self.holdout  # the last month whose outcome the model is fitted on
        first = max(0, end - 12 * self.years)
        train = [(t, h) for h in steps for t in range(first, end - h + 1)]
        x, z, _ = self._stack(f, y, train)
        if len(z) < 1000:
            raise ValidationError(
                f"too little history to fit the boosted model: {len(z)} rows before the hold-out "
                f"({self.holdout} months); it needs several years of country-months"
            )
        booster = self._train(x, z)
        errors = []
        for h in steps:
            held = [(t, h) for t in range(max(0, end - h + 1), c - h + 1)]
            xh, zh, base = self._stack(f, y, held)
            pred = booster.predict(xh) if len(zh) else np.empty(0)
            order = np.argsort(pred + base, kind="stable")
            errors.append(((pred + base)[order], (zh - pred)[order]))
        if self.refit:  # the forecast itself from a model that has seen the held-out months too
            start = max(0, c - 12 * self.years)
            pairs = [(t, h) for h in steps for t in range(start, c - h + 1)]
            x, z, _ = self._stack(f, y, pairs)
            booster = self._train(x, z)
        rows = np.concatenate([np.column_stack([f[:, c, :], np.full(len(y), h)]) for h in steps])
        prediction = (booster.predict(rows) + _base(rows[:, : len(NAMES)])).reshape(len(steps), -1).T
        held_out = sum(len(e[0]) for e in errors)
        return Fitted(booster, prediction, rows, errors, len(z), held_out)

    def sample(self, fitted: Fitted, k: int) -> np.ndarray:
        """``k`` draws per country and horizon: quantiles of the nearest held-out errors."""
        n, horizons = fitted.prediction.shape
        out = np.empty((n, horizons, k))
        q = (np.arange(k) + 0.5) / k
        for j, (levels, errs) in enumerate(fitted.errors):
            m = min(self.neighbours, len(errs))
            if m == 0:
                raise ValidationError(f"no held-out outcomes for horizon {j + 1}")
            p = fitted.prediction[:, j]
            start = np.clip(np.searchsorted(levels, p) - m // 2, 0, len(errs) - m)
            window = np.sort(errs[start[:, None] + np.arange(m)], axis=1)
            picked = window[:, np.minimum((q * m).astype(int), m - 1)]
            out[:, j, :] = np.maximum(np.round(np.expm1(p[:, None] + picked)), 0)
        return out

    def run(
        self, history: History, horizons: int, k: int, rng: np.random.Generator, done: dict[str, Run]
    ) -> Run:
        fitted = self.fit(history, horizons)
        params = {
            "trees": self.trees,
            "years": self.years,
            "holdout_months": self.holdout,
            "neighbours": self.neighbours,
            "seed": self.seed,
            "trained_rows": fitted.trained_rows,
            "held_out_rows": fitted.held_out_rows,
            "lightgbm": self.params(),
        }
        choice = (
            f"one LightGBM model for all {horizons} horizons, {fitted.trained_rows:,} rows; "
            f"errors from {fitted.held_out_rows:,} held-out rows of the last {self.holdout} months"
        )
        return Run(self.sample(fitted, k), choice, params, fitted=fitted)

    def draws(self, history: History, horizons: int, k: int, rng: np.random.Generator) -> np.ndarray:
        return self.sample(self.fit(history, horizons), k)
