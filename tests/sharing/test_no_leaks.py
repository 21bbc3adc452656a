"""A user learns nothing of records they may not see: not from a write's error,
a refused delete, a partner list, a count, an export, an import or the CLI.

The world: France's ministry owns a SECRET, owner-only unit and a SECRET,
owner-only engagement, and a shared engagement released to Kenya whose partners
include the hidden unit. Kenya's ministry owns a unit released to France.
"""

from __future__ import annotations

import csv
import json
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from detente.bulk.io import export_tables, import_file
from detente.cli.app import app
from detente.cli.context import save_login
from detente.core.errors import AuthError, ConflictError, NotFoundError, ValidationError
from detente.core.markings import Principal
from detente.core.workspace import Workspace
from detente.sharing.service import Sharing
from detente.store import reads
from detente.store.access import bind_principal
from detente.store.records import record_types
from detente.store.service import ListQuery, Store
from tests import factories as f


@dataclass
class World:
    fra: Principal  # France's administrator, cleared for everything
    fra_low: Principal  # a French planner cleared only to RESTRICTED
    ken: Principal  # a Kenyan planner cleared to SECRET
    france: str
    kenya: str
    secret_unit: str
    ken_unit: str
    shared_eng: str
    hidden_eng: str


@pytest.fixture
def world(ws: Workspace) -> World:
    with ws.session() as session:
        fra = f.admin(session)
        sharing = Sharing(session)
        fra_org = sharing.user(fra.user).org_id
        sharing.add_user(
            "fra-low", fra_org, role="planner", clearances={"national": "RESTRICTED"},
            password=None, actor=fra,
        )  # fmt: skip
        ken_org = sharing.add_org("Kenya Ministry of Defence", "KEN", actor=fra)
        sharing.add_user(
            "ken-admin", ken_org.id, role="administrator", clearances=f.FULL, password=None, actor=fra
        )
        ken_admin = sharing.principal("ken-admin")
        sharing.add_user(
            "ken-planner", ken_org.id, role="planner", clearances={"national": "SECRET"},
            password=None, actor=ken_admin,
        )  # fmt: skip
        reg = Store(session, fra)
        france = f.state(reg, "FRA", marking="UNCLASSIFIED//REL TO KEN")
        kenya = f.state(reg, "KEN", marking="UNCLASSIFIED//REL TO KEN")
        secret_unit = reg.create(
            "actors",
            {
                "name": "Hidden Special Unit",
                "kind": "unit",
                "country": "FRA",
                "external_id": "FRA-SEC-1",
                "marking": "SECRET",
            },
        )
        ken_unit = Store(session, ken_admin).create(
            "actors",
            {"name": "Kenyan Navy", "kind": "unit", "country": "KEN", "marking": "UNCLASSIFIED//REL TO FRA"},
        )
        shared_eng = f.engagement(
            reg, france, [kenya, secret_unit], title="Port visit Mombasa", marking="UNCLASSIFIED//REL TO KEN"
        )
        hidden_eng = f.engagement(
            reg, ken_unit, [], title="Covert survey", marking="SECRET", start_date=date(2025, 6, 1)
        )
        return World(
            fra=fra,
            fra_low=sharing.principal("fra-low"),
            ken=sharing.principal("ken-planner"),
            france=france.id,
            kenya=kenya.id,
            secret_unit=secret_unit.id,
            ken_unit=ken_unit.id,
            shared_eng=shared_eng.id,
            hidden_eng=hidden_eng.id,
        )


def test_writes_to_hidden_records_say_not_found_as_for_absent_ones(ws: Workspace, world: World) -> None:
    absent = str(uuid.uuid4())
    with ws.session() as session:
        reg = Store(session, world.ken)
        for record_id in (world.hidden_eng, absent):
            with pytest.raises(NotFoundError) as update:
                reg.update("engagements", record_id, {"troops": 5}, expected_version=1)
            assert str(update.value) == f"no engagement with id {record_id}"
            with pytest.raises(NotFoundError) as delete:
                reg.delete("engagements", record_id)
            assert str(delete.value) == f"no engagement with id {record_id}"
        # a record they can see but do not own is read-only: that they may be told
        with pytest.raises(AuthError, match="belongs to another organisation"):
            reg.update("engagements", world.shared_eng, {"troops": 5}, expected_version=1)
        # a hidden record cannot be referenced either: the error is the one for a typo
        with pytest.raises(ValidationError) as ref:
            reg.create(
                "engagements",
                {"title": "Talks", "kind": "defense_dialogue", "lead_actor_id": world.ken_unit,
                 "partners": [world.secret_unit], "start_date": date(2025, 3, 4)},
            )  # fmt: skip
        assert str(ref.value).endswith(f"no actor with id {world.secret_unit}")
    with ws.session() as session:  # nothing changed underneath
        assert Store(session, world.fra).get("engagements", world.hidden_eng).troops is None


