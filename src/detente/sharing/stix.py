"""STIX 2.1 export of engagements and agreements, for partners running MISP or OpenCTI.

What a partner's platform receives, built with the ``stix2`` library:

- each **engagement** as a ``report`` (``report_types: ["detente-engagement"]``,
  ``published`` = its start date) whose ``object_refs`` are the actors involved;
- each **agreement** as a ``grouping`` (``context: "detente-agreement"``) of its parties;
- each **actor** they refer to as an ``identity`` (only actors the exporting user
  may see: a hidden partner is left out, never named);
- the exporting organisation as the ``identity`` that created them all.

Every object carries its markings as ``object_marking_refs``: the OASIS TLP 2.0
``marking-definition`` (its published id) and a ``statement`` marking-definition
of detente's banner (classification, REL TO, TLP: one per distinct banner, its id
derived from the banner), both included in the bundle. The full marking is also a
property extension of the object (classification level and scheme, REL TO, named
recipients, the banner) so a receiving detente needs no lookup; detente's own
fields (an engagement's kind, dates and forces, an actor's country) travel in a
second property extension. Both are described by ``extension-definition``
objects in the bundle: no custom ``x_`` property. A record with no TLP label
travels as TLP:AMBER+STRICT when it is releasable to its owner only, or TLP:AMBER
when it has a REL TO list (the extension says the label was implied), so a
receiving platform never treats it as freely shareable.

``created`` and ``modified`` are the record's own times, so exporting twice
gives the same object versions; a STIX consumer sees a new version only when the
record changed.

Ids are stable (UUIDv5 of the record id), so a second export updates the same
STIX objects in the partner's platform instead of duplicating them. Only records
visible to the exporting principal are read (through the registry service), and
the export is written to the audit trail.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import stix2  # type: ignore[import-untyped]
from sqlalchemy import select

from detente.core.errors import ValidationError
from detente.core.markings import Marking, derived_marking, parse, tlp_stix_id
from detente.sharing.tables import Organisation
from detente.store.reads import LINK_CHUNK
from detente.store.service import ListQuery, Store

__all__ = [
    "MARKING_EXTENSION_ID",
    "RECORD_EXTENSION_ID",
    "TLP_EXTENSION_ID",
    "effective_tlp",
    "export_stix",
    "marking_refs",
    "producer_id",
    "statement_id",
    "statement_marking_definition",
    "stix_bundle",
    "tlp_marking_definition",
]

NAMESPACE = uuid.UUID("5b3c0a52-6d1f-4c52-9a57-1f0de7e4d7a1")  # detente's STIX id namespace
TLP_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"  # OASIS TLP 2.0
TLP_CREATED = "2022-10-01T00:00:00.000Z"
MARKING_EXTENSION_ID = f"extension-definition--{uuid.uuid5(NAMESPACE, 'detente-marking-v1')}"
RECORD_EXTENSION_ID = f"extension-definition--{uuid.uuid5(NAMESPACE, 'detente-record-v1')}"
DEFINED = "2026-11-01T00:00:00.000Z"  # when detente's own definitions were written
DETENTE_IDENTITY_ID = f"identity--{uuid.uuid5(NAMESPACE, 'detente')}"
# STIX allows the schema as plain text explaining the definition (no URL to go stale)
SCHEMA = (
    "Property extension. banner (string): the detente marking banner, e.g. "
    "'SECRET//REL TO USA, GBR, NATO//TLP:AMBER'. classification (string): the level, in "
    "scheme (string: 'national' UNCLASSIFIED < RESTRICTED < CONFIDENTIAL < SECRET < TOP SECRET, or "
    "'nato' NATO UNCLASSIFIED < NATO RESTRICTED < NATO CONFIDENTIAL < NATO SECRET < COSMIC TOP "
    "SECRET). rel_to (list of string): ISO 3166 alpha-3 countries and coalition names the record "
    "is releasable to; absent means the owning organisation only. tlp (string): the TLP 2.0 label "
    "in object_marking_refs; tlp_implied (boolean): true when the record had no TLP label and "
    "detente chose AMBER (REL TO list) or AMBER+STRICT (owner only). recipients (list of "
    "string, optional): named recipients of TLP:RED."
)
RECORD_SCHEMA = (
    "Property extension. The detente record's own fields that STIX has no property for, "
    "each optional: record (string: actor, engagement, agreement or organisation); kind "
    "(string: an engagement's, agreement's or actor's kind); status (string); start_date, "
    "end_date, signed_on, in_force_on, expires_on, terminated_on (ISO 8601 dates); "
    "location_country, country (ISO 3166 alpha-3); location_place, abbreviation (string); "
    "troops, tanks, armoured_combat_vehicles, artillery, aircraft_sorties (integer); "
    "activity_types, aliases (list of string)."
)
TABLES = ("engagements", "agreements")
ENGAGEMENT_FIELDS = (
    "kind", "status", "start_date", "end_date", "location_country", "location_place",
    "troops", "tanks", "armoured_combat_vehicles", "artillery", "aircraft_sorties",
)  # fmt: skip
AGREEMENT_FIELDS = ("kind", "signed_on", "in_force_on", "expires_on", "terminated_on", "activity_types")


def _id(kind: str, key: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, key)}"


def producer_id(org_id: str) -> str:
    """The STIX id of the organisation ``org_id`` as the producer of what it exports."""
    return _id("identity", f"org:{org_id}")


def tlp_marking_definition(label: str) -> stix2.MarkingDefinition:
    """The OASIS TLP 2.0 marking-definition object for ``label`` (e.g. ``AMBER+STRICT``)."""
    return stix2.MarkingDefinition(
        id=tlp_stix_id(label),
        created=TLP_CREATED,
        name=f"TLP:{label}",
        extensions={TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": label.lower()}},
    )


def statement_marking_definition(banner: str) -> stix2.MarkingDefinition:
    """detente's banner as a STIX ``statement`` marking-definition (its id derived from the
    banner, so the same banner is the same object everywhere), with the marking extension."""
    marking = parse(banner)
    return stix2.MarkingDefinition(
        id=statement_id(marking.render()),
        created=DEFINED,
        created_by_ref=DETENTE_IDENTITY_ID,
        name=marking.render(),
        definition_type="statement",
        definition={"statement": marking.render()},
        extensions=_marking_extension(marking),
    )


def _record_extension_definition() -> stix2.ExtensionDefinition:
    return stix2.ExtensionDefinition(
        id=RECORD_EXTENSION_ID,
        created_by_ref=DETENTE_IDENTITY_ID,
        created=DEFINED,
        modified=DEFINED,
        name="detente record",
        description="The fields of a defense-diplomacy record (engagement, agreement, actor) "
        "that STIX has no property for.",
        schema=RECORD_SCHEMA,
        version="1.0.0",
        extension_types=["property-extension"],
    )


def _marking_extension_definition() -> stix2.ExtensionDefinition:
    return stix2.ExtensionDefinition(
        id=MARKING_EXTENSION_ID,
        created_by_ref=DETENTE_IDENTITY_ID,
        created=DEFINED,
        modified=DEFINED,
        name="detente marking",
        description=(
            "Classification and releasability of a defense-diplomacy record: the level and its "
            "scheme (national or NATO), REL TO countries (ISO 3166 alpha-3) and coalitions, "
            "TLP 2.0 label and named recipients, and the banner as the owner wrote it."
        ),
        schema=SCHEMA,
        version="1.0.0",
        extension_types=["property-extension"],
    )


def effective_tlp(marking: Marking) -> tuple[str, bool]:
    """The TLP label a record travels under, and whether it was implied."""
    if marking.tlp:
        return marking.tlp, False
    return ("AMBER" if marking.rel_to else "AMBER+STRICT"), True


def _marking_extension(marking: Marking) -> dict[str, Any]:
    tlp, implied = effective_tlp(marking)
    extension: dict[str, Any] = {
        "extension_type": "property-extension",
        "banner": marking.render(),
        "classification": marking.level_name,
        "scheme": marking.scheme,
        "tlp": tlp,
        "tlp_implied": implied,
    }
    if marking.rel_to:  # absent, never empty: owner organisation only
        extension["rel_to"] = sorted(marking.rel_to)
    if marking.recipients:
        extension["recipients"] = sorted(marking.recipients)
    return {MARKING_EXTENSION_ID: extension}


def statement_id(banner: str) -> str:
    """The id of the statement marking-definition of ``banner`` (derived from it)."""
    return _id("marking-definition", f"banner:{parse(banner).render()}")


def marking_refs(banner: str) -> list[str]:
    """The ``object_marking_refs`` of a record marked ``banner``: its TLP 2.0 definition and
    its statement definition."""
    return [tlp_stix_id(effective_tlp(parse(banner))[0]), statement_id(banner)]


def _marking_parts(banner: str) -> tuple[Marking, list[str], dict[str, Any], str]:
    marking = parse(banner)
    return marking, marking_refs(banner), _marking_extension(marking), effective_tlp(marking)[0]


def _stamp(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time(0), tzinfo=UTC)


def _custom(record: Any, fields: Iterable[str], kind: str, ext: dict[str, Any]) -> dict[str, Any]:
    """The object's ``extensions``: its marking's (``ext``) and the record's own fields."""
    out: dict[str, Any] = {"extension_type": "property-extension", "record": kind}
    for name in fields:
        value = getattr(record, name, None)
        if value is None or value == []:
            continue
        out[name] = value.isoformat() if isinstance(value, date) else value
    return {**ext, RECORD_EXTENSION_ID: out}


