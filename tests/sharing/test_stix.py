"""STIX 2.1 export: bundles the stix2 library parses, carrying the OASIS TLP 2.0
marking-definitions and detente's marking extension, holding only what the
exporting user may see."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import stix2
from sqlalchemy import select
from typer.testing import CliRunner

from detente.cli.app import app
from detente.cli.context import save_login
from detente.core import audit
from detente.core.workspace import Workspace
from detente.sharing.service import Sharing
from detente.sharing.stix import MARKING_EXTENSION_ID, RECORD_EXTENSION_ID, TLP_EXTENSION_ID, export_stix
from detente.store.service import Store
from tests import factories as f

# Published by OASIS (cti-stix-common-objects, extension-definition-specifications/tlp-2.0),
# written out here rather than read from detente's own table so the test can catch a typo there.
OASIS_TLP_2 = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}


@pytest.fixture
def scene(ws: Workspace) -> dict[str, Any]:
    with ws.session() as session:
        fra = f.admin(session)
        sharing = Sharing(session)
        ken_org = sharing.add_org("Kenya Ministry of Defence", "KEN", actor=fra)
        sharing.add_user(
            "ken",
            ken_org.id,
            role="administrator",
            clearances={"national": "SECRET"},
            password=None,
            actor=fra,
        )
        reg = Store(session, fra)
        france = f.state(reg, "FRA", marking="UNCLASSIFIED//TLP:CLEAR")
        kenya = f.state(reg, "KEN", marking="UNCLASSIFIED//REL TO KEN//TLP:GREEN")
        hidden_unit = reg.create(
            "actors", {"name": "Hidden Special Unit", "kind": "unit", "country": "FRA", "marking": "SECRET"}
        )
        talks = f.engagement(
            reg, france, [kenya, hidden_unit], title="Maritime staff talks", troops=12,
            marking="CONFIDENTIAL//REL TO KEN//TLP:AMBER",
        )  # fmt: skip
        survey = f.engagement(reg, france, [], title="Covert survey", marking="SECRET")
        dca = f.agreement(reg, france, kenya, marking="RESTRICTED//REL TO KEN")
        return {
            "fra": fra,
            "ken": sharing.principal("ken"),
            "talks": talks.id,
            "survey": survey.id,
            "dca": dca.id,
            "hidden_unit": hidden_unit.id,
        }


def _objects(bundle: Any) -> dict[str, Any]:
    return {o["id"]: o for o in bundle["objects"]}


def test_the_bundle_parses_and_carries_the_tlp_2_marking_definitions(
    ws: Workspace, scene: dict[str, Any], tmp_path: Path
) -> None:
    with ws.session() as session:
        path, marking = export_stix(Store(session, scene["ken"]), tmp_path / "ken.stix.json")
    text = path.read_text()
    bundle = stix2.parse(text, allow_custom=True)
    assert isinstance(bundle, stix2.Bundle)
    objects = _objects(json.loads(text))
    # every reference resolves inside the bundle: it is self-contained
    for obj in objects.values():
        refs = [*obj.get("object_refs", []), *obj.get("object_marking_refs", [])]
        refs += [obj["created_by_ref"]] if "created_by_ref" in obj else []
        assert all(r in objects for r in refs), obj["id"]
    definitions = {o["id"]: o for o in objects.values() if o["type"] == "marking-definition"}
    statements = {i: d for i, d in definitions.items() if d.get("definition_type") == "statement"}
    assert set(definitions) - set(statements) <= set(OASIS_TLP_2.values())
    banners = {d["definition"]["statement"] for d in statements.values()}
    assert "CONFIDENTIAL//REL TO KEN//TLP:AMBER" in banners
    for name, ident in OASIS_TLP_2.items():
        if ident in definitions:
            assert definitions[ident]["name"] == f"TLP:{name}"
            assert definitions[ident]["extensions"][TLP_EXTENSION_ID]["tlp_2_0"] == name.lower()
    by_title = {o.get("name"): o for o in objects.values()}
    talks = by_title["Maritime staff talks"]
    assert talks["type"] == "report" and talks["report_types"] == ["identity"]
    assert talks["object_marking_refs"][0] == OASIS_TLP_2["AMBER"]
    assert statements[talks["object_marking_refs"][1]]["name"] == "CONFIDENTIAL//REL TO KEN//TLP:AMBER"
    ext = talks["extensions"][MARKING_EXTENSION_ID]
    assert (ext["classification"], ext["scheme"], ext["rel_to"], ext["tlp_implied"]) == (
        "CONFIDENTIAL", "national", ["KEN"], False,
    )  # fmt: skip
    assert talks["extensions"][RECORD_EXTENSION_ID]["troops"] == 12
    assert talks["published"].startswith("2025-03-04")
    assert not [k for o in objects.values() for k in o if k.startswith("x_")]  # no custom property
    # the agreement has no TLP label: it travels as AMBER (it has a REL TO list), and says so
    dca = next(o for o in objects.values() if o["type"] == "grouping")
    assert dca["object_marking_refs"][0] == OASIS_TLP_2["AMBER"]
    assert dca["extensions"][MARKING_EXTENSION_ID]["tlp_implied"] is True
    assert dca["extensions"][MARKING_EXTENSION_ID]["banner"] == "RESTRICTED//REL TO KEN"
    kenya = by_title["State KEN"]
    assert kenya["object_marking_refs"][0] == OASIS_TLP_2["GREEN"]
    assert {objects[r]["name"] for r in talks["object_refs"]} == {"State FRA", "State KEN"}
    extensions = {o["id"]: o for o in objects.values() if o["type"] == "extension-definition"}
    assert set(extensions) == {MARKING_EXTENSION_ID, RECORD_EXTENSION_ID}
    assert all(e["extension_types"] == ["property-extension"] for e in extensions.values())
    assert marking is not None and marking.render() == "CONFIDENTIAL//REL TO KEN//TLP:AMBER"


def test_the_bundle_holds_only_what_the_exporter_may_see(
    ws: Workspace, scene: dict[str, Any], tmp_path: Path
) -> None:
    with ws.session() as session:
        ken_path, _ = export_stix(Store(session, scene["ken"]), tmp_path / "ken.json")
        fra_path, _ = export_stix(Store(session, scene["fra"]), tmp_path / "fra.json")
    ken_text, fra_text = ken_path.read_text(), fra_path.read_text()
    for secret in ("Covert survey", "Hidden Special Unit", scene["survey"], scene["hidden_unit"]):
        assert secret not in ken_text
        assert secret in fra_text  # the owner's own export has them: the filter is per user
    assert OASIS_TLP_2["AMBER+STRICT"] in fra_text and OASIS_TLP_2["AMBER+STRICT"] not in ken_text
    ken_reports = [o for o in json.loads(ken_text)["objects"] if o["type"] == "report"]
    assert [r["external_references"][0]["external_id"] for r in ken_reports] == [scene["talks"]]
    # ids are stable, so a partner's platform updates rather than duplicates on re-import
    # (all but the producing organisation, which differs)
    ken_ids = set(_objects(json.loads(ken_text))) - {ken_reports[0]["created_by_ref"]}
    assert ken_ids <= set(_objects(json.loads(fra_text)))
    with ws.session() as session:
        entries = session.scalars(select(audit.AuditEntry).where(audit.AuditEntry.action == "export"))
        details = [json.loads(e.detail) for e in entries]
    assert [(d["format"], d["rows"]) for d in details] == [
        ("stix", {"engagements": 1, "agreements": 1}),
        ("stix", {"engagements": 2, "agreements": 1}),
    ]


def test_stix_export_from_the_cli(
    ws: Workspace, scene: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ws.session() as session:
        secret, _ = Sharing(session).issue_token(scene["ken"], name="test")
    save_login(ws, "ken", secret)
    monkeypatch.setenv("DETENTE_WORKSPACE", str(ws.path))
    monkeypatch.setenv("DETENTE_DATABASE_URL", ws.database_url)
    out = tmp_path / "partner.stix.json"
    result = CliRunner().invoke(
        app, ["--as", "ken", "export", "--format", "stix", "--out", str(out)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "bundle marking: CONFIDENTIAL//REL TO KEN//TLP:AMBER" in result.output
    bundle = stix2.parse(out.read_text(), allow_custom=True)
    assert sum(o.type == "report" for o in bundle.objects) == 1
    result = CliRunner().invoke(
        app, ["--as", "ken", "export", "--format", "stix", "--table", "people"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 2 and "engagements, agreements" in result.output
