"""What enforcing markings costs: listing 100,000 engagements with enforcement on and off.

One registry per store (a SQLite file; a fresh PostgreSQL schema owned by an
ordinary role, so row-level security applies) holds N engagements owned by one
organisation (GBR) with mixed markings, every one of them releasable to the
reading user (an analyst of another organisation, USA, cleared SECRET): so
"on" and "off" return the same rows and the difference is only the checking.

Measured, best of ``--repeat`` runs each, in the same process:

- **service**: ``Store.list("engagements")`` for that user, the path every
  interface uses (filter in SQL, partner links filtered too, rows to pydantic
  models); "off" is the same code with the filter replaced by TRUE and, on
  PostgreSQL, a superuser connection (row-level security bypassed).
- **sql**: the bare query, rows fetched as tuples: ``SELECT * FROM engagements
  WHERE <visible>`` on the ordinary role (PostgreSQL also applies its RLS
  policies) against ``SELECT * FROM engagements`` as superuser; the cost of
  the predicate itself, without model building to hide it.

    .venv/bin/python benchmarks/bench_enforcement.py [--rows 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text, true
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from detente.core.db import drop_postgres_schema, provision_postgres_schema
from detente.core.markings import parse
from detente.core.settings import Settings
from detente.core.workspace import Workspace, create_workspace
from detente.registry.tables import Engagement, EngagementPartner
from detente.sharing.service import Sharing
from detente.store.access import marking_columns, system_access, visible
from detente.store.service import ListQuery, Store

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


def best(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    times, n = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        n = fn()
        times.append(time.perf_counter() - start)
    return min(times), n


def measure(ws: Workspace, superuser_url: str | None, repeat: int) -> dict[str, tuple[float, int]]:
    owner_engine = create_engine(superuser_url) if superuser_url else ws.engine
    with ws.session() as session:
        reader = Sharing(session).principal("reader")

    def service(enforced: bool) -> int:
        engine = ws.engine if enforced else owner_engine
        with Session(engine) as session:
            cls = Store if enforced else Unenforced
            return len(cls(session, reader).list("engagements", ListQuery(limit=None)))

    def sql(enforced: bool) -> int:
        engine = ws.engine if enforced else owner_engine
        table = Engagement.__table__
        with Session(engine) as session:
            stmt = select(table)
            if enforced:
                Store(session, reader)  # binds the principal for row-level security
                stmt = stmt.where(visible(Engagement, reader))
            return len(session.execute(stmt).all())

    out = {
        "service on": best(lambda: service(True), repeat),
        "service off": best(lambda: service(False), repeat),
        "sql on": best(lambda: sql(True), repeat),
        "sql off": best(lambda: sql(False), repeat),
    }
    if superuser_url:
        owner_engine.dispose()
    return out


def postgres_workspace(folder: Path) -> tuple[Workspace, str, Callable[[], None]]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    app_url = provision_postgres_schema(POSTGRES_URL, schema, APP_ROLE)
    ws = create_workspace(Settings(workspace=folder / "pg", database_url=app_url))
    superuser_url = make_url(app_url).set(username=make_url(POSTGRES_URL).username)

    def drop() -> None:
        ws.close()
        drop_postgres_schema(POSTGRES_URL, schema)

    return ws, superuser_url.render_as_string(hide_password=False), drop


def report(store: str, rows: int, m: dict[str, tuple[float, int]]) -> None:
    for level in ("service", "sql"):
        on, n_on = m[f"{level} on"]
        off, n_off = m[f"{level} off"]
        assert n_on == n_off == rows, f"{store} {level}: {n_on} vs {n_off} rows (expected {rows})"
        print(
            f"{store:<10} {level:<8} on {on:7.3f} s ({rows / on:>10,.0f} rows/s)   "
            f"off {off:7.3f} s ({rows / off:>10,.0f} rows/s)   overhead {on / off:5.2f}x",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"listing {args.rows:,} engagements, all releasable to the reader; best of {args.repeat}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ws = create_workspace(
            Settings(workspace=folder / "sq", database_url=f"sqlite:///{folder / 'registry.sqlite'}")
        )
        seed(ws, args.rows)
        report("sqlite", args.rows, measure(ws, None, args.repeat))
        ws.close()
        pg, superuser_url, drop = postgres_workspace(folder)
        try:
            seed(pg, args.rows)
            report("postgresql", args.rows, measure(pg, superuser_url, args.repeat))
        finally:
            drop()


if __name__ == "__main__":
    main()