def _producer(registry: Store) -> stix2.Identity:
    """The exporting organisation as the identity that created every object."""
    principal = registry.principal
    org = registry.session.scalar(select(Organisation).where(Organisation.id == principal.org))
    stamp = _stamp(org.created_at) if org else DEFINED
    return stix2.Identity(
        id=producer_id(principal.org),
        created=stamp,
        modified=stamp,
        name=org.name if org else principal.org,
        identity_class="organization",
        sectors=["government-national", "defense"],
        extensions={
            RECORD_EXTENSION_ID: {
                "extension_type": "property-extension",
                "record": "organisation",
                "country": principal.country,
            }
        },
    )


def _involved(name: str, record: Any) -> list[str]:
    """The actor ids an engagement (lead and partners) or an agreement (parties) refers to."""
    if name == "engagements":
        return [record.lead_actor_id, *record.partners]
    return list(record.parties)


def _visible_actors(registry: Store, records: list[tuple[str, Any]]) -> dict[str, Any]:
    """The actors the records refer to that the principal may see: a reference to a hidden
    one is dropped, never described."""
    actor_ids: set[str] = set()
    for name, record in records:
        if name == "engagements":
            actor_ids.update(a for a in [record.lead_actor_id, *record.partners] if a)
        else:
            actor_ids.update(record.parties)
    wanted = sorted(actor_ids)
    return {
        a.id: a
        for start in range(0, len(wanted), LINK_CHUNK)
        for a in registry.list(
            "actors", ListQuery(filters={"id": wanted[start : start + LINK_CHUNK]}, limit=None)
        )
    }


