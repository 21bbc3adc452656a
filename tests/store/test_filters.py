"""An unknown filter value is an error naming the nearest allowed values, the same in the
CLI, the API and the web (one check in the kernel's reader), for every record type's
every filter whose field has a closed list of values; an allowed value still filters."""

from __future__ import annotations

import httpx
from typer.testing import CliRunner

from detente.cli.app import app
from detente.cli.records import command_name
from detente.core.errors import UnknownValueError
from detente.core.workspace import Workspace
from detente.store.models import choices
from detente.store.records import RecordType, record_types
from tests import factories as f
from tests.store.test_interfaces import world  # noqa: F401  (the fixture)


def _closed_filters() -> list[tuple[RecordType, str, tuple[str, ...]]]:
    out = []
    for kind in record_types().values():
        for name in kind.filters:
            info = kind.fields_model.model_fields.get(name)
            allowed = choices(info.annotation, info.metadata) if info is not None else ()
            if allowed:
                out.append((kind, name, allowed))
    return out


CLOSED = _closed_filters()


def test_the_nearest_values_are_named() -> None:
    error = UnknownValueError("plannd", ["proposed", "planned", "approved"], what="status", field="status")
    assert "did you mean planned" in error.message and error.suggestions[0] == "planned"
    # nothing near: the first allowed values, so the user still learns what exists
    far = UnknownValueError("zzz", ["a1", "b2"], what="kind")
    assert far.suggestions == ["a1", "b2"]


def test_closed_filters_exist() -> None:
    # engagements by status and kind at least: the check below is not vacuous
    names = {(k.name, n) for k, n, _ in CLOSED}
    assert {("engagements", "status"), ("engagements", "kind")} <= names


def test_an_unknown_filter_value_is_refused_with_the_nearest_in_every_interface(
    world: tuple[Workspace, str],  # noqa: F811
) -> None:
    ws, base = world
    token = httpx.post(f"{base}/api/v1/auth/token", json={"username": "gbr-planner", "password": f.PASSWORD})
    secret = token.json()["token"]
    env = {
        "DETENTE_WORKSPACE": str(ws.path),
        "DETENTE_DATABASE_URL": ws.settings.database_url,
        "COLUMNS": "200",
        "DETENTE_TOKEN": secret,
    }
    runner = CliRunner()
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=base, follow_redirects=True) as web:
        web.post("/login", data={"username": "gbr-planner", "password": f.PASSWORD})
        for kind, field, allowed in CLOSED:
            wrong = allowed[-1][:-1] + "q"  # one letter off the last allowed value
            hint = f"did you mean {allowed[-1]}"
            where = (kind.name, field)
            cli = runner.invoke(app, [command_name(kind), "list", "--where", f"{field}={wrong}"], env=env)
            assert cli.exit_code == 2 and hint in cli.output, (where, cli.output)
            ok = runner.invoke(
                app, [command_name(kind), "list", "--where", f"{field}={allowed[-1]}", "--json"], env=env
            )
            assert ok.exit_code == 0, (where, ok.output)

            reply = httpx.get(f"{base}/api/v1/{kind.name}", params={field: wrong}, headers=headers)
            assert reply.status_code in (400, 422) and hint in reply.text, (where, reply.text)
            good = httpx.get(f"{base}/api/v1/{kind.name}", params={field: allowed[-1]}, headers=headers)
            assert good.status_code == 200, (where, good.text)
            assert all(r[field] == allowed[-1] for r in good.json()["items"])

            page = web.get(f"/records/{kind.name}", params={field: wrong})
            assert page.status_code in (400, 422) and hint in page.text, where


def test_a_date_range_on_a_timestamp_field_covers_whole_days(ws: Workspace) -> None:
    """A report's time is a timestamp: the listing's date range takes its days whole, in UTC
    (a date bound to a timestamp column was an internal error, found by the API's fuzzing)."""
    from datetime import timedelta

    from detente.store.service import ListQuery
    from tests.exchange.test_reports import world as exchange_world

    with ws.session() as session:
        w = exchange_world(session)
        gbr = w["gbr_store"]
        changes = {"report_time": "2026-03-04T23:30:00Z"}  # late in the day: a date bound misses it
        report = gbr.update("intel_reports", w["report"].id, changes, expected_version=w["report"].version)
        day = report.report_time.date()

        def listed(first: object, last: object) -> list[str]:
            items, _ = gbr.page("intel_reports", ListQuery(date_from=first, date_to=last))
            return [r.id for r in items]

        assert listed(day, day) == [report.id]
        assert listed(None, day - timedelta(days=1)) == []
        assert listed(day + timedelta(days=1), None) == []


def test_a_filter_value_is_read_as_its_fields_type(ws: Workspace) -> None:
    """A number field filtered by text is an error naming the field (it was an internal
    error on PostgreSQL, found by the API's fuzzing); a number given as text filters."""
    import pytest

    from detente.core.errors import ValidationError
    from detente.store.service import ListQuery
    from tests.exchange.test_reports import world as exchange_world

    with ws.session() as session:
        w = exchange_world(session)
        gbr, report = w["gbr_store"], w["report"]
        with pytest.raises(ValidationError) as refused:
            gbr.page("intel_reports", ListQuery(filters={"info_credibility": "o"}))
        assert refused.value.field == "info_credibility"
        found, _ = gbr.page(
            "intel_reports", ListQuery(filters={"info_credibility": str(report.info_credibility)})
        )
        assert [r.id for r in found] == [report.id]
        other = 1 + report.info_credibility % 6
        assert gbr.page("intel_reports", ListQuery(filters={"info_credibility": str(other)}))[0] == []
