"""``detente relations``: dyad panels, the military cooperation index, UN alignment and the
defense-cooperation network, from the context lake and (for a signed-in user) the
registry records that user may read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from detente.cli.context import acting, console, err_console, settings_from
from detente.core.errors import ValidationError
from detente.core.workspace import open_workspace

__all__ = ["register"]

app = typer.Typer(
    help="Partner relations: dyad panels, cooperation index, alignment and the defense network.",
    no_args_is_help=True,
)


def _years(text: str | None) -> tuple[int | None, int | None]:
    if not text:
        return None, None
    first, _, last = text.partition("-")
    try:
        return int(first), int(last or first)
    except ValueError:
        raise ValidationError(f"--years {text!r}: give YEAR or FIRST-LAST, e.g. 1990-2010") from None


@app.command()
def dyads(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Write the panel here: .parquet or .csv.")],
    system: Annotated[str, typer.Option(help="State system: cow or gw.")] = "cow",
    years: Annotated[
        str | None, typer.Option(help="YEAR or FIRST-LAST (default: all the system has).")
    ] = None,
    undirected: Annotated[bool, typer.Option(help="One row per pair (code1 < code2).")] = False,
    monthly: Annotated[
        bool, typer.Option(help="Dyad-months with the military cooperation index and its parts.")
    ] = False,
    add: Annotated[
        list[str] | None,
        typer.Option(
            help="Join a lake source: atop, cow_alliance, dcad, exercises, unga_ideal, events, sipri; "
            "or registry (your engagements and agreements: needs a login)."
        ),
    ] = None,
) -> None:
    """Dyad-years of the COW or GW system (no dyad with a state that did not exist), with
    sources added; outside a source's years its columns are missing, not zero."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from detente.relations.panel import dyad_years

    first, last = _years(years)
    additions = tuple(a for a in add or () if a != "registry")
    with _lake(ctx, need_user="registry" in (add or ())) as (lake, reg, _coalitions):
        activity = None
        if reg is not None and "registry" in (add or ()):
            from detente.relations.index import registry_activity

            lo, hi = first or 1816, last or date.today().year
            activity = registry_activity(reg, date(lo, 1, 1), date(hi, 12, 31))
        if monthly:
            from detente.relations.panel import dyad_month_panel

            if additions:
                raise ValidationError("--monthly takes no --add: join yearly sources to the dyad-year panel")
            table = dyad_month_panel(
                lake, system.lower(), first, last, directed=not undirected, registry=activity
            )
        else:
            table = dyad_years(
                lake,
                system.lower(),
                first,
                last,
                directed=not undirected,
                additions=additions,
                registry=activity,
            )
    if out.suffix == ".parquet":
        pq.write_table(table, out)
    elif out.suffix == ".csv":
        pacsv.write_csv(table, out)
    else:
        raise ValidationError(f"{out}: write .parquet or .csv")
    span = f"{table.column('year')[0]}-{table.column('year')[-1]}" if table.num_rows else "no years"
    console.print(
        f"{table.num_rows:,} {'undirected' if undirected else 'directed'} {system.upper()} "
        f"dyad-{'months' if monthly else 'years'}, "
        f"{span}, columns: {', '.join(table.column_names)} -> {out}"
    )


@contextmanager
def _lake(ctx: typer.Context, *, need_user: bool = False) -> Iterator[tuple[Any, Any, dict[str, set[str]]]]:
    """The lake, and a registry as the acting user when one is signed in (else None: the
    answer then comes from open data alone, and says so)."""
    from detente.core.errors import AuthError
    from detente.sharing.service import Sharing
    from detente.sources.lake import Lake
    from detente.store.service import Store

    settings = settings_from(ctx)
    working = err_console.status("reading the lake and computing the answer", spinner="dots")
    with working, open_workspace(settings) as ws, Lake(ws.path) as lake, ws.session() as session:
        sharing = Sharing(session)
        try:
            reg: Any = Store(session, acting(ctx, ws, sharing))
        except AuthError:
            if need_user:
                raise
            reg = None
        # the answer's marking expands coalitions as the API's does (one rule, one banner)
        yield lake, reg, sharing.coalitions()


def _banner(answer: Any, reg: Any, coalitions: dict[str, set[str]]) -> None:
    if reg is None:
        console.print("[dim]open data only (no signed-in user: registry records are not counted)[/]")
    else:
        console.print(
            f"marking of this answer: [bold]{answer.marking(coalitions)}[/] (as {reg.principal.user})"
        )


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


