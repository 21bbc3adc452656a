"""``detente intel``: write an intelligence report with a marking per paragraph, read it as
you or a partner sees it, release it under an agreement, ask and answer originator
consent, verify and withdraw it, its dissemination list and STIX.

The header and paragraphs are records too (``detente reports``, ``detente portions``: list,
show, edit, history); these commands add what the exchange service decides."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from detente.cli.context import console, open_registry

__all__ = ["register"]

intel_app = typer.Typer(
    help="Intelligence exchange: graded reports with portion markings, tear-lines, releases under "
    "agreements, originator consent, verification.",
    no_args_is_help=True,
)
Report = Annotated[str, typer.Argument(help="The report: id, external id or title.")]


def _exchange(store: Any) -> Any:
    from detente.exchange.service import Exchange

    return Exchange(store)


def _print_view(view: Any) -> None:
    report = view.report
    console.print(f"[bold]{view.banner}[/bold]", highlight=False)
    console.print(f"[bold]{report.title}[/bold]  ({report.id})", highlight=False)
    console.print(f"shown to: {view.reader}; grade: {view.grade}; verification: {report.verification}",
                  highlight=False)  # fmt: skip
    if view.caution:
        console.print(f"[red]{view.caution}[/red]", highlight=False)
    source = f"{view.source.codename} ({view.source_grade})" if view.source is not None else view.source_grade
    console.print(f"source: {source}", highlight=False)
    if report.summary:
        console.print(f"({report.marking}) {report.summary}", highlight=False)
    for p in view.portions:
        if p.withheld:
            console.print(f"{p.position}. [yellow]{escape('[portion withheld]')}[/yellow]", highlight=False)
        else:
            console.print(f"{p.position}. ({p.marking}) {p.text}", highlight=False)
    console.print(f"[bold]{view.banner}[/bold]", highlight=False)


@intel_app.command("write")
def write(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="Title of the report.")],
    para: Annotated[
        list[str], typer.Option("--para", help="A paragraph as 'MARKING::text' (repeat, in order).")
    ],
    marking: Annotated[str, typer.Option(help="The header's marking (title and summary).")] = "UNCLASSIFIED",
    summary: Annotated[str | None, typer.Option(help="Summary.")] = None,
    reliability: Annotated[str, typer.Option(help="Source reliability A-F.")] = "F",
    credibility: Annotated[int, typer.Option(help="Information credibility 1-6.")] = 6,
    source: Annotated[str | None, typer.Option(help="The protected source (codename or id).")] = None,
    report_time: Annotated[str | None, typer.Option("--report-time", help="Time of report (ISO).")] = None,
    info_time: Annotated[str | None, typer.Option("--info-time", help="Time of information (ISO).")] = None,
    country: Annotated[list[str] | None, typer.Option(help="A country it concerns (repeat).")] = None,
) -> None:
    """Write a report: a header and paragraphs, each with its own portion marking; prints the banner."""
    paragraphs = []
    for i, item in enumerate(para, start=1):
        mark, sep, text = item.partition("::")
        if not sep:
            raise typer.BadParameter(f"paragraph {i}: write it as 'MARKING::text'", param_hint="--para")
        paragraphs.append((mark.strip(), text.strip()))
    header: dict[str, Any] = {
        "title": title,
        "marking": marking,
        "summary": summary,
        "source_reliability": reliability,
        "info_credibility": credibility,
        "report_time": report_time,
        "info_time": info_time,
        "countries": country or [],
    }
    with open_registry(ctx) as (_, store):
        if source:
            header["source_id"] = store.resolve_ref("intel_sources", source, field="--source")
        view = _exchange(store).write({k: v for k, v in header.items() if v is not None}, paragraphs)
        console.print(f"[green]written[/green] report {view.report.id}", highlight=False)
        _print_view(view)


@intel_app.command("view")
def view(
    ctx: typer.Context,
    report: Report,
    partner: Annotated[str | None, typer.Option("--partner", help="See it as this partner would.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (as the API returns it).")] = False,
) -> None:
    """A report as you see it, or as a partner country or coalition would receive it (the tear-line)."""
    with open_registry(ctx) as (_, store):
        shown = _exchange(store).view(store.resolve_ref("intel_reports", report), partner)
        if as_json:
            console.print(json.dumps(shown.as_dict(), ensure_ascii=False), soft_wrap=True, highlight=False)
        else:
            _print_view(shown)


@intel_app.command("release")
def release(
    ctx: typer.Context,
    report: Report,
    to: Annotated[str, typer.Option("--to", help="Partner country (ISO alpha-3) or coalition.")],
    portion: Annotated[
        list[int] | None, typer.Option(help="A paragraph to release (default: all releasable).")
    ] = None,
    override: Annotated[str | None, typer.Option(help="Why the misinformation guard is overridden.")] = None,
) -> None:
    """Release a report to a partner: refused, with the reason, unless an in-force
    intelligence-sharing agreement covers the partner and the classification."""
    with open_registry(ctx) as (_, store):
        row = _exchange(store).release(store.resolve_ref("intel_reports", report), to, portions=portion,
                                       override=override)  # fmt: skip
        console.print(f"[green]released[/green] version {row.report_version} to {row.partner}: paragraphs "
                      f"{', '.join(map(str, row.portions))} ({row.banner})", highlight=False)  # fmt: skip


@intel_app.command("disseminations")
def disseminations(ctx: typer.Context, report: Report) -> None:
    """The dissemination list: what version went to whom, by whom, when."""
    with open_registry(ctx) as (_, store):
        rows = _exchange(store).disseminations(store.resolve_ref("intel_reports", report))
        table = Table(title=f"releases: {len(rows)}")
        for column in ("when", "to", "version", "paragraphs", "banner", "by", "override"):
            table.add_column(column)
        for r in rows:
            when = f"{r.released_at:%Y-%m-%d %H:%M}"
            paragraphs = ", ".join(map(str, r.portions))
            table.add_row(
                when,
                r.partner,
                str(r.report_version),
                paragraphs,
                r.banner,
                r.released_by,
                r.override_reason or "",
            )
        console.print(table)


@intel_app.command("consent")
def consent(
    ctx: typer.Context,
    report: Report,
    to: Annotated[str, typer.Option("--to", help="The partner you want to pass it on to.")],
    reason: Annotated[str | None, typer.Option(help="Why.")] = None,
) -> None:
    """Ask the originator's consent to pass an originator-controlled report on."""
    with open_registry(ctx) as (_, store):
        row = _exchange(store).request_consent(store.resolve_ref("intel_reports", report), to, reason)
        console.print(
            f"[green]requested[/green] consent {row.id} to pass it on to {row.partner}", highlight=False
        )


