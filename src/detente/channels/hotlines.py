"""Crisis hotlines: a standing channel between two organisations, a duty roster on each
side, and urgent messages that must be acknowledged within the hotline's deadline.

An urgent message climbs a ladder on the receiving side: the first duty officer, the
next, ... and last the hotline's owner. The sender's client seals it for every rung at
once (the server cannot encrypt); the server releases one rung at a time. When a rung's
deadline passes unacknowledged, ``escalate_due`` releases the next one, each step
audited and notified; when the ladder runs out the message is marked unanswered and the
sender and owner are told. A communications check is a test call the server sends on a
schedule (it carries no content, only a demand to answer); ``check_report`` gives the
time to acknowledge per side over time. ``escalate_due`` and ``run_checks`` take the
time as an argument, so a test drives them with its own clock.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import nacl.utils
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from detente.channels.crypto import b64
from detente.channels.messages import (
    _record_columns,
    check_id,
    create_conversation,
    find_org,
    now,
    queue,
    send,
)
from detente.channels.messages import line as text_line
from detente.channels.tables import Alert, Copy, Hotline, Message, RosterEntry
from detente.core import audit
from detente.core.db import new_id
from detente.core.errors import AuthError, NotFoundError, ValidationError
from detente.core.markings import may_read, parse
from detente.sharing.service import Sharing
from detente.store.service import Store

__all__ = [
    "Notice",
    "ack",
    "check_report",
    "create_hotline",
    "escalate_due",
    "hotline",
    "hotlines",
    "ladder",
    "line_of",
    "roster",
    "run_checks",
    "send_on_hotline",
    "set_roster",
]

SYSTEM = "detente"  # the actor of what the server does by itself (escalations, checks)


@dataclass(frozen=True)
class Notice:
    """A notification to send outside the app (webhook, e-mail): metadata only, never content."""

    event: str  # escalation, unanswered, check
    hotline: str
    message_id: str
    step: int
    to: tuple[str, ...]
    detail: dict[str, Any] = field(default_factory=dict)


def _audit(
    session: Session, actor: str, org: str | None, action: str, record_id: str, detail: dict[str, Any]
) -> None:
    audit.append(
        session,
        actor=actor,
        org_id=org,
        action=action,
        table="channel_messages",
        record_id=record_id,
        detail=detail,
    )


def hotlines(store: Store) -> list[Hotline]:
    """The hotlines of the acting user's organisation that they may see."""
    org = store.principal.org
    stmt = select(Hotline).where(
        store.visible(Hotline), or_(Hotline.org_a_id == org, Hotline.org_b_id == org)
    )
    return list(store.session.scalars(stmt.order_by(Hotline.name)))


def hotline(store: Store, hotline_id: str) -> Hotline:
    for row in hotlines(store):
        if row.id == hotline_id:
            return row
    raise NotFoundError(f"no hotline {hotline_id!r}")


def roster(session: Session, hotline_id: str, org_id: str) -> list[str]:
    """One side's duty officers, in escalation order."""
    stmt = select(RosterEntry.username).where(
        RosterEntry.hotline_id == hotline_id, RosterEntry.org_id == org_id
    )
    return list(session.scalars(stmt.order_by(RosterEntry.position)))


def ladder(session: Session, line: Hotline, to_org: str) -> list[str]:
    """Who an urgent message to ``to_org`` reaches, in turn: its roster, then the owner."""
    return list(dict.fromkeys([*roster(session, line.id, to_org), line.owner]))


def _check_officers(session: Session, line_marking: str, org_id: str, names: Sequence[str]) -> list[str]:
    sharing = Sharing(session)
    marking = parse(line_marking)
    out = []
    for raw in names:
        user = sharing.user(text_line(raw, "roster", 100))
        if user.org_id != org_id:
            raise ValidationError(f"{user.username} is not of that side's organisation", field="roster")
        decision = may_read(sharing.principal(user.username), marking, None)
        if not decision:
            raise AuthError(f"{user.username} may not read the hotline's marking: {decision.reason}")
        out.append(user.username)
    if not out:
        raise ValidationError("a side needs at least one duty officer", field="roster")
    return list(dict.fromkeys(out))


