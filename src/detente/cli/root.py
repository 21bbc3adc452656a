"""The ``detente`` command line: the root command and where each of its commands lives.

Each command parses its options, calls one service, and renders the result. Errors are
``DetenteError``s, printed once here with their exit code.

The root starts in a blink: it imports none of the store, the lake or the web (a test
checks ``sys.modules``). ``COMMANDS`` says which module registers each command and its
one-line help, so ``--version`` and ``--help`` need nothing else; a command's module is
imported when the command runs (tests/cli/test_start.py checks the table against the
commands the modules register).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from detente import __version__
from detente.cli.consoles import err_console
from detente.core.errors import DetenteError

__all__ = ["COMMANDS", "app", "full_command", "hoist_global_options", "main"]

# The root's commands in the order --help lists them: (name, module under detente.cli
# whose register(root) adds it, one-line help).
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("init", "workspace", "Create a workspace (or migrate an existing one to this version of detente)."),
    ("status", "workspace", "Show the workspace, its registry store, schema version and what you can "
     "see."),
    ("import", "workspace", "Import records from files: all rows are checked first; one bad row writes "
     "nothing."),
    ("export", "workspace", "Export what you may see; the files import back without loss (STIX is for "
     "partners' platforms). The export is recorded on the audit trail."),
    ("serve", "workspace", "Serve the web app and the REST API (with its OpenAPI document) on this "
     "workspace."),
    ("demo", "workspace", "Build a workspace filled with a DEMONSTRATION scenario (fictional engagements "
     "among real countries) and the open datasets it finds, print a summary, and serve the web app on "
     "it (--no-serve only builds it). Works offline."),
    ("login", "sharing", "Log in: check your password and save a login token in the workspace."),
    ("search", "search", "Search the text of every record you may read (every text field of every kind), "
     "grouped by kind, best first, with the matched words highlighted."),
    ("actors", "records", "States, ministries, armed services and units, organisations, non-state actors."),
    ("people", "records", "Attachés and liaison officers: posts, accreditation and immunity."),
    ("agreements", "records", "Defense cooperation agreements, SOFAs, MOUs, treaties, mandates."),
    ("engagements", "records", "Exercises, visits, dialogues, training, port calls... and their lifecycle."),
    ("commitments", "records", "Promises made in engagements, tracked to their due dates."),
    ("vetting", "records", "Vetting decisions about actors and people: outcome, checklist, validity."),
    ("initiatives", "records", "Assessment: programmes of engagements with a partner or a region."),
    ("objectives", "records", "Assessment: an initiative's objectives, their logic model and what serves "
     "them."),
    ("indicators", "records", "Assessment: how an objective is measured (baseline, target, frequency)."),
    ("observations", "records", "Assessment: an indicator's values over time."),
    ("evaluations", "records", "Assessment: evaluations of an initiative (kind, independence, findings, "
     "rating)."),
    ("lessons", "records", "Assessment: lessons learned and the engagements they shape."),
    ("calendar", "records", "Planning: partners' holidays, election periods and other times to avoid."),
    ("incidents", "records", "Crisis log: incidents, their messages, reports, engagements and decisions on "
     "one timeline."),
    ("intel-sources", "records", "Intelligence: protected sources, their identity under a higher marking "
     "than the reports."),
    ("terms", "records", "Intelligence: the classification an intelligence-sharing agreement covers."),
    ("reports", "records", "Intelligence: graded reports with a marking per paragraph, released under "
     "agreements."),
    ("portions", "records", "Intelligence: a report's paragraphs, each under its own portion marking "
     "(tear-lines)."),
    ("orgs", "sharing", "Organisations: each belongs to a country and owns its records."),
    ("users", "sharing", "Users: one organisation, a role and a clearance per scheme."),
    ("coalitions", "sharing", "Coalitions (NATO, FVEY, AU...): groups of countries REL TO may name."),
    ("tokens", "sharing", "API tokens: issue and revoke."),
    ("audit", "audit", "The tamper-evident audit trail: a keyed hash chain with signed checkpoints."),
    ("relations", "relations", "Partner relations: dyad panels, cooperation index, alignment and the "
     "defense network."),
    ("sources", "sources", "Open datasets in the context lake (a DuckDB file in the workspace)."),
    ("warning", "warning", "Early warning: conflict forecasts with uncertainty, backtested."),
    ("vet", "vetting", "Vetting: screen names against sanctions lists, with evidence."),
    ("intel", "intel", "Intelligence exchange: graded reports with portion markings, tear-lines, releases "
     "under agreements, originator consent, verification."),
    ("assess", "assess", "Assessment, monitoring and evaluation: dashboards, scorecards, the annual "
     "report, effect studies."),
    ("plan", "plan", "Planning: Vienna Document checks, legal prerequisites, calendars and the "
     "optimised plan."),
    ("channels", "channels", "Secure channels: encrypted messages, crisis hotlines, the crisis log."),
    ("exchange", "exchange", "Intelligence exchange: federation with peers over TAXII 2.1."),
)  # fmt: skip
_MODULE = {name: module for name, module, _ in COMMANDS}
_HELP = {name: text for name, _, text in COMMANDS}


def _tidy_help(command: Any) -> None:
    """Give every command a one-paragraph summary for its group's list: a docstring's
    first paragraph with its line breaks removed (Rich help keeps them, which breaks the
    list's lines mid-sentence)."""
    if command.short_help is None and command.help:
        command.short_help = command.help.split("\n\n")[0].replace("\n", " ").strip()
    for sub in getattr(command, "commands", {}).values():
        _tidy_help(sub)


def _commands_of(module: str, only: str | None = None) -> dict[str, Any]:
    """The commands ``detente.cli.<module>`` registers, as click commands by name (of the
    record commands, ``only`` that one: each is its own record type, in its own slice)."""
    registry = typer.Typer()

    @registry.callback()
    def _group() -> None:  # a callback keeps a one-command module a group
        pass

    register = importlib.import_module(f"detente.cli.{module}").register
    if only:
        register(registry, only)
    else:
        register(registry)
    group = typer.main.get_command(registry)
    _tidy_help(group)
    return dict(getattr(group, "commands", {}))


class _Listed(TyperCommand):
    """A command as the root's help lists it, before its module is imported."""

    def __init__(self, name: str) -> None:
        super().__init__(name, help=_HELP[name], short_help=_HELP[name])


# options of the root command that may also be written after a subcommand
# (`detente engagements list --workspace ws` as well as `detente --workspace ws engagements list`)
GLOBAL_OPTIONS = ("--workspace", "-w", "--as", "--token")


def hoist_global_options(args: list[str]) -> list[str]:
    """``args`` with the root's options moved before the first subcommand, wherever typed."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        name = arg.split("=", 1)[0]
        if arg == "--":
            rest += args[i:]
            break
        if name in GLOBAL_OPTIONS and rest:
            if "=" in arg:
                front.append(arg)
            else:
                front += args[i : i + 2]
                i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


class _Group(TyperGroup):
    """Root command group: the root's options anywhere on the line; each command's module
    imported when it runs; a DetenteError as a message and an exit code; any other failure
    as one line, never a traceback."""

    loaded: dict[str, Any] = {}  # noqa: RUF012  (commands by name, once their module is imported)

    def list_commands(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        return [name for name, _, _ in COMMANDS]

    def get_command(self, ctx: typer.Context, name: str) -> Any:  # type: ignore[override]
        if name in self.loaded:
            return self.loaded[name]
        return _Listed(name) if name in _MODULE else super().get_command(ctx, name)

    def resolve_command(self, ctx: typer.Context, args: list[str]) -> Any:  # type: ignore[override]
        if args and args[0] in _MODULE:
            self.load(args[0])
        return super().resolve_command(ctx, args)

    def load(self, name: str) -> None:
        """Import a command's module, and keep the commands it registers (a record
        command's alone: its slice's record types, not every slice's)."""
        if name not in self.loaded:
            module = _MODULE[name]
            self.loaded.update(_commands_of(module, name if module == "records" else None))

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        return list(super().parse_args(ctx, hoist_global_options(list(args))))

    def invoke(self, ctx: typer.Context) -> object:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except DetenteError as exc:
            err_console.print(f"[red]error:[/red] {exc.message}")
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, typer.TyperException):  # usage errors: Typer says them
            raise
        except KeyboardInterrupt:
            err_console.print("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:  # a bug or an environment problem: said once, without a traceback
            if os.environ.get("DETENTE_DEBUG"):
                raise
            err_console.print(
                f"[red]error:[/red] unexpected {type(exc).__name__}: {exc} "
                "(set DETENTE_DEBUG=1 to see where)"
            )
            raise typer.Exit(1) from None


app = typer.Typer(
    name="detente",
    cls=_Group,
    help=(
        "detente: plan, record and share defense diplomacy.\n\n"
        "Keeps a registry of actors, attachés, agreements, engagements and commitments "
        "in a workspace folder (SQLite by default, PostgreSQL with DETENTE_DATABASE_URL). "
        "Start with `detente demo` to see it filled, or `detente init` for an empty workspace."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"detente {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            envvar="DETENTE_WORKSPACE",
            help="Workspace folder \\[default: ./detente-workspace].",
            show_default=False,
        ),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as",
            envvar="DETENTE_AS",
            help="Act as this user (their saved login in the workspace) \\[default: the last login].",
            show_default=False,
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="DETENTE_TOKEN",
            help="Act with this API token (see `detente tokens issue`).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    ctx.obj = {"workspace": workspace, "as_user": as_user, "token": token}


def full_command() -> Any:
    """The root command with every command loaded (for generated documentation)."""
    command = typer.main.get_command(app)
    assert isinstance(command, _Group)
    for module in dict.fromkeys(_MODULE.values()):  # each module once, all its commands
        if any(n not in command.loaded for n, m in _MODULE.items() if m == module):
            found = _commands_of(module)
            command.loaded.update({n: c for n, c in found.items() if n not in command.loaded})
    return command


def main() -> None:
    """Console entry point."""
    command = typer.main.get_command(app)
    _tidy_help(command)
    command(prog_name="detente")
