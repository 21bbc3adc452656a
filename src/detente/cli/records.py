"""``detente <records> list|show|add|edit|advance|withdraw|delete|history``: one command
group per registered record type, generated from its declaration.

Options and their help come from the record's fields (their descriptions, the values a
kind or status allows, the short option names the record type declares); references
accept an id, an external id or a name (and for actors a country). Commands parse,
call one store method, and render; ``--json`` prints what the API would return.
"""

import importlib
import inspect
import json
import typing
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from detente.cli.context import console, open_registry
from detente.store.fields import to_iso3
from detente.store.models import choices
from detente.store.records import RecordType, record_type, record_types
from detente.store.service import ListQuery, Store

__all__ = ["SLICES", "command_name", "register"]

LIST_COLUMNS = 4  # summary columns shown by `list` beside id, marking and version

# The slice declaring each record type, by command: `detente engagements ...` imports
# detente.registry.records alone (tests/cli/test_start.py checks this against every
# registered type's own ``slice``).
SLICES = {
    "actors": "registry", "people": "registry", "agreements": "registry", "engagements": "registry",
    "commitments": "registry", "vetting": "vetting", "initiatives": "assessment",
    "objectives": "assessment", "indicators": "assessment", "observations": "assessment",
    "evaluations": "assessment", "lessons": "assessment", "calendar": "planning",
    "incidents": "channels", "intel-sources": "exchange", "terms": "exchange", "reports": "exchange",
    "portions": "exchange",
}  # fmt: skip


def command_name(kind: RecordType) -> str:
    """The CLI group of a record type: its name, or its first alias for two-word names."""
    return kind.aliases[0] if "_" in kind.name and kind.aliases else kind.name


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def _flag(kind: RecordType, name: str) -> str:
    return "--" + kind.cli_names.get(name, name).replace("_", "-")


def _help(kind: RecordType, name: str) -> str:
    info = kind.fields_model.model_fields[name]
    text = kind.describe(name)
    allowed = choices(info.annotation, info.metadata)
    if allowed:
        text += f": {', '.join(allowed)}"
    if name in kind.refs or name in kind.links:
        text += (
            " (id, external id or name"
            + (", or a country" if kind.ref_target(name) == "actors" else "")
            + ")"
        )
    if name in kind.links or typing.get_origin(info.annotation) is list:
        text += "; repeatable"
    return text + "."


def _is_list(kind: RecordType, name: str) -> bool:
    return name in kind.links or name in kind.list_fields


def _param(kind: RecordType, name: str, *, for_add: bool) -> inspect.Parameter:
    """The typer parameter of one field: the title is positional on ``add``; fields the
    model requires are required on ``add``; every other option is optional."""
    info = kind.fields_model.model_fields.get(name)
    required = for_add and info is not None and info.is_required()
    many = _is_list(kind, name)
    pytype: Any = list[str] if many else str
    if for_add and name == kind.title_field:
        marker: Any = typer.Argument(help=_help(kind, name), show_default=False)
    else:
        help_text = (
            _help(kind, name)
            if info is not None
            else {
                "external_id": "Your own key for this record (used to match re-imports).",
                "marking": "Marking banner, e.g. 'UNCLASSIFIED//TLP:CLEAR' or 'SECRET//REL TO USA, GBR'.",
            }[name]
        )
        marker = typer.Option(_flag(kind, name), help=help_text, show_default=False)
        if not required:
            pytype = pytype | None
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[pytype, marker],
        default=inspect.Parameter.empty if required or (for_add and name == kind.title_field) else None,
    )


def _params(kind: RecordType, *, for_add: bool) -> list[inspect.Parameter]:
    params = [_param(kind, n, for_add=for_add) for n in (*kind.fields, "external_id", "marking")]
    return sorted(params, key=lambda p: p.default is not inspect.Parameter.empty)


