"""Workspaces: creation, refusal of non-workspaces, forward migration keeping data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from detente.core import workspace
from detente.core.errors import ConfigError
from detente.core.migrate import current_revision, head_revision, upgrade
from detente.core.settings import Settings
from detente.core.workspace import create_workspace, make_engine, open_workspace
from tests.conftest import POSTGRES_URL


def test_init_creates_a_migrated_workspace(settings: Settings) -> None:
    with create_workspace(settings) as ws:
        assert current_revision(ws.engine) == head_revision()
        tables = set(inspect(ws.engine).get_table_names())
    assert {"actors", "people", "agreements", "engagements", "commitments"} <= tables
    assert (settings.workspace / "detente-workspace.json").exists()
    # opening again is idempotent
    with open_workspace(settings) as ws:
        assert current_revision(ws.engine) == head_revision()


def test_open_refuses_a_folder_that_is_not_a_workspace(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no detente workspace .* run `detente init`"):
        open_workspace(Settings(workspace=tmp_path / "nothing-here"))


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    bad = Settings(workspace=tmp_path, database_url="postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(ConfigError, match="cannot open the registry at 127.0.0.1:1/none"):
        create_workspace(bad)


def test_bad_database_url_is_refused() -> None:
    with pytest.raises(ValueError, match="DETENTE_DATABASE_URL"):
        Settings(database_url="mysql://x/y")


def test_old_workspace_is_migrated_forward_without_losing_data(settings: Settings) -> None:
    """A workspace made by an older detente (schema 0001) keeps its rows when opened."""
    url = settings.database_url
    engine = make_engine(url, settings.pool_size, settings.pool_overflow)
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    assert "engagements" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO actors (id, name, kind, country, aliases, created_at, updated_at, "
                "created_by, updated_by, version, marking) VALUES ('7b0d1c8e-0000-4000-8000-"
                "000000000001', 'Ghana', 'state', 'GHA', '[]', '2020-01-01 00:00:00', "
                "'2020-01-01 00:00:00', 'old', 'old', 3, 'UNCLASSIFIED')"
            )
        )
    engine.dispose()
    settings.workspace.mkdir(parents=True)
    (settings.workspace / "detente-workspace.json").write_text("{}")
    with open_workspace(settings) as ws, ws.session() as s:
        from tests import factories as f

        assert current_revision(ws.engine) == head_revision()
        reg = f.registry(s)
        ghana = reg.get("actors", "7b0d1c8e-0000-4000-8000-000000000001")
        assert (ghana.name, ghana.version, ghana.created_by) == ("Ghana", 3, "old")
        # records from before organisations existed were adopted by the first organisation
        assert s.scalar(text("SELECT owner_org_id FROM actors")) == reg.principal.org
        # the new tables work with the old data
        eng = reg.create(
            "engagements",
            {"title": "Visit", "kind": "senior_visit", "lead_actor_id": ghana.id, "start_date": "2025-01-01"},
        )
        assert reg.get("engagements", eng.id).lead_actor_id == ghana.id


def _backend(ws: Any) -> int:
    with ws.session() as session:
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_pooled_postgresql_connection_lost_while_idle_is_replaced(
    tmp_path: Path, postgres_schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection the server dropped: tested before use once idle a while (the
    next unit works, on a new connection); used again within the idle time, it fails that
    one unit, and the pool replaces it for the next."""
    admin = create_engine(POSTGRES_URL)
    with create_workspace(Settings(workspace=tmp_path / "ws", database_url=postgres_schema_url)) as ws:
        for idle, fails in ((0.0, False), (3600.0, True)):
            monkeypatch.setattr(workspace, "PING_IDLE_SECONDS", idle)
            pid = _backend(ws)
            with admin.connect() as db:
                assert db.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
            if fails:
                with pytest.raises(DBAPIError) as lost:
                    _backend(ws)
                assert lost.value.connection_invalidated
            assert _backend(ws) != pid
    admin.dispose()
