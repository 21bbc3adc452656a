"""schemathesis against the live OpenAPI document: generated requests to every operation,
as a signed-in planner, must never get a 500, an undocumented status, or a response that
breaks the documented schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from detente.core.db import drop_postgres_schema, provision_postgres_schema
from detente.core.settings import Settings
from detente.core.workspace import create_workspace
from tests import factories as f
from tests.conftest import APP_ROLE, POSTGRES_URL
from tests.live import live_server

# generated requests per operation and store: every operation in the document (over 60) is
# still exercised on both stores, with fresh random cases on every run (30 per operation took
# over a minute per store)
EXAMPLES = 10

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = provision_postgres_schema(POSTGRES_URL, schema, APP_ROLE) if request.param == "postgresql" else ""
    try:
        with create_workspace(Settings(workspace=folder / "ws", database_url=url)) as ws:
            with ws.session() as session:
                f.two_organisations(session)
            with live_server(ws) as base:
                token = httpx.post(
                    f"{base}/api/v1/auth/token", json={"username": "gbr-planner", "password": f.PASSWORD}
                ).json()["token"]
                yield base, token
    finally:
        if url:
            drop_postgres_schema(POSTGRES_URL, schema)


def test_every_operation_keeps_its_contract(live: tuple[str, str]) -> None:
    base, token = live
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
    auth = {"Authorization": f"Bearer {token}"}
    failures: dict[str, str] = {}
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=auth, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures[operation.label] = str(exc)[:2000]
        tested += 1
    assert tested >= 25
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
