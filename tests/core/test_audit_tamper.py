"""The audit trail against an intruder, on SQLite and PostgreSQL.

A workspace's log gets 12 keyed entries, signed checkpoints at entries 5 and 10 (every
5 here) and one at 12 made by `detente audit checkpoint export`, which writes all three
to a file kept elsewhere. Then an intruder with the store owner's rights (the
append-only triggers off) tampers with the log in one of the ways the probe of issue
#11 tried, usually also emptying the database's checkpoints table and deleting or
rewriting the chain head file, and `detente audit verify --checkpoints FILE` must
exit 7 and name the first bad entry. The intruder has the database and the workspace
folder but not the audit key, except in the last test, where they hold it and only
the exported file contradicts them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from detente.cli.app import app
from detente.core import audit
from detente.core.audit_keys import AuditKeys
from detente.core.errors import ConfigError
from detente.core.workspace import AUDIT_HEAD, Workspace

ENTRIES = 12


@dataclass
class Trail:
    ws: Workspace
    exported: Path
    runner: CliRunner

    def verify(self, *args: str) -> tuple[int, str]:
        result = self.runner.invoke(app, ["audit", "verify", *args], env={"COLUMNS": "300"})
        return result.exit_code, " ".join(result.output.split())

    def verify_with_checkpoints(self) -> tuple[int, str]:
        return self.verify("--checkpoints", str(self.exported))

    @property
    def head_file(self) -> Path:
        return self.ws.path / AUDIT_HEAD


@pytest.fixture
def trail(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Trail:
    ws.audit_keyring.checkpoint_every = 5
    with ws.session() as session:
        for n in range(1, ENTRIES + 1):
            audit.append(
                session,
                actor=f"analyst{n % 3}",
                org_id=None,
                action="update" if n % 4 else "export",
                table="engagements",
                record_id=f"00000000-0000-4000-8000-{n:012d}",
                detail={"fields": ["troops"], "n": n},
            )
    monkeypatch.setenv("DETENTE_WORKSPACE", str(ws.path))
    monkeypatch.setenv("DETENTE_DATABASE_URL", ws.database_url)
    out = tmp_path / "elsewhere" / "checkpoints.jsonl"
    runner = CliRunner()
    result = runner.invoke(app, ["audit", "checkpoint", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 3 checkpoint(s)" in result.output
    return Trail(ws, out, runner)


def as_store_owner(ws: Workspace, *tamper: Callable[[Connection], object]) -> None:
    """Run ``tamper`` with the rights of whoever owns the store, the guard switched off."""
    url = make_url(ws.database_url)
    sqlite = url.get_backend_name() == "sqlite"
    engine = create_engine(url if sqlite else url.set(username="postgres"))
    with engine.begin() as conn:
        if sqlite:
            for table in ("audit_log", "audit_checkpoints"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
        else:
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # triggers do not fire
        for step in tamper:
            step(conn)
    engine.dispose()


def wipe_checkpoints(conn: Connection) -> None:
    conn.execute(text("DELETE FROM audit_checkpoints"))


def rows(conn: Connection, since: int = 1) -> list[audit.AuditEntry]:
    log = audit.AuditEntry
    return list(Session(bind=conn).scalars(select(log).where(log.seq >= since).order_by(log.seq)))


Forger = Callable[[audit.AuditEntry, str], tuple[str, str | None]]  # (entry, prev) -> (hash, key_id)


def plain_sha256(row: audit.AuditEntry, prev: str) -> tuple[str, str | None]:
    """No key: pass the entry off as one from before the chain was keyed."""
    fields = (row.seq, row.at, row.actor, row.org_id, row.action, row.target_table, row.record_id)
    return audit._digest(*fields, row.detail, prev), None


def wrong_key(row: audit.AuditEntry, prev: str) -> tuple[str, str | None]:
    """A key of the intruder's own, keeping the real key's id (it is in the database)."""
    fields = (row.seq, row.at, row.actor, row.org_id, row.action, row.target_table, row.record_id)
    payload = audit._payload(*fields, row.detail, prev, row.key_id)
    return hmac.new(b"guessed" * 4, payload, hashlib.sha256).hexdigest(), row.key_id


def rewrite_from(seq: int, forger: Forger) -> Callable[[Connection], None]:
    """Alter entry ``seq`` and recompute every hash after it with ``forger``: a careful forger."""

    def tamper(conn: Connection) -> None:
        before = rows(conn, seq - 1)
        prev = before[0].hash if seq > 1 else audit.GENESIS
        for row in before if seq == 1 else before[1:]:
            if row.seq == seq:
                row.actor = "nobody"
            digest, key_id = forger(row, prev)
            conn.execute(
                text(
                    "UPDATE audit_log SET actor = :a, prev_hash = :p, hash = :h, key_id = :k WHERE seq = :s"
                ),
                {"a": row.actor, "p": prev, "h": digest, "k": key_id, "s": row.seq},
            )
            prev = digest

    return tamper


def sql(statement: str) -> Callable[[Connection], object]:
    return lambda conn: conn.execute(text(statement))


def broken(result: tuple[int, str], seq: int, *fragments: str) -> None:
    code, out = result
    assert code == 7, out
    assert out.startswith(f"audit chain BROKEN at entry {seq}: "), out
    for fragment in fragments:
        assert fragment in out, out


CHECKPOINT = r"the signed checkpoint of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \((.*), line (\d)\)"


# 1
def test_changed_entry(trail: Trail) -> None:
    as_store_owner(trail.ws, sql("""UPDATE audit_log SET detail = '{"fields": []}' WHERE seq = 6"""))
    broken(trail.verify_with_checkpoints(), 6, "content was altered, or the entry was forged")


# 2
def test_deleted_entry(trail: Trail) -> None:
    as_store_owner(trail.ws, sql("DELETE FROM audit_log WHERE seq = 5"))
    broken(trail.verify_with_checkpoints(), 5, "entry 5 is missing (next is 6)")


# 3
def test_swapped_entries(trail: Trail) -> None:
    as_store_owner(
        trail.ws,
        sql("UPDATE audit_log SET seq = -1 WHERE seq = 4"),
        sql("UPDATE audit_log SET seq = 4 WHERE seq = 5"),
        sql("UPDATE audit_log SET seq = 5 WHERE seq = -1"),
    )
    broken(trail.verify_with_checkpoints(), 4, "does not follow the entry before it")


# 4
def test_truncated_with_the_head_file(trail: Trail) -> None:
    as_store_owner(trail.ws, sql("DELETE FROM audit_log WHERE seq > 7"), wipe_checkpoints)
    assert trail.head_file.exists()
    broken(trail.verify_with_checkpoints(), 8, "the log ends at entry 7 but reached 12: truncated")


# 5
def test_truncated_without_the_head_file(trail: Trail) -> None:
    as_store_owner(trail.ws, sql("DELETE FROM audit_log WHERE seq > 7"), wipe_checkpoints)
    trail.head_file.unlink()
    # what remains is a consistent keyed chain: only the file kept elsewhere shows the cut
    assert trail.verify()[0] == 0
    result = trail.verify_with_checkpoints()
    broken(result, 8, "the log ends at entry 7 but", "covers entry 10: truncated")
    assert re.search(CHECKPOINT, result[1]).groups() == (str(trail.exported), "2")  # type: ignore[union-attr]


# 6
def test_truncated_with_the_head_file_rewritten(trail: Trail) -> None:
    """The head file rewritten to the new end, as the probe did: its HMAC gives it away."""
    with trail.ws.session() as session:
        seventh = session.get(audit.AuditEntry, 7)
        assert seventh is not None
        forged = {"seq": 7, "hash": seventh.hash, "mac": hashlib.sha256(b"no key").hexdigest()}
    as_store_owner(trail.ws, sql("DELETE FROM audit_log WHERE seq > 7"), wipe_checkpoints)
    trail.head_file.write_text(json.dumps(forged))
    broken(trail.verify(), 7, "the chain head file was rewritten (its MAC does not match)")
    trail.head_file.write_text(json.dumps({"seq": 7, "hash": seventh.hash}))  # or with no MAC at all
    broken(trail.verify(), 7, "the chain head file has no MAC although the chain is keyed")
    trail.head_file.write_text("{not json")  # or garbage
    code, out = trail.verify()
    assert code == 7 and out.startswith("audit chain BROKEN:") and "head file is unreadable" in out, out
    trail.head_file.unlink()
    broken(trail.verify_with_checkpoints(), 8, "covers entry 10: truncated")


# 7
def test_last_entry_deleted(trail: Trail) -> None:
    as_store_owner(trail.ws, sql(f"DELETE FROM audit_log WHERE seq = {ENTRIES}"), wipe_checkpoints)
    trail.head_file.unlink()
    broken(trail.verify_with_checkpoints(), 12, "the log ends at entry 11 but", "covers entry 12: truncated")


# 8
def test_chain_recomputed_with_the_head_file(trail: Trail) -> None:
    """From entry 3 on, with a key of the intruder's own, then with plain SHA-256."""
    as_store_owner(trail.ws, rewrite_from(3, wrong_key), wipe_checkpoints)
    broken(trail.verify_with_checkpoints(), 3, "content was altered, or the entry was forged (its HMAC")
    as_store_owner(trail.ws, rewrite_from(3, plain_sha256))
    broken(trail.verify_with_checkpoints(), 3, "is unkeyed although the chain before it is keyed: forged")


