"""What every CLI command needs: settings, the workspace, a registry session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console

from detente.core.settings import Settings
from detente.core.workspace import Workspace, open_workspace
from detente.registry.service import Registry

__all__ = ["console", "err_console", "open_registry", "settings_from"]

console = Console()
err_console = Console(stderr=True)


def settings_from(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj or {}
    workspace: Path | None = obj.get("workspace")
    return Settings(workspace=workspace) if workspace else Settings()


@contextmanager
def open_registry(ctx: typer.Context) -> Iterator[tuple[Workspace, Registry]]:
    """The workspace and a registry unit of work: committed if the command succeeds."""
    settings = settings_from(ctx)
    with open_workspace(settings) as ws, ws.session() as session:
        yield ws, Registry(session, author=settings.user)
