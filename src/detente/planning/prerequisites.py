"""Legal prerequisites and calendar checks of the engagements being planned.

Each finding names the rule, what it rests on, and the record that is missing, so that the
planner knows what to add (an agreement, the host's consent, an accreditation, a vetting
decision) or what to move (a date). Everything is read through the reader's ``Store``:
an agreement the reader may not see does not satisfy a rule for them (they are told it is
missing, which is what they can act on), and a hidden engagement books nobody.

Rules:

* ``sofa``: forces deployed abroad need a status of forces agreement in force with the host
  for the engagement's dates (``legal.yaml``);
* ``intelligence_arrangement`` and ``cooperation_framework``: kinds that need a framework
  agreement with every partner state, in force for the dates and covering the kind
  (``legal.yaml``; an agreement that lists activity types must list this one);
* ``host_consent``: an engagement in another state needs that state's consent recorded
  (``host_consent_on``, on or before the start);
* ``accreditation``: attachés taking part must be accepted by the receiving state and not
  declared persona non grata or departed;
* ``vetting``: the vetting guard's findings (non-state actors and units);
* ``overdue_commitments``: commitments from earlier engagements with the partner that are
  past due and not fulfilled;
* ``double_booking``: a unit or a person in two engagements whose dates overlap;
* ``partner_calendar``: an engagement during a partner's holiday or election period;
* ``travel``: a person due in two countries with no day between.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from detente.registry.rules import in_force, open_statuses, overdue
from detente.registry.taxonomy import taxonomy
from detente.store.service import ListQuery, Store

__all__ = ["OPEN", "Finding", "LegalRules", "check_all", "check_calendar", "check_legal"]

OPEN = open_statuses("engagement")  # being planned (the taxonomy's one list)
BOOKED = (*OPEN, "executed")  # holds people and units
ATTACHE_ROLES = ("defense_attache", "army_attache", "naval_attache", "air_attache", "assistant_attache")
Severity = Literal["violation", "warning"]
ALL = ListQuery(limit=None)


@dataclass(frozen=True)
class Finding:
    engagement_id: str
    engagement: str
    rule: str
    severity: Severity
    message: str
    missing: str  # the record to add, or what to change
    basis: str = ""
    others: tuple[str, ...] = ()  # other engagements involved (double bookings)
    markings: tuple[str, ...] = ()  # of the records whose content the message shows (a page's banner)


@dataclass(frozen=True)
class LegalRules:
    version: str
    forces_abroad: dict[str, Any]
    frameworks: tuple[dict[str, Any], ...]

    @staticmethod
    @cache
    def load(path: Path | None = None) -> LegalRules:
        from detente.core.errors import ConfigError

        source = path or Path(__file__).with_name("legal.yaml")
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        try:
            rules = LegalRules(str(data["version"]), dict(data["forces_abroad"]), tuple(data["frameworks"]))
            for r in (rules.forces_abroad, *rules.frameworks):
                for key in ("rule", "title", "basis", "agreement_kinds"):
                    if key not in r:
                        raise KeyError(f"{r.get('rule', '?')}.{key}")
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"{source}: missing or malformed field {exc}") from None
        return rules


class _World:
    """The reader's registry, read once: actors' countries, agreements, people, calendars."""

    def __init__(self, reg: Store) -> None:
        self.reg = reg
        self.actors = {a.id: a for a in reg.list("actors", ALL)}
        self.agreements = reg.list("agreements", ALL)
        self.people = {p.id: p for p in reg.list("people", ALL)}
        self.engagements = reg.list("engagements", ALL)

    def country(self, actor_id: str | None) -> str | None:
        actor = self.actors.get(actor_id or "")
        return actor.country if actor else None

    def name(self, actor_id: str) -> str:
        actor = self.actors.get(actor_id)
        return actor.name if actor else "(not releasable to you)"

    def lead_country(self, e: Any) -> str | None:
        return self.country(e.lead_actor_id)

    def partner_countries(self, e: Any) -> list[str]:
        lead = self.lead_country(e)
        return list(dict.fromkeys(c for c in (self.country(p) for p in e.partners) if c and c != lead))

    def covering_agreement(
        self, kinds: list[str], a: str, b: str, first: date, last: date, activity: str
    ) -> Any | None:
        """An agreement of one of ``kinds`` with parties in countries ``a`` and ``b``, in force
        from ``first`` to ``last`` and covering ``activity``, or None."""
        for ag in self.agreements:
            if ag.kind not in kinds:
                continue
            parties = {self.country(p) for p in ag.parties}
            if not {a, b} <= parties:
                continue
            if not in_force(ag, first, until=last):  # the registry's one rule
                continue
            if ag.activity_types and activity not in ag.activity_types:
                continue
            return ag
        return None


def _span(e: Any) -> tuple[date, date]:
    return e.start_date, e.end_date or e.start_date


def _label(kinds: list[str]) -> str:
    table = taxonomy().agreement_kinds
    return " or ".join(table[k].label if k in table else k for k in kinds)


def check_legal(reg: Store, today: date, rules: LegalRules | None = None) -> list[Finding]:
    """Legal prerequisites of every engagement still being planned."""
    rules = rules or LegalRules.load()
    world = _World(reg)
    out: list[Finding] = []
    overdue = _overdue_commitments(world, today)
    for e in world.engagements:
        if e.status not in OPEN:
            continue
        found = [
            *_agreements_needed(world, e, rules),
            *_host_consent(world, e),
            *_accreditations(world, e),
            *_overdue_with_partners(world, e, overdue),
        ]
        out += [Finding(e.id, e.title, *f) for f in found]
    out += _vetting(reg, world)
    return out


# what each check finds about one engagement: (rule, severity, message, missing, basis,
# related engagements, markings of what the finding quotes)
Found = tuple[str, Severity, str, str, str, tuple[str, ...], tuple[str, ...]]


def _agreements_needed(world: _World, e: Any, rules: LegalRules) -> list[Found]:
    """A SOFA (or the like) for forces abroad; the framework agreements its kind needs."""
    out: list[Found] = []
    first, last = _span(e)
    lead, host = world.lead_country(e), e.location_country
    kind = taxonomy().engagement_kinds.get(e.kind)
    where = f"{first} to {last}"
    if kind is not None and kind.forces and lead is not None and host is not None and host != lead:
        r = rules.forces_abroad
        if world.covering_agreement(r["agreement_kinds"], lead, host, first, last, e.kind) is None:
            out.append(
                (
                    r["rule"],
                    "violation",
                    f"{r['title']}: none between {lead} and {host} in force {where}",
                    f"agreement: {_label(r['agreement_kinds'])} between {lead} and {host}, in force {where}",
                    r["basis"],
                    (),
                    (),
                )
            )
    for r in rules.frameworks:
        if e.kind not in r["kinds"] or lead is None:
            continue
        for partner in world.partner_countries(e):
            if world.covering_agreement(r["agreement_kinds"], lead, partner, first, last, e.kind) is None:
                out.append(
                    (
                        r["rule"],
                        "violation",
                        f"{r['title']}: none with {partner} in force {where} covering {e.kind}",
                        f"agreement: {_label(r['agreement_kinds'])} between {lead} and {partner}, in force "
                        f"{where}, covering {e.kind}",
                        r["basis"],
                        (),
                        (),
                    )
                )
    return out


def _host_consent(world: _World, e: Any) -> list[Found]:
    """Abroad, the host nation's consent recorded before the engagement starts."""
    first, _ = _span(e)
    lead, host = world.lead_country(e), e.location_country
    if lead is None or host is None or host == lead:
        return []
    if e.host_consent_on is not None and e.host_consent_on <= first:
        return []
    detail = "none recorded" if e.host_consent_on is None else f"recorded only on {e.host_consent_on}"
    return [
        (
            "host_consent",
            "violation",
            f"Host-nation consent from {host}: {detail}",
            f"host_consent_on (and host_consent_reference): {host}'s consent before {first}",
            "Sovereignty: a state's consent to foreign forces or officials on its territory",
            (),
            (),
        )
    ]