def create_hotline(
    store: Store,
    name: str,
    *,
    other_org: str,
    mine: Sequence[str],
    theirs: Sequence[str],
    marking: str,
    ack_seconds: int = 300,
    check_every_minutes: int | None = None,
    owner: str | None = None,
) -> Hotline:
    """A hotline from the acting administrator's organisation to ``other_org``."""
    store.require("admin", "open a hotline")
    if not 1 <= ack_seconds <= 86400:
        raise ValidationError("must be between 1 second and a day", field="ack_seconds")
    if check_every_minutes is not None and not 1 <= check_every_minutes <= 60 * 24 * 31:
        raise ValidationError("must be between 1 minute and a month", field="check_every_minutes")
    sharing = Sharing(store.session)
    other = find_org(store.session, other_org)
    if other.id == store.principal.org:
        raise ValidationError("a hotline joins two organisations", field="other_org")
    owner = sharing.user(text_line(owner or store.author, "owner", 100)).username
    name = text_line(name, "name")
    ours = _check_officers(store.session, marking, store.principal.org, [*mine])
    _check_officers(store.session, marking, store.principal.org, [owner])
    others = _check_officers(store.session, marking, other.id, [*theirs])
    conv = create_conversation(
        store, name, orgs=[store.principal.org, other.id], marking=marking, kind="hotline"
    )
    line = Hotline(
        id=new_id(),
        name=conv.title,
        conversation_id=conv.id,
        org_a_id=store.principal.org,
        org_b_id=other.id,
        owner=owner,
        ack_seconds=ack_seconds,
        check_every_minutes=check_every_minutes,
        **_record_columns(store, marking),
    )
    store.session.add(line)
    store.session.flush()
    for org, names in ((store.principal.org, ours), (other.id, others)):
        store.session.add_all(
            RosterEntry(hotline_id=line.id, org_id=org, position=i, username=n) for i, n in enumerate(names)
        )
    store.session.flush()
    detail = {
        "with": other.id,
        "ack_seconds": ack_seconds,
        "rosters": {"a": ours, "b": others},
        "owner": owner,
    }
    _audit(store.session, store.author, store.principal.org, "channels.hotline", line.id, detail)
    return line


def set_roster(store: Store, hotline_id: str, names: Sequence[str]) -> list[str]:
    """Replace the acting administrator's side's duty roster (in escalation order)."""
    store.require("admin", "change a duty roster")
    line = hotline(store, hotline_id)
    officers = _check_officers(store.session, line.marking, store.principal.org, names)
    store.session.execute(
        delete(RosterEntry).where(
            RosterEntry.hotline_id == line.id, RosterEntry.org_id == store.principal.org
        )
    )
    store.session.add_all(
        RosterEntry(hotline_id=line.id, org_id=store.principal.org, position=i, username=n)
        for i, n in enumerate(officers)
    )
    store.session.flush()
    _audit(store.session, store.author, store.principal.org, "channels.roster", line.id, {"roster": officers})
    return officers


def line_of(session: Session, conversation_id: str) -> Hotline | None:
    """The hotline a conversation belongs to, if it is one."""
    return session.scalar(select(Hotline).where(Hotline.conversation_id == conversation_id))


def send_on_hotline(store: Store, body: dict[str, Any]) -> Message:
    """Send a message; on a hotline an urgent one climbs the other side's ladder, with a deadline."""
    # an id the store could not have made is found nowhere, without asking the database
    line = line_of(store.session, check_id(body.get("conversation_id"), "conversation"))
    if line is None or not body.get("urgent"):
        return send(store, body)
    to_org = line.org_b_id if store.principal.org == line.org_a_id else line.org_a_id
    rungs = ladder(store.session, line, to_org)
    message = send(store, body, steps={n: i for i, n in enumerate(rungs)})
    _open_alert(store.session, message, line, to_org, len(rungs))
    return message


