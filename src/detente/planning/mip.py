"""The engagement plan as a mixed-integer programme in HiGHS (``highspy``).

Columns: ``x[c, m]`` (candidate ``c`` starts in month ``m``) first, then the coverage
``y[o]`` of each objective, then the priority partners' slacks; the rows are those of
``optimise``'s docstring (assignment, budget, coverage, unit capacity, the Vienna
Document's limits, prerequisites, priority minimums). ``Model`` builds them once; the
explanation changes a row's bounds and re-solves (another budget, a candidate forced in).

Internal to ``detente.planning``: ``optimise.optimise`` is the public entry point.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import highspy
import numpy as np

from detente.planning.schedule import EPS, Prep

__all__ = ["Model", "Rows"]


class _Quiet(highspy.Highs):
    """``highspy.Highs`` without its banner: ``highspy.Highs()`` prints one (version and
    copyright) on the console while it sets up its callbacks, before anyone can turn
    its output off; here the output is off first."""

    def enableCallbacks(self) -> None:
        self.setOptionValue("output_flag", False)
        super().enableCallbacks()


class Model:
    """The MIP in a ``highspy.Highs``: x columns first, then coverage, then priority slacks."""

    def __init__(self, prep: Prep, time_limit: float) -> None:
        self.prep, self.h, self.rows = prep, _Quiet(), Rows()
        self.x_of: list[tuple[int, int]] = []  # column -> (candidate, month)
        self.col: dict[tuple[int, int], int] = {}
        for i in range(prep.n):
            if i not in prep.excluded:
                for m in prep.starts[i]:
                    self.col[i, m] = len(self.x_of)
                    self.x_of.append((i, m))
        self.nx, no = len(self.x_of), len(prep.weights)
        self.partners = list(prep.minimum)
        n = self.nx + no + len(self.partners)
        lower, upper = np.zeros(n), np.ones(n)
        upper[self.nx + no :] = [prep.minimum[k] for k in self.partners]
        cost = np.concatenate([np.zeros(self.nx), prep.weights, -prep.penalty * np.ones(len(self.partners))])
        self.assign: dict[int, int] = {}  # candidate -> its row: chosen at most once
        for i in dict.fromkeys(i for i, _m in self.x_of):
            cols = [self.col[i, m] for m in prep.starts[i]]
            self.assign[i] = self.rows.add(cols, [1.0] * len(cols), 0, 1)
        costs = [prep.cands[i].cost for i, _ in self.x_of]
        self.budget_row = self.rows.add(range(self.nx), costs, -math.inf, prep.problem.budget)
        self._coverage()
        self._units()
        self._vienna()
        self._prerequisites()
        self._priorities()
        h = self.h
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(time_limit))
        h.setOptionValue("random_seed", 0)
        h.addVars(n, lower, upper)
        h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self._integrality(highspy.HighsVarType.kInteger)
        self.rows.into(h)

    def _coverage(self) -> None:
        """y[o] <= the contributions to o of the chosen engagements (relative to its target)."""
        serving: list[list[tuple[int, float]]] = [[] for _ in self.prep.weights]
        for j, (i, _m) in enumerate(self.x_of):
            for o, a in self.prep.contrib[i]:
                serving[o].append((j, a))
        for o, terms in enumerate(serving):
            self.rows.add([self.nx + o, *(j for j, _ in terms)], [1.0, *(-a for _, a in terms)], -math.inf, 0)

    def _at_most(self, cols: list[int], limit: int) -> None:
        if len(cols) > limit:  # a row that cannot bind is left out
            self.rows.add(cols, [1.0] * len(cols), -math.inf, limit)

    def _units(self) -> None:
        prep = self.prep
        occupying: dict[str, list[list[int]]] = {u: [[] for _ in range(prep.months)] for u in prep.cap}
        for j, (i, m) in enumerate(self.x_of):
            for t in prep.occupies(i, m):
                for u in prep.units[i]:
                    occupying[u][t].append(j)
        for u, months in occupying.items():
            for t, cols in enumerate(months):
                self._at_most(cols, prep.cap[u][t])

    def _vienna(self) -> None:
        prep = self.prep
        for k, rule in enumerate(prep.limits):
            under = [(j, i, m) for j, (i, m) in enumerate(self.x_of) if i in prep.counts[k]]
            if rule.window == "simultaneous":
                for t in range(prep.months):
                    self._at_most([j for j, i, m in under if t in prep.occupies(i, m)], rule.max_activities)
                continue
            for first in range(1 - rule.years, prep.years):
                cols = [j for j, _, m in under if first <= m // 12 < first + rule.years]
                self._at_most(cols, prep.allowed(k, first))

    def _prerequisites(self) -> None:
        """Started by month t implies its prerequisite started by month t, for every t."""
        prep, col = self.prep, self.col
        for i in self.assign:
            for q in prep.req[i]:
                for t in prep.starts[i]:
                    mine = [col[i, m] for m in prep.starts[i] if m <= t]
                    theirs = [col[q, m] for m in prep.starts[q] if m <= t]
                    self.rows.add(mine + theirs, [1.0] * len(mine) + [-1.0] * len(theirs), -math.inf, 0)

    def _priorities(self) -> None:
        with_partner: dict[str, list[int]] = {}
        for j, (i, _m) in enumerate(self.x_of):
            with_partner.setdefault(self.prep.cands[i].partner, []).append(j)
        slack = self.nx + len(self.prep.weights)
        for s, partner in enumerate(self.partners):
            cols = with_partner.get(partner, [])
            self.rows.add([*cols, slack + s], [1.0] * (len(cols) + 1), self.prep.minimum[partner], math.inf)

    def _integrality(self, kind: highspy.HighsVarType) -> None:
        idx = np.arange(self.nx, dtype=np.int32)
        self.h.changeColsIntegrality(self.nx, idx, np.array([kind] * self.nx))

    def start_from(self, schedule: Mapping[int, int]) -> None:
        """Hand HiGHS a feasible schedule as its first incumbent."""
        prep = self.prep
        cols = np.zeros(self.h.getNumCol())
        where = {im: j for j, im in enumerate(self.x_of)}
        cover = prep.nothing.copy()
        for i, m in schedule.items():
            cols[where[i, m]] = 1.0
            for o, a in prep.contrib[i]:
                cover[o] += a
        cols[self.nx : self.nx + len(cover)] = np.minimum(1.0, cover)
        for s, k in enumerate(self.partners):
            met = sum(prep.cands[i].partner == k for i in schedule)
            cols[self.nx + len(cover) + s] = max(0, prep.minimum[k] - met)
        sol = highspy.HighsSolution()
        sol.col_value = list(cols)
        self.h.setSolution(sol)

    def solve(self) -> tuple[dict[int, int] | None, str, float | None, float | None]:
        """The schedule found (None if none), status, and the bound on its value and the
        relative gap among plans missing no fewer priority engagements."""
        h = self.h
        h.run()
        info = h.getInfo()
        status = h.modelStatusToString(h.getModelStatus()).lower()
        if info.primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
            return None, status, None, None
        cols = np.asarray(h.getSolution().col_value)
        schedule = {self.x_of[j][0]: self.x_of[j][1] for j in np.flatnonzero(cols[: self.nx] > 0.5)}
        value = self.prep.gain(self.prep.nothing, schedule)
        slack = float(cols[self.nx + len(self.prep.weights) :].sum())
        bound = max(value, float(info.mip_dual_bound) + self.prep.penalty * slack)
        return schedule, status, bound, (bound - value) / max(abs(value), EPS) if bound > value else 0.0

    def shadow_price(self) -> float:
        """The budget row's dual in the LP relaxation: an indicative value of one more unit."""
        self._integrality(highspy.HighsVarType.kContinuous)
        self.h.run()
        price = float(self.h.getSolution().row_dual[self.budget_row])
        self._integrality(highspy.HighsVarType.kInteger)
        return max(0.0, price)


class Rows:
    """Rows gathered in Python lists, handed to HiGHS in one call."""

    def __init__(self) -> None:
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.starts: list[int] = []
        self.index: list[int] = []
        self.value: list[float] = []

    def add(self, cols: Iterable[int], values: Iterable[float], lower: float, upper: float) -> int:
        """Add the row ``lower <= sum(values * cols) <= upper``; its index."""
        self.starts.append(len(self.index))
        self.index.extend(cols)
        self.value.extend(values)
        self.lower.append(max(lower, -highspy.kHighsInf))
        self.upper.append(min(upper, highspy.kHighsInf))
        return len(self.lower) - 1

    def into(self, h: highspy.Highs) -> None:
        """Hand every row gathered to ``h``."""
        h.addRows(
            len(self.lower),
            np.array(self.lower),
            np.array(self.upper),
            len(self.index),
            np.array(self.starts, dtype=np.int32),
            np.array(self.index, dtype=np.int32),
            np.array(self.value),
        )
