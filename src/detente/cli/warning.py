"""``detente warning``: country-month conflict forecasts, backtested and scored the way the
ViEWS prediction challenge scores them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
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


def _pct(x: float) -> str:
    return "-" if x != x else f"{x:.0%}"  # NaN: no such country-months


def _table(title: str, scores: list) -> Table:  # type: ignore[type-arg]
    first = scores[0] if scores else None
    caption = (
        f"{first.countries} countries x {first.months} months ({first.deaths} with deaths); lower is "
        "better; coverage on the randomised PIT of the 50%/90% intervals shown (the draws' central "
        "intervals at the levels learned on the folds), all and with deaths; in brackets, with deaths: "
        "the draws' own central 50%/90% intervals"
        if first
        else None
    )
    table = Table(title=title, caption=caption)
    table.add_column("model", overflow="fold", min_width=14)
    for col in ("CRPS", "IGN", "MIS 90%", "onset AP", "cover 50/90", "deaths 50/90", "draws"):
        table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    for s in sorted(scores, key=lambda s: s.crps):
        table.add_row(
            s.model, f"{s.crps:.3f}", f"{s.ign:.3f}", f"{s.mis:.2f}",
            "-" if s.onset_ap is None else f"{s.onset_ap:.3f}",
            f"{_pct(s.cover50)}/{_pct(s.cover90)}",
            f"{_pct(s.cover50_deaths)}/{_pct(s.cover90_deaths)} "
            f"({_pct(s.central50_deaths)}/{_pct(s.central90_deaths)})",
            str(s.draws),
        )  # fmt: skip
    return table


def _pit_table(scores: list) -> Table:  # type: ignore[type-arg]
    table = Table(title="PIT histograms (shares in ten bins; flat = calibrated)")
    table.add_column("model", overflow="fold", min_width=14)
    for b in range(10):
        table.add_column(f"{b / 10:.1f}", justify="right", no_wrap=True)
    for s in sorted(scores, key=lambda s: s.crps):
        table.add_row(s.model, *(f"{x:.2f}" for x in s.pit))
    return table


@contextmanager
def progress_bar(what: str) -> Iterator[Any]:
    """A Rich progress bar on the CLI's console; yields a callback (text, done, total)."""
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=False,
    )  # fmt: skip
    with bar:
        task = bar.add_task(what, total=None)

        def update(text: str, done: int, total: int) -> None:
            bar.update(task, description=f"{what}: {text}", completed=done, total=total)

        yield update


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
    """Run the challenge protocol on whatever the lake holds and print every model's scores,
    after the months of outcomes the window needs and which of them are missing."""
    from detente.sources.lake import Lake
    from detente.warning.backtest import backtest as run
    from detente.warning.backtest import write_draws
    from detente.warning.catalog import MODELS
    from detente.warning.data import Window, needs

    chosen = model or list(MODELS)
    unknown = [m for m in chosen if m not in MODELS]
    if unknown:
        raise ValidationError(f"unknown model {unknown[0]!r}; one of {', '.join(MODELS)}", field="model")
    settings = settings_from(ctx)
    with open_workspace(settings) as ws, Lake(ws.path) as lake:
        need = needs(lake, Window(window))
        console.print(need.describe())
        with progress_bar(f"Window {window}") as update:
            result = run(
                lake, window, models={m: MODELS[m] for m in chosen}, k=draws, seed=seed,
                published=_published(published), progress=update,
            )  # fmt: skip
    w = result.window
    console.print(
        _table(
            f"Window {window}: data to month_id {w.cutoff}, "
            f"scored on {w.scored_months[0]}-{w.scored_months[-1]}",
            result.scores,
        )
    )
    console.print(_pit_table(result.scores))
    for name, text in result.choices.items():
        console.print(f"{name}: {text}")
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


def _risk_table(title: str, rows: list[dict]) -> Table:  # type: ignore[type-arg]
    table = Table(title=title, caption="P(>=25): share of draws with a month of 25 or more battle deaths")
    for col in ("country", "P(>=25)", "median", "90% interval"):
        table.add_column(col, justify="left" if col == "country" else "right", no_wrap=True)
    for r in rows:
        table.add_row(r["iso3"] or str(r["country_id"]), f"{r['p25']:.2f}", f"{r['median']:.0f}",
                      f"{r['low']:.0f}-{r['high']:.0f}")  # fmt: skip
    return table


