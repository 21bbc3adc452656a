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
  (``detente.planning.vienna_rules.Rules``, 2011 by default): for each ``constraint`` rule, the
  candidates above its thresholds (troops, battle tanks) that take place in the zone of
  application are at most ``max_activities`` in every window of ``years`` calendar years
  (counting the ``earlier`` activities of the years before the plan), or at once for a
  ``simultaneous`` rule (engagements in the same month count as at once: the safe reading).

HiGHS starts from the greedy plan and stops when the value is within ``mip_gap`` of its
bound (an absolute gap from the greedy value: HiGHS's relative gap would be taken on the
penalised objective) or at the time limit; the plan gives the status, bound and gap.

The plan explains itself (``detente.planning.explain``): why each candidate was left out,
which priority minimums it misses, the value lost by forcing in the left-out candidates with
the best value per cost (a bounded number, each re-solved), and the marginal value of budget,
re-solving at other budgets; the budget row's dual in the LP relaxation is given as an
indicative shadow price (the relaxation buys engagements in part, so it can differ from the
re-solved steps).

Where the parts live: this module holds what to plan, the plan, and the entry points
(``optimise``, ``greedy``, ``value``, ``violations``); ``schedule`` the problem as indices and
a partial schedule; ``mip`` the programme in HiGHS; ``greedy`` the baseline; ``explain`` the
explanation.

Pure: plain values in, plain values out; no store, no settings.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

from detente.core.errors import ValidationError
from detente.planning.explain import BudgetStep, LeftOut, Unmet, budget_step, force_in, left_out, unmet
from detente.planning.greedy import greedy_schedule
from detente.planning.mip import Model
from detente.planning.schedule import EPS, Prep, Reason, State, counts_towards, rules_2011
from detente.planning.vienna_rules import ConstraintRule, Rules

__all__ = [
    "Candidate",
    "Objective",
    "Plan",
    "Problem",
    "Scheduled",
    "greedy",
    "optimise",
    "value",
    "violations",
]


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
        """Candidate id -> start month of the chosen engagements."""
        return {s.candidate: s.start for s in self.chosen}

    @property
    def shortfall(self) -> int:
        """The priority engagements the plan misses, all partners together."""
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
        for reason in get_args(Reason):
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


def value(problem: Problem, schedule: Mapping[str, int]) -> float:
    """The value of a schedule (candidate id -> start month): sum of weight x coverage."""
    prep = Prep(problem)
    return prep.gain(prep.nothing, (prep.index[c] for c in schedule))


def violations(problem: Problem, schedule: Mapping[str, int]) -> list[str]:
    """Every constraint a schedule (candidate id -> start month) breaks; written apart from
    the model and the greedy, to check both."""
    out, M = [], problem.months
    rules = problem.vienna or rules_2011()
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
        mine = [(c, m) for c, m in chosen if counts_towards(rules, rule, c.troops, c.tanks, c.where)]
        if rule.window == "simultaneous":
            months = [t for c, m in mine for t in range(m, min(m + c.duration, M))]
            if any(months.count(t) > rule.max_activities for t in set(months)):
                out.append(f"{rule.id}: too many at once")
            continue
        years = [m // 12 for _, m in mine] + [
            -y for y, tr, ta in problem.earlier if counts_towards(rules, rule, tr, ta, None)
        ]
        if any(
            sum(first <= y < first + rule.years for y in years) > rule.max_activities
            and any(first <= m // 12 < first + rule.years for _, m in mine)
            for first in range(-rule.years, (M + 11) // 12)
        ):
            out.append(f"{rule.id}: too many in {rule.years} calendar years")
    return out


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
    prep = Prep(problem)
    model = Model(prep, time_limit)
    start = greedy_schedule(prep)
    # HiGHS would take a relative gap on the penalised objective; it is set on the value instead,
    # absolute, from the greedy plan's value (at most the optimum's: the value's gap is at most mip_gap)
    model.h.setOptionValue("mip_rel_gap", 0.0)
    model.h.setOptionValue("mip_abs_gap", mip_gap * max(prep.gain(prep.nothing, start.start), EPS))
    model.start_from(start.start)
    found, status, bound, gap = model.solve()
    # completed greedily: a plan stopped by the time limit may have room for more
    schedule = greedy_schedule(prep, keep=_prune(prep, start.start if found is None else found)).start
    state = State(prep)
    for i in sorted(schedule, key=schedule.__getitem__):
        state.place(i, schedule[i])
    if bound is not None:
        value = prep.gain(prep.nothing, schedule)
        gap = max(0.0, bound - value) / max(abs(value), EPS)
    seconds = time.perf_counter() - began
    price = model.shadow_price() if shadow_price else None
    model.h.setOptionValue("time_limit", float(explain_time_limit))
    steps = tuple(budget_step(model, f, schedule) for f in budget_factors)
    left = left_out(prep, state, "mip")
    ranked = sorted(
        (o for o in left if o.reason in ("not_worth_cost", "no_room", "prerequisite_left_out", "within_gap")),
        key=lambda o: -o.gain / max(o.cost, EPS),
    )[:explain_top]
    for o in ranked:
        loss, words = force_in(model, prep.index[o.candidate], schedule)
        left[left.index(o)] = replace(o, detail=f"{o.detail}; {words}", forced_loss=loss)
    return _plan(prep, state, left, "mip", status, seconds, bound, gap, steps, price)


def greedy(problem: Problem) -> Plan:
    """The plan a careful analyst would draw by hand: first each priority partner's minimum
    (the partners with fewest candidates first), then, repeatedly, the candidate adding the
    most value per cost given what is chosen (together with any prerequisites not yet
    chosen), in its earliest month that fits, while the budget lasts."""
    began = time.perf_counter()
    prep = Prep(problem)
    state = greedy_schedule(prep)
    seconds = time.perf_counter() - began
    return _plan(prep, state, left_out(prep, state, "greedy"), "greedy", "heuristic", seconds)


def _prune(prep: Prep, schedule: dict[int, int]) -> dict[int, int]:
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


def _plan(
    prep: Prep,
    state: State,
    left: list[LeftOut],
    method: Literal["mip", "greedy"],
    status: str,
    seconds: float,
    bound: float | None = None,
    gap: float | None = None,
    steps: tuple[BudgetStep, ...] = (),
    price: float | None = None,
) -> Plan:
    """The ``Plan`` of a finished schedule: what it chose, covers and spends, and why."""
    chosen = tuple(
        Scheduled(c.id, c.partner, m, prep.occupies(i, m)[-1], c.cost)
        for i, m in sorted(state.start.items(), key=lambda im: (im[1], im[0]))
        for c in [prep.cands[i]]
    )
    return Plan(
        chosen=chosen,
        left_out=tuple(left),
        unmet=tuple(unmet(prep, state)),
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
