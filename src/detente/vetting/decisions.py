"""Vetting decisions: the officer's recorded judgement about one registry actor or person.

A decision is a marked registry record (``vetting_decisions``), so it is shared, hidden and
audited like any other. ``decide`` screens the subject against the lists loaded now and
keeps the candidates and list versions with the decision: the evidence it rested on.
``review`` says where each decision stands on a day (valid, expired, refused, suspended,
pending) and flags a decision whose subject now matches a listed entity that was not
among its candidates when it was decided (a new listing, or a new list loaded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from detente.core.errors import NotFoundError, ValidationError
from detente.store.service import ListQuery, Store
from detente.vetting.batch import actor_subject, person_subject
from detente.vetting.match import Match, Subject
from detente.vetting.screen import Screener

__all__ = ["Review", "decide", "review", "subject_of"]

RECORDED = 0.5  # candidates at or above this score are kept with the decision


def subject_of(reg: Store, actor_id: str | None, person_id: str | None) -> Subject:
    """The screening subject for a registry actor or person."""
    if person_id:
        return person_subject(reg.get("people", person_id))
    assert actor_id is not None
    return actor_subject(reg.get("actors", actor_id))


def _lines(matches: list[Match]) -> str:
    return "\n".join(
        f"{m.listed.key}\t{m.score:.3f}\t{m.listed.name}" for m in matches if m.score >= RECORDED
    )


def decide(
    reg: Store, screener: Screener, *, actor: str | None = None, person: str | None = None,
    outcome: str, checklist: list[str] | None = None, **fields: Any,
) -> Any:  # fmt: skip
    """Record a decision about an actor or person (id, external id or name), with the
    screening made now."""
    if (actor is None) == (person is None):
        raise ValidationError("name the subject: an actor or a person (one of them)", field="subject")
    actor_id = reg.resolve_ref("actors", actor, field="actor") if actor else None
    person_id = reg.resolve_ref("people", person, field="person") if person else None
    subject = subject_of(reg, actor_id, person_id)
    found = screener.screen(subject, limit=10, minimum=RECORDED)
    lists = "; ".join(f"{k} {v}" for k, v in screener.versions.items())
    data = {
        "subject_name": subject.name, "actor_id": actor_id, "person_id": person_id, "outcome": outcome,
        "checklist": checklist or [], "screened_lists": lists, "screening": _lines(found) or None,
        **{k: v for k, v in fields.items() if v is not None},
    }  # fmt: skip
    return reg.create("vetting_decisions", data)


@dataclass
class Review:
    decision: Any
    standing: str
    new_matches: list[Match] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return bool(self.new_matches)


def review(reg: Store, screener: Screener, on: date | None = None) -> list[Review]:
    """Every decision the user may see, latest first per subject, with its standing on
    ``on`` and the listed entities its subject newly matches."""
    out = []
    for d in reg.list("vetting_decisions", ListQuery(limit=None)):
        known = {line.split("\t")[0] for line in (d.screening or "").splitlines() if line}
        try:
            subject = subject_of(reg, d.actor_id, d.person_id)
        except (
            NotFoundError,
            ValidationError,
        ):  # the subject is not releasable to this user: screen the recorded name
            subject = Subject(d.subject_name)
        new = [m for m in screener.screen(subject, limit=10) if m.matched and m.listed.key not in known]
        if d.outcome == "refused":  # a new listing changes nothing for a refused subject
            new = []
        out.append(Review(d, d.standing(on), new))
    out.sort(key=lambda r: (r.decision.subject_name, r.decision.decided_on), reverse=True)
    return out
