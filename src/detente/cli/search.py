"""``detente search``: full-text search over every kind of record the acting user may
read (``detente.store.search``: the web's search page and ``GET /api/v1/search`` answer
the same), grouped by kind, best first, with the matched words highlighted."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text

from detente.cli.context import console, open_registry
from detente.store.search import PER_KIND, Results, Snippet, search

__all__ = ["register"]


def _marked(snippet: Snippet) -> Text:
    out = Text()
    for part, hit in snippet.parts:
        out.append(part, style="bold black on yellow" if hit else "")
    return out


def _show(results: Results) -> None:
    if not results.groups:
        console.print(f"nothing you may read matches {escape(results.query)!r}", highlight=False)
        return
    plural = "" if results.total == 1 else "s"
    console.print(f"{results.total:,} record{plural} match {escape(results.query)!r}", highlight=False)
    for group in results.groups:
        shown = f" (best {len(group.hits)})" if len(group.hits) < group.count else ""
        console.print(f"\n[bold]{group.kind}[/bold]: {group.count:,}{shown}", highlight=False)
        for hit in group.hits:
            line = Text("  ")
            line.append_text(_marked(hit.title))
            console.print(line, highlight=False)
            console.print(Text(f"    {hit.record.marking} · {hit.record_id}", style="dim"), highlight=False)
            for snippet in hit.snippets:
                text = Text(f"    {snippet.field.replace('_', ' ')}: ", style="dim")
                text.append_text(_marked(snippet))
                console.print(text, highlight=False)


def search_command(
    ctx: typer.Context,
    text: Annotated[
        str,
        typer.Argument(
            help='Words (each finds the words starting with it; all must match) and "quoted phrases".'
        ),
    ],
    kind: Annotated[
        list[str] | None,
        typer.Option(help="Only this record type (repeatable), e.g. engagements \\[default: every kind]."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Hits shown per kind.")] = PER_KIND,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (as the API returns it).")] = False,
) -> None:
    """Search the text of every record you may read (every text field of every kind),
    grouped by kind, best first, with the matched words highlighted."""
    with open_registry(ctx) as (_, reg):
        results = search(reg, text, kinds=kind, limit=limit)
        if as_json:
            console.print(json.dumps(results.as_dict(), ensure_ascii=False), soft_wrap=True, highlight=False)
            return
        _show(results)


def register(app: typer.Typer) -> None:
    app.command("search")(search_command)
