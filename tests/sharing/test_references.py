"""References obey markings: no response, export or page carries a hidden record's id,
and no filter or create answers differently for a hidden id than for an unknown one.

The world: the United Kingdom's planner owns, for every record type, one record Kenya
may read and one it may not (owner-only); and, for every reference field and every link
of every record type, a record Kenya may read that points at the hidden record of the
target type. Kenya's analyst then reads everything the API, the exports (CSV, XLSX,
JSON, Parquet, STIX) and the web app offer, and no hidden id may appear anywhere.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections import deque
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from detente.bulk.io import FORMATS
from detente.core.workspace import Workspace
from detente.registry.taxonomy import taxonomy
from detente.sharing.service import Sharing
from detente.sharing.stix import export_stix
from detente.store.records import record_types
from detente.store.service import ListQuery, Store
from tests import factories as f
from tests.live import live_server

SHOWN = "UNCLASSIFIED//REL TO KEN"
HIDDEN = "RESTRICTED"  # owner only
DAY = date(2025, 3, 4)


def _first(kinds: Any) -> str:
    return str(next(iter(kinds)))


def minimal(name: str, tag: str, shown: dict[str, Any]) -> dict[str, Any]:
    """A valid record of ``name`` whose references name the records in ``shown``."""
    t = taxonomy()
    return {
        "actors": lambda: {"name": f"Unit {tag}", "kind": "unit", "country": "GBR"},
        "people": lambda: {"name": f"Officer {tag}", "sending_state": "GBR", "receiving_state": "KEN"},
        "agreements": lambda: {
            "title": f"Agreement {tag}",
            "kind": "defense_cooperation_agreement",
            "parties": [shown["gbr"].id, shown["ken"].id],
        },
        "engagements": lambda: {
            "title": f"Talks {tag}",
            "kind": "defense_dialogue",
            "lead_actor_id": shown["gbr"].id,
            "start_date": DAY,
        },
        "commitments": lambda: {
            "engagement_id": shown["engagements"].id,
            "committed_by_id": shown["gbr"].id,
            "description": f"Do {tag}",
        },
        "vetting_decisions": lambda: {
            "subject_name": f"Subject {tag}",
            "decided_on": DAY,
            "actor_id": shown["gbr"].id,
        },
        "initiatives": lambda: {"title": f"Initiative {tag}", "partner_country": "KEN"},
        "objectives": lambda: {
            "initiative_id": shown["initiatives"].id,
            "title": f"Objective {tag}",
            "line_of_effort": _first(t.lines_of_effort),
        },
        "indicators": lambda: {
            "objective_id": shown["objectives"].id,
            "name": f"Indicator {tag}",
            "unit": "count",
            "baseline_value": 0,
            "baseline_date": DAY,
            "target_value": 5,
            "target_date": date(2027, 1, 1),
        },
        "observations": lambda: {
            "indicator_id": shown["indicators"].id,
            "value": 1,
            "observed_on": DAY,
            "source": tag,
        },
        "evaluations": lambda: {
            "initiative_id": shown["initiatives"].id,
            "title": f"Evaluation {tag}",
            "kind": _first(t.evaluation_kinds),
            "conducted_on": DAY,
        },
        "lessons": lambda: {"title": f"Lesson {tag}", "observation": f"Seen {tag}"},
        "calendar_entries": lambda: {
            "country": "KEN",
            "title": f"Holiday {tag}",
            "kind": _first(t.calendar_kinds),
            "start_date": DAY,
        },
        "intel_sources": lambda: {"codename": f"Source {tag}", "reliability": "B"},
        "release_terms": lambda: {"title": f"Terms {tag}", "agreement_id": shown["agreements"].id},
        "intel_reports": lambda: {"title": f"Report {tag}", "source_reliability": "B", "info_credibility": 2},
        "report_portions": lambda: {"text": f"Paragraph {tag}", "report_id": shown["intel_reports"].id},
        "incidents": lambda: {"title": f"Incident {tag}", "opened_on": DAY},
    }[name]()


def build(session: Session) -> tuple[set[str], dict[str, list[str]]]:
    """The world; returns the hidden records' ids and, per table, the ids of the shown
    records that point at a hidden one."""
    world = f.two_organisations(session)
    reg = Store(session, Sharing(session).principal("gbr-planner"))
    shown: dict[str, Any] = {"gbr": world["states"]["GBR"], "ken": world["states"]["KEN"]}
    hidden: dict[str, Any] = {}
    for name in record_types():  # dependency order
        shown[name] = reg.create(name, {**minimal(name, f"{name} shown", shown), "marking": SHOWN})
        hidden[name] = reg.create(name, {**minimal(name, f"{name} hidden", shown), "marking": HIDDEN})
    pointing: dict[str, list[str]] = {name: [] for name in record_types()}
    for name, res in record_types().items():
        for field in (*res.refs, *res.links):
            target = hidden[res.ref_target(field) or "actors"].id
            data = {**minimal(name, f"{name} -> {field}", shown), "marking": SHOWN}
            if field in res.links:  # a hidden member beside a shown one
                visible = shown[res.ref_target(field) or "actors"].id
                data[field] = [visible, target] if field != "parties" else [shown["gbr"].id, target]
            else:
                data[field] = target
            if name == "vetting_decisions":  # a decision is about one actor or one person
                data = {k: v for k, v in data.items() if k not in res.refs or k == field}
            pointing[name].append(reg.create(name, data).id)
    return {r.id for r in hidden.values()}, pointing


@pytest.fixture
def world(ws: Workspace) -> tuple[set[str], dict[str, list[str]]]:
    with ws.session() as session:
        return build(session)


def leaked(text: str, hidden: set[str]) -> set[str]:
    return {i for i in hidden if i in text}


def test_references_to_hidden_records_are_withheld_in_the_service(
    ws: Workspace, world: tuple[set[str], dict[str, list[str]]]
) -> None:
    hidden, pointing = world
    with ws.session() as session:
        ken = Store(session, Sharing(session).principal("ken-analyst"))
        gbr = Store(session, Sharing(session).principal("gbr-planner"))
        for name, ids in pointing.items():
            res = record_types()[name]
            seen = {r.id: r for r in ken.list(name, ListQuery(limit=None))}
            assert not leaked(repr(list(seen.values())), hidden), name
            for record_id, field in zip(ids, (*res.refs, *res.links), strict=True):
                value = getattr(seen[record_id], field)
                if field in res.links:  # a list holds only the member they may see
                    assert len(value) == 1 and seen[record_id].withheld == []
                else:  # a single reference is null, and named as withheld
                    assert value is None and seen[record_id].withheld == [field]
                # the owner sees the reference; nothing was lost
                mine = gbr.get(name, record_id)
                assert mine.withheld == [] and leaked(repr(mine), hidden)


def test_no_api_response_export_or_page_carries_a_hidden_id(
    ws: Workspace, world: tuple[set[str], dict[str, list[str]]], tmp_path: Path
) -> None:
    hidden, pointing = world
    declared = sum(len(r.refs) + len(r.links) for r in record_types().values())
    assert sum(map(len, pointing.values())) == declared
    found: dict[str, set[str]] = {}
    with live_server(ws) as base:
        token = httpx.post(
            f"{base}/api/v1/auth/token", json={"username": "ken-analyst", "password": f.PASSWORD}
        )
        api = httpx.Client(
            base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token.json()['token']}"}
        )
        # every list and every record of every type, and every other GET the API offers
        for name in record_types():
            listing = api.get(f"/{name}", params={"limit": 1000})
            assert listing.status_code == 200
            found[f"GET /{name}"] = leaked(listing.text, hidden)
            for item in listing.json()["items"]:
                found[f"GET /{name}/{item['id']}"] = leaked(api.get(f"/{name}/{item['id']}").text, hidden)
            for fmt in FORMATS:
                export = api.get("/export", params={"table": name, "format": fmt})
                assert export.status_code == 200, export.text
                found[f"export {name} {fmt}"] = leaked(readable(export.content, fmt), hidden)
        spec = api.get("/openapi.json").json()
        for path, ops in spec["paths"].items():
            needed = [p for p in ops.get("get", {}).get("parameters", []) if p.get("required")]
            if "get" in ops and not needed and "{" not in path:
                found[f"GET {path}"] = leaked(api.get(path.removeprefix("/api/v1")).text, hidden)
        found |= crawl(base, hidden)
    with ws.session() as session:
        stix, _ = export_stix(
            Store(session, Sharing(session).principal("ken-analyst")), tmp_path / "out.json"
        )
        found["stix"] = leaked(stix.read_text(), hidden)
    assert len(found) > 60  # the scan did cover the surface
    assert {k: v for k, v in found.items() if v} == {}


def readable(content: bytes, fmt: str) -> str:
    if fmt == "parquet":
        return str(pq.read_table(io.BytesIO(content)).to_pylist())
    if fmt == "xlsx":
        with zipfile.ZipFile(io.BytesIO(content)) as book:
            return "".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    return content.decode("utf-8")


def crawl(base: str, hidden: set[str], limit: int = 250) -> dict[str, set[str]]:
    """Sign in as the Kenyan analyst and follow every link of the web app (GET only)."""
    web = httpx.Client(base_url=base, follow_redirects=True, timeout=60)
    assert web.post("/login", data={"username": "ken-analyst", "password": f.PASSWORD}).status_code == 200
    seen: dict[str, set[str]] = {}
    queue = deque(["/"])
    while queue and len(seen) < limit:
        path = queue.popleft()
        if path in seen:
            continue
        page = web.get(path)
        assert page.status_code < 500, (path, page.text[:300])
        seen[f"page {path}"] = leaked(page.text, hidden)
        seen[path] = set()
        for link in re.findall(r'href="(/[^"#]*)"', page.text):
            link = link.replace("&amp;", "&")
            if not link.startswith(("/static", "/api", "/logout")) and link not in seen:
                queue.append(link)
    return {k: v for k, v in seen.items() if k.startswith("page ")}


def test_hidden_and_unknown_ids_get_the_same_answers(
    ws: Workspace, world: tuple[set[str], dict[str, list[str]]]
) -> None:
    hidden, _ = world
    unknown = str(uuid.uuid4())
    with ws.session() as session:
        gbr = Store(session, Sharing(session).principal("gbr-planner"))
        secret_agreement = next(a.id for a in gbr.list("agreements", ListQuery(limit=None)) if a.id in hidden)
        secret_actor = next(a.id for a in gbr.list("actors", ListQuery(limit=None)) if a.id in hidden)
        lead = gbr.resolve_ref("actors", "GBR")
    with live_server(ws) as base:
        token = httpx.post(
            f"{base}/api/v1/auth/token", json={"username": "ken-admin", "password": f.PASSWORD}
        )
        api = httpx.Client(
            base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token.json()['token']}"}
        )

        def answers(record_id: str) -> list[tuple[int, str]]:
            body = {
                "title": "Probe",
                "kind": "defense_dialogue",
                "lead_actor_id": lead,
                "start_date": "2025-03-04",
            }
            replies = [
                api.get("/engagements", params={"agreement_id": record_id}),
                api.get("/engagements", params={"involving": record_id}),
                api.get("/actors", params={"parent_id": record_id}),
                api.post("/engagements", json={**body, "id": record_id}),
                api.post("/engagements", json={**body, "agreement_id": record_id}),
                api.get(f"/agreements/{record_id}"),
            ]
            return [(r.status_code, r.text.replace(record_id, "<id>")) for r in replies]

        for probe in (secret_agreement, secret_actor):
            assert answers(probe) == answers(unknown)
        assert answers(unknown)[0] == (200, answers(unknown)[0][1]) and '"total":0' in answers(unknown)[0][1]
        assert answers(unknown)[3][0] == 422  # a client never chooses an id
