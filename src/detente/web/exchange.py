"""The intelligence pages: the reports you may read (with their cautions), a report as you or
a partner sees it (the tear-line: a "portion withheld" marker for each paragraph not
shown, and the banner of what is shown), its dissemination list and verification
history, and the form to write one with a marking per paragraph whose banner updates as
you type (``/static/exchange.js`` asks ``/intel/banner``)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from detente.core.errors import DetenteError
from detente.core.markings import Principal, parse
from detente.exchange.grading import CREDIBILITY, RELIABILITY, caution
from detente.exchange.rules import banner_of
from detente.exchange.service import Exchange
from detente.sharing.service import Sharing
from detente.store.fields import Line
from detente.store.service import ListQuery, Store
from detente.web.auth import opened
from detente.web.forms import assignable_markings
from detente.web.render import Page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Id = Annotated[Line, Path(max_length=64)]
Csrf = Annotated[Line, Form(max_length=200)]
MAX_PARAGRAPHS = 50


def _me(page: Page) -> Principal:
    assert page.principal is not None  # opened() signs the viewer in
    return page.principal


def _partners(store: Store, page: Page) -> list[str]:
    countries = {o.country for o in Sharing(store.session).orgs()} - {_me(page).country}
    return sorted(countries) + sorted(page.coalitions)


@router.get("/intel", response_class=HTMLResponse)
def intel_list(request: Request) -> HTMLResponse:
    with opened(request) as (store, page):
        reports = Exchange(store).reports(ListQuery(order_by="report_time", descending=True, limit=200))
        page.mark_all(reports)
        cautions = {r.id: caution(r.source_reliability, r.info_credibility, r.verification) for r in reports}
        return page.render("exchange_list.html", reports=reports, cautions=cautions)


@router.get("/intel/banner")
def intel_banner(
    request: Request, m: Annotated[list[str] | None, Query(max_length=50)] = None
) -> JSONResponse:
    """The banner of a report with these portion markings (the form's live banner)."""
    with opened(request) as (_store, page):
        try:
            banner = banner_of([x for x in (m or []) if x.strip()] or ["UNCLASSIFIED"], page.coalitions)
        except DetenteError as exc:
            return JSONResponse({"banner": None, "error": exc.message})
    return JSONResponse({"banner": banner, "error": None})


def _form(
    request: Request, store: Store, page: Page, values: dict[str, Any], error: str | None
) -> HTMLResponse:
    me = _me(page)
    countries = [o.country for o in Sharing(store.session).orgs()]
    markings = assignable_markings(me, page.coalitions, None, me.org, countries)
    status = 422 if error else 200
    chosen = [values.get("marking") or markings[0], *(m or markings[0] for m, _ in values["paragraphs"])]
    return page.render(
        "exchange_form.html", status_code=status, markings=markings, values=values, error=error,
        banner=banner_of(chosen, page.coalitions),
        reliability=RELIABILITY, credibility=CREDIBILITY,
    )  # fmt: skip


@router.get("/intel/new", response_class=HTMLResponse)
def intel_new(request: Request) -> HTMLResponse:
    with opened(request) as (store, page):
        return _form(request, store, page, {"paragraphs": [("", ""), ("", "")]}, None)


@router.post("/intel/new", response_model=None)
async def intel_create(request: Request) -> Response:
    form = await request.form()
    texts = [str(t) for t in form.getlist("para_text")][:MAX_PARAGRAPHS]
    marks = [str(m) for m in form.getlist("para_marking")][:MAX_PARAGRAPHS]
    paragraphs = [(m, t) for m, t in zip(marks, texts, strict=False) if t.strip()]
    header = {k: str(form.get(k, "")).strip() for k in ("title", "summary", "marking", "source_reliability",
                                                        "info_credibility", "report_time")}  # fmt: skip
    header = {k: v for k, v in header.items() if v}
    with opened(request, write=True, csrf=str(form.get("csrf_token", ""))) as (store, page):
        try:
            view = Exchange(store).write(header, paragraphs)
        except DetenteError as exc:
            store.session.rollback()
            values = {**header, "paragraphs": paragraphs or [("", "")]}
            return _form(request, store, page, values, exc.message)
        return RedirectResponse(f"/intel/{view.report.id}", status_code=303)


@router.get("/intel/{report_id}", response_class=HTMLResponse)
def intel_view(
    request: Request,
    report_id: Id,
    partner: Annotated[Line | None, Query(max_length=40)] = None,
    error: Annotated[Line | None, Query(max_length=2000)] = None,
    done: Annotated[Line | None, Query(max_length=300)] = None,
) -> HTMLResponse:
    with opened(request) as (store, page):
        ex = Exchange(store)
        view = ex.view(report_id, partner or None)
        page.markings.append(parse(view.banner))
        owner = view.report.owner_org_id == _me(page).org
        return page.render(
            "exchange_report.html", view=view, partner=partner, partners=_partners(store, page),
            releases=ex.disseminations(report_id), steps=ex.verification_history(report_id),
            consents=ex.consents(report_id), owner=owner, error=error, done=done,
        )  # fmt: skip


def _after(report_id: str, action: Any) -> Response:
    try:
        message = action()
    except DetenteError as exc:
        return RedirectResponse(f"/intel/{report_id}?error={quote(exc.message)}#actions", status_code=303)
    return RedirectResponse(f"/intel/{report_id}?done={quote(message)}#actions", status_code=303)


@router.post("/intel/{report_id}/release", response_model=None)
def intel_release(
    request: Request, report_id: Id, partner: Annotated[Line, Form(max_length=40)],
    override: Annotated[str, Form(max_length=2000)] = "", csrf_token: Csrf = "",
) -> Response:  # fmt: skip
    def act() -> str:
        with opened(request, write=True, csrf=csrf_token) as (store, _page):
            row = Exchange(store).release(report_id, partner, override=override or None)
            return f"released to {row.partner}: paragraphs {', '.join(map(str, row.portions))}"

    return _after(report_id, act)


@router.post("/intel/{report_id}/verify", response_model=None)
def intel_verify(
    request: Request, report_id: Id, status: Annotated[Line, Form(max_length=40)],
    related: Annotated[Line, Form(max_length=64)] = "", note: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Csrf = "",
) -> Response:  # fmt: skip
    def act() -> str:
        with opened(request, write=True, csrf=csrf_token) as (store, _page):
            Exchange(store).verify(report_id, status, related=related or None, note=note or None)
            return f"verification: {status}"

    return _after(report_id, act)


@router.post("/intel/{report_id}/consent", response_model=None)
def intel_consent(
    request: Request, report_id: Id, partner: Annotated[Line, Form(max_length=40)],
    reason: Annotated[str, Form(max_length=2000)] = "", csrf_token: Csrf = "",
) -> Response:  # fmt: skip
    def act() -> str:
        with opened(request, write=True, csrf=csrf_token) as (store, _page):
            row = Exchange(store).request_consent(report_id, partner, reason or None)
            return f"consent requested to pass it on to {row.partner}"

    return _after(report_id, act)


@router.post("/intel/{report_id}/consents/{consent_id}", response_model=None)
def intel_answer(
    request: Request, report_id: Id, consent_id: Id, answer: Annotated[Line, Form(max_length=20)],
    reference: Annotated[Line, Form(max_length=300)] = "", csrf_token: Csrf = "",
) -> Response:  # fmt: skip
    def act() -> str:
        with opened(request, write=True, csrf=csrf_token) as (store, _page):
            row = Exchange(store).decide_consent(consent_id, answer == "approve", reference or None)
            return f"consent {row.status}"

    return _after(report_id, act)
