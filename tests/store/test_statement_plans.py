"""The store's hot statements answer from their indexes and keep one text on PostgreSQL.

What makes a request cheap must not quietly go away: a natural-key lookup through its
index (not a one-column index that reads every record of a date), a page's total counted
from the listing index alone, and on PostgreSQL one statement text for any length of id
list, run with the prepared statement's cached plan.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import event, text

from detente.core.migrate import _config, upgrade
from detente.core.settings import Settings
from detente.core.workspace import Workspace, create_workspace
from detente.store.access import profile
from detente.store.records import record_type, record_types
from detente.store.service import ListQuery, Store
from detente.store.statements import key_statement
from tests import factories as f


def _plan(reg: Store, stmt: Any, values: dict[str, Any]) -> str:
    """SQLite's query plan for ``stmt`` with ``values``, as one text."""
    compiled = stmt.compile(reg.session.get_bind(), compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params(values)
    args = [params[name] for name in compiled.positiontup]
    rows = reg.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(args)).all()
    return " | ".join(str(row[-1]) for row in rows)


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[Store]:
    """A registry unit of work on SQLite, whose planner (without statistics) is the one
    these plans are read from; PostgreSQL's plan depends on its statistics."""
    settings = Settings(workspace=tmp_path / "ws", database_url=f"sqlite:///{tmp_path / 'r.sqlite'}")
    with create_workspace(settings) as ws, ws.session() as session:
        yield f.registry(session)


def test_every_natural_key_is_looked_up_through_its_index(lite: Store) -> None:
    """An index that starts with the key, for every record type's natural-key lookup."""
    reg = lite
    for kind in record_types().values():
        nulls = tuple(False for _ in kind.natural_key)
        values = {f"key_{k}": "x" for k in kind.natural_key}
        plan = _plan(reg, key_statement(kind.name, profile(reg.principal), nulls), values)
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, (kind.name, plan)
        index = plan.split("INDEX ")[1].split(" ")[0]
        columns = [c.name for i in kind.table.__table__.indexes if i.name == index for c in i.columns]
        assert columns[: len(kind.natural_key)] == list(kind.natural_key)[: len(columns)], (kind.name, plan)


def test_a_page_total_is_counted_from_the_listing_index(lite: Store) -> None:
    reg = lite
    kind = record_type("engagements")
    stmt, values = reg._listing(kind, ListQuery(filters={"status": "planned"}, limit=20), "page")
    plan = _plan(reg, stmt, values)
    assert "COVERING INDEX ix_engagements_status_start" in plan, plan


def test_postgresql_runs_one_statement_text_for_any_number_of_ids(ws: Workspace) -> None:
    with ws.session() as session:
        reg = f.registry(session)
        actors = [f.state(reg, code) for code in ("GBR", "KEN", "FRA")]
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "actors.id" in statement and "FROM actors" in statement:
            seen.append(statement)

    event.listen(ws.engine, "before_cursor_execute", record)
    try:
        with ws.session() as session:
            reg = f.registry(session)
            table = record_type("actors").table
            assert reg._visible_ids(table, [actors[0].id]) == {actors[0].id}
            assert reg._visible_ids(table, [a.id for a in actors]) == {a.id for a in actors}
            mode = (
                session.connection().execute(text("SHOW plan_cache_mode")).scalar()
                if ws.is_postgres
                else None
            )
    finally:
        event.remove(ws.engine, "before_cursor_execute", record)
    assert len(seen) == 2
    if ws.is_postgres:
        assert seen[0] == seen[1]  # one array parameter: the same text, prepared once
        assert mode == "force_generic_plan"
    else:
        assert seen[0] != seen[1]  # SQLite: an expanding IN, one parameter per id


@pytest.fixture
def pg(tmp_path: Path, postgres_schema_url: str) -> Iterator[Workspace]:
    with create_workspace(Settings(workspace=tmp_path / "ws", database_url=postgres_schema_url)) as ws:
        yield ws


def _policies(session: Any) -> dict[tuple[str, str], str]:
    rows = session.execute(text("""
        SELECT c.relname, p.polname,
               coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' ' ||
               coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
        FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
        WHERE c.relnamespace = current_schema()::text::regnamespace
    """))  # fmt: skip
    return {(table, policy): expression for table, policy, expression in rows}


def test_row_level_security_reads_the_principal_once_per_statement(pg: Workspace) -> None:
    """Every policy checks markings with the principal's settings read in sub-selects
    (evaluated once per statement), not per row; the plan of a count shows them as
    InitPlans and no per-row current_setting call; the downgrade restores the calls."""
    with pg.session() as session:
        reg = f.registry(session)
        f.state(reg, "GBR")
        policies = _policies(session)
        plan = "\n".join(session.execute(text("EXPLAIN SELECT count(*) FROM actors")).scalars())
    checking = {k: v for k, v in policies.items() if "clear_national" in v}
    assert ("actors", "detente_read") in checking and ("engagements", "detente_update") in checking
    assert not any("detente_visible(" in v for v in policies.values())
    assert all("SELECT current_setting('detente.clear_national'" in v for v in checking.values()), checking
    assert "InitPlan" in plan and "current_setting" not in plan.split("Filter:")[1], plan
    command.downgrade(_config(pg.engine), "0017")
    with pg.session() as session:
        before = _policies(session)
    assert {k for k, v in before.items() if "detente_visible(" in v} == set(checking)
    upgrade(pg.engine)
    with pg.session() as session:
        assert _policies(session) == policies


def _link_plan(session: Any, ids: list[str]) -> str:
    query = "EXPLAIN SELECT engagement_id, actor_id FROM engagement_partners WHERE engagement_id = ANY(:ids)"
    return "\n".join(session.execute(text(query), {"ids": ids}).scalars())


def test_row_level_security_looks_each_link_record_up_by_its_key(pg: Workspace) -> None:
    """A link table's policies look the two records of each link up by their keys, so
    reading a page's partners costs what it reads: not a hash of every engagement the
    reader may see, which is what the EXISTS of 0006-0013 gave (shown after the downgrade)."""
    with pg.session() as session:
        reg = f.registry(session)
        actors = [f.state(reg, code) for code in ("GBR", "KEN", "FRA", "DEU")]
        page = [
            f.engagement(reg, actors[i % 2], [actors[2], actors[3]], title=f"Talks {i}") for i in range(300)
        ]
        session.execute(text("ANALYZE"))
        policies = _policies(session)
    ids = [e.id for e in page[:2]]
    with pg.session() as session:
        reg = f.registry(session)  # binds the principal for row-level security
        assert set(session.execute(text(
            "SELECT engagement_id FROM engagement_partners WHERE engagement_id = ANY(:ids)"
        ), {"ids": ids}).scalars()) == set(ids)  # fmt: skip
        plan = _link_plan(session, ids)
    links = {k: v for k, v in policies.items() if k[0] in ("engagement_partners", "report_actors")}
    assert len(links) == 8 and not any("EXISTS" in v for v in policies.values()), links
    assert "SubPlan" in plan and "hashed SubPlan" not in plan, plan
    command.downgrade(_config(pg.engine), "0018")
    with pg.session() as session:
        f.registry(session)
        assert "hashed SubPlan" in _link_plan(session, ids)
        assert all("EXISTS" in v for k, v in _policies(session).items() if k in links)
    upgrade(pg.engine)
    with pg.session() as session:
        assert _policies(session) == policies