def _values(store: Store, kind: RecordType, given: dict[str, Any]) -> dict[str, Any]:
    """The given options as field values, references resolved to ids."""
    values: dict[str, Any] = {}
    for name, value in given.items():
        if value is None or value == []:
            continue
        target = kind.ref_target(name)
        if target and name in kind.links:
            value = [store.resolve_ref(target, v, field=_flag(kind, name)) for v in value]
        elif target:
            value = store.resolve_ref(target, value, field=_flag(kind, name))
        values[name] = value
    return values


def _show(record: Any, kind: RecordType) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold cyan")
    table.add_column()
    data = record.model_dump(mode="json")
    for key in kind.columns:
        value = data.get(key)
        if isinstance(value, list):
            value = ", ".join(value) or "-"
        table.add_row(key, "-" if value in (None, "") else str(value))
    if getattr(record, "overdue", False):
        table.add_row("overdue", "[red]yes[/red]")
    console.print(table)


def _print_json(records: list[Any]) -> None:
    for row in records:
        console.print(
            json.dumps(row.model_dump(mode="json"), ensure_ascii=False), soft_wrap=True, highlight=False
        )


def _signature(*params: inspect.Parameter) -> inspect.Signature:
    ctx = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
    return inspect.Signature([ctx, *params])


def _record_arg(kind: RecordType) -> inspect.Parameter:
    return inspect.Parameter(
        "record",
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        annotation=Annotated[
            str, typer.Argument(help=f"The {kind.singular}: id, external id or {kind.title_field}.")
        ],
    )


def _version_opt(required: bool = True) -> inspect.Parameter:
    help_text = "The version you last read (from `show`); refused if someone changed it since."
    return inspect.Parameter(
        "version",
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[int if required else int | None, typer.Option("--version", help=help_text)],
        default=inspect.Parameter.empty if required else None,
    )


def _add_writes(group: typer.Typer, kind: RecordType) -> None:
    def add(ctx: typer.Context, **given: Any) -> None:
        with open_registry(ctx) as (_, store):
            record = store.create(kind.name, _values(store, kind, given))
        console.print(f"[green]added[/green] {kind.singular} {record.id} (version {record.version})")
        _show(record, kind)

    add.__signature__ = _signature(*_params(kind, for_add=True))  # type: ignore[attr-defined]
    add.__doc__ = f"Add {_a(kind.singular)}: {kind.description}"
    group.command("add")(add)

    def edit(ctx: typer.Context, record: str, version: int, **given: Any) -> None:
        with open_registry(ctx) as (_, store):
            record_id = store.resolve_ref(kind.name, record)
            changes = _values(store, kind, given)
            if not changes:
                raise typer.BadParameter("name at least one field to change")
            updated = store.update(kind.name, record_id, changes, expected_version=version)
        console.print(f"[green]updated[/green] {kind.singular} {updated.id} (now version {updated.version})")
        _show(updated, kind)

    edit.__signature__ = _signature(_record_arg(kind), _version_opt(), *_params(kind, for_add=False))  # type: ignore[attr-defined]
    edit.__doc__ = (
        f"Change fields of {_a(kind.singular)}: only the options given change; "
        "--version guards against overwriting someone else's edit."
    )
    group.command("edit")(edit)
    group.command("update", hidden=True)(edit)  # the name earlier releases used

    def delete(
        ctx: typer.Context,
        record: Annotated[str, typer.Argument(help=f"The {kind.singular}: id or external id.")],
        version: Annotated[int | None, typer.Option(help="Only if still at this version.")] = None,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    ) -> None:
        with open_registry(ctx) as (_, store):
            record_id = store.resolve_ref(kind.name, record)
            label = getattr(store.get(kind.name, record_id), kind.title_field)
            if not yes and not typer.confirm(f"Delete {kind.singular} {label!r} ({record_id})?"):
                raise typer.Abort()
            store.delete(kind.name, record_id, expected_version=version)
        console.print(f"[green]deleted[/green] {kind.singular} {record_id}")

    delete.__doc__ = f"Delete {_a(kind.singular)} (refused while other records refer to it)."
    group.command("delete")(delete)


