"""Users, passwords, tokens, throttling and the downgrade guard, on both stores."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from detente.cli.app import app
from detente.core import audit
from detente.core.errors import AuthError
from detente.core.workspace import Workspace
from detente.sharing.service import MAX_FAILURES, Sharing
from detente.sharing.tables import ApiToken, User
from detente.store.service import Store
from tests import conftest
from tests import factories as f

PASSWORD = "correct horse battery"


@pytest.fixture
def cli_ws(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """The workspace with a password-holding administrator, reachable from the CLI."""
    with ws.session() as session:
        admin = f.admin(session)
        sharing = Sharing(session)
        sharing.add_user(
            "amara", sharing.user(admin.user).org_id, role="analyst",
            clearances={"national": "SECRET"}, password=PASSWORD, actor=admin,
        )  # fmt: skip
    monkeypatch.setenv("DETENTE_WORKSPACE", str(ws.path))
    monkeypatch.setenv("DETENTE_DATABASE_URL", ws.database_url)
    return ws


def cli(monkeypatch: pytest.MonkeyPatch, *args: str, password: str | None = None) -> tuple[int, str]:
    if password is not None:
        monkeypatch.setenv("DETENTE_PASSWORD", password)
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, " ".join(result.output.split())


def test_login_is_throttled_and_every_attempt_is_audited(
    cli_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = cli(monkeypatch, "login", "amara", password=PASSWORD)
    assert code == 0 and "logged in as amara (analyst, FRA)" in out
    for _ in range(MAX_FAILURES):
        code, out = cli(monkeypatch, "login", "amara", password="wrong password!")
        assert (code, out) == (6, "error: wrong username or password")
    # each failure was committed by its own process: now even the right password is refused
    code, out = cli(monkeypatch, "login", "amara", password=PASSWORD)
    assert (code, out) == (6, "error: too many failed logins: try again later")
    # an unknown user gets the same answer as a wrong password
    code, out = cli(monkeypatch, "login", "nobody", password=PASSWORD)
    assert (code, out) == (6, "error: wrong username or password")
    with cli_ws.session() as session:
        actions = [e.action for e in session.scalars(select(audit.AuditEntry).order_by(audit.AuditEntry.seq))]
        assert actions[-(MAX_FAILURES + 4) :] == [
            "login",
            "token.issue",
            *["login.failed"] * MAX_FAILURES,
            "login.locked",
            "login.failed",
        ]
        assert session.scalar(select(User.locked_until).where(User.username == "amara")) is not None


def test_passwords_and_tokens_are_stored_only_as_hashes(cli_ws: Workspace) -> None:
    with cli_ws.session() as session:
        sharing = Sharing(session)
        user = sharing.user("amara")
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        # the tests hash cheaply (tests/conftest.py); the service's own hasher keeps at least
        # RFC 9106's low-memory cost: 3 passes over 64 MiB
        real = conftest.PRODUCTION_HASHER
        assert real is not None and real.type.name == "ID"
        assert real.time_cost >= 3 and real.memory_cost >= 64 * 1024 and real.parallelism >= 1
        secret, token = sharing.issue_token(sharing.login("amara", PASSWORD), name="api", days=7)
        stored = session.scalars(select(ApiToken)).all()
        assert [t.token_hash for t in stored if t.id == token.id] == [
            hashlib.sha256(secret.encode()).hexdigest()
        ]
        assert all(secret not in json.dumps([str(v) for v in vars(t).values()]) for t in stored)
        assert sharing.authenticate(secret).user == "amara"
    if not cli_ws.is_postgres:  # the embedded store's file holds neither secret
        db = Path(str(cli_ws.engine.url.database))
        raw = b"".join(p.read_bytes() for p in (db, db.with_name(db.name + "-wal")) if p.exists())
        assert raw.startswith(b"SQLite format 3")
        assert secret.encode() not in raw and PASSWORD.encode() not in raw


def test_expired_and_revoked_tokens_are_refused(cli_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with cli_ws.session() as session:
        sharing = Sharing(session)
        amara = sharing.principal("amara")
        expired, _ = sharing.issue_token(amara, days=0)
        revoked, token = sharing.issue_token(amara, days=30)
        good, _ = sharing.issue_token(amara, days=30)
        sharing.revoke_token(token.id, actor=amara)
    with cli_ws.session() as session:
        sharing = Sharing(session)
        for secret in (expired, revoked, "dtt_" + "x" * 43):
            with pytest.raises(AuthError, match="invalid, expired or revoked token"):
                sharing.authenticate(secret)
        assert sharing.authenticate(good).user == "amara"
    assert cli(monkeypatch, "--token", revoked, "status")[0] == 6
    code, out = cli(monkeypatch, "--token", good, "status")
    assert code == 0 and "acting as: amara (analyst, FRA)" in out


def test_administrators_grant_no_more_than_they_hold_and_only_in_their_organisation(ws: Workspace) -> None:
    with ws.session() as session:
        root = f.admin(session)
        sharing = Sharing(session)
        gbr = sharing.add_org("UK Ministry of Defence", "GBR", actor=root)
        sharing.add_user(
            "gbr-admin", gbr.id, role="administrator", clearances={"national": "SECRET"},
            password=None, actor=root,
        )  # fmt: skip
        gbr_admin = sharing.principal("gbr-admin")
        with pytest.raises(AuthError, match="above your own"):
            sharing.add_user(
                "gbr-ts", gbr.id, role="analyst", clearances={"national": "TOP SECRET"},
                password=None, actor=gbr_admin,
            )  # fmt: skip
        with pytest.raises(AuthError, match="their own organisation"):
            sharing.add_user(
                "mole", sharing.user(root.user).org_id, role="analyst", clearances={},
                password=None, actor=gbr_admin,
            )  # fmt: skip
        sharing.add_user(
            "gbr-viewer",
            gbr.id,
            role="viewer",
            clearances={"national": "SECRET"},
            password=None,
            actor=gbr_admin,
        )
        for rogue in ("gbr-viewer", "gbr-admin"):  # an administrator is not the operator either
            with pytest.raises(AuthError, match="only the workspace's operator may add organisations"):
                sharing.add_org("Rogue", "FRA", actor=sharing.principal(rogue))
        with pytest.raises(AuthError, match="cannot change actors"):
            Store(session, sharing.principal("gbr-viewer")).create(
                "actors", {"name": "X", "kind": "unit", "country": "GBR"}
            )


def test_the_downgrade_guard_in_the_registry(ws: Workspace) -> None:
    with ws.session() as session:
        root = f.admin(session)
        sharing = Sharing(session)
        org = sharing.user(root.user).org_id
        sharing.add_user(
            "low", org, role="planner", clearances={"national": "CONFIDENTIAL"}, password=None, actor=root
        )
        low = Store(session, sharing.principal("low"))
        with pytest.raises(AuthError, match="refused"):
            f.state(low, "FRA", marking="SECRET")  # above their own clearance
        unit = f.state(low, "FRA", marking="CONFIDENTIAL")
        widened = low.update(
            "actors", unit.id, {"marking": "CONFIDENTIAL//REL TO KEN, NATO"}, expected_version=1
        )
        assert widened.marking == "CONFIDENTIAL//REL TO KEN, NATO"
        ken = sharing.add_org("Kenya Ministry of Defence", "KEN", actor=root)
        sharing.add_user("ken", ken.id, role="administrator", clearances=f.FULL, password=None, actor=root)
        other = Store(session, sharing.principal("ken"))
        # another organisation's record, even released to them, is not theirs to re-mark
        with pytest.raises(AuthError, match="another organisation"):
            other.update("actors", unit.id, {"marking": "UNCLASSIFIED//TLP:CLEAR"}, expected_version=2)
        assert Store(session, root).get("actors", unit.id).marking == "CONFIDENTIAL//REL TO KEN, NATO"
        changes = [
            json.loads(e.detail)
            for e in session.scalars(select(audit.AuditEntry).where(audit.AuditEntry.action == "marking"))
        ]
        assert changes == [{"from": "CONFIDENTIAL//NOFORN", "to": "CONFIDENTIAL//REL TO KEN, NATO"}]


def test_cli_administration(cli_ws: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    code, _ = cli(monkeypatch, "login", "tester", password=PASSWORD)
    assert code == 6  # the factory's administrator has no password: token-only
    code, out = cli(monkeypatch, "login", "amara", password=PASSWORD)
    assert code == 0
    code, out = cli(monkeypatch, "orgs", "add", "Rogue", "--country", "FRA")
    assert (code, out) == (6, "error: only the workspace's operator may add organisations")
    code, out = cli(monkeypatch, "coalitions", "list")
    assert code == 0 and "NATO" in out and "FVEY" in out
    code, out = cli(monkeypatch, "users", "list")
    assert code == 0 and "amara" in out and "tester" in out
