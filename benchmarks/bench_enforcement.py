"""What enforcing markings costs: listing N engagements with enforcement on and off.

One registry per store (a SQLite file; a fresh PostgreSQL schema owned by an
ordinary role, so row-level security applies) holds N engagements (100,000; 20,000 in
the quick run) owned by one organisation (GBR) with mixed markings, every one of them
releasable to the reading user (an analyst of another organisation, USA, cleared
SECRET): so "on" and "off" return the same rows and the difference is only the checking.

Measured, each listing in a fresh process (connection, statement compilation and the
listing inside the clock on both sides; imports before it), on and off alternating, 5
runs each:

- **service**: ``Store.list("engagements")`` for that user, the path every
  interface uses (filter in SQL, partner links filtered too, rows to pydantic
  models); "off" is the same code with the filter replaced by TRUE and, on
  PostgreSQL, a superuser connection (row-level security bypassed).
- **sql**: the bare query, rows fetched as tuples: ``SELECT * FROM engagements
  WHERE <visible>`` on the ordinary role (PostgreSQL also applies its RLS
  policies) against ``SELECT * FROM engagements`` as superuser; the cost of
  the predicate itself, without model building to hide it.

"Off" does strictly less work (no checking): the ratio (off time / on time) says what
the checking costs; 1.0 means nothing.

    .venv/bin/python benchmarks/bench_enforcement.py [--quick] [--rows 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sqlalchemy import create_engine, insert, select, text, true
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from detente.core.db import drop_postgres_schema, provision_postgres_schema
from detente.core.markings import parse
from detente.core.settings import Settings
from detente.core.workspace import Workspace, create_workspace, open_workspace
from detente.registry.tables import Engagement, EngagementPartner
from detente.sharing.service import Sharing
from detente.store.access import marking_columns, system_access, visible
from detente.store.service import ListQuery, Store
from harness import REPEAT, alternate, child_main, emit, row

POSTGRES_URL = os.environ.get(
    "DETENTE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
APP_ROLE = "detente_app"
RELEASED = "UNCLASSIFIED//REL TO USA"
FULL = {"national": "TOP SECRET", "nato": "COSMIC TOP SECRET"}
# every one readable by a USA analyst cleared SECRET / NATO SECRET, none trivially public
BANNERS = [
    "CONFIDENTIAL//REL TO USA, NATO",
    "SECRET//REL TO FVEY",
    "RESTRICTED//REL TO NATO//TLP:AMBER",
    "NATO SECRET//REL TO NATO",
    "UNCLASSIFIED//REL TO USA//TLP:GREEN",
    "UNCLASSIFIED//TLP:CLEAR",
]


class Unenforced(Store):
    """The registry with the marking filter switched off (the baseline, never shipped)."""

    def _visible(self, table: Any) -> Any:
        return true()


def seed(ws: Workspace, rows: int) -> None:
    with ws.session() as session:
        sharing = Sharing(session)
        owner_org = sharing.add_org("UK Ministry of Defence", "GBR", actor=None)
        sharing.add_user("owner", owner_org.id, role="operator", clearances=FULL, password=None, actor=None)
        owner = sharing.principal("owner")
        reader_org = sharing.add_org("US Department of Defense", "USA", actor=owner)
        sharing.add_user(
            "reader-admin", reader_org.id, role="administrator", clearances=FULL, password=None, actor=owner
        )
        sharing.add_user(
            "reader", reader_org.id, role="analyst", clearances={"national": "SECRET", "nato": "NATO SECRET"},
            password=None, actor=sharing.principal("reader-admin"),
        )  # fmt: skip
        reg = Store(session, owner)
        actors = [
            reg.create(
                "actors",
                {
                    "name": f"Unit {i}",
                    "kind": "unit",
                    "country": "GBR",
                    "marking": "UNCLASSIFIED//REL TO USA",
                },
            ).id
            for i in range(40)
        ]
        system_access(session)
        stamp = datetime.now(UTC)
        columns = [marking_columns(parse(b)) | {"marking": parse(b).render()} for b in BANNERS]
        batch = 5000
        for start in range(0, rows, batch):
            engagements, partners = [], []
            for i in range(start, min(rows, start + batch)):
                eid = str(uuid.uuid4())
                engagements.append(
                    {
                        "id": eid,
                        "created_at": stamp,
                        "updated_at": stamp,
                        "created_by": "owner",
                        "updated_by": "owner",
                        "version": 1,
                        "owner_org_id": owner_org.id,
                        **columns[i % len(columns)],
                        "title": f"Engagement {i}",
                        "kind": "joint_exercise" if i % 3 else "defense_dialogue",
                        "status": "planned",
                        "lead_actor_id": actors[i % len(actors)],
                        "start_date": date(2020, 1, 1) + timedelta(days=i % 2000),
                        "location_country": "GBR",
                        "troops": i % 5000,
                    }
                )
                partners.append(
                    {"engagement_id": eid, "actor_id": actors[(i + 1) % len(actors)], "position": 0}
                )
            session.execute(insert(Engagement), engagements)
            session.execute(insert(EngagementPartner), partners)
    with ws.engine.connect() as conn:  # fresh statistics for the planner
        conn.execute(text("ANALYZE"))
        conn.commit()


def listing(ws: Workspace, superuser_url: str | None, name: str) -> int:
    """One listing: ``service-on``, ``service-off``, ``sql-on`` or ``sql-off``."""
    level, state = name.split("-")
    enforced = state == "on"
    engine = ws.engine if enforced or not superuser_url else create_engine(superuser_url)
    with ws.session() as session:
        reader = Sharing(session).principal("reader")
    with Session(engine) as session:
        if level == "service":
            cls = Store if enforced else Unenforced
            return len(cls(session, reader).list("engagements", ListQuery(limit=None)))
        table = Engagement.__table__
        stmt = select(table)
        if enforced:
            Store(session, reader)  # binds the principal for row-level security
            stmt = stmt.where(visible(Engagement, reader))
        return len(session.execute(stmt).all())


def run(name: str, folder: Path) -> dict[str, Any]:
    """In a child: open the store the parent seeded and time one listing."""
    url, superuser_url = sys.argv[4], sys.argv[5] or None
    ws = open_workspace(Settings(workspace=folder, database_url=url))
    try:
        start = time.perf_counter()
        rows = listing(ws, superuser_url, name)
        return {"seconds": time.perf_counter() - start, "rows": rows}
    finally:
        ws.close()


def postgres_workspace(folder: Path) -> tuple[Workspace, str, Callable[[], None]]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    app_url = provision_postgres_schema(POSTGRES_URL, schema, APP_ROLE)
    ws = create_workspace(Settings(workspace=folder / "pg", database_url=app_url))
    superuser_url = make_url(app_url).set(username=make_url(POSTGRES_URL).username)

    def drop() -> None:
        ws.close()
        drop_postgres_schema(POSTGRES_URL, schema)

    return ws, superuser_url.render_as_string(hide_password=False), drop


def rows_for(store: str, n: int, runs: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    out = []
    for level, what in (("service", "Store.list, rows to models"), ("sql", "the bare query, rows as tuples")):
        on, off = runs[f"{level}-on"], runs[f"{level}-off"]
        same = all(r["rows"] == n for r in on + off)
        out.append(
            row(f"{store}: {what}", on, off, "enforcement off",
                note=f"the baseline does less work (no checking); same {n:,} rows: {'yes' if same else 'NO'}")
        )  # fmt: skip
    return out


def main() -> None:
    if child_main(run):
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = args.rows or (10_000 if args.quick else 100_000)
    names = ["service-on", "service-off", "sql-on", "sql-off"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'registry.sqlite'}"
        ws = create_workspace(Settings(workspace=folder / "sq", database_url=url))
        seed(ws, n)
        ws.close()
        rows += rows_for("SQLite", n, alternate(__file__, names, folder / "sq", args.repeat, args=[url, ""]))
        pg, superuser_url, drop = postgres_workspace(folder)
        try:
            seed(pg, n)
            runs = alternate(
                __file__, names, folder / "pg", args.repeat, args=[pg.database_url, superuser_url]
            )
            rows += rows_for("PostgreSQL with RLS", n, runs)
        finally:
            drop()
    emit("enforcement", f"list {n:,} engagements with markings enforced, all releasable to the reader", rows)


if __name__ == "__main__":
    main()
