"""The scenario being built: a store per organisation, the seeded draws, the ids so far.

Every draw of the scenario comes from one ``random.Random(seed)`` in a fixed order, so a
seed and an "as of" date give the same records every time (their ids are random, as
everywhere: a record's readable key is its external id, ``demo:<key>``). The draws that
shape realism live here: markings (most open, some releasable, a few national), dates
by season, lifecycle status from the date, and skewed force sizes.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from detente.demo.catalogue import CATALOGUE, FVEY_MEMBERS, NATO_MEMBERS, NOTE, PUBLIC, RECORDER

if TYPE_CHECKING:
    from detente.store.service import Store

__all__ = ["Generator", "forces"]


class Generator:
    """Builds records through each organisation's store, remembering their ids by key."""

    def __init__(self, regs: Mapping[str, Store], seed: int, as_of: date) -> None:
        self.regs = regs
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.ids: dict[str, str] = {}

    def add(
        self, table: str, key: str, data: Mapping[str, Any], *, owner: str = RECORDER, marking: str = PUBLIC
    ) -> str:
        """Create a record as ``owner``'s organisation; its external id is ``demo:<key>``."""
        record = self.regs[owner].create(
            table, {"external_id": f"demo:{key}", "marking": marking, "notes": NOTE, **data}
        )
        self.ids[key] = str(record.id)
        return str(record.id)

    def marking(self, lead: str, others: list[str]) -> str:
        """A realistic mix: most records open, some releasable to partners, a few national."""
        r = self.rng.random()
        rel = ", ".join(sorted({lead, *others}))
        if r < 0.40:
            return PUBLIC
        if r < 0.65:
            return f"RESTRICTED//REL TO {rel}"
        if r < 0.80:
            return (
                f"CONFIDENTIAL//REL TO {lead}, NATO"
                if lead in NATO_MEMBERS
                else f"CONFIDENTIAL//REL TO {rel}"
            )
        if r < 0.90:
            return "SECRET//REL TO FVEY" if lead in FVEY_MEMBERS else "SECRET//NOFORN"
        return f"UNCLASSIFIED//REL TO {rel}//TLP:AMBER"

    def month_day(self, year: int, kind: str) -> date:
        """A day of ``year`` in a month drawn by the kind's season."""
        month = self.rng.choices(range(1, 13), weights=CATALOGUE.season(kind))[0]
        return date(year, month, self.rng.randint(1, 28))

    def status_for(self, start: date, end: date) -> str:
        """The lifecycle status an engagement has on "as of", given its dates."""
        r = self.rng.random()
        if end < self.as_of:
            if r < 0.05:
                return "cancelled"
            return "assessed" if (self.as_of - end).days > 60 and r < 0.75 else "executed"
        ahead = (start - self.as_of).days
        if ahead < 0:  # under way now
            return "approved"
        if r < 0.04:
            return "cancelled"
        if ahead < 90:
            return "approved" if r < 0.7 else "planned"
        if ahead < 270:
            return "planned" if r < 0.6 else "proposed"
        return "proposed"


def forces(rng: random.Random, kind: str, multinational: bool) -> dict[str, Any]:
    """Force sizes of an engagement: many small activities, a few large exercises."""
    if kind == "joint_exercise":
        return _exercise(rng, multinational)
    if kind == "port_call":
        return {"troops": rng.randint(90, 1200)}
    if kind in ("humanitarian_relief", "peacekeeping_contribution"):
        return {"troops": rng.randint(40, 900), "aircraft_sorties": rng.randint(0, 40)}
    if kind in ("training_education", "capacity_building", "military_exchange"):
        return {"troops": rng.randint(4, 120)}
    return {}


def _exercise(rng: random.Random, multinational: bool) -> dict[str, Any]:
    troops = int(rng.lognormvariate(6.6, 1.0))  # median ~700, long right tail
    if multinational and rng.random() < 0.15:
        troops = rng.randint(6000, 16000)
    land = rng.random() < 0.55
    return {
        "troops": troops,
        "tanks": int(troops / rng.randint(40, 90)) if land else 0,
        "armoured_combat_vehicles": int(troops / rng.randint(15, 35)) if land else 0,
        "artillery": int(troops / rng.randint(60, 150)) if land else 0,
        "aircraft_sorties": rng.randint(0, 60) if land else rng.randint(20, 260),
    }
