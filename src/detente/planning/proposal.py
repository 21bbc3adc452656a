"""The optimiser's input from the registry: the reader's own engagements being planned for
a year become candidates, the assessment objectives they serve (and presence with each
partner) become the objectives, and the planning checks say which cannot go ahead.

* candidates: engagements the reader's organisation owns and its country leads, proposed,
  planned or approved, starting in the year, costed in the chosen currency (engagements costed in another
  currency are left out and counted: detente does not convert currencies);
* each may start in its own month or the months either side; it lasts its length in
  months; the units taking part (lead or partner actors of kind ``unit``) may do one
  engagement a month;
* objectives: every assessment objective the reader may see that links a candidate (weight
  1; each linked engagement covers half of it), and presence with each partner (weight
  0.25; each engagement with it covers half);
* blocked: a candidate with a legal finding the plan cannot fix by itself (no SOFA or
  framework agreement, vetting, an attaché declared persona non grata). Host-nation
  consent is sought for the engagements chosen, so its absence does not block;
* the Vienna Document's constraining provisions count the reader's own activities of the
  two years before.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from detente.planning.optimise import Candidate, Objective, Problem
from detente.planning.prerequisites import OPEN, check_legal
from detente.store.service import ListQuery, Store

__all__ = ["BLOCKING", "Proposal", "problem_from_registry"]

BLOCKING = ("sofa", "cooperation_framework", "intelligence_arrangement", "vetting", "accreditation")
ALL = ListQuery(limit=None)


@dataclass
class Proposal:
    problem: Problem
    year: int
    currency: str
    titles: dict[str, str]
    skipped_currency: int = 0  # candidates costed in another currency
    skipped_cost: int = 0  # candidates with no cost
    records: list[Any] = field(default_factory=list)  # engagements and objectives read (markings)


def _month(d: date, year: int) -> int:
    return min(max((d.year - year) * 12 + d.month - 1, 0), 11)


def problem_from_registry(
    reg: Store,
    *,
    year: int,
    budget: float,
    currency: str | None = None,
    priority: dict[str, int] | None = None,
    today: date | None = None,
) -> Proposal:
    me = reg.principal
    actors = {a.id: a for a in reg.list("actors", ALL)}
    engagements = reg.list("engagements", ALL)

    def lead_country(e: Any) -> str | None:
        return actors[e.lead_actor_id].country if e.lead_actor_id in actors else None

    mine = [
        e for e in engagements if e.owner_org_id == me.org and e.status in OPEN and e.start_date.year == year
    ]
    costed = [e for e in mine if e.cost is not None and e.currency]
    chosen_currency = currency or (Counter(e.currency for e in costed).most_common(1) or [("", 0)])[0][0]
    pool = [e for e in costed if e.currency == chosen_currency]
    ids = {e.id for e in pool}
    blocked: dict[str, str] = {}
    for f in check_legal(reg, today or date.today()):
        if f.engagement_id in ids and f.rule in BLOCKING and f.severity == "violation":
            blocked.setdefault(f.engagement_id, f"{f.rule}: {f.missing}")
    objectives = [o for o in reg.list("objectives", ALL) if ids & set(o.engagements)]
    serves: dict[str, dict[str, float]] = {e.id: {} for e in pool}
    for o in objectives:
        for eid in o.engagements:
            if eid in serves:
                serves[eid][o.id] = 0.5
    home = me.country
    partners_of: dict[str, str] = {}
    for e in pool:
        countries = [actors[a].country for a in [e.lead_actor_id, *e.partners] if a in actors]
        partner = next((c for c in countries if c and c != home), e.location_country or home)
        partners_of[e.id] = partner
        serves[e.id][f"presence:{partner}"] = 0.5
    goal = [Objective(o.id, 1.0, 1.0, o.title) for o in objectives]
    goal += [
        Objective(f"presence:{p}", 0.25, 1.0, f"presence with {p}") for p in sorted(set(partners_of.values()))
    ]
    candidates = []
    for e in pool:
        start = _month(e.start_date, year)
        days = ((e.end_date or e.start_date) - e.start_date).days + 1
        units = tuple(a for a in [e.lead_actor_id, *e.partners] if a in actors and actors[a].kind == "unit")
        candidates.append(
            Candidate(
                id=e.id, partner=partners_of[e.id], cost=float(e.cost), objectives=serves[e.id],
                earliest=max(start - 1, 0), latest=min(start + 1, 11), duration=min(12, -(-days // 31)),
                units=units, blocked_reason=blocked.get(e.id), troops=e.troops or 0, tanks=e.tanks or 0,
                where=e.location_country, title=e.title, kind=e.kind,
            )
        )  # fmt: skip
    earlier = [
        (year - e.start_date.year, e.troops or 0, e.tanks or 0)
        for e in engagements
        if e.owner_org_id == me.org and e.status in ("approved", "executed", "assessed")
        and 1 <= year - e.start_date.year <= 2 and (e.troops or e.tanks)
    ]  # fmt: skip
    problem = Problem(candidates, goal, budget, {u: 1 for c in candidates for u in c.units},
                      dict(priority or {}), 12, None, earlier)  # fmt: skip
    return Proposal(problem, year, chosen_currency, {e.id: e.title for e in pool},
                    len(costed) - len(pool), len(mine) - len(costed), [*pool, *objectives])  # fmt: skip
