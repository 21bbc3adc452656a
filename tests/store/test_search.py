"""Full-text search (``detente.store.search``) on SQLite (FTS5) and PostgreSQL (tsvector):

- a record the reader may not see is neither found nor counted, and a reader who may
  see it finds it; the store's writes keep the index in step (create, update, a marking
  changed, delete), and migration 0012 indexes the records already there;
- snippets are HTML-escaped, the matched words alone in ``<mark>``;
- every text field of every registered record type is searchable (the fields found from
  the declarations, the record types from the kernel's registry, not lists written here);
- the web page, the API route and the CLI command give the same results.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from detente.cli.app import app
from detente.core.errors import ValidationError
from detente.core.migrate import _config, current_revision, upgrade
from detente.core.workspace import Workspace
from detente.store import search
from detente.store.records import RecordType, record_types
from detente.store.service import Store
from tests import factories as f
from tests.live import live_server

PUBLIC = "UNCLASSIFIED//TLP:CLEAR"
HOSTILE = "Rations <script>alert('quokka')</script> & <mark>not ours</mark>; quokka again"


def _as(session: Any, user: str) -> Store:
    return Store(session, f.Sharing(session).principal(user))


def _found(reg: Store, query: str, **kw: Any) -> dict[str, list[str]]:
    return {g.kind: [h.record_id for h in g.hits] for g in search.search(reg, query, **kw).groups}


def test_hidden_records_are_neither_found_nor_counted_and_writes_keep_the_index(ws: Workspace) -> None:
    with ws.session() as session:
        world = f.two_organisations(session)
        s = world["states"]
        gbr = _as(session, "gbr-planner")
        secret = f.engagement(
            gbr, s["GBR"], [s["FRA"]], title="Exercise Quokka Harbour", notes="Élysée briefing",
            marking="SECRET//NOFORN",
        )  # fmt: skip
        public = f.engagement(gbr, s["GBR"], [s["KEN"]], title="Staff talks", notes=HOSTILE, marking=PUBLIC)
    with ws.session() as session:
        ken, gbr = _as(session, "ken-analyst"), _as(session, "gbr-planner")
        seen = search.search(ken, "quokka")
        assert seen.counts == {"engagements": 1} and seen.total == 1
        assert _found(ken, "quokka") == {"engagements": [public.id]}
        assert _found(ken, "harbour") == {} and _found(ken, "elysee") == {}
        # the one who may see it finds it, the title's match ranked above the notes'
        assert _found(gbr, "quokka") == {"engagements": [secret.id, public.id]}
        assert search.search(gbr, "quokka").counts == {"engagements": 2}
        assert _found(gbr, "ÉLYSÉE") == _found(gbr, "elys") == {"engagements": [secret.id]}  # case, accents
        assert _found(gbr, '"quokka harbour"') == {"engagements": [secret.id]}
        assert _found(gbr, '"harbour quokka"') == {}
        assert _found(gbr, "quokka kenya") == {}  # every word must match one record
        # snippets: escaped, the matched words alone marked
        hit = search.search(ken, "quokka").groups[0].hits[0]
        assert hit.title.html == "Staff talks"
        (notes,) = hit.snippets
        assert notes.field == "notes" and notes.text == HOSTILE
        assert notes.html == (
            "Rations &lt;script&gt;alert(&#x27;<mark>quokka</mark>&#x27;)&lt;/script&gt; &amp; "
            "&lt;mark&gt;not ours&lt;/mark&gt;; <mark>quokka</mark> again"
        )
        assert (
            search.search(gbr, "quokka").groups[0].hits[0].title.html
            == "Exercise <mark>Quokka</mark> Harbour"
        )
        for bad in ("", "  ", "!!! ???", "x" * 201):
            with pytest.raises(ValidationError):
                search.search(gbr, bad)
    with ws.session() as session:  # the writes keep the index in step
        gbr = _as(session, "gbr-planner")
        gbr.update("engagements", public.id, {"notes": "wombat"}, expected_version=1)
        gbr.update("engagements", secret.id, {"marking": PUBLIC}, expected_version=1)
    with ws.session() as session:
        ken = _as(session, "ken-analyst")
        assert _found(ken, "quokka") == {"engagements": [secret.id]}  # now public; the notes changed
        assert _found(ken, "wombat") == {"engagements": [public.id]}
        _as(session, "gbr-planner").delete("engagements", public.id)
    with ws.session() as session:
        assert _found(_as(session, "ken-analyst"), "wombat") == {}
    # migration 0012 indexes the records already there (the index dropped, then rebuilt)
    command.downgrade(_config(ws.engine), "0011")
    upgrade(ws.engine)
    assert current_revision(ws.engine) == ScriptDirectory.from_config(_config(ws.engine)).get_current_head()
    with ws.session() as session:
        assert _found(_as(session, "ken-analyst"), "quokka") == {"engagements": [secret.id]}
        assert _found(_as(session, "gbr-planner"), "wombat") == {}  # deleted: not indexed again
        assert set(_found(_as(session, "ken-analyst"), "kenya")) == {"actors"}


def _marker(kind: RecordType, field: str) -> str:
    return f"zq{kind.name.replace('_', '')}{field.replace('_', '')}"


def _example(kind: RecordType, made: dict[str, list[str]]) -> dict[str, Any]:
    """``kind``'s own example, references filled, and every text field that accepts any
    word given its own marker word (fields held to a vocabulary keep the example's)."""
    used: dict[str, int] = {}

    def fill(value: Any) -> Any:
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, str) and value.startswith("@"):
            used[value] = used.get(value, -1) + 1
            return made[value[1:]][used[value] % len(made[value[1:]])]
        return value

    data = {k: fill(v) for k, v in kind.example.items()}
    status = kind.lifecycle[0] if kind.lifecycle else None
    for field in search.text_fields(kind):
        if field == status:
            continue
        for value in (
            [_marker(kind, field)] if isinstance(data.get(field), list) else None,
            _marker(kind, field),
        ):
            try:
                kind.create_model.model_validate({**data, field: value})
            except Exception:  # a country, a currency, a word of the taxonomy: kept as it was
                continue
            data[field] = value
            break
    return data


