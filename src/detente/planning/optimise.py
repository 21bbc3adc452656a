"""Choose and schedule a year's engagements: a mixed-integer programme solved with HiGHS,
a greedy baseline, and a plan that says what it left out and why.

The formulation (months are indices ``0 .. months-1``; calendar year ``m // 12``):

* ``x[c, m]`` binary: candidate ``c`` starts in month ``m`` of its window; ``sum_m x[c, m] <= 1``.
* ``y[o]`` in ``[0, 1]``: coverage of objective ``o``, ``y[o] <= sum x[c, m] * a[c, o] / target[o]``,
  so coverage is ``min(1, contributions / target)``: the returns of a second engagement
  serving a covered objective diminish to nothing. The plan's value is ``sum weight[o] * y[o]``.
* budget: ``sum cost[c] * x[c, m] <= budget``.
* unit capacity: an engagement occupies each of its units for ``duration`` months; per unit
  and month, the engagements occupying it are at most the unit's capacity.
* prerequisites: ``c`` requires ``p`` means ``p`` is chosen and starts no later than ``c``:
  for every month ``t``, ``sum_{m<=t} x[c, m] <= sum_{m<=t} x[p, m]``.
* priority partners: at least ``k`` engagements with partner ``P``, softened by a slack
  ``s[P]`` penalised above the value of any plan, so an unmeetable minimum is reported
  (``Plan.unmet``), never an infeasible model; minimums come first, value second.
* the Vienna Document's constraining provisions, read from its rule table
  (``detente.planning.vienna.Rules``, 2011 by default): for each ``constraint`` rule, the
  candidates above its thresholds (troops, battle tanks) that take place in the zone of
  application are at most ``max_activities`` in every window of ``years`` calendar years
  (counting the ``earlier`` activities of the years before the plan), or at once for a
  ``simultaneous`` rule (engagements in the same month count as at once: the safe reading).

HiGHS starts from the greedy plan and stops when the value is within ``mip_gap`` of its
bound (an absolute gap from the greedy value: HiGHS's relative gap would be taken on the
penalised objective) or at the time limit; the plan gives the status, bound and gap.

The plan explains itself. A left-out candidate's reason is the first that holds of:
``blocked`` (a legal prerequisite missing); ``prerequisite_blocked`` (it requires one that
cannot be chosen); ``cannot_fit`` (no start month, dearer than the whole budget, no unit
capacity in its window); ``prerequisite_left_out``; ``no_value`` (its objectives are
covered by the plan); ``no_room`` (in every month of its window the plan fills one of its
units or a Vienna Document limit, or a prerequisite starts later); ``not_worth_cost`` (it
would fit but for the budget; its value per cost is set against the plan's);
``within_gap`` (it would fit and add value: the solver stopped within its gap, or the
greedy did not reach it). These are read against the plan as it stands: what keeps the
candidate out of *this* plan, not proof that no good plan holds it. For that, the left-out
candidates with the best value per cost (a bounded number) are forced in and the programme
re-solved: the value lost is the price of including them, nothing lost a tie. The marginal
value of budget is measured the same way, re-solving at other budgets; the budget row's
dual in the LP relaxation is given as an indicative shadow price (the relaxation buys
engagements in part, so it can differ from the re-solved steps).

Pure: plain values in, plain values out; no store, no settings.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Literal

import highspy
import numpy as np

from detente.core.errors import ValidationError
from detente.planning.vienna_rules import ConstraintRule, Rules

__all__ = [
    "BudgetStep",
    "Candidate",
    "LeftOut",
    "Objective",
    "Plan",
    "Problem",
    "Reason",
    "Scheduled",
    "Unmet",
    "greedy",
    "optimise",
    "value",
    "violations",
]

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
_EPS = 1e-9


@cache
def _rules_2011() -> Rules:
    return Rules.load("2011")


@dataclass(frozen=True)
class Objective:
    """An objective engagements serve: ``weight`` its importance; covered when the chosen
    candidates' contributions add up to ``target``."""

    id: str
    weight: float = 1.0
    target: float = 1.0
    title: str = ""

    def __post_init__(self) -> None:
        if not self.weight >= 0:
            raise ValidationError(f"{self.weight}: must be 0 or more", field=f"objective {self.id}: weight")
        if not self.target > 0:
            raise ValidationError(f"{self.target}: must be above 0", field=f"objective {self.id}: target")


