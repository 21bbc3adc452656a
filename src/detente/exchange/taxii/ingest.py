"""Receiving STIX objects from a peer: checked whole, stored whole or not at all.

``receive`` takes a TAXII envelope (or a STIX bundle) and stores its objects in
``exchange_objects`` under their originator's marking, with the peer as provenance:

- the same object version twice is one row (idempotent); a newer version replaces
  the older; an older version than the one held is a replay and refuses the batch;
- the marking is the originator's: the banner of detente's marking extension, or for
  objects from other platforms their TLP 2.0 label (TLP:CLEAR is public, any other label
  keeps the object to the receiving organisation, so it is never passed on);
- refused, with the object and the reason, and nothing of the batch stored: an object
  the stix2 library does not accept, a marking that does not release the object to the
  receiver, a TLP 2.0 marking-definition id redefined, a marking extension that
  contradicts the TLP marking it refers to, an object already held from another peer sent
  with another marking or version (a peer may not re-mark what another peer originated).

An object this instance itself exported (created by one of its organisations) coming
back is skipped: the registry holds the original.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import stix2  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from detente.core.errors import ValidationError
from detente.core.markings import Marking, MarkingError, Principal, may_read, parse, tlp_levels, tlp_stix_id
from detente.exchange.taxii.objects import parse_timestamp
from detente.exchange.taxii.tables import ExchangeObject
from detente.sharing.stix import (
    MARKING_EXTENSION_ID,
    TLP_EXTENSION_ID,
    effective_tlp,
    producer_id,
    statement_id,
)
from detente.sharing.tables import Organisation
from detente.store.access import marking_columns
from detente.store.reads import now

__all__ = ["MAX_OBJECTS", "Received", "RefusedError", "receive"]

MAX_OBJECTS = 200_000  # per batch
CHUNK = 500
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the version of an object without one (a cyber observable)
PUBLIC = "UNCLASSIFIED//TLP:CLEAR"
DEFINITIONS = frozenset({"marking-definition", "extension-definition", "language-content"})


class RefusedError(ValidationError):
    """A batch refused: nothing of it was stored."""


@dataclass
class Received:
    """What a batch did: object ids by outcome."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # this instance's own objects, come back

    @property
    def stored(self) -> int:
        return len(self.created) + len(self.updated)

    def summary(self) -> str:
        """One line: counts by outcome."""
        return f"{len(self.created)} new, {len(self.updated)} updated, {len(self.unchanged)} unchanged" + (
            f", {len(self.skipped)} of this instance's own skipped" if self.skipped else ""
        )


@dataclass(frozen=True)
class _Incoming:
    obj: dict[str, Any]
    version: str
    modified_at: datetime
    marking: Marking


_TLP_BY_ID = {tlp_stix_id(label): label for label in tlp_levels()}


def _objects_of(envelope: Any) -> list[dict[str, Any]]:
    if not isinstance(envelope, dict):
        raise RefusedError("not a TAXII envelope or a STIX bundle: a JSON object is expected", field="body")
    objects = envelope.get("objects", [])
    if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
        raise RefusedError("'objects' must be a list of STIX objects", field="objects")
    if len(objects) > MAX_OBJECTS:
        raise RefusedError(f"{len(objects):,} objects in one batch: at most {MAX_OBJECTS:,}", field="objects")
    return objects


def _where(i: int, obj: dict[str, Any]) -> str:
    return f"objects[{i}] ({obj.get('id', 'no id')})"


def _check_stix(i: int, obj: dict[str, Any]) -> None:
    try:
        stix2.parse(obj, allow_custom=True, version="2.1")
    except Exception as exc:  # the library raises many kinds; all mean "not valid STIX 2.1"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RefusedError(f"{_where(i, obj)}: not valid STIX 2.1: {reason}", field=f"objects[{i}]") from None


