"""The planning board: the engagements being planned with the findings of every check (the
Vienna Document, legal prerequisites, calendars, vetting), ranked, and the Vienna Document
drafts for what must be notified.

What it shows: the reader's own organisation's engagements by default (``scope="own"``,
see ``detente.planning.scope``), every engagement they may read on request
(``scope="all"``). Findings are grouped by rule, the groups ranked by severity (those with
violations first, then by how many), each with its counts of findings and engagements;
the engagements are ranked by their violations and warnings. ``Board.report`` is that
ranking as plain data: the web page, the API and the CLI all show it, so they give the
same groups and counts.

The Vienna Document counts what a State does, so its checks (the constraining provisions
above all) read every engagement the reader may see with forces in it, executed ones
included; findings are shown for the engagements still being planned in the scope.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from detente.core.errors import UnknownValueError
from detente.core.markings import derived_marking
from detente.planning import vienna
from detente.planning.prerequisites import OPEN, Finding, check_all
from detente.planning.scope import Scope, is_own
from detente.store.service import ListQuery, Store

__all__ = [
    "RULE_LABELS",
    "Board",
    "EngagementRow",
    "RuleGroup",
    "activities",
    "board",
    "rule_of",
    "vienna_findings",
]

ALL = ListQuery(limit=None)

RULE_LABELS = {
    "vd:notification": "Vienna Document: prior notification",
    "vd:notice_period": "Vienna Document: 42 days' notice",
    "vd:observation": "Vienna Document: observation",
    "vd:calendar": "Vienna Document: annual calendar",
    "vd:constraint": "Vienna Document: constraining provisions",
    "vd:split_suspect": "Vienna Document: looks split",
    "vd:zone": "Vienna Document: zone of application",
    "sofa": "Status of forces agreement",
    "cooperation_framework": "Cooperation framework",
    "intelligence_arrangement": "Intelligence-sharing arrangement",
    "host_consent": "Host-nation consent",
    "accreditation": "Attaché accreditation",
    "vetting": "Vetting",
    "overdue_commitments": "Overdue commitments",
    "double_booking": "Booked twice",
    "travel": "No travel day",
    "partner_calendar": "Partner's holiday or election",
}


def rule_of(text: str | None) -> str | None:
    """A rule to filter the board by (None: every rule); an unknown one is a
    ``ValidationError`` naming the nearest known rules."""
    if not text:
        return None
    rule = text.strip()
    if rule not in RULE_LABELS:
        raise UnknownValueError(rule, sorted(RULE_LABELS), what="rule", field="rule")
    return rule


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


def _rank(f: Finding, starts: dict[str, date]) -> tuple[int, date, str, str]:
    """Violations first, then the soonest engagement."""
    return (f.severity != "violation", starts.get(f.engagement_id, date.max), f.engagement, f.message)


@dataclass(frozen=True)
class RuleGroup:
    """The findings of one rule, with their counts."""

    rule: str
    label: str
    severity: str  # the worst: violation or warning
    violations: int
    warnings: int
    engagements: int  # how many engagements it flags
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class EngagementRow:
    """An engagement being planned with its counts and findings, worst first."""

    engagement: Any
    violations: int
    warnings: int
    rules: tuple[str, ...]
    findings: tuple[Finding, ...]


@dataclass
class Board:
    as_of: date
    engagements: list[Any]  # being planned, in the scope
    findings: list[Finding]  # every check's, on every engagement the reader may see
    notifiable: list[vienna.Activity] = field(default_factory=list)
    rules: vienna.Rules | None = None
    scope: Scope = "own"
    others: int = 0  # engagements being planned the reader may see outside the scope

    def shown(self, rule: str | None = None) -> list[Finding]:
        """The findings on the engagements in the scope (of one rule), ranked."""
        ids = {e.id: e.start_date for e in self.engagements}
        found = [f for f in self.findings if f.engagement_id in ids and (rule is None or f.rule == rule)]
        return sorted(found, key=lambda f: _rank(f, ids))

    def by_engagement(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = {e.id: [] for e in self.engagements}
        for f in self.shown():
            out[f.engagement_id].append(f)
        return out

    @property
    def counts(self) -> Counter[str]:
        """Findings per rule, in the scope."""
        return Counter(f.rule for f in self.shown())

    def groups(self, rule: str | None = None) -> list[RuleGroup]:
        """The findings grouped by rule; groups with violations first, then the most findings."""
        by_rule: dict[str, list[Finding]] = {}
        for f in self.shown(rule):
            by_rule.setdefault(f.rule, []).append(f)
        out = []
        for key, found in by_rule.items():
            v = sum(f.severity == "violation" for f in found)
            worst = "violation" if v else "warning"
            flagged = len({f.engagement_id for f in found})
            out.append(
                RuleGroup(key, RULE_LABELS.get(key, key), worst, v, len(found) - v, flagged, tuple(found))
            )
        return sorted(out, key=lambda g: (g.severity != "violation", -g.violations, -g.warnings, g.label))

    def rows(self, rule: str | None = None) -> list[EngagementRow]:
        """The engagements with findings (of one rule), the most violations first, then warnings."""
        found = self.by_engagement()
        out = []
        for e in self.engagements:
            mine = [f for f in found[e.id] if rule is None or f.rule == rule]
            if mine:
                v = sum(f.severity == "violation" for f in mine)
                rules = tuple(dict.fromkeys(f.rule for f in mine))
                out.append(EngagementRow(e, v, len(mine) - v, rules, tuple(mine)))
        return sorted(out, key=lambda r: (-r.violations, -r.warnings, r.engagement.start_date))

    def markings(self) -> list[str]:
        """Of everything the board shows: the engagements, and what the findings quote."""
        return [e.marking for e in self.engagements] + [m for f in self.shown() for m in f.markings]

    def marking(self, coalitions: Mapping[str, Iterable[str]]) -> str:
        """The board's banner: the combination of ``markings`` (``coalitions``: each one's
        members today, so a REL TO list naming one is read as its members)."""
        return derived_marking(self.markings(), coalitions).render()

    def report(self, rule: str | None = None) -> dict[str, Any]:
        """The board as plain data (what the API returns and ``detente plan check --json``
        prints): the scope, the totals, the groups with their findings, the engagements'
        counts, each ranked as on the web page."""
        shown = self.shown(rule)
        violations = sum(f.severity == "violation" for f in shown)
        return {
            "as_of": self.as_of.isoformat(),
            "scope": self.scope,
            "rule": rule,
            "engagements": len(self.engagements),
            "others": self.others,
            "with_findings": len({f.engagement_id for f in shown}),
            "violations": violations,
            "warnings": len(shown) - violations,
            "counts": dict(Counter(f.rule for f in shown).most_common()),
            "groups": [_group(g) for g in self.groups(rule)],
            "by_engagement": [_row(r) for r in self.rows(rule)],
        }


def _group(g: RuleGroup) -> dict[str, Any]:
    counts = {"violations": g.violations, "warnings": g.warnings, "engagements": g.engagements}
    return {"rule": g.rule, "label": g.label, "severity": g.severity, **counts,
            "findings": [_plain(f) for f in g.findings]}  # fmt: skip


def _row(r: EngagementRow) -> dict[str, Any]:
    e = r.engagement
    what = {
        "engagement_id": e.id,
        "title": e.title,
        "start_date": e.start_date.isoformat(),
        "status": e.status,
    }
    return {**what, "violations": r.violations, "warnings": r.warnings, "rules": list(r.rules)}


def _plain(f: Finding) -> dict[str, Any]:
    out = asdict(f)
    out["others"] = list(f.others)
    del out["markings"]
    return out


def board(
    reg: Store, today: date | None = None, rules: vienna.Rules | None = None, scope: Scope = "own"
) -> Board:
    """The board for the reader: their organisation's own engagements being planned
    (``scope="own"``) or every one they may read (``"all"``), with every check's findings."""
    day = today or date.today()
    rules = rules or vienna.Rules.load()
    everything = reg.list("engagements", ALL)
    planned = sorted((e for e in everything if e.status in OPEN), key=lambda e: e.start_date)
    countries = {a.id: a.country for a in reg.list("actors", ALL)}
    shown = [e for e in planned if scope == "all" or is_own(e, reg.principal, countries.get(e.lead_actor_id))]
    findings = [*check_all(reg, day), *vienna_findings(reg, day, rules, everything)]
    notifiable_ids = {f.engagement_id for f in findings if f.rule == "vd:notification"}
    notifiable = [a for a in activities(reg, shown) if a.id in notifiable_ids]
    return Board(day, shown, findings, notifiable, rules, scope, len(planned) - len(shown))
