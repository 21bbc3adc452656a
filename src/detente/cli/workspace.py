"""The workspace's own commands: init, status, import, export, serve and demo."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from detente.cli.context import announced, console, err_console, open_registry, save_login, settings_from
from detente.core.migrate import current_revision, head_revision
from detente.core.settings import Settings
from detente.core.workspace import connection_budget, create_workspace

if TYPE_CHECKING:
    from fastapi import FastAPI

    from detente.demo.open_data import Loaded

__all__ = ["default_workers", "register", "worker_app"]

app = typer.Typer()


@app.command()
def init(
    ctx: typer.Context,
    org: Annotated[
        str | None, typer.Option(help="Create your organisation, e.g. 'Ministry of Defence of Ghana'.")
    ] = None,
    country: Annotated[str | None, typer.Option(help="Your organisation's country.")] = None,
    admin: Annotated[
        str | None,
        typer.Option(
            help="Create the workspace's operator (the first administrator, who alone adds "
            "organisations and changes coalitions) with this user name and log them in "
            "(password prompted, or DETENTE_PASSWORD)."
        ),
    ] = None,
    clearance: Annotated[
        list[str] | None,
        typer.Option(
            help="The administrator's clearance, SCHEME=LEVEL (repeatable) \\[default: national=TOP SECRET].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create a workspace (or migrate an existing one to this version of detente).

    With --org, --country and --admin it also creates your organisation, which runs
    the instance, and its first administrator as the workspace's operator, and logs
    them in, so the next command can add records.
    """
    from detente.cli.sharing import parse_clearances, password_from
    from detente.sharing.service import Sharing

    settings = settings_from(ctx)
    with create_workspace(settings) as ws:
        revision = current_revision(ws.engine)
        console.print(f"[green]workspace ready[/green] at {ws.path.resolve()}")
        console.print(f"registry: {ws.database_url} (schema {revision})")
        if org or country or admin:
            if not (org and country and admin):
                raise typer.BadParameter("--org, --country and --admin go together")
            password = password_from(f"Password for {admin}", confirm=True)
            with ws.session() as session:
                sharing = Sharing(session)
                organisation = sharing.add_org(org, country, actor=None)
                sharing.add_user(
                    admin,
                    organisation.id,
                    role="operator",
                    clearances=parse_clearances(clearance) or {"national": "TOP SECRET"},
                    password=password,
                    actor=None,
                )
                principal = sharing.login(admin, password)
                secret, _ = sharing.issue_token(principal, name="cli-login")
            save_login(ws, principal.user, secret)
            console.print(
                f"organisation {organisation.name} ({organisation.country}); "
                f"operator {principal.user} logged in"
            )


@app.command()
def status(ctx: typer.Context) -> None:
    """Show the workspace, its registry store, schema version and what you can see."""
    with open_registry(ctx) as (ws, reg):
        counts = reg.counts()
        console.print(f"workspace: {ws.path.resolve()}")
        console.print(f"registry:  {ws.database_url}")
        console.print(f"schema:    {current_revision(ws.engine)} (newest {head_revision()})")
        console.print(f"acting as: {reg.principal.user} ({reg.principal.role}, {reg.principal.country})")
    table = Table("table", "records you can see")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    console.print(table)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