def _actor_identity(
    actor: Any, producer: stix2.Identity, refs: list[str], ext: dict[str, Any]
) -> stix2.Identity:
    """An actor as a STIX ``identity`` (a person as an individual, others as organisations)."""
    return stix2.Identity(
        id=_id("identity", f"actor:{actor.id}"),
        created=_stamp(actor.created_at),
        modified=_stamp(actor.updated_at),
        created_by_ref=producer.id,
        name=actor.name,
        identity_class="individual" if actor.kind == "person" else "organization",
        sectors=["defense"] if actor.kind != "state" else ["government-national"],
        object_marking_refs=refs,
        extensions=_custom(actor, ("kind", "country", "abbreviation", "aliases"), "actor", ext),
        external_references=[{"source_name": "detente", "external_id": actor.id}],
    )


def _record_object(
    name: str,
    record: Any,
    actors: dict[str, Any],
    producer: stix2.Identity,
    refs: list[str],
    ext: dict[str, Any],
) -> Any:
    """An engagement as a ``report``, an agreement as a ``grouping``, of the visible actors involved."""
    shown = [_id("identity", f"actor:{a}") for a in _involved(name, record) if a in actors]
    object_refs = shown or [producer.id]
    common = {
        "created": _stamp(record.created_at),
        "modified": _stamp(record.updated_at),
        "created_by_ref": producer.id,
        "name": record.title,
        "description": record.objectives if name == "engagements" else record.notes,
        "object_refs": object_refs,
        "object_marking_refs": refs,
        "external_references": [{"source_name": "detente", "external_id": record.id}],
    }
    common = {k: v for k, v in common.items() if v}
    if name == "engagements":
        # report-type-ov "identity": a report characterising the identities it refers to
        return stix2.Report(
            id=_id("report", f"engagement:{record.id}"),
            report_types=["identity"],
            published=_stamp(record.start_date),
            extensions=_custom(record, ENGAGEMENT_FIELDS, "engagement", ext),
            **common,
        )
    return stix2.Grouping(
        id=_id("grouping", f"agreement:{record.id}"),
        context="unspecified",  # grouping-context-ov has no word for an agreement: the extension says
        extensions=_custom(record, AGREEMENT_FIELDS, "agreement", ext),
        **common,
    )


