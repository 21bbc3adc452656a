"""The planning board: the engagements being planned with every check's findings (the
Vienna Document, legal prerequisites, calendars, vetting), filtered by rule; the Vienna
Document drafts; and the optimiser's proposal. Read as the viewer: the banner combines the
markings of the engagements shown and of every record a finding quotes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from detente.core.markings import parse
from detente.registry.service import ListQuery
from detente.web.auth import opened

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

RULE_LABELS = {
    "vd:notification": "Vienna Document: prior notification",
    "vd:notice_period": "Vienna Document: 42 days' notice",
    "vd:observation": "Vienna Document: observation",
    "vd:calendar": "Vienna Document: annual calendar",
    "vd:constraint": "Vienna Document: constraining provisions",
    "vd:split_suspect": "Vienna Document: looks split",
    "vd:zone": "Vienna Document: zone of application",
    "sofa": "Status of forces agreement",
    "cooperation_framework": "Cooperation framework",
    "intelligence_arrangement": "Intelligence-sharing arrangement",
    "host_consent": "Host-nation consent",
    "accreditation": "Attaché accreditation",
    "vetting": "Vetting",
    "overdue_commitments": "Overdue commitments",
    "double_booking": "Booked twice",
    "travel": "No travel day",
    "partner_calendar": "Partner's holiday or election",
}


@router.get("/planning", response_class=HTMLResponse)
def planning_board(request: Request, rule: Annotated[str, Query(max_length=64)] = "") -> HTMLResponse:
    from detente.planning.board import board

    with opened(request) as (reg, page):
        made = board(reg)
        page.markings.extend(parse(m) for m in made.markings())
        findings = made.by_engagement()
        rows = [
            (e, fs)
            for e in made.engagements
            if (fs := findings[e.id]) and (not rule or any(f.rule == rule for f in fs))
        ]
        counts = sorted(made.counts.items(), key=lambda kv: -kv[1])
        return page.render("planning.html", board=made, rows=rows, rule=rule, labels=RULE_LABELS,
                           counts=counts, year=date.today().year + 1)  # fmt: skip


@router.get("/planning/notification/{engagement_id}", response_class=HTMLResponse)
def notification(request: Request, engagement_id: Annotated[str, Path(max_length=64)]) -> HTMLResponse:
    from detente.planning.board import activities
    from detente.planning.vienna import Rules, notification_draft

    with opened(request) as (reg, page):
        e = page.mark(reg.get("engagements", engagement_id))
        found = activities(reg, [e])
        text = notification_draft(found[0], Rules.load()) if found else None
        empty = "This engagement has no forces or no location: nothing to notify."
        return page.render("planning_draft.html", title=f"Prior notification: {e.title}", text=text,
                           empty=empty)  # fmt: skip


@router.get("/planning/calendar", response_class=HTMLResponse)
def calendar(request: Request, year: Annotated[int, Query(ge=1990, le=2100)]) -> HTMLResponse:
    from detente.planning.board import activities
    from detente.planning.vienna import Rules, calendar_draft

    with opened(request) as (reg, page):
        mine: Any = page.principal.country if page.principal else ""
        engagements = [e for e in reg.list("engagements", ListQuery(limit=None)) if e.status != "cancelled"]
        acts = [a for a in activities(reg, engagements) if a.start.year == year and a.notifying_state == mine]
        page.mark_all(e for e in engagements if e.id in {a.id for a in acts})
        text = calendar_draft(acts, year, Rules.load(), mine)
        return page.render(
            "planning_draft.html", title=f"Annual calendar {year}: {mine}", text=text, empty=""
        )
