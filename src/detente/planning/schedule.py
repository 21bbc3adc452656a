"""The engagement plan's problem as indices, and a partial schedule with the resources it uses.

``Prep`` turns a ``Problem`` into what the programme, the greedy and the explanation all
index by: candidates and objectives as numbers, each candidate's contributions relative to
its objectives' targets, unit capacity per month, the Vienna Document's constraining
provisions (which candidates count towards each, and the earlier activities) and the
candidates that cannot be chosen at all, with the reason. ``State`` is a schedule being
built or read: what it spends, covers and occupies, and why a candidate cannot start in a
month beside it.

Internal to ``detente.planning``: the public entry points are in ``optimise``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Literal

import numpy as np

from detente.planning.vienna_rules import ConstraintRule, Rules

if TYPE_CHECKING:
    from detente.planning.optimise import Problem

__all__ = ["EPS", "Prep", "Reason", "State", "counts_towards", "rules_2011", "shortfall"]

Reason = Literal[
    "blocked",  # a legal prerequisite is missing: it cannot be chosen
    "prerequisite_blocked",  # an engagement it requires cannot be chosen
    "cannot_fit",  # no start month, dearer than the whole budget, no unit capacity in its window
    "prerequisite_left_out",  # an engagement it requires is not in the plan
    "no_value",  # the objectives it serves are covered already (or it serves none)
    "no_room",  # the plan fills its units or the Vienna limits in every month of its window
    "not_worth_cost",  # it fits, but not in the budget left, and it is worth less per cost
    "within_gap",  # it would fit and add value: the solver stopped within its gap
]
EPS = 1e-9


@cache
def rules_2011() -> Rules:
    """The 2011 Vienna Document rule table, loaded once: the default of every problem."""
    return Rules.load("2011")


class Prep:
    """The problem as indices, with what cannot be chosen at all set aside."""

    def __init__(self, problem: Problem) -> None:
        self.problem = p = problem
        self.cands, M = tuple(p.candidates), p.months
        self.n, self.months, self.years = len(self.cands), M, (M + 11) // 12
        self.index = {c.id: i for i, c in enumerate(self.cands)}
        self.oindex = {o.id: i for i, o in enumerate(p.objectives)}
        self.weights = np.array([o.weight for o in p.objectives], dtype=float)
        self.nothing = np.zeros(len(self.weights))  # the contributions of an empty plan
        targets = [o.target for o in p.objectives]
        self.contrib = [
            [(self.oindex[o], a / targets[self.oindex[o]]) for o, a in c.objectives.items() if a > 0]
            for c in self.cands
        ]
        self.cap = {u: (cap,) * M if isinstance(cap, int) else tuple(cap) for u, cap in p.capacity.items()}
        self.units = [tuple(u for u in dict.fromkeys(c.units) if u in self.cap) for c in self.cands]
        self.rules = p.vienna or rules_2011()
        self.limits: list[ConstraintRule] = list(self.rules.constraints)
        # per limit: which candidates count towards it, and the earlier activities by year (-1, -2, ...)
        self.counts = [
            {
                i
                for i, c in enumerate(self.cands)
                if counts_towards(self.rules, rule, c.troops, c.tanks, c.where)
            }
            for rule in self.limits
        ]
        self.before = [
            [-y for y, troops, tanks in p.earlier if counts_towards(self.rules, rule, troops, tanks, None)]
            for rule in self.limits
        ]
        self.req = [[self.index[q] for q in dict.fromkeys(c.requires)] for c in self.cands]
        self.dependants: list[list[int]] = [[] for _ in self.cands]
        for i, req in enumerate(self.req):
            for q in req:
                self.dependants[q].append(i)
        self.excluded: dict[int, tuple[Reason, str]] = {}
        self.starts: list[list[int]] = []
        for i, c in enumerate(self.cands):
            last = M - 1 if c.latest is None else min(c.latest, M - 1)
            starts = [m for m in range(c.earliest, last + 1) if self._unit_free(i, m)]
            self.starts.append(starts)
            if c.blocked_reason:
                self.excluded[i] = ("blocked", c.blocked_reason)
            elif c.earliest > last:
                self.excluded[i] = ("cannot_fit", f"no start month within the plan's {M} months")
            elif not starts:
                self.excluded[i] = ("cannot_fit", "its units have no capacity in any month of its window")
            elif c.cost > p.budget + EPS:
                self.excluded[i] = (
                    "cannot_fit",
                    f"costs {c.cost:,.0f}, more than the budget {p.budget:,.0f}",
                )
        self._follow_prerequisites()
        self.penalty = 1.0 + float(self.weights.sum())
        # a minimum above the partner's candidates that can be chosen is unmet whatever the plan:
        # the model asks for what can be had, so its penalty (and gap) is not swamped by the rest
        able: dict[str, int] = {}
        for i, c in enumerate(self.cands):
            able[c.partner] = able.get(c.partner, 0) + (i not in self.excluded)
        self.minimum = {
            k: min(v, able.get(k, 0)) for k, v in p.priority.items() if min(v, able.get(k, 0)) > 0
        }

    def _follow_prerequisites(self) -> None:
        """Rule out a candidate requiring one that cannot be chosen, and start it no earlier
        than its prerequisites can; repeated until nothing changes (chains of requirements)."""
        changed = True
        while changed:
            changed = False
            for i, req in enumerate(self.req):
                if i in self.excluded or not req:
                    continue
                bad = next((q for q in req if q in self.excluded), None)
                if bad is not None:
                    why = self.excluded[bad][1]
                    self.excluded[i] = ("prerequisite_blocked", f"requires {self.cands[bad].id}: {why}")
                    changed = True
                    continue
                late = max(req, key=lambda q: self.starts[q][0])
                if self.starts[i][0] < self.starts[late][0]:
                    self.starts[i] = [m for m in self.starts[i] if m >= self.starts[late][0]]
                    changed = True
                    if not self.starts[i]:
                        first = self.starts[late][0]
                        why = f"requires {self.cands[late].id}, which cannot start before month {first}"
                        self.excluded[i] = ("cannot_fit", why)

    def _unit_free(self, i: int, m: int) -> bool:
        return all(self.cap[u][t] > 0 for u in self.units[i] for t in self.occupies(i, m))

    def occupies(self, i: int, m: int) -> range:
        """The months candidate ``i`` occupies when it starts in month ``m`` (within the plan)."""
        return range(m, min(m + self.cands[i].duration, self.months))

    def windows(self, k: int, year: int) -> range:
        """The first years of limit ``k``'s calendar-year windows that hold ``year``."""
        return range(year - self.limits[k].years + 1, year + 1)

    def allowed(self, k: int, first: int) -> int:
        """Limit ``k``'s activities left to the plan in the window starting in year ``first``."""
        rule = self.limits[k]
        earlier = sum(first <= y < first + rule.years for y in self.before[k])
        return max(0, rule.max_activities - earlier)

    def cite(self, k: int) -> str:
        """Limit ``k`` named as a reason: its title and the paragraph it rests on."""
        return f"{self.limits[k].title} ({self.rules.cite(self.limits[k].paragraph)})"

    def gain(self, cover: np.ndarray, members: Iterable[int]) -> float:
        """The value ``members`` would add to a plan with these (uncapped) contributions."""
        delta: dict[int, float] = {}
        for i in members:
            for o, a in self.contrib[i]:
                delta[o] = delta.get(o, 0.0) + a
        return float(
            sum(self.weights[o] * (min(1.0, cover[o] + d) - min(1.0, cover[o])) for o, d in delta.items())
        )


