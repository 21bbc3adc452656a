"""``detente sources``: load, fetch, list and check the open datasets of the context lake."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from detente.cli.context import acting, console, settings_from
from detente.core.workspace import open_workspace
from detente.sharing.service import Sharing

__all__ = ["register"]

app = typer.Typer(
    help="Open datasets in the context lake (a DuckDB file in the workspace).", no_args_is_help=True
)


def _lake_and_user(ctx: typer.Context):  # type: ignore[no-untyped-def]
    from detente.sources.lake import Lake

    settings = settings_from(ctx)
    with open_workspace(settings) as ws, ws.session() as session:
        user = acting(ctx, ws, Sharing(session)).user
        return Lake(ws.path), user, ws.path


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """What is loaded: source, version, rows, coverage, when and by whom; and what could be."""
    from detente.sources.service import SOURCES

    lake, _user, _ = _lake_and_user(ctx)
    with lake:
        loaded = {p.source: p for p in lake.provenance()}
    table = Table("source", "version", "rows", "coverage", "loaded", "by", "sha256", title="context lake")
    for name, src in SOURCES.items():
        p = loaded.get(name)
        if p is None:
            table.add_row(name, "-", "-", src.title, "not loaded", "", "")
        else:
            table.add_row(
                name,
                p.version,
                f"{p.rows:,}",
                p.coverage,
                f"{p.loaded_at:%Y-%m-%d %H:%M}",
                p.loaded_by,
                p.sha256[:12],
            )
    console.print(table)


@app.command()
def load(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The source, e.g. cameo.")],
    paths: Annotated[list[Path], typer.Argument(help="Its file(s), as the provider publishes them.")],
    version: Annotated[str | None, typer.Option(help="The release's version.")] = None,
) -> None:
    """Validate and load local files; the same files again change nothing."""
    from detente.sources.service import load as load_source

    lake, user, _ = _lake_and_user(ctx)
    with lake:
        changed, p = load_source(lake, name, list(paths), user=user, version=version)
    verb = "loaded" if changed else "unchanged (these files are already loaded)"
    console.print(f"{p.source}: {verb}; {p.rows:,} rows, {p.coverage}, sha256 {p.sha256[:12]}")


@app.command()
def fetch(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The source, e.g. cameo.")],
    mirror: Annotated[
        str | None, typer.Option(help="Download from this base URL instead of the provider.")
    ] = None,
) -> None:
    """Download the official release from the provider and load it."""
    from detente.sources.service import fetch as fetch_source

    lake, user, folder = _lake_and_user(ctx)
    with lake:
        changed, p = fetch_source(lake, name, folder / "downloads" / name, user=user, mirror=mirror)
    verb = "loaded" if changed else "unchanged (the same release is already loaded)"
    console.print(f"{p.source}: {verb}; {p.rows:,} rows, {p.coverage}, sha256 {p.sha256[:12]}")


@app.command()
def check(ctx: typer.Context) -> None:
    """Re-verify each loaded source against the files it came from (exit 7 on a mismatch)."""
    from detente.sources.service import check as check_sources

    lake, _user, _ = _lake_and_user(ctx)
    with lake:
        results = check_sources(lake)
    for name, ok, why in results:
        console.print(f"{'[green]ok[/green]' if ok else '[red]FAILED[/red]'} {name}: {why}")
    if not all(ok for _, ok, _ in results):
        raise typer.Exit(7)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="sources")
