"""Legal prerequisites and calendar checks of the engagements being planned.

Each finding names the rule, what it rests on, and the record that is missing, so that the
planner knows what to add (an agreement, the host's consent, an accreditation, a vetting
decision) or what to move (a date). Everything is read through the reader's ``Store``:
an agreement the reader may not see does not satisfy a rule for them (they are told it is
missing, which is what they can act on), and a hidden engagement books nobody.

Multilateral agreements cover their members: an agreement whose parties include an
organisation that stands for a coalition (NATO, by its abbreviation or name) has as parties
the coalition's member states on the engagement's dates (``detente.sharing.coalitions``,
dated membership), so the NATO SOFA covers an exercise between two members; an agreement
whose parties are the states themselves covers any two of them.

Rules:

* ``sofa``: forces deployed abroad need a status of forces agreement in force with the host
  for the engagement's dates (``legal.yaml``), bilateral or multilateral;
* ``intelligence_arrangement`` and ``cooperation_framework``: kinds that need a framework
  agreement with every partner state, in force for the dates and covering the kind
  (``legal.yaml``; an agreement that lists activity types must list this one);
* ``host_consent``: an engagement in another state needs that state's consent recorded
  (``host_consent_on``, on or before the start);
* ``accreditation``: attachés taking part must be accepted by the receiving state and not
  declared persona non grata or departed;
* ``vetting``: the vetting guard's findings, where a rule of its data applies (the Leahy
  laws: foreign units in engagements the United States leads; non-state actors);
* ``overdue_commitments``: commitments from earlier engagements between the lead's country
  and the partner that are past due and not fulfilled;
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

__all__ = [
    "OPEN",
    "Finding",
    "LegalRules",
    "Need",
    "check_all",
    "check_calendar",
    "check_legal",
    "covered_by",
]

OPEN = open_statuses("engagement")  # being planned (the taxonomy's one list)
BOOKED = (*OPEN, "executed")  # holds people and units
ORGANISATION_KINDS = ("international_organisation", "regional_organisation")
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
    consent_due_days: int = 0  # host consent missing this close to the start (or later) is a violation

    @staticmethod
    @cache
    def load(path: Path | None = None) -> LegalRules:
        from detente.core.errors import ConfigError

        source = path or Path(__file__).with_name("legal.yaml")
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        try:
            due = int((data.get("host_consent") or {}).get("due_days", 0))
            rules = LegalRules(
                str(data["version"]), dict(data["forces_abroad"]), tuple(data["frameworks"]), due
            )
            for r in (rules.forces_abroad, *rules.frameworks):
                for key in ("rule", "title", "basis", "agreement_kinds"):
                    if key not in r:
                        raise KeyError(f"{r.get('rule', '?')}.{key}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"{source}: missing or malformed field {exc}") from None
        return rules


class _World:
    """The reader's registry, read once: actors' countries, agreements, people, calendars,
    and the dated membership of the coalitions an organisation actor may stand for."""

    def __init__(self, reg: Store) -> None:
        from detente.sharing.coalitions import membership

        self.reg = reg
        self.actors = {a.id: a for a in reg.list("actors", ALL)}
        self.agreements = reg.list("agreements", ALL)
        self.people = {p.id: p for p in reg.list("people", ALL)}
        self.engagements = reg.list("engagements", ALL)
        self.coalitions = {
            name: (label, [(m.country, m.joined_on, m.left_on) for m in rows])
            for name, (label, rows) in membership(reg.session).items()
        }

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

    def coalition_of(self, actor_id: str) -> str | None:
        """The coalition an organisation actor stands for (NATO for the North Atlantic
        Treaty Organization), by its abbreviation or name, or None."""
        actor = self.actors.get(actor_id)
        if actor is None or actor.kind not in ORGANISATION_KINDS:
            return None
        for name, (label, _) in self.coalitions.items():
            if name == (actor.abbreviation or "").upper() or label.casefold() == actor.name.casefold():
                return name
        return None

    def members(self, coalition: str, first: date, last: date) -> set[str]:
        """The coalition's member countries from ``first`` through ``last`` (dated membership)."""
        return {
            country
            for country, joined, left in self.coalitions.get(coalition, ("", []))[1]
            if (joined is None or joined <= first) and (left is None or left > last)
        }

    def parties(self, agreement: Any, first: date, last: date) -> set[str]:
        """The countries party to ``agreement`` from ``first`` through ``last``: its parties'
        countries, and the members of the organisations among its parties on those dates."""
        out: set[str] = set()
        for party in agreement.parties:
            coalition = self.coalition_of(party)
            if coalition is not None:
                out |= self.members(coalition, first, last)
            elif (country := self.country(party)) is not None:
                out.add(country)
        return out

    def covering_agreement(
        self, kinds: list[str], a: str, b: str, first: date, last: date, activity: str
    ) -> Any | None:
        """An agreement of one of ``kinds`` to which countries ``a`` and ``b`` are party (by
        themselves, or as members of an organisation that is), in force from ``first`` to
        ``last`` and covering ``activity``, or None."""
        for ag in self.agreements:
            if ag.kind not in kinds:
                continue
            if not in_force(ag, first, until=last):  # the registry's one rule
                continue
            if ag.activity_types and activity not in ag.activity_types:
                continue
            if {a, b} <= self.parties(ag, first, last):
                return ag
        return None


