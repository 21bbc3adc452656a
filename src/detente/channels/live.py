"""Live delivery and the server's own work: the bus that hands each recipient their sealed
copies as server-sent events, the record of those deliveries, the escalation loop (an
asyncio task the application starts with its lifespan), and notices by webhook or e-mail.

The loop reads the time from a clock it is given (``datetime.now`` unless a test injects
one) and, every ``tick`` seconds, escalates what is overdue, sends the communications
checks that are due, and writes the deliveries made since the last tick to the audit
trail (one entry per batch, each delivery with its time). Notices carry metadata only:
which hotline, which message, which step, whom; never a message's content.

Each process has its own bus; the workers of ``detente serve --workers N`` (or several
servers on one PostgreSQL) share only the database. So each loop also relays what other
processes committed: copies released and acknowledgements, for the users listening to
it, read from the database at every tick; what its own bus handed out is not sent twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import smtplib
import threading
import urllib.request
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select, update

from detente.channels.hotlines import Notice, escalate_due, run_checks
from detente.channels.messages import events_of, message_payload
from detente.channels.tables import Alert, Copy, Hotline, Message
from detente.core import audit
from detente.core.workspace import Workspace
from detente.store.access import system_access

__all__ = ["Bus", "ChannelSettings", "Clock", "Escalator", "Notifier"]

log = logging.getLogger("detente.channels")
Clock = Callable[[], datetime]
Event = tuple[str, str, dict[str, Any]]  # recipient, event name, payload
CHECK_EVERY = 20  # passes between looks for scheduled communications checks (5 s at the default tick)
# how far back a relay looks: a copy is stamped before its unit of work commits, which may
# wait for the write lock; what was already handed out is skipped by its key
RELAY_LOOKBACK = timedelta(minutes=2)
SENT_KEPT = 20_000  # keys of events handed out, to skip when relayed


def utc_now() -> datetime:
    return datetime.now(UTC)


class ChannelSettings(BaseSettings):
    """Settings of secure channels (``DETENTE_CHANNELS_*``).

    Attributes:
        webhook_url: POST a JSON notice of every escalation, unanswered message and
            check to this URL (``DETENTE_CHANNELS_WEBHOOK_URL``); metadata only.
        smtp_host: send the same notices by e-mail through this SMTP server
            (``DETENTE_CHANNELS_SMTP_HOST``, with ``_SMTP_PORT``, ``_SMTP_FROM``
            and ``_SMTP_TO``, a comma-separated list of addresses).
        tick_seconds: how often the escalation loop looks for missed deadlines
            (``DETENTE_CHANNELS_TICK_SECONDS``; default 0.25 s).
    """

    model_config = SettingsConfigDict(env_prefix="DETENTE_CHANNELS_", extra="ignore")

    webhook_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "detente@localhost"
    smtp_to: str = ""
    tick_seconds: float = 0.25


class Bus:
    """Per-user queues of server-sent events, fed from any thread after a commit."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[tuple[str, dict[str, Any]]]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self.delivered: list[tuple[str, str, datetime]] = []  # (copy id, recipient, when)
        self._sent: OrderedDict[tuple[str, ...], None] = OrderedDict()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    async def listen(self, username: str) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """The events for ``username`` as they come (one stream per connection)."""
        self._loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        with self._lock:
            self._subscribers.setdefault(username, set()).add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            with self._lock:
                self._subscribers.get(username, set()).discard(queue)

    def listeners(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._subscribers.values())

    def recipients(self) -> set[str]:
        """The users listening to this process."""
        with self._lock:
            return {user for user, queues in self._subscribers.items() if queues}

    def publish(self, events: Iterable[Event]) -> None:
        """Hand committed events to their recipients' streams (from any thread), each once:
        an event this bus handed out already (by its copy, or its acknowledgement) is skipped."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        for recipient, name, payload in events:
            key = _key(recipient, name, payload)
            with self._lock:
                if key in self._sent:
                    continue
                self._sent[key] = None
                while len(self._sent) > SENT_KEPT:
                    self._sent.popitem(last=False)
                queues = list(self._subscribers.get(recipient, ()))
            for queue in queues:
                loop.call_soon_threadsafe(queue.put_nowait, (name, payload))

    def record_delivery(self, copy_id: str, recipient: str) -> None:
        with self._lock:
            self.delivered.append((copy_id, recipient, utc_now()))

    def take_deliveries(self) -> list[tuple[str, str, datetime]]:
        with self._lock:
            out, self.delivered = self.delivered, []
        return out


def _key(recipient: str, name: str, payload: dict[str, Any]) -> tuple[str, ...]:
    """What makes an event the same event wherever it comes from."""
    copy = payload.get("copy")
    if copy:
        return (recipient, "copy", str(copy["id"]))
    return (recipient, name, str(payload.get("id")), str(payload.get("by") or payload.get("hotline") or ""))


def committed_events(session: Any, listening: set[str], since: datetime) -> list[Event]:
    """Events in the database since ``since`` for the users ``listening``: copies released
    to them (a message, an escalation's release or a communications check) and their own
    messages' acknowledgements."""
    if not listening:
        return []
    out: list[Event] = []
    released = session.execute(
        select(Copy, Message)
        .join(Message, Message.id == Copy.message_id)
        .where(Copy.recipient.in_(sorted(listening)), Copy.released_at > since)
        .order_by(Copy.released_at)
    ).all()
    for copy, message in released:
        name = "check" if message.kind == "check" else "escalation" if copy.step else "message"
        out.append((copy.recipient, name, message_payload(message, copy)))
    acked = session.execute(
        select(Copy.message_id, Copy.recipient, Copy.acked_at, Message.sender)
        .join(Message, Message.id == Copy.message_id)
        .where(Message.sender.in_(sorted(listening)), Copy.acked_at > since)
        .order_by(Copy.acked_at)
    ).all()
    for message_id, by, at, sender in acked:
        out.append((sender, "ack", {"id": message_id, "by": by, "at": at.isoformat()}))
    return out


@dataclass
class Notifier:
    """Send notices by webhook and e-mail, as configured (failures are logged, never raised)."""

    settings: ChannelSettings = field(default_factory=ChannelSettings)

    def send(self, notices: Iterable[Notice]) -> None:
        for notice in notices:
            body = {
                "event": notice.event,
                "hotline": notice.hotline,
                "message_id": notice.message_id,
                "step": notice.step,
                "to": list(notice.to),
                **notice.detail,
            }
            if self.settings.webhook_url:
                self._post(body)
            if self.settings.smtp_host and self.settings.smtp_to:
                self._mail(body)

    def _post(self, body: dict[str, Any]) -> None:
        request = urllib.request.Request(
            self.settings.webhook_url,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "detente-channels"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                response.read()
        except OSError as exc:
            log.warning("channels webhook %s failed: %s", self.settings.webhook_url, exc)

    def _mail(self, body: dict[str, Any]) -> None:
        mail = EmailMessage()
        mail["Subject"] = f"[detente] {body['event']} on {body['hotline']} (step {body['step']})"
        mail["From"] = self.settings.smtp_from
        mail["To"] = self.settings.smtp_to
        mail.set_content(json.dumps(body, indent=2))
        try:
            with smtplib.SMTP(self.settings.smtp_host, self.settings.smtp_port, timeout=5) as smtp:
                smtp.send_message(mail)
        except OSError as exc:
            log.warning("channels e-mail via %s failed: %s", self.settings.smtp_host, exc)


@dataclass
class Escalator:
    """The server's loop: escalations, checks and the delivery record, every ``tick`` seconds."""

    workspace: Workspace
    bus: Bus
    clock: Clock = utc_now
    notifier: Notifier = field(default_factory=Notifier)
    tick: float = 0.25
    ticks: int = 0  # how many passes it made (tests wait on it, never on the wall clock)

    def _work_to_do(self, at: datetime) -> bool:
        """Whether a pass has anything to write: an alert past its deadline, deliveries to
        record, or (every ``CHECK_EVERY`` passes) hotlines with scheduled checks. A quiet
        workspace is only read, so the loop does not queue for SQLite's write lock."""
        if self.bus.delivered:
            return True
        with self.workspace.session() as session:
            system_access(session)
            due = session.scalar(
                select(Alert.message_id).where(Alert.status == "open", Alert.deadline_at <= at).limit(1)
            )
            if due is not None:
                return True
            if self.ticks % CHECK_EVERY == 0:
                return (
                    session.scalar(
                        select(Hotline.id).where(Hotline.check_every_minutes.is_not(None)).limit(1)
                    )
                    is not None
                )
        return False

    def step(self) -> list[Notice]:
        """One pass, at the clock's time (a thread: the database calls block)."""
        at = self.clock()
        self._relay()
        if not self._work_to_do(at):
            self.ticks += 1
            return []
        with self.workspace.session(write=True) as session:
            system_access(session)
            notices = escalate_due(session, at)
            for m in run_checks(session, at):
                name = session.scalar(
                    select(Hotline.name).where(Hotline.conversation_id == m.conversation_id)
                )
                notices.append(Notice("check", str(name), m.id, 0, ()))
            self._record_deliveries(session)
        self.bus.publish(events_of(session))
        self.notifier.send(notices)
        self.ticks += 1
        return notices

    def _relay(self) -> None:
        """Hand this process's listeners what other processes committed (see the module)."""
        listening = self.bus.recipients()
        if not listening:
            return
        with self.workspace.session() as session:
            system_access(session)
            events = committed_events(session, listening, utc_now() - RELAY_LOOKBACK)
        self.bus.publish(events)

    def _record_deliveries(self, session: Any) -> None:
        done = self.bus.take_deliveries()
        if not done:
            return
        for copy_id, _recipient, at in done:
            session.execute(
                update(Copy).where(Copy.id == copy_id, Copy.delivered_at.is_(None)).values(delivered_at=at)
            )
        detail = {"copies": [{"copy": c, "recipient": r, "at": at.isoformat()} for c, r, at in done]}
        audit.append(
            session,
            actor="detente",
            org_id=None,
            action="channels.deliver",
            table="channel_copies",
            detail=detail,
        )

    async def run(self) -> None:
        """Run until cancelled; a failing pass is logged and the next one tries again."""
        self.bus.bind(asyncio.get_running_loop())
        while True:
            try:
                await asyncio.to_thread(self.step)
            except Exception:  # the loop must outlive one bad pass (a locked database, a lost connection)
                log.exception("channels escalation pass failed")
            await asyncio.sleep(self.tick)
