"""``detente login``, ``orgs``, ``users``, ``coalitions`` and ``tokens`` (``audit``: cli/audit.py)."""

import os
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from detente.cli.context import acting, console, default_login, save_login, settings_from
from detente.core.workspace import open_workspace
from detente.sharing import coalitions as coalition_data
from detente.sharing.service import Sharing
from detente.store.permissions import roles

__all__ = ["register"]

orgs = typer.Typer(
    help="Organisations: each belongs to a country and owns its records.", no_args_is_help=True
)
users = typer.Typer(help="Users: one organisation, a role and a clearance per scheme.", no_args_is_help=True)
coalitions = typer.Typer(
    help="Coalitions (NATO, FVEY, AU...): groups of countries REL TO may name.", no_args_is_help=True
)
tokens = typer.Typer(help="API tokens: issue and revoke.", no_args_is_help=True)


def password_from(prompt: str, confirm: bool = False) -> str:
    """DETENTE_PASSWORD (for scripts) or a hidden prompt."""
    secret = os.environ.get("DETENTE_PASSWORD")
    if secret:
        return secret
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm))


def parse_clearances(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values or []:
        scheme, _, level = value.partition("=")
        if not level:
            raise typer.BadParameter("use SCHEME=LEVEL, e.g. national=SECRET", param_hint="--clearance")
        out[scheme.strip().lower()] = level.strip()
    return out


def login(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Your user name.")],
    days: Annotated[int, typer.Option(help="Days the saved login stays valid.")] = 30,
) -> None:
    """Log in: check your password and save a login token in the workspace.

    Later commands act as you until the token expires; `--as USER` picks
    among saved logins. The password may come from DETENTE_PASSWORD.
    """
    settings = settings_from(ctx)
    with open_workspace(settings) as ws:
        password = password_from("Password")
        with ws.session() as session:
            # a failure is committed too (failure count, lock, audit entry), then reported
            outcome = Sharing(session).attempt_login(username, password)
        if isinstance(outcome, Exception):
            raise outcome
        with ws.session() as session:
            secret, token = Sharing(session).issue_token(outcome, name="cli-login", days=days)
        principal = outcome
        before = default_login(ws)
        save_login(ws, principal.user, secret)
    console.print(
        f"[green]logged in[/green] as {principal.user} ({principal.role}, "
        f"{principal.country}); token valid until {token.expires_at:%Y-%m-%d}"
    )
    if before and before != principal.user:  # say it: the next commands act as someone else
        console.print(
            f"commands now act as {principal.user}, no longer {before} (`--as {before}` for theirs)"
        )


@orgs.command("add")
def org_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name, e.g. 'Ministry of Defence of Ghana'.")],
    country: Annotated[str, typer.Option(help="Its country (name or ISO code).")],
) -> None:
    """Add an organisation (the workspace's operator; the very first needs no login and runs the instance)."""
    with open_workspace(settings_from(ctx)) as ws, ws.session() as session:
        sharing = Sharing(session)
        actor = acting(ctx, ws, sharing) if sharing.orgs() else None
        org = sharing.add_org(name, country, actor=actor)
        console.print(f"[green]added[/green] organisation {org.name} ({org.country}) {org.id}")


@orgs.command("list")
def org_list(ctx: typer.Context) -> None:
    """List organisations."""
    with open_workspace(settings_from(ctx)) as ws, ws.session() as session:
        sharing = Sharing(session)
        acting(ctx, ws, sharing)
        table = Table("id", "name", "country", title="organisations")
        for org in sharing.orgs():
            table.add_row(org.id, org.name, org.country)
    console.print(table)


@users.command("add")
def user_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="User name (letters, digits, . _ - @).")],
    org: Annotated[str, typer.Option(help="Organisation (name or id).")],
    role: Annotated[str, typer.Option(help=f"Role: {', '.join(roles())}.")] = "viewer",
    clearance: Annotated[
        list[str] | None,
        typer.Option(help="SCHEME=LEVEL, e.g. national=SECRET or nato='NATO SECRET' (repeatable)."),
    ] = None,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="Token-only account (no interactive login).")
    ] = False,
) -> None:
    """Add a user to your organisation (administrators, with clearances no higher than yours; the
    operator also adds a new organisation's first administrator). The very first user needs no
    login and is the workspace's operator (--role operator)."""
    with open_workspace(settings_from(ctx)) as ws, ws.session() as session:
        sharing = Sharing(session)
        actor = acting(ctx, ws, sharing) if sharing.users() else None
        password = None if no_password else password_from(f"Password for {username}", True)
        user = sharing.add_user(
            username, org, role=role, clearances=parse_clearances(clearance), password=password, actor=actor
        )
        console.print(f"[green]added[/green] user {user.username} ({user.role}) clearances {user.clearances}")