@app.command()
def partner(
    ctx: typer.Context,
    country: Annotated[str, typer.Argument(help="ISO 3166 alpha-3 code, e.g. GEO.")],
    year: Annotated[int, typer.Option(help="The year to look at.")] = 2010,
    top: Annotated[int, typer.Option(help="Partners to list.")] = 15,
) -> None:
    """A country's partners ranked (alliances, agreements, exercises, cooperation index,
    your registry), what changed since the year before, and its UN alignment flags."""
    from detente.relations import service

    with _lake(ctx) as (lake, reg, coalitions):
        answer = service.partner(lake, country, year, reg=reg, top=top)
    d = answer.data
    node = d["node"]
    console.print(
        f"[bold]{d['country']} {d['year']}[/]: {node['degree']} partners, strength {node['strength']}, "
        f"hub score {node['eigenvector']:.3f}, broker score {node['betweenness']:.3f}, "
        f"community {node['community'] or '-'}; layers {', '.join(d['layers'])}"
        + (f"; missing {', '.join(f'{k} ({v})' for k, v in d['missing'].items())}" if d["missing"] else "")
    )
    table = Table(
        title=f"Partners of {d['country']} in {d['year']} (change since {d['previous_year'] or '-'})"
    )
    for col in ("rank", "partner", "ties", "layers", "was", "change"):
        table.add_column(col)
    for r in [r for r in d["partners"] if r["rank"]][:top] + [r for r in d["partners"] if not r["rank"]][
        :top
    ]:
        change = r["change"] or ", ".join([*(f"+{x}" for x in r["gained"]), *(f"-{x}" for x in r["lost"])])
        table.add_row(
            _fmt(r["rank"]),
            r["partner"],
            str(r["weight"]),
            ", ".join(r["layers"]),
            _fmt(r["previous_rank"]),
            change,
        )
    console.print(table)
    if d["index"]:
        it = Table(title=f"Military cooperation index, December {d['year']} (0-100)")
        for col in ("pair", "index", "mil. events", "events", "engagements", "agreements"):
            it.add_column(col)
        for r in d["index"][:top]:
            it.add_row(
                f"{r['iso3_1']}-{r['iso3_2']}",
                f"{r['coop_index']:.1f}",
                _fmt(r["mil_events"], 0),
                _fmt(r["events_total"], 0),
                _fmt(r["engagements"], 0),
                _fmt(r["agreements"], 0),
            )
        console.print(it)
    for text in d["flags"][:top]:
        console.print(f"- {text}")
    _banner(answer, reg, coalitions)


@app.command()
def network(
    ctx: typer.Context,
    year: Annotated[int, typer.Option(help="The year of the network.")],
    layer: Annotated[
        list[str] | None,
        typer.Option(help="Layers: alliance, dca, exercise, events, registry (default: all)."),
    ] = None,
    threshold: Annotated[float, typer.Option(help="Cooperation index for an events tie.")] = 5.0,
    top: Annotated[int, typer.Option(help="States to list.")] = 15,
    out: Annotated[Path | None, typer.Option(help="Also write nodes and edges as JSON.")] = None,
) -> None:
    """The defense-cooperation network of a year: hubs, brokers and communities."""
    import json

    from detente.relations import network as net
    from detente.relations import service

    with _lake(ctx) as (lake, reg, coalitions):
        answer = service.network(lake, year, layers=tuple(layer or net.LAYERS), threshold=threshold, reg=reg)
    d = answer.data
    console.print(
        f"[bold]{year}[/]: {len(d['nodes'])} states, {len(d['edges'])} ties; layers {', '.join(d['layers'])}"
        + (f"; missing {', '.join(f'{k} ({v})' for k, v in d['missing'].items())}" if d["missing"] else "")
    )
    table = Table(title="Brokers (betweenness) and hubs (eigenvector)")
    for col in ("state", "degree", "strength", "hub", "broker", "community"):
        table.add_column(col)
    for n in sorted(d["nodes"], key=lambda n: -n["betweenness"])[:top]:
        table.add_row(
            n["id"],
            str(n["degree"]),
            str(n["strength"]),
            f"{n['eigenvector']:.3f}",
            f"{n['betweenness']:.3f}",
            _fmt(n["community"]),
        )
    console.print(table)
    if out:
        out.write_text(json.dumps({**d, "marking": answer.marking(coalitions)}, indent=1, default=str))
        console.print(f"-> {out}")
    _banner(answer, reg, coalitions)


def _month(text: str, end: bool = False) -> date:
    """The first day of YYYY or YYYY-MM, or with ``end`` its last day."""
    import calendar

    try:
        parts = [int(p) for p in text.split("-")]
        y, m = parts[0], parts[1] if len(parts) > 1 else (12 if end else 1)
        return date(y, m, calendar.monthrange(y, m)[1] if end else 1)
    except (ValueError, IndexError):
        raise ValidationError(f"{text!r}: give YYYY or YYYY-MM") from None


