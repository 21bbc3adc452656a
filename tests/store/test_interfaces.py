"""One declaration, three interfaces: for every registered record type (enumerated from
the kernel's registry of types, not a list written here), the CLI verbs, the API routes
and the web list, detail and edit pages exist and round-trip a record.

Each type's own example record (``RecordType.example``) is created three times, once
through each interface, with its references filled by records of the target types
made before it (types come in rank order, referenced types first); each is read back
through the same interface, changed (its title), and shown changed, with its history.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from detente.cli.app import app
from detente.cli.records import command_name
from detente.core.workspace import Workspace
from detente.store.records import RecordType, record_types
from detente.web.records import detail_url
from tests import factories as f
from tests.cli.test_cli import ids
from tests.live import live_server

KINDS = list(record_types().values())


class Made:
    """Ids of records made so far, by type: what later examples' references name."""

    def __init__(self) -> None:
        self.ids: dict[str, list[str]] = {}

    def example(self, kind: RecordType, tag: str) -> dict[str, Any]:
        """``kind``'s example, its references filled (distinct ones in a list) and its title tagged."""
        used: dict[str, int] = {}

        def fill(value: Any) -> Any:
            if isinstance(value, list):
                return [fill(v) for v in value]
            if isinstance(value, str) and value.startswith("@"):
                pool = self.ids[value[1:]]
                used[value] = used.get(value, -1) + 1
                return pool[used[value] % len(pool)]
            return value

        data = {k: fill(v) for k, v in kind.example.items()}
        data[kind.title_field] = f"{data[kind.title_field]} ({tag})"
        return data


@pytest.fixture
def world(ws: Workspace) -> Iterator[tuple[Workspace, str]]:
    with ws.session() as session:
        f.two_organisations(session)
    with live_server(ws) as base:
        yield ws, base


def _prime(made: Made, api: httpx.Client, kind: RecordType, n: int = 3) -> None:
    """Records of ``kind`` for later examples to name (distinct, so lists stay distinct)."""
    for i in range(n):
        reply = api.post(f"/{kind.name}", json=made.example(kind, f"seed {i}"))
        assert reply.status_code == 201, reply.text
        made.ids.setdefault(kind.name, []).append(reply.json()["id"])


def test_every_record_type_round_trips_through_cli_api_and_web(
    world: tuple[Workspace, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, base = world
    token = httpx.post(f"{base}/api/v1/auth/token", json={"username": "gbr-planner", "password": f.PASSWORD})
    api = httpx.Client(
        base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token.json()['token']}"}
    )
    web = httpx.Client(base_url=base, follow_redirects=True)
    assert web.post("/login", data={"username": "gbr-planner", "password": f.PASSWORD}).status_code == 200
    cli = _cli(ws, token.json()["token"])
    made = Made()
    checked = []
    for kind in KINDS:
        _prime(made, api, kind)
        _through_api(api, made, kind)
        _through_cli(cli, made, kind)
        _through_web(web, made, kind)
        checked.append(kind.name)
    assert checked == list(record_types()) and len(checked) >= 13


def _through_api(api: httpx.Client, made: Made, kind: RecordType) -> None:
    data = made.example(kind, "api")
    created = api.post(f"/{kind.name}", json=data)
    assert created.status_code == 201, created.text
    record = created.json()
    assert record[kind.title_field] == data[kind.title_field]
    assert api.get(f"/{kind.name}/{record['id']}").json() == record  # the create's answer is what is stored
    changed = api.patch(
        f"/{kind.name}/{record['id']}",
        json={kind.title_field: f"{data[kind.title_field]} v2"},
        headers={"If-Match": '"v1"'},
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2, changed.text
    assert api.get(f"/{kind.name}/{record['id']}").json() == changed.json()  # what is stored
    history = api.get(f"/{kind.name}/{record['id']}/history").json()
    assert [(h["action"], h["version"]) for h in history] == [("create", 1), ("update", 2)]
    assert history[1]["fields"] == [kind.title_field]


def _cli(ws: Workspace, token: str) -> Any:
    runner = CliRunner()
    env = {
        "DETENTE_WORKSPACE": str(ws.path),
        "DETENTE_DATABASE_URL": ws.settings.database_url,
        "COLUMNS": "200",
        "DETENTE_TOKEN": token,
    }

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == 0, (
            f"{args}: exit {result.exit_code}: {result.output}\n{result.exception!r}"
        )
        return result.output

    return run


def _options(kind: RecordType, data: dict[str, Any]) -> list[str]:
    out: list[str] = [str(data[kind.title_field])]
    for name, value in data.items():
        if name == kind.title_field:
            continue
        flag = "--" + kind.cli_names.get(name, name).replace("_", "-")
        for item in value if isinstance(value, list) else [value]:
            out += [flag, str(item)]
    return out


def _through_cli(cli: Any, made: Made, kind: RecordType) -> None:
    group = command_name(kind)
    data = made.example(kind, "cli")
    record_id = ids(cli(group, "add", *_options(kind, data)))[0]
    shown = json.loads(cli(group, "show", record_id, "--json"))
    assert shown[kind.title_field] == data[kind.title_field] and shown["version"] == 1
    flag = "--" + kind.cli_names.get(kind.title_field, kind.title_field).replace("_", "-")
    cli(group, "edit", record_id, "--version", "1", flag, f"{data[kind.title_field]} v2")
    listed = [
        json.loads(line) for line in cli(group, "list", "--json", "--limit", "1000").splitlines() if line
    ]
    assert {r["id"]: r[kind.title_field] for r in listed}[record_id] == f"{data[kind.title_field]} v2"
    assert "update" in cli(group, "history", record_id)


def _through_web(web: httpx.Client, made: Made, kind: RecordType) -> None:
    data = made.example(kind, "web")
    form = web.get(f"/records/{kind.name}/new")
    assert form.status_code == 200, form.text[:500]
    created = web.post(
        f"/records/{kind.name}/new",
        data={**data, "csrf_token": _csrf(form.text), "marking": "UNCLASSIFIED//TLP:CLEAR"},
    )
    assert created.status_code == 200 and data[kind.title_field] in created.text, _main(created.text)
    found = str(created.url).rstrip("/").rsplit("/", 1)[-1]  # the record's page, where the form led
    assert str(created.url).endswith(detail_url(kind.name, found))
    listing = web.get(f"/records/{kind.name}", params={"q": data[kind.title_field]})
    assert detail_url(kind.name, found) in listing.text
    edit = web.get(f"/records/{kind.name}/{found}/edit")
    assert edit.status_code == 200
    new_title = f"{data[kind.title_field]} v2"
    saved = web.post(
        f"/records/{kind.name}/{found}/edit",
        data={
            **data,
            kind.title_field: new_title,
            "version": "1",
            "csrf_token": _csrf(edit.text),
            "marking": "UNCLASSIFIED//TLP:CLEAR",
        },
    )
    assert saved.status_code == 200 and new_title in saved.text, _main(saved.text)
    history = web.get(f"/records/{kind.name}/{found}/history")
    assert history.status_code == 200 and "update" in history.text


def _main(page: str) -> str:
    """The page's main content, for failure messages."""
    return page[page.find("<main") :][:1500]


def _csrf(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]
