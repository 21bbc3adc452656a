"""The secure channels pages: conversations and hotlines, keys, a conversation (sealed and
opened in the browser by ``static/channels.js``), a hotline's rosters and communications
checks, and an incident's timeline with its PDF. The server renders metadata only: a
message's text exists in the browser of its sender and its recipients, never here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from detente.core.errors import DetenteError
from detente.core.markings import parse
from detente.store.service import ListQuery
from detente.web.auth import opened

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=500)]


def _suggested_markings(reg: Any) -> list[str]:
    """Markings to offer: releasable to the viewer's country and each other organisation's."""
    from detente.sharing.service import Sharing

    mine = reg.principal.country
    others = sorted({o.country for o in Sharing(reg.session).orgs() if o.country != mine})
    out = [f"UNCLASSIFIED//REL TO {', '.join(sorted({mine, c}))}" for c in others]
    return [*out, "UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL"]


def _index(reg: Any, page: Any, error: str | None = None) -> HTMLResponse:
    from detente.channels import hotlines, keys, messages
    from detente.sharing.service import Sharing

    convs = page.mark_all(messages.conversations(reg))
    lines = page.mark_all(hotlines.hotlines(reg))
    key = keys.current_key(reg.session, reg.author)
    incidents = page.mark_all(
        reg.list("incidents", ListQuery(limit=50, order_by="opened_on", descending=True))
    )
    sharing = Sharing(reg.session)
    return page.render(
        "channels_index.html",
        conversations=convs,
        hotlines=lines,
        key=key,
        incidents=incidents,
        error=error,
        orgs=[o for o in sharing.orgs() if o.id != reg.principal.org],
        users=sharing.users(),
        markings=_suggested_markings(reg),
    )


@router.get("/channels", response_class=HTMLResponse)
def channels_index(request: Request) -> HTMLResponse:
    with opened(request) as (reg, page):
        return _index(reg, page)


@router.post("/channels/new", response_model=None)
def channels_new(
    request: Request, csrf_token: Field, title: Field, marking: Field, users: Field = "", orgs: Field = ""
) -> Response:
    """Start a conversation (users and organisations, comma-separated)."""
    from detente.channels.messages import create_conversation

    try:
        with opened(request, write=True, csrf=csrf_token) as (reg, _page):
            row = create_conversation(
                reg,
                title,
                users=[u for u in users.split(",") if u.strip()],
                orgs=[o for o in orgs.split(",") if o.strip()],
                marking=marking,
            )
            target = f"/channels/c/{row.id}"
    except DetenteError as exc:
        with opened(request) as (reg, page):
            return _index(reg, page, error=exc.message)
    return RedirectResponse(target, status_code=303)


@router.get("/channels/keys", response_class=HTMLResponse)
def channels_keys(request: Request) -> HTMLResponse:
    from detente.channels.keys import keys_of

    with opened(request) as (reg, page):
        mine = keys_of(reg.session, reg.author)
        return page.render(
            "channels_keys.html", keys=mine, current=next((k for k in mine if not k.revoked_at), None)
        )


@router.post("/channels/keys/revoke", response_model=None)
def channels_revoke(request: Request, csrf_token: Field, reason: Field = "revoked") -> Response:
    from detente.channels.keys import revoke

    with opened(request, write=True, csrf=csrf_token) as (reg, _page):
        revoke(reg, reason)
    return RedirectResponse("/channels/keys", status_code=303)


@router.get("/channels/c/{conversation_id}", response_class=HTMLResponse)
def channels_conversation(request: Request, conversation_id: str) -> HTMLResponse:
    from detente.channels import hotlines, messages

    with opened(request) as (reg, page):
        conv = page.mark(messages.conversation(reg, conversation_id))
        line = hotlines.line_of(reg.session, conv.id)
        # the banner covers the messages' metadata on the page (their text never comes here)
        page.markings.extend(parse(m) for m in messages.markings_of(reg, conv.id))
        members = messages.member_users(reg.session, conv.id)
        return page.render(
            "channels_conversation.html",
            conversation=conv,
            hotline=line,
            members=members,
            markings=list(dict.fromkeys([conv.marking, *_suggested_markings(reg)])),
        )


def _hotline_page(reg: Any, page: Any, hotline_id: str, error: str | None = None) -> HTMLResponse:
    from detente.channels import hotlines
    from detente.sharing.service import Sharing

    line = page.mark(hotlines.hotline(reg, hotline_id))
    sharing = Sharing(reg.session)
    sides = [
        (sharing.org(o), hotlines.roster(reg.session, line.id, o)) for o in (line.org_a_id, line.org_b_id)
    ]
    report = hotlines.check_report(reg, line.id)
    mine = [u.username for u in sharing.users(reg.principal.org)]
    return page.render(
        "channels_hotline.html",
        line=line,
        sides=sides,
        report=report,
        error=error,
        my_users=mine,
        my_roster=hotlines.roster(reg.session, line.id, reg.principal.org),
    )


@router.get("/channels/hotlines/{hotline_id}", response_class=HTMLResponse)
def channels_hotline(request: Request, hotline_id: str) -> HTMLResponse:
    with opened(request) as (reg, page):
        return _hotline_page(reg, page, hotline_id)


@router.post("/channels/hotlines/new", response_model=None)
def channels_hotline_new(
    request: Request,
    csrf_token: Field,
    name: Field,
    other_org: Field,
    mine: Field,
    theirs: Field,
    marking: Field,
    ack_seconds: Annotated[int, Form(ge=1, le=86400)] = 300,
) -> Response:
    """Open a hotline (rosters comma-separated, in escalation order)."""
    from detente.channels.hotlines import create_hotline

    try:
        with opened(request, write=True, csrf=csrf_token) as (reg, _page):
            line = create_hotline(
                reg,
                name,
                other_org=other_org,
                mine=mine.split(","),
                theirs=theirs.split(","),
                marking=marking,
                ack_seconds=ack_seconds,
            )
            target = f"/channels/hotlines/{line.id}"
    except DetenteError as exc:
        with opened(request) as (reg, page):
            return _index(reg, page, error=exc.message)
    return RedirectResponse(target, status_code=303)


@router.post("/channels/hotlines/{hotline_id}/roster", response_model=None)
def channels_roster(request: Request, hotline_id: str, csrf_token: Field, roster: Field) -> Response:
    from detente.channels.hotlines import set_roster

    try:
        with opened(request, write=True, csrf=csrf_token) as (reg, _page):
            set_roster(reg, hotline_id, roster.split(","))
    except DetenteError as exc:
        with opened(request) as (reg, page):
            return _hotline_page(reg, page, hotline_id, error=exc.message)
    return RedirectResponse(f"/channels/hotlines/{hotline_id}", status_code=303)


@router.post("/channels/hotlines/{hotline_id}/check", response_model=None)
def channels_check(request: Request, hotline_id: str, csrf_token: Field) -> Response:
    """Send a communications check to both sides now."""
    from detente.api.channels import bus_of
    from detente.channels import hotlines, messages
    from detente.store.access import system_access

    with opened(request, write=True, csrf=csrf_token) as (reg, _page):
        reg.require("admin", "send a communications check")
        hotlines.hotline(reg, hotline_id)
        system_access(reg.session)
        hotlines.run_checks(reg.session, messages.now(), only=hotline_id)
        session = reg.session
    bus_of(request.app).publish(messages.events_of(session))
    return RedirectResponse(f"/channels/hotlines/{hotline_id}", status_code=303)


def _incident_page(reg: Any, page: Any, incident_id: str, error: str | None = None) -> HTMLResponse:
    from detente.channels.crisis import KINDS, timeline

    line = timeline(reg, incident_id)
    page.mark(line.incident)
    for item in line.items:
        page.markings.append(parse(item.marking))
    return page.render("channels_incident.html", line=line, kinds=list(KINDS), error=error)


@router.get("/channels/incidents/{incident_id}", response_class=HTMLResponse)
def channels_incident(request: Request, incident_id: str) -> HTMLResponse:
    with opened(request) as (reg, page):
        return _incident_page(reg, page, incident_id)


@router.post("/channels/incidents/{incident_id}/link", response_model=None)
def channels_link(
    request: Request,
    incident_id: str,
    csrf_token: Field,
    kind: Field,
    ref_id: Field = "",
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    from detente.channels.crisis import add_entry

    try:
        with opened(request, write=True, csrf=csrf_token) as (reg, _page):
            add_entry(reg, incident_id, kind, ref_id=ref_id.strip() or None, note=note)
    except DetenteError as exc:
        with opened(request) as (reg, page):
            return _incident_page(reg, page, incident_id, error=exc.message)
    return RedirectResponse(f"/channels/incidents/{incident_id}", status_code=303)
