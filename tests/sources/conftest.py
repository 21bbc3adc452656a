"""Fixtures for the context lake: a workspace driven through the CLI, and lake queries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from detente.cli.app import app
from detente.sources.lake import LAKE_FILE
from tests.conftest import start_migrated


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, migrated_sqlite: Path) -> Callable[..., str]:
    monkeypatch.setenv("DETENTE_PASSWORD", "correct horse battery")
    monkeypatch.setenv("DETENTE_DATABASE_URL", "")
    runner = CliRunner()
    root = ["--workspace", str(tmp_path / "ws")]
    start_migrated(migrated_sqlite, tmp_path / "ws" / "registry.sqlite")  # `init` finds it at head

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, [*root, *args], env={"COLUMNS": "200"})
        assert result.exit_code == code, result.output
        return result.output

    run("init", "--org", "Ministry of Defence of Ghana", "--country", "GHA", "--admin", "analyst")
    return run


@pytest.fixture
def lake_sql(tmp_path: Path) -> Callable[[str], list[tuple]]:  # type: ignore[type-arg]
    def query(sql: str) -> list[tuple]:  # type: ignore[type-arg]
        with duckdb.connect(str(tmp_path / "ws" / LAKE_FILE), read_only=True) as db:
            return db.execute(sql).fetchall()

    return query