@users.command("update")
def user_update(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="A user of your organisation.")],
    role: Annotated[str | None, typer.Option(help=f"New role: {', '.join(roles())}.")] = None,
    clearance: Annotated[
        list[str] | None,
        typer.Option(help="SCHEME=LEVEL, the user's clearances from now on (repeatable; none above yours)."),
    ] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Whether they may sign in and use tokens.")
    ] = None,
) -> None:
    """Change a user of your organisation (administrators): role, clearances, whether active."""
    with open_workspace(settings_from(ctx)) as ws, ws.session() as session:
        sharing = Sharing(session)
        user = sharing.update_user(
            username,
            actor=acting(ctx, ws, sharing),
            role=role,
            clearances=parse_clearances(clearance) if clearance else None,
            active=active,
        )
        console.print(
            f"[green]updated[/green] user {user.username} ({user.role}) clearances {user.clearances}"
            + ("" if user.active else " [red]inactive[/red]")
        )


@users.command("list")
def user_list(ctx: typer.Context) -> None:
    """List the users of your organisation."""
    with open_workspace(settings_from(ctx)) as ws, ws.session() as session:
        sharing = Sharing(session)
        me = acting(ctx, ws, sharing)
        table = Table("user", "role", "clearances", "active", title="users")
        for user in sharing.users(me.org):
            table.add_row(
                user.username,
                user.role,
                ", ".join(f"{k}: {v}" for k, v in user.clearances.items()),
                "yes" if user.active else "no",
            )
    console.print(table)


@coalitions.command("list")
def coalition_list(ctx: typer.Context) -> None:
    """List coalitions: their member countries today, and who joined or left when."""
    with open_workspace(settings_from(ctx)) as ws, ws.session() as session:
        sharing = Sharing(session)
        acting(ctx, ws, sharing)
        today = sharing.coalitions()
        table = Table("coalition", "members today", "joined or left since 2000", title="coalitions")
        for name, (label, rows) in coalition_data.membership(session).items():
            moves = [
                f"{m.country} {verb} {day:%Y-%m-%d}"
                for m in rows
                for verb, day in (("joined", m.joined_on), ("left", m.left_on))
                if day and day.year >= 2000
            ]
            table.add_row(f"{name}\n{label}", ", ".join(sorted(today.get(name, ()))), "; ".join(moves))
    console.print(table)


@coalitions.command("set")
def coalition_set(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name as REL TO lists use it, e.g. FVEY.")],
    members: Annotated[list[str], typer.Option("--member", help="Member country (repeatable).")],
    label: Annotated[str | None, typer.Option(help="Full name.")] = None,
    on: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="When it takes effect [default: today].")
    ] = None,
) -> None:
    """Set a coalition's members from a date (the workspace's operator): countries not yet
    members join that day, members not named leave it. Every change is audited and listed
    for every organisation's administrators (`detente coalitions history`)."""
    with open_workspace(settings_from(ctx)) as ws, ws.session() as session:
        sharing = Sharing(session)
        changes = sharing.set_coalition(
            name, label, members, actor=acting(ctx, ws, sharing), effective_on=on.date() if on else None
        )
    for change in changes:
        console.print(f"{change.coalition}: {change.change} {change.country or change.note or ''}".rstrip())
    if not changes:
        console.print(f"coalition {name.upper()}: nothing changed")


@coalitions.command("history")
def coalition_history(ctx: typer.Context) -> None:
    """Changes of coalition membership, newest first (administrators), marking those that
    concern your organisation."""
    with open_workspace(settings_from(ctx)) as ws, ws.session() as session:
        sharing = Sharing(session)
        table = Table(
            "when", "by", "coalition", "change", "country", "from", "yours", title="coalition changes"
        )
        for change, affects in sharing.coalition_changes(actor=acting(ctx, ws, sharing)):
            table.add_row(
                f"{change.at:%Y-%m-%d %H:%M}",
                change.actor,
                change.coalition,
                change.change,
                change.country or "",
                f"{change.effective_on:%Y-%m-%d}" if change.effective_on else "",
                "yes" if affects else "",
            )
    console.print(table)


@tokens.command("issue")
def token_issue(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "api",
    days: Annotated[int, typer.Option(help="Days until it expires.")] = 30,
) -> None:
    """Issue an API token for yourself; it is shown once and stored only as a hash."""
    with open_workspace(settings_from(ctx)) as ws, ws.session() as session:
        sharing = Sharing(session)
        secret, token = sharing.issue_token(acting(ctx, ws, sharing), name=name, days=days)
    console.print(f"token {token.id} (expires {token.expires_at:%Y-%m-%d}):")
    console.print(secret, highlight=False, soft_wrap=True)


@tokens.command("revoke")
def token_revoke(ctx: typer.Context, token_id: Annotated[str, typer.Argument(help="Token id.")]) -> None:
    """Revoke a token (yours, or as administrator one of your organisation's)."""
    with open_workspace(settings_from(ctx)) as ws, ws.session() as session:
        sharing = Sharing(session)
        sharing.revoke_token(token_id, actor=acting(ctx, ws, sharing))
    console.print(f"[green]revoked[/green] {token_id}")


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.add_typer(orgs, name="orgs")
    app.add_typer(users, name="users")
    app.add_typer(coalitions, name="coalitions")
    app.add_typer(tokens, name="tokens")