def header(tlps: Iterable[str], banners: Iterable[str]) -> list[Any]:
    """The objects a bundle opens with: detente, its extensions' definitions, and the TLP
    and statement marking-definitions used."""
    detente = stix2.Identity(
        id=DETENTE_IDENTITY_ID, created=DEFINED, modified=DEFINED, name="detente", identity_class="system"
    )
    return [
        detente,
        _marking_extension_definition(),
        _record_extension_definition(),
        *(tlp_marking_definition(t) for t in sorted(set(tlps))),
        *(statement_marking_definition(b) for b in sorted({parse(b).render() for b in banners})),
    ]


def stix_bundle(registry: Store, tables: Iterable[str] = TABLES) -> tuple[stix2.Bundle, Marking | None]:
    """The bundle of what ``registry``'s principal may see, and the combined marking of its content."""
    names = list(tables)
    unknown = [t for t in names if t not in TABLES]
    if unknown:
        raise ValidationError(
            f"STIX export covers {', '.join(TABLES)}, not {', '.join(unknown)}", field="table"
        )
    producer = _producer(registry)
    records = [(name, record) for name in names for record in registry.iter_all(name)]
    actors = _visible_actors(registry, records)
    objects: list[Any] = []
    markings: list[Marking] = []
    tlps: set[str] = set()
    banners: set[str] = set()
    for actor in actors.values():
        marking, refs, ext, tlp = _marking_parts(actor.marking)
        tlps.add(tlp)
        banners.add(actor.marking)
        markings.append(marking)
        objects.append(_actor_identity(actor, producer, refs, ext))
    for name, record in records:
        marking, refs, ext, tlp = _marking_parts(record.marking)
        tlps.add(tlp)
        banners.add(record.marking)
        markings.append(marking)
        objects.append(_record_object(name, record, actors, producer, refs, ext))
    bundle = stix2.Bundle(objects=[*header(tlps, banners), producer, *objects])
    return bundle, (derived_marking(markings) if markings else None)


def export_stix(registry: Store, out: Path, tables: Iterable[str] = TABLES) -> tuple[Path, Marking | None]:
    """Write the bundle to ``out`` (JSON) and record the export on the audit trail."""
    registry.require("export", "export records")
    names = list(tables)
    bundle, marking = stix_bundle(registry, names)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(bundle.serialize(pretty=True), encoding="utf-8")
    registry.record(
        "export",
        None,
        {
            "format": "stix",
            "tables": names,
            "files": [out.name],
            "rows": registry.counts(names),
            "objects": len(bundle.objects),
            "marking": marking.render() if marking else None,
        },
    )
    return out, marking
