"""The scenario's actors, agreements and people: who is there before anything happens.

States with their ministries and services, international and non-state actors (all from
the catalogue), then drawn: bilateral agreements between leaders and partners, and the
attachés and liaison officers posted abroad.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from detente.demo.catalogue import (
    CATALOGUE,
    COUNTRIES,
    FIRST,
    KIND_WEIGHTS,
    LAST,
    LEADERS,
    NON_STATE,
    ORGANISATIONS,
    ORGS,
    PUBLIC,
    RANKS,
    RECORDER,
    SERVICES,
)
from detente.demo.generator import Generator

__all__ = ["Agreement", "actors", "agreements", "people"]


@dataclass(frozen=True)
class Agreement:
    """A bilateral agreement as the engagements see it."""

    id: str
    a: str
    b: str
    owner: str
    public: bool


def actors(g: Generator) -> None:
    """Each state with its ministry of defence and services; organisations; non-state actors."""
    for iso3, (name, _, _) in COUNTRIES.items():
        state = g.add("actors", f"state:{iso3}", {"name": name, "kind": "state", "country": iso3})
        mod = g.add(
            "actors",
            f"mod:{iso3}",
            {
                "name": f"Ministry of Defence of {name}",
                "kind": "defense_ministry",
                "country": iso3,
                "abbreviation": "MoD",
                "parent_id": state,
            },
        )
        for label, key in SERVICES:
            service = {"name": f"{name} {label}", "kind": "armed_service", "country": iso3, "parent_id": mod}
            g.add("actors", f"{key}:{iso3}", service)
    for name, abbr, kind in ORGANISATIONS:
        g.add("actors", f"org:{abbr}", {"name": name, "kind": kind, "abbreviation": abbr})
    for name, kind, country in NON_STATE:
        g.add("actors", f"ns:{name}", {"name": name, "kind": kind, "country": country})


def _pairs(g: Generator) -> list[tuple[str, str]]:
    """Distinct (leader, partner) pairs, never both ways."""
    others = [c for c in COUNTRIES if c not in LEADERS]
    pairs: set[tuple[str, str]] = set()
    while len(pairs) < CATALOGUE.scenario.sizes.agreements:
        a = g.rng.choice(LEADERS)
        b = g.rng.choice(others + list(LEADERS))
        if a != b and (b, a) not in pairs:
            pairs.add((a, b))
    return sorted(pairs)


def agreements(g: Generator, first_year: int) -> list[Agreement]:
    """Bilateral agreements between leaders and partners, and a peacekeeping mandate."""
    plan = CATALOGUE.activity.agreements
    kinds = [kind for kind, weight in plan.kinds.items() for _ in range(weight)]
    out = []
    for a, b in _pairs(g):
        kind = g.rng.choice(kinds)
        signed = date(
            g.rng.randint(first_year - 12, first_year + 1), g.rng.randint(1, 12), g.rng.randint(1, 28)
        )
        in_force = signed + timedelta(days=g.rng.randint(30, 400))
        expires = (
            in_force.replace(year=in_force.year + g.rng.choice(plan.years))
            if kind not in plan.open_ended
            else None
        )
        label = kind.replace("_", " ").title().replace("Of", "of")
        owner = a if a in ORGS else RECORDER
        marking = PUBLIC if owner == RECORDER and a != RECORDER else g.marking(a, [b])
        record = {
            "title": f"{label} between {COUNTRIES[a][0]} and {COUNTRIES[b][0]}",
            "kind": kind,
            "parties": [g.ids[f"state:{a}"], g.ids[f"state:{b}"]],
            "signed_on": signed,
            "in_force_on": in_force,
            "expires_on": expires,
            "activity_types": sorted(g.rng.sample(list(KIND_WEIGHTS), plan.activity_types)),
        }
        ag = g.add("agreements", f"agr:{a}-{b}:{kind}", record, owner=owner, marking=marking)
        out.append(Agreement(ag, a, b, owner, marking == PUBLIC))
    mandate = {
        "title": "Peacekeeping mandate: demonstration mission (fictional)",
        "kind": "peacekeeping_mandate",
        "parties": [g.ids["org:UN"], g.ids["state:GHA"], g.ids["state:SEN"], g.ids["state:IND"]],
        "signed_on": date(first_year - 2, 3, 30),
        "in_force_on": date(first_year - 2, 4, 1),
        "activity_types": ["peacekeeping_contribution"],
    }
    g.add("agreements", "agr:un-pk", mandate)
    return out


def _name(g: Generator, used: set[str]) -> str:
    """A name not drawn before."""
    name = f"{g.rng.choice(FIRST)} {g.rng.choice(LAST)}"
    while name in used:
        name = f"{g.rng.choice(FIRST)} {g.rng.choice(LAST)}"
    used.add(name)
    return name


def people(g: Generator) -> None:
    """Attachés and liaison officers: posted, arriving, departed, and one persona non grata."""
    roles = [role for role, weight in CATALOGUE.people.roles.items() for _ in range(weight)]
    sizes = CATALOGUE.scenario.sizes
    used: set[str] = set()
    for i in range(sizes.people):
        sending = g.rng.choice(LEADERS)
        receiving = g.rng.choice([c for c in COUNTRIES if c != sending])
        name = _name(g, used)
        start = g.as_of - timedelta(days=g.rng.randint(-120, 1400))
        status = "accepted" if start <= g.as_of else g.rng.choice(["proposed", "notified"])
        end = None
        if start < g.as_of - timedelta(days=1095):
            status, end = "departed", start + timedelta(days=1095)
        if i == sizes.persona_non_grata:
            status = "persona_non_grata"
        owner = sending if sending in ORGS else RECORDER
        record = {
            "name": name,
            "rank": g.rng.choice(RANKS),
            "role": g.rng.choice(roles),
            "sending_state": sending,
            "receiving_state": receiving,
            "post": f"Embassy of {COUNTRIES[sending][0]} in {COUNTRIES[receiving][2]}",
            "organisation_id": g.ids[f"mod:{sending}"],
            "accreditation_status": "accepted" if status == "persona_non_grata" else status,
            "immunity_basis": "diplomatic_agent"
            if "attache" in g.rng.choice(roles)
            else "administrative_technical_staff",
            "start_date": start,
            "end_date": end,
        }
        marking = f"RESTRICTED//REL TO {', '.join(sorted({sending, receiving}))}"
        g.add("people", f"person:{i}", record, owner=owner, marking=marking)
        if status == "persona_non_grata":  # accepted first, then declared (a legal move)
            reg = g.regs[owner]
            rec = reg.get("people", g.ids[f"person:{i}"])
            reg.update(
                "people", rec.id, {"accreditation_status": "persona_non_grata"}, expected_version=rec.version
            )
