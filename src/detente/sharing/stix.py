"""STIX 2.1 export of engagements and agreements, for partners running MISP or OpenCTI.

What a partner's platform receives, built with the ``stix2`` library:

- each **engagement** as a ``report`` (``report_types: ["detente-engagement"]``,
  ``published`` = its start date) whose ``object_refs`` are the actors involved;
- each **agreement** as a ``grouping`` (``context: "detente-agreement"``) of its parties;
- each **actor** they refer to as an ``identity`` (only actors the exporting user
  may see: a hidden partner is left out, never named);
- the exporting organisation as the ``identity`` that created them all.

Every object carries its TLP 2.0 marking as ``object_marking_refs`` pointing at
the OASIS TLP 2.0 ``marking-definition`` objects (their published ids, included in
the bundle), and the full detente marking (classification level and scheme, REL
TO, named recipients, the banner) in a property extension described by an
``extension-definition`` in the bundle. A record with no TLP label travels as
TLP:AMBER+STRICT when it is releasable to its owner only, or TLP:AMBER when it
has a REL TO list (the extension says the label was implied), so a receiving
platform never treats it as freely shareable.

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

__all__ = ["MARKING_EXTENSION_ID", "TLP_EXTENSION_ID", "export_stix", "stix_bundle", "tlp_marking_definition"]

NAMESPACE = uuid.UUID("5b3c0a52-6d1f-4c52-9a57-1f0de7e4d7a1")  # detente's STIX id namespace
TLP_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"  # OASIS TLP 2.0
TLP_CREATED = "2022-10-01T00:00:00.000Z"
MARKING_EXTENSION_ID = f"extension-definition--{uuid.uuid5(NAMESPACE, 'detente-marking-v1')}"
DETENTE_IDENTITY_ID = f"identity--{uuid.uuid5(NAMESPACE, 'detente')}"
# STIX allows the schema as plain text explaining the definition (no URL to go stale)
SCHEMA = (
    "Property extension. banner (string): the detente marking banner, e.g. "
    "'SECRET//REL TO USA, GBR, NATO//TLP:AMBER'. classification (string): the level, in "
    "scheme (string: 'national' UNCLASSIFIED < RESTRICTED < CONFIDENTIAL < SECRET < TOP SECRET, or "
    "'nato' NATO UNCLASSIFIED < NATO RESTRICTED < NATO CONFIDENTIAL < NATO SECRET < COSMIC TOP "
    "SECRET). rel_to (list of string): ISO 3166 alpha-3 countries and coalition names the record "
    "is releasable to; empty means the owning organisation only. tlp (string): the TLP 2.0 label "
    "in object_marking_refs; tlp_implied (boolean): true when the record had no TLP label and "
    "detente chose AMBER (REL TO list) or AMBER+STRICT (owner only). recipients (list of "
    "string, optional): named recipients of TLP:RED."
)
TABLES = ("engagements", "agreements")
ENGAGEMENT_FIELDS = (
    "kind", "status", "start_date", "end_date", "location_country", "location_place",
    "troops", "tanks", "armoured_combat_vehicles", "artillery", "aircraft_sorties",
)  # fmt: skip
AGREEMENT_FIELDS = ("kind", "signed_on", "in_force_on", "expires_on", "terminated_on", "activity_types")


def _id(kind: str, key: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, key)}"


def tlp_marking_definition(label: str) -> stix2.MarkingDefinition:
    """The OASIS TLP 2.0 marking-definition object for ``label`` (e.g. ``AMBER+STRICT``)."""
    return stix2.MarkingDefinition(
        id=tlp_stix_id(label),
        created=TLP_CREATED,
        name=f"TLP:{label}",
        extensions={TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": label.lower()}},
    )


def _marking_extension_definition() -> stix2.ExtensionDefinition:
    return stix2.ExtensionDefinition(
        id=MARKING_EXTENSION_ID,
        created_by_ref=DETENTE_IDENTITY_ID,
        created="2026-11-01T00:00:00.000Z",
        modified="2026-11-01T00:00:00.000Z",
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


def _marking_parts(banner: str) -> tuple[Marking, list[str], dict[str, Any], str]:
    marking = parse(banner)
    tlp, implied = effective_tlp(marking)
    extension = {
        "extension_type": "property-extension",
        "banner": marking.render(),
        "classification": marking.level_name,
        "scheme": marking.scheme,
        "rel_to": sorted(marking.rel_to),
        "tlp": tlp,
        "tlp_implied": implied,
    }
    if marking.recipients:
        extension["recipients"] = sorted(marking.recipients)
    return marking, [tlp_stix_id(tlp)], {MARKING_EXTENSION_ID: extension}, tlp


def _stamp(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time(0), tzinfo=UTC)


def _custom(record: Any, fields: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(record, name, None)
        if value is None or value == []:
            continue
        out[f"x_detente_{name}"] = value.isoformat() if isinstance(value, date) else value
    return out


def _producer(registry: Store) -> stix2.Identity:
    """The exporting organisation as the identity that created every object."""
    principal = registry.principal
    org = registry.session.scalar(select(Organisation).where(Organisation.id == principal.org))
    return stix2.Identity(
        id=_id("identity", f"org:{principal.org}"),
        name=org.name if org else principal.org,
        identity_class="organization",
        sectors=["government-national", "defense"],
        x_detente_country=principal.country,
        allow_custom=True,
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
        extensions=ext,
        external_references=[{"source_name": "detente", "external_id": actor.id}],
        allow_custom=True,
        **_custom(actor, ("kind", "country", "abbreviation", "aliases")),
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
        "extensions": ext,
        "external_references": [{"source_name": "detente", "external_id": record.id}],
        "allow_custom": True,
    }
    if name == "engagements":
        return stix2.Report(
            id=_id("report", f"engagement:{record.id}"),
            report_types=["detente-engagement"],
            published=_stamp(record.start_date),
            **{k: v for k, v in common.items() if v is not None},
            **_custom(record, ENGAGEMENT_FIELDS),
        )
    return stix2.Grouping(
        id=_id("grouping", f"agreement:{record.id}"),
        context="detente-agreement",
        **{k: v for k, v in common.items() if v is not None},
        **_custom(record, AGREEMENT_FIELDS),
    )


def _header(tlps: set[str], producer: stix2.Identity) -> list[Any]:
    """The objects every bundle opens with: detente, the marking extension's definition, the
    TLP marking definitions used, and the producer."""
    detente = stix2.Identity(
        id=DETENTE_IDENTITY_ID,
        created="2026-11-01T00:00:00.000Z",
        modified="2026-11-01T00:00:00.000Z",
        name="detente",
        identity_class="system",
    )
    return [
        detente,
        _marking_extension_definition(),
        *(tlp_marking_definition(t) for t in sorted(tlps)),
        producer,
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
    for actor in actors.values():
        marking, refs, ext, tlp = _marking_parts(actor.marking)
        tlps.add(tlp)
        markings.append(marking)
        objects.append(_actor_identity(actor, producer, refs, ext))
    for name, record in records:
        marking, refs, ext, tlp = _marking_parts(record.marking)
        tlps.add(tlp)
        markings.append(marking)
        objects.append(_record_object(name, record, actors, producer, refs, ext))
    bundle = stix2.Bundle(objects=[*_header(tlps, producer), *objects], allow_custom=True)
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