def _accreditations(world: _World, e: Any) -> list[Found]:
    """Attachés taking part, accepted by their receiving state."""
    out: list[Found] = []
    for pid in e.people:
        person = world.people.get(pid)
        if person is None or person.role not in ATTACHE_ROLES or person.accreditation_status == "accepted":
            continue
        status = person.accreditation_status
        bad = status in ("persona_non_grata", "departed")
        out.append(
            (
                "accreditation",
                "violation" if bad else "warning",
                f"{person.name} ({person.role.replace('_', ' ')}) is {status.replace('_', ' ')} in "
                f"{person.receiving_state}" + ("" if bad else ": not yet accepted by the receiving state"),
                f"person {person.name}: accreditation accepted by {person.receiving_state}",
                "Vienna Convention on Diplomatic Relations arts. 7 and 9 (attachés' names submitted; "
                "persona non grata)",
                (),
                (person.marking,),
            )
        )
    return out


def _overdue_with_partners(world: _World, e: Any, overdue: dict[str, list[Any]]) -> list[Found]:
    """Commitments to or from its partners that are overdue."""
    out: list[Found] = []
    for partner in world.partner_countries(e):
        late = overdue.get(partner, [])
        if late:
            listed = "; ".join(f"{c.description[:60]} (due {c.due_on})" for c in late[:3])
            out.append(
                (
                    "overdue_commitments",
                    "warning",
                    f"{len(late)} commitment(s) to or from {partner} overdue: {listed}",
                    f"commitments: fulfil or re-plan the {len(late)} overdue with {partner}",
                    "Credibility: promises from earlier engagements kept",
                    (),
                    tuple(c.marking for c in late[:3]),
                )
            )
    return out


