"""The regime model: does a conflict stay, grow, fade or stop? Probabilities learned from
history, country-months like this one.

Each country-month is put in a *state* from its own recent deaths y (unobserved months
count as 0): m1 the month itself, m3 the mean of the last three months, m12 of the last
twelve.

* **level**: m12 in bands (none, up to 1 a month, 1-10, 10-100, 100-1000, over 1000);
* **trend**: log1p(m3) - log1p(m12) in bands (< -1.5, -0.5, 0.5, 1.5, more): a run of
  quiet months after a high level falls in the lowest band, an escalation in the highest;
* **jump**: log1p(m1) - log1p(m3) below -1, between, above 1: the last month against the
  three;
* for countries with no deaths in twelve months, **quiet**: months since the last death
  (up to 24, up to 60, more or never), so onsets after a few quiet years and after many
  have their own base rates.

For every horizon h the model pools what happened h months after every country-month in
the same state during the ``years`` before the cutoff (targets up to the cutoff only):

* the share that had no deaths, P(stop), the hurdle;
* for the others, the log change r = log1p(y[t+h]) - log1p(m3) from the country's level.

A country's draws are 0 with the pooled P(stop) and otherwise its own level m3 moved by the
pooled changes: expm1(log1p(m3) + r), as quantiles, so they are the same on every run.
Where a state has fewer than ``min_cell`` pooled cases, it widens step by step (drop the
jump, then neighbouring levels, then all active levels), and the state used is recorded.
Because r is relative to the country's own level, a war at a level history has rarely seen
is forecast from how wars near that level changed, not capped at the largest level seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from detente.core.errors import ValidationError
from detente.warning.data import History
from detente.warning.models import Run

__all__ = ["Regime", "States", "states"]

LEVELS = (0.001, 1.0, 10.0, 100.0, 1000.0)
TRENDS = (-1.5, -0.5, 0.5, 1.5)
JUMPS = (-1.0, 1.0)
QUIET = (24, 60)
LEVEL_NAMES = ("none", "under 1", "1-10", "10-100", "100-1000", "over 1000")
TREND_NAMES = ("falling fast", "falling", "steady", "rising", "rising fast")


def _rolling_mean(y: np.ndarray, n: int) -> np.ndarray:
    c = np.cumsum(y, axis=1)
    out = c.copy()
    out[:, n:] = c[:, n:] - c[:, :-n]
    return out / n


@dataclass(frozen=True)
class States:
    """Per country and month: log1p(m3) and the state's bands."""

    base: np.ndarray
    level: np.ndarray
    trend: np.ndarray
    jump: np.ndarray
    quiet: np.ndarray

    def at(self, i: int, t: int) -> tuple[int, int, int, int]:
        return int(self.level[i, t]), int(self.trend[i, t]), int(self.jump[i, t]), int(self.quiet[i, t])


def states(values: np.ndarray) -> States:
    """The states of every country-month of ``values`` [country, month] (causal: month t
    uses months up to t)."""
    y = np.nan_to_num(values, nan=0.0)
    m3, m12 = _rolling_mean(y, 3), _rolling_mean(y, 12)
    since = np.full(y.shape, 999.0)
    last = np.full(len(y), -np.inf)
    for t in range(y.shape[1]):
        last = np.where(y[:, t] > 0, t, last)
        since[:, t] = np.minimum(t - last, 999)
    return States(
        np.log1p(m3),
        np.digitize(np.log1p(m12), np.log1p(LEVELS)),
        np.digitize(np.log1p(m3) - np.log1p(m12), TRENDS),
        np.digitize(np.log1p(y) - np.log1p(m3), JUMPS),
        np.digitize(since, QUIET),
    )


Cell = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _cells(level: int, trend: int, jump: int, quiet: int) -> list[tuple[str, Cell]]:
    """The state's pools from the narrowest to the widest, each with its description."""
    if level == 0:
        return [
            (f"no deaths in 12 months, quiet band {quiet}", lambda lv, tr, jm, qu: (lv == 0) & (qu == quiet)),
            ("no deaths in 12 months", lambda lv, tr, jm, qu: lv == 0),
        ]
    lo, lowest = max(level - 1, 1), max(level - 2, 1)
    return [
        ("level, trend and last month", lambda lv, tr, jm, qu: (lv == level) & (tr == trend) & (jm == jump)),
        ("level and trend", lambda lv, tr, jm, qu: (lv == level) & (tr == trend)),
        (
            "trend, this level or the one below",
            lambda lv, tr, jm, qu: (lv >= lo) & (lv <= level) & (tr == trend),
        ),
        ("this level or the one below", lambda lv, tr, jm, qu: (lv >= lo) & (lv <= level)),
        ("this level or the two below", lambda lv, tr, jm, qu: (lv >= lowest) & (lv <= level)),
        ("any level with deaths", lambda lv, tr, jm, qu: lv >= 1),
    ]


