"""``detente exchange``: federation with peers over TAXII 2.1 (peers, add-peer, remove-peer,
pull, push). The rules are in ``detente.exchange.sync``; this module parses and prints."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from detente.cli.context import console, err_console, open_registry

__all__ = ["exchange_app", "register"]

exchange_app = typer.Typer(
    help="Intelligence exchange: federation with peers over TAXII 2.1.", no_args_is_help=True
)


@exchange_app.command("peers")
def list_peers(ctx: typer.Context) -> None:
    """Your organisation's peers, with their last pull and push."""
    from detente.exchange import sync

    with open_registry(ctx) as (_ws, store):
        rows = sync.peers(store.session, store.principal)
        if not rows:
            console.print("no peers yet: detente exchange add-peer NAME URL --peer-token TOKEN")
            return
        table = Table("peer", "API root", "reads here as", "last pull", "last push", "last result")
        for p in rows:
            table.add_row(
                p.name,
                p.url,
                p.partner_user or "-",
                f"{p.last_pull_at:%Y-%m-%d %H:%M}" if p.last_pull_at else "never",
                f"{p.last_push_at:%Y-%m-%d %H:%M}" if p.last_push_at else "never",
                p.last_result or "",
            )
        console.print(table)


@exchange_app.command("add-peer")
def add_peer(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A short name for the peer, e.g. fra-mod.")],
    url: Annotated[str, typer.Argument(help="Its TAXII 2.1 API root, e.g. https://host/taxii2/detente/.")],
    token: Annotated[
        str, typer.Option("--peer-token", help="The token (or password) the peer issued to you.")
    ],
    username: Annotated[
        str | None, typer.Option("--username", help="Use basic authentication with this user (medallion).")
    ] = None,
    partner_user: Annotated[
        str | None,
        typer.Option(
            "--partner-user",
            help="The peer's account here: what you push to the peer is what this account may read.",
        ),
    ] = None,
) -> None:
    """Add a peer (administrators)."""
    from detente.exchange import sync

    with open_registry(ctx) as (_ws, store):
        row = sync.add_peer(
            store.session, store.principal, name=name, url=url, secret=token,
            username=username, partner_user=partner_user,
        )  # fmt: skip
        console.print(f"peer {row.name} added: {row.url}", highlight=False)


@exchange_app.command("remove-peer")
def remove_peer(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The peer's name.")]) -> None:
    """Forget a peer (what was received from it stays, with its provenance)."""
    from detente.exchange import sync

    with open_registry(ctx) as (_ws, store):
        sync.remove_peer(store.session, store.principal, name)
    console.print(f"peer {name} removed", highlight=False)


@exchange_app.command("pull")
def pull(ctx: typer.Context, peer: Annotated[str, typer.Argument(help="The peer's name.")]) -> None:
    """Pull what the peer releases to you since the last pull; objects keep their originator's
    markings, with the peer as provenance. A refused pull stores nothing."""
    from detente.exchange import sync

    with (
        open_registry(ctx) as (_ws, store),
        err_console.status(f"pulling from {peer}", spinner="dots") as shown,
    ):
        seen = 0

        def progress(count: int) -> None:
            nonlocal seen
            seen += count
            shown.update(f"pulling from {peer}: {seen:,} objects read")

        result = sync.pull(store.session, store.principal, peer, progress=progress)
    console.print(result.summary(), highlight=False)


@exchange_app.command("push")
def push(ctx: typer.Context, peer: Annotated[str, typer.Argument(help="The peer's name.")]) -> None:
    """Push to the peer what its account here may read (received objects only when their
    originator's marking releases them to it)."""
    from detente.exchange import sync

    with open_registry(ctx) as (_ws, store), err_console.status(f"pushing to {peer}", spinner="dots"):
        result = sync.push(store.session, store.principal, peer)
    console.print(result.summary(), highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``detente exchange`` to the root app."""
    app.add_typer(exchange_app, name="exchange")
