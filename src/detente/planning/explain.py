"""The plan explains itself: what it left out and why, the priority minimums it misses,
and what more or less budget would buy.

A left-out candidate's reason is the first that holds of: ``blocked`` (a legal
prerequisite missing); ``prerequisite_blocked`` (it requires one that cannot be chosen);
``cannot_fit`` (no start month, dearer than the whole budget, no unit capacity in its
window); ``prerequisite_left_out``; ``no_value`` (its objectives are covered by the plan);
``no_room`` (in every month of its window the plan fills one of its units or a Vienna
Document limit, or a prerequisite starts later); ``not_worth_cost`` (it would fit but for
the budget; its value per cost is set against the plan's); ``within_gap`` (it would fit
and add value: the solver stopped within its gap, or the greedy did not reach it). These
are read against the plan as it stands: what keeps the candidate out of *this* plan, not
proof that no good plan holds it. For that, ``force_in`` forces a left-out candidate in
and re-solves: the value lost is the price of including it, nothing lost a tie. The
marginal value of budget is measured the same way (``budget_step``), re-solving at other
budgets.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy

from detente.planning.greedy import greedy_schedule
from detente.planning.mip import Model
from detente.planning.schedule import EPS, Prep, Reason, State, shortfall

__all__ = ["BudgetStep", "LeftOut", "Unmet", "budget_step", "force_in", "left_out", "unmet"]


@dataclass(frozen=True)
class LeftOut:
    """A candidate the plan leaves out, and why (the reasons are in this module's docstring)."""

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


def left_out(prep: Prep, state: State, method: str) -> list[LeftOut]:
    """Why each candidate not in the schedule was left out."""
    budget = prep.problem.budget
    plan_ratio = prep.gain(prep.nothing, state.start) / max(state.spent, EPS)
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
            share = f"{gain / max(c.cost, EPS) / plan_ratio:.0%}" if plan_ratio > 0 else "-"
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
    """``3``; ``3, 4 or 5``."""
    return str(months[0]) if len(months) == 1 else f"{', '.join(map(str, months[:-1]))} or {months[-1]}"


def unmet(prep: Prep, state: State) -> list[Unmet]:
    """The priority minimums ``state`` does not meet, each with the likeliest reason."""
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


def budget_step(model: Model, factor: float, schedule: dict[int, int]) -> BudgetStep:
    """The plan re-solved at ``factor`` times the budget, started from the plan completed
    (or cut) greedily to that budget."""
    prep, budget = model.prep, model.prep.problem.budget
    model.h.changeRowBounds(model.budget_row, -highspy.kHighsInf, budget * factor)
    start = greedy_schedule(prep, budget * factor, keep=schedule).start
    model.start_from(start)
    found, status, _, _ = model.solve()
    model.h.changeRowBounds(model.budget_row, -highspy.kHighsInf, budget)
    found = greedy_schedule(prep, budget * factor, keep=start if found is None else found).start
    gained = prep.gain(prep.nothing, found) - prep.gain(prep.nothing, schedule)
    extra = budget * (factor - 1)  # zero for a budget too small to scale (5e-324 * 0.5 underflows)
    per = gained / extra if extra else None
    return BudgetStep(
        factor, budget * factor, prep.gain(prep.nothing, found), shortfall(prep, found), status, per
    )


def force_in(model: Model, i: int, schedule: dict[int, int]) -> tuple[float | None, str]:
    """Re-solve with candidate ``i`` forced in: the value lost, in words too."""
    prep = model.prep
    model.h.changeRowBounds(model.assign[i], 1, 1)
    start = greedy_schedule(prep, first=i, keep=schedule)  # the plan repaired around it
    if i in start.start:
        model.start_from(start.start)
    found, status, _, _ = model.solve()
    model.h.changeRowBounds(model.assign[i], 0, 1)
    if found is None:
        return None, "forced in, no plan keeps within the limits" if status == "infeasible" else status
    found = greedy_schedule(prep, keep=found).start
    loss = prep.gain(prep.nothing, schedule) - prep.gain(prep.nothing, found)
    more = shortfall(prep, found) - shortfall(prep, schedule)
    if loss > 1e-7:
        words = f"forced in, the plan is worth {loss:.3g} less"
    elif loss < -1e-7:  # the plan is within its gap of the best, and this re-solve did better
        words = f"forced in, a plan worth {-loss:.3g} more was found (the plan is within its gap)"
    else:
        words = "forced in, the plan loses nothing (a tie)"
    if more > 0:
        words += f" and misses {more} more priority engagements"
    return loss, words + ("" if status == "optimal" else f" ({status})")
