"""``detente warning``: country-month conflict forecasts, backtested and scored the way the
ViEWS prediction challenge scores them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from detente.cli.context import console, settings_from
from detente.core.errors import ValidationError
from detente.core.workspace import open_workspace

__all__ = ["register"]

app = typer.Typer(
    help="Early warning: conflict forecasts with uncertainty, backtested.", no_args_is_help=True
)


def _published(items: list[str] | None) -> dict[str, Path]:
    out = {}
    for item in items or []:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ValidationError(f"--published {item!r}: give NAME=FILE", field="published")
        out[name] = Path(path)
    return out


def _table(title: str, scores: list) -> Table:  # type: ignore[type-arg]
    first = scores[0] if scores else None
    caption = f"{first.countries} countries x {first.months} months; lower is better" if first else None
    table = Table(title=title, caption=caption)
    table.add_column("model", overflow="fold", min_width=14)
    for col in ("CRPS", "IGN", "MIS 90%", "onset AP", "draws"):
        table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    for s in sorted(scores, key=lambda s: s.crps):
        table.add_row(
            s.model, f"{s.crps:.3f}", f"{s.ign:.3f}", f"{s.mis:.2f}",
            "-" if s.onset_ap is None else f"{s.onset_ap:.3f}", str(s.draws),
        )  # fmt: skip
    return table


@app.command()
def backtest(
    ctx: typer.Context,
    window: Annotated[int, typer.Option(help="Forecast year Y: data to October of Y-1, scored on Y.")],
    out: Annotated[
        Path | None, typer.Option(help="Write each model's draws here (challenge layout).")
    ] = None,
    draws: Annotated[int, typer.Option(min=10, max=10000, help="Draws per country-month.")] = 1000,
    model: Annotated[list[str] | None, typer.Option(help="Models to run (default: all).")] = None,
    published: Annotated[
        list[str] | None, typer.Option(help="Also score a file in the challenge layout: NAME=FILE.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 2024,
) -> None:
    """Run the challenge protocol on whatever the lake holds and print every model's scores."""
    from detente.sources.lake import Lake
    from detente.warning.backtest import backtest as run
    from detente.warning.backtest import write_draws
    from detente.warning.models import MODELS

    chosen = model or list(MODELS)
    unknown = [m for m in chosen if m not in MODELS]
    if unknown:
        raise ValidationError(f"unknown model {unknown[0]!r}; one of {', '.join(MODELS)}", field="model")
    settings = settings_from(ctx)
    with open_workspace(settings) as ws, Lake(ws.path) as lake:
        result = run(
            lake, window, models={m: MODELS[m] for m in chosen}, k=draws, seed=seed,
            published=_published(published),
        )  # fmt: skip
    w = result.window
    console.print(
        _table(
            f"Window {window}: data to month_id {w.cutoff}, "
            f"scored on {w.scored_months[0]}-{w.scored_months[-1]}",
            result.scores,
        )
    )
    if out:
        for path in write_draws(result, out):
            console.print(f"-> {path}")


@app.command()
def score(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Draws in the challenge layout (.parquet or .csv).")],
    window: Annotated[int, typer.Option(help="The year the draws forecast.")],
) -> None:
    """Score a submission (month_id, country_id, draw, outcome) against the lake's actuals."""
    from detente.sources.lake import Lake
    from detente.warning.backtest import backtest as run

    settings = settings_from(ctx)
    with open_workspace(settings) as ws, Lake(ws.path) as lake:
        result = run(lake, window, models={}, published={file.name: file})
    console.print(_table(f"Window {window}", result.scores))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="warning")