def test_a_refused_delete_does_not_describe_hidden_dependents(ws: Workspace, world: World) -> None:
    with ws.session() as session:
        reg = Store(session, Sharing(session).principal("ken-admin"))
        with pytest.raises(ConflictError) as refused:
            reg.delete("actors", world.ken_unit)
        message = str(refused.value)
        assert message == f"actor {world.ken_unit} is still referenced; change or delete those first"
        assert world.hidden_eng not in message and "engagement" not in message
    with ws.session() as session:
        assert Store(session, world.fra).get("actors", world.ken_unit).name == "Kenyan Navy"


def test_links_to_hidden_actors_are_hidden_and_survive_an_update(ws: Workspace, world: World) -> None:
    with ws.session() as session:
        assert Store(session, world.ken).get("engagements", world.shared_eng).partners == [world.kenya]
        low = Store(session, world.fra_low)
        seen = low.get("engagements", world.shared_eng)
        assert seen.partners == [world.kenya]
        low.update(
            "engagements",
            world.shared_eng,
            {"partners": [world.kenya, world.ken_unit]},
            expected_version=seen.version,
        )
    with ws.session() as session:
        full = Store(session, world.fra).get("engagements", world.shared_eng).partners
        assert set(full) == {world.kenya, world.ken_unit, world.secret_unit}
        assert Store(session, world.ken).get("engagements", world.shared_eng).partners == [
            world.kenya,
            world.ken_unit,
        ]
    if ws.is_postgres:  # row-level security on the link table alone hides the same links
        with ws.session() as session:
            bind_principal(session, world.ken)
            links = set(session.execute(text("SELECT engagement_id, actor_id FROM engagement_partners")))
            assert links == {(world.shared_eng, world.kenya), (world.shared_eng, world.ken_unit)}
            bind_principal(session, world.fra)
            assert session.scalar(text("SELECT count(*) FROM engagement_partners")) == 3


def test_counts_and_every_export_format_leak_nothing(ws: Workspace, world: World, tmp_path: Path) -> None:
    with ws.session() as session:
        reg = Store(session, world.ken)
        assert reg.count("engagements") == 1
        assert reg.counts() == {
            **dict.fromkeys(record_types(), 0),  # the kinds other slices add (exchange, channels): none
            "actors": 3,
            "people": 0,
            "agreements": 0,
            "engagements": 1,
            "commitments": 0,
            "vetting_decisions": 0,
            **dict.fromkeys(("initiatives", "objectives", "indicators", "observations"), 0),
            **dict.fromkeys(("evaluations", "lessons", "calendar_entries"), 0),
        }
        assert reg.count("engagements", ListQuery(involving=world.ken_unit)) == 0
        assert reg.list("engagements", ListQuery(search="covert")) == []
        for fmt in ("csv", "json", "xlsx", "parquet"):
            out = tmp_path / fmt / ("" if fmt in ("csv", "parquet") else f"all.{fmt}")
            files = export_tables(reg, fmt, out)
            blob = b"".join(p.read_bytes() for p in files) if fmt != "xlsx" else _xlsx_text(files[0])
            for secret in (world.hidden_eng, world.secret_unit, b"Covert", b"Hidden Special", b"FRA-SEC-1"):
                needle = secret.encode() if isinstance(secret, str) else secret
                assert needle not in blob, (fmt, secret)
        with (tmp_path / "csv" / "engagements.csv").open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert [(r["id"], r["partners"]) for r in rows] == [(world.shared_eng, world.kenya)]
        # France's own administrator sees it all
        assert Store(session, world.fra).count("engagements") == 2


def _xlsx_text(path: Path) -> bytes:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    cells = [str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row]
    return "\n".join(cells).encode()


def test_an_import_naming_a_hidden_external_id_creates_a_new_record(
    ws: Workspace, world: World, tmp_path: Path
) -> None:
    file = tmp_path / "actors.csv"
    file.write_text("external_id,name,kind,country\nFRA-SEC-1,Kenyan Rangers,unit,KEN\n")
    with ws.session() as session:
        report = import_file(Store(session, world.ken), file)
        assert report.created == {"actors": 1} and not report.updated
    with ws.session() as session:
        fra = Store(session, world.fra)
        assert fra.get("actors", world.secret_unit).name == "Hidden Special Unit"
        ken = Store(session, world.ken)
        [mine] = ken.list("actors", ListQuery(filters={"external_id": "FRA-SEC-1"}))
        assert mine.name == "Kenyan Rangers" and mine.id != world.secret_unit


