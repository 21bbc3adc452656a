"""Test fixtures for detente.

Fixture policy (read before adding a test):
- Stores are real. Every test that touches the registry takes the ``ws``
  fixture, which runs it twice: on a SQLite file and on the PostgreSQL server
  named by ``DETENTE_TEST_POSTGRES_URL`` (default: the local server at
  127.0.0.1:5432, database ``test``). Each test gets a fresh PostgreSQL schema,
  migrated by Alembic like a user's workspace. PostgreSQL being unreachable is
  a failure, never a skip. A SQLite test starts from a copy of one empty
  registry migrated by Alembic once per session (``migrated_sqlite``): the same
  file a fresh migration makes, without half a second per test; migrating a new
  file is what ``tests/core/test_workspace.py`` checks, and it takes
  ``settings``, not ``ws``, so it still migrates from nothing.
- Passwords are hashed with Argon2id at its smallest cost during the tests
  (``cheap_password_hashing``): the same code path and hash format, without a
  fifth of a second per hash and per login. The production hasher's cost is
  asserted in ``tests/sharing/test_auth.py``.
- Data files are real. Tests read the smallest real file that shows the
  behaviour from ``../shared/data`` (beside the project root; override with
  ``DETENTE_SHARED_DATA``). Nothing from there is copied into the repository.
- Records are made by the tiny factories in ``tests/factories.py``; no mocks
  of our own store or services.
- No timers: speed is measured in ``benchmarks/``, not asserted here.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from detente.core.db import drop_postgres_schema, provision_postgres_schema
from detente.core.settings import Settings
from detente.core.workspace import Workspace, create_workspace
from detente.store.service import Store
from tests import factories as f

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "DETENTE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def shared_data() -> Path:
    """The folder of real open datasets used by tests (never copied into the repo)."""
    path = Path(os.environ.get("DETENTE_SHARED_DATA", ROOT.parent / "shared" / "data"))
    if not path.is_dir():
        raise RuntimeError(f"shared data folder not found at {path}; set DETENTE_SHARED_DATA")
    return path


@pytest.fixture(scope="session")
def shared() -> Path:
    return shared_data()


APP_ROLE = "detente_app"

PRODUCTION_HASHER = None  # the sharing service's own Argon2 hasher, kept for test_auth


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """Argon2id at its smallest cost (1 pass over 8 KiB) instead of the production cost
    (3 passes over 64 MiB, about 0.2 s per hash and per login on CI): every user a test
    makes and every sign-in pay it, hundreds of times per run. The code path and the hash
    format ($argon2id$) are the same; hashes carry their own parameters, so they verify."""
    from argon2 import PasswordHasher

    from detente.sharing import service

    global PRODUCTION_HASHER
    PRODUCTION_HASHER = service._hasher
    patch = pytest.MonkeyPatch()
    patch.setattr(service, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite registry migrated to head by Alembic, once per session."""
    folder = tmp_path_factory.mktemp("migrated")
    path = folder / "registry.sqlite"
    with create_workspace(Settings(workspace=folder / "ws", database_url=f"sqlite:///{path}")):
        pass
    db = sqlite3.connect(path)
    try:  # fold the write-ahead log into the file, so the file alone is the registry
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return path


def start_migrated(template: Path, registry: Path) -> None:
    """Put a copy of the migrated empty registry at ``registry`` (a SQLite file path);
    opening the workspace then finds it at head, as it would after its first migration."""
    registry.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, registry)


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema, owned by an ordinary (non-superuser) role as in
    production, so row-level security binds every test; its URL connects as that role
    and puts the schema first on the search path."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        yield provision_postgres_schema(POSTGRES_URL, schema, APP_ROLE)
    finally:
        drop_postgres_schema(POSTGRES_URL, schema)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite'}"
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(workspace=tmp_path / "ws", database_url=database_url)


@pytest.fixture
def ws(settings: Settings, migrated_sqlite: Path) -> Iterator[Workspace]:
    if settings.database_url.startswith("sqlite:///"):
        start_migrated(migrated_sqlite, Path(settings.database_url.removeprefix("sqlite:///")))
    workspace = create_workspace(settings)
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def reg(ws: Workspace) -> Iterator[Store]:
    """A registry unit of work that commits at the end of the test."""
    with ws.session() as session:
        yield f.registry(session)
