"""The engagement guard: an engagement with an actor whose vetting is missing, expired on
the engagement's dates, refused, suspended or still pending is flagged, never silently
blocked. The planner sees why; going ahead anyway is an override with a reason, recorded
in the audit trail.

Which actors need vetting is data (``guard.yaml``): each rule says whose engagements it
governs (the lead's country), which actors it applies to (kinds or categories), whether
only foreign ones, and on which kinds of engagement. The Leahy laws, for instance, apply
to foreign security-force units in engagements the United States leads (its assistance),
not to a state's own units; due diligence on non-state actors applies to every lead. An
actor no rule applies to is flagged only when a decision on record refuses or suspends it.
The planning board shows these findings, so both follow the one file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from detente.core.errors import ConfigError, NotFoundError, ValidationError
from detente.registry.rules import open_statuses
from detente.registry.taxonomy import taxonomy
from detente.store.service import ListQuery, Store

__all__ = ["Finding", "Rule", "applicable", "check", "needs_vetting", "override", "rules"]

OPEN = open_statuses("engagement")  # engagements still being planned (the taxonomy's one list)
SOURCE = Path(__file__).with_name("guard.yaml")
RECORDED = "recorded_decision"  # no rule applies, but a decision on record refuses or suspends the actor


@dataclass(frozen=True)
class Rule:
    """A vetting requirement: who applies it (lead countries), to which actors, on what."""

    rule: str
    title: str
    basis: str
    applied_by: frozenset[str]  # empty: every lead
    actor_kinds: frozenset[str]
    actor_categories: frozenset[str]
    foreign_only: bool
    engagement_kinds: frozenset[str]  # empty: every kind

    def covers_kind(self, actor_kind: str) -> bool:
        """Whether actors of ``actor_kind`` are ever vetted under this rule."""
        found = taxonomy().actor_kinds.get(actor_kind)
        return actor_kind in self.actor_kinds or (
            found is not None and found.category in self.actor_categories
        )

    def applies(
        self, lead_country: str | None, actor_kind: str, actor_country: str | None, kind: str
    ) -> bool:
        """Whether an actor of ``actor_kind`` from ``actor_country`` must be vetted under this
        rule in an engagement of ``kind`` led from ``lead_country``."""
        if self.applied_by and lead_country not in self.applied_by:
            return False
        if self.engagement_kinds and kind not in self.engagement_kinds:
            return False
        if not self.covers_kind(actor_kind):
            return False
        # a unit of no known country cannot be shown to be the lead's own: it counts as foreign
        return not (self.foreign_only and lead_country is not None and actor_country == lead_country)


@cache
def rules(path: Path | None = None) -> tuple[Rule, ...]:
    """The vetting rules of ``path`` (``guard.yaml`` by default); a malformed file is a
    ``ConfigError`` naming the file, the rule and the field."""
    source = path or SOURCE
    try:
        data: Any = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML ({exc})") from None
    out = []
    for n, spec in enumerate(data.get("rules") or []):
        where = f"rules[{n}] ({spec.get('rule', '?') if isinstance(spec, dict) else '?'})"
        try:
            kinds = {k: frozenset(str(x) for x in spec.get(k) or ()) for k in
                     ("applied_by", "actor_kinds", "actor_categories", "engagement_kinds")}  # fmt: skip
            rule = Rule(str(spec["rule"]), str(spec["title"]), str(spec["basis"]), kinds["applied_by"],
                        kinds["actor_kinds"], kinds["actor_categories"], bool(spec["foreign_only"]),
                        kinds["engagement_kinds"])  # fmt: skip
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{source}: {where}: missing or malformed field {exc}") from None
        unknown = rule.actor_kinds - set(taxonomy().actor_kinds) | rule.engagement_kinds - set(
            taxonomy().engagement_kinds
        )
        if unknown:
            raise ConfigError(f"{source}: {where}: unknown kind(s) {', '.join(sorted(unknown))}")
        out.append(rule)
    if not out:
        raise ConfigError(f"{source}: no rules")
    return tuple(out)


def applicable(
    lead_country: str | None, actor_kind: str, actor_country: str | None, kind: str
) -> Rule | None:
    """The first rule under which an actor must be vetted in an engagement, or None."""
    return next((r for r in rules() if r.applies(lead_country, actor_kind, actor_country, kind)), None)


def needs_vetting(kind: str) -> bool:
    """Whether actors of ``kind`` are vetted under some rule (for some lead and engagement)."""
    return any(r.covers_kind(kind) for r in rules())


@dataclass(frozen=True)
class Finding:
    engagement_id: str
    engagement: str
    actor_id: str
    actor: str
    problem: str  # missing, expired, refused, suspended, pending
    decision_id: str | None
    detail: str
    rule: str = ""  # the rule that requires the vetting, or "recorded_decision"
    basis: str = ""


class _Reads:
    """What the guard reads, once per check: the actors it meets and the latest decision
    about each actor (the reader's, as everything here)."""

    def __init__(self, reg: Store) -> None:
        self.reg = reg
        self.actors: dict[str, Any] = {}
        self.latest: dict[str, Any] = {}
        for d in reg.list("vetting_decisions", ListQuery(limit=None)):
            if d.actor_id and (
                d.actor_id not in self.latest
                or (d.decided_on, d.created_at)
                > (self.latest[d.actor_id].decided_on, self.latest[d.actor_id].created_at)
            ):
                self.latest[d.actor_id] = d

    def actor(self, actor_id: str) -> Any:
        if actor_id not in self.actors:
            self.actors[actor_id] = self.reg.get("actors", actor_id)
        return self.actors[actor_id]

    def country(self, actor: Any) -> str | None:
        """An actor's country, or that of the nearest parent with one (a unit under its army)."""
        seen: set[str] = set()
        while actor is not None and actor.country is None and actor.parent_id and actor.id not in seen:
            seen.add(actor.id)
            try:
                actor = self.actor(actor.parent_id)
            except NotFoundError:
                return None
        return actor.country if actor is not None else None


def _problem(d: Any | None, ends: Any) -> tuple[str, str] | None:
    """What is wrong with the latest decision for the engagement's dates, if anything."""
    if d is None:
        return "missing", "no vetting decision you may see"
    if d.outcome in ("refused", "suspended", "pending"):
        return d.outcome, f"decided {d.decided_on}"
    if d.valid_until < ends:
        return "expired", f"valid until {d.valid_until}, the engagement runs to {ends}"
    return None


def _engagement_findings(reads: _Reads, e: Any) -> list[Finding]:
    out = []
    ends = e.end_date or e.start_date
    lead_country = reads.country(reads.actor(e.lead_actor_id))
    for actor_id in dict.fromkeys([e.lead_actor_id, *e.partners]):
        actor = reads.actor(actor_id)
        rule = applicable(lead_country, actor.kind, reads.country(actor), e.kind)
        d = reads.latest.get(actor_id)
        found = _problem(d, ends)
        if found is None or (rule is None and found[0] not in ("refused", "suspended")):
            continue
        name, basis = (
            (rule.rule, rule.basis)
            if rule
            else (RECORDED, "A vetting decision on record refuses or suspends this actor")
        )
        out.append(Finding(e.id, e.title, actor_id, actor.name, *found[:1], d.id if d else None, found[1],
                           name, basis))  # fmt: skip
    return out


def check(reg: Store, engagement_id: str | None = None) -> list[Finding]:
    """Findings for one engagement, or for every engagement still being planned."""
    if engagement_id:
        engagements = [
            reg.get("engagements", reg.resolve_ref("engagements", engagement_id, field="engagement"))
        ]
    else:
        engagements = [e for e in reg.list("engagements", ListQuery(limit=None)) if e.status in OPEN]
    reads = _Reads(reg)
    return [f for e in engagements for f in _engagement_findings(reads, e)]


def override(reg: Store, engagement_id: str, reason: str) -> list[Finding]:
    """Go ahead despite the findings: the reason and the findings go to the audit trail."""
    reason = " ".join(reason.split())
    if len(reason) < 10:
        raise ValidationError("give the reason for going ahead (at least 10 characters)", field="reason")
    found = check(reg, engagement_id)
    if not found:
        raise ValidationError(
            "nothing to override: the engagement has no vetting findings", field="engagement"
        )
    reg.record(
        "vetting.override",
        "engagements",
        {"reason": reason, "findings": [f"{f.actor}: {f.problem} ({f.detail})" for f in found]},
        record_id=found[0].engagement_id,
    )
    return found
