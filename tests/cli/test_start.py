"""The CLI starts in a blink: loading the root command imports none of the store, the lake
or the web, and the root's table of commands (COMMANDS) is exactly what the command
modules register, with their own help; a record command imports its own slice alone, and
opening a workspace at the newest schema does not load Alembic (one behind is migrated)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import typer
from sqlalchemy import inspect

from detente import __version__
from detente.cli.app import COMMANDS, full_command
from detente.cli.records import SLICES, command_name
from detente.core.migrate import at_head, current_revision, head_revision, script_head, upgrade
from detente.core.settings import Settings
from detente.core.workspace import make_engine, open_workspace
from detente.store.records import record_types

HEAVY = ("sqlalchemy", "alembic", "duckdb", "pandas", "fastapi")


def test_loading_the_cli_imports_no_heavy_library() -> None:
    code = (
        "import sys; from detente.cli.app import app, main; import typer; typer.main.get_command(app); "
        "import json; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout))
    assert "typer" in loaded and "detente" in loaded
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_version_and_help_need_no_command_module() -> None:
    for args in (["--version"], ["--help"]):
        code = (
            f"import sys\nfrom detente.cli.app import main\nsys.argv = ['detente', *{args!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print('HEAVY', sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert "HEAVY []" in done.stdout, done.stdout
    assert "plan" in done.stdout and "Vienna Document" in done.stdout  # --help listed the commands


def test_the_table_of_commands_is_what_the_modules_register() -> None:
    command = full_command()
    real = {name: command.get_command(typer.Context(command), name) for name, _, _ in COMMANDS}
    assert [n for n, _, _ in COMMANDS] == command.list_commands(typer.Context(command))
    for name, _module, text in COMMANDS:
        assert real[name].short_help == text, name
        assert type(real[name]).__name__ != "_Listed", name  # the real command, with its options
    # every command the modules register is in the table (none only reachable by name)
    registered = set()
    for module in {m for _, m, _ in COMMANDS}:
        from detente.cli.app import _commands_of

        registered |= set(_commands_of(module))
    assert registered == {n for n, _, _ in COMMANDS}


def test_version_is_answered_before_typer_is_imported() -> None:
    """``detente --version`` alone prints what the root command's eager --version prints
    (after other options, or from the root itself), without importing Typer or Rich."""
    ask = "import sys\nfrom detente.cli.{} import main\nsys.argv = ['detente', *{!r}]\nmain()\n"
    shown = "print(sorted({m.split('.')[0] for m in sys.modules} & {'typer', 'rich', 'click'}))"
    fast = subprocess.run(
        [sys.executable, "-c", ask.format("app", ["--version"]) + shown], capture_output=True, text=True
    )
    assert (fast.returncode, fast.stdout.splitlines()) == (0, [f"detente {__version__}", "[]"])
    for module, args in (("root", ["--version"]), ("app", ["-w", "x", "--version"])):
        done = subprocess.run(
            [sys.executable, "-c", ask.format(module, args)], capture_output=True, text=True
        )
        assert (done.returncode, done.stdout) == (0, f"detente {__version__}\n"), (module, args)


def test_each_record_command_names_the_slice_that_declares_it() -> None:
    declared = {command_name(kind): kind.slice for kind in record_types().values()}
    assert declared == SLICES
    assert set(SLICES) == {name for name, module, _ in COMMANDS if module == "records"}


def test_the_head_read_from_the_scripts_is_alembics() -> None:
    assert script_head() is not None
    assert script_head() == head_revision()


def test_a_registry_behind_the_head_is_migrated_and_one_at_head_is_left_alone(settings: Settings) -> None:
    engine = make_engine(settings.database_url, settings.pool_size, settings.pool_overflow)
    try:
        assert not at_head(engine)  # a new registry: no alembic_version yet
        upgrade(engine, "0001")
        assert current_revision(engine) == "0001" and not at_head(engine)
        assert "engagements" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    settings.workspace.mkdir(parents=True)
    (settings.workspace / "detente-workspace.json").write_text("{}")
    with open_workspace(settings) as ws:  # behind: Alembic migrates it
        assert current_revision(ws.engine) == head_revision()
        assert at_head(ws.engine)
        assert "engagements" in inspect(ws.engine).get_table_names()


def test_a_record_command_loads_its_slice_alone_and_no_alembic(settings: Settings) -> None:
    env = {
        **os.environ, "DETENTE_PASSWORD": "correct horse battery", "COLUMNS": "200",
        "DETENTE_WORKSPACE": str(settings.workspace), "DETENTE_DATABASE_URL": settings.database_url,
    }  # fmt: skip
    detente = str(Path(sys.executable).with_name("detente"))
    subprocess.run(
        [detente, "init", "--org", "MoD of France", "--country", "FRA", "--admin", "start-user"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    for name, country in (("France", "FRA"), ("Kenya", "KEN")):
        subprocess.run([detente, "actors", "add", name, "--kind", "state", "--country", country],
                       env=env, capture_output=True, text=True, check=True)  # fmt: skip
    code = (
        "import sys\nfrom detente.cli.app import main\n"
        "sys.argv = ['detente', 'engagements', 'add', 'Staff talks', '--kind', 'defense_dialogue', "
        "'--lead', 'France', '--partner', 'Kenya', '--start', '2025-02-11']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.argv = ['detente', 'engagements', 'list']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('LOADED', sorted({'.'.join(m.split('.')[:2]) for m in sys.modules if m.startswith('detente.')}"
        " | {m.split('.')[0] for m in sys.modules}))"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert "added engagement" in done.stdout and "Staff talks" in done.stdout, done.stdout + done.stderr
    loaded = json.loads(done.stdout.split("LOADED ", 1)[1].replace("'", '"'))
    assert "detente.registry" in loaded and "sqlalchemy" in loaded
    others = {f"detente.{s}" for s in SLICES.values()} - {"detente.registry"}
    assert not set(loaded) & (others | {"alembic", "detente.api", "detente.web"}), set(loaded) & others
