"""The intervals detente reports: for each nominal level c (50% and 90%), which central
interval of a forecast's draws is shown and scored as "the c interval".

The ensemble's draws are calibrated by group (``Calibration``): the central c interval of
the draws covered c of the folds' months with deaths *of its own group*. The months with
deaths of countries quiet for a year are onsets, which no interval around 0 covers, so
over all months with deaths the draws' central 90% covers less than 90%. Widening the
draws themselves to make up for it (``Ensemble(pooled=True)``) cost CRPS where conflicts
ended. Here the draws stay as they are; only the interval reported as c is read at another
level of them: for countries with deaths in the last twelve months (the active groups),
the central c_a(c) of the draws, c_a the level the pooled rule (``Calibration._target``)
learned on the same folds before the cutoff so that c of *all* the folds' months with
deaths are covered, onsets included. Quiet countries' and thin groups' intervals stay the
draws' central c. The interval is still a quantile interval of the same draws, so it is
consistent with them, and nothing after the cutoff sets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from detente.warning.data import label
from detente.warning.scoring import bounds

__all__ = ["NOMINAL", "Intervals", "group_key", "horizon_group"]

NOMINAL = (0.5, 0.9)
HORIZON_EDGES = (3, 8)  # horizons 1-3, 4-8, 9 and more (the calibration's groups)
LEVELS = ("quiet a year", "up to 10 a month", "more than 10 a month")


def horizon_group(horizons: int) -> np.ndarray:
    """The calibration's horizon group (0: 1-3, 1: 4-8, 2: 9 and more) of each horizon."""
    return np.digitize(np.arange(1, horizons + 1), np.array(HORIZON_EDGES) + 0.5)


def group_key(level: int, horizon: int) -> str:
    """A (level group, horizon group) pair as stored in a forecast's metadata."""
    return f"{level},{horizon}"


@dataclass(frozen=True)
class Intervals:
    """Per nominal level c and (level group, horizon group): the central level of the draws
    reported as the c interval; ``groups`` is each country's level group at the cutoff."""

    levels: dict[float, dict[str, float]]
    groups: np.ndarray
    cutoff: int  # the last month whose outcomes the folds saw
    folds: tuple[int, ...] = ()  # the calibration folds' origins

    def level(self, c: float, horizons: int) -> np.ndarray:
        """The central level of the draws read as the ``c`` interval, [country, horizon]."""
        table = self.levels.get(c)
        if table is None:
            raise KeyError(f"no learned level for the {c:.0%} interval; learned: {sorted(self.levels)}")
        hg = horizon_group(horizons)
        out = np.full((len(self.groups), horizons), float(c))
        for key, value in table.items():
            lv, h = (int(x) for x in key.split(","))
            out[np.ix_(self.groups == lv, hg == h)] = value
        return out

    def bounds(self, draws: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
        """The (low, high) ends of the ``c`` interval of ``draws[country, horizon, k]``."""
        return bounds(draws, self.level(c, draws.shape[1]))

    def rows(self, mask: np.ndarray) -> Intervals:
        """The same intervals for the countries in ``mask`` only."""
        return Intervals(self.levels, self.groups[mask], self.cutoff, self.folds)

    def describe(self, c: float) -> str:
        """In words: e.g. "90% interval = central 94.7% of the draws ... learned on folds to
        2015-10"."""
        table = self.levels[c]
        wider = sorted({round(v, 3) for k, v in table.items() if not k.startswith("0,") and v != c})
        read = "/".join(f"{v:.1%}" for v in wider) if wider else f"{c:.1%}"
        return (
            f"{c:.0%} interval = central {read} of the draws for countries with deaths in the last "
            f"twelve months (quiet ones: central {c:.0%}), learned on {len(self.folds)} folds to "
            f"{label(self.cutoff)}"
        )

    def meta(self) -> dict[str, Any]:
        """JSON-ready, for a forecast's metadata (``from_meta`` reads it back)."""
        return {
            "levels": {str(c): dict(t) for c, t in self.levels.items()},
            "groups": [int(g) for g in self.groups],
            "cutoff": int(self.cutoff),
            "folds": [int(f) for f in self.folds],
            "described": [self.describe(c) for c in sorted(self.levels)],
        }

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Intervals:
        """The intervals ``meta`` describes."""
        levels = {float(c): {k: float(v) for k, v in t.items()} for c, t in meta["levels"].items()}
        return cls(levels, np.array(meta["groups"], dtype=int), int(meta["cutoff"]), tuple(meta["folds"]))