def test_every_text_field_of_every_record_type_is_searchable(ws: Workspace) -> None:
    kinds = list(record_types().values())
    assert len(kinds) >= 13
    engagements = record_types()["engagements"]
    assert {"title", "notes", "objectives", "location_place", "kind", "external_id"} <= set(
        search.text_fields(engagements)
    )
    assert not {"lead_actor_id", "partners", "start_date", "troops", "marking"} & set(
        search.text_fields(engagements)
    )
    assert "aliases" in search.text_fields(record_types()["actors"])  # a list of words
    made: dict[str, list[str]] = {}
    checked: dict[str, int] = {}
    with ws.session() as session:
        reg = f.registry(session)
        for kind in kinds:
            data = _example(kind, made)
            second = {**data, kind.title_field: f"{data[kind.title_field]} second"}
            ids = [
                reg.create(kind.name, {**d, "external_id": f"zqext{kind.name}{i}"}).id
                for i, d in enumerate((data, second))
            ]
            made[kind.name] = ids
            for field in search.text_fields(kind):
                value = data.get(field) if field != "external_id" else f"zqext{kind.name}0"
                if value is None:
                    continue
                word = search.words(str(value[0] if isinstance(value, list) else value))[-1]
                found = _found(reg, word, kinds=[kind.name], limit=1000).get(kind.name, [])
                assert ids[0] in found, (kind.name, field, word)
                if word.startswith("zq"):  # a marker: that record type's only, both of its records
                    assert set(_found(reg, word, limit=1000)) == {kind.name}
                    checked[kind.name] = checked.get(kind.name, 0) + 1
    assert set(checked) == set(record_types()), set(record_types()) - set(checked)


def test_the_web_page_the_api_and_the_cli_give_the_same_results(ws: Workspace) -> None:
    with ws.session() as session:
        world = f.two_organisations(session)
        s = world["states"]
        gbr = _as(session, "gbr-planner")
        for i in range(4):
            f.engagement(
                gbr, s["GBR"], [s["KEN"]], title=f"Numbat visit {i}", notes="numbat " * i, marking=PUBLIC
            )
        f.agreement(gbr, s["GBR"], s["KEN"], title="Numbat accord", marking=PUBLIC)
        f.engagement(gbr, s["GBR"], [], title="Numbat secret", marking="SECRET//NOFORN")
    with live_server(ws) as base:
        token = httpx.post(
            f"{base}/api/v1/auth/token", json={"username": "ken-analyst", "password": f.PASSWORD}
        )
        secret = token.json()["token"]
        api = httpx.get(
            f"{base}/api/v1/search", params={"q": "numbat"}, headers={"Authorization": f"Bearer {secret}"}
        )
        assert api.status_code == 200, api.text
        answer = api.json()
        bad = httpx.get(
            f"{base}/api/v1/search", params={"q": "?!"}, headers={"Authorization": f"Bearer {secret}"}
        )
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "q"
        web = httpx.Client(base_url=base, follow_redirects=True)
        assert web.post("/login", data={"username": "ken-analyst", "password": f.PASSWORD}).status_code == 200
        page = web.get("/search", params={"q": "numbat"}).text
    runner = CliRunner()
    env = {"DETENTE_WORKSPACE": str(ws.path), "DETENTE_DATABASE_URL": ws.settings.database_url,
           "DETENTE_TOKEN": secret, "COLUMNS": "200"}  # fmt: skip
    printed = runner.invoke(app, ["search", "numbat", "--json"], env=env)
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.output) == answer
    shown = runner.invoke(app, ["search", "numbat"], env=env).output
    assert answer["counts"] == {"agreements": 1, "engagements": 4} and answer["total"] == 5
    hits = [(g["kind"], h["id"]) for g in answer["groups"] for h in g["hits"]]
    links = re.findall(r'<a href="/(?:engagements|records/agreements)/([0-9a-f-]{36})">', page)
    assert links == [i for _, i in hits]
    assert [
        i for i in re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", shown)
    ] == links
    assert "Numbat secret" not in page + shown + api.text
    first = answer["groups"][1]["hits"][0]
    assert re.fullmatch(r"<mark>Numbat</mark> visit \d", first["title_html"]) and first["title_html"] in page
    assert "Engagements (4)" in page and "Agreements (1)" in page
