"""The registry's pages: dashboard, engagements (table, calendar, detail, form),
partners, agreements, people and search.

Every page reads through the registry service bound to the signed-in viewer, so
what is not releasable to them is absent from tables, calendars, charts, counts and
search alike; each page marks what it shows (``Page.mark``) for its banner.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from detente.charts import engagements_by_month
from detente.core.errors import NotFoundError, ValidationError
from detente.registry.rules import in_force, open_statuses
from detente.registry.rules import overdue as overdue_rule
from detente.registry.taxonomy import taxonomy
from detente.store.fields import Line
from detente.store.models import DEFAULT_MARKING
from detente.store.records import record_type, record_types
from detente.store.service import ListQuery, Store
from detente.web.auth import opened
from detente.web.render import coming

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


def actor_names(reg: Store, ids: Iterable[str | None]) -> dict[str, str]:
    """Names of the actors (among ``ids``) the viewer may see; hidden ones are left out."""
    return reg.titles("actors", (i for i in ids if i))


def engagement_actor_ids(records: Iterable[Any]) -> list[str]:
    out: list[str] = []
    for e in records:
        out.append(e.lead_actor_id)
        out.extend(getattr(e, "partners", []) or [])
    return out


def _date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{value!r} is not a date (YYYY-MM-DD)", field=field) from None


# ------------------------------------------------------------------ dashboard
@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request) -> HTMLResponse:
    today = date.today()
    open_ = {"status": list(open_statuses("engagement"))}
    with opened(request) as (reg, page):
        upcoming = reg.list(
            "engagements", ListQuery(filters=open_, date_from=today, date_to=today + timedelta(60))
        )
        overdue = [
            e
            for e in reg.list("engagements", ListQuery(filters=open_, date_to=today, limit=None))
            if overdue_rule(e.status, e.end_date or e.start_date, today, "engagement")
        ]
        due = reg.list(
            "commitments",
            ListQuery(
                filters={"status": list(open_statuses("commitment"))},
                date_to=today + timedelta(30),
                limit=200,
            ),
        )
        around = reg.list(
            "engagements",
            ListQuery(date_from=today - timedelta(365), date_to=today + timedelta(365), limit=None),
        )
        page.mark_all(upcoming)
        page.mark_all(overdue[:100])
        page.mark_all(due)
        chart = engagements_by_month(around, "Engagements per month, a year either side of today")
        chart_marking = page.derived(around) if around else None
        names = actor_names(
            reg, [*engagement_actor_ids(upcoming + overdue[:100]), *(c.committed_by_id for c in due)]
        )
        return page.render(
            "dashboard.html",
            today=today,
            upcoming=upcoming,
            overdue=overdue[:100],
            overdue_total=len(overdue),
            due=due,
            activity=chart,
            chart_marking=chart_marking,
            names=names,
        )


# ---------------------------------------------------------------- engagements
@router.get("/engagements", response_class=HTMLResponse)
def engagements(
    request: Request,
    status: Annotated[Line | None, Query(max_length=40)] = None,
    kind: Annotated[Line | None, Query(max_length=60)] = None,
    q: Annotated[Line | None, Query(max_length=200)] = None,
    partner: Annotated[Line | None, Query(max_length=200)] = None,
    start: Annotated[Line | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[Line | None, Query(alias="to", max_length=10)] = None,
    p: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    filters = {k: v for k, v in (("status", status), ("kind", kind)) if v}
    with opened(request) as (reg, page):
        involving = reg.resolve_ref("actors", partner, field="partner") if partner else None
        query = ListQuery(
            filters=filters,
            search=q or None,
            involving=involving,
            date_from=_date(start, "from"),
            date_to=_date(end, "to"),
            descending=True,
            limit=PAGE_SIZE,
            offset=(p - 1) * PAGE_SIZE,
        )
        rows = page.mark_all(reg.list("engagements", query))
        total = reg.count("engagements", query)
        names = actor_names(reg, engagement_actor_ids(rows))
        return page.render(
            "engagements.html",
            rows=rows,
            total=total,
            names=names,
            page_no=p,
            pages=max(1, -(-total // PAGE_SIZE)),
            form={
                "status": status or "",
                "kind": kind or "",
                "q": q or "",
                "partner": partner or "",
                "from": start or "",
                "to": end or "",
            },
        )


def _month(value: str | None) -> date:
    if not value:
        return date.today().replace(day=1)
    try:
        year, month = (int(x) for x in value.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise ValidationError(f"{value!r} is not a month (YYYY-MM)", field="month") from None


def _day(value: str | None) -> date:
    return _date(value, "day") or date.today()


@router.get("/engagements/calendar", response_class=HTMLResponse)
def engagement_calendar(
    request: Request,
    month: Annotated[Line | None, Query(max_length=7)] = None,
    view: Annotated[Literal["month", "week"], Query()] = "month",
    day: Annotated[Line | None, Query(max_length=10)] = None,
) -> HTMLResponse:
    """Engagements as bars across the days they run: a month (at most a few lines a day,
    "+n more" leading to that week) or a week (every engagement)."""
    from detente.web.calendar_layout import month_weeks, week_of

    if view == "week":
        shown_day = _day(day)
        first = shown_day - timedelta(shown_day.weekday())
        last = first + timedelta(6)
    else:
        first = _month(month)
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    with opened(request) as (reg, page):
        # anything that started up to a year before and may still run into these days
        candidates = reg.list(
            "engagements", ListQuery(date_from=first - timedelta(366), date_to=last, limit=None)
        )
        shown = [e for e in candidates if (e.end_date or e.start_date) >= first]
        page.mark_all(shown)
        context: dict[str, Any] = {"first": first, "last": last, "shown": shown, "today": date.today()}
        if view == "week":
            week = week_of(first, shown)
            earlier, later = first - timedelta(7), first + timedelta(7)
            return page.render("calendar_week.html", week=week, prev_week=earlier, next_week=later, **context)
        prev_month = (first - timedelta(1)).replace(day=1)
        return page.render(
            "calendar.html", weeks=month_weeks(first, shown), prev_month=prev_month,
            next_month=last + timedelta(1), **context,
        )  # fmt: skip


def _actors_for_form(reg: Store) -> list[Any]:
    return reg.list("actors", ListQuery(order_by="name", limit=None))


ENGAGEMENT_FORM = (
    "title",
    "kind",
    "status",
    "lead_actor_id",
    "start_date",
    "end_date",
    "location_country",
    "location_place",
    "troops",
    "objectives",
    "notes",
    "marking",
)


@router.get("/engagements/new", response_class=HTMLResponse)
def engagement_form(request: Request) -> HTMLResponse:
    with opened(request) as (reg, page):
        actors = _actors_for_form(reg)
        return page.render(
            "engagement_form.html",
            actors=actors,
            values={"status": "proposed", "partners": [], "marking": DEFAULT_MARKING},
            error=None,
            start_statuses=taxonomy().lifecycles["engagement"].start,
        )


@router.post("/engagements/new", response_model=None)
async def engagement_create(request: Request) -> Response:
    form = await request.form()
    values: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in ENGAGEMENT_FORM}
    values["partners"] = [str(v) for v in form.getlist("partners") if v]
    data = {k: v for k, v in values.items() if v not in ("", [])}
    data.setdefault("partners", [])
    try:
        with opened(request, write=True, csrf=str(form.get("csrf_token", ""))) as (reg, _page):
            record = reg.create("engagements", data)
    except (ValidationError, NotFoundError) as exc:
        with opened(request) as (reg, page):
            return page.render(
                "engagement_form.html",
                status_code=422,
                actors=_actors_for_form(reg),
                values=values,
                error=exc.message,
                start_statuses=taxonomy().lifecycles["engagement"].start,
            )
    return RedirectResponse(f"/engagements/{record.id}", status_code=303)


@router.get("/engagements/{record_id}", response_class=HTMLResponse)
def engagement_detail(
    request: Request,
    record_id: Annotated[Line, Path(max_length=64)],
    overridden: Annotated[int, Query(ge=0, le=1)] = 0,
    override_error: Annotated[Line | None, Query(max_length=300)] = None,
) -> HTMLResponse:
    with opened(request) as (reg, page):
        e = page.mark(reg.get("engagements", record_id))
        commitments = page.mark_all(
            reg.list("commitments", ListQuery(filters={"engagement_id": e.id}, limit=None))
        )
        agreement = page.mark(_get_or_none(reg, "agreements", e.agreement_id)) if e.agreement_id else None
        names = actor_names(reg, [*engagement_actor_ids([e]), *(c.committed_by_id for c in commitments)])
        cycle = taxonomy().lifecycles["engagement"]
        from detente.vetting.guard import OPEN, check

        findings = check(reg, e.id) if e.status in OPEN else []
        return page.render(
            "engagement.html",
            e=e,
            findings=findings,
            overridden=bool(overridden),
            override_error=override_error,
            commitments=commitments,
            agreement=agreement,
            names=names,
            moves=cycle.transitions.get(e.status, ()),
            own=e.owner_org_id == reg.principal.org,
        )


def _get_or_none(reg: Store, name: str, record_id: str) -> Any:
    """The record, or None when it is absent or not releasable to the viewer."""
    try:
        return reg.get(name, record_id)
    except NotFoundError:
        return None


@router.post("/engagements/{record_id}/status", response_model=None)
def engagement_move(
    request: Request,
    record_id: Annotated[Line, Path(max_length=64)],
    status: Annotated[Line, Form(max_length=40)],
    version: Annotated[int, Form(ge=1)],
    csrf_token: Annotated[Line, Form(max_length=200)] = "",
) -> Response:
    with opened(request, write=True, csrf=csrf_token) as (reg, _page):
        reg.update("engagements", record_id, {"status": status}, expected_version=version)
    return RedirectResponse(f"/engagements/{record_id}", status_code=303)


@router.post("/engagements/{record_id}/vetting-override", response_model=None)
def engagement_vetting_override(
    request: Request,
    record_id: Annotated[Line, Path(max_length=64)],
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[Line, Form(max_length=200)] = "",
) -> Response:
    """Go ahead despite the vetting findings: the reason goes to the audit trail."""
    from detente.vetting.guard import override

    try:
        with opened(request, write=True, csrf=csrf_token) as (reg, _page):
            override(reg, record_id, reason)
    except ValidationError as exc:
        return RedirectResponse(
            f"/engagements/{record_id}?override_error={quote(exc.message)}#vetting", status_code=303
        )
    return RedirectResponse(f"/engagements/{record_id}?overridden=1#vetting", status_code=303)


# ------------------------------------------------------------------ partners
@router.get("/partners", response_class=HTMLResponse)
def partners(request: Request, q: Annotated[Line | None, Query(max_length=200)] = None) -> HTMLResponse:
    from detente.web.worldmap import engagements_map

    today = date.today()
    with opened(request) as (reg, page):
        states = page.mark_all(
            reg.list(
                "actors", ListQuery(filters={"kind": "state"}, search=q or None, order_by="name", limit=None)
            )
        )
        window = ListQuery(date_from=today - timedelta(365), date_to=today + timedelta(365), limit=None)
        around = reg.list("engagements", window)
        countries = {a.id: a.country for a in reg.list("actors", ListQuery(limit=None))}
        world = engagements_map(around, countries, "Engagements by country, a year either side of today")
        map_marking = page.derived(around) if around else None
        return page.render("partners.html", states=states, q=q or "", world=world, map_marking=map_marking)


@router.get("/partners/{ref}", response_class=HTMLResponse)
def partner(request: Request, ref: Annotated[Line, Path(max_length=200)]) -> HTMLResponse:
    today = date.today()
    with opened(request) as (reg, page):
        actor_id = reg.resolve_ref("actors", ref, field="partner")
        actor = page.mark(reg.get("actors", actor_id))
        # a state's page covers its ministries, services and units too
        involved = [actor_id]
        if actor.kind == "state" and actor.country:
            involved += [
                a.id for a in reg.list("actors", ListQuery(filters={"country": actor.country}, limit=None))
            ]
        involved = sorted(set(involved))
        agreements = [
            a for a in reg.list("agreements", ListQuery(involving=involved, limit=None)) if in_force(a, today)
        ]
        page.mark_all(agreements)
        history = reg.list("engagements", ListQuery(involving=involved, limit=None))
        chart = engagements_by_month(history, f"Engagements with {actor.name} per month")
        chart_marking = page.derived(history) if history else None
        recent = page.mark_all(sorted(history, key=lambda e: e.start_date, reverse=True)[:25])
        people: list[Any] = []
        if actor.country:
            for side in ("sending_state", "receiving_state"):
                people += reg.list("people", ListQuery(filters={side: actor.country}, limit=None))
        page.mark_all(people)
        commitments = page.mark_all(reg.list("commitments", ListQuery(involving=involved, limit=None)))
        relations = None
        if actor.kind == "state" and actor.country:
            from detente.web.relations import partner_section

            relations = partner_section(request, reg, page, actor.country)
        forecast = peacekeeping = None
        if actor.kind == "state" and actor.country:
            from detente.web.warning import country_section

            forecast = country_section(request, actor.country)
            peacekeeping = peacekeeping_section(request, actor.country)
        names = actor_names(
            reg,
            [
                *engagement_actor_ids(recent),
                *(c.committed_by_id for c in commitments),
                *(p for a in agreements for p in a.parties),
            ],
        )
        return page.render(
            "partner.html",
            subject=actor,
            agreements=agreements,
            activity=chart,
            chart_marking=chart_marking,
            recent=recent,
            history_total=len(history),
            people=people,
            commitments=commitments,
            names=names,
            today=today,
            relations=relations,
            forecast=forecast,
            peacekeeping=peacekeeping,
        )


def peacekeeping_section(request: Request, iso3: str) -> dict[str, Any]:
    """The partner page's peacekeeping section: ``relations.peacekeeping.contributions`` (the
    figures the API and CLI give) and a chart of its yearly averages; without a lake, the
    same empty answer as a lake without IPI data (it says what loads it)."""
    from detente.charts import line_chart
    from detente.relations import peacekeeping as pko
    from detente.relations.service import open_lake
    from detente.web.relations import lake_folder

    folder = lake_folder(request)
    if folder is None:  # a page never creates a lake by looking
        data = pko.contributions(None, iso3).data
    else:
        with open_lake(folder) as lake:
            data = pko.contributions(lake, iso3).data
    rows = [
        {"year": r["year"], "personnel": kind, "monthly average": r[kind]}
        for r in data["years"]
        for kind in ("troops", "police", "experts")
    ]
    chart = line_chart(
        rows, x="year", y="monthly average", series="personnel",
        title=f"UN peacekeeping personnel contributed by {iso3}: monthly average per year (IPI)",
    )  # fmt: skip
    return {"data": data, "chart": chart}


# --------------------------------------------------------- agreements, people
@router.get("/agreements", response_class=HTMLResponse)
def agreements(
    request: Request,
    kind: Annotated[Line | None, Query(max_length=60)] = None,
    q: Annotated[Line | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    with opened(request) as (reg, page):
        query = ListQuery(
            filters={"kind": kind} if kind else None, search=q or None, descending=True, limit=500
        )
        rows = page.mark_all(reg.list("agreements", query))
        names = actor_names(reg, [p for a in rows for p in a.parties])
        return page.render(
            "agreements.html",
            rows=rows,
            names=names,
            today=date.today(),
            in_force={a.id: in_force(a, date.today()) for a in rows},
            form={"kind": kind or "", "q": q or ""},
        )


@router.get("/people", response_class=HTMLResponse)
def people(request: Request, q: Annotated[Line | None, Query(max_length=200)] = None) -> HTMLResponse:
    with opened(request) as (reg, page):
        rows = page.mark_all(reg.list("people", ListQuery(search=q or None, limit=500)))
        return page.render("people.html", rows=rows, q=q or "")


# ------------------------------------------------------------------ search
SEARCH_PAGE = 50  # hits per page when one kind of record is shown


@router.get("/search", response_class=HTMLResponse)
def search(
    request: Request,
    q: Annotated[Line, Query(max_length=200)] = "",
    kind: Annotated[Line | None, Query(max_length=64)] = None,
    p: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """Every kind of record the viewer may read whose text matches, grouped by kind, each
    with its snippets (``detente.store.search``: what the API and the CLI answer too)."""
    from detente.store.search import PER_KIND
    from detente.store.search import search as full_text
    from detente.web.records import detail_url

    results = None
    error = None
    with opened(request) as (reg, page):
        if q.strip():
            one = record_type(kind).name if kind else None
            try:
                results = full_text(
                    reg,
                    q,
                    kinds=[one] if one else None,
                    limit=SEARCH_PAGE if one else PER_KIND,
                    offset=(p - 1) * SEARCH_PAGE if one else 0,
                )
            except ValidationError as exc:
                error = exc.message
            for group in results.groups if results else ():
                page.mark_all(h.record for h in group.hits)
        return page.render(
            "search.html",
            q=q,
            kind=kind or "",
            page_no=p,
            page_size=SEARCH_PAGE,
            results=results,
            error=error,
            url=detail_url,
            labels={name: res.name.replace("_", " ") for name, res in record_types().items()},
            dates={name: res.date_field for name, res in record_types().items()},
        )


# ------------------------------------------------- sections still to come
@router.get("/{section}", response_class=HTMLResponse)
def section_to_come(request: Request, section: Annotated[Line, Path(max_length=64)]) -> HTMLResponse:
    spec = coming(section)
    if spec is None:
        raise NotFoundError(f"no page /{section}")
    with opened(request) as (_reg, page):
        return page.render("coming.html", section=spec)
