"""``detente audit``: verify the keyed audit chain; sign, export and check its checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from detente.cli.context import console, settings_from
from detente.core import audit
from detente.core.audit_export import export_checkpoints, read_checkpoints
from detente.core.errors import ConfigError
from detente.core.workspace import open_workspace

__all__ = ["register"]

BROKEN = 7  # exit status of a broken chain

audit_app = typer.Typer(
    help="The tamper-evident audit trail: a keyed hash chain with signed checkpoints.",
    no_args_is_help=True,
)
checkpoint_app = typer.Typer(
    help="Signed checkpoints of the chain: `detente audit checkpoint` signs one at the head now.",
    invoke_without_command=True,
)


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    checkpoints: Annotated[
        Path | None,
        typer.Option(
            "--checkpoints",
            help="Checkpoints exported earlier (`audit checkpoint export`) and kept elsewhere: "
            "they catch truncation and rewriting even without the head file and the triggers.",
        ),
    ] = None,
) -> None:
    """Check the keyed hash chain of the audit log against the head file and the signed
    checkpoints; name the first altered, missing, reordered or forged entry.
    Exit status 7 when the chain is broken, 3 when the audit key is missing."""
    given = read_checkpoints(checkpoints) if checkpoints else []
    with open_workspace(settings_from(ctx)) as ws, ws.session() as session:
        try:
            head = ws.audit_head()
        except ConfigError as exc:  # garbage where the head should be: someone wrote it
            console.print(f"[red]audit chain BROKEN: {exc.message}[/red]", highlight=False, soft_wrap=True)
            raise typer.Exit(BROKEN) from None
        result = audit.verify(session, expected_head=head, checkpoints=given)
    if not result.ok:
        console.print(f"[red]{result}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(BROKEN)
    console.print(f"[green]{result}[/green]", highlight=False, soft_wrap=True)
    for note in result.notes:
        console.print(f"  {note}", highlight=False, soft_wrap=True)


@checkpoint_app.callback()
def audit_checkpoint(ctx: typer.Context) -> None:
    """Sign a checkpoint of the chain at its current head (Ed25519 over entry, hash, time)."""
    if ctx.invoked_subcommand is not None:
        return
    with open_workspace(settings_from(ctx)) as ws, ws.session() as session:
        made = audit.checkpoint(session)
        public = ws.audit_keyring.get()
    if made is None:
        console.print("the audit log is empty: nothing to checkpoint")
        return
    fingerprint = public.fingerprint if public else "?"
    console.print(
        f"[green]checkpoint[/green] at entry {made.seq}, hash {made.hash[:16]}, "
        f"signed by key {fingerprint}; export it with `detente audit checkpoint export --out FILE`",
        highlight=False,
    )


@checkpoint_app.command("export")
def audit_checkpoint_export(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option("--out", help="JSON lines file to keep elsewhere (added to if it exists).")
    ],
) -> None:
    """Sign a checkpoint at the head and write every checkpoint, with the public key and
    its fingerprint, to FILE (keeping the ones it already holds). Keep it off this machine."""
    with open_workspace(settings_from(ctx)) as ws, ws.session() as session:
        done = export_checkpoints(session, out)
    if done.conflicts:
        console.print(f"[red]{out} disagrees with this workspace's checkpoints; nothing written:[/red]")
        for line in done.conflicts:
            console.print(f"  {line}", highlight=False)
        console.print("run `detente audit verify --checkpoints FILE`: the log may have been rewritten")
        raise typer.Exit(BROKEN)
    console.print(
        f"[green]wrote[/green] {done.written} checkpoint(s) to {out} ({done.new} new)", highlight=False
    )


audit_app.add_typer(checkpoint_app, name="checkpoint")


@audit_app.command("key")
def audit_key(ctx: typer.Context) -> None:
    """Show where the audit key is read from, its id and the checkpoint public key's fingerprint
    (to note down elsewhere); never the key itself."""
    with open_workspace(settings_from(ctx)) as ws:
        ring = ws.audit_keyring
        keys = ring.get()
    if keys is None:
        console.print(f"no audit key yet at {ring.location}: it is made at the first audited change")
        return
    console.print(f"audit key {keys.key_id} from {keys.source}", highlight=False)
    console.print(f"checkpoint public key {keys.public_key}", highlight=False)
    console.print(f"fingerprint {keys.fingerprint}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
