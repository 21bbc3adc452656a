"""The CLI starts in a blink: loading the root command imports none of the store, the lake
or the web, and the root's table of commands (COMMANDS) is exactly what the command
modules register, with their own help."""

from __future__ import annotations

import json
import subprocess
import sys

import typer

from detente.cli.app import COMMANDS, full_command

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
