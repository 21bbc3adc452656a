"""The engagement guard: an engagement with an actor whose vetting is missing, expired on
the engagement's dates, refused, suspended or still pending is flagged, never silently
blocked. The planner sees why; going ahead anyway is an override with a reason, recorded
in the audit trail.

Which actors need vetting: non-state actors (the taxonomy's ``non_state`` category) and
military units, as under the Leahy laws, which vet foreign security-force units. States,
ministries and organisations do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from detente.core.errors import ValidationError
from detente.registry.rules import open_statuses
from detente.registry.taxonomy import taxonomy
from detente.store.service import ListQuery, Store

__all__ = ["Finding", "check", "needs_vetting", "override"]

OPEN = open_statuses("engagement")  # engagements still being planned (the taxonomy's one list)


def needs_vetting(kind: str) -> bool:
    found = taxonomy().actor_kinds.get(kind)
    return kind == "unit" or (found is not None and found.category == "non_state")


@dataclass(frozen=True)
class Finding:
    engagement_id: str
    engagement: str
    actor_id: str
    actor: str
    problem: str  # missing, expired, refused, suspended, pending
    decision_id: str | None
    detail: str


def _latest(reg: Store, actor_id: str) -> Any | None:
    decisions = reg.list("vetting_decisions", ListQuery(filters={"actor_id": actor_id}, limit=None))
    return max(decisions, key=lambda d: (d.decided_on, d.created_at), default=None)


def check(reg: Store, engagement_id: str | None = None) -> list[Finding]:
    """Findings for one engagement, or for every engagement still being planned."""
    if engagement_id:
        engagements = [
            reg.get("engagements", reg.resolve_ref("engagements", engagement_id, field="engagement"))
        ]
    else:
        engagements = [e for e in reg.list("engagements", ListQuery(limit=None)) if e.status in OPEN]
    out = []
    for e in engagements:
        ends = e.end_date or e.start_date
        for actor_id in dict.fromkeys([e.lead_actor_id, *e.partners]):
            actor = reg.get("actors", actor_id)
            if not needs_vetting(actor.kind):
                continue
            d = _latest(reg, actor_id)
            if d is None:
                problem, detail = "missing", "no vetting decision you may see"
            elif d.outcome in ("refused", "suspended", "pending"):
                problem, detail = d.outcome, f"decided {d.decided_on}"
            elif d.valid_until < ends:
                problem, detail = "expired", f"valid until {d.valid_until}, the engagement runs to {ends}"
            else:
                continue
            out.append(Finding(e.id, e.title, actor_id, actor.name, problem, d.id if d else None, detail))
    return out


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