# 9
def test_chain_recomputed_without_the_head_file(trail: Trail) -> None:
    """From the very first entry: with a wrong key the first entry's HMAC fails; with plain
    SHA-256 the log passes for one from before keying, consistent by itself, and only the
    exported checkpoints contradict it."""
    as_store_owner(trail.ws, rewrite_from(1, wrong_key), wipe_checkpoints)
    trail.head_file.unlink()
    broken(trail.verify_with_checkpoints(), 1, "content was altered, or the entry was forged (its HMAC")
    as_store_owner(trail.ws, rewrite_from(1, plain_sha256))
    assert trail.verify()[0] == 0  # the limit: nothing but the file kept elsewhere remembers
    result = trail.verify_with_checkpoints()
    broken(result, 5, "does not match", "rewritten")
    assert re.search(CHECKPOINT, result[1]).groups() == (str(trail.exported), "1")  # type: ignore[union-attr]


# 10
def test_forged_append(trail: Trail) -> None:
    def forge(conn: Connection) -> None:
        last = rows(conn, ENTRIES)[0]
        entry = audit.AuditEntry(
            seq=ENTRIES + 1, at=last.at, actor="admin", org_id=None, action="login", target_table=None,
            record_id=None, detail="{}", prev_hash=last.hash, key_id=last.key_id,
        )  # fmt: skip
        entry.hash = wrong_key(entry, last.hash)[0]
        session = Session(bind=conn)
        session.add(entry)
        session.flush()

    # an INSERT needs no guard lifted: the append-only triggers only stop UPDATE and DELETE
    url = make_url(trail.ws.database_url)
    engine = create_engine(url)
    with engine.begin() as conn:
        forge(conn)
    engine.dispose()
    broken(trail.verify_with_checkpoints(), 13, "content was altered, or the entry was forged")


