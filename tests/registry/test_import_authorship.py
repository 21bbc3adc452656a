"""An import never takes authorship or identity from its file, and a hidden record's id in
a file behaves exactly as an unknown id; JSON nested 10,000 deep is refused cleanly by the
CLI and the API and writes nothing (issue #11, points 2, 4 and 5)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from detente.bulk.io import export_tables, import_file
from detente.cli.app import app
from detente.core.errors import ImportRowsError
from detente.core.workspace import Workspace
from detente.sharing.service import Sharing
from detente.store.service import Store
from tests import factories as f
from tests.conftest import start_migrated
from tests.live import live_server

API = "/api/v1"
DEEP = "[" * 10_000 + "]" * 10_000


def counts(ws: Workspace) -> dict[str, int]:
    with ws.session() as s:
        return f.registry(s).counts()


def as_user(s: Any, username: str) -> Store:
    return Store(s, Sharing(s).principal(username))


def test_authorship_and_version_in_a_file_are_never_stored(ws: Workspace, tmp_path: Path) -> None:
    started = datetime.now(UTC)
    with ws.session() as s:
        reg = f.registry(s)
        fra = f.state(reg, "FRA", "France")
        me = reg.principal.user
    forged = {"created_by": "mallory", "updated_by": "mallory", "version": 7,
              "created_at": "2001-01-01T00:00:00+00:00",
              "updated_at": "2001-01-02T00:00:00+00:00"}  # fmt: skip
    doc = {"actors": [{"name": "Ghana", "kind": "state", "country": "GHA", **forged}]}
    (tmp_path / "new.json").write_text(json.dumps({"tables": doc}))
    with ws.session() as s:
        report = import_file(f.registry(s), tmp_path / "new.json")
    assert report.created == {"actors": 1}
    assert report.warnings == [
        "actors: column(s) created_at, created_by, updated_at, updated_by ignored: detente records who "
        "created and changed each record, and when (this import, now), never what a file says"
    ]
    with ws.session() as s:
        reg = f.registry(s)
        gha = reg.get("actors", reg.resolve_ref("actors", "Ghana"))
        # an existing record: the file's version is compared (it matches), never stored
        export_tables(reg, "json", tmp_path / "out.json", ["actors"])
    assert (gha.created_by, gha.updated_by, gha.version) == (me, me, 1)
    assert gha.created_at >= started and gha.updated_at >= started
    out = json.loads((tmp_path / "out.json").read_text())
    for row in out["tables"]["actors"]:
        if row["id"] == fra.id:
            row.update(notes="edited offline", created_by="mallory", updated_by="mallory",
                       created_at="2001-01-01T00:00:00+00:00")  # fmt: skip
    (tmp_path / "edited.json").write_text(json.dumps(out))
    with ws.session() as s:
        again = import_file(f.registry(s), tmp_path / "edited.json")
    assert (again.created, again.updated, again.unchanged) == ({}, {"actors": 1}, {"actors": 1})
    with ws.session() as s:
        edited = f.registry(s).get("actors", fra.id)
    assert edited.notes == "edited offline" and edited.version == 2
    assert (edited.created_by, edited.updated_by) == (me, me) and edited.created_at >= started
    # a file that says version 7 of a record at version 2 is stale: refused, nothing changes
    for row in out["tables"]["actors"]:
        row["version"] = 7
    (tmp_path / "stale.json").write_text(json.dumps(out))
    with (
        pytest.raises(ImportRowsError, match="file has version 7 .* registry has version 2"),
        ws.session() as s,
    ):
        import_file(f.registry(s), tmp_path / "stale.json")


class _Undo(Exception):
    """Raised to roll a unit of work back after looking at what an import did."""


def outcome(ws: Workspace, path: Path, file_id: str) -> dict[str, Any]:
    """What importing ``path`` as the Kenyan administrator reports and writes (then undone),
    with the file's own id written as ``<file id>``."""

    def scrub(value: Any) -> Any:
        return json.loads(json.dumps(value, default=str).replace(file_id, "<file id>"))

    seen: dict[str, Any] = {}
    try:
        with ws.session() as s:
            reg = as_user(s, "ken-admin")
            before = {n: {r.id for r in reg.iter_all(n)} for n in ("agreements", "engagements")}
            try:
                report = import_file(reg, path, label=path.name)
                seen["report"] = scrub(vars(report))
            except ImportRowsError as exc:
                seen["errors"] = scrub([(e.table, e.row, e.field, e.message) for e in exc.errors])
            new = {n: [r for r in reg.iter_all(n) if r.id not in ids] for n, ids in before.items()}
            made = {r.id: "<new agreement>" for r in new["agreements"]}
            seen["records"] = scrub(
                {
                    n: [
                        {
                            k: made.get(v, v) if isinstance(v, str) else v
                            for k, v in r.model_dump(exclude={"id", "created_at", "updated_at"}).items()
                        }
                        for r in rows
                    ]
                    for n, rows in new.items()
                }
            )
            raise _Undo
    except _Undo:
        pass
    return seen


