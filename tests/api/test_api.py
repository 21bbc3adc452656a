"""The REST API over real HTTP on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from sqlalchemy import create_engine, make_url, text

from detente.api.deps import csrf_token
from detente.core import workspace
from detente.core.settings import Settings
from detente.core.workspace import Workspace, create_workspace
from detente.server import create_app
from tests import factories as f
from tests.conftest import POSTGRES_URL
from tests.live import live_server, wait_for

API = "/api/v1"


@pytest.fixture
def world(ws: Workspace) -> dict[str, Any]:
    with ws.session() as session:
        return f.two_organisations(session)


@pytest.fixture
def base(ws: Workspace, world: dict[str, Any]) -> Iterator[str]:
    with live_server(ws) as url:
        yield url


def login(base: str, username: str) -> httpx.Client:
    response = httpx.post(f"{base}{API}/auth/token", json={"username": username, "password": f.PASSWORD})
    assert response.status_code == 201, response.text
    return httpx.Client(base_url=base + API, headers={"Authorization": f"Bearer {response.json()['token']}"})


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


def new_engagement(world: dict[str, Any], **kw: Any) -> dict[str, Any]:
    s = world["states"]
    return {
        "title": "Maritime security staff talks",
        "kind": "defense_dialogue",
        "lead_actor_id": s["GBR"].id,
        "partners": [s["KEN"].id],
        "start_date": "2026-03-02",
        "marking": "UNCLASSIFIED//TLP:CLEAR",
        **kw,
    }


def test_tokens_identify_the_caller_and_errors_have_one_shape(base: str) -> None:
    error(httpx.get(f"{base}{API}/engagements"), 401, "unauthenticated")
    bad = httpx.post(
        f"{base}{API}/auth/token", json={"username": "gbr-planner", "password": "wrong password"}
    )
    assert "wrong username or password" in error(bad, 401, "unauthenticated")["message"]
    error(
        httpx.get(f"{base}{API}/me", headers={"Authorization": "Bearer dtt_not-a-token"}),
        401,
        "unauthenticated",
    )
    with login(base, "ken-analyst") as ken:
        me = ken.get("/me").json()
        assert (me["username"], me["country"], me["role"]) == ("ken-analyst", "KEN", "analyst")
        assert "AU" in me["coalitions"] and me["clearances"] == {"national": "SECRET"}
        # an analyst may not write; unknown fields and query parameters are named
        assert (
            "analyst"
            in error(ken.post("/actors", json={"name": "X", "kind": "ngo"}), 403, "forbidden")["message"]
        )
        assert error(ken.get("/engagements", params={"colour": "red"}), 422, "invalid")["field"] == "colour"
        error(ken.get("/engagements/no-such-id"), 404, "not_found")
        error(ken.get("/no/such/path"), 404, "not_found")
        error(ken.put("/engagements"), 405, "method_not_allowed")


def test_create_get_update_delete_with_etags(base: str, world: dict[str, Any]) -> None:
    with login(base, "gbr-planner") as gbr:
        created = gbr.post("/engagements", json=new_engagement(world))
        assert created.status_code == 201, created.text
        record = created.json()
        assert created.headers["ETag"] == '"v1"' and created.headers["Location"].endswith(record["id"])
        assert gbr.get(created.headers["Location"]).json()["id"] == record["id"]  # an address that answers
        url = f"/engagements/{record['id']}"
        got = gbr.get(url)
        assert got.json()["title"] == "Maritime security staff talks" and got.headers["ETag"] == '"v1"'
        # changing needs If-Match; a stale one is refused and nothing changes
        error(gbr.patch(url, json={"status": "planned"}), 428, "precondition_required")
        moved = gbr.patch(url, json={"status": "planned"}, headers={"If-Match": '"v1"'})
        assert (
            moved.status_code == 200
            and moved.json()["status"] == "planned"
            and moved.headers["ETag"] == '"v2"'
        )
        stale = gbr.patch(url, json={"title": "Lost update"}, headers={"If-Match": '"v1"'})
        assert "version 2" in error(stale, 412, "stale_version")["message"]
        assert gbr.get(url).json()["title"] == "Maritime security staff talks"
        # lifecycle rules hold through the API too
        illegal = gbr.patch(url, json={"status": "assessed"}, headers={"If-Match": '"v2"'})
        assert error(illegal, 422, "invalid")["message"].startswith("status")
        error(gbr.delete(url, headers={"If-Match": '"v1"'}), 412, "stale_version")
        assert gbr.delete(url, headers={"If-Match": '"v2"'}).status_code == 204
        error(gbr.get(url), 404, "not_found")


def test_lists_filter_page_and_sort(base: str, world: dict[str, Any]) -> None:
    with login(base, "gbr-planner") as gbr:
        for day in range(1, 8):
            status = "planned" if day % 2 else "proposed"
            body = new_engagement(world, title=f"Talks {day}", start_date=f"2026-04-0{day}", status=status)
            assert gbr.post("/engagements", json=body).status_code == 201
        page = gbr.get("/engagements", params={"limit": 3, "offset": 2, "order_by": "start_date"}).json()
        assert page["total"] == 7 and page["limit"] == 3 and page["offset"] == 2
        assert [e["title"] for e in page["items"]] == ["Talks 3", "Talks 4", "Talks 5"]
        down = gbr.get("/engagements", params={"order_by": "start_date", "desc": True, "limit": 1}).json()
        assert down["items"][0]["title"] == "Talks 7"
        planned = gbr.get("/engagements", params={"status": "planned"}).json()
        assert planned["total"] == 4 and {e["status"] for e in planned["items"]} == {"planned"}
        dated = gbr.get("/engagements", params={"date_from": "2026-04-03", "date_to": "2026-04-04"}).json()
        assert sorted(e["title"] for e in dated["items"]) == ["Talks 3", "Talks 4"]
        assert gbr.get("/engagements", params={"q": "talks 6"}).json()["total"] == 1
        ken_id = world["states"]["KEN"].id
        assert gbr.get("/engagements", params={"involving": ken_id}).json()["total"] == 7
        error(gbr.get("/engagements", params={"limit": 0}), 422, "invalid")
        error(gbr.get("/engagements", params={"order_by": "password"}), 422, "invalid")


def test_markings_hold_through_the_api(base: str, world: dict[str, Any]) -> None:
    with login(base, "gbr-planner") as gbr, login(base, "ken-analyst") as ken:
        secret = gbr.post(
            "/engagements", json=new_engagement(world, title="Op NIGHTJAR", marking="SECRET//NOFORN")
        )
        shared = gbr.post(
            "/engagements",
            json=new_engagement(world, title="Shared talks", marking="SECRET//REL TO GBR, KEN"),
        )
        assert secret.status_code == 201 and shared.status_code == 201
        listing = ken.get("/engagements").json()
        assert [e["title"] for e in listing["items"]] == ["Shared talks"] and listing["total"] == 1
        error(ken.get(f"/engagements/{secret.json()['id']}"), 404, "not_found")
        assert ken.get("/engagements", params={"q": "nightjar"}).json()["total"] == 0
        exported = ken.get("/export", params={"table": "engagements", "format": "csv"})
        assert exported.status_code == 200 and "Shared talks" in exported.text
        assert "NIGHTJAR" not in exported.text and secret.json()["id"] not in exported.text
        # a planner from elsewhere cannot change GBR's record even when it is visible
        with login(base, "ken-admin") as kadmin:
            change = kadmin.patch(
                f"/engagements/{shared.json()['id']}", json={"title": "x"}, headers={"If-Match": '"v1"'}
            )
            error(change, 403, "forbidden")


def _csv(rows: list[str]) -> bytes:
    header = "title,kind,lead_actor_id,partners,start_date,marking"
    return ("\n".join([header, *rows]) + "\n").encode()


def test_bulk_import_reports_every_bad_row_and_writes_nothing(base: str, world: dict[str, Any]) -> None:
    gbr_id, ken_id = world["states"]["GBR"].id, world["states"]["KEN"].id
    good = f"Port call Mombasa,port_call,{gbr_id},{ken_id},2026-05-01,UNCLASSIFIED//TLP:CLEAR"
    rows = [
        good,
        f"Bad kind,parade,{gbr_id},{ken_id},2026-05-02,UNCLASSIFIED//TLP:CLEAR",
        f"Bad date,port_call,{gbr_id},{ken_id},2026-13-40,UNCLASSIFIED//TLP:CLEAR",
        f"Bad marking,port_call,{gbr_id},{ken_id},2026-05-03,SECRET//REL TO",
    ]
    with login(base, "gbr-planner") as gbr:
        files = {"file": ("engagements.csv", _csv(rows), "text/csv")}
        bad = error(gbr.post("/import", files=files), 422, "bad_rows")
        assert sorted(r["row"] for r in bad["rows"]) == [3, 4, 5]
        assert {r["file"] for r in bad["rows"]} == {"engagements.csv"}
        assert {r["field"] for r in bad["rows"]} == {"kind", "start_date", "marking"}
        assert gbr.get("/engagements").json()["total"] == 0  # the good row was not written either
        ok = gbr.post("/import", files={"file": ("engagements.csv", _csv([good]), "text/csv")})
        assert ok.status_code == 200 and ok.json()["created"] == {"engagements": 1}
        # the same rows in Excel
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "engagements"
        sheet.append(["title", "kind", "lead_actor_id", "partners", "start_date", "marking"])
        sheet.append(
            [
                "Dialogue in Nairobi",
                "defense_dialogue",
                gbr_id,
                ken_id,
                "2026-06-01",
                "UNCLASSIFIED//TLP:CLEAR",
            ]
        )
        buffer = io.BytesIO()
        book.save(buffer)
        xlsx = {"file": ("plan.xlsx", buffer.getvalue(), "application/octet-stream")}
        assert gbr.post("/import", files=xlsx).json()["created"] == {"engagements": 1}
        assert gbr.get("/engagements").json()["total"] == 2


def test_upload_and_body_sizes_are_bounded(ws: Workspace, world: dict[str, Any]) -> None:
    ws.settings = ws.settings.model_copy(update={"max_upload_bytes": 4096})
    with live_server(ws) as base, login(base, "gbr-planner") as gbr:
        big = {"file": ("engagements.csv", b"title\n" + b"x" * 10_000 + b"\n", "text/csv")}
        assert "over the limit" in error(gbr.post("/import", files=big), 413, "too_large")["message"]
        long_body = new_engagement(world, notes="n" * 8000)
        error(gbr.post("/engagements", json=long_body), 413, "too_large")
        assert gbr.get("/engagements").json()["total"] == 0


def test_session_cookie_needs_the_csrf_token(base: str, world: dict[str, Any]) -> None:
    with httpx.Client(base_url=base) as browser:
        signed_in = browser.post("/login", data={"username": "gbr-planner", "password": f.PASSWORD})
        assert signed_in.status_code == 303
        secret = browser.cookies["detente_session"]
        assert browser.get(f"{API}/me").json()["username"] == "gbr-planner"
        forged = browser.post(f"{API}/engagements", json=new_engagement(world))
        assert "CSRF" in error(forged, 403, "forbidden")["message"]
        wrong = browser.post(
            f"{API}/engagements", json=new_engagement(world), headers={"X-CSRF-Token": "0" * 64}
        )
        error(wrong, 403, "forbidden")
        right = browser.post(
            f"{API}/engagements", json=new_engagement(world), headers={"X-CSRF-Token": csrf_token(secret)}
        )
        assert right.status_code == 201
        # signing out revokes the session's token: the cookie no longer works anywhere
        browser.post("/logout", data={"csrf_token": csrf_token(secret)})
        browser.cookies.set("detente_session", secret)
        error(browser.get(f"{API}/me"), 401, "unauthenticated")


def test_sharing_resources(base: str) -> None:
    with login(base, "gbr-admin") as admin, login(base, "ken-analyst") as ken:
        users = admin.get("/users").json()
        assert {u["username"] for u in users} == {"gbr-admin", "gbr-planner"}
        assert all("password" not in str(u) for u in users)
        made = admin.post(
            "/users",
            json={"username": "gbr-viewer", "organisation": users[0]["org_id"], "role": "viewer",
                  "clearances": {"national": "CONFIDENTIAL"}, "password": "a long enough password"},
        )  # fmt: skip
        assert made.status_code == 201 and made.json()["clearances"] == {"national": "CONFIDENTIAL"}
        error(ken.post("/users", json={"username": "x", "organisation": "y"}), 403, "forbidden")
        orgs = {o["country"] for o in ken.get("/organisations").json()}
        assert orgs == {"GBR", "KEN"}
        put = admin.put(
            "/coalitions/EASF", json={"label": "East African Standby Force", "members": ["Kenya", "UGA"]}
        )
        made = put.json()
        assert (made["name"], made["members"]) == ("EASF", ["KEN", "UGA"])
        assert made["label"] == "East African Standby Force"
        assert {m["country"]: m["left_on"] for m in made["membership"]} == {"KEN": None, "UGA": None}
        error(ken.put("/coalitions/EASF", json={"members": ["KEN"]}), 403, "forbidden")
        assert made in ken.get("/coalitions").json()


def test_openapi_documents_every_operation(base: str) -> None:
    spec = httpx.get(f"{base}{API}/openapi.json").json()
    assert spec["info"]["title"] == "detente"
    assert {"token", "session"} <= set(spec["components"]["securitySchemes"])
    operations = [(p, m, op) for p, item in spec["paths"].items() for m, op in item.items()]
    assert len(operations) >= 25
    for path, method, op in operations:
        assert op.get("summary") and op.get("operationId"), (path, method)
        if path.endswith("/health") or path.endswith("/auth/token"):
            continue
        assert "401" in op["responses"], (path, method)
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")) and status != "422":
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorBody"), (path, method, status)
    assert "If-Match" in str(spec["paths"]["/api/v1/engagements/{record_id}"]["patch"]["parameters"])


def test_control_characters_are_refused_not_crashed_on(base: str) -> None:
    """PostgreSQL refuses NUL in text: every way in names the bad value instead of failing."""
    with login(base, "gbr-planner") as gbr:
        error(gbr.get("/engagements", params={"q": "a\x00b"}), 422, "invalid")
        error(gbr.get("/engagements/a%00b"), 422, "invalid")
        bad_login = httpx.post(f"{base}{API}/auth/token", json={"username": "gbr\x00", "password": "x"})
        error(bad_login, 422, "invalid")
    with httpx.Client(base_url=base) as browser:
        browser.post("/login", data={"username": "gbr-planner", "password": f.PASSWORD})
        for path in ("/engagements?q=%00", "/partners/%00", "/search?q=x%00", "/engagements/%00"):
            page = browser.get(path)
            assert page.status_code == 422 and "control" in page.text, path
        assert browser.post("/login", data={"username": "x\x00", "password": "y"}).status_code == 422


def test_a_read_on_a_connection_the_database_dropped_is_answered_and_a_change_is_not_repeated(
    tmp_path: Path, postgres_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL drops the server's pooled connections (a restart, a killed backend) right
    after a request used them, before the pool would test them again: a GET is answered all
    the same, on a new connection. A change that meets a dropped connection fails and is
    not repeated, and nothing of it is stored."""
    monkeypatch.setattr(workspace, "PING_IDLE_SECONDS", 3600.0)  # never tested before use
    database = make_url(postgres_database_url).database

    def drop_connections() -> int:
        admin = create_engine(POSTGRES_URL)
        try:
            with admin.connect() as db:
                return len(db.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ), {"db": database}).all())  # fmt: skip
        finally:
            admin.dispose()

    with create_workspace(Settings(workspace=tmp_path / "ws", database_url=postgres_database_url)) as ws:
        with ws.session() as session:
            world = f.two_organisations(session)
        # The channels loop shares the pool: were it to meet a dropped connection first, the
        # pool would renew every connection and the change below would find a new one. It
        # makes its first pass at start-up, then waits an hour.
        app = create_app(workspace=ws)
        app.state.channels_tick = 3600.0
        with live_server(ws, app) as base, login(base, "gbr-planner") as http:
            wait_for(lambda: app.state.channels_escalator.ticks >= 1, "the channels loop's first pass")
            listed = http.get("/engagements")
            assert listed.status_code == 200, listed.text
            assert drop_connections() >= 1
            again = http.get("/engagements")
            assert again.status_code == 200, again.text
            assert again.json()["total"] == listed.json()["total"]
            assert drop_connections() >= 1
            created = http.post("/engagements", json=new_engagement(world, title="Lost on the way"))
            assert "check whether it was made" in error(created, 503, "unavailable")["message"]
            stored = http.get("/engagements", params={"q": "Lost on the way"}).json()
            assert stored["total"] == 0
            made = http.post("/engagements", json=new_engagement(world, title="Lost on the way"))
            assert made.status_code == 201, made.text  # sent again: made once
            assert http.get("/engagements", params={"q": "Lost on the way"}).json()["total"] == 1
            # the web app's pages share the guard: a page read on a dropped connection is shown
            with httpx.Client(base_url=base, follow_redirects=True) as web:
                signed = web.post("/login", data={"username": "gbr-planner", "password": f.PASSWORD})
                assert signed.status_code == 200, signed.text
                assert drop_connections() >= 1
                shown = web.get("/records/engagements", params={"q": "Lost on the way"})
                assert shown.status_code == 200 and "Lost on the way" in shown.text, shown.text[:500]