@intel_app.command("answer")
def answer(
    ctx: typer.Context,
    consent_id: Annotated[str, typer.Argument(help="The consent request's id.")],
    refuse: Annotated[bool, typer.Option("--refuse", help="Refuse (default: approve).")] = False,
    reference: Annotated[
        str | None, typer.Option(help="The originator's reference (received reports).")
    ] = None,
) -> None:
    """The originator approves (or --refuse) a request to pass a report on."""
    with open_registry(ctx) as (_, store):
        row = _exchange(store).decide_consent(consent_id, not refuse, reference)
        console.print(f"consent {row.id}: [bold]{row.status}[/bold]", highlight=False)


@intel_app.command("verify")
def verify(
    ctx: typer.Context,
    report: Report,
    status: Annotated[str, typer.Argument(help="corroborated, contradicted, unverified or withdrawn.")],
    by: Annotated[
        str | None, typer.Option("--by", help="The report that corroborates or contradicts it.")
    ] = None,
    note: Annotated[str | None, typer.Option(help="A note for the verification history.")] = None,
) -> None:
    """Record a verification step (kept in the report's verification history)."""
    with open_registry(ctx) as (_, store):
        updated = _exchange(store).verify(
            store.resolve_ref("intel_reports", report), status, related=by, note=note
        )
        console.print(f"report {updated.id}: [bold]{updated.verification}[/bold]", highlight=False)


@intel_app.command("withdraw")
def withdraw(
    ctx: typer.Context, report: Report, note: Annotated[str | None, typer.Option(help="Why.")] = None
) -> None:
    """Withdraw a report: withdrawn for every recipient (and revoked for peers)."""
    with open_registry(ctx) as (_, store):
        updated = _exchange(store).withdraw(store.resolve_ref("intel_reports", report), note)
        console.print(f"report {updated.id}: [bold]withdrawn[/bold]", highlight=False)


@intel_app.command("history")
def history(ctx: typer.Context, report: Report) -> None:
    """The verification history of a report."""
    with open_registry(ctx) as (_, store):
        for step in _exchange(store).verification_history(store.resolve_ref("intel_reports", report)):
            related = f" by {step.related_id}" if step.related_id else ""
            console.print(f"{step.at:%Y-%m-%d %H:%M} {step.by}: {step.previous} -> {step.status}{related}"
                          f"{'  ' + step.note if step.note else ''}", highlight=False)  # fmt: skip


@intel_app.command("stix")
def stix(
    ctx: typer.Context,
    report: Report,
    out: Annotated[Path, typer.Option("--out", help="The STIX 2.1 bundle to write.")],
    partner: Annotated[str | None, typer.Option("--partner", help="What this partner would receive.")] = None,
) -> None:
    """Write a report as a STIX 2.1 bundle (only what you, or the partner, may receive)."""
    import stix2  # type: ignore[import-untyped]

    from detente.exchange.stix import report_to_stix

    with open_registry(ctx) as (_, store):
        ex = _exchange(store)
        reader = ex.partner(partner) if partner else store.principal
        objects = report_to_stix(ex.view(store.resolve_ref("intel_reports", report), partner), reader)
        out.write_text(stix2.Bundle(objects=objects).serialize(pretty=True), encoding="utf-8")
        store.record(
            "export", "intel_reports", {"format": "stix", "partner": partner, "objects": len(objects)}
        )
        console.print(f"[green]wrote[/green] {out} ({len(objects)} objects)", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``detente intel``."""
    app.add_typer(intel_app, name="intel")
