"""``detente channels``: end-to-end encrypted messaging and crisis hotlines from the command line.

Keys are generated, locked and unlocked here, on the user's machine; messages are sealed
here before they reach the store and opened here after: the store only ever holds
ciphertext. The passphrase is asked for (hidden), or read from ``DETENTE_PASSPHRASE``
for scripts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from detente.cli.context import console, open_registry

__all__ = ["register"]

app = typer.Typer(
    help="Secure channels: encrypted messages, crisis hotlines, the crisis log.", no_args_is_help=True
)
keys_app = typer.Typer(
    help="Your keys: generate and publish, rotate, revoke, show fingerprints.", no_args_is_help=True
)
hotline_app = typer.Typer(
    help="Crisis hotlines: open one, list them, communications checks.", no_args_is_help=True
)
incident_app = typer.Typer(
    help="The crisis log: an incident's timeline, links and PDF.", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")
app.add_typer(hotline_app, name="hotline")
app.add_typer(incident_app, name="incident")

Marking = Annotated[
    str, typer.Option("--marking", help="Marking banner, e.g. 'UNCLASSIFIED//REL TO GBR, FRA'")
]


def _passphrase(confirm: bool = False) -> str:
    given = os.environ.get("DETENTE_PASSPHRASE")
    if given:
        return given
    return str(typer.prompt("Passphrase of your channel keys", hide_input=True, confirmation_prompt=confirm))


def _unlocked(reg: Any) -> Any:
    """The acting user's key in force, unlocked here with their passphrase."""
    from detente.channels.crypto import unlock
    from detente.channels.keys import my_keys
    from detente.core.errors import NotFoundError

    mine = [k for k in my_keys(reg) if k["revoked_at"] is None]
    if not mine:
        raise NotFoundError("you have no key in force: run `detente channels keys init`")
    return unlock(mine[0]["locked"], _passphrase()), mine[0]


def _all_unlocked(reg: Any) -> dict[str, Any]:
    """Every key the user ever had, by id, unlocked with one passphrase (old messages need old keys)."""
    from detente.channels.crypto import unlock
    from detente.channels.keys import my_keys

    passphrase = _passphrase()
    return {k["id"]: (unlock(k["locked"], passphrase), k) for k in my_keys(reg)}


@keys_app.command("init")
def keys_init(ctx: typer.Context) -> None:
    """Generate your key pairs here, lock the private keys under your passphrase, publish."""
    _publish(ctx, rotate=False)


@keys_app.command("rotate")
def keys_rotate(ctx: typer.Context) -> None:
    """Replace your key pairs: the old ones are marked revoked for everyone."""
    _publish(ctx, rotate=True)


def _publish(ctx: typer.Context, *, rotate: bool) -> None:
    from detente.channels.crypto import generate
    from detente.channels.keys import publish

    passphrase = _passphrase(confirm=True)
    pair = generate()
    with open_registry(ctx) as (_ws, reg):
        if rotate:
            _unlocked(reg)  # the old passphrase must open the old key first: a wrong one changes nothing
        key = publish(reg, pair.published(reg.author, passphrase), rotate=rotate)
    console.print(
        f"published; fingerprint [bold]{key.fingerprint}[/bold] (compare it out of band)", highlight=False
    )


@keys_app.command("revoke")
def keys_revoke(
    ctx: typer.Context, reason: Annotated[str, typer.Option("--reason", help="Why")] = "revoked"
) -> None:
    """Revoke your key in force: nobody can address a message to it any more."""
    from detente.channels.keys import revoke

    with open_registry(ctx) as (_ws, reg):
        key = revoke(reg, reason)
    console.print(f"revoked {key.fingerprint}: {key.revoked_reason}", highlight=False)


@keys_app.command("show")
def keys_show(
    ctx: typer.Context, user: Annotated[str | None, typer.Argument(help="Whose keys")] = None
) -> None:
    """A user's keys and fingerprints (yours by default), newest first."""
    from detente.channels.keys import keys_of

    with open_registry(ctx) as (_ws, reg):
        found = keys_of(reg.session, (user or reg.author).strip().lower())
        table = Table("fingerprint", "published", "state", title=f"keys of {user or reg.author}")
        for k in found:
            state = f"revoked {k.revoked_at:%Y-%m-%d} ({k.revoked_reason})" if k.revoked_at else "in force"
            table.add_row(k.fingerprint, f"{k.created_at:%Y-%m-%d %H:%M}", state)
    console.print(table)


@app.command("start")
def start(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="What the conversation is about")],
    marking: Marking,
    users: Annotated[list[str] | None, typer.Option("--with", help="A user to include (repeat)")] = None,
    orgs: Annotated[
        list[str] | None, typer.Option("--org", help="An organisation to include (repeat)")
    ] = None,
) -> None:
    """Start a conversation with users and whole organisations."""
    from detente.channels.messages import create_conversation

    with open_registry(ctx) as (_ws, reg):
        row = create_conversation(reg, title, users=users or [], orgs=orgs or [], marking=marking)
    console.print(f"conversation {row.id} ({row.marking})", highlight=False)


