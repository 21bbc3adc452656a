"""The engagement plan: the programme against brute force, each constraint binding in a
crafted instance, the greedy never better than the programme, and the explanation naming a
reason for everything left out."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detente.core.errors import ValidationError
from detente.planning.optimise import (
    Candidate,
    Objective,
    Plan,
    Problem,
    greedy,
    optimise,
    value,
    violations,
)
from detente.planning.vienna_rules import ConstraintRule, Rules

RULES = Rules.load("2011")


def cand(id: str, serves: str | dict[str, float] = "", cost: float = 1.0, **kw: Any) -> Candidate:
    objectives = {serves: 1.0} if isinstance(serves, str) and serves else serves or {}
    return Candidate(id, kw.pop("partner", "FRA"), cost, objectives, **kw)  # type: ignore[arg-type]


def objectives(*ids: str, weight: float = 1.0) -> list[Objective]:
    return [Objective(o, weight) for o in ids]


def solve(problem: Problem, **kw: Any) -> Plan:
    options: dict[str, Any] = {"mip_gap": 0.0, "explain_top": 0, "budget_factors": (), "shadow_price": False}
    return optimise(problem, **{**options, **kw})


def limits(per_year: int = 6, above_second: int = 3, above_third: int = 1, simultaneous: int = 3) -> Rules:
    """The 2011 rule table with its constraining provisions' counts changed."""
    counts = {
        "constraint.six_per_year": per_year,
        "constraint.three_large_per_year": above_second,
        "constraint.one_in_three_years": above_third,
        "constraint.simultaneous": simultaneous,
    }
    rules = tuple(
        r.model_copy(update={"max_activities": counts[r.id]}) if isinstance(r, ConstraintRule) else r
        for r in RULES.rules
    )
    return RULES.model_copy(update={"rules": rules})


def reasons(plan: Plan) -> dict[str, str]:
    return {o.candidate: o.reason for o in plan.left_out}


# ---------------------------------------------------------------- against brute force


@st.composite
def problems(draw: st.DrawFn, most: int = 7) -> Problem:
    months = draw(st.integers(1, 3))
    objs = [
        Objective(f"o{k}", draw(st.sampled_from([0.5, 1.0, 2.0])), draw(st.sampled_from([1.0, 1.5])))
        for k in range(draw(st.integers(1, 3)))
    ]
    cands = []
    for i in range(draw(st.integers(1, most))):
        earliest = draw(st.integers(0, months - 1))
        serves = st.dictionaries(
            st.sampled_from([o.id for o in objs]), st.sampled_from([0.25, 0.5, 1.0]), max_size=2
        )
        cands.append(
            Candidate(
                f"c{i}",
                draw(st.sampled_from(["AAA", "BBB"])),
                draw(st.integers(1, 6)),
                draw(serves),
                earliest,
                draw(st.integers(earliest, months)),
                draw(st.integers(1, 2)),
                units=tuple(draw(st.lists(st.sampled_from(["u1", "u2"]), max_size=2, unique=True))),
                requires=tuple(draw(st.lists(st.sampled_from([f"c{j}" for j in range(i)]), max_size=1)))
                if i
                else (),
                blocked_reason=draw(st.sampled_from([None] * 6 + ["no agreement in force"])),
                troops=draw(st.sampled_from([0, 0, 0, 14_000, 30_000, 50_000])),
            )
        )
    return Problem(
        cands,
        objs,
        draw(st.integers(0, 16)),
        capacity={"u1": draw(st.integers(0, 2)), "u2": draw(st.integers(1, 2))},
        priority=draw(st.dictionaries(st.sampled_from(["AAA", "BBB", "CCC"]), st.integers(0, 2), max_size=2)),
        months=months,
        vienna=limits(draw(st.integers(1, 3)), 1, 1, draw(st.integers(1, 2))),
        earlier=draw(st.sampled_from([(), ((1, 45_000, 0),), ((3, 45_000, 0),)])),
    )


def shortfall(problem: Problem, schedule: dict[str, int]) -> int:
    partner = {c.id: c.partner for c in problem.candidates}
    met = [partner[c] for c in schedule]
    return sum(max(0, k - met.count(p)) for p, k in problem.priority.items())


