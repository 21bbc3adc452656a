"""``detente sources``: load, fetch, list and check the open datasets of the context lake."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
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
    table = Table(
        "source", "version", "rows", "years", "coverage", "loaded", "by", "sha256", title="context lake"
    )
    for name, src in SOURCES.items():
        p = loaded.get(name)
        if p is None:
            table.add_row(name, "-", "-", "", src.title, "not loaded", "", "")
        else:
            table.add_row(
                name,
                p.version,
                f"{p.rows:,}",
                f"{p.first_year}-{p.last_year}" if p.first_year is not None else "",
                p.coverage,
                f"{p.loaded_at:%Y-%m-%d %H:%M}",
                p.loaded_by,
                p.sha256[:12],
            )
    console.print(table)


def _report(changed: bool, p, parsed, seconds: float) -> None:  # type: ignore[no-untyped-def]
    if not changed:
        console.print(
            f"{p.source}: unchanged (these files are already loaded); {p.rows:,} rows, sha256 {p.sha256[:12]}"
        )
        return
    rate = f", {p.rows / seconds:,.0f} rows/s" if seconds > 0 else ""
    console.print(
        f"{p.source}: loaded {p.rows:,} rows in {seconds:.1f} s{rate}; {p.coverage}; sha256 {p.sha256[:12]}"
    )
    if parsed is not None and len(parsed.tables) > 1:
        console.print(
            "tables: " + ", ".join(f"{p.source}{k} ({t.num_rows:,})" for k, t in parsed.tables.items())
        )
    for note in parsed.notes if parsed is not None else []:
        console.print(f"[yellow]note[/yellow] {note}", highlight=False)
    if parsed is not None and parsed.unmapped.counts:
        console.print(f"[yellow]unmapped[/yellow] {parsed.unmapped.summary(limit=20)}", highlight=False)


@contextmanager
def _progress(name: str) -> Iterator[None]:
    """A progress line with rows read and rows/s while a long load parses."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from detente.sources.tabular import PROGRESS

    started = time.perf_counter()
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.completed:,.0f} rows"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"loading {name}", total=None, rate="")

        def advance(rows: int) -> None:
            done = bar.tasks[0].completed + rows
            elapsed = time.perf_counter() - started
            bar.update(task, completed=done, rate=f"{done / elapsed:,.0f} rows/s" if elapsed > 0 else "")

        token = PROGRESS.set(advance)
        try:
            yield
        finally:
            PROGRESS.reset(token)


@app.command()
def load(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(help="The source, e.g. cameo, gdelt, ucdp_ged (see `sources list`).")
    ],
    paths: Annotated[
        list[Path], typer.Argument(help="Its file(s) as the provider publishes them (a .zip is opened).")
    ],
    version: Annotated[str | None, typer.Option(help="The release's version.")] = None,
) -> None:
    """Validate and load local files; the same files again change nothing."""
    from detente.sources.service import load as load_source

    lake, user, _ = _lake_and_user(ctx)
    started = time.perf_counter()
    with lake, _progress(name):
        changed, p, parsed = load_source(lake, name, list(paths), user=user, version=version)
    _report(changed, p, parsed, time.perf_counter() - started)


@app.command()
def fetch(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The source, e.g. cameo.")],
    version: Annotated[
        str | None, typer.Option(help="The release, e.g. 23.1 for UCDP, 20191024143000 for a GDELT export.")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="Download this address (providers without a stable one).")
    ] = None,
    mirror: Annotated[
        str | None, typer.Option(help="Download the same file names from this base URL instead.")
    ] = None,
) -> None:
    """Download the official release from the provider and load it."""
    from detente.sources.service import fetch as fetch_source

    lake, user, folder = _lake_and_user(ctx)
    started = time.perf_counter()
    with lake, _progress(name):
        changed, p, parsed = fetch_source(
            lake, name, folder / "downloads" / name, user=user, mirror=mirror, url=url, version=version
        )
    _report(changed, p, parsed, time.perf_counter() - started)


@app.command()
def show(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="A loaded source, e.g. ucdp_ged.")]
) -> None:
    """One source's provenance in full: files, hash, tables, coverage and every note
    (values that did not map, rows joined or set aside)."""
    from detente.core.errors import NotFoundError
    from detente.sources.service import source

    src = source(name)
    lake, _user, _ = _lake_and_user(ctx)
    with lake:
        p = lake.current(src.name)
        if p is None:
            raise NotFoundError(f"{src.name} is not loaded; `detente sources load {src.name} FILE`")
        tables = {t: lake.rows(t) for t in p.table_names}
    console.print(f"[bold]{src.name}[/bold]: {src.title}", highlight=False)
    console.print(
        f"version {p.version}; loaded {p.loaded_at:%Y-%m-%d %H:%M} by {p.loaded_by}; sha256 {p.sha256}"
    )
    console.print(f"coverage: {p.coverage}", highlight=False)
    console.print("tables: " + ", ".join(f"{t} ({n:,} rows)" for t, n in tables.items()))
    console.print("files:\n  " + "\n  ".join(p.files.split("\n")), highlight=False)
    for note in filter(None, p.notes.split("; ")):
        console.print(f"[yellow]note[/yellow] {note}", highlight=False)
    console.print(f"provider: {src.home}" + (f"; cite: {src.cite}" if src.cite else ""), highlight=False)


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