@dataclass(frozen=True)
class Candidate:
    """A candidate engagement: it may start in a month from ``earliest`` to ``latest``."""

    id: str
    partner: str  # ISO 3166 alpha-3
    cost: float
    objectives: Mapping[str, float] = field(default_factory=dict)  # objective id -> contribution in [0, 1]
    earliest: int = 0
    latest: int | None = None  # the last month of the plan when None
    duration: int = 1  # months
    units: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()  # chosen too, and starting no later
    blocked_reason: str | None = None  # a missing legal prerequisite
    troops: int = 0  # the planning State's, for the Vienna Document's constraining provisions
    tanks: int = 0  # battle tanks, likewise
    where: str | None = None  # ISO3 of the host; outside the Vienna Document's zone, no limit applies
    title: str = ""
    kind: str = ""

    def __post_init__(self) -> None:
        where = f"candidate {self.id}"
        if not self.cost >= 0:
            raise ValidationError(f"{self.cost}: must be 0 or more", field=f"{where}: cost")
        if self.duration < 1 or self.earliest < 0:
            raise ValidationError("duration must be 1 or more, earliest 0 or more", field=where)
        for o, a in self.objectives.items():
            if not 0 <= a <= 1:
                raise ValidationError(f"{a}: contributions are in [0, 1]", field=f"{where}: objective {o}")


@dataclass(frozen=True)
class Problem:
    """What to plan: candidates, objectives, the budget and the limits."""

    candidates: Sequence[Candidate]
    objectives: Sequence[Objective]
    budget: float
    capacity: Mapping[str, int | Sequence[int]] = field(default_factory=dict)  # per month; others unlimited
    priority: Mapping[str, int] = field(default_factory=dict)  # partner -> minimum engagements
    months: int = 12
    vienna: Rules | None = None  # the Vienna Document's rule table; 2011's when None
    # activities the planning State carried out before the plan: (years before it, troops, tanks)
    earlier: Sequence[tuple[int, int, int]] = ()

    def __post_init__(self) -> None:
        ids = [c.id for c in self.candidates]
        if len(set(ids)) != len(ids):
            raise ValidationError("candidate ids repeat", field="candidates")
        known, objectives = set(ids), {o.id for o in self.objectives}
        if len(objectives) != len(self.objectives):
            raise ValidationError("objective ids repeat", field="objectives")
        for c in self.candidates:
            for p in c.requires:
                if p not in known:
                    raise ValidationError(f"requires {p!r}, not a candidate", field=f"candidate {c.id}")
            for o in c.objectives:
                if o not in objectives:
                    raise ValidationError(f"serves {o!r}, not an objective", field=f"candidate {c.id}")
        if any(years < 1 for years, _, _ in self.earlier):
            raise ValidationError("years before the plan are 1 or more", field="earlier")
        if self.months < 1 or not self.budget >= 0:
            raise ValidationError("months must be 1 or more and the budget 0 or more", field="problem")
        for u, cap in self.capacity.items():
            caps = [cap] if isinstance(cap, int) else list(cap)
            if min(caps, default=0) < 0 or (not isinstance(cap, int) and len(caps) != self.months):
                raise ValidationError("0 or more, one number or one per month", field=f"capacity {u}")


@dataclass(frozen=True)
class Scheduled:
    """A chosen engagement and its months."""

    candidate: str
    partner: str
    start: int
    end: int  # the last month it occupies within the plan
    cost: float


@dataclass(frozen=True)
class LeftOut:
    """A candidate the plan leaves out, and why (see the module's docstring for the reasons)."""

    candidate: str
    reason: Reason
    detail: str
    cost: float
    gain: float  # the value it would add to the plan as it stands
    forced_loss: float | None = None  # the value lost by forcing it in (re-solved), when computed


@dataclass(frozen=True)
class Unmet:
    """A priority partner's minimum the plan does not meet, and why."""

    partner: str
    required: int
    met: int
    detail: str