def _check_tlp_definition(i: int, obj: dict[str, Any]) -> None:
    label = _TLP_BY_ID.get(obj["id"])
    if label is None:
        return
    defined = (obj.get("extensions") or {}).get(TLP_EXTENSION_ID, {}).get("tlp_2_0")
    if str(defined).upper() != label or obj.get("name") != f"TLP:{label}":
        raise RefusedError(
            f"{_where(i, obj)}: redefines the OASIS TLP 2.0 marking TLP:{label}", field=f"objects[{i}]"
        )


def _statements(session: Session, objects: list[dict[str, Any]]) -> dict[str, str]:
    """detente's statement marking-definitions (the batch's and those held): id -> banner,
    only where the id is the one the banner gives (a peer cannot pin a banner on another id)."""
    found = [
        o
        for o in objects
        if o.get("type") == "marking-definition" and o.get("definition_type") == "statement"
    ]
    rows = session.scalars(select(ExchangeObject.body).where(ExchangeObject.type == "marking-definition"))
    found += [b for b in (json.loads(r) for r in rows) if b.get("definition_type") == "statement"]
    out: dict[str, str] = {}
    for definition in found:
        text = str((definition.get("definition") or {}).get("statement") or "")
        try:
            banner = parse(text).render()
        except MarkingError:
            continue  # another platform's statement: not a detente banner
        if statement_id(banner) == definition["id"]:
            out[definition["id"]] = banner
    return out


def _banner_of(obj: dict[str, Any], statements: dict[str, str]) -> str | None:
    """The detente banner an object carries: its marking extension's, else its statement marking's."""
    ext = (obj.get("extensions") or {}).get(MARKING_EXTENSION_ID)
    if isinstance(ext, dict):
        return str(ext.get("banner", ""))
    return next((statements[r] for r in obj.get("object_marking_refs", []) if r in statements), None)


def _marking_of(
    i: int, obj: dict[str, Any], receiver: Principal | None, statements: dict[str, str]
) -> Marking:
    """The originator's marking; refused when it does not release the object to ``receiver``."""
    if obj["type"] in DEFINITIONS or (obj["type"] == "identity" and not obj.get("object_marking_refs")):
        return parse(PUBLIC)  # definitions and unmarked producer identities carry no intelligence
    tlps = [_TLP_BY_ID[r] for r in obj.get("object_marking_refs", []) if r in _TLP_BY_ID]
    banner = _banner_of(obj, statements)
    if banner is None:
        label = max(tlps, key=tlp_levels().index) if tlps else "AMBER+STRICT"
        return parse(PUBLIC if label == "CLEAR" else f"UNCLASSIFIED//TLP:{label}")
    try:
        marking = parse(banner)
    except MarkingError as exc:
        raise RefusedError(f"{_where(i, obj)}: {exc.message}", field=f"objects[{i}].marking") from None
    if tlps and tlps != [effective_tlp(marking)[0]]:
        raise RefusedError(
            f"{_where(i, obj)}: marked {marking.render()} but refers to TLP:{', TLP:'.join(tlps)}",
            field=f"objects[{i}].object_marking_refs",
        )
    if receiver is not None:
        decision = may_read(receiver, marking, None)
        if not decision:
            raise RefusedError(
                f"{_where(i, obj)}: marked {marking.render()}, which the peer may not release to "
                f"{receiver.country} ({decision.reason})",
                field=f"objects[{i}].marking",
            )
    return marking


def _incoming(
    session: Session, objects: list[dict[str, Any]], receiver: Principal | None, own: set[str]
) -> list[_Incoming]:
    """The objects checked and with their markings, less this instance's own (``own``: its
    organisations' producer ids) come back, which are skipped before their marking is read."""
    for i, obj in enumerate(objects):
        _check_stix(i, obj)
        _check_tlp_definition(i, obj)
    statements = _statements(session, objects)
    out: list[_Incoming] = []
    for i, obj in enumerate(objects):
        if obj.get("created_by_ref") in own or obj["id"] in own:
            continue
        version = str(obj.get("modified") or obj.get("created") or "")
        modified_at = parse_timestamp(version, f"objects[{i}].modified") if version else EPOCH
        out.append(_Incoming(obj, version, modified_at, _marking_of(i, obj, receiver, statements)))
    return out


