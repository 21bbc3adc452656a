"""The command line as a user types it: help, records, lifecycle, import/export, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from detente.cli.app import app
from detente.core.settings import Settings
from tests.conftest import start_migrated


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, migrated_sqlite: Path):  # type: ignore[no-untyped-def]
    if settings.database_url.startswith("sqlite:///"):  # `init` finds the registry at head
        start_migrated(migrated_sqlite, Path(settings.database_url.removeprefix("sqlite:///")))
    runner = CliRunner()
    monkeypatch.setenv("DETENTE_PASSWORD", "correct horse battery")
    env = {
        "DETENTE_WORKSPACE": str(settings.workspace),
        "DETENTE_DATABASE_URL": settings.database_url,
        "COLUMNS": "200",
    }

    def run(*args: str, code: int = 0, input: str | None = None) -> str:
        result = runner.invoke(app, list(args), env=env, input=input)
        out = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert result.exit_code == code, f"exit {result.exit_code}: {out}\n{result.exception!r}"
        return out

    run("init", "--org", "Ministry of Defence of France", "--country", "France", "--admin", "cli-user")
    return run


def ids(output: str) -> list[str]:
    return re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", output)


def test_records_lifecycle_through_the_cli(cli) -> None:  # type: ignore[no-untyped-def]
    cli("actors", "add", "France", "--kind", "state", "--country", "France")
    cli("actors", "add", "Kenya", "--kind", "state", "--country", "KEN", "--alias", "Jamhuri")
    out = cli(
        "engagements",
        "add",
        "Maritime staff talks",
        "--kind",
        "defense_dialogue",
        "--lead",
        "France",
        "--partner",
        "Kenya",
        "--start",
        "2025-02-11",
        "--country",
        "Kenya",
        "--troops",
        "12",
    )
    eng = ids(out)[0]
    assert "proposed" in out and "KEN" in out
    out = cli("engagements", "advance", eng, "executed", "--version", "1", code=2)
    assert "cannot move from 'proposed' to 'executed'" in out
    out = cli("engagements", "advance", eng, "planned", "--version", "1")
    assert "now planned (version 2)" in out
    out = cli("engagements", "update", eng, "--version", "1", "--troops", "40", code=5)
    assert "you edited version 1" in out
    out = cli("engagements", "update", eng, "--version", "2", "--troops", "40")
    assert "now version 3" in out
    rows = [
        json.loads(line) for line in cli("engagements", "list", "--involving", "Kenya", "--json").splitlines()
    ]
    assert [(r["title"], r["troops"], r["status"]) for r in rows] == [("Maritime staff talks", 40, "planned")]
    shown = cli("engagements", "show", "Maritime staff talks")
    assert "cli-user" in shown and "troops" in shown
    out = cli("actors", "delete", "Kenya", "--yes", code=5)
    assert "still referenced" in out
    cli("engagements", "delete", eng, "--yes")
    cli("actors", "delete", "Kenya", "--yes")
    assert "actors: 1 of 1" in cli("actors", "list")


def test_errors_are_clear_and_exit_nonzero(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("actors", "add", "Nowhere", "--kind", "state", "--country", "Atlantis", code=2)
    assert "unknown country 'Atlantis'" in out
    out = cli("actors", "add", "X", "--kind", "warband", code=2)
    assert "unknown value 'warband'" in out and "insurgent_group" in out
    out = cli("engagements", "show", "no-such-thing", code=2)
    assert "no engagement 'no-such-thing'" in out


def test_import_export_and_status(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "actors.csv").write_text("name,kind,country\nGhana,state,GHA\nFrance,state,FRA\n")
    out = cli("import", str(tmp_path / "actors.csv"), "--dry-run")
    assert "dry run" in out
    assert "actors: 0 of 0" in cli("actors", "list")
    cli("import", str(tmp_path / "actors.csv"))
    again = cli("import", str(tmp_path / "actors.csv"))
    assert re.search(r"actors\s*│\s*0\s*│\s*0\s*│\s*2", again)
    cli("export", "--format", "xlsx", "--out", str(tmp_path / "all.xlsx"))
    assert (tmp_path / "all.xlsx").stat().st_size > 0
    (tmp_path / "engagements.csv").write_text("title,kind\nTalks,picnic\n")
    out = cli("import", str(tmp_path / "engagements.csv"), code=2)
    assert "row 2, field 'kind'" in out and "nothing was written" in out
    assert re.search(r"actors\s*│\s*2", cli("status"))


def test_help_reads_like_a_daily_tool() -> None:
    runner = CliRunner()
    top = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    for group in (
        "actors",
        "people",
        "agreements",
        "engagements",
        "commitments",
        "import",
        "export",
        "demo",
        "init",
        "status",
    ):
        assert group in top
    for group in ("actors", "people", "agreements", "engagements", "commitments"):
        text = runner.invoke(app, [group, "--help"], env={"COLUMNS": "200"}).output
        for command in ("add", "list", "show", "edit", "history", "delete"):
            assert re.search(rf"│ {command}\s+\S", text), f"{group} {command} lacks help"
        add = runner.invoke(app, [group, "add", "--help"], env={"COLUMNS": "200"}).output
        assert "--marking" in add and "[required]" in add
    eng = runner.invoke(app, ["engagements", "add", "--help"], env={"COLUMNS": "200"}).output
    assert "joint_exercise" in eng and "--troops" in eng and "--partner" in eng


def test_root_options_anywhere_a_switched_login_said_and_no_traceback(
    cli,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    from detente.cli.app import hoist_global_options

    assert hoist_global_options(["engagements", "list", "--workspace", "ws", "--limit", "2"]) == [
        "--workspace", "ws", "engagements", "list", "--limit", "2",
    ]  # fmt: skip
    assert hoist_global_options(["show", "--as=bob", "x", "--", "--token", "t"]) == [
        "--as=bob", "show", "x", "--", "--token", "t",
    ]  # fmt: skip
    # --workspace after the subcommand names the workspace, as before it does
    other = settings.workspace.parent / "elsewhere"
    out = cli("status", "--workspace", str(other), code=3)
    assert "no detente workspace at" in out and "elsewhere" in out
    # a second user logging in is told the commands now act as them
    cli(
        "users",
        "add",
        "second",
        "--org",
        "Ministry of Defence of France",
        "--role",
        "planner",
        "--clearance",
        "national=SECRET",
    )
    assert "commands now act as second, no longer cli-user" in cli("login", "second")
    # an unexpected failure is one line, not a traceback
    import detente.cli.records as records

    monkeypatch.setattr(records, "_show", lambda *_: (_ for _ in ()).throw(RuntimeError("disk on fire")))
    out = cli("actors", "add", "Ghana", "--kind", "state", "--country", "GHA", code=1)
    assert "error: unexpected RuntimeError: disk on fire" in out and "Traceback" not in out