@app.command("list")
def conversation_list(ctx: typer.Context) -> None:
    """Your conversations and hotlines."""
    from detente.channels.messages import conversations

    with open_registry(ctx) as (_ws, reg):
        table = Table("id", "title", "kind", "marking", "started")
        table.columns[0].no_wrap = True  # copied whole into send and read (or give the title)
        for c in conversations(reg):
            table.add_row(c.id, c.title, c.kind, c.marking, f"{c.created_at:%Y-%m-%d %H:%M}")
    console.print(table)


@app.command("send")
def send(
    ctx: typer.Context,
    conversation: Annotated[str, typer.Argument(help="Conversation id or title (detente channels list)")],
    text: Annotated[str, typer.Argument(help="The message (encrypted here, before it leaves)")],
    marking: Annotated[str | None, typer.Option("--marking", help="Default: the conversation's")] = None,
    urgent: Annotated[bool, typer.Option("--urgent", help="Demand an acknowledgement (hotlines)")] = False,
    attach: Annotated[Path | None, typer.Option("--attach", help="A file to attach, encrypted")] = None,
) -> None:
    """Seal a message for every member who may read its marking, and send it."""
    from detente.channels.client import Addressee, seal_message
    from detente.channels.hotlines import send_on_hotline
    from detente.channels.messages import find_conversation, recipients
    from detente.core.markings import normalise

    with open_registry(ctx) as (_ws, reg):
        conv = find_conversation(reg, conversation)
        banner = normalise(marking or conv.marking)
        pair, _key = _unlocked(reg)
        found = recipients(reg, conv.id, banner)
        to = [
            Addressee(r.username, r.fingerprint or "", r.box_public or "")
            for r in found
            if r.may_read and r.key_id and r.username != reg.author
        ]
        left = [
            f"{r.username} ({r.reason if not r.may_read else 'no key'})"
            for r in found
            if r.username != reg.author and not (r.may_read and r.key_id)
        ]
        attachment = (attach.name, attach.read_bytes()) if attach else None
        body = seal_message(
            pair,
            sender=reg.author,
            conversation_id=conv.id,
            marking=banner,
            to=to,
            text=text,
            urgent=urgent,
            attachment=attachment,
        )
        message = send_on_hotline(reg, body)
    console.print(f"sent {message.id} to {len(to)} recipient(s) under {banner}", highlight=False)
    if left:
        console.print("not addressed: " + "; ".join(left), highlight=False)


@app.command("read")
def read(
    ctx: typer.Context,
    conversation: Annotated[str, typer.Argument(help="Conversation id or title (detente channels list)")],
    save: Annotated[
        Path | None, typer.Option("--save", help="Write the attachments, decrypted, to this folder")
    ] = None,
) -> None:
    """Decrypt here the conversation's messages addressed to you (marking each read)."""
    from detente.channels.client import open_message
    from detente.channels.keys import key_by_id
    from detente.channels.messages import find_conversation, mark_read, message_list, my_copy

    with open_registry(ctx) as (_ws, reg):
        conversation = find_conversation(reg, conversation).id
        keys = _all_unlocked(reg)
        for item in message_list(reg, conversation):
            when, who = item["sent_at"][:19].replace("T", " "), item["sender"]
            head = f"{when} {who} [{item['marking']}]" + (" URGENT" if item["urgent"] else "")
            copy = item.get("copy")
            if item["kind"] == "check":
                console.print(
                    f"{head}: communications check{' (acknowledged)' if copy and copy['acked_at'] else ''}"
                )
                continue
            if copy is None:
                console.print(f"{head}: (sent by you)", highlight=False, markup=False)
                continue
            pair, mine = keys[copy["recipient_key_id"]]
            sender = key_by_id(reg.session, item["sender_key_id"])
            message, _ = my_copy(reg, item["id"])
            att = (
                {"ciphertext": message.attachment, "nonce": message.attachment_nonce}
                if message.attachment
                else None
            )
            opened = open_message(
                pair,
                item,
                sender.box_public,
                sender.sign_public,
                sender.fingerprint,
                mine["fingerprint"],
                att,
            )
            extra = (
                f" [attachment {opened.attachment_name}, {len(opened.attachment or b'')} bytes]"
                if att
                else ""
            )
            console.print(f"{head}: {opened.text}{extra}", highlight=False, markup=False)
            if save is not None and opened.attachment is not None and opened.attachment_name:
                save.mkdir(parents=True, exist_ok=True)
                target = save / Path(opened.attachment_name).name  # never a path the sender chose
                target.write_bytes(opened.attachment)
                console.print(f"  saved {target}", highlight=False, markup=False)
            mark_read(reg, item["id"])


