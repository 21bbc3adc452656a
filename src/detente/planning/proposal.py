"""The optimiser's input from the registry: the reader's own engagements being planned for
a year become candidates, the assessment objectives they serve (and presence with each
partner) become the objectives, and the planning checks say which cannot go ahead.

* candidates: the reader's organisation's own engagements (``detente.planning.scope``:
  owned by it and led by its country), proposed, planned or approved, starting in the year;
* costs: in the budget's currency (``currency``; by default the one most of the
  candidates are costed in). A cost in another currency is converted at the annual
  average rates of the European Central Bank for the engagement's year
  (``detente.planning.currency``, the source and its date in ``exchange_rates.yaml``);
  one that cannot be converted (no rate for that currency or year), or has no cost, is
  listed in ``excluded`` with the reason: nothing is left out silently;
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

from detente.core.errors import ValidationError
from detente.planning.currency import Conversion, Excluded, Rates
from detente.planning.optimise import Candidate, Objective, Problem
from detente.planning.prerequisites import OPEN, check_legal
from detente.planning.scope import is_own
from detente.store.service import ListQuery, Store

__all__ = ["BLOCKING", "Converted", "Left", "Proposal", "problem_from_registry"]

BLOCKING = ("sofa", "cooperation_framework", "intelligence_arrangement", "vetting", "accreditation")
ALL = ListQuery(limit=None)


@dataclass(frozen=True)
class Converted:
    """A candidate costed in another currency, and its conversion into the budget's."""

    engagement_id: str
    title: str
    conversion: Conversion


@dataclass(frozen=True)
class Left:
    """An engagement being planned for the year that could not be a candidate, and why."""

    engagement_id: str
    title: str
    reason: str  # "no cost recorded", "no rate for KES in 2027", ...
    cost: float | None = None
    currency: str | None = None


@dataclass
class Proposal:
    problem: Problem
    year: int
    currency: str  # the budget's: every candidate's cost is in it
    titles: dict[str, str]
    converted: list[Converted] = field(default_factory=list)
    excluded: list[Left] = field(default_factory=list)
    rates_source: str = ""
    records: list[Any] = field(default_factory=list)  # engagements and objectives read (markings)

    @property
    def budget_note(self) -> str:
        """What the budget is in and how other currencies were treated, in a sentence."""
        parts = [f"budget and costs in {self.currency}"]
        if self.converted:
            parts.append(f"{len(self.converted)} cost(s) converted at {self.rates_source}")
        if self.excluded:
            parts.append(f"{len(self.excluded)} engagement(s) excluded (listed with the reason)")
        return "; ".join(parts)


def _month(d: date, year: int) -> int:
    return min(max((d.year - year) * 12 + d.month - 1, 0), 11)


def _costs(
    mine: list[Any], currency: str | None, rates: Rates
) -> tuple[str, dict[str, float], list[Converted], list[Left]]:
    """The budget's currency, each candidate's cost in it, the conversions and the exclusions."""
    costed = [e for e in mine if e.cost is not None and e.currency]
    chosen = (currency or (Counter(e.currency for e in costed).most_common(1) or [("", 0)])[0][0]).upper()
    costs: dict[str, float] = {}
    converted: list[Converted] = []
    excluded = [Left(e.id, e.title, "no cost recorded") for e in mine if e.cost is None or not e.currency]
    for e in costed:
        found = rates.convert(e.cost, e.currency, chosen or e.currency, e.start_date.year)
        if isinstance(found, Excluded):
            excluded.append(Left(e.id, e.title, found.reason, float(e.cost), e.currency))
            continue
        costs[e.id] = found.converted
        if found.currency != found.into:
            converted.append(Converted(e.id, e.title, found))
    return chosen, costs, converted, excluded


def problem_from_registry(
    reg: Store,
    *,
    year: int,
    budget: float,
    currency: str | None = None,
    priority: dict[str, int] | None = None,
    today: date | None = None,
    rates: Rates | None = None,
) -> Proposal:
    """The optimiser's problem for the reader's own engagements being planned in ``year``,
    with ``budget`` in ``currency``: what it converted and what it had to leave out, said."""
    if currency is not None and not (len(currency.strip()) == 3 and currency.strip().isalpha()):
        raise ValidationError(f"{currency!r}: an ISO 4217 code of three letters, e.g. GBP", field="currency")
    me = reg.principal
    rates = rates or Rates.load()
    actors = {a.id: a for a in reg.list("actors", ALL)}
    engagements = reg.list("engagements", ALL)

    def own(e: Any) -> bool:
        return is_own(e, me, actors[e.lead_actor_id].country if e.lead_actor_id in actors else None)

    mine = [e for e in engagements if own(e) and e.status in OPEN and e.start_date.year == year]
    chosen_currency, costs, converted, excluded = _costs(mine, currency and currency.strip(), rates)
    pool = [e for e in mine if e.id in costs]
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
                id=e.id, partner=partners_of[e.id], cost=costs[e.id], objectives=serves[e.id],
                earliest=max(start - 1, 0), latest=min(start + 1, 11), duration=min(12, -(-days // 31)),
                units=units, blocked_reason=blocked.get(e.id), troops=e.troops or 0, tanks=e.tanks or 0,
                where=e.location_country, title=e.title, kind=e.kind,
            )
        )  # fmt: skip
    earlier = [
        (year - e.start_date.year, e.troops or 0, e.tanks or 0)
        for e in engagements
        if own(e) and e.status in ("approved", "executed", "assessed")
        and 1 <= year - e.start_date.year <= 2 and (e.troops or e.tanks)
    ]  # fmt: skip
    problem = Problem(candidates, goal, budget, {u: 1 for c in candidates for u in c.units},
                      dict(priority or {}), 12, None, earlier)  # fmt: skip
    return Proposal(problem, year, chosen_currency, {e.id: e.title for e in mine}, converted, excluded,
                    rates.source, [*mine, *objectives])  # fmt: skip
