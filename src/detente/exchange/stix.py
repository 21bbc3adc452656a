"""Intelligence reports as STIX 2.1, and back: the one conversion the file export, the
API and the TAXII server (federation) use.

``report_to_stix(view, reader)`` gives the objects of one report as ``reader`` may
receive it: a ``report`` (the header: title, summary, published = time of report,
``confidence`` from the Admiralty credibility by the STIX 2.1 mapping, ``revoked`` when
withdrawn), one ``note`` per paragraph the reader may read (never one for a withheld
paragraph: the report's extension lists only the withheld positions), an ``opinion`` when
other reporting corroborates or contradicts it, and the marking-definitions they use (TLP
2.0 and detente's statement marking of each banner). ``created`` / ``modified`` are the
records' own times and ids are stable (UUIDv5 of the record id; a report received from
a peer keeps the peer's id), so exporting twice gives the same object versions. detente's
own data travels in a property extension (``REPORT_EXTENSION_ID``), never in ``x_`` properties.

``report_from_stix(objects, origin)`` reads such objects back into the payload
``Exchange.receive`` stores, keeping the peer's markings and grading, with the peer as
provenance.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import stix2  # type: ignore[import-untyped]

from detente.core.errors import ValidationError
from detente.core.markings import Principal, may_read, parse, tlp_stix_id
from detente.exchange import grading
from detente.exchange.rules import banner_of
from detente.exchange.service import ReportView
from detente.sharing import stix as base

__all__ = ["REPORT_EXTENSION_ID", "report_from_stix", "report_to_stix"]

REPORT_EXTENSION_ID = f"extension-definition--{uuid.uuid5(base.NAMESPACE, 'detente-intel-report-v1')}"
REPORT_SCHEMA = (
    "Property extension of report and note objects. On a report: source_reliability (string A-F) and "
    "info_credibility (integer 1-6), the NATO/Admiralty grading, with grading (string, in words); "
    "info_time (timestamp, time of information); verification (string: unverified, corroborated, "
    "contradicted, withdrawn); caution (string, when the report is graded 5-6, from an F source or "
    "unverified); orcon (boolean: recipients pass it on only with the originator's consent); "
    "banner (string: the marking of what this bundle carries); header_marking (string); "
    "paragraphs (integer: how many the report has) and withheld (list of integer: the positions not "
    "carried); countries (list of ISO 3166 alpha-3). On a note: position (integer) and "
    "marking (string: the paragraph's portion marking)."
)
_NOTE = "note"


def _id(kind: str, key: str) -> str:
    return f"{kind}--{uuid.uuid5(base.NAMESPACE, key)}"


def _stamp(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _statement_id(banner: str) -> str:
    return _id("marking-definition", f"banner:{parse(banner).render()}")


def _marking_refs(banner: str) -> list[str]:
    marking = parse(banner)
    return [tlp_stix_id(base.effective_tlp(marking)[0]), _statement_id(banner)]


def _statement(banner: str) -> stix2.MarkingDefinition:
    marking = parse(banner)
    tlp, implied = base.effective_tlp(marking)
    ext: dict[str, Any] = {
        "extension_type": "property-extension",
        "banner": marking.render(),
        "classification": marking.level_name,
        "scheme": marking.scheme,
        "tlp": tlp,
        "tlp_implied": implied,
    }
    if marking.rel_to:
        ext["rel_to"] = sorted(marking.rel_to)
    if marking.recipients:
        ext["recipients"] = sorted(marking.recipients)
    return stix2.MarkingDefinition(
        id=_statement_id(banner), created="2026-11-01T00:00:00.000Z", created_by_ref=base.DETENTE_IDENTITY_ID,
        name=marking.render(), definition_type="statement", definition={"statement": marking.render()},
        extensions={base.MARKING_EXTENSION_ID: ext},
    )  # fmt: skip


def _definitions(banners: Iterable[str]) -> list[Any]:
    """detente's identity, the extension definitions, and the marking definitions used."""
    detente = stix2.Identity(
        id=base.DETENTE_IDENTITY_ID, created="2026-11-01T00:00:00.000Z", modified="2026-11-01T00:00:00.000Z",
        name="detente", identity_class="system",
    )  # fmt: skip
    report_ext = stix2.ExtensionDefinition(
        id=REPORT_EXTENSION_ID, created_by_ref=base.DETENTE_IDENTITY_ID, created="2026-12-01T00:00:00.000Z",
        modified="2026-12-01T00:00:00.000Z", name="detente intelligence report",
        description="Admiralty grading, verification, originator control and portion markings of an "
        "intelligence report and its paragraphs.",
        schema=REPORT_SCHEMA, version="1.0.0", extension_types=["property-extension"],
    )  # fmt: skip
    rendered = sorted({parse(b).render() for b in banners})
    tlps = sorted({base.effective_tlp(parse(b))[0] for b in rendered})
    return [
        detente,
        base._marking_extension_definition(),
        report_ext,
        *(base.tlp_marking_definition(t) for t in tlps),
        *(_statement(b) for b in rendered),
    ]