@app.command("ack")
def ack(ctx: typer.Context, message: Annotated[str, typer.Argument(help="Message id")]) -> None:
    """Acknowledge an urgent message or a communications check."""
    from detente.channels.hotlines import ack as acknowledge

    with open_registry(ctx) as (_ws, reg):
        alert = acknowledge(reg, message)
    console.print(f"acknowledged {message}" + (f" ({alert.status})" if alert else ""), highlight=False)


@hotline_app.command("open")
def hotline_open(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The hotline's name")],
    other: Annotated[str, typer.Option("--with", help="The other organisation (id, name or country code)")],
    mine: Annotated[str, typer.Option("--mine", help="Your duty roster, comma-separated, in order")],
    theirs: Annotated[str, typer.Option("--theirs", help="Their duty roster, comma-separated, in order")],
    marking: Marking,
    ack_seconds: Annotated[
        int, typer.Option("--ack-seconds", help="Deadline to acknowledge urgent messages")
    ] = 300,
    check_every: Annotated[int | None, typer.Option("--check-every", help="Minutes between checks")] = None,
) -> None:
    """Open a hotline between your organisation and another, with both duty rosters."""
    from detente.channels.hotlines import create_hotline

    with open_registry(ctx) as (_ws, reg):
        line = create_hotline(
            reg,
            name,
            other_org=other,
            mine=mine.split(","),
            theirs=theirs.split(","),
            marking=marking,
            ack_seconds=ack_seconds,
            check_every_minutes=check_every,
        )
    console.print(f"hotline {line.id} (conversation {line.conversation_id})", highlight=False)


@hotline_app.command("list")
def hotline_list(ctx: typer.Context) -> None:
    """Your organisation's hotlines, their rosters and deadlines."""
    from detente.channels.hotlines import hotlines, roster

    with open_registry(ctx) as (_ws, reg):
        table = Table("id", "name", "deadline", "rosters", "owner")
        for h in hotlines(reg):
            rosters = " | ".join(", ".join(roster(reg.session, h.id, o)) for o in (h.org_a_id, h.org_b_id))
            table.add_row(h.id, h.name, f"{h.ack_seconds} s", rosters, h.owner)
    console.print(table)


@hotline_app.command("checks")
def hotline_checks(
    ctx: typer.Context, hotline: Annotated[str, typer.Argument(help="Hotline id or name")]
) -> None:
    """Communications checks: time to acknowledge per side, over time."""
    from detente.channels.hotlines import check_report, hotlines

    with open_registry(ctx) as (_ws, reg):
        named = [h.id for h in hotlines(reg) if h.name.casefold() == hotline.strip().casefold()]
        report = check_report(reg, named[0] if len(named) == 1 else hotline)
    for side in report["sides"]:
        median = side["median_seconds"]
        table = Table(
            "sent",
            "status",
            "by",
            "seconds",
            title=f"{side['org']}: median "
            f"{'–' if median is None else f'{median:.1f} s'}, {side['unanswered']} unanswered",
        )
        for c in side["checks"]:
            table.add_row(c["sent_at"][:19], c["status"], c["acked_by"] or "–", str(c["seconds"] or "–"))
        console.print(table)


@incident_app.command("link")
def incident_link(
    ctx: typer.Context,
    incident: Annotated[str, typer.Argument(help="Incident id")],
    kind: Annotated[str, typer.Option("--kind", help="message, report, engagement or decision")],
    ref: Annotated[str | None, typer.Option("--ref", help="The id of what to link")] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note (a decision's text)")] = None,
) -> None:
    """Put a message, report or engagement on an incident's timeline, or log a decision."""
    from detente.channels.crisis import add_entry

    with open_registry(ctx) as (_ws, reg):
        entry = add_entry(reg, incident, kind, ref_id=ref, note=note)
    console.print(f"linked ({entry.kind}, {entry.at:%Y-%m-%d %H:%M})", highlight=False)


@incident_app.command("timeline")
def incident_timeline(
    ctx: typer.Context,
    incident: Annotated[str, typer.Argument(help="Incident id")],
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Also write it as PDF to this file")] = None,
) -> None:
    """An incident's timeline (what you may see of it), optionally as PDF."""
    from detente.channels import crisis

    with open_registry(ctx) as (_ws, reg):
        line = crisis.timeline(reg, incident)
    table = Table(
        "when (UTC)", "kind", "what", "detail", "marking", title=f"{line.incident.title} [{line.banner}]"
    )
    for i in line.items:
        table.add_row(f"{i.at:%Y-%m-%d %H:%M}", i.kind, i.title, i.detail, i.marking)
    console.print(table)
    if pdf:
        pdf.write_bytes(crisis.pdf(line))
        console.print(f"wrote {pdf}", highlight=False)


def register(root: typer.Typer) -> None:
    """Add ``detente channels`` to the root command."""
    root.add_typer(
        app, name="channels", help="Secure channels: encrypted messages, crisis hotlines, the crisis log."
    )
