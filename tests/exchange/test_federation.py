"""Two detente instances federate over TAXII 2.1 (#14 point 6, acceptance): London (GBR)
and Paris (FRA), two workspaces, two ``detente serve`` processes. What London releases to
France arrives in Paris with its markings; what it does not release never leaves (not in
Paris's store, not in any response on the wire); pulls are idempotent, a newer version
replaces the older; Paris passes a received object to Germany only when its originator's
marking names Germany; Paris pushes to London what London's account may read."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import httpx
from sqlalchemy import select
from typer.testing import CliRunner

from detente.api.deps import SESSION_COOKIE, csrf_token
from detente.cli.app import app
from detente.exchange import sync
from detente.exchange.service import Exchange
from detente.exchange.taxii.objects import COLLECTIONS
from detente.exchange.taxii.tables import ExchangeObject
from detente.sharing.service import Sharing
from detente.sharing.stix import MARKING_EXTENSION_ID, RECORD_EXTENSION_ID
from detente.store.service import Store
from tests.exchange import peers
from tests.exchange.peers import WITHHELD, Instance

pair = peers.pair  # London and Paris, served once for the session's federation tests
EXCHANGE = next(c.id for c in COLLECTIONS.values() if c.key == "exchange")


def _cli(instance: Instance, *args: str) -> str:
    user = "fra-admin" if instance.name == "paris" else "gbr-admin"
    result = CliRunner().invoke(
        app, ["--workspace", str(instance.path), "--as", user, *args],
        env={"COLUMNS": "200", "DETENTE_DATABASE_URL": ""},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output


def _stored(instance: Instance) -> dict[str, ExchangeObject]:
    with instance.workspace() as ws, ws.session() as session:
        rows = session.scalars(select(ExchangeObject)).all()
        session.expunge_all()
    return {r.stix_id: r for r in rows}


def _by_detente_id(rows: dict[str, ExchangeObject], record_id: str) -> ExchangeObject | None:
    for row in rows.values():
        refs = json.loads(row.body).get("external_references", [])
        if any(r.get("external_id") == record_id for r in refs):
            return row
    return None


def _wire(instance: Instance, user: str) -> bytes:
    """Every byte ``user`` gets from every collection, page by page (small pages), and the manifests."""
    seen = b""
    for cid in COLLECTIONS:
        for part in ("objects", "manifest"):
            url = f"{instance.root}collections/{cid}/{part}/"
            params: dict[str, Any] = {"limit": 7}
            while True:
                response = httpx.get(url, params=params, headers=instance.headers(user))
                assert response.status_code == 200, response.text
                seen += response.content
                body = response.json()
                if not body.get("more"):
                    break
                params = {"limit": 7, "next": body["next"]}
    return seen


def test_what_london_releases_arrives_in_paris_with_its_markings(pair: tuple[Instance, Instance]) -> None:
    london, paris = pair
    out = _cli(paris, "exchange", "pull", "london")
    assert "pulled from london" in out and "new" in out
    rows = _stored(paris)
    talks = _by_detente_id(rows, london.ids["talks"])
    assert talks is not None and talks.origin == "london"
    assert talks.marking == "CONFIDENTIAL//REL TO FRA//TLP:AMBER"
    body = json.loads(talks.body)
    assert body["name"] == "Channel staff talks" and body["extensions"][RECORD_EXTENSION_ID]["troops"] == 40
    assert body["extensions"][MARKING_EXTENSION_ID]["rel_to"] == ["FRA"]
    treaty = _by_detente_id(rows, london.ids["treaty"])
    assert treaty is not None and treaty.marking == "RESTRICTED//REL TO DEU, FRA"
    # what London keeps, or releases to Germany only, is nowhere in Paris's store
    assert (
        _by_detente_id(rows, london.ids["survey"]) is None
        and _by_detente_id(rows, london.ids["liaison"]) is None
    )
    everything = " ".join(r.body for r in rows.values())
    assert not [w for w in WITHHELD if w in everything]
    # the same objects again are the same records
    again = _cli(paris, "exchange", "pull", "london")
    assert " 0 new, 0 updated" in again
    assert set(_stored(paris)) == set(rows)


def test_a_released_report_arrives_tear_lined_with_its_grading(pair: tuple[Instance, Instance]) -> None:
    _, paris = pair
    _cli(paris, "exchange", "pull", "london")
    with paris.workspace() as ws, ws.session() as session:
        exchange = Exchange(Store(session, Sharing(session).principal("fra-admin")))
        received = [r for r in exchange.reports() if r.origin == "london"]
        assert [r.title for r in received] == ["Trawlers loitering off Brest"]
        report = received[0]
        assert (report.source_reliability, report.info_credibility) == ("B", 2)
        assert report.marking == "CONFIDENTIAL//REL TO FRA"
        view = exchange.view(report.id)
        texts = [p.text for p in view.shown]
        markings = [p.marking for p in view.shown]
    assert texts == [
        "Two trawlers loitered near the cable landing at 0300.",
        "Harbour logs show no declared fishing.",
    ]
    assert markings == ["CONFIDENTIAL//REL TO FRA", "RESTRICTED//REL TO DEU, FRA"]
    assert "Nightjar" not in str(texts)


def test_what_london_does_not_release_never_leaves_on_the_wire(pair: tuple[Instance, Instance]) -> None:
    london, _paris = pair
    seen = _wire(london, "fra-peer")
    assert b"Channel staff talks" in seen  # the walk reads what is released...
    for secret in (*WITHHELD, london.ids["survey"], london.ids["liaison"]):
        assert secret.encode() not in seen  # ...and never what is not
    assert b"Baltic liaison" in _wire(london, "deu-peer")  # released to Germany, so Germany's walk has it


def test_a_newer_version_replaces_the_older(pair: tuple[Instance, Instance]) -> None:
    london, paris = pair
    _cli(paris, "exchange", "pull", "london")
    before = _by_detente_id(_stored(paris), london.ids["talks"])
    assert before is not None
    with london.workspace() as ws, ws.session() as session:
        reg = Store(session, Sharing(session).principal("gbr-admin"))
        current = reg.get("engagements", london.ids["talks"])
        reg.update("engagements", current.id, {"troops": 55}, expected_version=current.version)
    out = _cli(paris, "exchange", "pull", "london")
    assert "1 updated" in out
    after = _stored(paris)
    row = _by_detente_id(after, london.ids["talks"])
    assert row is not None and row.stix_id == before.stix_id and row.modified_at > before.modified_at
    assert json.loads(row.body)["extensions"][RECORD_EXTENSION_ID]["troops"] == 55
    assert len(after) >= len(_stored(paris)) and row.marking == before.marking


def test_paris_passes_on_only_what_the_originator_released(pair: tuple[Instance, Instance]) -> None:
    london, paris = pair
    _cli(paris, "exchange", "pull", "london")
    talks = _by_detente_id(_stored(paris), london.ids["talks"])
    treaty = _by_detente_id(_stored(paris), london.ids["treaty"])
    assert talks is not None and treaty is not None
    # Germany reading Paris's exchange collection: the treaty (REL TO DEU, FRA), not the talks (REL TO FRA)
    seen = _wire(paris, "deu-peer")
    assert treaty.stix_id.encode() in seen and talks.stix_id.encode() not in seen
    # and what Paris would push to Germany's account is chosen by the same decision
    with paris.workspace() as ws, ws.session() as session:
        deu = Sharing(session).principal("deu-peer")
        pushed = {o["id"] for o in sync.releasable_to(session, deu)}
    assert treaty.stix_id in pushed and talks.stix_id not in pushed


def test_paris_pushes_to_london_what_londons_account_may_read(pair: tuple[Instance, Instance]) -> None:
    london, paris = pair
    _cli(paris, "exchange", "pull", "london")
    out = _cli(paris, "exchange", "push", "london")
    assert "pushed" in out
    rows = _stored(london)
    mistral = _by_detente_id(rows, paris.ids["mistral"])
    assert mistral is not None and mistral.marking == "CONFIDENTIAL//REL TO GBR//TLP:AMBER"
    assert mistral.origin == "paris"  # London's peer for Paris's account: the provenance
    # London's own objects were not echoed back to it
    assert _by_detente_id(rows, london.ids["talks"]) is None
    listing = _cli(paris, "exchange", "peers")
    assert "london" in listing and "pushed" in listing


def test_peers_and_their_last_sync_in_the_api_and_the_web(pair: tuple[Instance, Instance]) -> None:
    _, paris = pair
    bearer = {"Authorization": f"Bearer {paris.tokens['fra-admin']}"}
    pulled = httpx.post(f"{paris.url}/api/v1/exchange/peers/london/pull", headers=bearer)
    assert pulled.status_code == 200, pulled.text
    assert pulled.json()["summary"].startswith("pulled from london")
    listed = {p["name"]: p for p in httpx.get(f"{paris.url}/api/v1/exchange/peers", headers=bearer).json()}
    assert listed["london"]["received"] > 0 and listed["london"]["last_pull_at"]
    assert httpx.get(f"{paris.url}/api/v1/exchange/peers").status_code == 401
    # the web page: the same peers, and a pull from its button
    secret = paris.tokens["fra-admin"]
    cookies = {SESSION_COOKIE: secret}
    page = httpx.get(f"{paris.url}/federation", cookies=cookies)
    assert (
        page.status_code == 200 and "london" in page.text and str(listed["london"]["received"]) in page.text
    )
    assert "CONFIDENTIAL" in page.text  # the banner of what the counts derive from
    form = {"csrf_token": csrf_token(secret), "peer": "london", "direction": "pull"}
    done = httpx.post(f"{paris.url}/federation/sync", data=form, cookies=cookies)
    assert done.status_code == 303 and "pulled from london" in unquote(done.headers["location"])
    refused = httpx.post(f"{paris.url}/federation/sync", data={**form, "peer": "nowhere"}, cookies=cookies)
    assert refused.status_code == 422 and "no peer" in refused.text


def test_peers_are_added_and_removed_from_the_cli(pair: tuple[Instance, Instance]) -> None:
    london, paris = pair
    out = _cli(
        paris,
        "exchange",
        "add-peer",
        "spare",
        london.root,
        "--peer-token",
        "dtt_x",
        "--partner-user",
        "deu-peer",
    )
    assert "peer spare added" in out
    assert "spare" in _cli(paris, "exchange", "peers")
    assert "peer spare removed" in _cli(paris, "exchange", "remove-peer", "spare")
    assert "spare" not in _cli(paris, "exchange", "peers")
