"""Coalitions: named groups of countries (NATO, FVEY, AU...) that REL TO lists may name.

Membership is dated: a country belongs to a coalition from the day it joined until the
day before it left, and an organisation's users read what is released to the coalitions
its country belongs to today. detente ships the membership of the coalitions it knows,
with their accession dates (``coalitions.yaml``); a workspace's operator may extend it,
and every change is kept (``coalition_changes``, and the audit trail) for every
administrator to see. Who may change a coalition is the sharing service's rule; this
module keeps the data and must not decide permissions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from detente.core.errors import ValidationError
from detente.sharing.tables import Coalition, CoalitionChange, CoalitionMember

__all__ = [
    "Shipped",
    "affects",
    "check_name",
    "history",
    "install_shipped",
    "members",
    "membership",
    "of_country",
    "set_members",
    "shipped",
]

SOURCE = Path(__file__).with_name("coalitions.yaml")


@dataclass(frozen=True)
class Shipped:
    """A coalition as detente ships it: its members' (joined, left) dates, and the source."""

    name: str
    label: str
    source: str
    members: dict[str, tuple[date, date | None]]


@cache
def shipped() -> dict[str, Shipped]:
    data: dict[str, Any] = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    out: dict[str, Shipped] = {}
    for name, spec in data.items():
        left = {c: day for day, countries in (spec.get("left") or {}).items() for c in countries}
        joined = {c: day for day, countries in spec["members"].items() for c in countries}
        out[name] = Shipped(
            name, spec["label"], spec["source"], {c: (day, left.get(c)) for c, day in sorted(joined.items())}
        )
    return out


def today() -> date:
    return datetime.now(UTC).date()


def _member_on(on: date | ColumnElement[date]) -> ColumnElement[bool]:
    """Membership on ``on`` (a date, or a bound parameter for a statement built once)."""
    return and_(
        or_(CoalitionMember.joined_on.is_(None), CoalitionMember.joined_on <= on),
        or_(CoalitionMember.left_on.is_(None), CoalitionMember.left_on > on),
    )


def members(session: Session, on: date | None = None) -> dict[str, set[str]]:
    """Each coalition's member countries on ``on`` (default: today)."""
    out: dict[str, set[str]] = {c: set() for c in session.scalars(select(Coalition.name))}
    rows = session.execute(
        select(CoalitionMember.coalition, CoalitionMember.country).where(_member_on(on or today()))
    )
    for name, country in rows:
        out[name].add(country)
    return out


def of_country(session: Session, country: str, on: date | None = None) -> frozenset[str]:
    """The coalitions ``country`` belongs to on ``on`` (default: today)."""
    return frozenset(
        session.scalars(
            select(CoalitionMember.coalition).where(
                CoalitionMember.country == country, _member_on(on or today())
            )
        )
    )


def membership(session: Session) -> dict[str, tuple[str, list[CoalitionMember]]]:
    """Each coalition's label and every membership it records, past and future too."""
    out: dict[str, tuple[str, list[CoalitionMember]]] = {
        c.name: (c.label, []) for c in session.scalars(select(Coalition).order_by(Coalition.name))
    }
    rows = session.scalars(
        select(CoalitionMember).order_by(CoalitionMember.coalition, CoalitionMember.country)
    )
    for row in rows:
        out[row.coalition][1].append(row)
    return out


def check_name(name: str) -> str:
    key = name.strip().upper()
    if not key or len(key) == 3 or len(key) > 32 or not key.replace("-", "").replace("_", "").isalnum():
        raise ValidationError(
            "a coalition name is letters/digits, not 3 letters long (3-letter names are countries)",
            field="name",
        )
    return key


def _change(actor: str, coalition: str, change: str, **kw: Any) -> CoalitionChange:
    return CoalitionChange(at=datetime.now(UTC), actor=actor, coalition=coalition, change=change, **kw)


def install_shipped(session: Session, actor: str) -> list[CoalitionChange]:
    """Put the shipped coalitions into a workspace that has none (its first organisation)."""
    if session.scalar(select(Coalition.name).limit(1)) is not None:
        return []
    changes = []
    for spec in shipped().values():
        session.add(Coalition(name=spec.name, label=spec.label))
        session.flush()
        session.add_all(
            CoalitionMember(coalition=spec.name, country=c, joined_on=joined, left_on=left)
            for c, (joined, left) in spec.members.items()
        )
        changes.append(_change(actor, spec.name, "created", note=f"shipped with detente; {spec.source}"))
    session.add_all(changes)
    session.flush()
    return changes


def set_members(
    session: Session, name: str, label: str | None, countries: Iterable[str], *, on: date, actor: str
) -> list[CoalitionChange]:
    """Make ``countries`` the members of coalition ``name`` from ``on``: those not members
    on that day join then, members not named leave then. Returns the changes it made
    (none when nothing differs); the caller decides who may, and audits."""
    name = check_name(name)
    wanted = set(countries)
    coalition = session.get(Coalition, name)
    changes = []
    if coalition is None:
        session.add(Coalition(name=name, label=label or name))
        session.flush()
        changes.append(_change(actor, name, "created", note=label or name))
    elif label and label != coalition.label:
        changes.append(_change(actor, name, "relabelled", note=f"{coalition.label} -> {label}"))
        coalition.label = label
    rows = {
        row.country: row
        for row in session.scalars(select(CoalitionMember).where(CoalitionMember.coalition == name))
    }
    current = members(session, on).get(name, set())
    for country in sorted(wanted - current):
        row = rows.get(country)
        if row is None:
            session.add(CoalitionMember(coalition=name, country=country, joined_on=on))
        else:  # joins again, or a future accession brought forward
            row.joined_on, row.left_on = on, None
        changes.append(_change(actor, name, "joined", country=country, effective_on=on))
    for country in sorted(current - wanted):
        rows[country].left_on = on
        changes.append(_change(actor, name, "left", country=country, effective_on=on))
    session.add_all(changes)
    session.flush()
    return changes


def history(session: Session, limit: int = 500) -> list[CoalitionChange]:
    """The latest changes of membership, newest first."""
    return list(
        session.scalars(
            select(CoalitionChange).order_by(CoalitionChange.at.desc(), CoalitionChange.id).limit(limit)
        )
    )


def affects(change: CoalitionChange, country: str, current: dict[str, set[str]]) -> bool:
    """Whether a change concerns an organisation of ``country``: its own country joined or
    left, or it is a member (what it released to the coalition now reaches others)."""
    return change.country == country or country in current.get(change.coalition, set())