def brute_force(problem: Problem) -> tuple[int, float]:
    """The best (fewest priority engagements missing, then value) over every schedule."""
    options = [
        [
            None,
            *range(c.earliest, min(problem.months - 1, problem.months if c.latest is None else c.latest) + 1),
        ]
        for c in problem.candidates
    ]
    best = (-(10**9), 0.0)
    for starts in itertools.product(*options):
        schedule = {c.id: m for c, m in zip(problem.candidates, starts, strict=True) if m is not None}
        if not violations(problem, schedule):
            best = max(best, (-shortfall(problem, schedule), value(problem, schedule)))
    return -best[0], best[1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(most=5))
def test_the_programme_finds_the_brute_force_optimum(problem: Problem) -> None:
    plan = solve(problem)
    assert violations(problem, plan.schedule) == []
    assert plan.status == "optimal"
    missing, best = brute_force(problem)
    assert plan.shortfall == missing
    assert plan.value == pytest.approx(best, abs=1e-6)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_the_greedy_plan_is_feasible_and_never_beats_the_programme(problem: Problem) -> None:
    heuristic, plan = greedy(problem), solve(problem)
    assert violations(problem, heuristic.schedule) == []
    assert violations(problem, plan.schedule) == []
    assert plan.shortfall <= heuristic.shortfall
    if plan.shortfall == heuristic.shortfall:
        assert plan.value >= heuristic.value - 1e-6
    assert {o.candidate for o in plan.left_out} | set(plan.schedule) == {c.id for c in problem.candidates}


# ---------------------------------------------------------------- each constraint binds


def test_the_budget_binds() -> None:
    cands = [cand("a", "x", 4), cand("b", "y", 4), cand("c", "z", 4, partner="DEU")]
    objs = [Objective("x", 3), Objective("y", 2), Objective("z", 1)]
    plan = solve(Problem(cands, objs, budget=8))
    assert set(plan.schedule) == {"a", "b"} and plan.spent == 8
    assert reasons(plan) == {"c": "not_worth_cost"}


def test_unit_capacity_binds_over_an_engagements_duration() -> None:
    cands = [
        cand("long", "x", units=("ship",), duration=2, latest=0),
        cand("early", "y", units=("ship",), earliest=1, latest=1),
        cand("late", "z", units=("ship",), earliest=2),
    ]
    objs = [Objective("x", 2), Objective("y"), Objective("z")]
    plan = solve(Problem(cands, objs, budget=10, capacity={"ship": 1}, months=3))
    assert plan.schedule == {"long": 0, "late": 2}
    assert reasons(plan) == {"early": "no_room"}
    assert "unit ship full for a start in month 1" in plan.left_out[0].detail


def test_a_prerequisite_is_chosen_and_starts_no_later() -> None:
    cands = [
        cand("visit", "v", cost=1, units=("staff",), duration=2, latest=0),
        cand("talks", cost=1, units=("staff",)),  # worth nothing of itself; after the visit
        cand("exercise", "x", cost=1, requires=("talks",), latest=2),
        cand("too_soon", "y", cost=1, requires=("talks",), latest=1),
        cand("late_talks", cost=1, earliest=3),
        cand("hopeless", "y", cost=1, requires=("late_talks",), latest=2),
    ]
    objs = [Objective("v", 3), Objective("x"), Objective("y")]
    problem = Problem(cands, objs, budget=10, capacity={"staff": 1}, months=4)
    for plan in (solve(problem), greedy(problem)):
        assert plan.schedule == {"visit": 0, "talks": 2, "exercise": 2}
        assert reasons(plan)["too_soon"] == "no_room"
        detail = {o.candidate: o.detail for o in plan.left_out}
        assert "talks (required) starts later for a start in month 0 or 1" in detail["too_soon"]
        assert reasons(plan)["hopeless"] == "cannot_fit"
        assert detail["hopeless"] == "requires late_talks, which cannot start before month 3"


