"""The audit trail: every change, marking change, export and login is on it;
the database refuses to edit it; and when someone edits it anyway (by dropping
the guard with the database owner's rights) `detente audit verify` names the
first bad entry, for each kind of tampering, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from detente.cli.app import app
from detente.core import audit
from detente.core.workspace import Workspace
from detente.registry.io import export_tables
from detente.sharing.service import Sharing
from tests import factories as f


def entries(ws: Workspace) -> list[audit.AuditEntry]:
    with ws.session() as session:
        return list(session.scalars(select(audit.AuditEntry).order_by(audit.AuditEntry.seq)))


@pytest.fixture
def trail(ws: Workspace, tmp_path: Path) -> Workspace:
    """A workspace whose log holds creations, an update, a marking change, an export and a login."""
    with ws.session() as session:
        reg = f.registry(session)
        france = f.state(reg, "FRA")
        kenya = f.state(reg, "KEN")
        eng = f.engagement(reg, france, [kenya])
        reg.update("engagements", eng.id, {"troops": 30}, expected_version=1)
        reg.update("engagements", eng.id, {"marking": "SECRET//REL TO KEN"}, expected_version=2)
        export_tables(reg, "json", tmp_path / "out.json", ["engagements"])
    with ws.session() as session:
        Sharing(session).attempt_login("tester", "not the password")
    return ws


def test_every_kind_of_event_is_logged_without_record_content(trail: Workspace) -> None:
    log = entries(trail)
    actions = [e.action for e in log]
    assert actions == [
        "org.create",
        "user.create",
        "create",
        "create",
        "create",
        "update",
        "update",
        "marking",
        "export",
        "login.failed",
    ]
    marking = log[actions.index("marking")]
    assert json.loads(marking.detail) == {"from": "UNCLASSIFIED", "to": "SECRET//REL TO KEN"}
    assert json.loads(log[actions.index("export")].detail)["rows"] == {"engagements": 1}
    assert all("Staff talks" not in e.detail for e in log)  # titles stay in the marked records
    assert [e.prev_hash for e in log[1:]] == [e.hash for e in log[:-1]]


def test_the_database_refuses_to_edit_the_log(trail: Workspace) -> None:
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log WHERE seq = 3"):
        with pytest.raises(DBAPIError, match="append-only"), trail.session() as session:
            session.execute(text(statement))
    assert len(entries(trail)) == 10


def as_store_owner(ws: Workspace, tamper: Callable[[Connection], object]) -> None:
    """Run ``tamper`` with the rights of whoever owns the store, the guard switched off."""
    url = make_url(ws.database_url)
    sqlite = url.get_backend_name() == "sqlite"
    engine = create_engine(url if sqlite else url.set(username="postgres"))
    with engine.begin() as conn:
        if sqlite:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # triggers do not fire
        tamper(conn)
    engine.dispose()


def _rewrite_from(conn: Connection, seq: int) -> None:
    """Alter entry ``seq`` and recompute every hash after it: a careful forger."""
    log = audit.AuditEntry
    rows = list(Session(bind=conn).scalars(select(log).where(log.seq >= seq - 1).order_by(log.seq)))
    prev = rows[0].hash
    for row in rows[1:]:
        actor = "nobody" if row.seq == seq else row.actor
        digest = audit._digest(
            row.seq, row.at, actor, row.org_id, row.action, row.target_table, row.record_id, row.detail, prev
        )
        conn.execute(
            text("UPDATE audit_log SET actor = :a, prev_hash = :p, hash = :h WHERE seq = :s"),
            {"a": actor, "p": prev, "h": digest, "s": row.seq},
        )
        prev = digest


TAMPERING: dict[str, tuple[Callable[[Connection], object], str]] = {
    "update": (
        lambda c: c.execute(text("""UPDATE audit_log SET detail = '{"fields": []}' WHERE seq = 6""")),
        "BROKEN at entry 6: content was altered",
    ),
    "delete": (
        lambda c: c.execute(text("DELETE FROM audit_log WHERE seq = 5")),
        "BROKEN at entry 5: entry 5 is missing (next is 6)",
    ),
    "reorder": (
        lambda c: [
            c.execute(text(sql))
            for sql in (
                "UPDATE audit_log SET seq = -1 WHERE seq = 4",
                "UPDATE audit_log SET seq = 4 WHERE seq = 5",
                "UPDATE audit_log SET seq = 5 WHERE seq = -1",
            )
        ],
        "BROKEN at entry 4: does not follow the entry before it",
    ),
    "truncate": (
        lambda c: c.execute(text("DELETE FROM audit_log WHERE seq > 7")),
        "BROKEN at entry 8: the log ends at entry 7 but reached 10: truncated",
    ),
    "rewrite": (
        lambda c: _rewrite_from(c, 3),
        "BROKEN at entry 10: does not match the recorded chain head",
    ),
}


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_audit_verify_names_the_first_bad_entry(
    trail: Workspace, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DETENTE_WORKSPACE", str(trail.path))
    monkeypatch.setenv("DETENTE_DATABASE_URL", trail.database_url)
    runner = CliRunner()

    def verify() -> tuple[int, str]:
        result = runner.invoke(app, ["audit", "verify"], env={"COLUMNS": "200"})
        return result.exit_code, " ".join(result.output.split())

    assert verify() == (0, f"audit chain intact: 10 entries, head {entries(trail)[-1].hash[:16]}")
    tamper, message = TAMPERING[kind]
    as_store_owner(trail, tamper)
    code, out = verify()
    assert (code, out) == (7, f"audit chain {message}")
    # the service gives the same answer to code that checks the chain itself
    with trail.session() as session:
        result = audit.verify(session, expected_head=trail.audit_head())
    assert not result.ok and f"BROKEN at entry {result.first_bad}: {result.problem}" == message
