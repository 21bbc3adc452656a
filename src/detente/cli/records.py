"""``detente actors|people|agreements|engagements|commitments ...``: one command
group per registry table, built from one description of each table's options.

Commands parse options, call one registry service, and render the result.
"""

import inspect
import json
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from detente.cli.context import console, open_registry
from detente.registry.resources import Resource, resource
from detente.registry.service import ListQuery, Registry
from detente.registry.taxonomy import taxonomy

__all__ = ["register"]


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def _choices(group: str) -> str:
    return ", ".join(getattr(taxonomy(), group))


def _statuses(cycle: str) -> str:
    return ", ".join(taxonomy().lifecycles[cycle].statuses)


@dataclass(frozen=True)
class Opt:
    name: str  # model field
    flag: str  # --option
    help: str
    kind: str = "text"  # text | int | list | ref | reflist
    required: bool = False  # on add
    argument: bool = False  # positional on add


def _specs() -> dict[str, list[Opt]]:
    common = [
        Opt(
            "external_id",
            "--external-id",
            "Your own key for this record (used to match re-imports).",
        ),
        Opt(
            "marking",
            "--marking",
            "Marking banner, e.g. 'UNCLASSIFIED' or 'SECRET//REL TO USA, GBR'.",
        ),
    ]
    return {
        "actors": [
            Opt(
                "name",
                "--name",
                "Name, e.g. 'Ministry of Defence of Ghana'.",
                required=True,
                argument=True,
            ),
            Opt("kind", "--kind", f"Kind of actor: {_choices('actor_kinds')}.", required=True),
            Opt("country", "--country", "Country (name in any common language, ISO or COW code)."),
            Opt("abbreviation", "--abbreviation", "Short name, e.g. 'MoD', 'ADMM-Plus'."),
            Opt("parent_id", "--parent", "Parent actor (id, external id or name).", kind="ref"),
            Opt("aliases", "--alias", "Another name it is known by (repeatable).", kind="list"),
            Opt("notes", "--notes", "Free-text notes."),
            *common,
        ],
        "people": [
            Opt("name", "--name", "Full name.", required=True, argument=True),
            Opt(
                "sending_state",
                "--sending",
                "Sending state (the officer's country).",
                required=True,
            ),
            Opt("receiving_state", "--receiving", "Receiving (host) state.", required=True),
            Opt("role", "--role", f"Role: {_choices('person_roles')}."),
            Opt("rank", "--rank", "Rank, e.g. 'Colonel'."),
            Opt("post", "--post", "Post, e.g. 'Embassy in Nairobi'."),
            Opt("organisation_id", "--organisation", "Actor they serve in (id or name).", kind="ref"),
            Opt(
                "accreditation_status",
                "--status",
                f"Accreditation status: {_statuses('accreditation')}.",
            ),
            Opt("immunity_basis", "--immunity", f"Immunity basis: {_choices('immunity_bases')}."),
            Opt("start_date", "--start", "Date accredited or arrived (YYYY-MM-DD)."),
            Opt("end_date", "--end", "Date departed (YYYY-MM-DD)."),
            Opt("notes", "--notes", "Free-text notes."),
            *common,
        ],
        "agreements": [
            Opt("title", "--title", "Title of the agreement.", required=True, argument=True),
            Opt("kind", "--kind", f"Kind: {_choices('agreement_kinds')}.", required=True),
            Opt(
                "parties",
                "--party",
                "A party (actor id, name or country; repeat, at least two).",
                kind="reflist",
                required=True,
            ),
            Opt("signed_on", "--signed", "Date signed (YYYY-MM-DD)."),
            Opt("in_force_on", "--in-force", "Date it entered into force."),
            Opt("expires_on", "--expires", "Date it expires."),
            Opt("terminated_on", "--terminated", "Date it was terminated."),
            Opt("activity_types", "--covers", "Engagement kind it covers (repeatable).", kind="list"),
            Opt("notes", "--notes", "Free-text notes."),
            *common,
        ],
        "engagements": [
            Opt(
                "title",
                "--title",
                "Title, e.g. 'Exercise Blue Horizon 2025'.",
                required=True,
                argument=True,
            ),
            Opt("kind", "--kind", f"Kind: {_choices('engagement_kinds')}.", required=True),
            Opt(
                "lead_actor_id",
                "--lead",
                "Leading actor (id, name or country).",
                kind="ref",
                required=True,
            ),
            Opt("partners", "--partner", "Partner actor (repeatable).", kind="reflist"),
            Opt("start_date", "--start", "Start date (YYYY-MM-DD).", required=True),
            Opt("end_date", "--end", "End date (YYYY-MM-DD)."),
            Opt("status", "--status", f"Lifecycle status: {_statuses('engagement')}."),
            Opt("agreement_id", "--agreement", "Agreement it is conducted under.", kind="ref"),
            Opt("location_country", "--country", "Country where it takes place."),
            Opt("location_place", "--place", "Place, e.g. 'Port of Mombasa'."),
            Opt("troops", "--troops", "Number of troops taking part.", kind="int"),
            Opt("tanks", "--tanks", "Battle tanks.", kind="int"),
            Opt("armoured_combat_vehicles", "--acv", "Armoured combat vehicles.", kind="int"),
            Opt("artillery", "--artillery", "Artillery pieces (100 mm and above).", kind="int"),
            Opt(
                "aircraft_sorties",
                "--sorties",
                "Aircraft sorties (excluding helicopters).",
                kind="int",
            ),
            Opt(
                "amphibious_airborne_troops",
                "--amphibious-troops",
                "Troops in an amphibious landing or parachute assault.",
                kind="int",
            ),
            Opt("people", "--person", "A person taking part (attaché, leader; repeatable).", kind="reflist"),
            Opt("host_consent_on", "--host-consent", "Date the host nation's consent was recorded."),
            Opt("host_consent_reference", "--host-consent-ref", "Its reference, e.g. a note verbale."),
            Opt("vd_notified_on", "--vd-notified", "Date the Vienna Document notification was sent."),
            Opt("vd_calendar_on", "--vd-calendar", "Date it was listed in the annual calendar exchanged."),
            Opt("cost", "--cost", "Cost, e.g. 125000.00."),
            Opt("currency", "--currency", "ISO 4217 currency of the cost, e.g. EUR."),
            Opt("objectives", "--objectives", "What the engagement is meant to achieve."),
            Opt("notes", "--notes", "Free-text notes."),
            *common,
        ],
        "commitments": [
            Opt("description", "--description", "What was promised.", required=True, argument=True),
            Opt(
                "engagement_id",
                "--engagement",
                "Engagement where it was made (id or title).",
                kind="ref",
                required=True,
            ),
            Opt(
                "committed_by_id",
                "--by",
                "Actor who made it (id, name or country).",
                kind="ref",
                required=True,
            ),
            Opt("due_on", "--due", "Due date (YYYY-MM-DD)."),
            Opt("status", "--status", f"Status: {_statuses('commitment')}."),
            Opt("notes", "--notes", "Free-text notes."),
            *common,
        ],
        **_assessment_specs(common),
    }