def _held(session: Session, ids: list[str]) -> dict[str, ExchangeObject]:
    """Rows already held for ``ids`` (system-wide: a peer's object is one row whoever pulled it)."""
    found: dict[str, ExchangeObject] = {}
    for start in range(0, len(ids), CHUNK):
        rows = session.scalars(
            select(ExchangeObject).where(ExchangeObject.stix_id.in_(ids[start : start + CHUNK]))
        )
        found.update({r.stix_id: r for r in rows})
    return found


def _own_producers(session: Session) -> set[str]:
    return {producer_id(org_id) for org_id in session.scalars(select(Organisation.id))}


def _decide(item: _Incoming, row: ExchangeObject | None, origin: str) -> str:
    """created, updated or unchanged; a replay or a re-marking raises."""
    if row is None:
        return "created"
    ident = item.obj["id"]
    same_marking = parse(row.marking) == item.marking
    if item.modified_at < row.modified_at:
        raise RefusedError(
            f"{ident}: version {item.version} is older than the one held ({row.version}, from {row.origin}): "
            "a replayed version never overwrites a newer one",
            field="objects",
        )
    if row.origin != origin and not (item.modified_at == row.modified_at and same_marking):
        raise RefusedError(
            f"{ident} came from {row.origin}: {origin} may not re-mark or replace it", field="objects"
        )
    if item.modified_at == row.modified_at:
        if not same_marking:
            raise RefusedError(
                f"{ident}: same version {item.version} sent with another marking", field="objects"
            )
        return "unchanged"
    return "updated"


def receive(
    session: Session, envelope: Any, *, origin: str, owner_org: str, receiver: Principal | None
) -> Received:
    """Store the objects of ``envelope`` from ``origin`` for ``owner_org`` (see the module's
    rules). ``receiver`` is who pulled them (their marking must release them to it), or
    ``None`` for a push (the pushing partner owns what it sends). Raises ``RefusedError``
    with nothing stored."""
    objects = _objects_of(envelope)
    own = _own_producers(session)
    incoming = _incoming(session, objects, receiver, own)
    held = _held(session, sorted({i.obj["id"] for i in incoming}))
    result = Received()
    result.skipped = [o["id"] for o in objects if o.get("created_by_ref") in own or o["id"] in own]
    changes: dict[str, tuple[_Incoming, str]] = {}
    for item in incoming:
        ident = item.obj["id"]
        earlier = changes.get(ident)
        if earlier is not None and earlier[0].modified_at >= item.modified_at:
            continue  # two versions in one batch: the newest counts
        changes[ident] = (item, _decide(item, held.get(ident), origin))
    stamp = now()
    for ident, (item, outcome) in changes.items():
        getattr(result, outcome).append(ident)
        if outcome == "unchanged":
            continue
        values = {
            "type": item.obj["type"],
            "version": item.version,
            "modified_at": item.modified_at,
            "date_added": stamp,
            "origin": origin,
            "body": json.dumps(item.obj, separators=(",", ":"), sort_keys=True),
            "marking": item.marking.render(),
            **marking_columns(item.marking),
        }
        row = held.get(ident)
        if row is None:
            session.add(ExchangeObject(stix_id=ident, owner_org_id=owner_org, **values))
        else:
            for key, value in values.items():
                setattr(row, key, value)
    try:
        session.flush()
    except IntegrityError:
        raise RefusedError(
            "an object of this batch is held here under a marking the receiver may not read: "
            "nothing was stored",
            field="objects",
        ) from None
    return result


def ids_of(objects: Iterable[dict[str, Any]]) -> list[str]:
    """The ids of ``objects``, in order."""
    return [str(o.get("id")) for o in objects]
