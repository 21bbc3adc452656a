"""Test fixtures for detente.

Fixture policy (read before adding a test):
- Stores are real. Every test that touches the registry takes the ``ws``
  fixture, which runs it twice: on a SQLite file and on the PostgreSQL server
  named by ``DETENTE_TEST_POSTGRES_URL`` (default: the local server at
  127.0.0.1:5432, database ``test``). Each test gets a database of its own. It
  starts from a copy of one empty registry migrated by Alembic once per session:
  a file on SQLite (``migrated_sqlite``), a template database on PostgreSQL
  (``postgres_templates``), the same store a fresh migration makes without two
  seconds per test. Migrating from nothing is what ``tests/core/test_workspace.py``
  checks: it takes ``settings``, not ``ws``, and so gets an empty store (on
  PostgreSQL an empty schema owned by the ordinary role). PostgreSQL being
  unreachable is a failure, never a skip.
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
- One terminal width: the CLI's output is read as a 200-column terminal would show it
  (``COLUMNS``), whatever runs the tests (a terminal, CI, or a pytest-xdist worker with
  none): Rich wraps at the width it finds, and a message wrapped inside a path or a
  name would not be found by the assertions that read it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from detente.core.db import drop_postgres_schema, provision_postgres_schema
from detente.core.settings import Settings
from detente.core.workspace import Workspace, create_workspace
from detente.store.service import Store
from tests import factories as f

os.environ["COLUMNS"] = "200"  # before any console is made; see "One terminal width" above
# how long a browser test waits for a page to show what it expects (a ceiling, not a timer:
# Playwright's 5 s were too short once, for a page under the load of the parallel suite)
expect.set_options(timeout=15_000)

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


def _as_superuser(*statements: str) -> None:
    """Run ``statements`` as the server's superuser, outside a transaction (databases are
    made and dropped)."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        admin.dispose()


def _copy(template: str, name: str) -> None:
    _as_superuser(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def _drop(*names: str) -> None:
    _as_superuser(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names))


@pytest.fixture(scope="session")
def postgres_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Two PostgreSQL databases made once per session, that each test's database is copied
    from (a tenth of a second, where migrating takes two): one holding an empty schema
    owned by the ordinary role, and one with that schema migrated to head by Alembic, as
    a user's first ``detente init`` leaves it."""
    empty, migrated = (f"tpl_{uuid.uuid4().hex[:12]}" for _ in range(2))
    try:
        _as_superuser(f'CREATE DATABASE "{empty}"')
        owner = make_url(POSTGRES_URL).set(database=empty).render_as_string(hide_password=False)
        provision_postgres_schema(owner, "detente", APP_ROLE)
        _copy(empty, migrated)
        folder = tmp_path_factory.mktemp("migrated-postgres")
        create_workspace(Settings(workspace=folder / "ws", database_url=_role_url(migrated))).close()
        yield empty, migrated
    finally:
        _drop(empty, migrated)


def _role_url(database: str) -> str:
    """The URL that connects to ``database`` as the ordinary role (row-level security binds
    it), its schema first on the search path."""
    url = make_url(POSTGRES_URL).set(database=database, username=APP_ROLE)
    return url.update_query_dict({"options": "-csearch_path=detente"}).render_as_string(hide_password=False)


@pytest.fixture
def postgres_database_url(
    postgres_templates: tuple[str, str], request: pytest.FixtureRequest
) -> Iterator[str]:
    """A database of this test's own: a copy of the migrated template for a test that takes
    ``ws`` (as it copies the migrated SQLite file), of the empty one for a test that opens
    the store itself (and so migrates it from nothing)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    try:
        _copy(postgres_templates[1 if "ws" in request.fixturenames else 0], name)
        yield _role_url(name)
    finally:
        _drop(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite'}"
    return str(request.getfixturevalue("postgres_database_url"))


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