@app.command("import")
def import_(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(help="CSV, XLSX, JSON or Parquet file(s); give an export's files together."),
    ],
    table: Annotated[
        str | None,
        typer.Option(
            help="Table the file holds, if its name does not say (actors, people, agreements, "
            "engagements, commitments)."
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report, write nothing.")] = False,
) -> None:
    """Import records from files: all rows are checked first; one bad row writes nothing.

    Rows match existing records you may see by id, external_id, or natural key, so
    importing the same file again changes nothing; a new record gets a new id (the
    file's id is kept as its external_id). References (lead_actor_id, partners,
    parties...) may be ids, external ids, names or, for states, country names; several
    files are imported as one, so a row may name a record of another file by its id
    there. Who created or changed a record, and when, is never taken from a file
    (created_at/by, updated_at/by are ignored with a warning); version is only compared.
    """
    from detente.bulk.io import import_files

    class _DryRun(Exception):
        pass

    settings = settings_from(ctx)
    report = None
    with _progress() as bar:
        tasks: dict[str, TaskID] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(f"importing {name}", total=total)
            bar.update(tasks[name], completed=done)

        try:
            with open_registry(ctx) as (_, reg):
                report = import_files(
                    reg, files, table=table, progress=progress, max_bytes=settings.max_import_bytes
                )
                if dry_run:
                    raise _DryRun()
        except _DryRun:
            pass
    assert report is not None
    out = Table(
        "table",
        "created",
        "updated",
        "unchanged",
        title=f"{'checked (dry run, nothing written)' if dry_run else 'imported'}: "
        + ", ".join(str(f) for f in files),
    )
    for name in sorted(set(report.created) | set(report.updated) | set(report.unchanged)):
        out.add_row(
            name,
            str(report.created.get(name, 0)),
            str(report.updated.get(name, 0)),
            str(report.unchanged.get(name, 0)),
        )
    console.print(out)
    for warning in report.warnings:
        console.print(f"[yellow]warning[/yellow] {warning}", highlight=False)


@app.command()
def export(
    ctx: typer.Context,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="csv, xlsx, json, parquet, or stix (engagements and agreements as a STIX 2.1 "
            "bundle with TLP 2.0 markings, for MISP or OpenCTI).",
        ),
    ] = "csv",
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder (csv, parquet) or file (xlsx, json, stix) to write "
            "\\[default: ./detente-export, or .xlsx/.json/.stix.json for those formats].",
            show_default=False,
        ),
    ] = None,
    table: Annotated[
        list[str] | None,
        typer.Option(help="Only this table (repeatable) \\[default: all].", show_default=False),
    ] = None,
) -> None:
    """Export what you may see; the files import back without loss (STIX is for partners'
    platforms). The export is recorded on the audit trail."""
    from detente.bulk.io import FORMATS, export_tables

    if fmt not in (*FORMATS, "stix"):
        raise typer.BadParameter(f"one of {', '.join(FORMATS)}, stix", param_hint="--format")
    suffix = {"csv": "", "parquet": "", "stix": ".stix.json"}.get(fmt, f".{fmt}")
    target = out or Path("detente-export" + suffix)
    with open_registry(ctx) as (_, reg):
        if fmt == "stix":
            from detente.sharing.stix import TABLES, export_stix

            path, marking = export_stix(reg, target, table or TABLES)
            written = [path]
        else:
            written = export_tables(reg, fmt, target, table)
            marking = None
    for path in written:
        console.print(f"wrote {path}")
    if fmt == "stix":
        console.print(f"bundle marking: {marking.render() if marking else 'empty'}", highlight=False)


def _serve(settings: Settings, host: str | None, port: int | None, workers: int = 1) -> None:
    import uvicorn

    settings = settings.model_copy(
        update={k: v for k, v in (("host", host), ("port", port)) if v is not None}
    )
    settings.check_serving()
    processes = "one process" if workers == 1 else f"{workers} worker processes"
    console.print(
        f"serving detente at [bold]http://{settings.host}:{settings.port}/[/bold] "
        f"(API: /api/v1, OpenAPI: /api/v1/openapi.json) with {processes}; Ctrl+C stops it",
        soft_wrap=True,  # one line, whatever the width: scripts and logs read the address off it
    )
    here = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    with announced(settings.workspace, f"http://{here}:{settings.port}"):
        if workers == 1:
            from detente.server import create_app

            uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")
            return
        # each worker process builds its own application (worker_app) from the environment it
        # inherits: the same as this one's, with the workspace and address chosen here
        os.environ.update(
            DETENTE_WORKSPACE=str(settings.workspace.resolve()),
            DETENTE_HOST=settings.host,
            DETENTE_PORT=str(settings.port),
        )
        uvicorn.run(
            "detente.cli.workspace:worker_app",
            factory=True,
            workers=workers,
            host=settings.host,
            port=settings.port,
            log_level="warning",
        )


def worker_app() -> FastAPI:
    """The application one worker process of ``detente serve --workers N`` serves
    (uvicorn calls this in each; the settings come from the environment ``_serve`` set)."""
    from detente.server import create_app

    return create_app(Settings())