def test_a_priority_partner_minimum_displaces_more_valuable_engagements() -> None:
    cands = [cand("a", "x", 5), cand("b", "y", 5), cand("c", "z", 5, partner="MNG")]
    objs = [Objective("x", 3), Objective("y", 2), Objective("z", 0.1)]
    plan = solve(Problem(cands, objs, budget=10, priority={"MNG": 1}))
    assert set(plan.schedule) == {"a", "c"} and plan.unmet == ()
    assert set(greedy(Problem(cands, objs, budget=10, priority={"MNG": 1})).schedule) == {"a", "c"}


def major(id: str, troops: int, month: int, **kw: Any) -> Candidate:
    return cand(id, id, troops=troops, earliest=month, latest=month, **kw)


@pytest.mark.parametrize(
    ("troops", "offered", "allowed", "earlier"),
    [
        (14_000, 7, 6, ()),  # six a calendar year above 13,000 troops
        (30_000, 4, 3, ()),  # of those, three above 25,000
        (50_000, 2, 1, ()),  # one above 40,000 in three calendar years
        (50_000, 2, 0, ((2, 41_000, 0),)),  # ... counting one two years before the plan
        (50_000, 2, 1, ((3, 41_000, 0),)),  # ... but not one three years before
    ],
)
def test_the_vienna_document_limits_per_calendar_year_bind(
    troops: int, offered: int, allowed: int, earlier: tuple[tuple[int, int, int], ...]
) -> None:
    cands = [major(f"ex{k}", troops, month=2 * k % 12) for k in range(offered)]
    problem = Problem(cands, objectives(*(c.id for c in cands)), budget=100, earlier=earlier)
    for plan in (solve(problem), greedy(problem)):
        assert len(plan.schedule) == allowed
        assert set(reasons(plan).values()) <= {"no_room"}
        assert all("VD2011 para" in o.detail for o in plan.left_out)


def test_no_more_than_three_large_activities_at_once_and_only_in_the_zone() -> None:
    cands = [major(f"ex{k}", 14_000, month=0, duration=2) for k in range(4)]
    problem = Problem(cands, objectives(*(c.id for c in cands)), budget=100, months=3)
    plan = solve(problem)
    assert len(plan.schedule) == 3 and "simultaneous" in plan.left_out[0].detail
    staggered = [*cands[:3], major("ex3", 14_000, month=2)]  # ex0..ex2 end after month 1
    assert len(solve(Problem(staggered, problem.objectives, budget=100, months=3)).schedule) == 4
    abroad = [*cands[:3], major("ex3", 14_000, month=0, where="USA")]  # outside the zone
    assert len(solve(Problem(abroad, problem.objectives, budget=100, months=3)).schedule) == 4


# ---------------------------------------------------------------- the explanation


def test_every_left_out_candidate_has_its_reason() -> None:
    cands = [
        cand("good", {"x": 1.0, "y": 0.5}, 2, units=("ship",)),
        cand("cheap_y", "y", 1),
        cand("blocked", "x", 1, blocked_reason="no status-of-forces agreement"),
        cand("needs_blocked", "x", 1, requires=("blocked",)),
        cand("pricey", "y", 50),
        cand("late", "y", 1, earliest=15),
        cand("redundant", "x", 3),
        cand("no_ship", "z", 1, units=("ship",)),
        cand("costly", "w", 6),
        cand("needs_costly", "y", 1, requires=("costly",)),
    ]
    objs = [Objective("x", 3), Objective("y", 1, target=1.5), Objective("z", 0.2), Objective("w", 0.5)]
    problem = Problem(cands, objs, budget=6, capacity={"ship": 1}, months=1)
    plan = optimise(problem, mip_gap=0.0)
    assert plan.schedule == {"good": 0, "cheap_y": 0} and plan.value == pytest.approx(4)
    assert reasons(plan) == {
        "blocked": "blocked",
        "needs_blocked": "prerequisite_blocked",
        "pricey": "cannot_fit",
        "late": "cannot_fit",
        "redundant": "no_value",
        "no_ship": "no_room",
        "costly": "not_worth_cost",
        "needs_costly": "prerequisite_left_out",
    }
    detail = {o.candidate: o.detail for o in plan.left_out}
    assert detail["blocked"] == "no status-of-forces agreement"
    assert "requires blocked: no status-of-forces agreement" in detail["needs_blocked"]
    assert "more than the budget" in detail["pricey"] and "no start month" in detail["late"]
    assert "unit ship full" in detail["no_ship"] and "already covered" in detail["redundant"]
    assert "requires costly, left out" in detail["needs_costly"]
    # forced in and re-solved: no_ship displaces good (redundant, cheap_y and no_ship are worth
    # 3 + 2/3 + 0.2); costly takes the whole budget; costly and needs_costly together exceed it
    forced = {o.candidate: o.forced_loss for o in plan.left_out if o.forced_loss is not None}
    assert forced == pytest.approx({"no_ship": 4 - (3 + 2 / 3 + 0.2), "costly": 4 - 0.5})
    assert "no plan keeps within the limits" in detail["needs_costly"]
    assert set(reasons(greedy(problem))) == set(reasons(plan))
    text = plan.explain()
    assert "left out, prerequisite blocked (1)" in text and "no_ship" in text


