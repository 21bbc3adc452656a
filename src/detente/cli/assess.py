"""``detente assess``: effect studies on open data: is a treatment (a state's first defense
cooperation agreement, or any list of adoption years) followed by a change in an outcome
(UCDP deaths, conflict), with the design's pre-trend test, placebo dates and what it can
and cannot claim."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from detente.cli.context import console, settings_from
from detente.core.errors import ValidationError
from detente.core.workspace import open_workspace

if TYPE_CHECKING:
    from detente.assessment.effects import EffectStudy, Treatment

__all__ = ["app", "register"]

app = typer.Typer(
    help="Assessment, monitoring and evaluation: dashboards, scorecards, the annual report, effect studies.",
    no_args_is_help=True,
)
STATUS_STYLE = {"on_track": "green", "at_risk": "yellow", "off_track": "red", "no_data": "dim"}


def _pairs(path: Path) -> list[tuple[str, int]]:
    """(country, year) rows of a CSV with a header naming ``country`` and ``year``."""
    import csv

    if not path.is_file():
        raise ValidationError(f"{path}: no such file", field="treatment-file")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"country", "year"} <= {f.strip().lower() for f in reader.fieldnames}:
            raise ValidationError(f"{path}: the header must name the columns country and year")
        out = []
        for line, row in enumerate(reader, start=2):
            row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
            try:
                out.append((row["country"], int(row["year"])))
            except ValueError:
                raise ValidationError(
                    f"{path}, line {line}, field year: {row['year']!r} is not a year"
                ) from None
    return out


def _treatment(ctx: typer.Context, name: str, file: Path | None) -> Treatment | str:
    from detente.assessment.effects import registry_treatment, treatment_from_pairs

    if file is not None:
        return treatment_from_pairs(_pairs(file), name=file.stem, title=f"first year listed in {file.name}")
    if name == "registry":
        from detente.cli.context import open_registry

        with open_registry(ctx) as (_ws, reg):
            return registry_treatment(reg)
    return name


def _render(study: EffectStudy) -> None:
    a, o = study.att, study.outcome
    table = Table(
        title=f"{study.treatment['title']} -> {o['title']}, {study.first}-{study.last}",
        caption=f"{study.estimator}; marking {study.marking}",
    )
    for col in ("", "estimate", "95% interval", "p"):
        table.add_column(col, justify="left" if not col else "right")
    table.add_row(
        f"ATT ({o['unit']})", f"{a.estimate:+.3f}", f"{a.ci_low:+.3f} to {a.ci_high:+.3f}", f"{a.p_value:.3g}"
    )
    if study.pretrend:
        p = study.pretrend
        table.add_row(f"pre-trend F({p.df1}, {p.df2})", f"{p.f_statistic:.2f}", "", f"{p.p_value:.3g}")
    if study.placebo:
        q = study.placebo
        table.add_row(
            f"placebo false-positive rate ({q.rejections}/{q.draws}, seed {q.seed})",
            f"{q.rate:.1%}", f"{q.ci_low:.1%} to {q.ci_high:.1%}", "",
        )  # fmt: skip
    console.print(table)
    s = study.sample
    console.print(
        f"{s.units} states: {s.treated_units} treated, {s.never_treated_units} not treated by {study.last}; "
        f"{s.country_years:,} country-years ({s.treated_country_years:,} treated); dropped "
        f"{s.dropped_already_treated} treated before {study.first}, {s.dropped_short} with fewer than "
        f"{study.min_pre} untreated years",
        highlight=False,
    )
    events = Table(title="By year since adoption (reference: the year before)")
    for col in ("years", "estimate", "95% interval", "p"):
        events.add_column(col, justify="right")
    for c in study.event:
        events.add_row(
            c.label, f"{c.estimate:+.3f}", f"{c.ci_low:+.3f} to {c.ci_high:+.3f}", f"{c.p_value:.3g}"
        )
    console.print(events)
    for title, items in (("What this design can claim", study.can), ("What it cannot claim", study.cannot)):
        console.print(f"[bold]{title}[/bold]")
        for item in items:
            console.print(f"- {item}", highlight=False)
    console.print(
        "data: " + "; ".join(f"{p['source']} {p['version']} ({p['sha256'][:12]})" for p in study.provenance),
        highlight=False,
    )


@app.command()
def effect(
    ctx: typer.Context,
    treatment: Annotated[
        str, typer.Option(help="A named treatment (see `detente assess designs`) or `registry`.")
    ] = "dcad_first",
    outcome: Annotated[str, typer.Option(help="A named outcome (see `detente assess designs`).")] = "brd_log",
    first: Annotated[int, typer.Option("--from", help="First year of the country-year panel.")] = 1990,
    last: Annotated[int, typer.Option("--to", help="Last year of the panel.")] = 2010,
    placebos: Annotated[int, typer.Option(min=0, max=100000, help="Placebo draws (0: none).")] = 200,
    seed: Annotated[int, typer.Option(help="Random seed of the placebo draws.")] = 1,
    leads: Annotated[int, typer.Option(min=2, max=20, help="Event-study leads (the last one binned).")] = 5,
    lags: Annotated[int, typer.Option(min=0, max=20, help="Event-study lags (the last one binned).")] = 5,
    min_pre: Annotated[
        int, typer.Option(min=1, help="Untreated years a state needs in the window to stay in.")
    ] = 2,
    system: Annotated[str, typer.Option(help="State system of the panel: cow or gw.")] = "cow",
    treatment_file: Annotated[
        Path | None, typer.Option(help="CSV of adoptions (columns country, year) instead of --treatment.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the study as JSON.")] = False,
    out: Annotated[Path | None, typer.Option(help="Also write the write-up here (Markdown).")] = None,
) -> None:
    """Estimate how an outcome moved after states adopted a treatment (staggered
    difference-in-differences, pyfixest's did2s), with the pre-trend test, placebo dates,
    and what the design can and cannot claim."""
    from detente.assessment.effects import run_study
    from detente.sources.lake import Lake

    chosen = _treatment(ctx, treatment, treatment_file)
    settings = settings_from(ctx)
    with open_workspace(settings) as ws, Lake(ws.path) as lake:
        study = run_study(
            lake, chosen, outcome, first, last, system=system, min_pre=min_pre, leads=leads, lags=lags,
            placebos=placebos, seed=seed,
        )  # fmt: skip
    if out:
        out.write_text(study.to_markdown())
    if as_json:
        typer.echo(json.dumps(study.to_dict(), indent=1))
    else:
        _render(study)
        if out:
            console.print(f"-> {out}")


@app.command()
def designs(ctx: typer.Context) -> None:
    """The named treatments and outcomes, the lake source each reads, and whether it is loaded."""
    from detente.assessment.effects import OUTCOMES, TREATMENTS
    from detente.sources.lake import Lake

    settings = settings_from(ctx)
    with open_workspace(settings) as ws, Lake(ws.path) as lake:
        loaded = {p.source for p in lake.provenance()} | ({"events"} if lake.has("events") else set())
    table = Table(title="Effect-study designs")
    for col in ("kind", "name", "what", "source", "loaded"):
        table.add_column(col, overflow="fold")
    for t in TREATMENTS.values():
        table.add_row("treatment", t.name, t.title, t.source, "yes" if t.source in loaded else "no")
    table.add_row(
        "treatment", "registry", "first agreement in the registry (as you may see it)", "registry", ""
    )
    for o in OUTCOMES.values():
        table.add_row(
            "outcome", o.name, f"{o.title} [{o.unit}]", o.source, "yes" if o.source in loaded else "no"
        )
    console.print(table)


@contextmanager
def _reading(ctx: typer.Context) -> Iterator[tuple[Any, Any]]:
    """The reader's registry and monitoring context (with the lake, for computed indicators)."""
    from detente.assessment.metrics import Context
    from detente.cli.context import open_registry
    from detente.sources.lake import Lake

    with open_registry(ctx) as (ws, reg), Lake(ws.path) as lake:
        yield reg, Context(reg, lake, reg.principal.country)


@app.command()
def dashboard(
    ctx: typer.Context,
    on: Annotated[
        str | None, typer.Option(help="Status as of this day (YYYY-MM-DD); today by default.")
    ] = None,
) -> None:
    """Every initiative you may see: indicators on track, at risk, off track, without data, overdue."""
    from detente.assessment.monitor import dashboard as build

    with _reading(ctx) as (_reg, context):
        cards = build(context, _day(on))
    table = Table(title=f"Initiatives as of {_day(on) or date.today()}")
    for col in ("initiative", "partner", "status", "on track", "at risk", "off track", "no data", "overdue"):
        table.add_column(col, overflow="fold")
    for c in cards:
        n = c.counts
        table.add_row(
            c.initiative.title,
            c.initiative.partner_country or c.initiative.region or "",
            c.initiative.status,
            *(str(n[k]) for k in STATUS_STYLE),
            str(len(c.overdue)),
        )
    console.print(table)


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{value!r} is not a date (YYYY-MM-DD)", field="on") from None


@app.command()
def scorecard(
    ctx: typer.Context,
    initiative: Annotated[str, typer.Argument(help="The initiative: id, external id or title.")],
    on: Annotated[
        str | None, typer.Option(help="Status as of this day (YYYY-MM-DD); today by default.")
    ] = None,
) -> None:
    """One initiative's indicators: latest value, expected value, status and what is overdue."""
    from detente.assessment.monitor import scorecard as build

    with _reading(ctx) as (reg, context):
        record = reg.resolve_ref("initiatives", initiative, field="initiative")
        card = build(context, record, _day(on))
    console.print(f"[bold]{card.initiative.title}[/bold] ({card.initiative.marking})", highlight=False)
    table = Table()
    for col in ("objective", "indicator", "latest", "expected", "target", "status", "due"):
        table.add_column(col, overflow="fold")
    for o in card.objectives:
        for r in o.indicators:
            i, latest = r.indicator, r.latest
            due = (
                f"overdue {r.overdue_days} d"
                if r.overdue
                else str(r.next_due or ("computed" if i.computed_from else ""))
            )
            table.add_row(
                o.objective.title, f"{i.name} ({i.unit})",
                f"{latest.value:g} on {latest.on}" if latest else "none",
                f"{r.expected:.2f}" if r.expected is not None else "",
                f"{i.target_value:g} by {i.target_date}", f"[{STATUS_STYLE[r.status]}]{r.status}[/]", due,
            )  # fmt: skip
    console.print(table)
    console.print(f"evaluations: {len(card.evaluations)}; lessons: {len(card.lessons)}")


@app.command()
def report(
    ctx: typer.Context,
    year: Annotated[int, typer.Option(min=1900, max=2100, help="The year reported on.")],
    out: Annotated[Path, typer.Option(help="Where to write it: .html or .pdf.")],
) -> None:
    """The annual assessment report (HTML or PDF, with charts), marked with the highest
    marking of what it holds, as you may see it."""
    from detente.assessment.report import annual_report, to_pdf
    from detente.sharing.service import Sharing

    if out.suffix.lower() not in (".html", ".pdf"):
        raise ValidationError(f"{out}: write the report to a .html or .pdf file", field="out")
    with _reading(ctx) as (reg, context):
        sharing = Sharing(reg.session)
        org = next((o.name for o in sharing.orgs() if o.id == reg.principal.org), reg.principal.country)
        made = annual_report(context, year, organisation=org, coalitions=sharing.coalitions())
    out.write_bytes(to_pdf(made) if out.suffix.lower() == ".pdf" else made.html.encode())
    console.print(
        f"{made.initiatives} initiatives, {made.indicators} indicators, status as of {made.as_of}; "
        f"marking {made.marking} -> {out}",
        highlight=False,
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="assess")