def _overdue_commitments(world: _World, today: date) -> dict[str, list[Any]]:
    by_engagement = {e.id: e for e in world.engagements}
    out: dict[str, list[Any]] = defaultdict(list)
    for c in world.reg.list("commitments", ALL):
        if not overdue(c.status, c.due_on, today):  # the registry's one rule
            continue
        e = by_engagement.get(c.engagement_id)
        if e is None:
            continue
        countries = {world.country(a) for a in [e.lead_actor_id, *e.partners]}
        for country in countries - {world.lead_country(e), None}:
            out[country].append(c)  # type: ignore[index]
    return out


def _vetting(reg: Store, world: _World) -> list[Finding]:
    from detente.vetting.guard import check

    return [
        Finding(
            f.engagement_id,
            f.engagement,
            "vetting",
            "violation",
            f"{f.actor}: vetting {f.problem} ({f.detail})",
            f"vetting decision: {f.actor} cleared, valid for the engagement's dates",
            "Human-rights vetting of non-state actors and units (e.g. the Leahy laws)",
            (),
            (world.actors[f.actor_id].marking,) if f.actor_id in world.actors else (),
        )
        for f in check(reg)
    ]


def check_calendar(reg: Store) -> list[Finding]:
    """Units or people booked twice, engagements in a partner's holiday or election period,
    and people due in two countries with no day between."""
    world = _World(reg)
    live = [e for e in world.engagements if e.status in BOOKED]
    planned = {e.id for e in live if e.status in OPEN}
    return [*_bookings(world, live, planned), *_partner_calendars(reg, world, live, planned)]


def _holders(world: _World, live: list[Any]) -> dict[str, list[Any]]:
    """The engagements each unit and each person is booked for."""
    by_holder: dict[str, list[Any]] = defaultdict(list)
    for e in live:
        for actor_id in [e.lead_actor_id, *e.partners]:
            actor = world.actors.get(actor_id)
            if actor is not None and actor.kind == "unit":
                by_holder[f"unit:{actor_id}"].append(e)
        for pid in e.people:
            by_holder[f"person:{pid}"].append(e)
    return by_holder


def _bookings(world: _World, live: list[Any], planned: set[str]) -> list[Finding]:
    """Double bookings of a unit or person, and people with no day to travel between two."""
    out: list[Finding] = []
    for holder, engagements in _holders(world, live).items():
        kind, _, key = holder.partition(":")
        record = world.actors.get(key) if kind == "unit" else world.people.get(key)
        name = record.name if record is not None else key
        shown = (record.marking,) if record is not None else ()
        engagements.sort(key=_span)
        for i, a in enumerate(engagements):
            for b in engagements[i + 1 :]:
                (_, a1), (b0, _) = _span(a), _span(b)
                if b0 > a1 + timedelta(days=1):
                    break
                for e, other in ((a, b), (b, a)):
                    if e.id not in planned:
                        continue
                    if b0 <= a1:
                        out.append(
                            Finding(
                                e.id,
                                e.title,
                                "double_booking",
                                "violation",
                                f"{kind} {name} is also booked for {other.title} ({_span(other)[0]} to "
                                f"{_span(other)[1]})",
                                f"{kind} {name}: another {kind} or other dates",
                                "One unit or person cannot be in two places",
                                (other.id,),
                                (*shown, other.marking),
                            )
                        )
                    elif kind == "person" and a.location_country != b.location_country:
                        out.append(
                            Finding(
                                e.id,
                                e.title,
                                "travel",
                                "warning",
                                f"{name} ends {a.title} in {a.location_country} on {a1} and starts "
                                f"{b.title} in {b.location_country} on {b0}: no day to travel",
                                f"person {name}: a travel day between the engagements",
                                "Senior leaders' travel",
                                (other.id,),
                                (*shown, other.marking),
                            )
                        )
    return out


def _partner_calendars(reg: Store, world: _World, live: list[Any], planned: set[str]) -> list[Finding]:
    """Engagements falling in a partner's holiday, election period or other time to avoid."""
    out: list[Finding] = []
    entries = reg.list("calendar_entries", ALL)
    for e in live:
        if e.id not in planned:
            continue
        first, last = _span(e)
        countries = {e.location_country, *world.partner_countries(e)} - {None}
        for entry in entries:
            end = entry.end_date or entry.start_date
            if entry.country in countries and entry.start_date <= last and end >= first:
                out.append(
                    Finding(
                        e.id,
                        e.title,
                        "partner_calendar",
                        "warning",
                        f"{entry.country}: {entry.title} ({entry.kind.replace('_', ' ')}, "
                        f"{entry.start_date} to {end}) falls within {first} to {last}",
                        f"engagement dates outside {entry.title}",
                        "Respect for partners' national calendars",
                        (),
                        (entry.marking,),
                    )
                )
    return out


def check_all(reg: Store, today: date | None = None) -> list[Finding]:
    day = today or date.today()
    return [*check_legal(reg, day), *check_calendar(reg)]
