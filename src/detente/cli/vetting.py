"""``detente vet``: screen people, organisations, units and vessels against the loaded
sanctions lists, with the evidence for each candidate; and measure the matcher on
labelled name pairs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from detente.cli.context import acting_token, console, err_console, running_server, settings_from

if TYPE_CHECKING:
    from detente.vetting.match import Subject
    from detente.vetting.report import ScreenResult

__all__ = ["register"]


def shown(score: float) -> str:
    """A score with two decimals, rounded down: 0.6996 reads 0.69, never a 0.70 that is no
    match at the 0.7 threshold."""
    return f"{math.floor(score * 100 + 1e-9) / 100:.2f}"


app = typer.Typer(help="Vetting: screen names against sanctions lists, with evidence.", no_args_is_help=True)


@app.command()
def screen(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The name to screen, in any script.")],
    schema: Annotated[
        str, typer.Option(help="Person, Organization, Company, LegalEntity, Vessel or Aircraft.")
    ] = "Person",
    alias: Annotated[list[str] | None, typer.Option(help="Another name the subject uses.")] = None,
    dob: Annotated[str | None, typer.Option(help="Date of birth: YYYY, YYYY-MM or YYYY-MM-DD.")] = None,
    country: Annotated[list[str] | None, typer.Option(help="Nationality or country (name or code).")] = None,
    identifier: Annotated[
        list[str] | None, typer.Option(help="A passport, registration or IMO number.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Candidates to show.")] = 5,
) -> None:
    """Screen one subject against every list in the lake; candidates best first, each with
    the features that matched."""
    from detente.vetting.match import Subject

    subject = Subject(
        name, schema, tuple(alias or ()), dob, tuple(country or ()), tuple(identifier or ())
    )  # fmt: skip
    settings = settings_from(ctx)
    server = running_server(settings.workspace)
    answer = _from_server(ctx, settings.workspace, server, subject, limit) if server else None
    if answer is None:  # no server to ask: screen here (loading the lists and the matcher)
        from detente.core.workspace import open_workspace
        from detente.sources.lake import Lake
        from detente.vetting.report import result
        from detente.vetting.screen import Screener

        loading = "loading the lists and the matcher (`detente serve` on this workspace keeps them loaded)"
        with err_console.status(loading, spinner="dots"):
            with open_workspace(settings) as ws, Lake(ws.path) as lake:
                screener = Screener.from_lake(lake)
            answer, server = result(screener, screener.screen(subject, limit=limit)), None
    _show_screening(subject.name, answer)
    if server:
        console.print(f"[dim]answered by the server at {server}, which keeps the lists loaded[/dim]")


def _from_server(
    ctx: typer.Context, workspace: Path, url: str, subject: Subject, limit: int
) -> ScreenResult | None:
    """The answer of a `detente serve` running on this workspace (it keeps the lists and the
    matcher loaded: a screen takes milliseconds there); None when there is none to ask, or
    it cannot answer (this process then screens itself)."""
    token = acting_token(ctx, workspace)
    if token is None:
        return None
    import httpx

    from detente.vetting.report import ScreenResult

    body = {
        "name": subject.name, "schema": subject.schema, "aliases": list(subject.aliases),
        "dob": subject.birth_date, "countries": list(subject.countries),
        "identifiers": list(subject.identifiers), "limit": limit,
    }  # fmt: skip
    try:
        reply = httpx.post(
            f"{url}/api/v1/vetting/screen",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
    except httpx.HTTPError:
        return None
    return ScreenResult.model_validate(reply.json()) if reply.status_code == 200 else None


def _show_screening(name: str, answer: ScreenResult) -> None:
    lists = ", ".join(f"{k} {v}" for k, v in answer.lists.items())
    table = Table(title=f"Screening {name!r} against {answer.listed:,} listed entities")
    table.caption = (
        f"lists: {lists}; a match scores {answer.threshold} or more; logic-v2: the library's own score"
    )
    for col in ("#", "score", "logic-v2", "verdict", "listed as", "matched name", "list", "programmes"):
        table.add_column(
            col, overflow="fold", justify="right" if col in ("#", "score", "logic-v2") else "left"
        )
    for i, c in enumerate(answer.candidates, start=1):
        born = f", born {'/'.join(c.birth_dates)}" if c.birth_dates else ""
        table.add_row(
            str(i), shown(c.score), shown(c.base_score) if c.base_score is not None else "-",
            "MATCH" if c.matched else "no match", f"{c.name} ({c.schema_}{born})",
            c.listed_name or "-", c.key, ", ".join(c.programs) or "-",
        )  # fmt: skip
    console.print(table)
    for i, c in enumerate(answer.candidates, start=1):
        support = [line for line in c.why if not line.startswith("against: ")]
        console.print(f"{i}. why: " + ("; ".join(support) or "-"), highlight=False)
        if c.counter_evidence:
            against = "; ".join(
                f"{f.name} ({f.weight:+.2f})" + (f": {f.detail}" if f.detail else "")
                for f in c.counter_evidence
            )
            console.print(f"   against: {against}", highlight=False)
    hits = sum(c.matched for c in answer.candidates)
    threshold = answer.threshold
    console.print(f"{hits} match{'es' if hits != 1 else ''} at or above {threshold}" if hits else "no match")


@app.command()
def batch(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(help="CSV of subjects: name[, schema, aliases, dob, country, identifiers, ref]."),
    ] = None,
    registry: Annotated[
        bool, typer.Option("--registry", help="Screen the registry's non-state actors, units and people.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="Write every candidate scoring 0.5 or more here (CSV).")
    ] = None,
    show: Annotated[str, typer.Option(help="Rows to print: matches (default) or all.")] = "matches",
) -> None:
    """Screen many subjects at once: a file, or the registry records you may see."""
    import csv
    import time

    from detente.core.errors import ValidationError
    from detente.core.workspace import open_workspace
    from detente.sources.lake import Lake
    from detente.vetting.batch import from_registry, read_subjects, screen_all
    from detente.vetting.match import THRESHOLD
    from detente.vetting.screen import Screener

    if (file is None) == (not registry):
        raise ValidationError("give a subjects FILE or --registry (one of them)")
    if registry:
        from detente.cli.context import open_registry
        from detente.store.service import ListQuery

        with open_registry(ctx) as (_ws, reg):
            subjects = from_registry(
                reg.list("actors", ListQuery(limit=None)), reg.list("people", ListQuery(limit=None))
            )
    else:
        assert file is not None
        subjects = read_subjects(file)
    settings = settings_from(ctx)
    with open_workspace(settings) as ws, Lake(ws.path) as lake:
        screener = Screener.from_lake(lake)
    if subjects:  # the matcher loads its name data once, before the clock starts
        screener.screen(subjects[0][1])
    start = time.perf_counter()
    results = screen_all(screener, subjects)
    seconds = time.perf_counter() - start
    table = Table(title=f"Batch screening: {len(results):,} subjects against {len(screener.listed):,} listed")
    for col in ("ref", "subject", "score", "verdict", "best candidate", "list"):
        table.add_column(col, overflow="fold", justify="right" if col == "score" else "left")
    matched = 0
    for r in results:
        best = r.best
        hit = best is not None and best.matched
        matched += hit
        if hit or show == "all":
            table.add_row(
                r.ref, r.subject.name, shown(best.score) if best else "-", "MATCH" if hit else "clear",
                best.listed.name if best else "-", best.listed.key if best else "-",
            )  # fmt: skip
    console.print(table)
    rate = len(results) / seconds if seconds else float("inf")
    console.print(
        f"{matched} of {len(results)} subjects match a listed entity (score >= {THRESHOLD}); "
        f"screened in {seconds:.2f} s, {rate:,.0f} subjects/s"
    )
    if out is not None:
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(
                ["ref", "subject", "rank", "score", "verdict", "listed_key", "listed_name", "programs", "why"]
            )
            for r in results:
                for rank, m in enumerate(r.matches, start=1):
                    writer.writerow(
                        [r.ref, r.subject.name, rank, f"{m.score:.3f}", "match" if m.matched else "no match",
                         m.listed.key, m.listed.name, "; ".join(m.listed.programs), " | ".join(m.explain())]
                    )  # fmt: skip
        console.print(f"-> {out}")


@app.command()
def decide(
    ctx: typer.Context,
    outcome: Annotated[
        str, typer.Option(help="pending, cleared, cleared_with_conditions, suspended or refused.")
    ],
    actor: Annotated[str | None, typer.Option(help="The actor vetted (id, external id or name).")] = None,
    person: Annotated[str | None, typer.Option(help="The person vetted (id, external id or name).")] = None,
    check: Annotated[
        list[str] | None, typer.Option(help="A checklist answer ITEM=yes|no|unknown (repeatable).")
    ] = None,
    conditions: Annotated[str | None, typer.Option(help="Conditions of a conditional clearance.")] = None,
    valid_until: Annotated[str | None, typer.Option(help="Valid until (YYYY-MM-DD; default a year).")] = None,
    officer: Annotated[str | None, typer.Option(help="The vetting officer.")] = None,
    marking: Annotated[str, typer.Option(help="The decision's marking.")] = "UNCLASSIFIED",
    notes: Annotated[str | None, typer.Option(help="Free-text notes.")] = None,
) -> None:
    """Record a vetting decision about a registry actor or person, with the screening made
    now against the lists in the lake."""
    from detente.cli.context import open_registry
    from detente.sources.lake import Lake
    from detente.vetting.decisions import decide as record
    from detente.vetting.screen import Screener

    with open_registry(ctx) as (ws, reg):
        with Lake(ws.path) as lake:
            screener = Screener.from_lake(lake)
        d = record(
            reg, screener, actor=actor, person=person, outcome=outcome, checklist=check or [],
            conditions=conditions, valid_until=valid_until, officer=officer, marking=marking, notes=notes,
        )  # fmt: skip
    console.print(
        f"[green]recorded[/green] vetting decision {d.id}: {d.subject_name} {d.outcome}, "
        f"valid until {d.valid_until} ({d.marking})"
    )
    console.print(f"screened against {d.screened_lists}")
    lines = (d.screening or "").splitlines()
    console.print(f"{len(lines)} candidate(s) scoring 0.5 or more kept with it", highlight=False)
    for line in lines:
        console.print("  " + line.replace("\t", "  "), highlight=False)


@app.command()
def decisions(
    ctx: typer.Context,
    on: Annotated[str | None, typer.Option(help="Standing on this day (YYYY-MM-DD; default today).")] = None,
) -> None:
    """Every vetting decision you may see: where it stands, and whether its subject now
    matches a listed entity it did not match when decided (re-screened now)."""
    from datetime import date

    from detente.cli.context import open_registry
    from detente.core.errors import ValidationError
    from detente.sources.lake import Lake
    from detente.vetting.decisions import review
    from detente.vetting.screen import Screener

    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        raise ValidationError(f"{on!r} is not a date (YYYY-MM-DD)", field="on") from None
    with open_registry(ctx) as (ws, reg), err_console.status("re-screening every decision", spinner="dots"):
        with Lake(ws.path) as lake:
            screener = Screener.from_lake(lake)
        reviewed = review(reg, screener, day)
    table = Table(title=f"Vetting decisions on {day or date.today()}")
    for col in ("id", "subject", "outcome", "decided", "valid until", "standing", "new matches", "marking"):
        table.add_column(col, overflow="fold")
    for r in reviewed:
        d = r.decision
        new = ", ".join(f"{m.listed.key} ({shown(m.score)})" for m in r.new_matches) or "-"
        table.add_row(
            d.id[:8], d.subject_name, d.outcome, str(d.decided_on), str(d.valid_until),
            r.standing, f"[red]{new}[/red]" if r.flagged else new, d.marking,
        )  # fmt: skip
    console.print(table)
    flagged = sum(r.flagged for r in reviewed)
    console.print(f"{len(reviewed)} decision(s); {flagged} flagged for re-vetting (a new match on the lists)")


@app.command()
def guard(
    ctx: typer.Context,
    engagement: Annotated[
        str | None, typer.Argument(help="An engagement (id or title); default: every one being planned.")
    ] = None,
) -> None:
    """Engagements with actors whose vetting is missing, expired, refused, suspended or
    pending (non-state actors and units); flagged, not blocked."""
    from detente.cli.context import open_registry
    from detente.vetting.guard import check

    with open_registry(ctx) as (_ws, reg):
        found = check(reg, engagement)
    table = Table(
        title="Vetting findings for engagements being planned" if not engagement else "Vetting findings"
    )
    for col in ("engagement", "actor", "problem", "detail"):
        table.add_column(col, overflow="fold")
    for f in found:
        table.add_row(f.engagement, f.actor, f"[red]{f.problem}[/red]", f.detail)
    console.print(table)
    console.print(
        f"{len(found)} finding(s)"
        + ("; `detente vet override ENGAGEMENT --reason ...` to go ahead" if found else "")
    )


@app.command()
def override(
    ctx: typer.Context,
    engagement: Annotated[str, typer.Argument(help="The engagement (id or title).")],
    reason: Annotated[str, typer.Option(help="Why the engagement goes ahead despite the findings.")],
) -> None:
    """Go ahead with an engagement despite its vetting findings; the reason and the
    findings are recorded in the audit trail."""
    from detente.cli.context import open_registry
    from detente.vetting.guard import override as record

    with open_registry(ctx) as (_ws, reg):
        found = record(reg, engagement, reason)
    console.print(f"override recorded in the audit trail for {found[0].engagement} ({len(found)} finding(s))")


@app.command()
def evaluate(
    pairs: Annotated[
        Path, typer.Argument(help="CSV of labelled pairs: name1, name2, is_match[, schema, dob1, dob2, ...].")
    ],
    step: Annotated[float, typer.Option(min=0.01, max=0.5, help="Threshold step of the curve.")] = 0.05,
    cv: Annotated[
        bool, typer.Option("--cv", help="Cross-validate even pairs the shipped model never saw.")
    ] = False,
) -> None:
    """Precision, recall and F1 of the matcher on labelled name pairs, at its threshold
    and along the precision-recall curve; no pair is scored by a model trained on it (pairs
    the shipped model was trained on are scored by cross-validation, fold by fold)."""
    from detente.vetting.evaluate import evaluate as run
    from detente.vetting.evaluate import read_pairs
    from detente.vetting.match import THRESHOLD

    loaded = read_pairs(pairs)
    with Progress(
        TextColumn("scoring out of sample"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("folds", total=None)
        result = run(
            loaded,
            cross_validate=True if cv else None,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    table = Table(title=f"{pairs.name}: {len(loaded)} pairs, {int(result.labels.sum())} matches")
    for col in ("threshold", "precision", "recall", "F1"):
        table.add_column(col, justify="right")
    for t, p, r, f in result.curve(step):
        mark = " (default)" if abs(t - THRESHOLD) < 1e-9 else ""
        table.add_row(f"{t:.2f}{mark}", f"{p:.3f}", f"{r:.3f}", f"{f:.3f}")
    console.print(table)
    if result.cross_validated:
        console.print(
            f"cross-validated: {result.trained_on} of these pairs trained the shipped model, so each "
            f"fold was scored by a model trained on the synthetic pairs and the other folds only",
            highlight=False,
        )
        for fold in result.folds:
            console.print(
                f"  fold {fold.number}: {fold.pairs} pairs ({fold.matches} matches): precision "
                f"{fold.precision:.3f}, recall {fold.recall:.3f}, F1 {fold.f1:.3f}",
                highlight=False,
            )
    else:
        console.print(
            "scored by the shipped model, which was trained on none of these pairs", highlight=False
        )
    p, r, f = result.at(THRESHOLD)
    console.print(
        f"at the default threshold {THRESHOLD}: precision {p:.3f}, recall {r:.3f}, F1 {f:.3f}; "
        f"average precision {result.average_precision:.3f}",
        highlight=False,
    )
    if result.base_scores is not None:
        bp, br, bf = result.at(THRESHOLD, result.base_scores)
        console.print(
            f"logic-v2 alone at {THRESHOLD}: precision {bp:.3f}, recall {br:.3f}, F1 {bf:.3f}",
            highlight=False,
        )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="vet")