def test_the_cli_says_not_found_for_a_hidden_record(
    ws: Workspace, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ws.session() as session:
        sharing = Sharing(session)
        secret, _ = sharing.issue_token(world.ken, name="test")
    save_login(ws, "ken-planner", secret)
    monkeypatch.setenv("DETENTE_WORKSPACE", str(ws.path))
    monkeypatch.setenv("DETENTE_DATABASE_URL", ws.database_url)
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
        return result.exit_code, result.output + (result.stderr or "")

    hidden = run("--as", "ken-planner", "engagements", "show", world.hidden_eng)
    absent_id = str(uuid.uuid4())
    absent = run("--as", "ken-planner", "engagements", "show", absent_id)
    assert hidden[0] == absent[0] != 0
    assert hidden[1].replace(world.hidden_eng, "ID") == absent[1].replace(absent_id, "ID")
    assert "forbidden" not in hidden[1].lower() and "Covert" not in hidden[1]
    code, out = run("--as", "ken-planner", "engagements", "list", "--json")
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines() if line.startswith("{")] == [world.shared_eng]
    # the same token works as --token, and a made-up token is refused
    code, out = run("--token", secret, "status")
    assert code == 0 and "ken-planner" in out
    code, out = run("--token", "dtt_made-up", "status")
    assert code == 6 and "invalid, expired or revoked token" in out


@pytest.mark.parametrize("chunk", [1, 5000])
def test_listings_filter_links_the_same_whether_ids_are_chunked_or_queried(
    ws: Workspace, world: World, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Long listings fetch links through the listing's own query, short ones by id."""
    monkeypatch.setattr(reads, "LINK_CHUNK", chunk)
    with ws.session() as session:
        for principal in (world.fra, world.fra_low, world.ken):
            reg = Store(session, principal)
            listed = reg.list("engagements", ListQuery(limit=None))
            assert listed, principal.user
            for record in listed:
                assert record.partners == reg.get("engagements", record.id).partners
            assert [r.partners for r in reg.list("engagements", ListQuery(limit=1, offset=1))] == [
                r.partners for r in listed[1:2]
            ]
        by_ken = Store(session, world.ken).list("engagements", ListQuery(limit=None))
        assert [r.partners for r in by_ken] == [[world.kenya]]


def _led_by_the_hidden_unit(session: Session, world: World) -> Any:
    """An engagement of France's whose lead only France's cleared users may see."""
    owner = Store(session, world.fra)
    return f.engagement(owner, owner.get("actors", world.secret_unit), [], title="Led by the hidden unit")


def test_a_reference_to_a_hidden_record_does_not_block_editing_other_fields(
    ws: Workspace, world: World
) -> None:
    with ws.session() as session:
        led = _led_by_the_hidden_unit(session, world)
        low = Store(session, world.fra_low)
        updated = low.update("engagements", led.id, {"troops": 40}, expected_version=1)
        # the reference is withheld from them (null, named in `withheld`), and kept
        assert updated.troops == 40 and updated.lead_actor_id is None
        assert updated.withheld == ["lead_actor_id"]
        # sending back the null they were shown keeps the reference they cannot see
        again = low.update("engagements", led.id, {"lead_actor_id": None, "troops": 41}, expected_version=2)
        assert again.troops == 41 and again.lead_actor_id is None
        owner_view = Store(session, world.fra).get("engagements", led.id)
        assert owner_view.lead_actor_id == world.secret_unit and owner_view.withheld == []
        with pytest.raises(ValidationError, match=f"no actor with id {world.secret_unit}"):
            low.update(
                "engagements", world.shared_eng, {"lead_actor_id": world.secret_unit}, expected_version=1
            )


def test_an_update_answers_what_a_read_of_the_record_then_shows(ws: Workspace, world: World) -> None:
    """The store answers a change without reading the record back: the answer must be what
    ``get`` shows the same principal, hidden references and partners withheld as there."""
    with ws.session() as session:
        led = _led_by_the_hidden_unit(session, world)
        low = Store(session, world.fra_low)
        changes: list[tuple[str, dict[str, Any]]] = [
            (world.shared_eng, {"troops": 12}),  # a hidden partner, kept as it was
            (world.shared_eng, {"partners": [world.ken_unit, world.kenya]}),  # the hidden one stays
            (led.id, {"notes": "seen"}),  # a hidden lead, kept and withheld
            (led.id, {"lead_actor_id": world.kenya}),  # replaced by one they may see
        ]
        for record_id, change in changes:
            version = low.get("engagements", record_id).version
            answered = low.update("engagements", record_id, change, expected_version=version)
            assert answered == low.get("engagements", record_id), change
        assert low.get("engagements", world.shared_eng).partners == [world.ken_unit, world.kenya]
        owner = Store(session, world.fra).get("engagements", world.shared_eng)
        assert sorted(owner.partners) == sorted([world.ken_unit, world.kenya, world.secret_unit])
        assert low.get("engagements", led.id).withheld == []