def _open_alert(session: Session, message: Message, line: Hotline, to_org: str, steps: int) -> None:
    """The alert that climbs ``to_org``'s ladder (``steps`` rungs) until someone there
    acknowledges ``message``: released to the first rung now, due within the line's time."""
    session.add(
        Alert(
            message_id=message.id,
            hotline_id=line.id,
            to_org_id=to_org,
            sent_at=message.created_at,
            step=0,
            steps=steps,
            deadline_at=message.created_at + timedelta(seconds=line.ack_seconds),
            status="open",
        )
    )
    session.flush()


def ack(store: Store, message_id: str, *, at: datetime | None = None) -> Alert | None:
    """The acting user acknowledges an urgent message (or a check) released to them
    (``at``: when, for a scenario replayed after the fact; now by default)."""
    from detente.channels.messages import my_copy

    message, copy = my_copy(store, message_id)
    stamp = at or now()
    if copy.acked_at is None:
        copy.acked_at = stamp
        copy.read_at = copy.read_at or stamp
        copy.delivered_at = copy.delivered_at or stamp
    alert = store.session.get(Alert, message.id)
    detail: dict[str, Any] = {"recipient": copy.recipient, "step": copy.step}
    if alert is not None and alert.status == "open":
        alert.status, alert.acked_at, alert.acked_by = "acknowledged", stamp, store.author
        detail["seconds"] = round((stamp - alert.sent_at).total_seconds(), 3)
    store.session.flush()
    _audit(store.session, store.author, store.principal.org, "channels.ack", message.id, detail)
    if message.sender != SYSTEM:
        pending = store.session.info.setdefault("channels.events", [])
        pending.append(
            (message.sender, "ack", {"id": message.id, "by": store.author, "at": stamp.isoformat()})
        )
    return alert


