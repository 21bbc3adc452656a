"""The greedy baseline: the plan a careful analyst would draw by hand.

First each priority partner's minimum (the partners with fewest candidates first), then,
repeatedly, the candidate adding the most value per cost given what is chosen (together
with any prerequisites not yet chosen), in its earliest month that fits, while the budget
lasts. The same routine completes or repairs a schedule (the solver's, one cut to another
budget, one with a candidate forced in), so the programme starts from it and the
explanation re-solves from it.

Internal to ``detente.planning``: ``optimise.greedy`` is the public entry point.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

from detente.planning.schedule import EPS, Prep, State

__all__ = ["greedy_schedule", "place_bundle", "with_prerequisites"]


def with_prerequisites(prep: Prep, state: State, i: int) -> list[int] | None:
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


def place_bundle(prep: Prep, state: State, bundle: list[int], budget: float) -> bool:
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


def greedy_schedule(
    prep: Prep, budget: float | None = None, first: int | None = None, keep: Mapping[int, int] | None = None
) -> State:
    """The greedy plan; for another budget; with candidate ``first`` placed first; or
    completing (or repairing) the schedule ``keep``: its engagements are placed first, the
    most valuable per cost first, in their months if they still fit."""
    state, budget, keep = State(prep), prep.problem.budget if budget is None else budget, keep or {}
    if first is not None and (bundle := with_prerequisites(prep, state, first)):
        place_bundle(prep, state, bundle, budget)
    pending = sorted(keep, key=lambda i: -prep.gain(prep.nothing, [i]) / max(prep.cands[i].cost, EPS))
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
        return (prep.gain(state.cover, bundle) + bonus) / max(sum(prep.cands[j].cost for j in bundle), EPS)

    minimums = prep.minimum
    pool = {
        k: [i for i in range(prep.n) if prep.cands[i].partner == k and i not in prep.excluded]
        for k in minimums
    }
    for partner in sorted(minimums, key=lambda k: (len(pool[k]), k)):
        while state.partner.get(partner, 0) < minimums[partner]:
            options = [
                (b, i)
                for i in pool[partner]
                if i not in state.start and (b := with_prerequisites(prep, state, i))
            ]
            options.sort(key=lambda bi: -ratio(bi[0], 1e-6))
            if not any(place_bundle(prep, state, b, budget) for b, _ in options):
                break
    heap = [(-ratio([i]), i) for i in range(prep.n) if i not in prep.excluded and i not in state.start]
    heapq.heapify(heap)
    while heap:
        _, i = heapq.heappop(heap)
        bundle = with_prerequisites(prep, state, i) if i not in state.start else None
        if not bundle:
            continue
        fresh = ratio(bundle)
        if fresh <= 0:
            continue
        if heap and fresh < -heap[0][0] - 1e-12:  # gains only fall: a stale ratio bounds the fresh one
            heapq.heappush(heap, (-fresh, i))
            continue
        if place_bundle(prep, state, bundle, budget):
            for j in bundle:  # a dependant's bundle is now cheaper: its ratio may have risen
                for d in prep.dependants[j]:
                    if d not in state.start and d not in prep.excluded:
                        heapq.heappush(heap, (-ratio(with_prerequisites(prep, state, d) or [d]), d))
    return state
