"""The planning board: every engagement the reader may see that is being planned, with the
findings of every check (the Vienna Document, legal prerequisites, calendars, vetting) as
one list, and the Vienna Document drafts for what must be notified.

The Vienna Document counts what a State does, so its checks (the constraining provisions
above all) read every engagement the reader may see with forces in it, executed ones
included; findings are shown for the engagements still being planned.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from detente.planning import vienna
from detente.planning.prerequisites import OPEN, Finding, check_all
from detente.store.service import ListQuery, Store

__all__ = ["Board", "activities", "board", "vienna_findings"]

ALL = ListQuery(limit=None)


def activities(reg: Store, engagements: list[Any] | None = None) -> list[vienna.Activity]:
    """The engagements with forces in them (not cancelled), as Vienna Document activities."""
    countries = {a.id: a.country for a in reg.list("actors", ALL)}
    out = []
    for e in engagements if engagements is not None else reg.list("engagements", ALL):
        forces = (e.troops, e.tanks, e.armoured_combat_vehicles, e.artillery, e.aircraft_sorties,
                  e.amphibious_airborne_troops)  # fmt: skip
        if e.status == "cancelled" or not any(forces) or not e.location_country:
            continue
        lead = countries.get(e.lead_actor_id)
        participants = frozenset(c for c in (countries.get(a) for a in [e.lead_actor_id, *e.partners]) if c)
        out.append(
            vienna.Activity(
                id=e.id, title=e.title, start=e.start_date, end=e.end_date or e.start_date,
                country=e.location_country, participants=participants, place=e.location_place,
                conductor=lead, troops=e.troops, tanks=e.tanks, acv=e.armoured_combat_vehicles,
                artillery=e.artillery, sorties=e.aircraft_sorties,
                amphibious_airborne_troops=e.amphibious_airborne_troops, notified_on=e.vd_notified_on,
                in_calendar_on=e.vd_calendar_on, purpose=e.objectives,
            )
        )  # fmt: skip
    return out


def vienna_findings(
    reg: Store, today: date, rules: vienna.Rules, engagements: list[Any] | None = None
) -> list[Finding]:
    """The Vienna Document's findings as board findings (one per engagement involved)."""
    known = {e.id: e for e in engagements or reg.list("engagements", ALL)}
    out = []
    for f in vienna.check(activities(reg, engagements), rules, today=today):
        ids = f.activity_ids
        for i in ids:
            severity = "warning" if f.severity == "info" else f.severity
            others = tuple(x for x in ids if x != i)
            markings = tuple(known[x].marking for x in ids if x in known)
            out.append(Finding(i, known[i].title if i in known else i, f"vd:{f.kind}", severity, f.message,
                               _vd_missing(f), f.reference, others, markings))  # fmt: skip
    return out


def _vd_missing(f: vienna.Finding) -> str:
    return {
        "notification": "engagement field vd_notified_on: send the prior notification (draft on the board)",
        "notice_period": "notification at least the required days before the start, or later dates",
        "observation": "an invitation to observe, sent with the notification",
        "calendar": "engagement field vd_calendar_on: list it in the annual calendar",
        "constraint": "fewer or smaller activities in the period (constraining provisions)",
        "zone": "confirm the location is within the zone of application",
        "split_suspect": "notify them as one activity, or show they are separate",
    }.get(f.kind, "see the rule")


@dataclass
class Board:
    as_of: date
    engagements: list[Any]  # being planned
    findings: list[Finding]
    notifiable: list[vienna.Activity] = field(default_factory=list)
    rules: vienna.Rules | None = None

    def by_engagement(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = {e.id: [] for e in self.engagements}
        for f in self.findings:
            if f.engagement_id in out:
                out[f.engagement_id].append(f)
        return out

    @property
    def counts(self) -> Counter[str]:
        return Counter(f.rule for f in self.findings if f.engagement_id in {e.id for e in self.engagements})

    def markings(self) -> list[str]:
        """Of everything the board shows: the engagements, and what the findings quote."""
        shown = {e.id for e in self.engagements}
        return [e.marking for e in self.engagements] + [
            m for f in self.findings if f.engagement_id in shown for m in f.markings
        ]


def board(reg: Store, today: date | None = None, rules: vienna.Rules | None = None) -> Board:
    day = today or date.today()
    rules = rules or vienna.Rules.load()
    everything = reg.list("engagements", ALL)
    planned = sorted((e for e in everything if e.status in OPEN), key=lambda e: e.start_date)
    findings = [*check_all(reg, day), *vienna_findings(reg, day, rules, everything)]
    notifiable_ids = {f.engagement_id for f in findings if f.rule == "vd:notification"}
    notifiable = [a for a in activities(reg, planned) if a.id in notifiable_ids]
    return Board(day, planned, findings, notifiable, rules)
