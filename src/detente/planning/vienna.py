"""OSCE Vienna Document checks of planned military activities, from a versioned rule table.

The thresholds, deadlines, constraining provisions, zone of application and paragraph
numbers live in ``vienna_<version>.yaml`` (``Rules``, in ``vienna_rules``); this module
only applies them. ``check`` turns a set of ``Activity`` records into ``Finding`` objects,
each naming the rule, the paragraph and the numbers that tripped it; ``split_suspects``
flags activities that look split to stay under a notification threshold;
``notification_draft`` and ``calendar_draft`` write the drafts.

Pure functions over frozen values: no store, no clock (``today`` is passed in), no network.
It must not decide what the Document means beyond what the rule table says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal

from detente.core.errors import ValidationError
from detente.planning.vienna_rules import (
    MEASURES,
    CalendarRule,
    DraftFormat,
    MeasureName,
    NoticeRule,
    Rule,
    Rules,
    Severity,
    ThresholdRule,
)

__all__ = [
    "Activity",
    "Crossing",
    "Finding",
    "SplitSuspect",
    "calendar_draft",
    "check",
    "notification_draft",
    "split_suspects",
]

TODO = "[to be completed]"


# ---------------------------------------------------------------- activities and findings


@dataclass(frozen=True, kw_only=True)
class Activity:
    """A planned or conducted military activity; ``country`` (ISO3) is where it takes place."""

    id: str
    title: str
    start: date
    end: date
    country: str
    participants: frozenset[str] = frozenset()
    place: str | None = None
    # the State carrying out the activity, for the constraining provisions; defaults to the host
    conductor: str | None = None
    troops: int | None = None
    tanks: int | None = None
    acv: int | None = None
    artillery: int | None = None
    sorties: int | None = None
    amphibious_airborne_troops: int | None = None
    notified_on: date | None = None
    in_calendar_on: date | None = None
    purpose: str | None = None
    command_level: str | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError(f"ends ({self.end}) before it starts ({self.start})", field="end")
        for name in ("country", "conductor"):
            value = getattr(self, name)
            if value is not None and not (len(value) == 3 and value.isupper() and value.isalpha()):
                raise ValidationError(f"expected an ISO 3166 alpha-3 code, got {value!r}", field=name)
        bad = sorted(p for p in self.participants if not (len(p) == 3 and p.isupper() and p.isalpha()))
        if bad:
            raise ValidationError(f"expected ISO 3166 alpha-3 codes, got {bad}", field="participants")
        for name in MEASURES:
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValidationError(f"cannot be negative ({value})", field=name)

    @property
    def notifying_state(self) -> str:
        """The State that notifies the activity: its conductor, else the host."""
        return self.conductor or self.country

    @property
    def states(self) -> frozenset[str]:
        """Every State involved: participants, the conductor and the host."""
        return self.participants | {self.notifying_state, self.country}


@dataclass(frozen=True)
class Crossing:
    """One number against one threshold: the reason behind a finding."""

    measure: str
    value: int
    threshold: int
    comparison: Literal[">=", ">"]

    def __str__(self) -> str:
        sign = "≥" if self.comparison == ">=" else ">"
        return f"{MEASURES[self.measure]} {self.value:,} {sign} {self.threshold:,}"


@dataclass(frozen=True)
class Finding:
    rule_id: str
    kind: str
    paragraph: str
    reference: str
    severity: Severity
    activity_ids: tuple[str, ...]
    message: str
    basis: tuple[Crossing, ...] = field(default=())


@dataclass(frozen=True)
class SplitSuspect:
    """Activities that look like one notifiable activity split below the thresholds."""

    activity_ids: tuple[str, ...]
    country: str
    totals: tuple[tuple[str, int], ...]
    crossings: tuple[Crossing, ...]
    rule_id: str
    paragraph: str
    message: str


def _forces(activity: Activity) -> dict[str, int | None]:
    return {m: getattr(activity, m) for m in MEASURES}


def _crossings(
    values: Mapping[str, int | None], limits: Mapping[MeasureName, int], comparison: Literal[">=", ">"]
) -> tuple[Crossing, ...]:
    out = []
    for measure, limit in limits.items():
        value = values.get(measure)
        if value is not None and (value >= limit if comparison == ">=" else value > limit):
            out.append(Crossing(measure, value, limit, comparison))
    return tuple(out)


def _finding(
    rules: Rules,
    rule: Rule,
    ids: Iterable[str],
    text: str,
    basis: Iterable[Crossing] = (),
    severity: Severity | None = None,
) -> Finding:
    """A finding of ``rule``; ``{ref}`` in ``text`` becomes the citation."""
    reference = rules.cite(rule.paragraph)
    return Finding(
        rule.id,
        rule.kind,
        rule.paragraph,
        reference,
        severity or rule.severity,
        tuple(sorted(ids)),
        text.replace("{ref}", reference),
        tuple(basis),
    )


def _notification_crossings(
    activity: Activity, rules: Rules
) -> list[tuple[ThresholdRule, tuple[Crossing, ...]]]:
    """The notification rules an activity trips, with the crossings; empty if not notifiable."""
    tripped = [(r, _crossings(_forces(activity), r.at_least, ">=")) for r in rules.notifications]
    tripped = [(r, c) for r, c in tripped if c]
    if not any(r.standalone for r, _ in tripped):
        return []
    return tripped


def _notice(activity: Activity, rule: NoticeRule, rules: Rules, today: date) -> list[Finding]:
    days = rule.days_before_start
    due = activity.start - timedelta(days=days)
    if activity.notified_on is not None:
        given = (activity.start - activity.notified_on).days
        if given >= days:
            return []
        text = f"notified {given} days before the start < {days} ({{ref}}): late notification"
        return [_finding(rules, rule, [activity.id], text)]
    if today > due:
        text = f"not notified; notification was due by {due} ({days} days before the start, {{ref}})"
        return [_finding(rules, rule, [activity.id], text)]
    text = f"notification due by {due} ({days} days before the start, {{ref}})"
    return [_finding(rules, rule, [activity.id], text, severity="info")]


def _calendar(activity: Activity, rule: CalendarRule, rules: Rules, today: date) -> list[Finding]:
    due = rule.due(activity.start.year)
    listed = activity.in_calendar_on
    if listed is not None:
        if listed <= due:
            return []
        text = f"listed in the annual calendar on {listed}, after {due} ({{ref}})"
        return [_finding(rules, rule, [activity.id], text)]
    if today > due:
        return [_finding(rules, rule, [activity.id], f"not in the annual calendar due by {due} ({{ref}})")]
    text = f"to be listed in the annual calendar by {due} ({{ref}})"
    return [_finding(rules, rule, [activity.id], text, severity="info")]


def _activity_findings(activity: Activity, rules: Rules, today: date) -> list[Finding]:
    out: list[Finding] = []
    tripped = _notification_crossings(activity, rules)
    for rule, crossings in tripped:
        text = f"{'; '.join(map(str, crossings))} ({{ref}}): prior notification required"
        out.append(_finding(rules, rule, [activity.id], text, crossings))
    if tripped:
        for notice in rules.notice_periods:
            out.extend(_notice(activity, notice, rules, today))
        for calendar in rules.calendars:
            out.extend(_calendar(activity, calendar, rules, today))
    for rule in rules.observations:
        crossings = _crossings(_forces(activity), rule.at_least, ">=")
        if crossings:
            what = "; ".join(map(str, crossings))
            text = f"{what} ({{ref}}): observers from all other participating States to be invited"
            out.append(_finding(rules, rule, [activity.id], text, crossings))
    return out


def _hedge(finding: Finding, notes: Iterable[str]) -> Finding:
    """A finding that holds only if a location in a partly covered State is in the zone."""
    severity: Severity = "warning" if finding.severity == "violation" else finding.severity
    message = f"{finding.message} [applies only if the location is in the zone: {'; '.join(notes)}]"
    return replace(finding, severity=severity, message=message)


def _maximal(groups: Iterable[frozenset[str]]) -> list[frozenset[str]]:
    unique = set(groups)
    return sorted((g for g in unique if not any(g < other for other in unique)), key=sorted)


def _constraint_findings(activities: Sequence[Activity], rules: Rules) -> list[Finding]:
    out: list[Finding] = []
    for rule in rules.constraints:
        limits = " or ".join(f"{v:,} {MEASURES[m]}" for m, v in rule.above.items())
        by_state: dict[str, list[Activity]] = {}
        for activity in activities:
            if _crossings(_forces(activity), rule.above, ">"):
                by_state.setdefault(activity.notifying_state, []).append(activity)
        for state, group in sorted(by_state.items()):
            windows: list[tuple[frozenset[str], str]] = []
            if rule.window == "calendar_years":
                for first in sorted({a.start.year for a in group}):
                    last = first + rule.years - 1
                    members = frozenset(a.id for a in group if first <= a.start.year <= last)
                    span = str(first) if rule.years == 1 else f"{first}-{last}"
                    windows.append((members, f"in {span}"))
            else:
                for a in group:
                    members = frozenset(b.id for b in group if b.start <= a.start <= b.end)
                    windows.append((members, f"at the same time (on {a.start})"))
            keep = _maximal(m for m, _ in windows if len(m) > rule.max_activities)
            for members in keep:
                when = next(w for m, w in windows if m == members)
                text = (
                    f"{state}: {len(members)} activities above {limits} {when} > {rule.max_activities} "
                    f"allowed ({{ref}}): {', '.join(sorted(members))}"
                )
                out.append(_finding(rules, rule, members, text))
    return out


def check(activities: Iterable[Activity], rules: Rules, *, today: date) -> list[Finding]:
    """Every finding of ``rules`` on ``activities``: thresholds, deadlines, constraints, splits.

    Activities outside the zone of application get no finding; those in a partly covered
    State get their findings hedged (violations become warnings) and a zone warning.
    """
    acts = list(activities)
    ids = [a.id for a in acts]
    if len(set(ids)) != len(ids):
        raise ValidationError("activity ids must be unique", field="id")
    out: list[Finding] = []
    counted: list[Activity] = []
    partial: dict[str, str] = {}
    zone = rules.zone
    for activity in acts:
        status, note = rules.zone_status(activity.country)
        if status == "outside":
            continue
        counted.append(activity)
        own = _activity_findings(activity, rules, today)
        if status == "partial":
            partial[activity.id] = note
            if own:
                text = f"uncertain ({{ref}}): confirm the location is within the zone of application: {note}"
                own = [_finding(rules, zone, [activity.id], text)] + [_hedge(f, [note]) for f in own]
        out.extend(own)
    grouped = _constraint_findings(counted, rules)
    for suspect in split_suspects(counted, rules):
        rule = rules.rule(suspect.rule_id)
        text = suspect.message.replace(rules.cite(rule.paragraph), "{ref}")
        found = _finding(rules, rule, suspect.activity_ids, text, suspect.crossings, "warning")
        grouped.append(replace(found, kind="split_suspect"))
    for finding in grouped:
        notes = sorted({partial[i] for i in finding.activity_ids if i in partial})
        out.append(_hedge(finding, notes) if notes else finding)
    order = {rule.id: n for n, rule in enumerate(rules.rules)}
    return sorted(out, key=lambda f: (f.activity_ids, order[f.rule_id], f.message))


# ---------------------------------------------------------------- split suspects


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b)


def split_suspects(
    activities: Iterable[Activity],
    rules: Rules,
    max_gap_days: int | None = None,
    min_participant_overlap: float | None = None,
) -> list[SplitSuspect]:
    """Groups of activities each below every notification threshold but together at or above one.

    Two activities are linked when they take place in the same country, their States involved
    overlap (Jaccard index at least ``min_participant_overlap``) and at most ``max_gap_days``
    separate one's end from the other's start (overlapping dates count as no gap). A group is a
    chain of links; its force numbers are summed. Defaults come from the rule table.
    """
    gap = rules.split_heuristic.max_gap_days if max_gap_days is None else max_gap_days
    overlap = (
        rules.split_heuristic.min_participant_overlap
        if min_participant_overlap is None
        else min_participant_overlap
    )
    small = [
        a
        for a in activities
        if rules.zone_status(a.country)[0] != "outside" and not _notification_crossings(a, rules)
    ]
    parent = list(range(len(small)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(small):
        for j in range(i + 1, len(small)):
            b = small[j]
            apart = (max(a.start, b.start) - min(a.end, b.end)).days
            if a.country == b.country and apart <= gap and _jaccard(a.states, b.states) >= overlap:
                parent[root(j)] = root(i)
    groups: dict[int, list[Activity]] = {}
    for i, a in enumerate(small):
        groups.setdefault(root(i), []).append(a)
    out: list[SplitSuspect] = []
    for group in groups.values():
        if len(group) < 2:
            continue
        totals: dict[str, int] = {
            m: sum(getattr(a, m) or 0 for a in group)
            for m in MEASURES
            if any(getattr(a, m) is not None for a in group)
        }
        for rule in rules.notifications:
            crossings = _crossings(totals, rule.at_least, ">=")
            if rule.standalone and crossings:
                ids = tuple(sorted(a.id for a in group))
                reference = rules.cite(rule.paragraph)
                message = (
                    f"possible split activity in {group[0].country}: {', '.join(ids)} together "
                    f"{'; '.join(map(str, crossings))} ({reference}), each below the threshold"
                )
                out.append(
                    SplitSuspect(
                        ids,
                        group[0].country,
                        tuple(sorted(totals.items())),
                        crossings,
                        rule.id,
                        rule.paragraph,
                        message,
                    )
                )
                break
    return sorted(out, key=lambda s: s.activity_ids)


# ---------------------------------------------------------------- drafts


def _number(value: int | None) -> str | None:
    return None if value is None else f"{value:,}"


FILLERS: dict[str, Callable[[Activity], str | None]] = {
    "designation": lambda a: a.title,
    "purpose": lambda a: a.purpose,
    "states_involved": lambda a: ", ".join(sorted(a.states)),
    "command_level": lambda a: a.command_level,
    "dates": lambda a: f"{a.start.isoformat()} to {a.end.isoformat()}",
    "troops": lambda a: _number(a.troops),
    "tanks": lambda a: _number(a.tanks),
    "acv": lambda a: _number(a.acv),
    "artillery": lambda a: _number(a.artillery),
    "sorties": lambda a: _number(a.sorties),
    "amphibious_airborne_troops": lambda a: _number(a.amphibious_airborne_troops),
    "area": lambda a: ", ".join(x for x in (a.place, a.country) if x),
    "coordinates": lambda a: "[geographic coordinates: to be completed]",
}


def _render(activity: Activity, layout: DraftFormat, indent: str = "") -> list[str]:
    lines: list[str] = []
    for section in layout.sections:
        lines.append(f"{indent}{section.title}")
        for item in section.fields:
            value = FILLERS.get(item.key, lambda _: None)(activity)
            lines.append(f"{indent}  {item.label}: {value if value else TODO}")
    return lines


def notification_draft(activity: Activity, rules: Rules) -> str:
    """A draft prior notification of ``activity`` in the format of the rule table."""
    layout = rules.notification_format
    tripped = _notification_crossings(activity, rules)
    status, note = rules.zone_status(activity.country)
    lines = [
        f"DRAFT: prior notification of a military activity ({rules.cite(layout.paragraph)})",
        f"{rules.document} ({rules.symbol})",
        f"Notifying State: {activity.notifying_state}",
    ]
    if tripped:
        reasons = "; ".join(f"{'; '.join(map(str, c))} ({rules.cite(r.paragraph)})" for r, c in tripped)
        lines.append(f"Notifiable because: {reasons}")
    else:
        lines.append("Note: below every notification threshold of the rule table")
    for rule in rules.notice_periods:
        due = activity.start - timedelta(days=rule.days_before_start)
        lines.append(f"To be transmitted by: {due} ({rules.cite(rule.paragraph)})")
    if status != "whole":
        lines.append(f"Zone of application: {status} ({note}); confirm the location")
    return "\n".join([*lines, "", *_render(activity, layout)]) + "\n"


def calendar_draft(activities: Iterable[Activity], year: int, rules: Rules, notifying_state: str) -> str:
    """A draft annual calendar of ``notifying_state``'s notifiable activities starting in ``year``."""
    layout = rules.calendar_format
    listed = sorted(
        (
            a
            for a in activities
            if a.start.year == year
            and notifying_state in a.states
            and rules.zone_status(a.country)[0] != "outside"
            and _notification_crossings(a, rules)
        ),
        key=lambda a: (a.start, a.id),
    )
    lines = [
        f"DRAFT: annual calendar of military activities subject to prior notification, {year}",
        f"{rules.document} ({rules.symbol}); format {rules.cite(layout.paragraph)}",
        f"Participating State: {notifying_state}",
    ]
    for rule in rules.calendars:
        lines.append(f"To be exchanged by: {rule.due(year)} ({rules.cite(rule.paragraph)})")
    lines.append("")
    if not listed:
        lines.append(f"No military activities subject to prior notification are planned for {year}.")
    for number, activity in enumerate(listed, 1):
        lines.append(f"{number}. {activity.title} [{activity.id}]")
        status, note = rules.zone_status(activity.country)
        if status == "partial":
            lines.append(f"  Zone of application: confirm the location ({note})")
        lines.extend(_render(activity, layout, indent="  "))
    return "\n".join(lines) + "\n"