@dataclass(frozen=True)
class BudgetStep:
    """The plan re-solved at ``factor`` times the budget."""

    factor: float
    budget: float
    value: float
    shortfall: int  # priority engagements missing
    status: str
    per_unit: float | None  # (value - plan's value) / (budget - plan's budget)


@dataclass(frozen=True)
class Plan:
    """The chosen schedule with its value, how it was found, and its explanation."""

    chosen: tuple[Scheduled, ...]
    left_out: tuple[LeftOut, ...]
    unmet: tuple[Unmet, ...]
    value: float  # sum of weight x coverage
    max_value: float  # sum of weights
    coverage: Mapping[str, float]
    spent: float
    budget: float
    method: Literal["mip", "greedy"]
    status: str  # "optimal", "time limit", "heuristic", ...
    seconds: float
    bound: float | None = None  # the solver's bound on the value of plans meeting as many minimums
    gap: float | None = None  # relative
    budget_steps: tuple[BudgetStep, ...] = ()
    shadow_price: float | None = None  # the budget row's dual in the LP relaxation

    @property
    def schedule(self) -> dict[str, int]:
        return {s.candidate: s.start for s in self.chosen}

    @property
    def shortfall(self) -> int:
        return sum(u.required - u.met for u in self.unmet)

    def explain(self) -> str:
        """The plan in words: what it achieves, what it left out and why, what budget buys."""
        gap = f", gap {self.gap:.2%}" if self.gap is not None else ""
        lines = [
            f"{len(self.chosen)} engagements chosen for {self.spent:,.0f} of {self.budget:,.0f}; "
            f"value {self.value:.4g} of {self.max_value:.4g} ({self.value / (self.max_value or 1):.1%}); "
            f"{self.method}, {self.status}{gap}, {self.seconds:.2f} s"
        ]
        lines += [f"priority {u.partner}: {u.met} of {u.required}: {u.detail}" for u in self.unmet]
        for reason in Reason.__args__:  # type: ignore[attr-defined]
            group = [o for o in self.left_out if o.reason == reason]
            if group:
                lines.append(f"left out, {reason.replace('_', ' ')} ({len(group)}):")
                lines += [f"  {o.candidate}: {o.detail}" for o in group[:10]]
                lines += [f"  ... and {len(group) - 10} more"] if len(group) > 10 else []
        if self.budget_steps:
            lines.append("marginal value of budget (re-solved):")
            lines.append(f"  {'budget':>16} {'value':>10} {'per unit':>10}  status")
            for s in self.budget_steps:
                per = f"{s.per_unit:.3g}" if s.per_unit is not None else "-"
                lines.append(f"  {s.budget:>16,.0f} {s.value:>10.4g} {per:>10}  {s.status}")
        if self.shadow_price is not None:
            lines.append(f"budget shadow price in the LP relaxation: {self.shadow_price:.3g} per unit")
        return "\n".join(lines)


