"""Every read path shows each user exactly the records releasable to them.

Hypothesis builds random worlds (organisations in several countries, coalitions,
users with random clearances and roles, records with random markings owned by
random organisations) in one workspace per store, and checks each user's view
through every read path against the pure rule ``detente.core.markings.may_read``
applied to the stored rows: never more, never fewer. On PostgreSQL a second test
reads the tables directly, with only the principal set on the connection and no
service layer, and row-level security still shows exactly the same rows.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from detente.bulk.io import export_tables
from detente.core.errors import AuthError, NotFoundError, ValidationError
from detente.core.markings import Marking, Principal, may_read, parse, schemes, tlp_levels
from detente.core.settings import Settings
from detente.core.workspace import Workspace, create_workspace
from detente.sharing.service import Sharing
from detente.store.access import bind_principal, system_access
from detente.store.permissions import role_permissions
from detente.store.records import record_type
from detente.store.service import ListQuery, Store
from tests import factories as f

COUNTRIES = ["USA", "GBR", "FRA", "DEU", "KEN", "JPN", "NGA"]
ROLES = ["viewer", "analyst", "planner", "vetting_officer", "administrator"]
_world = itertools.count(1)


# each example builds a whole world through the services: few, slow examples
WORLDS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class World:
    orgs: list[str]  # country per organisation
    coalitions: list[list[str]]
    users: list[tuple[int, dict[str, int], str]]  # (org index, clearance levels, role)
    records: list[tuple[int, dict[str, Any]]]  # (owner org index, marking parts)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    orgs = draw(st.lists(st.sampled_from(COUNTRIES), min_size=2, max_size=4))
    coalitions = draw(st.lists(st.lists(st.sampled_from(COUNTRIES), max_size=4), max_size=2))
    users = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(orgs) - 1),
                st.fixed_dictionaries(
                    {s: st.integers(-1, len(levels) - 1) for s, levels in schemes().items()}
                ),
                st.sampled_from(ROLES),
            ),
            min_size=1,
            max_size=5,
        )
    )
    n_tokens = len(COUNTRIES) + len(coalitions) + 2
    records = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(orgs) - 1),
                st.fixed_dictionaries(
                    {
                        "scheme": st.sampled_from(sorted(schemes())),
                        "level": st.integers(0, 4),
                        "rel": st.lists(st.integers(0, n_tokens - 1), max_size=3),
                        "tlp": st.none() | st.sampled_from(tlp_levels()),
                        "recipients": st.lists(st.integers(0, len(users) - 1), max_size=2),
                    }
                ),
            ),
            min_size=1,
            max_size=10,
        )
    )
    return World(orgs, coalitions, users, records)


@dataclass
class Built:
    tag: str
    users: list[str]
    records: list[str]


def build(session: Session, world: World) -> Built:
    """Create the world through the services, as users would."""
    n = next(_world)
    tag = f"W{n}X"
    sharing = Sharing(session)
    root = f.admin(session)
    coalition_names = []
    for i, members in enumerate(world.coalitions):
        name = f"CO{n}_{i}"
        sharing.set_coalition(name, f"coalition {name}", members, actor=root)
        coalition_names.append(name)
    writers = []
    for i, country in enumerate(world.orgs):
        org = sharing.add_org(f"{tag} org {i}", country, actor=root)
        writer = f"{tag.lower()}-writer-{i}"
        sharing.add_user(writer, org.id, role="administrator", clearances=f.FULL, password=None, actor=root)
        writers.append((org.id, sharing.principal(writer)))
    users = []
    for j, (org_index, levels, role) in enumerate(world.users):
        name = f"{tag.lower()}-user-{j}"
        clearances = {s: schemes()[s][lv] for s, lv in levels.items() if lv >= 0}
        sharing.add_user(
            name, writers[org_index][0], role=role, clearances=clearances, password=None,
            actor=writers[org_index][1],
        )  # fmt: skip
        users.append(name)
    tokens = [*COUNTRIES, *coalition_names, "NATO", "AU"]
    records = []
    for k, (owner, parts) in enumerate(world.records):
        level = min(parts["level"], len(schemes()[parts["scheme"]]) - 1)
        tlp = parts["tlp"]
        if tlp == "CLEAR" and level > 0:
            tlp = "GREEN"
        marking = Marking(
            parts["scheme"],
            level,
            frozenset(tokens[t] for t in parts["rel"]),
            tlp,
            frozenset(users[r].upper() for r in parts["recipients"]) if tlp == "RED" else frozenset(),
        )
        reg = Store(session, writers[owner][1])
        actor = reg.create(
            "actors",
            {
                "name": f"{tag} unit {k}",
                "kind": "unit",
                "country": COUNTRIES[k % len(COUNTRIES)],
                "external_id": f"{tag}-{k}",
                "marking": marking.render(),
            },
        )
        records.append(actor.id)
    return Built(tag, [*users, *(w[1].user for w in writers)], records)


def truth(session: Session) -> dict[str, tuple[Marking, str | None]]:
    """Every stored actor row with its marking and owner, read beneath enforcement."""
    table = record_type("actors").table
    system_access(session)
    rows = session.execute(select(table.id, table.marking, table.owner_org_id)).all()
    return {i: (parse(m), owner) for i, m, owner in rows}


def expected_for(principal: Principal, rows: dict[str, tuple[Marking, str | None]]) -> set[str]:
    return {i for i, (m, owner) in rows.items() if may_read(principal, m, owner)}


def check_every_read_path(session: Session, principal: Principal, built: Built, rows: Any, tmp: Path) -> None:
    expected = expected_for(principal, rows)
    reg = Store(session, principal)
    who = f"{principal.user} ({principal.country}, {dict(principal.clearances)})"

    # list, and list page by page
    assert {a.id for a in reg.list("actors", ListQuery(limit=None))} == expected, who
    paged: list[str] = []
    for offset in itertools.count(0, 7):
        page = reg.list("actors", ListQuery(limit=7, offset=offset))
        paged += [a.id for a in page]
        if len(page) < 7:
            break
    assert sorted(paged) == sorted(expected), who
    # counts: per query, per table, filtered
    assert reg.count("actors") == len(expected), who
    assert reg.counts(["actors"]) == {"actors": len(expected)}, who
    mine = {i for i in built.records if i in expected}
    assert {a.id for a in reg.list("actors", ListQuery(search=built.tag, limit=None))} == mine, who
    assert reg.count("actors", ListQuery(search=built.tag)) == len(mine), who
    assert reg.count("actors", ListQuery(filters={"kind": "unit"})) == len(expected), who
    assert reg.count("actors", ListQuery(filters={"kind": "state"})) == 0, who
    # titles: of named records (a page's links) and the first of a menu
    assert set(reg.titles("actors", built.records)) == mine, who
    assert set(reg.titles("actors", limit=None)) == expected, who
    menu = list(reg.titles("actors", limit=3).values())
    assert len(menu) == min(3, len(expected)) and menu == sorted(menu), who
    # get and reference lookups: hidden looks exactly like absent
    for k, record_id in enumerate(built.records):
        if record_id in expected:
            assert reg.get("actors", record_id).id == record_id
            assert reg.resolve_ref("actors", f"{built.tag}-{k}") == record_id
        else:
            with pytest.raises(NotFoundError) as hidden:
                reg.get("actors", record_id)
            assert str(hidden.value) == f"no actor with id {record_id}"
            with pytest.raises(ValidationError, match="no actor"):
                reg.resolve_ref("actors", f"{built.tag}-{k}")
            with pytest.raises(ValidationError, match="no actor"):
                reg.resolve_ref("actors", f"{built.tag} unit {k}")
    # export: what leaves the building (viewers may not export at all: roles.yaml)
    out = tmp / f"{principal.user}.json"
    if "export" not in role_permissions(principal.role):
        with pytest.raises(AuthError, match="cannot export"):
            export_tables(reg, "json", out, ["actors"])
        assert not out.exists()
        return
    export_tables(reg, "json", out, ["actors"])
    exported = {r["id"] for r in json.loads(out.read_text())["tables"]["actors"]}
    assert exported == expected, who


@pytest.fixture
def world_ws(tmp_path: Path, settings: Settings) -> Any:
    workspace = create_workspace(settings)
    yield workspace
    workspace.close()


@WORLDS
@given(world=worlds())
def test_each_user_sees_exactly_what_is_releasable_to_them(
    world_ws: Workspace, tmp_path: Path, world: World
) -> None:
    with world_ws.session() as session:
        built = build(session, world)
    with world_ws.session() as session:
        rows = truth(session)
        sharing = Sharing(session)
        for name in built.users:
            check_every_read_path(session, sharing.principal(name), built, rows, tmp_path)


@pytest.fixture
def pg_ws(tmp_path: Path, postgres_schema_url: str) -> Any:
    workspace = create_workspace(Settings(workspace=tmp_path / "ws", database_url=postgres_schema_url))
    yield workspace
    workspace.close()


@WORLDS
@given(world=worlds())
def test_postgres_row_level_security_alone_enforces_the_same_rule(pg_ws: Workspace, world: World) -> None:
    """No service layer: plain SQL on every registry table, the principal set on the connection."""
    with pg_ws.session() as session:
        build(session, world)
    with pg_ws.session() as session:
        rows = truth(session)
        users = [u.username for u in Sharing(session).users()]
    for name in users:
        with pg_ws.session() as session:
            principal = Sharing(session).principal(name)
            bind_principal(session, principal)
            seen = set(session.scalars(text("SELECT id FROM actors")))
            assert seen == expected_for(principal, rows), name
            # the same holds for a count, and for rows reached through another table
            assert session.scalar(text("SELECT count(*) FROM actors")) == len(seen)
            assert session.scalar(text("SELECT count(*) FROM engagements")) == 0
    with pg_ws.session() as session:
        # no principal on the connection: no rows at all, not even a count
        assert session.scalar(text("SELECT count(*) FROM actors")) == 0
        assert list(session.scalars(text("SELECT id FROM actors LIMIT 1"))) == []


def test_postgres_binds_the_caller_in_the_statement_that_identifies_them(pg_ws: Workspace) -> None:
    """A request on PostgreSQL binds, in the statement that reads who holds the token, the
    principal the token stood for last time: row-level security then shows exactly what the
    caller may read, with no statement of its own; a changed principal is bound anew, and a
    revoked token leaves nothing bound."""
    with pg_ws.session() as session:
        boss = f.admin(session)
        sharing = Sharing(session)
        sharing.add_user(
            "analyst", boss.org, role="analyst", clearances={"national": "SECRET"}, password=None, actor=boss
        )
        reg = Store(session, boss)
        ids = {
            level: f.state(reg, iso3, marking=level).id
            for level, iso3 in (("UNCLASSIFIED", "FRA"), ("SECRET", "DEU"), ("TOP SECRET", "ITA"))
        }
        secret, _ = sharing.issue_token(sharing.principal("analyst"), name="test")
    executed: list[str] = []

    def seen_after_identify() -> set[str]:
        with pg_ws.session() as session:
            executed.clear()
            listen = lambda *args: executed.append(args[2])  # noqa: E731 (the statement's text)
            event.listen(session.get_bind(), "before_cursor_execute", listen)
            try:
                principal, _ = Sharing(session).identify(secret)
                bind_principal(session, principal)  # what Store does: nothing left to do here
                return set(session.scalars(text("SELECT id FROM actors")))
            finally:
                event.remove(session.get_bind(), "before_cursor_execute", listen)

    seen_after_identify()  # the first time: the token is new to this process
    assert seen_after_identify() == {ids["UNCLASSIFIED"], ids["SECRET"]}
    assert len(executed) == 2, executed  # who is calling (binding them), then the read
    with pg_ws.session() as session:
        Sharing(session).update_user("analyst", actor=boss, clearances={"national": "UNCLASSIFIED"})
    assert seen_after_identify() == {ids["UNCLASSIFIED"]}  # carried SECRET, bound anew
    assert len(executed) == 3, executed
    with pg_ws.session() as session:
        Sharing(session).revoke_secret(secret)
    with pg_ws.session() as session:
        with pytest.raises(AuthError):
            Sharing(session).identify(secret)
        assert session.scalar(text("SELECT count(*) FROM actors")) == 0
