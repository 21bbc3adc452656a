"""What every CLI command needs: settings, the workspace, and who is acting.

The acting principal comes from, in order: ``--token`` / ``DETENTE_TOKEN`` (an API
token), or ``--as USER`` / ``DETENTE_AS`` (that user's saved login in the
workspace), or the workspace's default login (the last ``detente login``).
Saved logins are tokens in ``<workspace>/.sessions/`` readable only by their owner.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from detente.cli.consoles import console, err_console
from detente.core.errors import AuthError
from detente.core.markings import Principal
from detente.core.settings import Settings

if TYPE_CHECKING:
    from detente.core.workspace import Workspace
    from detente.sharing.service import Sharing
    from detente.store.service import Store

__all__ = [
    "SERVER_FILE",
    "acting",
    "acting_token",
    "announced",
    "console",
    "default_login",
    "err_console",
    "open_registry",
    "running_server",
    "save_login",
    "settings_from",
]


def settings_from(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj or {}
    workspace: Path | None = obj.get("workspace")
    return Settings(workspace=workspace) if workspace else Settings()


def _sessions(ws: Workspace) -> Path:
    return ws.path / ".sessions"


def default_login(ws: Workspace) -> str | None:
    """Who commands act as when no --as or --token says otherwise (the last login)."""
    path = _sessions(ws) / "default"
    return path.read_text().strip() if path.exists() else None


def save_login(ws: Workspace, username: str, token: str) -> Path:
    folder = _sessions(ws)
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{username}.token"
    path.write_text(token)
    path.chmod(0o600)
    (folder / "default").write_text(username)
    return path


def acting_token(ctx: typer.Context, workspace: Path) -> str | None:
    """The secret the acting user's commands carry: --token, or the saved login of --as
    (or of the last login) in the workspace folder; None if there is none."""
    obj = ctx.find_root().obj or {}
    token = obj.get("token") or os.environ.get("DETENTE_TOKEN")
    if token:
        return str(token)
    sessions = workspace / ".sessions"
    last = sessions / "default"
    username = (
        obj.get("as_user") or os.environ.get("DETENTE_AS") or (last.exists() and last.read_text().strip())
    )
    saved = sessions / f"{(username or '').strip().lower()}.token"
    return saved.read_text() if username and saved.exists() else None


SERVER_FILE = "server.json"  # written by `detente serve` while it serves this workspace


@contextmanager
def announced(workspace: Path, url: str) -> Iterator[None]:
    """While serving: say in the workspace where (and by which process), so that commands
    run beside it may ask the server, which keeps the lists and models loaded."""
    path = workspace / SERVER_FILE
    path.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def running_server(workspace: Path) -> str | None:
    """The URL of a `detente serve` serving this workspace now, or None."""
    try:
        found = json.loads((workspace / SERVER_FILE).read_text())
        os.kill(int(found["pid"]), 0)  # raises if that process is gone
        return str(found["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def acting(ctx: typer.Context, ws: Workspace, sharing: Sharing) -> Principal:
    obj = ctx.find_root().obj or {}
    token = obj.get("token") or os.environ.get("DETENTE_TOKEN")
    if token:
        return sharing.authenticate(token)
    username = obj.get("as_user") or os.environ.get("DETENTE_AS")
    folder = _sessions(ws)
    if not username and (folder / "default").exists():
        username = (folder / "default").read_text().strip()
    if not username:
        raise AuthError("who is acting? run `detente login USER` (or pass --as USER or --token)")
    saved = folder / f"{username.strip().lower()}.token"
    if not saved.exists():
        raise AuthError(f"{username} has not logged in to this workspace: run `detente login {username}`")
    principal = sharing.authenticate(saved.read_text())
    if principal.user != username.strip().lower():
        raise AuthError("the saved login does not belong to that user")
    return principal


@contextmanager
def open_registry(ctx: typer.Context) -> Iterator[tuple[Workspace, Store]]:
    """The workspace and a registry unit of work for the acting principal."""
    from detente.core.workspace import open_workspace
    from detente.sharing.service import Sharing
    from detente.store.service import Store

    settings = settings_from(ctx)
    with open_workspace(settings) as ws, ws.session() as session:
        principal = acting(ctx, ws, Sharing(session))
        yield ws, Store(session, principal)
