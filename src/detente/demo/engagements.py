"""The scenario's engagements and the commitments made at them, drawn year by year.

Kinds follow their weights, dates their seasons, status the date relative to "as of";
the recorder logs others' activity from open sources (public), each organisation marks
its own. Draws happen in one fixed order: changing it changes every seed's scenario.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from detente.demo.catalogue import (
    CATALOGUE,
    COMMITMENTS,
    COUNTRIES,
    EXERCISE_NAMES,
    EXERCISE_NOUNS,
    KIND_WEIGHTS,
    LEADERS,
    OBJECTIVES,
    ORGS,
    PUBLIC,
    RECORDER,
)
from detente.demo.generator import Generator, forces
from detente.demo.world import Agreement

__all__ = ["engagements"]

MULTINATIONAL = ("joint_exercise", "conference")


@dataclass(frozen=True)
class Draft:
    """An engagement's drawn shape: what, who, where and when."""

    kind: str
    lead: str
    host: str
    partners: list[str]
    multinational: bool
    start: date
    end: date

    def actor(self, iso3: str) -> str:
        """The demo key of the body that takes part for ``iso3`` (its navy on a port call)."""
        return f"{'navy' if self.kind == 'port_call' else 'mod'}:{iso3}"


def _draft(g: Generator, year: int) -> Draft:
    kinds, weights = zip(*KIND_WEIGHTS.items(), strict=True)
    kind = g.rng.choices(kinds, weights=weights)[0]
    lead = g.rng.choice(LEADERS)
    host = g.rng.choice([c for c in COUNTRIES if c != lead])
    multinational = kind in MULTINATIONAL and g.rng.random() < 0.35
    partners = [host]
    if multinational:
        partners += g.rng.sample([c for c in COUNTRIES if c not in (lead, host)], g.rng.randint(1, 5))
    start = g.month_day(year, kind)
    end = start + timedelta(days=g.rng.randint(*CATALOGUE.length(kind)) - 1)
    return Draft(kind, lead, host, partners, multinational, start, end)


def _title(g: Generator, draft: Draft, year: int, titles: Counter[str]) -> str:
    """A name for the engagement, numbered when the same name recurs in a year."""
    if draft.kind == "joint_exercise":
        base = f"Exercise {g.rng.choice(EXERCISE_NAMES)} {g.rng.choice(EXERCISE_NOUNS)}"
    else:
        base = f"{COUNTRIES[draft.lead][0]} {draft.kind.replace('_', ' ')} with {COUNTRIES[draft.host][0]}"
    name = f"{base} {year}"
    titles[name] += 1
    return name + (f" ({titles[name]})" if titles[name] > 1 else "")


def _engagement(
    g: Generator, key: str, draft: Draft, title: str, agreements: dict[frozenset[str], Agreement]
) -> tuple[str, str, str, str]:
    """Create one engagement; returns its id, status, owner and marking."""
    cost = Decimal(int(g.rng.lognormvariate(11.5, 1.1))).quantize(Decimal("1.00"))
    status = g.status_for(draft.start, draft.end)
    owner = draft.lead if draft.lead in ORGS else RECORDER
    # the recorder logs others' activity from open sources: public
    marking = g.marking(draft.lead, draft.partners) if owner == draft.lead else PUBLIC
    agreement = agreements.get(frozenset((draft.lead, draft.host)))
    # link the agreement only where the recording organisation can see it
    visible = agreement and (agreement.public or agreement.owner == owner)
    record: dict[str, Any] = {
        "title": title,
        "kind": draft.kind,
        "status": status,
        "lead_actor_id": g.ids[draft.actor(draft.lead)],
        "partners": [g.ids[draft.actor(p)] for p in draft.partners],
        "start_date": draft.start,
        "end_date": draft.end,
        "agreement_id": agreement.id if agreement and visible else None,
        "location_country": draft.host,
        "location_place": COUNTRIES[draft.host][2],
        "cost": cost,
        "currency": COUNTRIES[draft.lead][1],
        "objectives": g.rng.choice(OBJECTIVES),
        **forces(g.rng, draft.kind, draft.multinational),
    }
    return g.add("engagements", key, record, owner=owner, marking=marking), status, owner, marking


def _commitments(g: Generator, key: str, eng: str, draft: Draft, owner: str, marking: str) -> None:
    """One or two commitments made at an engagement, some already fulfilled."""
    for c, template in enumerate(g.rng.sample(COMMITMENTS, g.rng.randint(1, 2))):
        due = draft.end + timedelta(days=g.rng.randint(30, 240))
        done = due < g.as_of and g.rng.random() < 0.6
        text = template.format(n=g.rng.randint(2, 12), partner=COUNTRIES[draft.host][0])
        record = {
            "engagement_id": eng,
            "committed_by_id": g.ids[draft.actor(draft.lead)],
            "description": text,
            "due_on": due,
            "status": "fulfilled" if done else g.rng.choice(["open", "in_progress"]),
        }
        g.add("commitments", f"{key}:c{c}", record, owner=owner, marking=marking)


def engagements(g: Generator, years: list[int], agreements: list[Agreement]) -> None:
    """The engagements of each year (``engagements_per_year`` each), with their commitments."""
    by_pair = {frozenset((ag.a, ag.b)): ag for ag in agreements}
    titles: Counter[str] = Counter()
    n = 0
    for year in years:
        for _ in range(CATALOGUE.scenario.sizes.engagements_per_year):
            draft = _draft(g, year)
            title = _title(g, draft, year, titles)
            n += 1
            key = f"eng:{year}:{n}"
            eng, status, owner, marking = _engagement(g, key, draft, title, by_pair)
            if status in ("executed", "assessed", "approved") and g.rng.random() < 0.3:
                _commitments(g, key, eng, draft, owner, marking)
