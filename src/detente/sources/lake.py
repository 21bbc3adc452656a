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
from dataclasses import dataclass
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
    loaded_by VARCHAR
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


class Lake:
    """The workspace's lake (``<workspace>/lake.duckdb``)."""

    def __init__(self, folder: Path) -> None:
        import duckdb

        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / LAKE_FILE
        self.db = duckdb.connect(str(self.path))
        self.db.execute(_PROVENANCE)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Lake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def provenance(self) -> list[Provenance]:
        rows = self.db.execute(
            "SELECT source, version, files, sha256, rows, coverage, loaded_at, loaded_by "
            "FROM provenance ORDER BY source"
        ).fetchall()
        return [Provenance(*row) for row in rows]

    def current(self, source: str) -> Provenance | None:
        return next((p for p in self.provenance() if p.source == source), None)

    def replace(self, source: str, table: Any, record: Provenance) -> bool:
        """Write ``table`` (a pyarrow Table) as the source's table, atomically with its
        provenance. Returns False (and changes nothing) when the same files are loaded."""
        current = self.current(source)
        if current is not None and current.sha256 == record.sha256:
            return False
        if not source.isidentifier():
            raise ValidationError(f"bad lake table name {source!r}")
        self.db.execute("BEGIN TRANSACTION")
        try:
            self.db.register("incoming", table)
            self.db.execute(f'CREATE OR REPLACE TABLE "{source}" AS SELECT * FROM incoming')
            self.db.unregister("incoming")
            self.db.execute("DELETE FROM provenance WHERE source = ?", [source])
            self.db.execute(
                "INSERT INTO provenance VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    record.source,
                    record.version,
                    record.files,
                    record.sha256,
                    record.rows,
                    record.coverage,
                    record.loaded_at,
                    record.loaded_by,
                ],
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return True

    def rows(self, source: str) -> int:
        return int(self.db.execute(f'SELECT count(*) FROM "{source}"').fetchone()[0])  # type: ignore[index]


def now() -> datetime:
    return datetime.now(UTC)
