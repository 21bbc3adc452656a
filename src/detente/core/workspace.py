"""Workspaces: the folder that holds a detente installation's data.

A workspace holds the registry database (``registry.sqlite`` unless
``DETENTE_DATABASE_URL`` points at PostgreSQL) and, later, the context lake.
Opening a workspace migrates its registry forward with Alembic, so an old
workspace keeps its data when detente is upgraded.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's own busy handler alone
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from detente import __version__
from detente.core.audit import Head
from detente.core.audit_keys import Keyring
from detente.core.errors import ConfigError
from detente.core.settings import Settings

__all__ = ["Workspace", "connection_budget", "create_workspace", "open_workspace"]

MARKER = "detente-workspace.json"
AUDIT_HEAD = "audit-head.json"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # pysqlite's own transaction handling breaks SAVEPOINTs (which imports rely on to
    # keep one bad row from poisoning the rest): let SQLAlchemy emit BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # foreign keys are off by default in SQLite; WAL lets readers work during imports
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # units declared as writing take SQLite's write lock at BEGIN (see Workspace.session)
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _postgres_settings(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # The statements run on every request (a page, a record, its links, who is calling) have
    # the same text each time, so psycopg prepares them; PostgreSQL would still plan most
    # afresh on each run (a "custom" plan: its cost model judged the cached one no cheaper),
    # and planning a page's links under row-level security took 1.0 ms against 0.3 ms to
    # run them. Prepared statements here always use their cached plan; a query run fewer
    # than five times on a connection (psycopg's threshold) is not prepared, and is planned
    # for its values as before.
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_generic_plan")
    dbapi_connection.commit()


def make_engine(url: str, pool_size: int, pool_overflow: int) -> Engine:
    """An engine for the registry URL with the settings detente relies on (on PostgreSQL, a
    pool of ``pool_size`` connections and ``pool_overflow`` more under load: ``Settings``)."""
    if url.startswith("sqlite"):
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_overflow)
    event.listen(engine, "connect", _postgres_settings)
    event.listen(engine, "connect", _returned)
    event.listen(engine, "checkin", _returned)
    event.listen(engine, "checkout", functools.partial(_ping_if_idle, engine.dialect))
    return engine


def connection_budget(engine: Engine, processes: int, each: int) -> str | None:
    """Why ``processes`` processes of this workspace, each opening up to ``each`` connections
    (``Settings.pool_size + pool_overflow``), could be refused connections by the PostgreSQL
    server (which keeps some for superusers), or None when they fit."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        allowed = int(conn.exec_driver_sql("SHOW max_connections").scalar_one())
        reserved = int(conn.exec_driver_sql("SHOW superuser_reserved_connections").scalar_one())
    wanted = processes * each
    if wanted <= allowed - reserved:
        return None
    return (
        f"{processes} processes may open up to {wanted} connections ({each} each) "
        f"but the PostgreSQL server accepts {allowed - reserved} (max_connections {allowed}, "
        f"{reserved} kept for superusers): under load some requests would be refused; run fewer "
        "workers (--workers), open fewer connections each (DETENTE_POOL_SIZE, "
        "DETENTE_POOL_OVERFLOW) or raise max_connections"
    )


# A pooled PostgreSQL connection is tested before use (a server restart or a dropped
# connection would otherwise fail the next request), but only if it has been idle for
# this long: a busy server hands a connection back and takes it again within milliseconds,
# and the test (a round trip) cost one in seven of a page's round trips. A connection that
# dies within the second after its last use fails the statement that uses it, and the pool
# then replaces every connection (SQLAlchemy's handling of a lost connection); the server
# answers a read again on a new one and refuses a change with 503 (api.app.LostConnection).
PING_IDLE_SECONDS = 1.0


