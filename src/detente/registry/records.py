"""The registry's record types, declared once and registered with the store kernel:
actors, people (attachés), agreements, engagements and commitments.

Everything else about them (their CLI verbs, API routes, web pages, import and
export) is generated from these declarations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, select

from detente.core.errors import ValidationError
from detente.registry import tables as t
from detente.registry.models import (
    ActorFields,
    AgreementFields,
    CommitmentFields,
    CommitmentPublicBase,
    EngagementFields,
    PersonFields,
)
from detente.registry.taxonomy import taxonomy
from detente.store.reads import Reader
from detente.store.records import Link, RecordType, register

__all__ = ["ACTORS", "AGREEMENTS", "COMMITMENTS", "ENGAGEMENTS", "PEOPLE"]


def _parent_chain(store: Reader, data: Mapping[str, Any]) -> None:
    """An actor sits under a parent of an allowed kind, and never under itself."""
    if not data.get("parent_id"):
        return
    parent = store.session.get(t.Actor, data["parent_id"])
    kind = taxonomy().actor_kinds[data["kind"]]
    if kind.parents and parent is not None and parent.kind not in kind.parents:
        raise ValidationError(
            f"a {data['kind']} cannot sit under a {parent.kind} (allowed parents: {', '.join(kind.parents)})",
            field="parent_id",
        )
    seen = {data.get("id")}
    node = parent
    while node is not None:
        if node.id in seen:
            raise ValidationError("parent chain makes a cycle", field="parent_id")
        seen.add(node.id)
        node = store.session.get(t.Actor, node.parent_id) if node.parent_id else None


def _state_of_country(store: Reader, token: str, field: str | None) -> str | None:
    """A country (a name in any language, ISO or COW code) names its state actor."""
    from detente.core.countries import resolve

    try:
        iso3 = resolve(token).iso3
    except Exception:
        return None
    if not iso3:
        return None
    state = store.session.scalar(
        select(t.Actor.id)
        .where(and_(t.Actor.kind == "state", t.Actor.country == iso3), store.visible(t.Actor))
        .limit(1)
    )
    if state:
        return str(state)
    raise ValidationError(
        f"no state actor for {iso3} yet: add it with `detente actors add --kind state --country {iso3} NAME`",
        field=field,
    )


ACTORS = RecordType(
    name="actors",
    singular="actor",
    slice="registry",
    rank=10,
    description="States, ministries, armed services and units, organisations, non-state actors.",
    table=t.Actor,
    fields_model=ActorFields,
    title_field="name",
    natural_key=("kind", "name", "country"),
    filters=("kind", "country", "parent_id", "external_id"),
    refs={"parent_id": "actors"},
    list_fields=("aliases",),
    order="name",
    checks=(_parent_chain,),
    resolvers=(_state_of_country,),
    cli_names={"parent_id": "parent", "aliases": "alias"},
    example={"name": "Ghana Navy", "kind": "armed_service", "country": "GHA", "aliases": ["GN"]},
)

PEOPLE = RecordType(
    name="people",
    singular="person",
    slice="registry",
    rank=20,
    description="Attachés and liaison officers: posts, accreditation and immunity.",
    table=t.Person,
    fields_model=PersonFields,
    title_field="name",
    natural_key=("name", "sending_state", "receiving_state", "role"),
    filters=(
        "role",
        "sending_state",
        "receiving_state",
        "accreditation_status",
        "organisation_id",
        "external_id",
    ),
    refs={"organisation_id": "actors"},
    lifecycle=("accreditation_status", taxonomy().lifecycles["accreditation"]),
    date_field="start_date",
    order="start_date",
    aliases=("attaches", "attache"),
    cli_names={
        "sending_state": "sending",
        "receiving_state": "receiving",
        "organisation_id": "organisation",
        "accreditation_status": "status",
        "immunity_basis": "immunity",
        "start_date": "start",
        "end_date": "end",
    },
    example={
        "name": "Col. Amara Okafor",
        "sending_state": "GHA",
        "receiving_state": "FRA",
        "role": "defense_attache",
        "start_date": "2025-09-01",
    },
)

AGREEMENTS = RecordType(
    name="agreements",
    singular="agreement",
    slice="registry",
    rank=30,
    description="Defense cooperation agreements, SOFAs, MOUs, treaties, mandates.",
    table=t.Agreement,
    fields_model=AgreementFields,
    title_field="title",
    natural_key=("kind", "title"),
    filters=("kind", "external_id"),
    links={"parties": Link(t.AgreementParty, "agreement_id")},
    list_fields=("parties", "activity_types"),
    date_field="signed_on",
    order="signed_on",
    cli_names={
        "parties": "party",
        "signed_on": "signed",
        "in_force_on": "in-force",
        "expires_on": "expires",
        "terminated_on": "terminated",
        "activity_types": "covers",
    },
    example={
        "title": "Defence cooperation agreement France-Ghana",
        "kind": "defense_cooperation_agreement",
        "parties": ["@actors", "@actors"],
        "signed_on": "2024-05-01",
    },
)

ENGAGEMENTS = RecordType(
    name="engagements",
    singular="engagement",
    slice="registry",
    rank=40,
    description="Exercises, visits, dialogues, training, port calls... and their lifecycle.",
    table=t.Engagement,
    fields_model=EngagementFields,
    title_field="title",
    natural_key=("title", "start_date"),
    filters=("kind", "status", "lead_actor_id", "agreement_id", "location_country", "external_id"),
    refs={"lead_actor_id": "actors", "agreement_id": "agreements"},
    links={
        "partners": Link(t.EngagementPartner, "engagement_id"),
        "people": Link(t.EngagementPerson, "engagement_id", "people", "person_id"),
    },
    lifecycle=("status", taxonomy().lifecycles["engagement"]),
    list_fields=("partners", "people"),
    date_field="start_date",
    order="start_date",
    cli_names={
        "lead_actor_id": "lead",
        "partners": "partner",
        "people": "person",
        "agreement_id": "agreement",
        "start_date": "start",
        "end_date": "end",
        "location_country": "country",
        "location_place": "place",
        "armoured_combat_vehicles": "acv",
        "aircraft_sorties": "sorties",
        "amphibious_airborne_troops": "amphibious-troops",
        "host_consent_on": "host-consent",
        "host_consent_reference": "host-consent-ref",
        "vd_notified_on": "vd-notified",
        "vd_calendar_on": "vd-calendar",
    },
    example={
        "title": "Maritime staff talks 2026",
        "kind": "defense_dialogue",
        "lead_actor_id": "@actors",
        "start_date": "2026-02-11",
        "location_country": "GHA",
    },
)

COMMITMENTS = RecordType(
    name="commitments",
    singular="commitment",
    slice="registry",
    rank=50,
    description="Promises made in engagements, tracked to their due dates.",
    table=t.Commitment,
    fields_model=CommitmentFields,
    public_base=CommitmentPublicBase,
    title_field="description",
    natural_key=("engagement_id", "committed_by_id", "description"),
    filters=("status", "engagement_id", "committed_by_id", "external_id"),
    refs={"engagement_id": "engagements", "committed_by_id": "actors"},
    lifecycle=("status", taxonomy().lifecycles["commitment"]),
    date_field="due_on",
    order="due_on",
    cli_names={"engagement_id": "engagement", "committed_by_id": "by", "due_on": "due"},
    example={
        "description": "Send a mobile training team",
        "engagement_id": "@engagements",
        "committed_by_id": "@actors",
        "due_on": "2026-06-30",
    },
)

register(ACTORS, PEOPLE, AGREEMENTS, ENGAGEMENTS, COMMITMENTS)