@app.command()
def index(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="ISO3 of one country.")],
    b: Annotated[str, typer.Argument(help="ISO3 of the other.")],
    first: Annotated[str, typer.Option("--from", help="YYYY or YYYY-MM.")] = "2014",
    last: Annotated[str, typer.Option("--to", help="YYYY or YYYY-MM.")] = "2014",
) -> None:
    """The pair's military cooperation index per month, with its parts and why it moved."""
    from detente.relations import service

    with _lake(ctx) as (lake, reg, coalitions):
        answer = service.dyad_index(lake, a, b, _month(first), _month(last, end=True), reg=reg)
    d = answer.data
    table = Table(title=f"Military cooperation index {d['a']}-{d['b']} (0-100)")
    for col in ("month", "index", "mil. events", "mil. Goldstein", "events", "engagements", "agreements"):
        table.add_column(col)
    for r in d["months"]:
        table.add_row(
            f"{r['year']}-{r['month']:02d}",
            f"{r['coop_index']:.2f}",
            _fmt(r["mil_events"], 0),
            _fmt(r["mil_goldstein"], 1),
            _fmt(r["events_total"], 0),
            _fmt(r["engagements"], 0),
            _fmt(r["agreements"], 0),
        )
    console.print(table)
    for text in d["moves"]:
        console.print(f"- {text}")
    _banner(answer, reg, coalitions)


@app.command()
def alignment(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="ISO3 of one country.")],
    b: Annotated[str, typer.Argument(help="ISO3 of the other.")],
    years: Annotated[str | None, typer.Option(help="YEAR or FIRST-LAST.")] = None,
) -> None:
    """UN General Assembly vote agreement and ideal-point distance per year, trend and flags."""
    from detente.relations import service

    first, last = _years(years)
    with _lake(ctx) as (lake, _reg, _coalitions):
        answer = service.dyad_alignment(lake, a, b, first, last)
    d = answer.data
    table = Table(title=f"UN alignment {d['a']}-{d['b']}")
    for col in ("year", "votes in common", "agreement", "ideal-point distance"):
        table.add_column(col)
    for r in d["years"]:
        table.add_row(
            str(r["year"]), _fmt(r["votes_common"]), _fmt(r["vote_agreement"]), _fmt(r["ideal_distance"])
        )
    console.print(table)
    console.print(
        f"trend per decade (last ten years): agreement {_fmt(d['trend_agreement_per_decade'], 3)}, "
        f"distance {_fmt(d['trend_distance_per_decade'], 3)}"
    )
    for text in d["flags"]:
        console.print(f"- {text}")


@app.command()
def peacekeeping(
    ctx: typer.Context,
    country: Annotated[str, typer.Argument(help="ISO3 code or name, e.g. KEN.")],
    years: Annotated[str | None, typer.Option(help="YEAR or FIRST-LAST (default: all IPI covers).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The whole answer as JSON.")] = False,
) -> None:
    """A country's UN peacekeeping personnel per year and per mission (IPI Peacekeeping Database):
    monthly averages over the months IPI covers, the peak month and the latest month."""
    import json

    from detente.relations.peacekeeping import contributions

    first, last = _years(years)
    with _lake(ctx) as (lake, reg, coalitions):
        answer = contributions(lake, country, first, last)
    d = answer.data
    if as_json:
        typer.echo(json.dumps({"marking": answer.marking(coalitions), "data": d}, indent=1, default=str))
        return
    if d["source"]:
        console.print(f"IPI Peacekeeping Database ({d['source']['version']}): {d['source']['coverage']}")
    if d["latest"]:
        l_ = d["latest"]
        console.print(
            f"[bold]{d['country']}[/], {l_['date']}: {l_['troops']:,} troops, {l_['police']:,} police, "
            f"{l_['experts']:,} experts on mission ({l_['total']:,} in all)"
        )
    _peacekeeping_tables(d)
    if d["hint"]:
        console.print(d["hint"], highlight=False)
    _banner(answer, reg, coalitions)


def _peacekeeping_tables(d: dict[str, Any]) -> None:
    kinds = ("troops", "police", "experts", "total")
    if d["years"]:
        table = Table(title=f"UN peacekeeping personnel of {d['country']}: monthly average per year")
        for col in ("year", "months", *kinds, "peak"):
            table.add_column(col, justify="right")
        for r in d["years"]:
            table.add_row(
                str(r["year"]), f"{r['months']}/{r['months_covered']}",
                *(f"{r[k]:,.1f}" for k in kinds), f"{r['peak_total']:,}",
            )  # fmt: skip
        console.print(table)
    if d["missions"]:
        table = Table(title=f"Per mission: monthly average per year ({d['country']})")
        for col in ("mission", "host", "year", "months", *kinds, "peak"):
            table.add_column(col, justify="left" if col in ("mission", "host") else "right")
        for r in d["missions"]:
            table.add_row(
                r["mission"], r["mission_iso3"] or "-", str(r["year"]),
                f"{r['months']}/{r['months_covered']}", *(f"{r[k]:,.1f}" for k in kinds),
                f"{r['peak_total']:,}",
            )  # fmt: skip
        console.print(table)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="relations")
