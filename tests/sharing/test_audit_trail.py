"""The audit trail: every change, marking change, export and login is on it; the
database refuses to edit it; a log from before the chain was keyed is re-keyed and
reported honestly. Tampering, case by case, is in tests/core/test_audit_tamper.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from detente.bulk.io import export_tables
from detente.core import audit
from detente.core.migrate import upgrade
from detente.core.settings import Settings
from detente.core.workspace import Workspace, make_engine, open_workspace
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
    with trail.session() as session:
        assert audit.checkpoint(session) is not None  # a signed checkpoint at entry 10
    statements = (
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log WHERE seq = 3",
        "UPDATE audit_checkpoints SET hash = 'x'",
        "DELETE FROM audit_checkpoints",
    )
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), trail.session() as session:
            session.execute(text(statement))
    assert len(entries(trail)) == 10
    with trail.session() as session:
        assert [c.seq for c in audit.stored_checkpoints(session)] == [10]


def test_a_log_from_before_keying_is_rekeyed_and_its_old_part_reported(settings: Settings) -> None:
    """A workspace whose log was written by detente before 0010 (plain SHA-256, a head file
    without MAC) verifies as unkeyed; its next entry re-keys the chain with an audit.rekey
    entry; from then on rewriting the old entries is caught too."""
    engine = make_engine(settings.database_url, settings.pool_size, settings.pool_overflow)
    upgrade(engine, "0009")
    prev, rows = audit.GENESIS, []
    for seq in (1, 2, 3):
        at = datetime(2025, 1, seq, tzinfo=UTC)
        digest = audit._digest(seq, at, "old", None, "create", "actors", None, "{}", prev)
        rows.append({"seq": seq, "at": at, "prev": prev, "hash": digest})
        prev = digest
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (seq, at, actor, org_id, action, target_table, record_id, "
                "detail, prev_hash, hash) "
                "VALUES (:seq, :at, 'old', NULL, 'create', 'actors', NULL, '{}', :prev, :hash)"
            ),
            rows,
        )
    engine.dispose()
    settings.workspace.mkdir(parents=True)
    (settings.workspace / "detente-workspace.json").write_text("{}")
    (settings.workspace / "audit-head.json").write_text(json.dumps({"seq": 3, "hash": prev}))
    with open_workspace(settings) as ws:
        with ws.session() as session:
            before = audit.verify(session, expected_head=ws.audit_head())
        assert (before.ok, before.entries, before.legacy, before.key_id) == (True, 3, 3, None)
        assert "entries 1-3 predate keying (plain SHA-256): not keyed yet" in before.notes
        assert not (ws.path / "audit.key").exists()  # verifying never makes a key
        with ws.session() as session:
            Sharing(session).attempt_login("tester", "not the password")
        log = entries(ws)
        assert [e.action for e in log] == ["create"] * 3 + ["audit.rekey", "login.failed"]
        assert json.loads(log[3].detail)["legacy_entries"] == 3 and log[3].prev_hash == prev
        assert [e.key_id is None for e in log] == [True] * 3 + [False] * 2
        with ws.session() as session:
            after = audit.verify(session, expected_head=ws.audit_head())
        assert (after.ok, after.entries, after.legacy) == (True, 5, 3)
        assert after.key_id is not None and ws.audit_head() == (5, log[-1].hash, ws.audit_head().mac)
        assert any("vouches for them as they stood" in note for note in after.notes)
        # the old part rewritten consistently with plain SHA-256: the re-keying entry holds
        as_store_owner(ws, lambda conn: _rewrite_legacy(conn, 2))
        with ws.session() as session:
            result = audit.verify(session, expected_head=ws.audit_head())
        assert str(result) == "audit chain BROKEN at entry 4: does not follow the entry before it"


def as_store_owner(ws: Workspace, tamper: Callable[[Connection], object]) -> None:
    """Run ``tamper`` with the rights of whoever owns the store, the guard switched off."""
    url = make_url(ws.database_url)
    sqlite = url.get_backend_name() == "sqlite"
    engine = create_engine(url if sqlite else url.set(username="postgres"))
    with engine.begin() as conn:
        if sqlite:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # triggers do not fire
        tamper(conn)
    engine.dispose()


def _rewrite_legacy(conn: Connection, seq: int) -> None:
    """Alter unkeyed entry ``seq`` and recompute the unkeyed hashes after it."""
    log = audit.AuditEntry
    rows = list(Session(bind=conn).scalars(select(log).where(log.seq >= seq - 1).order_by(log.seq)))
    prev = rows[0].hash
    for row in rows[1:]:
        if row.key_id is not None:
            break
        actor = "nobody" if row.seq == seq else row.actor
        fields = (row.seq, row.at, actor, row.org_id, row.action, row.target_table, row.record_id, row.detail)
        digest = audit._digest(*fields, prev)
        conn.execute(
            text("UPDATE audit_log SET actor = :a, prev_hash = :p, hash = :h WHERE seq = :s"),
            {"a": actor, "p": prev, "h": digest, "s": row.seq},
        )
        prev = digest