def test_the_marginal_value_of_budget() -> None:
    cands = [cand(f"c{k}", f"o{k}", cost=k + 1) for k in range(5)]
    objs = [Objective(f"o{k}", 5 - k) for k in range(5)]
    plan = optimise(Problem(cands, objs, budget=8), mip_gap=0.0)  # c0, c1, c2: 12 for 6
    assert [(s.factor, s.budget, s.value) for s in plan.budget_steps] == [
        (0.9, 7.2, 12),
        (1.1, 8.8, 12),
        (1.25, 10, 14),
    ]
    assert [s.per_unit for s in plan.budget_steps] == [0, 0, pytest.approx(1)]  # 10 buys c3 too
    assert plan.shadow_price is not None and plan.shadow_price > 0  # the relaxation buys half of c3
    tight = optimise(Problem(cands, objs, budget=6), mip_gap=0.0)
    assert tight.budget_steps[0].per_unit == pytest.approx((12 - 9) / 0.6)  # 5.4 buys c0 and c1
    slack = optimise(Problem(cands, objs, budget=20), mip_gap=0.0)
    assert [s.per_unit for s in slack.budget_steps] == [0, 0, 0] and slack.shadow_price == 0


# ---------------------------------------------------------------- priorities that cannot be met


def test_unmeetable_priority_minimums_are_reported_with_their_reason() -> None:
    cands = [
        cand("a", "x", 6, partner="AAA"),
        cand("b", "y", 6, partner="BBB"),
        cand("c", "x", 1, partner="CCC", blocked_reason="export licence refused"),
        cand("d", "x", 30, partner="DDD"),
    ]
    priority = {"AAA": 1, "BBB": 1, "CCC": 1, "DDD": 1, "EEE": 2}
    problem = Problem(cands, objectives("x", "y"), budget=10, priority=priority)
    for plan in (solve(problem), greedy(problem)):
        unmet = {u.partner: u for u in plan.unmet}
        assert set(unmet) == {"AAA", "CCC", "DDD", "EEE"} or set(unmet) == {"BBB", "CCC", "DDD", "EEE"}
        assert "export licence refused" in unmet["CCC"].detail
        assert "more than the budget" in unmet["DDD"].detail
        assert (
            unmet["EEE"].detail == "no candidate engagement with this partner" and unmet["EEE"].required == 2
        )
        assert "leave no room" in (unmet.get("AAA") or unmet["BBB"]).detail
        assert plan.shortfall == 5


# ---------------------------------------------------------------- input


@pytest.mark.parametrize(
    ("cands", "message"),
    [
        ([cand("a"), cand("a")], "repeat"),
        ([cand("a", requires=("zzz",))], "not a candidate"),
        ([cand("a", "nope")], "not an objective"),
    ],
)
def test_bad_problems_are_refused(cands: list[Candidate], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Problem(cands, objectives("x"), budget=1)


def test_bad_candidates_are_refused() -> None:
    with pytest.raises(ValidationError, match="contributions"):
        cand("a", {"x": 1.5})
    with pytest.raises(ValidationError, match="cost"):
        cand("a", cost=-1)
