"""The migrations build the schema the models describe: after ``upgrade head`` on an empty
database (SQLite and PostgreSQL), Alembic's comparison finds no table, column, index or
foreign key that the models have and the migrations lack, or the other way round."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import detente.registry.tables
import detente.sharing.models  # noqa: F401
from detente.core.db import metadata
from detente.core.migrate import upgrade
from detente.core.settings import Settings


def _relevant(diff: Any) -> bool:
    kind = diff[0][0] if isinstance(diff, list) else diff[0]
    # column types and server defaults differ by dialect in harmless ways (JSON as TEXT on
    # SQLite); what must match is the shape: tables, columns, indexes, foreign keys
    return kind in ("add_table", "remove_table", "add_column", "remove_column", "add_index", "remove_index",
                    "add_fk", "remove_fk")  # fmt: skip


def test_migrations_match_the_models(settings: Settings) -> None:
    engine = create_engine(settings.database_url or f"sqlite:///{settings.workspace}/schema.db")
    settings.workspace.mkdir(parents=True, exist_ok=True)
    upgrade(engine, "0007")  # one migration short: the comparison sees what is missing
    assert {"initiatives", "lessons", "objective_engagements"} <= {
        d[1].name for d in _diffs(engine) if d[0] == "add_table"
    }
    upgrade(engine)
    diffs = _diffs(engine)
    engine.dispose()
    assert not diffs, "\n".join(map(str, diffs))


def _diffs(engine: Any) -> list[Any]:
    with engine.connect() as conn:
        # SQLite's virtual tables (the FTS5 search index of migration 0012) and the shadow
        # tables SQLite keeps for them cannot be declared as models: they are left out
        virtual = _virtual_tables(conn)
        context = MigrationContext.configure(
            conn, opts={"include_name": lambda name, kind, _parent: not (kind == "table" and name in virtual)}
        )
        return [d for d in compare_metadata(context, metadata) if _relevant(d)]


def _virtual_tables(conn: Any) -> set[str]:
    if conn.dialect.name != "sqlite":
        return set()
    return {row[1] for row in conn.exec_driver_sql("PRAGMA table_list") if row[2] in ("virtual", "shadow")}