# 11
def test_trigger_dropped_then_tampered(trail: Trail) -> None:
    """One DROP TRIGGER by the application's own database role lifts the guard; the chain still tells."""
    engine = create_engine(make_url(trail.ws.database_url))
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            assert conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) is False
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        conn.execute(text("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2"))
    engine.dispose()
    broken(trail.verify_with_checkpoints(), 2, "content was altered, or the entry was forged")


def test_a_holder_of_the_key_is_contradicted_only_by_exported_checkpoints(trail: Trail) -> None:
    """With the key, an intruder rewrites entry 3 onwards consistently, signs the database's
    checkpoints again and writes a matching head file: verify without the exported file
    passes (what the README says a key holder can do); the file kept elsewhere does not."""
    keys = trail.ws.audit_keyring.get()
    assert keys is not None

    def keyed(row: audit.AuditEntry, prev: str) -> tuple[str, str | None]:
        row.prev_hash = prev
        return audit._keyed_digest(keys, row), keys.key_id

    def resign(conn: Connection) -> None:
        wipe_checkpoints(conn)
        session = Session(bind=conn)
        for seq in (5, 10, 12):
            audit._sign(session, keys, seq, rows(conn, seq)[0].hash)

    as_store_owner(trail.ws, rewrite_from(3, keyed), resign)
    last = rows_now(trail.ws)[-1]
    trail.head_file.write_text(
        json.dumps({"seq": last.seq, "hash": last.hash, "mac": audit.head_mac(keys, last.seq, last.hash)})
    )
    assert trail.verify()[0] == 0
    broken(trail.verify_with_checkpoints(), 5, "does not match", "rewritten")
    # exporting into the file kept elsewhere refuses to paper over the disagreement
    before = trail.exported.read_text()
    result = trail.runner.invoke(app, ["audit", "checkpoint", "export", "--out", str(trail.exported)])
    assert result.exit_code == 7 and "disagrees" in result.output
    assert trail.exported.read_text() == before