def report_stix_id(report: Any) -> str:
    """The report's STIX id: the peer's for a report received from one, else stable from its id."""
    return str(report.origin_ref) if report.origin_ref else _id("report", f"intel-report:{report.id}")


def report_to_stix(report: ReportView, reader: Principal) -> list[Any]:
    """The STIX objects of ``report`` that ``reader`` may receive (nothing when the header is
    not releasable to them): see the module's description."""
    head = report.report
    if not may_read(reader, parse(head.marking), report.owner_org_id):
        return []
    shown = [p for p in report.shown if p.marking and may_read(reader, parse(p.marking), report.owner_org_id)]
    positions = {p.position for p in shown}
    report_id = report_stix_id(head)
    banners = [head.marking, *(p.marking for p in shown if p.marking)]
    seen_banner = banner_of(banners, {})
    notes = [_note(p, report_id) for p in shown]
    ext = {
        "extension_type": "property-extension",
        "source_reliability": head.source_reliability,
        "info_credibility": head.info_credibility,
        "grading": grading.grade_words(head.source_reliability, head.info_credibility),
        "verification": head.verification,
        "orcon": bool(head.orcon),
        "banner": seen_banner,
        "header_marking": head.marking,
        "paragraphs": len(report.portions),
    }
    withheld = [p.position for p in report.portions if p.position not in positions]
    extras = {
        "info_time": head.info_time.isoformat() if head.info_time else None,
        "caution": report.caution,
        "withheld": withheld or None,
        "countries": list(head.countries) or None,
    }
    ext.update({k: v for k, v in extras.items() if v is not None})
    confidence = grading.stix_confidence(head.info_credibility)
    published = head.report_time or head.created_at
    stix_report = stix2.Report(
        id=report_id,
        created=_stamp(head.created_at),
        modified=_stamp(head.updated_at),
        created_by_ref=base.DETENTE_IDENTITY_ID,
        name=head.title,
        description=_description(head.summary, report.caution),
        report_types=["threat-report"],
        published=_stamp(published),
        object_refs=[n.id for n in notes] or [base.DETENTE_IDENTITY_ID],
        object_marking_refs=_marking_refs(head.marking),
        revoked=head.verification == "withdrawn",
        extensions={REPORT_EXTENSION_ID: ext},
        **({"confidence": confidence} if confidence is not None else {}),
    )
    return [*_definitions(banners), stix_report, *notes, *_opinions(head, report_id)]


def _description(summary: str | None, caution: str | None) -> str | None:
    if caution:
        return f"{caution}\n\n{summary or ''}".strip()
    return summary


def _note(portion: Any, report_id: str) -> stix2.Note:
    record = portion.record
    return stix2.Note(
        id=_id(_NOTE, f"intel-portion:{portion.id}"),
        created=_stamp(record.created_at),
        modified=_stamp(record.updated_at),
        created_by_ref=base.DETENTE_IDENTITY_ID,
        abstract=f"Paragraph {portion.position}",
        content=portion.text,
        object_refs=[report_id],
        object_marking_refs=_marking_refs(portion.marking),
        extensions={
            REPORT_EXTENSION_ID: {
                "extension_type": "property-extension",
                "position": portion.position,
                "marking": portion.marking,
            }
        },
    )  # fmt: skip