def default_workers(settings: Settings) -> int:
    """One worker per core on PostgreSQL; one on SQLite, which has one writer at a time
    (more processes would only queue for its lock, by polling it)."""
    if settings.database_url.startswith("postgresql"):
        return os.cpu_count() or 1
    return 1


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address \\[default: DETENTE_HOST or 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port \\[default: DETENTE_PORT or 8000].")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes \\[default: one per core on PostgreSQL, 1 on SQLite].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the web app and the REST API (with its OpenAPI document) on this workspace."""
    settings = settings_from(ctx)
    processes = workers or default_workers(settings)
    with create_workspace(settings) as ws:  # create or migrate before serving
        overcommitted = connection_budget(ws.engine, processes, settings.pool_size + settings.pool_overflow)
    if overcommitted:
        err_console.print(f"[yellow]warning:[/yellow] {overcommitted}")
    _serve(settings, host, port, processes)


def _report_open_data(folder: Path | None, opened: Loaded | None) -> None:
    """What the demo loaded into the lake, what failed and what it did not find."""
    if opened is None:
        console.print(
            "no open data folder (--data, DETENTE_SHARED_DATA or ../shared/data): the relations, warning "
            "and vetting pages say which `detente sources load` command fills them"
        )
    else:
        console.print(
            f"open data loaded from {folder}: " + ", ".join(f"{n} ({r:,})" for n, r in opened.loaded.items())
        )
        for name, why in opened.failed.items():
            console.print(f"[yellow]not loaded[/yellow] {name}: {why}")
        if opened.missing:
            console.print(
                "not found (load with `detente sources load NAME FILE`): " + ", ".join(opened.missing)
            )
        if opened.forecast is not None:
            console.print(f"the early-warning page shows the forecast saved in {opened.forecast}")


@app.command()
def demo(
    ctx: typer.Context,
    seed: Annotated[int, typer.Option(help="Seed of the scenario generator.")] = 2024,
    years: Annotated[int, typer.Option(help="Years of engagements to generate.")] = 4,
    serve_: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the web app on the demo workspace afterwards.")
    ] = True,
    host: Annotated[str | None, typer.Option(help="Address to serve on \\[default: 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to serve on \\[default: 8000].")] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="A folder of open datasets laid out like the project's shared data, loaded into the "
            "lake so the analytics show real figures \\[default: DETENTE_SHARED_DATA, else ../shared/data].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Build a workspace filled with a DEMONSTRATION scenario (fictional engagements
    among real countries) and the open datasets it finds, print a summary, and serve the
    web app on it (--no-serve only builds it). Works offline."""
    from detente.demo import DEFAULT_USER, build_demo, demo_users, summarise
    from detente.demo.open_data import data_folder, first_forecast, load_open_data
    from detente.sharing.service import Sharing

    settings = settings_from(ctx)
    with create_workspace(settings) as ws, _progress() as bar:
        task = bar.add_task("generating demo scenario", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = build_demo(ws, seed=seed, years=years, progress=progress)
        # the demo users are logged in, so every command works at once (--as picks one)
        with ws.session() as session:
            sharing = Sharing(session)
            logins = {
                name: sharing.issue_token(sharing.principal(name), name="demo-login")[0]
                for name, *_ in demo_users()
            }
        for name, secret in logins.items():
            save_login(ws, name, secret)
        save_login(ws, DEFAULT_USER, logins[DEFAULT_USER])
        folder = data_folder(data)
        opened = None
        if folder is not None and folder.is_dir():
            lake_task = bar.add_task("loading open datasets into the lake", total=None)

            def loading(name: str, done: int, total: int) -> None:
                bar.update(lake_task, completed=done - 1, total=total, description=f"loading {name}")

            opened = load_open_data(ws, folder, user="demo", progress=loading)
            bar.update(lake_task, description="the first early-warning forecast")
            opened.forecast = first_forecast(ws, opened)
    summarise(result, console)
    _report_open_data(folder, opened)
    console.print(
        f"\nworkspace: {ws.path.resolve()}  (acting as {DEFAULT_USER}; --as picks another demo user)\n"
        "next: [bold]detente engagements list --status planned[/bold], "
        "[bold]detente --as ken-analyst engagements list[/bold], "
        "[bold]detente export --format xlsx[/bold]"
    )
    if serve_:
        console.print(
            "\nsign in to the web app as [bold]gbr-planner[/bold] (password demo-gbr-planner-password) "
            "or, to see what another organisation may see, [bold]ken-analyst[/bold] "
            "(demo-ken-analyst-password); every demo user is in the table above"
        )
        _serve(settings, host, port)


def register(root: typer.Typer) -> None:
    """Add the workspace's commands to the root command."""
    for command in app.registered_commands:
        root.registered_commands.append(command)
