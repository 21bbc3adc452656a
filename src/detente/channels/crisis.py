"""The crisis log: an incident's messages (their metadata: never their content), reports,
engagements and decisions on one timeline, and its export to PDF for the after-action
review (WeasyPrint, as the assessment report). Every item is read through the store, so
the timeline holds only what its reader may see; its banner combines their markings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from detente.channels.messages import check_id
from detente.channels.records import IncidentEntry
from detente.channels.tables import Alert, Copy, Message
from detente.core import audit
from detente.core.errors import AuthError, NotFoundError, ValidationError
from detente.core.markings import derived_marking
from detente.store.fields import clean_multiline
from detente.store.service import Store

__all__ = ["KINDS", "Item", "Timeline", "add_entry", "pdf", "timeline"]

# what a timeline item may point at: the record types each kind names
KINDS: dict[str, tuple[str, ...]] = {
    "message": (),
    "report": ("evaluations", "lessons", "observations"),
    "engagement": ("engagements",),
    "decision": ("vetting_decisions",),
}


@dataclass(frozen=True)
class Item:
    """One line of the timeline."""

    at: datetime
    kind: str
    title: str
    detail: str
    marking: str
    ref_id: str | None = None


@dataclass
class Timeline:
    incident: Any
    items: list[Item] = field(default_factory=list)
    reader: str = ""

    @property
    def banner(self) -> str:
        return derived_marking([self.incident.marking, *(i.marking for i in self.items)]).render()

    def as_dict(self) -> dict[str, Any]:
        return {
            "incident": self.incident.model_dump(mode="json"),
            "banner": self.banner,
            "items": [{**i.__dict__, "at": i.at.isoformat()} for i in self.items],
        }


def add_entry(
    store: Store, incident_id: str, kind: str, *, ref_id: str | None = None, note: str | None = None
) -> IncidentEntry:
    """Put a message, report or engagement (by id) or a decision (a note, or a vetting
    decision's id) on an incident's timeline; only the incident's organisation may."""
    incident = store.get("incidents", incident_id)
    store.require("write", "add to the crisis log")
    if incident.owner_org_id != store.principal.org:
        raise AuthError("this incident belongs to another organisation: it is read-only for you")
    if kind not in KINDS:
        raise ValidationError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}", field="kind")
    note = (note or "").strip() or None
    if note is not None:
        try:
            note = clean_multiline(note)
        except ValueError as exc:
            raise ValidationError(str(exc), field="note") from None
    if ref_id is None and (kind != "decision" or note is None):
        raise ValidationError("give the id of what to link (or, for a decision, a note)", field="ref_id")
    at = _when(store, kind, ref_id) if ref_id else datetime.now(UTC)
    entry = IncidentEntry(
        incident_id=incident.id, at=at, kind=kind, ref_id=ref_id, note=note, added_by=store.author
    )
    store.session.add(entry)
    store.session.flush()
    audit.append(
        store.session,
        actor=store.author,
        org_id=store.principal.org,
        action="channels.incident.link",
        table="incidents",
        record_id=incident.id,
        detail={"kind": kind, "ref": ref_id},
    )
    return entry


def _message(store: Store, message_id: str) -> Message:
    check_id(message_id, "message")
    row = store.session.scalar(select(Message).where(Message.id == message_id, store.visible(Message)))
    if row is None:
        raise NotFoundError(f"no message {message_id!r}")
    return row


def _record(store: Store, kind: str, ref_id: str) -> tuple[str, Any]:
    for name in KINDS[kind]:
        try:
            return name, store.get(name, ref_id)
        except NotFoundError:
            continue
    raise NotFoundError(f"no {kind} {ref_id!r}")


def _when(store: Store, kind: str, ref_id: str) -> datetime:
    if kind == "message":
        return _message(store, ref_id).created_at
    _name, record = _record(store, kind, ref_id)
    day = getattr(record, "start_date", None) or getattr(record, "decided_on", None)
    if day is not None:
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    created: datetime = record.created_at
    return created


def _item(store: Store, entry: IncidentEntry) -> Item | None:
    if entry.ref_id is None:
        return Item(
            entry.at,
            entry.kind,
            "Decision",
            entry.note or "",
            store.get("incidents", entry.incident_id).marking,
        )
    try:
        if entry.kind == "message":
            m = _message(store, entry.ref_id)
            copies = store.session.scalar(
                select(func.count()).select_from(Copy).where(Copy.message_id == m.id)
            )
            alert = store.session.get(Alert, m.id)
            state = f"; {alert.status} at step {alert.step + 1} of {alert.steps}" if alert else ""
            what = (
                "urgent message" if m.urgent else ("communications check" if m.kind == "check" else "message")
            )
            return Item(
                m.created_at,
                "message",
                f"{what.capitalize()} from {m.sender}",
                f"{copies} recipient(s), {m.body_bytes:,} bytes sealed{state}",
                m.marking,
                m.id,
            )
        name, record = _record(store, entry.kind, entry.ref_id)
    except NotFoundError:
        return None  # withheld from this reader: not even its date is shown
    title = str(getattr(record, "title", None) or getattr(record, "subject_name", None) or name)
    return Item(entry.at, entry.kind, title, entry.note or name.replace("_", " "), record.marking, record.id)


def timeline(store: Store, incident_id: str) -> Timeline:
    """The incident and what its reader may see of its timeline, oldest first."""
    incident = store.get("incidents", incident_id)
    entries = store.session.scalars(
        select(IncidentEntry).where(IncidentEntry.incident_id == incident.id).order_by(IncidentEntry.at)
    )
    items = [i for i in (_item(store, e) for e in entries) if i is not None]
    return Timeline(incident, sorted(items, key=lambda i: i.at), store.author)


def pdf(line: Timeline) -> bytes:
    """The timeline as a PDF (WeasyPrint renders the HTML template)."""
    from jinja2 import Environment, PackageLoader, select_autoescape
    from weasyprint import HTML

    env = Environment(loader=PackageLoader("detente.channels", "templates"), autoescape=select_autoescape())
    html = env.get_template("incident.html").render(line=line, generated=datetime.now(UTC))
    return bytes(HTML(string=html).write_pdf())