def _countries(text: str | None) -> list[str] | None:
    """A comma-separated list of ISO3 codes or ViEWS ids, or @FILE with one a line."""
    if text is None:
        return None
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(
                f"{path}: cannot read the country list ({exc})", field="countries"
            ) from None
        items = [x.split("#")[0].strip() for x in lines]
    else:
        items = [x.strip() for x in text.split(",")]
    items = [x for x in items if x]
    if not items:
        raise ValidationError("--countries: no country given", field="countries")
    return items


@app.command()
def forecast(
    ctx: typer.Context,
    model: Annotated[
        str, typer.Option(help="Model: ensemble (default), regime, recency, boost or a benchmark.")
    ] = "ensemble",
    cutoff: Annotated[
        str | None,
        typer.Option(
            help="Forecast from the data to this month, YYYY-MM (default: the latest month "
            "with outcomes for 100 countries)."
        ),
    ] = None,
    countries: Annotated[
        str | None,
        typer.Option(
            help="ISO3 codes or ViEWS ids, comma-separated, or @FILE with one a line (default: "
            "every country with an outcome in the cutoff month)."
        ),
    ] = None,
    horizons: Annotated[int, typer.Option(min=1, max=36, help="Months ahead.")] = 36,
    draws: Annotated[int, typer.Option(min=10, max=10000, help="Draws per country-month.")] = 1000,
    top: Annotated[int, typer.Option(help="Countries to list.")] = 20,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 2024,
) -> None:
    """Forecast from the data to the cutoff; saved (with the model, the inputs' hashes and the
    detente version) in the workspace's forecasts/ folder."""
    from detente.sources.lake import Lake
    from detente.warning.data import parse_month
    from detente.warning.forecast import forecast as run
    from detente.warning.forecast import save, summary

    month = parse_month(cutoff) if cutoff else None
    chosen = _countries(countries)
    settings = settings_from(ctx)
    with open_workspace(settings) as ws, Lake(ws.path) as lake, progress_bar("Forecast") as update:
        update(f"{model}, reading the lake and fitting", 0, 2)
        fc = run(lake, model, horizons=horizons, k=draws, seed=seed, cutoff=month, countries=chosen)
        update("saving", 1, 2)
        path = save(fc, ws.path / "forecasts")
        update("done", 2, 2)
    meta = fc.meta
    console.print(
        f"{model} forecast from data to {meta['cutoff']} (month_id {fc.cutoff}), "
        f"{len(fc.countries)} countries{' (as listed)' if chosen else ''}, {horizons} months, "
        f"{draws} draws, seed {seed}, detente {meta['detente_version']}"
    )
    if meta["params"].get("choice"):
        console.print(f"{model}: {meta['params']['choice']}")
    console.print(_risk_table("Highest risk in the next three months", summary(fc)[:top]))
    for name, source in meta["inputs"].items():
        console.print(f"input {name}: {source['files']} sha256 {source['sha256'][:16]}...")
    console.print(f"-> {path} (provenance in {path.with_suffix('.json').name})")


@app.command()
def alerts(
    ctx: typer.Context,
    threshold: Annotated[float, typer.Option(min=0, max=1, help="Alert at this P(>=25) or above.")] = 0.5,
) -> None:
    """Registry partners (states you may see) whose risk in the latest saved forecast
    crosses the threshold."""
    from detente.cli.context import open_registry
    from detente.store.service import ListQuery
    from detente.warning.forecast import latest, load_forecast, summary

    with open_registry(ctx) as (ws, reg):
        path = latest(ws.path / "forecasts")
        if path is None:
            raise ValidationError("no saved forecast: run `detente warning forecast` first")
        fc = load_forecast(path)
        states = {
            a.country: a.name
            for a in reg.list("actors", ListQuery(filters={"kind": "state"}, limit=None))
            if a.country
        }
    rows = [r for r in summary(fc) if r["iso3"] in states and r["p25"] >= threshold]
    console.print(
        _risk_table(
            f"Partners at or above P(>=25) = {threshold:g} "
            f"(forecast {path.name}, data to {fc.meta['cutoff']})",
            rows,
        )
    )
    console.print(f"{len(rows)} of {len(states)} partner states alerted")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="warning")
