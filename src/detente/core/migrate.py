"""Alembic migrations of the registry, run in-process.

The migration scripts live in ``detente/migrations``; this module is the one
place that drives them, so ``init``, ``open`` and the tests migrate the same way.

Opening a workspace whose registry is already at the newest revision does not load
Alembic (its import and its run, which imports every slice's tables, cost most of a
command's start): ``upgrade`` first asks ``at_head``, which reads the
``alembic_version`` row and compares it with ``script_head``, the newest revision as the
scripts' own ``revision`` / ``down_revision`` lines say (the scripts stay the one source
of truth; tests/cli/test_start.py checks it against Alembic's own reading of them).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

__all__ = ["at_head", "current_revision", "head_revision", "script_head", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_REVISION = re.compile(r"^(down_revision|revision)\b[^=\n]*=\s*(.+?)\s*$", re.MULTILINE)


def _config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the registry behind ``engine`` to ``revision`` (default: newest). A registry
    already at the newest revision is left as it is without Alembic (which would find
    nothing to do): ``at_head`` reads one row; Alembic is imported only to migrate, or
    when the check cannot tell."""
    if revision == "head" and at_head(engine):
        return
    from alembic import command

    command.upgrade(_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision, as Alembic reads the scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config(None)).get_current_head()  # type: ignore[arg-type]


@cache
def script_head() -> str | None:
    """The newest revision from the scripts' ``revision`` and ``down_revision`` lines,
    without Alembic: the one revision no other names as its parent (None when that is
    not exactly one, or a script says it in a way this does not read: then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in sorted((MIGRATIONS / "versions").glob("*.py")):
        found = dict(_REVISION.findall(script.read_text(encoding="utf-8")))
        revision = re.fullmatch(r"""(["'])([^"']+)\1""", found.get("revision", ""))
        if revision is None or "down_revision" not in found:
            return None
        revisions.add(revision.group(2))
        parents.update(q[1] for q in re.findall(r"""(["'])([^"']+)\1""", found["down_revision"]))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def at_head(engine: Engine) -> bool:
    """Whether the registry is at the newest revision: its ``alembic_version`` holds that
    one row. False when the table is missing, holds another revision (older, or newer than
    this detente: Alembic then says so) or the head cannot be read from the scripts."""
    head = script_head()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except Exception:  # no such table yet (a new registry): Alembic creates it
        return False
    return [tuple(r) for r in rows] == [(head,)]
