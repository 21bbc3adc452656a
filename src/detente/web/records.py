"""Every record type's pages, generated from its declaration: an index of the record
types, and for each a list with filters, a detail page with the record's links (what it
names, and what names it), create and edit forms that show every field's error at once,
the record's history, and its lifecycle moves (withdraw where allowed).

A record the viewer may not read has no page at all: its detail, edit and history
pages answer the same 404 as a record that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from detente.core.errors import AuthError, NotFoundError, StaleVersionError, ValidationError
from detente.sharing.service import Sharing
from detente.store.fields import Line
from detente.store.models import DEFAULT_MARKING
from detente.store.records import RecordType, record_type, record_types
from detente.store.service import ListQuery, Store
from detente.web.auth import opened
from detente.web.forms import assignable_markings, errors_of, parse_form, widgets
from detente.web.render import Page

__all__ = ["detail_url", "router"]

router = APIRouter(include_in_schema=False)
PAGE = 50
RecordId = Annotated[Line, Path(max_length=64)]
# record types with a richer page of their own: the generic detail page sends there
CUSTOM_DETAIL = {
    "engagements": "/engagements/{id}",
    "actors": "/partners/{id}",
    "intel_reports": "/intel/{id}",
}


def detail_url(name: str, record_id: str) -> str:
    """Where a record is shown."""
    return CUSTOM_DETAIL.get(name, "/records/{name}/{id}").format(name=name, id=record_id)


def _kind(name: str) -> RecordType:
    try:
        return record_type(name)
    except ValidationError:
        raise NotFoundError(f"no record type {name!r}") from None


def _titles(store: Store, kind: RecordType, records: list[Any]) -> dict[str, str]:
    """The titles of the records ``records`` name (those the viewer may see), by id."""
    wanted: dict[str, set[str]] = {}
    for r in records:
        for field_name in (*kind.refs, *kind.links):
            target = kind.ref_target(field_name) or "actors"
            value = getattr(r, field_name)
            wanted.setdefault(target, set()).update(
                value if isinstance(value, list) else [value] if value else []
            )
    titles: dict[str, str] = {}
    for target, ids in wanted.items():
        titles.update(store.titles(target, ids))
    return titles


def _backlinks(
    store: Store, kind: RecordType, record_id: str, page: Page
) -> list[tuple[RecordType, str, list[Any]]]:
    """The records that name this one, by type and field (those the viewer may see)."""
    out = []
    for other in record_types().values():
        for field_name, target in other.refs.items():
            if target == kind.name:
                rows = store.list(other.name, ListQuery(filters={field_name: record_id}, limit=100))
                if rows:
                    out.append((other, field_name, page.mark_all(rows)))
        for field_name, link in other.links.items():
            if link.target == kind.name:
                ids = [
                    r.id
                    for r in store.list(other.name, ListQuery(limit=None))
                    if record_id in getattr(r, field_name)
                ]
                if ids:
                    rows = store.list(other.name, ListQuery(filters={"id": ids[:100]}, limit=100))
                    out.append((other, field_name, page.mark_all(rows)))
    return out


@router.get("/records", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    with opened(request) as (store, page):
        counts = store.counts()
        return page.render("records_index.html", kinds=list(record_types().values()), counts=counts)


@router.get("/records/{name}", response_class=HTMLResponse)
def listing(
    request: Request,
    name: Annotated[Line, Path(max_length=60)],
    q: Annotated[Line | None, Query(max_length=200)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    kind = _kind(name)
    filters = {k: v for k, v in request.query_params.items() if k in kind.filters and v}
    with opened(request) as (store, page):
        query = ListQuery(filters=filters, search=q or None, limit=PAGE, offset=offset)
        rows = page.mark_all(store.list(kind.name, query))
        total = store.count(kind.name, query)
        return page.render(
            "record_list.html", kind=kind, rows=rows, total=total, q=q or "", filters=filters, offset=offset,
            page_size=PAGE, titles=_titles(store, kind, rows), detail_url=detail_url,
        )  # fmt: skip


def _form_page(
    store: Store,
    page: Page,
    kind: RecordType,
    record: Any | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    assert page.principal is not None
    owner = record.owner_org_id if record is not None else page.principal.org
    partners = [o.country for o in Sharing(store.session).orgs()]
    markings = assignable_markings(
        page.principal, page.coalitions, record.marking if record else None, owner, partners
    )
    return page.render(
        "record_form.html", status_code=status, kind=kind, record=record,
        fields=widgets(store, kind, values, errors, markings), general=errors.get(""),
    )  # fmt: skip


@router.get("/records/{name}/new", response_class=HTMLResponse)
def new_form(request: Request, name: Annotated[Line, Path(max_length=60)]) -> HTMLResponse:
    kind = _kind(name)
    with opened(request) as (store, page):
        store.require("write", f"add {kind.name}")
        defaults = {
            n: i.get_default(call_default_factory=True)
            for n, i in kind.fields_model.model_fields.items()
            if not i.is_required()
        }
        defaults["marking"] = DEFAULT_MARKING  # as in the CLI and the API
        return _form_page(store, page, kind, None, defaults, {})


@router.post("/records/{name}/new", response_model=None)
async def create(request: Request, name: Annotated[Line, Path(max_length=60)]) -> Response:
    kind = _kind(name)
    form = await request.form()
    data = parse_form(kind, form)
    errors = errors_of(kind.create_model, data)
    if not errors:
        try:
            with opened(request, write=True, csrf=str(form.get("csrf_token", ""))) as (store, _page):
                record = store.create(kind.name, data)
            return RedirectResponse(detail_url(kind.name, record.id), status_code=303)
        except ValidationError as exc:
            errors = {exc.field or "": exc.message.split(": ", 1)[-1] if exc.field else exc.message}
    with opened(request) as (store, page):
        return _form_page(store, page, kind, None, data, errors, status=422)


@router.get("/records/{name}/{record_id}", response_class=HTMLResponse)
def detail(request: Request, name: Annotated[Line, Path(max_length=60)], record_id: RecordId) -> Response:
    kind = _kind(name)
    with opened(request) as (store, page):
        record = page.mark(store.get(kind.name, record_id))
        if kind.name in CUSTOM_DETAIL:
            return RedirectResponse(detail_url(kind.name, record.id), status_code=303)
        moves = kind.lifecycle[1].moves(getattr(record, kind.lifecycle[0])) if kind.lifecycle else ()
        return page.render(
            "record_detail.html", kind=kind, record=record, titles=_titles(store, kind, [record]),
            backlinks=_backlinks(store, kind, record.id, page), detail_url=detail_url, moves=moves,
            own=record.owner_org_id == store.principal.org,
        )  # fmt: skip


@router.get("/records/{name}/{record_id}/edit", response_class=HTMLResponse)
def edit_form(
    request: Request, name: Annotated[Line, Path(max_length=60)], record_id: RecordId
) -> HTMLResponse:
    kind = _kind(name)
    with opened(request) as (store, page):
        record = page.mark(store.get(kind.name, record_id))  # hidden: the same 404 as its detail page
        _may_edit(store, kind, record)
        return _form_page(store, page, kind, record, record.model_dump(), {})


def _may_edit(store: Store, kind: RecordType, record: Any) -> None:
    store.require("write", f"change {kind.name}")
    if record.owner_org_id != store.principal.org:
        raise AuthError(f"this {kind.singular} belongs to another organisation: it is read-only for you")


@router.post("/records/{name}/{record_id}/edit", response_model=None)
async def update(
    request: Request, name: Annotated[Line, Path(max_length=60)], record_id: RecordId
) -> Response:
    kind = _kind(name)
    form = await request.form()
    data = parse_form(kind, form, clear_blanks=True)
    version = int(str(form.get("version", "0")) or 0)
    errors = errors_of(kind.update_model, data)
    if not errors:
        try:
            with opened(request, write=True, csrf=str(form.get("csrf_token", ""))) as (store, _page):
                store.update(kind.name, record_id, data, expected_version=version)
            return RedirectResponse(detail_url(kind.name, record_id), status_code=303)
        except (ValidationError, StaleVersionError) as exc:
            errors = {getattr(exc, "field", None) or "": exc.message}
    with opened(request) as (store, page):
        record = page.mark(store.get(kind.name, record_id))
        return _form_page(store, page, kind, record, {**record.model_dump(), **data}, errors, status=422)


@router.get("/records/{name}/{record_id}/history", response_class=HTMLResponse)
def history(
    request: Request, name: Annotated[Line, Path(max_length=60)], record_id: RecordId
) -> HTMLResponse:
    kind = _kind(name)
    with opened(request) as (store, page):
        record = page.mark(store.get(kind.name, record_id))
        changes = store.history(kind.name, record_id)
        return page.render(
            "record_history.html", kind=kind, record=record, changes=changes, detail_url=detail_url
        )


@router.post("/records/{name}/{record_id}/status", response_model=None)
async def move(request: Request, name: Annotated[Line, Path(max_length=60)], record_id: RecordId) -> Response:
    """A lifecycle move, or a withdrawal (``status`` = ``withdraw``)."""
    kind = _kind(name)
    form = await request.form()
    target, version = str(form.get("status", "")), int(str(form.get("version", "0")) or 0)
    if kind.lifecycle is None:
        raise ValidationError(f"{kind.name} have no lifecycle", field="status")
    with opened(request, write=True, csrf=str(form.get("csrf_token", ""))) as (store, _page):
        if target == "withdraw":
            store.withdraw(kind.name, record_id, expected_version=version)
        else:
            store.update(kind.name, record_id, {kind.lifecycle[0]: target}, expected_version=version)
    return RedirectResponse(detail_url(kind.name, record_id), status_code=303)