@dataclass
class Pooled:
    """What happened after country-months in one state, at one horizon."""

    stop: float  # share with no deaths
    changes: np.ndarray  # sorted log changes of the others
    cases: int
    pool: str


@dataclass(frozen=True)
class Regime:
    years: int = 10
    min_cell: int = 50
    name: str = "regime"

    def pools(self, history: History, horizons: int) -> tuple[States, list[dict[tuple[int, ...], Pooled]]]:
        """Per horizon, the pooled outcomes of every state the countries are in at the cutoff."""
        y = np.nan_to_num(history.values, nan=0.0)
        observed = ~np.isnan(history.values)
        s = states(history.values)
        c = y.shape[1] - 1
        first = max(12, c - 12 * self.years)
        now = {s.at(i, c) for i in range(len(y))}
        out: list[dict[tuple[int, ...], Pooled]] = []
        for h in range(1, horizons + 1):
            ts = np.arange(first, c - h + 1)
            if not len(ts):
                raise ValidationError(f"too little history for the regime model at horizon {h}")
            ok = observed[:, ts + h] & observed[:, ts]
            target = y[:, ts + h][ok]
            base = s.base[:, ts][ok]
            bands = [a[:, ts][ok] for a in (s.level, s.trend, s.jump, s.quiet)]
            found: dict[tuple[int, ...], Pooled] = {}
            for state in now:
                found[state] = self._pool(state, target, base, bands)
            out.append(found)
        return s, out

    def _pool(
        self, state: tuple[int, ...], target: np.ndarray, base: np.ndarray, bands: list[np.ndarray]
    ) -> Pooled:
        level, trend, jump, quiet = state
        for text, cell in _cells(level, trend, jump, quiet):
            pick = cell(*bands)
            n = int(pick.sum())
            if n >= self.min_cell:
                t, b = target[pick], base[pick]
                positive = t > 0
                changes = np.sort(np.log1p(t[positive]) - b[positive])
                return Pooled(float(np.mean(~positive)), changes, n, text)
        return Pooled(1.0, np.zeros(0), 0, "no similar country-months: forecast 0")

    def sample(self, history: History, horizons: int, k: int) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """Draws [country, horizon, k] and, per country, its state and first-horizon pool."""
        s, pools = self.pools(history, horizons)
        c = history.values.shape[1] - 1
        n = len(history.countries)
        out = np.zeros((n, horizons, k))
        explained: list[dict[str, Any]] = []
        quantiles: dict[tuple[tuple[int, ...], int], tuple[int, np.ndarray]] = {}
        for i in range(n):
            state = s.at(i, c)
            for j, found in enumerate(pools):
                if (state, j) not in quantiles:  # once per state and horizon
                    p = found[state]
                    zeros = round(p.stop * k)
                    rest = k - zeros
                    q = (
                        np.quantile(p.changes, (np.arange(rest) + 0.5) / rest)
                        if rest and len(p.changes)
                        else None
                    )
                    quantiles[state, j] = (zeros if q is not None else k, q if q is not None else np.zeros(0))
                zeros, q = quantiles[state, j]
                out[i, j, zeros:] = np.maximum(np.round(np.expm1(s.base[i, c] + q)), 0)
            first = pools[0][state]
            explained.append(
                {
                    "level": LEVEL_NAMES[state[0]],
                    "trend": TREND_NAMES[state[1]] if state[0] else "quiet",
                    "pool": first.pool,
                    "cases": first.cases,
                    "p_stop": first.stop,
                }
            )
        return out, explained

    def run(
        self, history: History, horizons: int, k: int, rng: np.random.Generator, done: dict[str, Run]
    ) -> Run:
        draws, explained = self.sample(history, horizons, k)
        choice = (
            f"states pooled over the {self.years} years before the cutoff, at least "
            f"{self.min_cell} cases a state"
        )
        states = {str(int(c)): e for c, e in zip(history.countries, explained, strict=True)}
        params = {"years": self.years, "min_cell": self.min_cell, "states": states}
        return Run(draws, choice, params)

    def draws(self, history: History, horizons: int, k: int, rng: np.random.Generator) -> np.ndarray:
        return self.sample(history, horizons, k)[0]