def rows_now(ws: Workspace) -> list[audit.AuditEntry]:
    with ws.session() as session:
        return list(session.scalars(select(audit.AuditEntry).order_by(audit.AuditEntry.seq)))


def test_an_intact_chain_verifies_and_a_damaged_file_is_named(trail: Trail) -> None:
    code, out = trail.verify_with_checkpoints()
    head = rows_now(trail.ws)[-1].hash
    assert code == 0, out
    assert out.startswith(f"audit chain intact: {ENTRIES} entries, head {head[:16]}")
    keys = trail.ws.audit_keyring.get()
    assert keys is not None
    assert f"keyed with HMAC-SHA256, key {keys.key_id}" in out
    assert "3 signed checkpoint(s) in the database match, the latest at entry 12" in out
    latest = f"3 exported checkpoint(s) match, the latest at entry 12 ({trail.exported}, line 3)"
    assert f"{latest}, key {keys.fingerprint}" in out
    lines = [json.loads(line) for line in trail.exported.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [5, 10, 12]
    assert {line["public_key"] for line in lines} == {keys.public_key}
    assert {line["fingerprint"] for line in lines} == {keys.fingerprint}
    # exporting again adds only what is new, and the file still verifies
    with trail.ws.session() as session:
        audit.append(session, actor="analyst1", org_id=None, action="login")
    result = trail.runner.invoke(app, ["audit", "checkpoint", "export", "--out", str(trail.exported)])
    assert "wrote 4 checkpoint(s)" in result.output and "(1 new)" in result.output
    assert trail.verify_with_checkpoints()[0] == 0
    # a damaged file is an error naming its line and field, or a bad signature
    lines = trail.exported.read_text().splitlines()
    bad = json.loads(lines[1])
    bad["hash"] = "not hex"
    trail.exported.write_text("\n".join([lines[0], json.dumps(bad), lines[2]]) + "\n")
    code, out = trail.verify_with_checkpoints()
    assert code == 2, out
    assert f"{trail.exported}, line 2, field 'hash': 64 lowercase hexadecimal characters" in out
    bad = json.loads(lines[1])
    bad["signature"] = AuditKeys.from_secret(b"k" * 32, "x").sign(b"something else")
    trail.exported.write_text("\n".join([lines[0], json.dumps(bad), lines[2]]) + "\n")
    broken(trail.verify_with_checkpoints(), 10, "has a bad signature")


def test_the_key_file_is_private_and_verify_without_it_says_so(
    trail: Trail, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = trail.ws.path / "audit.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(bytes.fromhex(key.read_text().strip())) == 32
    key.rename(trail.ws.path.parent / "kept-elsewhere.key")
    code, out = trail.verify_with_checkpoints()
    assert code == 3, out
    assert f"the audit log is keyed (HMAC-SHA256) but there is no audit key: {key} does not exist" in out
    assert "DETENTE_AUDIT_KEY_FILE" in out
    # nor does a write make a new key for a keyed log
    with (
        pytest.raises(ConfigError, match="no audit key"),
        Workspace(trail.ws.path, trail.ws.settings, trail.ws.engine).session() as session,
    ):
        audit.append(session, actor="x", org_id=None, action="login")
    assert not key.exists()
    # the key named by DETENTE_AUDIT_KEY_FILE (or given in DETENTE_AUDIT_KEY) verifies
    monkeypatch.setenv("DETENTE_AUDIT_KEY_FILE", str(trail.ws.path.parent / "kept-elsewhere.key"))
    assert trail.verify_with_checkpoints()[0] == 0
    monkeypatch.setenv("DETENTE_AUDIT_KEY", secrets.token_hex(32))  # a different key: every entry is suspect
    broken(trail.verify(), 1, "is keyed with key", "not with this workspace's audit key")