def _span(e: Any) -> tuple[date, date]:
    return e.start_date, e.end_date or e.start_date


def _label(kinds: list[str]) -> str:
    table = taxonomy().agreement_kinds
    return " or ".join(table[k].label if k in table else k for k in kinds)


def check_legal(
    reg: Store, today: date, rules: LegalRules | None = None, world: _World | None = None
) -> list[Finding]:
    """Legal prerequisites of every engagement still being planned."""
    rules = rules or LegalRules.load()
    world = world or _World(reg)
    out: list[Finding] = []
    overdue = _overdue_commitments(world, today)
    for e in world.engagements:
        if e.status not in OPEN:
            continue
        found = [
            *_agreements_needed(world, e, rules),
            *_host_consent(world, e, today, rules.consent_due_days),
            *_accreditations(world, e),
            *_overdue_with_partners(world, e, overdue),
        ]
        out += [Finding(e.id, e.title, *f) for f in found]
    out += _vetting(reg, world)
    return out


# what each check finds about one engagement: (rule, severity, message, missing, basis,
# related engagements, markings of what the finding quotes)
Found = tuple[str, Severity, str, str, str, tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class Need:
    """An agreement an engagement needs with one other country, and the one covering it."""

    rule: dict[str, Any]  # the rule of legal.yaml
    lead: str
    other: str  # the host (forces abroad) or a partner (frameworks)
    agreement: Any | None  # the agreement in force covering it, or None


def _needs(world: _World, e: Any, rules: LegalRules) -> list[Need]:
    """The agreements an engagement needs: a SOFA (or the like) with the host for forces
    abroad, the frameworks its kind needs with each partner; each with what covers it."""
    out: list[Need] = []
    first, last = _span(e)
    lead, host = world.lead_country(e), e.location_country
    kind = taxonomy().engagement_kinds.get(e.kind)
    if lead is None:
        return out
    if kind is not None and kind.forces and host is not None and host != lead:
        r = rules.forces_abroad
        out.append(Need(r, lead, host, world.covering_agreement(r["agreement_kinds"], lead, host, first,
                                                                last, e.kind)))  # fmt: skip
    for r in rules.frameworks:
        if e.kind in r["kinds"]:
            for partner in world.partner_countries(e):
                found = world.covering_agreement(r["agreement_kinds"], lead, partner, first, last, e.kind)
                out.append(Need(r, lead, partner, found))
    return out


def covered_by(reg: Store, engagement_id: str, rules: LegalRules | None = None) -> list[Need]:
    """The agreements one engagement needs, each with the agreement in force that covers
    it for the reader (a multilateral one through its members), or None."""
    world = _World(reg)
    e = next((x for x in world.engagements if x.id == engagement_id), None)
    if e is None:
        e = reg.get("engagements", engagement_id)  # the store's not-found error
    return _needs(world, e, rules or LegalRules.load())


def _agreements_needed(world: _World, e: Any, rules: LegalRules) -> list[Found]:
    """A finding for each agreement needed that nothing in force covers."""
    first, last = _span(e)
    where = f"{first} to {last}"
    out: list[Found] = []
    for need in _needs(world, e, rules):
        if need.agreement is not None:
            continue
        r, label = need.rule, _label(need.rule["agreement_kinds"])
        if r is rules.forces_abroad:
            message = f"{r['title']}: none between {need.lead} and {need.other} in force {where}"
            missing = f"agreement: {label} between {need.lead} and {need.other}, in force {where}"
        else:
            message = f"{r['title']}: none with {need.other} in force {where} covering {e.kind}"
            missing = (
                f"agreement: {label} between {need.lead} and {need.other}, in force {where}, "
                f"covering {e.kind}"
            )
        out.append((r["rule"], "violation", message, missing, r["basis"], (), ()))
    return out


def _host_consent(world: _World, e: Any, today: date, due_days: int) -> list[Found]:
    """Abroad, the host nation's consent recorded before the engagement starts: a violation
    from ``due_days`` before the start (or when recorded too late), a warning before."""
    first, _ = _span(e)
    lead, host = world.lead_country(e), e.location_country
    if lead is None or host is None or host == lead:
        return []
    if e.host_consent_on is not None and e.host_consent_on <= first:
        return []
    due = first - timedelta(days=due_days)
    severity: Severity
    if e.host_consent_on is not None:
        detail, severity = f"recorded only on {e.host_consent_on}", "violation"
    elif today >= due:
        detail, severity = f"none recorded, due by {due}", "violation"
    else:
        detail, severity = f"none recorded yet, due by {due}", "warning"
    return [
        (
            "host_consent",
            severity,
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


def _overdue_with_partners(world: _World, e: Any, overdue: dict[frozenset[str], list[Any]]) -> list[Found]:
    """Commitments made in earlier engagements between its lead's country and each partner
    (to or from it) that are overdue; others' commitments with the partner are not its own."""
    out: list[Found] = []
    lead = world.lead_country(e)
    for partner in world.partner_countries(e):
        late = overdue.get(frozenset((lead or "", partner)), [])
        if late:
            listed = "; ".join(f"{c.description[:60]} (due {c.due_on})" for c in late[:3])
            out.append(
                (
                    "overdue_commitments",
                    "warning",
                    f"{len(late)} commitment(s) between {lead} and {partner} overdue: {listed}",
                    f"commitments: fulfil or re-plan the {len(late)} overdue with {partner}",
                    "Credibility: promises from earlier engagements kept",
                    (),
                    tuple(c.marking for c in late[:3]),
                )
            )
    return out


def _overdue_commitments(world: _World, today: date) -> dict[frozenset[str], list[Any]]:
    """Overdue commitments by the pair of countries of their engagement: its lead's and
    each partner's."""
    by_engagement = {e.id: e for e in world.engagements}
    out: dict[frozenset[str], list[Any]] = defaultdict(list)
    for c in world.reg.list("commitments", ALL):
        if not overdue(c.status, c.due_on, today):  # the registry's one rule
            continue
        e = by_engagement.get(c.engagement_id)
        lead = world.lead_country(e) if e is not None else None
        if e is None or lead is None:
            continue
        for country in world.partner_countries(e):
            out[frozenset((lead, country))].append(c)
    return out


def _vetting(reg: Store, world: _World) -> list[Finding]:
    """The vetting guard's findings: only where a rule of its data applies (the Leahy laws to
    foreign units in engagements the United States leads, due diligence on non-state actors),
    or where a decision on record refuses or suspends the actor."""
    from detente.vetting.guard import check, rules

    titles = {r.rule: r.title for r in rules()}
    return [
        Finding(
            f.engagement_id,
            f.engagement,
            "vetting",
            "violation",
            f"{f.actor}: vetting {f.problem} ({f.detail})"
            + (f"; required by: {titles[f.rule]}" if f.rule in titles else ""),
            f"vetting decision: {f.actor} cleared, valid for the engagement's dates",
            f.basis,
            (),
            (world.actors[f.actor_id].marking,) if f.actor_id in world.actors else (),
        )
        for f in check(reg)
    ]


def check_calendar(reg: Store, world: _World | None = None) -> list[Finding]:
    """Units or people booked twice, engagements in a partner's holiday or election period,
    and people due in two countries with no day between."""
    world = world or _World(reg)
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
    """Every legal and calendar finding on the engagements being planned (the registry read once)."""
    day = today or date.today()
    world = _World(reg)
    return [*check_legal(reg, day, world=world), *check_calendar(reg, world)]