def _add_lifecycle(group: typer.Typer, kind: RecordType) -> None:
    assert kind.lifecycle is not None
    status_field, cycle = kind.lifecycle

    def advance(
        ctx: typer.Context,
        record: Annotated[
            str, typer.Argument(help=f"The {kind.singular}: id, external id or {kind.title_field}.")
        ],
        to: Annotated[str, typer.Argument(help=f"New status: {', '.join(cycle.statuses)}.")],
        version: Annotated[int, typer.Option(help="The version you last read.")],
    ) -> None:
        with open_registry(ctx) as (_, store):
            record_id = store.resolve_ref(kind.name, record)
            updated = store.update(kind.name, record_id, {status_field: to}, expected_version=version)
        console.print(
            f"[green]{kind.singular} {updated.id}[/green] is now "
            f"[bold]{getattr(updated, status_field)}[/bold] (version {updated.version})"
        )

    advance.__doc__ = f"Move {_a(kind.singular)} along its lifecycle ({', '.join(cycle.statuses)})."
    group.command("advance")(advance)
    if cycle.withdraw is None:
        return

    def withdraw(
        ctx: typer.Context,
        record: Annotated[
            str, typer.Argument(help=f"The {kind.singular}: id, external id or {kind.title_field}.")
        ],
        version: Annotated[int, typer.Option(help="The version you last read.")],
    ) -> None:
        with open_registry(ctx) as (_, store):
            updated = store.withdraw(
                kind.name, store.resolve_ref(kind.name, record), expected_version=version
            )
        console.print(f"[green]withdrawn[/green]: {kind.singular} {updated.id} is now {cycle.withdraw}")

    withdraw.__doc__ = f"Withdraw {_a(kind.singular)}: it becomes {cycle.withdraw} and stays on file."
    group.command("withdraw")(withdraw)


def _add_reads(group: typer.Typer, kind: RecordType) -> None:
    def show(
        ctx: typer.Context,
        record: Annotated[
            str, typer.Argument(help=f"The {kind.singular}: id, external id or {kind.title_field}.")
        ],
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON (as the API returns it).")] = False,
    ) -> None:
        with open_registry(ctx) as (_, store):
            found = store.get(kind.name, store.resolve_ref(kind.name, record))
        if as_json:
            _print_json([found])
        else:
            _show(found, kind)

    show.__doc__ = f"Show one {kind.singular} with every field, its marking and version."
    group.command("show")(show)
    group.command("list")(_lister(kind))

    def history(
        ctx: typer.Context,
        record: Annotated[
            str, typer.Argument(help=f"The {kind.singular}: id, external id or {kind.title_field}.")
        ],
    ) -> None:
        with open_registry(ctx) as (_, store):
            changes = store.history(kind.name, store.resolve_ref(kind.name, record))
        table = Table("when", "who", "what", "version", "fields", title=f"history of the {kind.singular}")
        for change in changes:
            table.add_row(
                f"{change.at:%Y-%m-%d %H:%M}", change.actor, change.action, str(change.version or ""),
                ", ".join(change.fields),
            )  # fmt: skip
        console.print(table)

    history.__doc__ = f"Each change of {_a(kind.singular)}: who, when, which fields (from the audit trail)."
    group.command("history")(history)


def _summary(kind: RecordType) -> list[str]:
    """The columns of ``list``: the title, kind, status and date, then other plain fields."""
    plain = [f for f in kind.fields if f not in (*kind.refs, *kind.links, *kind.list_fields, "notes")]
    status = kind.lifecycle[0] if kind.lifecycle else None
    preferred = [kind.title_field, "kind", status, kind.date_field]
    ordered = [f for f in preferred if f in plain] + [f for f in plain if f not in preferred]
    return ["id", *list(dict.fromkeys(ordered))[:LIST_COLUMNS], "marking", "version"]