def test_a_hidden_records_id_in_a_file_is_an_unknown_id(ws: Workspace, tmp_path: Path) -> None:
    with ws.session() as s:
        world = f.two_organisations(s)
        gbr, fra = world["states"]["GBR"], world["states"]["FRA"]
        hidden = f.agreement(
            as_user(s, "gbr-planner"), gbr, fra, marking="SECRET//REL TO GBR", title="Basing"
        )
        assert as_user(s, "ken-admin").find_id("agreements", record_id=hidden.id, external_id=None) is None
    unknown = str(uuid.uuid4())

    def document(file_id: str, with_agreement: bool) -> Path:
        agreement = {"id": file_id, "title": "Port access", "kind": "defense_cooperation_agreement",
                     "parties": ["Kenya", "France"], "signed_on": "2025-01-01", "version": 3,
                     "marking": "UNCLASSIFIED//TLP:CLEAR"}  # fmt: skip
        engagement = {"title": "Port call", "kind": "port_call", "lead_actor_id": "Kenya",
                      "start_date": "2025-06-01", "agreement_id": file_id,
                      "marking": "UNCLASSIFIED//TLP:CLEAR"}  # fmt: skip
        tables = {"engagements": [engagement], **({"agreements": [agreement]} if with_agreement else {})}
        folder = tmp_path / file_id
        folder.mkdir(exist_ok=True)
        (folder / "batch.json").write_text(json.dumps({"tables": tables}))
        return folder / "batch.json"

    for with_agreement in (True, False):
        as_hidden = outcome(ws, document(hidden.id, with_agreement), hidden.id)
        as_unknown = outcome(ws, document(unknown, with_agreement), unknown)
        assert as_hidden == as_unknown
        if with_agreement:  # a new agreement (the file's id kept as its external id), the
            # engagement pointing at it: the file's id resolved within the file
            assert as_hidden["report"]["created"] == {"agreements": 1, "engagements": 1}
            (made,) = as_hidden["records"]["agreements"]
            assert made["external_id"] == "<file id>" and made["version"] == 1
            assert as_hidden["records"]["engagements"][0]["agreement_id"] == "<new agreement>"
        else:  # naming it alone: the same refusal, in the same words
            assert as_hidden["errors"] == [
                ["engagements", 1, "agreement_id", "no agreement '<file id>' (id, external id or name)"]
            ]
    with ws.session() as s:
        kept = as_user(s, "gbr-planner").get("agreements", hidden.id)
    assert (kept.title, kept.version) == ("Basing", 1)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, migrated_sqlite: Path) -> Callable[..., str]:
    monkeypatch.setenv("DETENTE_PASSWORD", "correct horse battery")
    monkeypatch.setenv("DETENTE_DATABASE_URL", "")
    runner = CliRunner()
    root = ["--workspace", str(tmp_path / "cli-ws")]
    start_migrated(migrated_sqlite, tmp_path / "cli-ws" / "registry.sqlite")

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, [*root, *args], env={"COLUMNS": "200"})
        assert result.exit_code == code, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result.output

    run("init", "--org", "Ministry of Defence of Ghana", "--country", "GHA", "--admin", "analyst")
    return run


def test_a_10000_deep_json_import_is_a_clear_cli_error(cli: Callable[..., str], tmp_path: Path) -> None:
    cli("actors", "add", "--kind", "state", "--country", "FRA", "France")
    before = cli("actors", "list")
    deep = tmp_path / "actors.json"
    deep.write_text('{"tables": {"actors": [\n' + DEEP + "]}}")
    out = cli("import", str(deep), code=2)
    assert f"{deep}, line 2: JSON nested deeper than 64 levels; refused" in " ".join(out.split())
    assert "Traceback" not in out and cli("actors", "list") == before


def test_a_10000_deep_json_gets_a_400_from_the_api(ws: Workspace, tmp_path: Path) -> None:
    with ws.session() as s:
        f.two_organisations(s)
    before = counts(ws)
    with live_server(ws) as base:
        token = httpx.post(
            f"{base}{API}/auth/token", json={"username": "gbr-planner", "password": f.PASSWORD}
        )
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        with httpx.Client(base_url=base + API, headers=headers) as gbr:
            upload = {"file": ("engagements.json", DEEP.encode(), "application/json")}
            answers = [
                gbr.post("/import", files=upload),
                gbr.post("/engagements", content=DEEP, headers={"Content-Type": "application/json"}),
                gbr.post("/engagements", content='{"title": ' + DEEP + "}"),  # no content type: JSON too
                gbr.put(
                    "/coalitions/FVEY", content=DEEP, headers={"Content-Type": "application/merge-patch+json"}
                ),
            ]
            for answer in answers:
                assert answer.status_code == 400, answer.text
                body = answer.json()
                assert set(body) == {"error"} and body["error"]["code"] == "too_deep"
                assert "JSON nested deeper than 64 levels" in body["error"]["message"]
            assert "engagements.json, line 1" in answers[0].json()["error"]["message"]
            # a shallow body is untouched by the check
            fine = gbr.post("/engagements", json={"title": "x"})
            assert fine.status_code == 422 and fine.json()["error"]["code"] == "invalid"
    assert counts(ws) == before