def counts_towards(rules: Rules, rule: ConstraintRule, troops: int, tanks: int, where: str | None) -> bool:
    """Whether an activity counts towards a constraining provision: above a threshold, in the zone."""
    above = rule.above.get("troops", math.inf) < troops or rule.above.get("tanks", math.inf) < tanks
    return above and (where is None or rules.zone_status(where)[0] != "outside")


class State:
    """A partial schedule and the resources it uses: the greedy's, and the explanation's."""

    def __init__(self, prep: Prep) -> None:
        self.prep = prep
        self.start: dict[int, int] = {}
        self.spent = 0.0
        self.cover = prep.nothing.copy()
        self.use = {u: [0] * prep.months for u in prep.cap}
        self.by_year = [[0] * prep.years for _ in prep.limits]
        self.at_once = [[0] * prep.months for _ in prep.limits]
        self.partner: dict[str, int] = {}

    def blocker(self, i: int, m: int) -> str | None:
        """Why candidate ``i`` cannot start in month ``m`` beside what is scheduled (budget aside)."""
        prep = self.prep
        for q in prep.req[i]:
            if self.start.get(q, prep.months) > m:
                return f"{prep.cands[q].id} (required) starts later"
        for u in prep.units[i]:
            if any(self.use[u][t] >= prep.cap[u][t] for t in prep.occupies(i, m)):
                return f"unit {u} full"
        for k, rule in enumerate(prep.limits):
            if i not in prep.counts[k]:
                continue
            if rule.window == "simultaneous":
                full = [t for t in prep.occupies(i, m) if self.at_once[k][t] >= rule.max_activities]
            else:
                full = [f for f in prep.windows(k, m // 12) if self.in_window(k, f) >= prep.allowed(k, f)]
            if full:
                return prep.cite(k)
        return None

    def in_window(self, k: int, first: int) -> int:
        """The plan's activities under limit ``k`` in the window of calendar years from ``first``."""
        years = range(max(0, first), min(first + self.prep.limits[k].years, self.prep.years))
        return sum(self.by_year[k][y] for y in years)

    def place(self, i: int, m: int, sign: int = 1) -> None:
        """Schedule candidate ``i`` in month ``m`` (``sign=-1``: take it out again)."""
        prep, c = self.prep, self.prep.cands[i]
        if sign > 0:
            self.start[i] = m
        else:
            del self.start[i]
        self.spent += sign * c.cost
        for o, a in prep.contrib[i]:
            self.cover[o] += sign * a
        for u in prep.units[i]:
            for t in prep.occupies(i, m):
                self.use[u][t] += sign
        for k in range(len(prep.limits)):
            if i in prep.counts[k]:
                self.by_year[k][m // 12] += sign
                for t in prep.occupies(i, m):
                    self.at_once[k][t] += sign
        self.partner[c.partner] = self.partner.get(c.partner, 0) + sign

    def first_month(self, i: int) -> int | None:
        """The earliest month candidate ``i`` can start beside what is scheduled, if any."""
        return next((m for m in self.prep.starts[i] if self.blocker(i, m) is None), None)


def shortfall(prep: Prep, schedule: Iterable[int]) -> int:
    """The priority engagements a schedule misses, against the minimums that can be met."""
    met: dict[str, int] = {}
    for i in schedule:
        met[prep.cands[i].partner] = met.get(prep.cands[i].partner, 0) + 1
    return sum(max(0, k - met.get(p, 0)) for p, k in prep.minimum.items())
