"""Shared SQLAlchemy base: one metadata for every slice's tables, UTC timestamps, ids."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

__all__ = ["Base", "UTCDateTime", "drop_postgres_schema", "metadata", "new_id", "provision_postgres_schema"]

# Stable constraint names so Alembic migrations work the same on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps always come back timezone-aware in UTC (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = metadata


def provision_postgres_schema(admin_url: str, schema: str, role: str) -> str:
    """Create ``schema`` owned by ``role`` (an ordinary login role, created if missing:
    NOSUPERUSER NOBYPASSRLS, so row-level security binds it) using ``admin_url``'s rights;
    return the URL that connects as ``role`` with ``schema`` first on the search path."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    for name in (schema, role):
        if not name.replace("_", "").isalnum():
            raise ValueError(f"{name!r}: schema and role names are letters, digits and _")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(
                text(
                    f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
                    f"THEN CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$"
                )
            )
            conn.execute(text(f'CREATE SCHEMA "{schema}" AUTHORIZATION {role}'))
    finally:
        admin.dispose()
    url = make_url(admin_url).set(username=role).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def drop_postgres_schema(admin_url: str, schema: str) -> None:
    """Drop ``schema`` and everything in it (tests and benchmarks clean up with this)."""
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
