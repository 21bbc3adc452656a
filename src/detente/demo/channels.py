"""The demonstration's secure channels: a hotline between the British and French defence
ministries with a duty roster on each side, its communications checks over the past
weeks (answered, one late), a few sealed messages, and an incident on the crisis log.

Every demo user of the two ministries gets channel keys locked under their demo password
(``demo-<username>-password``), as they would make them themselves, so signing in to the
web app and unlocking with that password opens the messages. Messages are sealed here
exactly as a client seals them: the workspace holds their ciphertext only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from detente.channels.client import Addressee, seal_message
from detente.channels.crypto import KeyPair, generate
from detente.channels.hotlines import ack, create_hotline, run_checks, send_on_hotline
from detente.channels.keys import publish
from detente.channels.messages import create_conversation, recipients
from detente.sharing.service import Sharing
from detente.store.access import system_access
from detente.store.service import ListQuery, Store

__all__ = ["HOTLINE_MARKING", "build_channels"]

HOTLINE_MARKING = "UNCLASSIFIED//REL TO FRA, GBR"
SIDES = ("GBR", "FRA")
# (sender, urgent, text): the hotline's traffic, oldest first
TRAFFIC = (
    ("fra-planner", False, "Notification: FS Aquitaine transits the Dover Strait northbound tonight, 2300Z."),
    (
        "gbr-planner",
        True,
        "Urgent: HMS Tyne reports a close pass by an unidentified RHIB off Cap Gris-Nez. "
        "Please confirm whether it is one of yours.",
    ),
    (
        "fra-planner",
        False,
        "Confirmed: a French customs RHIB on patrol. No further action needed on our side.",
    ),
)


def _password(username: str) -> str:
    return f"demo-{username}-password"


def _keys(session: Session) -> dict[str, KeyPair]:
    sharing = Sharing(session)
    pairs: dict[str, KeyPair] = {}
    for user in sharing.users():
        if user.username.split("-")[0].upper() in SIDES:
            pair = generate()
            publish(
                Store(session, sharing.principal(user.username)),
                pair.published(user.username, _password(user.username)),
            )
            pairs[user.username] = pair
    return pairs


def _send(
    session: Session, pairs: dict[str, KeyPair], sender: str, conversation: str, text: str, urgent: bool
) -> str:
    store = Store(session, Sharing(session).principal(sender))
    to = [
        Addressee(r.username, r.fingerprint or "", r.box_public or "")
        for r in recipients(store, conversation, HOTLINE_MARKING)
        if r.may_read and r.key_id and r.username != sender
    ]
    body = seal_message(
        pairs[sender],
        sender=sender,
        conversation_id=conversation,
        marking=HOTLINE_MARKING,
        to=to,
        text=text,
        urgent=urgent,
    )
    return send_on_hotline(store, body).id


def _checks(session: Session, hotline_id: str) -> None:
    """Four weekly checks, each side answering after a realistic delay (one slow answer)."""
    sharing = Sharing(session)
    start = datetime.now(UTC) - timedelta(days=28)
    delays = {"GBR": (35, 50, 41, 190), "FRA": (62, 44, 58, 39)}
    for week in range(4):
        sent_at = start + timedelta(days=7 * week)
        system_access(session)
        for message in run_checks(session, sent_at, only=hotline_id):
            officer = _first_officer(session, message.id)
            country = officer.split("-")[0].upper()
            ack(
                Store(session, sharing.principal(officer)),
                message.id,
                at=sent_at + timedelta(seconds=delays[country][week]),
            )


def _first_officer(session: Session, message_id: str) -> str:
    from sqlalchemy import select

    from detente.channels.tables import Copy

    return str(session.scalar(select(Copy.recipient).where(Copy.message_id == message_id, Copy.step == 0)))


def build_channels(session: Session, as_of: date | None = None) -> str:
    """Put the hotline, its checks, messages and an incident (opened ``as_of``, today by
    default) into the demo; the hotline's id."""
    from detente.channels.crisis import add_entry

    as_of = as_of or date.today()
    pairs = _keys(session)
    sharing = Sharing(session)
    gbr_admin = Store(session, sharing.principal("gbr-admin"))
    line = create_hotline(
        gbr_admin,
        "London–Paris defence hotline",
        other_org="FRA",
        mine=["gbr-planner", "gbr-vetting"],
        theirs=["fra-planner", "fra-vetting"],
        marking=HOTLINE_MARKING,
        ack_seconds=300,
        check_every_minutes=7 * 24 * 60,
    )
    _checks(session, line.id)
    sent = [_send(session, pairs, who, line.conversation_id, text, urgent) for who, urgent, text in TRAFFIC]
    ack(Store(session, sharing.principal("fra-planner")), sent[1])
    create_conversation(
        Store(session, sharing.principal("gbr-planner")),
        "Attaché office Paris – exercise planning",
        users=["fra-planner", "fra-analyst"],
        marking=HOTLINE_MARKING,
    )
    planner = Store(session, sharing.principal("gbr-planner"))
    incident = planner.create(
        "incidents",
        {
            "external_id": "demo:incident:cap-gris-nez",
            "title": "Close pass off Cap Gris-Nez",
            "opened_on": as_of,
            "status": "closed",
            "marking": HOTLINE_MARKING,
            "summary": "A French customs RHIB passed close to HMS Tyne; cleared on the hotline in minutes.",
        },
    )
    add_entry(planner, incident.id, "message", ref_id=sent[1])
    add_entry(planner, incident.id, "message", ref_id=sent[2])
    engagements = planner.list("engagements", ListQuery(limit=1))
    if engagements:
        add_entry(
            planner,
            incident.id,
            "engagement",
            ref_id=engagements[0].id,
            note="the staff talks it was raised at",
        )
    add_entry(
        planner, incident.id, "decision", note="No protest; add RHIB patrol times to the next staff talks."
    )
    return line.id