def _assessment_specs(common: list[Opt]) -> dict[str, list[Opt]]:
    """Initiatives to lessons learned (assessment, monitoring and evaluation)."""
    notes = Opt("notes", "--notes", "Free-text notes.")
    logic = [
        Opt(field, f"--{field}", f"Logic model: {what}.")
        for field, what in (
            ("inputs", "what goes in (people, money, equipment)"),
            ("activities", "what is done"),
            ("outputs", "what the activities produce"),
            ("outcomes", "what should change for the partner"),
            ("assumptions", "what must hold for the chain to work"),
        )
    ]
    return {
        "initiatives": [
            Opt("title", "--title", "Title of the programme.", required=True, argument=True),
            Opt("partner_country", "--partner", "Partner country."),
            Opt("region", "--region", "Region, e.g. 'Gulf of Guinea' (a partner or a region is needed)."),
            Opt("lead_actor_id", "--lead", "Leading actor (id, name or country).", kind="ref"),
            Opt("status", "--status", f"Status: {_statuses('initiative')}."),
            Opt("start_date", "--start", "Start date (YYYY-MM-DD)."),
            Opt("end_date", "--end", "End date (YYYY-MM-DD)."),
            Opt("description", "--description", "What the initiative is for."),
            notes,
            *common,
        ],
        "objectives": [
            Opt("title", "--title", "What the objective aims at.", required=True, argument=True),
            Opt("initiative_id", "--initiative", "Its initiative (id or title).", kind="ref", required=True),
            Opt("line_of_effort", "--line", f"Line of effort: {_choices('lines_of_effort')}.", required=True),
            Opt("partner_country", "--partner", "Partner country."),
            Opt("engagements", "--engagement", "An engagement serving it (repeatable).", kind="reflist"),
            Opt("agreements", "--agreement", "An agreement serving it (repeatable).", kind="reflist"),
            *logic,
            notes,
            *common,
        ],
        "indicators": [
            Opt("name", "--name", "What is measured.", required=True, argument=True),
            Opt("objective_id", "--objective", "Its objective (id or title).", kind="ref", required=True),
            Opt("unit", "--unit", "Unit, e.g. 'companies', 'percent'.", required=True),
            Opt("baseline_value", "--baseline", "Baseline value.", required=True),
            Opt("baseline_date", "--baseline-date", "Date of the baseline (YYYY-MM-DD).", required=True),
            Opt("target_value", "--target", "Target value.", required=True),
            Opt("target_date", "--target-date", "Date the target is due (YYYY-MM-DD).", required=True),
            Opt("higher_is_better", "--higher-is-better", "true or false: needed when target = baseline."),
            Opt("frequency", "--frequency", f"How often observed: {_choices('indicator_frequencies')}."),
            Opt("definition", "--definition", "How it is measured."),
            Opt("data_source", "--source", "Where the values come from."),
            Opt("owner", "--owner", "Who reports it."),
            Opt("computed_from", "--computed-from", "A metric, e.g. completed_exercises:KEN (see README)."),
            notes,
            *common,
        ],
        "observations": [
            Opt("indicator_id", "--indicator", "Its indicator (id or name).", kind="ref", required=True),
            Opt("value", "--value", "Value observed.", required=True),
            Opt("observed_on", "--on", "Date observed (YYYY-MM-DD).", required=True),
            Opt("source", "--source", "Where the value comes from."),
            Opt("confidence", "--confidence", f"Confidence: {_choices('confidence_levels')}."),
            notes,
            *common,
        ],
        "evaluations": [
            Opt("title", "--title", "Title of the evaluation.", required=True, argument=True),
            Opt("initiative_id", "--initiative", "Its initiative (id or title).", kind="ref", required=True),
            Opt("objective_id", "--objective", "The objective it looks at, if one.", kind="ref"),
            Opt("kind", "--kind", f"Kind: {_choices('evaluation_kinds')}.", required=True),
            Opt("independence", "--independence", f"Independence: {_choices('evaluation_independence')}."),
            Opt("conducted_on", "--on", "Date completed (YYYY-MM-DD).", required=True),
            Opt("evaluator", "--evaluator", "Who evaluated."),
            Opt("questions", "--questions", "The evaluation questions."),
            Opt("findings", "--findings", "What it found."),
            Opt("rating", "--rating", f"Rating: {_choices('evaluation_ratings')}."),
            notes,
            *common,
        ],
        "calendar_entries": [
            Opt("title", "--title", "What it is, e.g. 'Independence Day'.", required=True, argument=True),
            Opt("country", "--country", "Country whose calendar it is.", required=True),
            Opt("kind", "--kind", f"Kind: {_choices('calendar_kinds')}.", required=True),
            Opt("start_date", "--start", "First day (YYYY-MM-DD).", required=True),
            Opt("end_date", "--end", "Last day, if more than one."),
            notes,
            *common,
        ],
        "lessons": [
            Opt("title", "--title", "The lesson in a line.", required=True, argument=True),
            Opt("observation", "--observation", "What was observed.", required=True),
            Opt("recommendation", "--recommendation", "What to do about it."),
            Opt("initiative_id", "--initiative", "Its initiative (id or title).", kind="ref"),
            Opt("evaluation_id", "--evaluation", "The evaluation it came from.", kind="ref"),
            Opt("status", "--status", f"Status: {_statuses('lesson')}."),
            Opt("identified_on", "--on", "Date identified (YYYY-MM-DD)."),
            Opt("owner", "--owner", "Who acts on it."),
            Opt("engagements", "--engagement", "A future engagement it shapes (repeatable).", kind="reflist"),
            notes,
            *common,
        ],
    }


