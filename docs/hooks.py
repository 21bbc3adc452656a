"""MkDocs hook: the CLI reference is generated from the CLI itself at every build
(Typer's own Markdown generator), so it cannot fall behind the commands."""

from __future__ import annotations

from typing import Any

from mkdocs.structure.files import File, Files


def on_files(files: Files, config: Any) -> Files:
    import typer
    from typer.cli import get_docs_for_click

    from detente.cli.app import full_command

    command = full_command()
    body = get_docs_for_click(obj=command, ctx=typer.Context(command), name="detente", title="CLI reference")
    intro = (
        "Generated from the commands themselves at every build of this site; "
        "`detente COMMAND --help` prints the same.\n\n"
    )
    text = body.replace("# CLI reference\n\n", "# CLI reference\n\n" + intro, 1)
    files.append(File.generated(config, "reference/cli.md", content=text))
    return files