def _lister(kind: RecordType) -> Callable[..., None]:
    def list_(
        ctx: typer.Context,
        search: Annotated[
            str | None, typer.Option("--search", "-s", help=f"Text in the {kind.title_field}.")
        ] = None,
        where: Annotated[
            list[str] | None,
            typer.Option("--where", help=f"FIELD=VALUE, one of {', '.join(kind.filters)} (repeatable)."),
        ] = None,
        involving: Annotated[
            str | None, typer.Option(help="Only records involving this actor (id, name or country).")
        ] = None,
        date_from: Annotated[str | None, typer.Option("--from", help="From this date (YYYY-MM-DD).")] = None,
        date_to: Annotated[str | None, typer.Option("--to", help="To this date (YYYY-MM-DD).")] = None,
        sort: Annotated[str | None, typer.Option(help="Sort by this field.")] = None,
        desc: Annotated[bool, typer.Option("--desc", help="Sort descending.")] = False,
        limit: Annotated[int, typer.Option(help="At most this many rows.")] = 50,
        offset: Annotated[int, typer.Option(help="Skip this many rows.")] = 0,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print JSON lines (as the API returns them).")
        ] = False,
        **shortcuts: Any,
    ) -> None:
        filters: dict[str, Any] = {}
        for item in where or []:
            key, _, value = item.partition("=")
            filters[key.strip()] = value.strip()
        for key, value in shortcuts.items():
            if value:
                filters[key] = to_iso3(value) if key.endswith("country") or key.endswith("_state") else value
        with open_registry(ctx) as (_, store):
            query = ListQuery(
                filters=filters,
                search=search,
                involving=store.resolve_ref("actors", involving) if involving else None,
                date_from=_day(date_from, "--from"),
                date_to=_day(date_to, "--to"),
                order_by=sort,
                descending=desc,
                limit=limit,
                offset=offset,
            )
            rows = store.list(kind.name, query)
            total = store.count(kind.name, query)
        if as_json:
            _print_json(rows)
            return
        columns = _summary(kind)
        table = Table(title=f"{kind.name}: {len(rows)} of {total}")
        for c in columns:
            table.add_column(c, overflow="fold", max_width=40 if c != "id" else 8)
        for row in rows:
            data = row.model_dump(mode="json")
            table.add_row(*("" if data.get(c) is None else str(data.get(c)) for c in columns))
        console.print(table)

    base = list(inspect.signature(list_).parameters.values())[:-1]
    shortcuts = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                str | None, typer.Option(_flag(kind, name), help=f"Only this {kind.describe(name).lower()}.")
            ],
            default=None,
        )
        for name in kind.filters
        if name in ("kind", "status", "country", "location_country", "outcome", "receiving_state")
    ]
    list_.__signature__ = inspect.Signature([*base, *shortcuts])  # type: ignore[attr-defined]
    list_.__doc__ = f"List {kind.name}: filter, search, sort and page; --json for scripts."
    return list_


def _day(value: str | None, flag: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=flag) from None


def _group(kind: RecordType) -> typer.Typer:
    verbs = "list, show, add, edit, history, delete" + (
        ", advance" + (", withdraw" if kind.withdraw_status else "") if kind.lifecycle else ""
    )
    group = typer.Typer(help=f"{kind.description} ({verbs})", no_args_is_help=True)
    _add_reads(group, kind)
    _add_writes(group, kind)
    if kind.lifecycle:
        _add_lifecycle(group, kind)
    return group


def register(app: typer.Typer, only: str | None = None) -> None:
    """A command group for every registered record type, or for the one whose command is
    ``only`` (its slice's ``records`` module alone is imported: ``SLICES`` says which)."""
    if only is None:
        kinds = list(record_types().values())
    else:
        importlib.import_module(f"detente.{SLICES[only]}.records")  # registers that slice's types
        kinds = [record_type(only)]
    for kind in kinds:
        app.add_typer(_group(kind), name=command_name(kind), help=kind.description)