def _returned(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
    record.info["returned_at"] = time.monotonic()


def _ping_if_idle(dialect, dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]
    """SQLAlchemy's pre-ping (``pool_pre_ping``), for connections idle a while only."""
    if time.monotonic() - record.info.get("returned_at", 0.0) < PING_IDLE_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as exc:  # any failure: the pool discards it and connects afresh
        raise DisconnectionError(f"the pooled connection is gone ({exc})") from exc


@dataclass
class Workspace:
    """An opened workspace: its folder, settings and registry engine."""

    path: Path
    settings: Settings
    engine: Engine
    _sessions: sessionmaker[Session] = field(init=False, repr=False)

    _writers: sessionmaker[Session] = field(init=False, repr=False)
    _head_lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)
    _write_lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)
    _lock_file: BinaryIO | None = field(init=False, repr=False, default=None)
    _writer_busy: bool = field(init=False, repr=False, default=False)
    _writer_state: threading.Condition = field(init=False, repr=False, default_factory=threading.Condition)
    # the audit trail's key (see detente.core.audit_keys), handed to every unit of work
    audit_keyring: Keyring = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.audit_keyring = Keyring(self.settings, self.path)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writers = sessionmaker(
            self.engine.execution_options(sqlite_immediate=True), expire_on_commit=False
        )

    @property
    def database_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error.

        ``write=True`` declares up front that it will write (the web server does, for
        requests that change something): on SQLite such units queue for the write lock
        and take it at BEGIN (IMMEDIATE). A deferred unit that reads and then writes
        fails at once ("database is locked") when another writer committed in between,
        which concurrent clients hit. Other units (the CLI, one writer) need not say.
        """
        if write and not self.is_postgres:
            # SQLite has one writer at a time: the threads of this process queue here, in
            # order, rather than poll the file lock (whose busy timeout starves some of them),
            # and the processes of a server with several workers queue on a lock file
            heads: list[Head] = []
            with self._write_lock, self._writer_file_lock(), self._writing():
                yield from self._unit(write=True, heads=heads)
            # the head file is written after the lock is let go (the next writer need not
            # wait for a file rename); it only ever moves forward, see _record_audit_head
            for head in heads:
                self._record_audit_head(head)
        else:
            heads = []
            yield from self._unit(write=write, heads=heads)
            for head in heads:
                self._record_audit_head(head)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Mark this process's writer as holding the writers' lock (see ``let_writer_finish``)."""
        with self._writer_state:
            self._writer_busy = True
        try:
            yield
        finally:
            with self._writer_state:
                self._writer_busy = False
                self._writer_state.notify_all()

    def let_writer_finish(self, timeout: float = 0.05) -> bool:
        """Wait (at most ``timeout`` seconds) while a thread of this process holds SQLite's
        writers' lock; False if it still does. The server calls it before the reads it runs
        on its event loop: the writer then has the process's share of the CPU (and the GIL)
        to itself, so it lets the lock go sooner (every writer of every process queues for
        it): the lock was held 9.6 ms for 6.3 ms of the writer's CPU with this, 12.3 without."""
        if not self._writer_busy:
            return True
        with self._writer_state:
            return self._writer_state.wait_for(lambda: not self._writer_busy, timeout)

    @contextmanager
    def _writer_file_lock(self) -> Iterator[None]:
        """The SQLite database's writers' lock across processes (``flock`` on a file beside
        it): a waiting process sleeps in the kernel and wakes as the lock is released, where
        SQLite's own busy handler polls with growing sleeps, leaving the lock idle while
        writers wait (their tail latency ran to seconds under a two-worker server)."""
        database = self.engine.url.database
        if not database or database == ":memory:" or fcntl is None:
            yield
            return
        if self._lock_file is None:
            self._lock_file = open(f"{database}.writers.lock", "a+b")  # noqa: SIM115 (kept open)
        fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)

    def _unit(self, *, write: bool, heads: list[Head]) -> Iterator[Session]:
        """The unit of work; once it has committed, the audit chain head it reached goes
        into ``heads``."""
        with (self._writers if write else self._sessions)() as session:
            session.info["audit_keyring"] = self.audit_keyring
            with session.begin():
                yield session
            head = session.info.get("audit_head")
            if head:
                heads.append(head)

    # The audit chain's head is also kept outside the database, so that cutting
    # entries off the end of the log (or emptying it) is detected by `audit verify`;
    # its HMAC (under the audit key) shows whether it was rewritten.
    # Two processes may both read an older head and write theirs; the later write may then
    # be the lower head for a moment (until the next commit): `audit verify` still finds the
    # chain consistent, it only checks the end as far as the head file says.
    def _record_audit_head(self, head: Head) -> None:
        """Record ``head`` if it is further along the chain than the recorded one."""
        with self._head_lock:  # the web server commits from many threads
            try:
                current = self.audit_head()
            except ConfigError:  # unreadable: replaced by the true head
                current = None
            if current is None or head.seq > current.seq:
                path = self.path / AUDIT_HEAD
                tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
                tmp.write_text(json.dumps({"seq": head.seq, "hash": head.hash, "mac": head.mac}))
                tmp.replace(path)

    def audit_head(self) -> Head | None:
        """The chain head recorded in the workspace folder (``None``: no head file)."""
        path = self.path / AUDIT_HEAD
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
            mac = data.get("mac")
            return Head(int(data["seq"]), str(data["hash"]), None if mac is None else str(mac))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{path}: the audit chain head file is unreadable ({exc})") from None

    def close(self) -> None:
        self.engine.dispose()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _registry_url(path: Path, settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{(path / 'registry.sqlite').resolve()}"


def create_workspace(settings: Settings | None = None, *, path: Path | None = None) -> Workspace:
    """Create (or re-open) a workspace folder and migrate its registry to head."""
    settings = settings or Settings()
    path = Path(path or settings.workspace)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"workspace {path} exists and is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    marker = path / MARKER
    if not marker.exists():
        marker.write_text(
            json.dumps(
                {"created_at": datetime.now(UTC).isoformat(), "created_by_version": __version__},
                indent=2,
            )
        )
    return _open(path, settings)


def open_workspace(settings: Settings | None = None, *, path: Path | None = None) -> Workspace:
    """Open an existing workspace, migrating it forward if it is older than this detente."""
    settings = settings or Settings()
    path = Path(path or settings.workspace)
    if not (path / MARKER).exists():
        raise ConfigError(
            f"no detente workspace at {path.resolve()}: run `detente init` "
            "(or pass --workspace / set DETENTE_WORKSPACE)"
        )
    return _open(path, settings)


def _open(path: Path, settings: Settings) -> Workspace:
    from detente.core.migrate import upgrade

    url = _registry_url(path, settings)
    try:
        engine = make_engine(url, settings.pool_size, settings.pool_overflow)
        upgrade(engine)
    except ConfigError:
        raise
    except Exception as exc:  # connection refused, bad URL, locked file
        raise ConfigError(f"cannot open the registry at {url.split('@')[-1]}: {exc}") from exc
    return Workspace(path=path, settings=settings, engine=engine)


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())