def _param(opt: Opt, *, for_add: bool) -> inspect.Parameter:
    pytype: Any = {"int": int | None, "list": list[str] | None, "reflist": list[str] | None}.get(
        opt.kind, str | None
    )
    if for_add and opt.argument:
        marker: Any = typer.Argument(help=opt.help, show_default=False)
        pytype = str
    else:
        marker = typer.Option(opt.flag, help=opt.help, show_default=False)
    required = for_add and (opt.argument or opt.required)
    if required and not opt.argument:
        pytype = {"list": list[str], "reflist": list[str], "int": int}.get(opt.kind, str)
    return inspect.Parameter(
        opt.name,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[pytype, marker],
        default=inspect.Parameter.empty if required else None,
    )


def _values(reg: Registry, res: Resource, opts: list[Opt], given: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for opt in opts:
        value = given.get(opt.name)
        if value is None or value == []:
            continue
        if opt.kind == "ref":
            value = reg.resolve_ref(res.refs[opt.name], value, field=opt.flag)
        elif opt.kind == "reflist":
            value = [reg.resolve_ref(res.ref_target(opt.name) or "actors", v, field=opt.flag) for v in value]
        values[opt.name] = value
    return values


def _show(record: Any, res: Resource) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold cyan")
    table.add_column()
    data = record.model_dump(mode="json")
    for key in res.columns:
        value = data.get(key)
        if isinstance(value, list):
            value = ", ".join(value) or "-"
        table.add_row(key, "-" if value in (None, "") else str(value))
    if getattr(record, "overdue", False):
        table.add_row("overdue", "[red]yes[/red]")
    console.print(table)


def _summary_columns(res: Resource) -> list[str]:
    by_table = {
        "actors": ["name", "kind", "country", "abbreviation"],
        "people": ["name", "role", "sending_state", "receiving_state", "accreditation_status"],
        "agreements": ["title", "kind", "signed_on", "expires_on"],
        "engagements": ["title", "kind", "status", "start_date", "location_country"],
        "commitments": ["description", "due_on", "status"],
        "initiatives": ["title", "partner_country", "region", "status", "start_date"],
        "objectives": ["title", "line_of_effort", "partner_country"],
        "indicators": ["name", "unit", "baseline_value", "target_value", "target_date", "frequency"],
        "observations": ["indicator_id", "value", "observed_on", "confidence"],
        "evaluations": ["title", "kind", "conducted_on", "rating"],
        "lessons": ["title", "status", "identified_on"],
        "calendar_entries": ["title", "country", "kind", "start_date", "end_date"],
    }
    return ["id", *by_table[res.name], "marking", "version"]


def _make_group(name: str, opts: list[Opt]) -> typer.Typer:
    res = resource(name)
    group = typer.Typer(help=f"Add, list, show, update and delete {res.name}.", no_args_is_help=True)

    def add(ctx: typer.Context, **given: Any) -> None:
        with open_registry(ctx) as (_, reg):
            record = reg.create(res.name, _values(reg, res, opts, given))
        console.print(f"[green]added[/green] {res.singular} {record.id} (version {record.version})")
        _show(record, res)

    add.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
            *sorted(
                (_param(o, for_add=True) for o in opts),
                key=lambda p: p.default is not inspect.Parameter.empty,
            ),
        ]
    )
    add.__doc__ = (
        f"Add {_a(res.singular)}. Required: "
        + ", ".join(o.flag if not o.argument else o.name.upper() for o in opts if o.required)
        + "."
    )
    group.command("add")(add)

    def update(ctx: typer.Context, record: str, version: int, **given: Any) -> None:
        with open_registry(ctx) as (_, reg):
            record_id = reg.resolve_ref(res.name, record)
            changes = _values(reg, res, opts, given)
            if not changes:
                raise typer.BadParameter("name at least one field to change")
            updated = reg.update(res.name, record_id, changes, expected_version=version)
        console.print(f"[green]updated[/green] {res.singular} {updated.id} (now version {updated.version})")
        _show(updated, res)

    update.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
            inspect.Parameter(
                "record",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=Annotated[
                    str,
                    typer.Argument(help=f"The {res.singular}: id, external id or {res.title_field}."),
                ],
            ),
            inspect.Parameter(
                "version",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[
                    int,
                    typer.Option(
                        "--version",
                        help="The version you last read (from `show`); refused if someone changed it since.",
                    ),
                ],
            ),
            *(_param(o, for_add=False) for o in opts),
        ]
    )
    update.__doc__ = (
        f"Change fields of {_a(res.singular)}. Only the options given change; "
        "--version guards against overwriting someone else's edit."
    )
    group.command("update")(update)

    @group.command("show")
    def show(
        ctx: typer.Context,
        record: Annotated[
            str, typer.Argument(help=f"The {res.singular}: id, external id or {res.title_field}.")
        ],
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Show one record with every field, its marking and version."""
        with open_registry(ctx) as (_, reg):
            found = reg.get(res.name, reg.resolve_ref(res.name, record))
        if as_json:
            console.print_json(found.model_dump_json())
        else:
            _show(found, res)

    show.__doc__ = f"Show one {res.singular} with every field, its marking and version."

    @group.command("list")
    def list_(
        ctx: typer.Context,
        kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
        status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
        country: Annotated[str | None, typer.Option(help="Only this country.")] = None,
        involving: Annotated[
            str | None,
            typer.Option(help="Only records involving this actor (id, name or country)."),
        ] = None,
        search: Annotated[
            str | None, typer.Option("--search", "-s", help=f"Text in the {res.title_field}.")
        ] = None,
        date_from: Annotated[str | None, typer.Option("--from", help="From date.")] = None,
        date_to: Annotated[str | None, typer.Option("--to", help="To date.")] = None,
        sort: Annotated[str | None, typer.Option(help="Sort by this field.")] = None,
        desc: Annotated[bool, typer.Option("--desc", help="Sort descending.")] = False,
        limit: Annotated[int, typer.Option(help="At most this many rows.")] = 50,
        offset: Annotated[int, typer.Option(help="Skip this many rows.")] = 0,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    ) -> None:
        """List records, filtered and sorted."""
        from detente.registry.fields import to_iso3

        filters: dict[str, Any] = {}
        if kind:
            filters["kind"] = kind
        if status:
            filters[res.lifecycle[0] if res.lifecycle else "status"] = status
        if country:
            column = {"engagements": "location_country", "people": "receiving_state"}.get(res.name, "country")
            try:
                filters[column] = to_iso3(country)
            except ValueError as exc:
                raise typer.BadParameter(str(exc), param_hint="--country") from None
        with open_registry(ctx) as (_, reg):
            query = ListQuery(
                filters=filters,
                search=search,
                involving=reg.resolve_ref("actors", involving) if involving else None,
                date_from=date.fromisoformat(date_from) if date_from else None,
                date_to=date.fromisoformat(date_to) if date_to else None,
                order_by=sort,
                descending=desc,
                limit=limit,
                offset=offset,
            )
            rows = reg.list(res.name, query)
            total = reg.count(res.name, query)
        if as_json:
            for row in rows:
                console.print(
                    json.dumps(row.model_dump(mode="json"), ensure_ascii=False),
                    soft_wrap=True,
                    highlight=False,
                )
            return
        columns = _summary_columns(res)
        table = Table(title=f"{res.name}: {len(rows)} of {total}")
        for c in columns:
            table.add_column(c, overflow="fold", max_width=40 if c != "id" else 8)
        for row in rows:
            data = row.model_dump(mode="json")
            table.add_row(*("" if data.get(c) is None else str(data.get(c)) for c in columns))
        console.print(table)

    list_.__doc__ = f"List {res.name}: filter, search, sort and page; --json for scripts."

    @group.command("delete")
    def delete(
        ctx: typer.Context,
        record: Annotated[str, typer.Argument(help=f"The {res.singular}: id or external id.")],
        version: Annotated[int | None, typer.Option(help="Only if still at this version.")] = None,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    ) -> None:
        """Delete a record (refused while other records refer to it)."""
        with open_registry(ctx) as (_, reg):
            record_id = reg.resolve_ref(res.name, record)
            found = reg.get(res.name, record_id)
            label = getattr(found, res.title_field)
            if not yes and not typer.confirm(f"Delete {res.singular} {label!r} ({record_id})?"):
                raise typer.Abort()
            reg.delete(res.name, record_id, expected_version=version)
        console.print(f"[green]deleted[/green] {res.singular} {record_id}")

    delete.__doc__ = f"Delete {_a(res.singular)} (refused while other records refer to it)."

    if res.lifecycle:
        status_field, cycle = res.lifecycle
        _add_advance(group, res, status_field, cycle)
    return group


def _add_advance(group: typer.Typer, res: Resource, status_field: str, cycle: str) -> None:
    statuses = _statuses(cycle)

    def advance(
        ctx: typer.Context,
        record: Annotated[str, typer.Argument(help=f"The {res.singular}: id or external id.")],
        to: Annotated[str, typer.Argument(help=f"New status: {statuses}.")],
        version: Annotated[int, typer.Option(help="The version you last read.")],
    ) -> None:
        with open_registry(ctx) as (_, reg):
            record_id = reg.resolve_ref(res.name, record)
            updated = reg.update(res.name, record_id, {status_field: to}, expected_version=version)
        console.print(
            f"[green]{res.singular} {updated.id}[/green] is now "
            f"[bold]{getattr(updated, status_field)}[/bold] (version {updated.version})"
        )

    advance.__doc__ = f"Move a {res.singular} along its lifecycle ({statuses}); illegal moves are refused."
    group.command("advance")(advance)


def register(app: typer.Typer) -> None:
    helps: dict[str, str] = {
        "actors": "States, ministries, armed services and units, organisations, non-state actors.",
        "people": "Attachés and liaison officers: posts, accreditation and immunity.",
        "agreements": "Defense cooperation agreements, SOFAs, MOUs, treaties, mandates.",
        "engagements": "Exercises, visits, dialogues, training, port calls... and their lifecycle.",
        "commitments": "Promises made in engagements, tracked to their due dates.",
        "initiatives": "Assessment: programmes of engagements with a partner or a region.",
        "objectives": "Assessment: an initiative's objectives, their logic model and what serves them.",
        "indicators": "Assessment: how an objective is measured (baseline, target, frequency).",
        "observations": "Assessment: an indicator's values over time.",
        "evaluations": "Assessment: evaluations of an initiative (kind, independence, findings, rating).",
        "lessons": "Assessment: lessons learned and the engagements they shape.",
        "calendar_entries": "Planning: partners' holidays, election periods and other times to avoid.",
    }
    for name, opts in _specs().items():
        command = {"calendar_entries": "calendar"}.get(name, name)
        app.add_typer(_make_group(name, opts), name=command, help=helps[name])