def _opinions(head: Any, report_id: str) -> list[Any]:
    if head.verification not in ("corroborated", "contradicted"):
        return []
    return [
        stix2.Opinion(
            id=_id("opinion", f"intel-verification:{head.id}"),
            created=_stamp(head.created_at),
            modified=_stamp(head.updated_at),
            created_by_ref=base.DETENTE_IDENTITY_ID,
            opinion="agree" if head.verification == "corroborated" else "disagree",
            explanation=f"The originator's verification: {head.verification} by other reporting.",
            object_refs=[report_id],
            object_marking_refs=_marking_refs(head.marking),
        )
    ]


# ---------------------------------------------------------------- reading a peer's objects
def _plain(obj: Any) -> dict[str, Any]:
    if isinstance(obj, Mapping):
        return dict(obj)
    import json

    return dict(json.loads(obj.serialize()))


def _banner(obj: Mapping[str, Any], statements: Mapping[str, str], tlps: Mapping[str, str]) -> str:
    """The marking an object carries: its statement marking (detente's banner), else its TLP
    label alone (unclassified, for the receiving organisation only unless TLP:CLEAR)."""
    refs = list(obj.get("object_marking_refs") or [])
    for ref in refs:
        if ref in statements:
            return statements[ref]
    labels = [tlps[r] for r in refs if r in tlps]
    if not labels:
        return "UNCLASSIFIED//TLP:AMBER+STRICT"  # unmarked: the most careful label
    return f"TLP:{labels[0]}"


def _time(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{name}: {value!r} is not a timestamp", field=name) from None


def report_from_stix(objects: Iterable[Any], origin: str) -> dict[str, Any]:
    """The payload ``Exchange.receive`` stores from one report's STIX objects sent by the
    peer ``origin``: its header and paragraphs with the peer's markings and grading, the
    peer as provenance. A clear error when there is no report or a marking is malformed."""
    items = [_plain(o) for o in objects]
    statements = {
        o["id"]: str((o.get("definition") or {}).get("statement") or o.get("name"))
        for o in items
        if o.get("type") == "marking-definition" and o.get("definition_type") == "statement"
    }
    tlps = {tlp_stix_id(label): label for label in ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")}
    reports = [o for o in items if o.get("type") == "report"]
    if len(reports) != 1:
        raise ValidationError(
            f"expected one STIX report from {origin}, found {len(reports)}", field="objects"
        )
    head = reports[0]
    ext = dict((head.get("extensions") or {}).get(REPORT_EXTENSION_ID) or {})
    credibility = ext.get("info_credibility") or _credibility_of(head.get("confidence"))
    status = "withdrawn" if head.get("revoked") else str(ext.get("verification") or "unverified")
    report = {
        "title": head.get("name"),
        "summary": head.get("description")
        if not ext.get("caution")
        else _strip(head.get("description"), ext),
        "source_reliability": ext.get("source_reliability") or "F",
        "info_credibility": credibility,
        "info_time": _time(ext.get("info_time"), "info_time"),
        "report_time": _time(head.get("published"), "published"),
        "countries": list(ext.get("countries") or []),
        "verification": status,
        "orcon": bool(ext.get("orcon", True)),
        "marking": _banner(head, statements, tlps),
        "origin": origin,
        "origin_ref": head["id"],
        "origin_modified": _time(head.get("modified"), "modified"),
    }
    notes = [o for o in items if o.get("type") == _NOTE and head["id"] in (o.get("object_refs") or [])]
    portions = []
    for i, note in enumerate(sorted(notes, key=lambda n: _position(n, 0)), start=1):
        portions.append({"position": _position(note, i), "text": note.get("content"),
                         "marking": _banner(note, statements, tlps)})  # fmt: skip
    return {"report": report, "portions": portions, "origin": origin, "origin_ref": head["id"],
            "origin_modified": report["origin_modified"]}  # fmt: skip


def _position(note: Mapping[str, Any], default: int) -> int:
    ext = (note.get("extensions") or {}).get(REPORT_EXTENSION_ID) or {}
    return int(ext.get("position") or default)


def _credibility_of(confidence: Any) -> int:
    """The Admiralty credibility of a STIX confidence (the mapping's bands); 6 when absent."""
    if confidence is None:
        return 6
    value = int(confidence)
    for credibility, low in ((1, 80), (2, 60), (3, 40), (4, 20)):
        if value >= low:
            return credibility
    return 5


def _strip(description: Any, ext: Mapping[str, Any]) -> Any:
    caution = str(ext.get("caution") or "")
    text = str(description or "")
    return text.removeprefix(caution).strip() or None