def _escalate_one(session: Session, alert: Alert, at: datetime) -> Notice | None:
    """Move one overdue alert a rung up (or mark it unanswered), if no one else did first."""
    moved = session.execute(
        update(Alert)
        .where(Alert.message_id == alert.message_id, Alert.step == alert.step, Alert.status == "open")
        .values(step=alert.step + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0) != 1:
        return None
    line = session.get(Hotline, alert.hotline_id)
    message = session.get(Message, alert.message_id)
    assert line is not None and message is not None
    step, missed = alert.step + 1, alert.deadline_at
    late = round((at - missed).total_seconds(), 3)
    if step >= alert.steps:
        session.execute(update(Alert).where(Alert.message_id == alert.message_id).values(status="exhausted"))
        to = tuple(dict.fromkeys([message.sender, line.owner]))
        detail = {
            "hotline": line.id,
            "steps": alert.steps,
            "deadline": missed.isoformat(),
            "late_seconds": late,
        }
        _audit(session, SYSTEM, None, "channels.unanswered", message.id, detail)
        pending = session.info.setdefault("channels.events", [])
        pending.extend((n, "unanswered", {"id": message.id, "hotline": line.name}) for n in to)
        return Notice("unanswered", line.name, message.id, step, to, detail)
    released = list(session.scalars(select(Copy).where(Copy.message_id == message.id, Copy.step == step)))
    for copy in released:
        copy.released_at = at
    deadline = at + timedelta(seconds=line.ack_seconds)
    session.execute(update(Alert).where(Alert.message_id == alert.message_id).values(deadline_at=deadline))
    session.flush()
    to = tuple(c.recipient for c in released)
    detail = {
        "hotline": line.id,
        "step": step,
        "to": list(to),
        "deadline_missed": missed.isoformat(),
        "late_seconds": late,
        "next_deadline": deadline.isoformat(),
    }
    _audit(session, SYSTEM, None, "channels.escalate", message.id, detail)
    queue(session, released, message, event="escalation")
    return Notice("escalation", line.name, message.id, step, to, detail)


def escalate_due(session: Session, at: datetime) -> list[Notice]:
    """Escalate every open alert whose deadline has passed at ``at`` (run with system access)."""
    due = list(
        session.scalars(
            select(Alert).where(Alert.status == "open", Alert.deadline_at <= at).order_by(Alert.deadline_at)
        )
    )
    return [n for n in (_escalate_one(session, a, at) for a in due) if n is not None]


def _send_check(session: Session, line: Hotline, to_org: str, at: datetime) -> Message:
    rungs = ladder(session, line, to_org)
    marking = parse(line.marking)
    from detente.store.access import marking_columns

    message = Message(
        id=new_id(),
        conversation_id=line.conversation_id,
        sender=SYSTEM,
        sender_key_id=None,
        kind="check",
        urgent=True,
        body_bytes=0,
        marking=line.marking,
        **marking_columns(marking),
        owner_org_id=line.owner_org_id,
        created_at=at,
        updated_at=at,
        created_by=SYSTEM,
        updated_by=SYSTEM,
        version=1,
    )
    session.add(message)
    session.flush()
    users = {u.username: u for u in Sharing(session).users()}
    copies = [
        Copy(
            message_id=message.id,
            recipient=n,
            recipient_org_id=users[n].org_id,
            recipient_key_id=None,
            nonce=b64(nacl.utils.random(24)),
            ciphertext="",
            signature="",
            step=i,
            released_at=at if i == 0 else None,
        )
        for i, n in enumerate(rungs)
    ]
    session.add_all(copies)
    _open_alert(session, message, line, to_org, len(rungs))
    _audit(
        session,
        SYSTEM,
        None,
        "channels.check",
        message.id,
        {"hotline": line.id, "to_org": to_org, "to": rungs[0]},
    )
    queue(session, copies[:1], message, event="check")
    return message


def run_checks(session: Session, at: datetime, *, only: str | None = None) -> list[Message]:
    """Send the communications checks that are due at ``at`` (or, with ``only``, that
    hotline's checks now): one test call to each side."""
    lines = session.scalars(
        select(Hotline).where(
            Hotline.check_every_minutes.is_not(None) if only is None else Hotline.id == only
        )
    )
    sent = []
    for line in lines:
        for to_org in (line.org_a_id, line.org_b_id):
            last = session.scalar(
                select(Alert.sent_at)
                .join(Message, Message.id == Alert.message_id)
                .where(Alert.hotline_id == line.id, Alert.to_org_id == to_org, Message.kind == "check")
                .order_by(Alert.sent_at.desc())
                .limit(1)
            )
            every = timedelta(minutes=line.check_every_minutes or 0)
            if only is not None or last is None or at - last >= every:
                sent.append(_send_check(session, line, to_org, at))
    return sent


def check_report(store: Store, hotline_id: str) -> dict[str, Any]:
    """Time to acknowledge the communications checks, per side and over time."""
    line = hotline(store, hotline_id)
    sharing = Sharing(store.session)
    out: dict[str, Any] = {"hotline": line.name, "sides": []}
    for org_id in (line.org_a_id, line.org_b_id):
        rows = store.session.execute(
            select(Alert)
            .join(Message, Message.id == Alert.message_id)
            .where(Alert.hotline_id == line.id, Alert.to_org_id == org_id, Message.kind == "check")
            .order_by(Alert.sent_at)
        ).scalars()
        checks: list[dict[str, Any]] = [
            {
                "sent_at": a.sent_at.isoformat(),
                "status": a.status,
                "acked_by": a.acked_by,
                "step": a.step,
                "seconds": round((a.acked_at - a.sent_at).total_seconds(), 1) if a.acked_at else None,
            }
            for a in rows
        ]
        answered: list[float] = [c["seconds"] for c in checks if c["seconds"] is not None]
        out["sides"].append(
            {
                "org": sharing.org(org_id).name,
                "org_id": org_id,
                "checks": checks,
                "answered": len(answered),
                "median_seconds": statistics.median(answered) if answered else None,
                "unanswered": sum(1 for c in checks if c["status"] == "exhausted"),
            }
        )
    return out


def alerts_of(store: Store, conversation_id: str) -> dict[str, Alert]:
    """The alerts of a conversation's messages the acting user may see, by message id."""
    stmt = (
        select(Alert)
        .join(Message, Message.id == Alert.message_id)
        .where(Message.conversation_id == conversation_id, store.visible(Message))
    )
    return {a.message_id: a for a in store.session.scalars(stmt)}