class _Prep:
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
        self.rules = p.vienna or _rules_2011()
        self.limits: list[ConstraintRule] = list(self.rules.of_kind("constraint"))  # type: ignore[arg-type]
        # per limit: which candidates count towards it, and the earlier activities by year (-1, -2, ...)
        self.counts = [
            {i for i, c in enumerate(self.cands) if _counts(self.rules, rule, c.troops, c.tanks, c.where)}
            for rule in self.limits
        ]
        self.before = [
            [-y for y, troops, tanks in p.earlier if _counts(self.rules, rule, troops, tanks, None)]
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
            elif c.cost > p.budget + _EPS:
                self.excluded[i] = (
                    "cannot_fit",
                    f"costs {c.cost:,.0f}, more than the budget {p.budget:,.0f}",
                )
        changed = True
        while changed:  # requiring one that cannot be chosen, or cannot start in time, rules one out
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
        self.penalty = 1.0 + float(self.weights.sum())
        # a minimum above the partner's candidates that can be chosen is unmet whatever the plan:
        # the model asks for what can be had, so its penalty (and gap) is not swamped by the rest
        able: dict[str, int] = {}
        for i, c in enumerate(self.cands):
            able[c.partner] = able.get(c.partner, 0) + (i not in self.excluded)
        self.minimum = {
            k: min(v, able.get(k, 0)) for k, v in p.priority.items() if min(v, able.get(k, 0)) > 0
        }

    def _unit_free(self, i: int, m: int) -> bool:
        return all(self.cap[u][t] > 0 for u in self.units[i] for t in self.occupies(i, m))

    def occupies(self, i: int, m: int) -> range:
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


def _counts(rules: Rules, rule: ConstraintRule, troops: int, tanks: int, where: str | None) -> bool:
    """Whether an activity counts towards a constraining provision: above a threshold, in the zone."""
    above = rule.above.get("troops", math.inf) < troops or rule.above.get("tanks", math.inf) < tanks
    return above and (where is None or rules.zone_status(where)[0] != "outside")


class _State:
    """A partial schedule and the resources it uses: the greedy's, and the explanation's."""

    def __init__(self, prep: _Prep) -> None:
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
        return next((m for m in self.prep.starts[i] if self.blocker(i, m) is None), None)


def value(problem: Problem, schedule: Mapping[str, int]) -> float:
    """The value of a schedule (candidate id -> start month): sum of weight x coverage."""
    prep = _Prep(problem)
    return prep.gain(prep.nothing, (prep.index[c] for c in schedule))


def violations(problem: Problem, schedule: Mapping[str, int]) -> list[str]:
    """Every constraint a schedule (candidate id -> start month) breaks; written apart from
    the model and the greedy, to check both."""
    out, M = [], problem.months
    rules = problem.vienna or _rules_2011()
    cands = {c.id: c for c in problem.candidates}
    chosen = [(cands[i], m) for i, m in schedule.items()]
    if sum(c.cost for c, _ in chosen) > problem.budget + 1e-6:
        out.append("over budget")
    use: dict[tuple[str, int], int] = {}
    for c, m in chosen:
        last = M - 1 if c.latest is None else c.latest
        if c.blocked_reason or not c.earliest <= m <= min(last, M - 1):
            out.append(f"{c.id}: blocked or outside its window")
        for q in c.requires:
            if q not in schedule or schedule[q] > m:
                out.append(f"{c.id}: requires {q}")
        for t in range(m, min(m + c.duration, M)):
            for u in set(c.units):
                use[u, t] = use.get((u, t), 0) + 1
    for (u, t), n in use.items():
        cap = problem.capacity.get(u)
        if cap is not None and n > (cap if isinstance(cap, int) else cap[t]):
            out.append(f"unit {u} over capacity in month {t}")
    for rule in rules.of_kind("constraint"):
        assert isinstance(rule, ConstraintRule)
        mine = [(c, m) for c, m in chosen if _counts(rules, rule, c.troops, c.tanks, c.where)]
        if rule.window == "simultaneous":
            months = [t for c, m in mine for t in range(m, min(m + c.duration, M))]
            if any(months.count(t) > rule.max_activities for t in set(months)):
                out.append(f"{rule.id}: too many at once")
            continue
        years = [m // 12 for _, m in mine] + [
            -y for y, tr, ta in problem.earlier if _counts(rules, rule, tr, ta, None)
        ]
        if any(
            sum(first <= y < first + rule.years for y in years) > rule.max_activities
            and any(first <= m // 12 < first + rule.years for _, m in mine)
            for first in range(-rule.years, (M + 11) // 12)
        ):
            out.append(f"{rule.id}: too many in {rule.years} calendar years")
    return out


# --- the mixed-integer programme ----------------------------------------------------------------


class _Model:
    """The MIP in a ``highspy.Highs``: x columns first, then coverage, then priority slacks."""

    def __init__(self, prep: _Prep, time_limit: float) -> None:
        self.prep, self.h, self.rows = prep, highspy.Highs(), _Rows()
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
        return schedule, status, bound, (bound - value) / max(abs(value), _EPS) if bound > value else 0.0

    def shadow_price(self) -> float:
        self._integrality(highspy.HighsVarType.kContinuous)
        self.h.run()
        price = float(self.h.getSolution().row_dual[self.budget_row])
        self._integrality(highspy.HighsVarType.kInteger)
        return max(0.0, price)


class _Rows:
    """Rows gathered in Python lists, handed to HiGHS in one call."""

    def __init__(self) -> None:
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.starts: list[int] = []
        self.index: list[int] = []
        self.value: list[float] = []

    def add(self, cols: Iterable[int], values: Iterable[float], lower: float, upper: float) -> int:
        self.starts.append(len(self.index))
        self.index.extend(cols)
        self.value.extend(values)
        self.lower.append(max(lower, -highspy.kHighsInf))
        self.upper.append(min(upper, highspy.kHighsInf))
        return len(self.lower) - 1

    def into(self, h: highspy.Highs) -> None:
        h.addRows(
            len(self.lower),
            np.array(self.lower),
            np.array(self.upper),
            len(self.index),
            np.array(self.starts, dtype=np.int32),
            np.array(self.index, dtype=np.int32),
            np.array(self.value),
        )


def optimise(
    problem: Problem,
    *,
    time_limit: float = 60.0,
    mip_gap: float = 1e-3,
    explain_top: int = 20,
    explain_time_limit: float = 10.0,
    budget_factors: Sequence[float] = (0.9, 1.1, 1.25),
    shadow_price: bool = True,
) -> Plan:
    """The plan that maximises weighted objective coverage, by the mixed-integer programme.

    HiGHS starts from the greedy plan and stops when the plan's value is within ``mip_gap``
    (relative) of the best possible, or at ``time_limit`` seconds; the plan reports which,
    with the bound and the gap. Then the explanation: the plan is re-solved at each of
    ``budget_factors`` times the budget, and the ``explain_top`` left-out candidates with
    the best value per cost are forced in, one at a time, to measure what they would cost
    the plan; each re-solve stops at ``explain_time_limit`` seconds (its status is given)."""
    began = time.perf_counter()
    prep = _Prep(problem)
    model = _Model(prep, time_limit)
    start = _greedy(prep)
    # HiGHS would take a relative gap on the penalised objective; it is set on the value instead,
    # absolute, from the greedy plan's value (at most the optimum's: the value's gap is at most mip_gap)
    model.h.setOptionValue("mip_rel_gap", 0.0)
    model.h.setOptionValue("mip_abs_gap", mip_gap * max(prep.gain(prep.nothing, start.start), _EPS))
    model.start_from(start.start)
    found, status, bound, gap = model.solve()
    # completed greedily: a plan stopped by the time limit may have room for more
    schedule = _greedy(prep, keep=_prune(prep, start.start if found is None else found)).start
    state = _State(prep)
    for i in sorted(schedule, key=schedule.__getitem__):
        state.place(i, schedule[i])
    if bound is not None:
        value = prep.gain(prep.nothing, schedule)
        gap = max(0.0, bound - value) / max(abs(value), _EPS)
    seconds = time.perf_counter() - began
    price = model.shadow_price() if shadow_price else None
    model.h.setOptionValue("time_limit", float(explain_time_limit))
    steps = tuple(_budget_step(model, f, schedule) for f in budget_factors)
    left = _left_out(prep, state, "mip")
    ranked = sorted(
        (o for o in left if o.reason in ("not_worth_cost", "no_room", "prerequisite_left_out", "within_gap")),
        key=lambda o: -o.gain / max(o.cost, _EPS),
    )[:explain_top]
    for o in ranked:
        loss, words = _force(model, prep.index[o.candidate], schedule)
        left[left.index(o)] = replace(o, detail=f"{o.detail}; {words}", forced_loss=loss)
    return _plan(prep, state, left, "mip", status, seconds, bound, gap, steps, price)


def _budget_step(model: _Model, factor: float, schedule: dict[int, int]) -> BudgetStep:
    """The plan re-solved at ``factor`` times the budget, started from the plan completed
    (or cut) greedily to that budget."""
    prep, budget = model.prep, model.prep.problem.budget
    model.h.changeRowBounds(model.budget_row, -highspy.kHighsInf, budget * factor)
    start = _greedy(prep, budget * factor, keep=schedule).start
    model.start_from(start)
    found, status, _, _ = model.solve()
    model.h.changeRowBounds(model.budget_row, -highspy.kHighsInf, budget)
    found = _greedy(prep, budget * factor, keep=start if found is None else found).start
    gained = prep.gain(prep.nothing, found) - prep.gain(prep.nothing, schedule)
    extra = budget * (factor - 1)  # zero for a budget too small to scale (5e-324 * 0.5 underflows)
    per = gained / extra if extra else None
    return BudgetStep(
        factor, budget * factor, prep.gain(prep.nothing, found), _shortfall(prep, found), status, per
    )


def _force(model: _Model, i: int, schedule: dict[int, int]) -> tuple[float | None, str]:
    """Re-solve with candidate ``i`` forced in: the value lost, in words too."""
    prep = model.prep
    model.h.changeRowBounds(model.assign[i], 1, 1)
    start = _greedy(prep, first=i, keep=schedule)  # the plan repaired around it
    if i in start.start:
        model.start_from(start.start)
    found, status, _, _ = model.solve()
    model.h.changeRowBounds(model.assign[i], 0, 1)
    if found is None:
        return None, "forced in, no plan keeps within the limits" if status == "infeasible" else status
    found = _greedy(prep, keep=found).start
    loss = prep.gain(prep.nothing, schedule) - prep.gain(prep.nothing, found)
    more = _shortfall(prep, found) - _shortfall(prep, schedule)
    if loss > 1e-7:
        words = f"forced in, the plan is worth {loss:.3g} less"
    elif loss < -1e-7:  # the plan is within its gap of the best, and this re-solve did better
        words = f"forced in, a plan worth {-loss:.3g} more was found (the plan is within its gap)"
    else:
        words = "forced in, the plan loses nothing (a tie)"
    if more > 0:
        words += f" and misses {more} more priority engagements"
    return loss, words + ("" if status == "optimal" else f" ({status})")


def _prune(prep: _Prep, schedule: dict[int, int]) -> dict[int, int]:
    """The schedule without engagements adding nothing (no value, required by none chosen, no
    priority minimum resting on them): the solver is indifferent to them, the reader is not."""
    cover, kept = prep.nothing.copy(), dict(schedule)
    for i in kept:
        for o, a in prep.contrib[i]:
            cover[o] += a
    met: dict[str, int] = {}
    for i in kept:
        met[prep.cands[i].partner] = met.get(prep.cands[i].partner, 0) + 1
    for i in sorted(schedule, key=lambda i: -prep.cands[i].cost):
        partner = prep.cands[i].partner
        without = cover.copy()
        for o, a in prep.contrib[i]:
            without[o] -= a
        if (
            prep.gain(without, [i]) <= 1e-9
            and not any(d in kept for d in prep.dependants[i])
            and met[partner] > prep.minimum.get(partner, 0)
        ):
            del kept[i]
            cover, met[partner] = without, met[partner] - 1
    return kept


def _shortfall(prep: _Prep, schedule: Iterable[int]) -> int:
    met: dict[str, int] = {}
    for i in schedule:
        met[prep.cands[i].partner] = met.get(prep.cands[i].partner, 0) + 1
    return sum(max(0, k - met.get(p, 0)) for p, k in prep.minimum.items())


# --- the greedy baseline ------------------------------------------------------------------------


def greedy(problem: Problem) -> Plan:
    """The plan a careful analyst would draw by hand: first each priority partner's minimum
    (the partners with fewest candidates first), then, repeatedly, the candidate adding the
    most value per cost given what is chosen (together with any prerequisites not yet
    chosen), in its earliest month that fits, while the budget lasts."""
    began = time.perf_counter()
    prep = _Prep(problem)
    state = _greedy(prep)
    seconds = time.perf_counter() - began
    return _plan(prep, state, _left_out(prep, state, "greedy"), "greedy", "heuristic", seconds)


def _bundle(prep: _Prep, state: _State, i: int) -> list[int] | None:
    """``i`` with the prerequisites not yet chosen, prerequisites first; None if impossible."""
    order: list[int] = []
    seen: set[int] = set()

    def visit(j: int, path: frozenset[int]) -> bool:
        if j in state.start or j in seen:
            return True
        if j in prep.excluded or j in path:
            return False
        if not all(visit(q, path | {j}) for q in prep.req[j]):
            return False
        seen.add(j)
        order.append(j)
        return True

    return order if visit(i, frozenset()) else None


def _try(prep: _Prep, state: _State, bundle: list[int], budget: float) -> bool:
    """Place the bundle in its earliest months that fit and the budget; undo and False if not."""
    if state.spent + sum(prep.cands[j].cost for j in bundle) > budget + 1e-9:
        return False
    placed: list[int] = []
    for j in bundle:
        m = state.first_month(j)
        if m is None:
            for k in reversed(placed):
                state.place(k, state.start[k], -1)
            return False
        state.place(j, m)
        placed.append(j)
    return True


def _greedy(
    prep: _Prep, budget: float | None = None, first: int | None = None, keep: Mapping[int, int] | None = None
) -> _State:
    """The greedy plan; for another budget; with candidate ``first`` placed first; or
    completing (or repairing) the schedule ``keep``: its engagements are placed first, the
    most valuable per cost first, in their months if they still fit."""
    state, budget, keep = _State(prep), prep.problem.budget if budget is None else budget, keep or {}
    if first is not None and (bundle := _bundle(prep, state, first)):
        _try(prep, state, bundle, budget)
    pending = sorted(keep, key=lambda i: -prep.gain(prep.nothing, [i]) / max(prep.cands[i].cost, _EPS))
    while pending:  # an engagement waits for its prerequisites
        waiting, tried = [], set(pending)
        for i in pending:
            if i in state.start:
                continue
            if any(q in tried and q not in state.start for q in prep.req[i]):
                waiting.append(i)
                continue
            m = keep[i] if state.blocker(i, keep[i]) is None else state.first_month(i)
            if m is not None and state.spent + prep.cands[i].cost <= budget + 1e-9:
                state.place(i, m)
        if len(waiting) == len(pending):
            break
        pending = waiting

    def ratio(bundle: list[int], bonus: float = 0.0) -> float:
        return (prep.gain(state.cover, bundle) + bonus) / max(sum(prep.cands[j].cost for j in bundle), _EPS)

    minimums = prep.minimum
    pool = {
        k: [i for i in range(prep.n) if prep.cands[i].partner == k and i not in prep.excluded]
        for k in minimums
    }
    for partner in sorted(minimums, key=lambda k: (len(pool[k]), k)):
        while state.partner.get(partner, 0) < minimums[partner]:
            options = [
                (b, i) for i in pool[partner] if i not in state.start and (b := _bundle(prep, state, i))
            ]
            options.sort(key=lambda bi: -ratio(bi[0], 1e-6))
            if not any(_try(prep, state, b, budget) for b, _ in options):
                break
    heap = [(-ratio([i]), i) for i in range(prep.n) if i not in prep.excluded and i not in state.start]
    heapq.heapify(heap)
    while heap:
        _, i = heapq.heappop(heap)
        bundle = _bundle(prep, state, i) if i not in state.start else None
        if not bundle:
            continue
        fresh = ratio(bundle)
        if fresh <= 0:
            continue
        if heap and fresh < -heap[0][0] - 1e-12:  # gains only fall: a stale ratio bounds the fresh one
            heapq.heappush(heap, (-fresh, i))
            continue
        if _try(prep, state, bundle, budget):
            for j in bundle:  # a dependant's bundle is now cheaper: its ratio may have risen
                for d in prep.dependants[j]:
                    if d not in state.start and d not in prep.excluded:
                        heapq.heappush(heap, (-ratio(_bundle(prep, state, d) or [d]), d))
    return state


# --- the explanation ----------------------------------------------------------------------------


def _left_out(prep: _Prep, state: _State, method: str) -> list[LeftOut]:
    """Why each candidate not in the schedule was left out."""
    budget = prep.problem.budget
    plan_ratio = prep.gain(prep.nothing, state.start) / max(state.spent, _EPS)
    # only an optimal plan says the engagements it would displace are worth more together
    displace = "; the programme found no better plan displacing others for it" if method == "mip" else ""
    out = []
    for i, c in enumerate(prep.cands):
        if i in state.start:
            continue
        gain = prep.gain(state.cover, [i])
        if i in prep.excluded:
            reason, detail = prep.excluded[i]
        elif missing := [q for q in prep.req[i] if q not in state.start]:
            reason, detail = "prerequisite_left_out", f"requires {prep.cands[missing[0]].id}, left out"
        elif gain <= 1e-9:
            served = (
                "the objectives it serves are already covered"
                if prep.contrib[i]
                else "it serves no objective"
            )
            reason, detail = "no_value", served
        elif (m := state.first_month(i)) is None:
            why: dict[str, list[int]] = {}
            for m in prep.starts[i]:
                why.setdefault(state.blocker(i, m) or "", []).append(m)
            words = [f"{w} for a start in month {_either(ms)}" for w, ms in why.items()]
            reason, detail = "no_room", f"no month in its window fits: {'; '.join(words)}"
        elif state.spent + c.cost > budget + 1e-9:
            share = f"{gain / max(c.cost, _EPS) / plan_ratio:.0%}" if plan_ratio > 0 else "-"
            reason = "not_worth_cost"
            detail = (
                f"adds {gain:.3g} for {c.cost:,.0f} ({share} of the plan's value per cost); "
                f"{budget - state.spent:,.0f} of the budget is left{displace}"
            )
        else:
            who = "the solver stopped within its gap" if method == "mip" else "the heuristic did not reach it"
            reason, detail = "within_gap", f"it fits in month {m} and the budget left: {who}"
        out.append(LeftOut(c.id, reason, detail, c.cost, gain))
    return out


def _either(months: list[int]) -> str:
    return str(months[0]) if len(months) == 1 else f"{', '.join(map(str, months[:-1]))} or {months[-1]}"


def _unmet(prep: _Prep, state: _State) -> list[Unmet]:
    out = []
    for partner, k in prep.problem.priority.items():
        met = state.partner.get(partner, 0)
        if met >= k:
            continue
        mine = [i for i, c in enumerate(prep.cands) if c.partner == partner]
        able = sorted(prep.cands[i].cost for i in mine if i not in prep.excluded)
        if not mine:
            detail = "no candidate engagement with this partner"
        elif len(able) == len(mine) < k:
            detail = f"only {len(mine)} candidate engagement{'s' * (len(mine) > 1)} with this partner"
        elif len(able) < k:
            reasons = sorted({prep.excluded[i][1] for i in mine if i in prep.excluded})
            detail = f"only {len(able)} of its {len(mine)} candidates can be chosen ({'; '.join(reasons)})"
        elif sum(able[:k]) > prep.problem.budget:
            detail = f"its {k} cheapest candidates cost {sum(able[:k]):,.0f}, more than the budget"
        else:
            detail = "the budget, unit capacity, prerequisites and Vienna limits leave no room"
        out.append(Unmet(partner, k, met, detail))
    return out


def _plan(
    prep: _Prep,
    state: _State,
    left: list[LeftOut],
    method: Literal["mip", "greedy"],
    status: str,
    seconds: float,
    bound: float | None = None,
    gap: float | None = None,
    steps: tuple[BudgetStep, ...] = (),
    price: float | None = None,
) -> Plan:
    chosen = tuple(
        Scheduled(c.id, c.partner, m, prep.occupies(i, m)[-1], c.cost)
        for i, m in sorted(state.start.items(), key=lambda im: (im[1], im[0]))
        for c in [prep.cands[i]]
    )
    return Plan(
        chosen=chosen,
        left_out=tuple(left),
        unmet=tuple(_unmet(prep, state)),
        value=prep.gain(prep.nothing, state.start),
        max_value=float(prep.weights.sum()),
        coverage={o.id: min(1.0, float(state.cover[k])) for k, o in enumerate(prep.problem.objectives)},
        spent=state.spent,
        budget=prep.problem.budget,
        method=method,
        status=status,
        seconds=seconds,
        bound=bound,
        gap=gap,
        budget_steps=steps,
        shadow_price=price,
    )
