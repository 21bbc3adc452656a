"""``detente channels`` (SQLite and PostgreSQL): a message sealed by the CLI on one side
is opened by the CLI on the other; a wrong passphrase says so and changes nothing."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from detente.channels.keys import keys_of
from detente.cli.app import app
from tests.channels.conftest import PASSPHRASE, token_of


def _cli(world: dict[str, Any], user: str, *args: str, code: int = 0, passphrase: str = PASSPHRASE) -> str:
    ws = world["ws"]
    env = {
        "DETENTE_WORKSPACE": str(ws.path),
        "DETENTE_DATABASE_URL": ws.settings.database_url,
        "DETENTE_TOKEN": token_of(ws, user),
        "DETENTE_PASSPHRASE": passphrase,
        "COLUMNS": "200",
    }
    result = CliRunner().invoke(app, list(args), env=env)
    out = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == code, f"exit {result.exit_code}: {out}\n{result.exception!r}"
    return out


def test_send_and_read_through_the_cli(world: dict[str, Any], tmp_path: Any) -> None:
    conv = world["conversation"]
    note = tmp_path / "route.txt"
    note.write_bytes(b"grid 123 456")
    out = _cli(world, "gbr-planner", "channels", "send", conv, "patrol at dawn", "--attach", str(note))
    assert "to 2 recipient(s)" in out
    out = _cli(world, "ken-analyst", "channels", "read", conv, "--save", str(tmp_path / "got"))
    assert "gbr-planner" in out and "patrol at dawn" in out and "route.txt, 12 bytes" in out
    assert (tmp_path / "got" / "route.txt").read_bytes() == b"grid 123 456"
    assert "in force" in _cli(world, "ken-analyst", "channels", "keys", "show", "gbr-planner")
    assert conv in _cli(world, "ken-analyst", "channels", "list")


def test_wrong_passphrase_is_clear_and_changes_nothing(world: dict[str, Any]) -> None:
    ws = world["ws"]
    with ws.session() as session:
        before = [(k.id, k.revoked_at) for k in keys_of(session, "ken-analyst")]
    out = _cli(world, "ken-analyst", "channels", "keys", "rotate", passphrase="not my passphrase", code=6)
    assert "wrong passphrase" in out and "Traceback" not in out
    out = _cli(
        world, "ken-analyst", "channels", "read", world["conversation"], passphrase="nope nope", code=6
    )
    assert "wrong passphrase" in out
    with ws.session() as session:
        assert [(k.id, k.revoked_at) for k in keys_of(session, "ken-analyst")] == before
    assert "fingerprint" in _cli(world, "ken-analyst", "channels", "keys", "rotate")
    with ws.session() as session:
        assert [k.revoked_reason for k in keys_of(session, "ken-analyst")] == [None, "rotated"]


def test_a_conversation_is_found_by_its_title_too(world: dict[str, Any]) -> None:
    """At a terminal people read titles, not ids: send and read take either."""
    title = "Liaison"  # the conversation conftest.py starts
    assert world["conversation"] in _cli(world, "gbr-planner", "channels", "list")
    out = _cli(world, "gbr-planner", "channels", "send", title.upper(), "by title")
    assert "to 2 recipient(s)" in out
    assert "by title" in _cli(world, "ken-analyst", "channels", "read", title)
    out = _cli(world, "ken-analyst", "channels", "read", "no such talk", code=4)
    assert "no conversation 'no such talk'" in out and "detente channels list" in out
