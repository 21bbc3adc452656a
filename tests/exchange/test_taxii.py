"""detente's TAXII 2.1 server: the stock ``taxii2-client`` library reads it; every STIX
document it serves (and the demo's export) passes the OASIS ``stix2-validator`` with 0
errors; the protocol's details (media type, authentication, paging, ``added_after``,
manifest, versions, push and its status, TAXII error messages)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from stix2validator import ValidationOptions, validate_instance
from taxii2client.common import TokenAuth
from taxii2client.v21 import Server, as_pages

from detente.core.settings import Settings
from detente.core.workspace import create_workspace
from detente.demo import build_demo
from detente.exchange.taxii.objects import COLLECTIONS
from detente.sharing.service import Sharing
from detente.sharing.stix import stix_bundle
from detente.store.service import Store
from tests.conftest import start_migrated
from tests.exchange import peers
from tests.exchange.peers import TAXII, WITHHELD, Instance, indicator

pair = peers.pair  # London and Paris, served once for the session's federation tests
KEYS = {c.key: c.id for c in COLLECTIONS.values()}
OPTIONS = ValidationOptions(version="2.1")
CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


def _errors(objects: list[dict[str, Any]]) -> list[str]:
    """The validator's errors for ``objects`` as one bundle (warnings are explained in the docs)."""
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    result = validate_instance(bundle, OPTIONS)
    assert result.object_id == bundle["id"]  # the bundle and every object in it
    return [str(e) for e in result.errors]


def test_the_stock_taxii2_client_reads_detente(pair: tuple[Instance, Instance]) -> None:
    london, _ = pair
    server = Server(f"{london.url}/taxii2/", auth=TokenAuth(london.tokens["fra-peer"]))
    assert server.title == "detente"
    root = server.default
    assert root.versions == [TAXII]
    by_id = {c.id: c for c in root.collections}
    assert set(by_id) == set(KEYS.values())
    registry = by_id[KEYS["registry"]]
    assert registry.can_read and not registry.can_write and by_id[KEYS["exchange"]].can_write
    objects = [o for page in as_pages(registry.get_objects, per_request=4) for o in page.get("objects", [])]
    manifest = [m for page in as_pages(registry.get_manifest, per_request=4) for m in page.get("objects", [])]
    assert len(objects) > 8  # several pages
    assert [o["id"] for o in objects] == [m["id"] for m in manifest]
    names = {o.get("name") for o in objects}
    assert "Channel staff talks" in names and not any(w in str(names) for w in WITHHELD)
    talks = next(o for o in objects if o.get("name") == "Channel staff talks")
    one = registry.get_object(talks["id"])
    assert one["objects"][0]["modified"] == talks["modified"]
    assert registry.object_versions(talks["id"])["versions"] == [talks["modified"]]


def test_served_envelopes_pass_the_validator(pair: tuple[Instance, Instance]) -> None:
    london, paris = pair
    for instance, user in (
        (london, "fra-peer"),
        (london, "deu-peer"),
        (paris, "gbr-peer"),
        (paris, "deu-peer"),
    ):
        for cid in COLLECTIONS:
            url = f"{instance.root}collections/{cid}/objects/"
            response = httpx.get(url, params={"limit": 10_000}, headers=instance.headers(user))
            assert response.status_code == 200
            objects = response.json()["objects"]
            assert _errors(objects) == [], (instance.name, user, cid)


def test_the_demo_export_passes_the_validator_and_exports_the_same_versions_twice(
    tmp_path: Path, migrated_sqlite: Path
) -> None:
    start_migrated(migrated_sqlite, tmp_path / "ws" / "registry.sqlite")
    with create_workspace(Settings(workspace=tmp_path / "ws")) as ws:
        build_demo(ws, years=2)
        with ws.session() as session:
            reg = Store(session, Sharing(session).principal("gbr-admin"))
            first, _ = stix_bundle(reg)
            second, _ = stix_bundle(reg)
    objects = [json.loads(o.serialize()) for o in first.objects]
    assert len(objects) > 100
    assert _errors(objects) == []
    assert not [k for o in objects for k in o if k.startswith("x_")]

    def versions(bundle: Any) -> set[tuple[str, str]]:
        return {(o["id"], o.get("modified", o.get("created"))) for o in bundle.objects}

    assert versions(first) == versions(second)


def test_protocol_details(pair: tuple[Instance, Instance]) -> None:
    london, _ = pair
    objects = f"{london.root}collections/{KEYS['registry']}/objects/"
    denied = httpx.get(objects, headers={"Accept": TAXII})
    assert denied.status_code == 401 and denied.headers["content-type"] == TAXII
    assert denied.json()["http_status"] == "401" and "Bearer" in denied.json()["description"]
    wrong = httpx.get(objects, headers={**london.headers("fra-peer"), "Accept": "text/html"})
    assert wrong.status_code == 406
    missing = httpx.get(
        f"{london.root}collections/{uuid.uuid4()}/objects/", headers=london.headers("fra-peer")
    )
    assert missing.status_code == 404 and missing.json()["title"] == "Not Found"
    bad = httpx.get(objects, params={"added_after": "yesterday"}, headers=london.headers("fra-peer"))
    assert bad.status_code == 400 and "added_after" in bad.text
    page = httpx.get(objects, params={"limit": 3}, headers=london.headers("fra-peer"))
    assert page.json()["more"] is True and len(page.json()["objects"]) == 3
    last = page.headers["X-TAXII-Date-Added-Last"]
    assert page.headers["X-TAXII-Date-Added-First"] <= last
    full = httpx.get(objects, headers=london.headers("fra-peer")).json()["objects"]
    after = httpx.get(objects, params={"added_after": last}, headers=london.headers("fra-peer")).json()
    assert 0 < len(after["objects"]) < len(full)  # only what was added after the first page
    newest = httpx.get(objects, headers=london.headers("fra-peer")).headers["X-TAXII-Date-Added-Last"]
    nothing = httpx.get(objects, params={"added_after": newest}, headers=london.headers("fra-peer")).json()
    assert nothing["objects"] == [] and nothing["more"] is False


def test_a_push_and_its_status(pair: tuple[Instance, Instance]) -> None:
    _, paris = pair
    headers = {**paris.headers("gbr-peer"), "Content-Type": TAXII}
    sent = indicator("Pushed public indicator", CLEAR)
    url = f"{paris.root}collections/{KEYS['exchange']}/objects/"
    response = httpx.post(url, content=json.dumps({"objects": [sent]}), headers=headers)
    assert response.status_code == 202, response.text
    status = response.json()
    assert (status["status"], status["success_count"], status["successes"]) == (
        "complete",
        1,
        [{"id": sent["id"]}],
    )
    again = httpx.get(f"{paris.root}status/{status['id']}/", headers=paris.headers("gbr-peer"))
    assert again.json() == status
    # another partner does not see London's status
    other = httpx.get(f"{paris.root}status/{status['id']}/", headers=paris.headers("deu-peer"))
    assert other.status_code == 404
    # a public object is readable by every partner; the registry collection is read only
    seen = httpx.get(url, params={"match[id]": sent["id"]}, headers=paris.headers("deu-peer")).json()
    assert [o["id"] for o in seen["objects"]] == [sent["id"]]
    refused = httpx.post(
        f"{paris.root}collections/{KEYS['registry']}/objects/",
        content=json.dumps({"objects": [sent]}),
        headers=headers,
    )
    assert refused.status_code == 403 and "read only" in refused.json()["description"]
    plain = httpx.post(
        url, content=json.dumps({"objects": [sent]}), headers={**headers, "Content-Type": "text/plain"}
    )
    assert plain.status_code == 415
