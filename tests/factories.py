"""Tiny factories: one valid record of each kind, overridable field by field."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from detente.core.markings import Principal
from detente.sharing.service import Sharing
from detente.store.service import Store


def state(reg: Store, iso3: str = "FRA", name: str | None = None, **kw: Any) -> Any:
    return reg.create("actors", {"name": name or f"State {iso3}", "kind": "state", "country": iso3, **kw})


def ministry(reg: Store, parent: Any, **kw: Any) -> Any:
    return reg.create(
        "actors",
        {
            "name": f"Ministry of Defence ({parent.country})",
            "kind": "defense_ministry",
            "country": parent.country,
            "parent_id": parent.id,
            **kw,
        },
    )


def agreement(reg: Store, a: Any, b: Any, **kw: Any) -> Any:
    data = {
        "title": f"DCA {a.country}-{b.country}",
        "kind": "defense_cooperation_agreement",
        "parties": [a.id, b.id],
        "signed_on": date(2020, 5, 1),
    }
    return reg.create("agreements", {**data, **kw})


def engagement(reg: Store, lead: Any, partners: list[Any] | None = None, **kw: Any) -> Any:
    data = {
        "title": "Staff talks",
        "kind": "defense_dialogue",
        "lead_actor_id": lead.id,
        "partners": [p.id for p in partners or []],
        "start_date": date(2025, 3, 4),
    }
    return reg.create("engagements", {**data, **kw})


def person(reg: Store, **kw: Any) -> Any:
    data = {
        "name": "Amara Okafor",
        "sending_state": "GHA",
        "receiving_state": "FRA",
        "role": "defense_attache",
    }
    return reg.create("people", {**data, **kw})


def commitment(reg: Store, eng: Any, by: Any, **kw: Any) -> Any:
    data = {
        "engagement_id": eng.id,
        "committed_by_id": by.id,
        "description": "Send a mobile training team",
        "due_on": date(2025, 9, 1),
    }
    return reg.create("commitments", {**data, **kw})


FULL = {"national": "TOP SECRET", "nato": "COSMIC TOP SECRET"}


def admin(session: Session) -> Principal:
    """The workspace's first administrator, its operator (created, with its organisation, if none yet)."""
    sharing = Sharing(session)
    users = sharing.users()
    if users:
        return sharing.principal(users[0].username)
    org = sharing.add_org("Test Ministry of Defence", "FRA", actor=None)
    sharing.add_user("tester", org.id, role="operator", clearances=FULL, password=None, actor=None)
    return sharing.principal("tester")


def registry(session: Session) -> Store:
    return Store(session, admin(session))


PASSWORD = "correct horse battery staple"


def two_organisations(session: Session) -> dict[str, Any]:
    """Two organisations that share some things and not others: GBR (an administrator and
    a planner) and KEN (an analyst); public state actors for GBR, KEN and FRA."""
    sharing = Sharing(session)
    gbr = sharing.add_org("Ministry of Defence (United Kingdom)", "GBR", actor=None)
    sharing.add_user("gbr-admin", gbr.id, role="operator", clearances=FULL, password=PASSWORD, actor=None)
    boss = sharing.principal("gbr-admin")
    ken = sharing.add_org("Ministry of Defence (Kenya)", "KEN", actor=boss)
    secret = {"national": "SECRET"}
    sharing.add_user("gbr-planner", gbr.id, role="planner", clearances=secret, password=PASSWORD, actor=boss)
    sharing.add_user(
        "ken-admin", ken.id, role="administrator", clearances=secret, password=PASSWORD, actor=boss
    )
    sharing.add_user(
        "ken-analyst", ken.id, role="analyst", clearances=secret, password=PASSWORD,
        actor=sharing.principal("ken-admin"),
    )  # fmt: skip
    reg = Store(session, sharing.principal("gbr-planner"))
    public = "UNCLASSIFIED//TLP:CLEAR"
    states = {c: state(reg, c, name=n, marking=public) for c, n in
              (("GBR", "United Kingdom"), ("KEN", "Kenya"), ("FRA", "France"))}  # fmt: skip
    return {"states": states, "gbr": gbr, "ken": ken}


def clerk(session: Session, org: Any, username: str = "gbr-clerk") -> Principal:
    """A user of ``org`` cleared to CONFIDENTIAL only (so a SECRET record is not theirs)."""
    sharing = Sharing(session)
    boss = sharing.principal("gbr-admin")
    sharing.add_user(
        username,
        org.id,
        role="analyst",
        clearances={"national": "CONFIDENTIAL"},
        password=PASSWORD,
        actor=boss,
    )
    return sharing.principal(username)
