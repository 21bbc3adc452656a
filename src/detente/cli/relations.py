"""``detente relations``: dyad panels from the context lake (more to come: index, alignment,
network)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from detente.cli.context import console, settings_from
from detente.core.errors import ValidationError
from detente.core.workspace import open_workspace

__all__ = ["register"]

app = typer.Typer(help="Partner relations: dyad panels built on the context lake.", no_args_is_help=True)


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
    add: Annotated[
        list[str] | None,
        typer.Option(help="Join a lake source: atop, cow_alliance, dcad, exercises, unga_ideal."),
    ] = None,
) -> None:
    """Dyad-years of the COW or GW system (no dyad with a state that did not exist), with
    sources added; outside a source's years its columns are missing, not zero."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from detente.relations.panel import dyad_years
    from detente.sources.lake import Lake

    first, last = _years(years)
    settings = settings_from(ctx)
    with open_workspace(settings) as ws, Lake(ws.path) as lake:
        table = dyad_years(
            lake, system.lower(), first, last, directed=not undirected, additions=tuple(add or ())
        )
    if out.suffix == ".parquet":
        pq.write_table(table, out)
    elif out.suffix == ".csv":
        pacsv.write_csv(table, out)
    else:
        raise ValidationError(f"{out}: write .parquet or .csv")
    span = f"{table.column('year')[0]}-{table.column('year')[-1]}" if table.num_rows else "no years"
    console.print(
        f"{table.num_rows:,} {'undirected' if undirected else 'directed'} {system.upper()} dyad-years, "
        f"{span}, columns: {', '.join(table.column_names)} -> {out}"
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="relations")
