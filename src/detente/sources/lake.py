"""The context lake: a DuckDB file in the workspace holding open datasets, each with provenance.

A dataset is written as one table per source, replaced whole inside one DuckDB
transaction together with its provenance row, so a reader sees the old version or
the new one, never half of each; a load that fails (or a process killed mid-load)
leaves the lake as it was. Loading the same files again changes nothing.

This module knows nothing of any dataset's format: adapters (``cameo.py`` ...) parse
and validate, then hand over a finished table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from detente.core.errors import ValidationError

__all__ = ["LAKE_FILE", "Lake", "Provenance", "sha256"]

LAKE_FILE = "lake.duckdb"

_PROVENANCE = """
CREATE TABLE IF NOT EXISTS provenance (
    source VARCHAR PRIMARY KEY,
    version VARCHAR,
    files VARCHAR,
    sha256 VARCHAR,
    rows BIGINT,
    coverage VARCHAR,
    loaded_at TIMESTAMPTZ,
    loaded_by VARCHAR,
    tables VARCHAR,
    notes VARCHAR,
    first_year INTEGER,
    last_year INTEGER
)
"""


def sha256(paths: Iterable[Path]) -> str:
    """One digest over the files' bytes, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Provenance:
    source: str
    version: str
    files: str
    sha256: str
    rows: int
    coverage: str
    loaded_at: datetime
    loaded_by: str
    tables: str = ""
    notes: str = ""
    first_year: int | None = None  # the years the source covers: outside them its values
    last_year: int | None = None  # are missing, not zero

    @property
    def table_names(self) -> list[str]:
        return [t for t in self.tables.split(",") if t] or [self.source]


class Lake:
    """The workspace's lake (``<workspace>/lake.duckdb``)."""

    def __init__(self, folder: Path) -> None:
        import duckdb

        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / LAKE_FILE
        self.db = duckdb.connect(str(self.path))
        self.db.execute(_PROVENANCE)
        for column, kind in (
            ("tables", "VARCHAR"),
            ("notes", "VARCHAR"),
            ("first_year", "INTEGER"),
            ("last_year", "INTEGER"),
        ):
            # lakes made before these columns existed
            self.db.execute(f"ALTER TABLE provenance ADD COLUMN IF NOT EXISTS {column} {kind}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Lake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def provenance(self) -> list[Provenance]:
        rows = self.db.execute(
            "SELECT source, version, files, sha256, rows, coverage, loaded_at, loaded_by, "
            "coalesce(tables, ''), coalesce(notes, ''), first_year, last_year "
            "FROM provenance ORDER BY source"
        ).fetchall()
        return [Provenance(*row) for row in rows]

    def current(self, source: str) -> Provenance | None:
        return next((p for p in self.provenance() if p.source == source), None)

    def replace(self, source: str, tables: Any, record: Provenance) -> bool:
        """Write the source's tables (a pyarrow Table, or {name: Table} with the source's
        own name first) atomically with its provenance, dropping tables an earlier version
        had and this one has not. Returns False (and changes nothing) for the same files."""
        current = self.current(source)
        if current is not None and current.sha256 == record.sha256:
            return False
        if not isinstance(tables, dict):
            tables = {source: tables}
        for name in tables:
            if not name.isidentifier() or not (name == source or name.startswith(source + "_")):
                raise ValidationError(f"bad lake table name {name!r} for source {source!r}")
        stale = [t for t in (current.table_names if current else []) if t not in tables]
        record = replace(record, tables=",".join(tables))
        self.db.execute("BEGIN TRANSACTION")
        try:
            for name, table in tables.items():
                self.db.register("incoming", table)
                self.db.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM incoming')
                self.db.unregister("incoming")
            for name in stale:
                self.db.execute(f'DROP TABLE IF EXISTS "{name}"')
            self.db.execute("DELETE FROM provenance WHERE source = ?", [source])
            self.db.execute(
                "INSERT INTO provenance (source, version, files, sha256, rows, coverage, loaded_at, "
                "loaded_by, tables, notes, first_year, last_year) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    record.source,
                    record.version,
                    record.files,
                    record.sha256,
                    record.rows,
                    record.coverage,
                    record.loaded_at,
                    record.loaded_by,
                    record.tables,
                    record.notes,
                    record.first_year,
                    record.last_year,
                ],
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return True

    def has(self, table: str) -> bool:
        return bool(
            self.db.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
            ).fetchall()[0][0]  # type: ignore[index]
        )

    def rows(self, source: str) -> int:
        return int(self.db.execute(f'SELECT count(*) FROM "{source}"').fetchall()[0][0])  # type: ignore[index]


def now() -> datetime:
    return datetime.now(UTC)
