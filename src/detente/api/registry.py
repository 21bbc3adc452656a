"""REST routes for the registry: one router per record type, built from its ``RecordType``.

Each type gets list (filters, paging, sorting), get, create, update and delete,
with optimistic concurrency through ETags: a record's ETag is its version, a
change must send ``If-Match`` with the version it was based on, and a stale one
gets 412. Bulk import and export are here too. Routes parse, call the registry
service, and render; access rules live in the service.

(No ``from __future__ import annotations`` here: the routes' types are built per
record type at run time and FastAPI must see them as objects, not strings.)
"""

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model
from pydantic import ValidationError as PydanticValidationError
from starlette.background import BackgroundTask

from detente.api.deps import INLINE_ROWS, Unit, unit
from detente.api.errors import PreconditionRequired, responses
from detente.bulk.io import FORMATS, ImportReport, export_tables, import_file
from detente.core.errors import DetenteError, ImportRowsError, TooLargeError, ValidationError
from detente.store.fields import clean_line
from detente.store.records import RecordType, record_types
from detente.store.service import ListQuery, Store

__all__ = ["etag", "parse_if_match", "router"]

MAX_PAGE = 1000
# text from a query string or path: one line, no control characters (PostgreSQL refuses NUL)
Text = Annotated[str, AfterValidator(clean_line)]
RecordId = Annotated[str, PathParam(min_length=1, max_length=64), AfterValidator(clean_line)]
M = TypeVar("M", bound=BaseModel)
IF_MATCH_HELP = 'The ETag of the version you edited, e.g. "v3" (from GET or the last change).'


def etag(version: int) -> str:
    return f'"v{version}"'


def parse_if_match(value: str | None) -> int | None:
    """The version an If-Match header names; ``None`` for ``*`` (any version)."""
    if value is None or not value.strip():
        raise PreconditionRequired("send If-Match with the record's ETag (its version) to change it")
    text = value.strip()
    if text == "*":
        return None
    match = re.fullmatch(r'(?:W/)?"?v?(\d{1,9})"?', text)
    if not match:
        raise ValidationError(f'If-Match {text!r} is not an ETag of this API (e.g. "v3")', field="If-Match")
    return int(match.group(1))


class ImportReportPublic(BaseModel):
    file: str
    created: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]
    warnings: list[str] = Field(
        default_factory=list,
        description="What the import left out, and why (e.g. authorship columns: never imported)",
    )


def _filters_model(res: RecordType) -> type[BaseModel]:
    columns = tuple(c.key for c in res.table.__table__.columns if c.key not in (*res.list_fields, *res.refs))
    fields: dict[str, Any] = {
        name: (
            Text | None,
            Field(default=None, max_length=200, description=f"Only records whose {name} is this"),
        )
        for name in res.filters
    }
    fields.update(
        q=(
            Text | None,
            Field(default=None, max_length=200, description=f"Text search in the {res.title_field}"),
        ),
        involving=(
            Text | None,
            Field(default=None, max_length=64, description="An actor id: only records it takes part in"),
        ),
        date_from=(date | None, Field(default=None, description="On or after this date")),
        date_to=(date | None, Field(default=None, description="On or before this date")),
        order_by=(Literal[columns] | None, Field(default=None, description="Field to sort by")),  # type: ignore[valid-type]
        desc=(bool, Field(default=False, description="Sort descending")),
        limit=(int, Field(default=50, ge=1, le=MAX_PAGE, description="Records per page")),
        offset=(int, Field(default=0, ge=0, le=10_000_000, description="Records to skip")),
    )
    return create_model(  # type: ignore[call-overload,no-any-return]
        f"{res.singular.title().replace(' ', '')}Filters", __config__=ConfigDict(extra="forbid"), **fields
    )


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The OpenAPI query parameters of a filters model, as FastAPI would describe them, for
    a route that reads its query string itself (``read_query``)."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema["properties"].items()
    ]


def read_query(model: type[M], request: Request) -> M:
    """A query string as ``model`` (unknown parameters refused), with the errors FastAPI
    gives: validated by the model itself, without FastAPI's per-parameter handling, which
    cost a list of records more than its database query."""
    try:
        return model.model_validate(dict(request.query_params))
    except PydanticValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]) from None


def _query(res: RecordType, params: BaseModel) -> ListQuery:
    values = params.model_dump()
    if values["involving"] and res.name in ("people",):
        raise ValidationError(f"{res.name} cannot be filtered by actor", field="involving")
    return ListQuery(
        filters={k: values[k] for k in res.filters if values.get(k) is not None},
        search=values["q"],
        involving=values["involving"],
        date_from=values["date_from"],
        date_to=values["date_to"],
        order_by=values["order_by"],
        descending=values["desc"],
        limit=values["limit"],
        offset=values["offset"],
    )


class ChangePublic(BaseModel):
    """One entry of a record's history (the audit trail holds field names, never values)."""

    at: datetime
    actor: str
    action: str = Field(description="create, update, marking, delete, or another recorded decision")
    version: int | None = Field(description="The version the change made")
    fields: list[str] = Field(description="The fields it changed")


def _resource_router(res: RecordType) -> APIRouter:
    """List, get, create, change, withdraw, delete and history of one record type."""
    router = APIRouter(prefix=f"/{res.name}", tags=[res.name])
    _add_reads(router, res)
    _add_writes(router, res)
    if res.withdraw_status:
        _add_withdraw(router, res)
    return router


def _json(model: BaseModel, headers: dict[str, str] | None = None) -> Response:
    """A response from a model the store has just built and validated: serialised once by
    its own pydantic serializer, as FastAPI would, without validating it a second time
    against the route's ``response_model`` (which still documents it in OpenAPI)."""
    body = model.__pydantic_serializer__.to_json(model)
    return Response(body, media_type="application/json", headers=headers)


def _add_reads(router: APIRouter, res: RecordType) -> None:
    public, one = res.public_model, res.singular
    page = create_model(
        f"{res.singular.title().replace(' ', '')}Page",
        items=(list[public], ...),  # type: ignore[valid-type]
        total=(int, Field(description="Records matching the filters that you may see")),
        limit=(int, ...),
        offset=(int, ...),
    )
    filters = _filters_model(res)

    @router.get(
        "",
        response_model=page,
        summary=f"List {res.name}",
        responses=responses(401, 403, 422),
        operation_id=f"list_{res.name}",
        openapi_extra={"parameters": query_parameters(filters)},
    )
    async def list_records(request: Request, work: Annotated[Unit, Depends(unit)]) -> Any:
        query = _query(res, read_query(filters, request))

        def read() -> Response:
            with work.registry() as reg:
                items, total = reg.page(res.name, query)
            return _json(page(items=items, total=total, limit=query.limit, offset=query.offset))

        return await work.run(read, small=query.limit is not None and query.limit <= INLINE_ROWS)

    @router.get(
        "/{record_id}",
        response_model=public,
        summary=f"Get one {one}",
        responses=responses(401, 404),
        operation_id=f"get_{_op(one)}",
        name=f"get_{_op(one)}",
    )
    async def get_record(record_id: RecordId, work: Annotated[Unit, Depends(unit)]) -> Any:
        def read() -> Response:
            with work.registry() as reg:
                record = reg.get(res.name, record_id)
            return _json(record, headers={"ETag": etag(record.version)})

        return await work.run(read)

    @router.get(
        "/{record_id}/history",
        response_model=list[ChangePublic],
        responses=responses(401, 404),
        summary=f"Each change of a {one}: who, when, which fields (from the audit trail)",
        operation_id=f"history_{_op(one)}",
    )
    async def history(record_id: RecordId, work: Annotated[Unit, Depends(unit)]) -> Any:
        def read() -> list[ChangePublic]:
            with work.registry() as reg:
                return [
                    ChangePublic(**{**c.__dict__, "fields": list(c.fields)})
                    for c in reg.history(res.name, record_id)
                ]

        return await work.run(read, small=False)  # a record's every version: any length


def _add_writes(router: APIRouter, res: RecordType) -> None:
    public, one = res.public_model, res.singular
    if_match = Annotated[str | None, Header(alias="If-Match", description=IF_MATCH_HELP)]

    @router.post(
        "",
        response_model=public,
        status_code=201,
        summary=f"Create a {one}",
        responses=responses(401, 403, 404, 409, 413, 422),
        operation_id=f"create_{_op(one)}",
    )
    async def create_record(
        body: res.create_model,  # type: ignore[name-defined]
        request: Request,
        work: Annotated[Unit, Depends(unit)],
    ) -> Any:
        def write() -> Any:
            with work.registry() as reg:
                return reg.create(res.name, body)

        record = await work.run(write)
        # the new record's address is the collection's plus its id (the get route's path);
        # request.url_for would find that route by name through every router, on every create
        location = f"{str(request.url).partition('?')[0].rstrip('/')}/{record.id}"
        created = _json(record, headers={"ETag": etag(record.version), "Location": location})
        created.status_code = 201
        return created

    @router.patch(
        "/{record_id}",
        response_model=public,
        summary=f"Change a {one} (send If-Match)",
        responses=responses(401, 403, 404, 409, 412, 413, 422, 428),
        operation_id=f"update_{_op(one)}",
    )
    async def update_record(
        record_id: RecordId,
        body: res.update_model,  # type: ignore[name-defined]
        work: Annotated[Unit, Depends(unit)],
        match: if_match = None,
    ) -> Any:
        expected = parse_if_match(match)

        def write() -> Any:
            with work.registry() as reg:
                version = reg.get(res.name, record_id).version if expected is None else expected
                return reg.update(res.name, record_id, body, expected_version=version)

        record = await work.run(write)
        return _json(record, headers={"ETag": etag(record.version)})

    @router.delete(
        "/{record_id}",
        status_code=204,
        summary=f"Delete a {one} (send If-Match)",
        responses=responses(401, 403, 404, 409, 412, 422, 428),
        operation_id=f"delete_{_op(one)}",
    )
    async def delete_record(
        record_id: RecordId, work: Annotated[Unit, Depends(unit)], match: if_match = None
    ) -> Response:
        expected = parse_if_match(match)

        def write() -> None:
            with work.registry() as reg:
                reg.delete(res.name, record_id, expected_version=expected)

        await work.run(write)
        return Response(status_code=204)


def _add_withdraw(router: APIRouter, res: RecordType) -> None:
    public, one = res.public_model, res.singular
    if_match = Annotated[str | None, Header(alias="If-Match", description=IF_MATCH_HELP)]

    @router.post(
        "/{record_id}/withdraw",
        response_model=public,
        responses=responses(401, 403, 404, 412, 422, 428),
        summary=f"Withdraw a {one}: it becomes {res.withdraw_status} and stays on file (send If-Match)",
        operation_id=f"withdraw_{_op(one)}",
    )
    async def withdraw(
        record_id: RecordId, response: Response, work: Annotated[Unit, Depends(unit)], match: if_match = None
    ) -> Any:
        expected = parse_if_match(match)

        def write() -> Any:
            with work.registry() as reg:
                version = reg.get(res.name, record_id).version if expected is None else expected
                return reg.withdraw(res.name, record_id, expected_version=version)

        record = await work.run(write)
        response.headers["ETag"] = etag(record.version)
        return record


def _op(singular: str) -> str:
    return singular.replace(" ", "_")


def _upload_name(upload: UploadFile) -> str:
    name = Path(upload.filename or "upload").name
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:120] or "upload"
    return name


def save_upload(upload: UploadFile, folder: Path, limit: int) -> Path:
    """Copy an upload to ``folder`` under its own (sanitised) name, refusing it past ``limit``."""
    target = folder / _upload_name(upload)
    size = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(1024 * 1024):
            size += len(chunk)
            if size > limit:
                raise TooLargeError(
                    f"{target.name}: upload is over the limit of {limit:,} bytes (DETENTE_MAX_UPLOAD_BYTES)"
                )
            out.write(chunk)
    return target


bulk = APIRouter(tags=["bulk"])


@bulk.post(
    "/import",
    response_model=ImportReportPublic,
    summary="Import a CSV, XLSX or JSON file: every bad row reported, nothing written if any is bad",
    responses=responses(401, 403, 404, 409, 413, 422),
    operation_id="import_file",
)
def import_upload(
    request: Request,
    file: Annotated[UploadFile, File(description="A .csv, .xlsx, .json or .parquet file as exported")],
    work: Annotated[Unit, Depends(unit)],
    table: Annotated[
        Literal[tuple(record_types())] | None,  # type: ignore[valid-type]
        Form(description="The table a CSV holds (default: from the file name)"),
    ] = None,
) -> Any:
    settings = request.app.state.workspace.settings
    with tempfile.TemporaryDirectory(prefix="detente-upload-") as tmp:
        path = save_upload(file, Path(tmp), min(settings.max_upload_bytes, settings.max_import_bytes))
        with work.registry(write=True) as reg:
            report = import_saved_upload(reg, path, table=table, max_bytes=settings.max_import_bytes)
    return ImportReportPublic(
        file=report.file,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        warnings=report.warnings,
    )


def import_saved_upload(
    reg: Store, path: Path, *, table: str | None, max_bytes: int, progress: Any = None
) -> ImportReport:
    """Import a saved upload; its report and errors name the upload, not where it was saved."""
    with naming_upload(path):
        return import_file(reg, path, table=table, max_bytes=max_bytes, progress=progress, label=path.name)


@contextmanager
def naming_upload(path: Path) -> Iterator[None]:
    """Errors about a saved upload name the user's file, not the folder it was saved in."""
    try:
        yield
    except DetenteError as exc:
        exc.message = exc.message.replace(str(path), path.name)
        exc.args = (exc.message,)
        if isinstance(exc, ImportRowsError):
            exc.errors = [replace(e, file=path.name) for e in exc.errors]
        raise


MEDIA = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
}


@bulk.get(
    "/export",
    summary="Export what you may see (recorded on the audit trail)",
    responses={
        200: {
            "description": "The file",
            "content": {
                m: {
                    "schema": {"type": "object"}
                    if m == "application/json"
                    else {"type": "string", "format": "binary"}
                }
                for m in MEDIA.values()
            },
        },
        **responses(401, 403, 422),
    },
    response_class=FileResponse,
    operation_id="export_file",
)
def export_download(
    work: Annotated[Unit, Depends(unit)],
    table: Annotated[Literal[tuple(record_types())], Query(description="The table to export")],  # type: ignore[valid-type]
    format: Annotated[Literal[tuple(FORMATS)], Query(description="File format")] = "csv",  # type: ignore[valid-type]
) -> FileResponse:
    tmp = Path(tempfile.mkdtemp(prefix="detente-export-"))
    try:
        target = tmp / (table if format in ("csv", "parquet") else f"{table}.{format}")
        # an export is recorded on the audit trail, so it runs as a writing unit of work
        with work.registry(write=True) as reg:
            written = export_tables(reg, format, target, [table])
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    path = written[0]
    return FileResponse(
        path,
        media_type=MEDIA[format],
        filename=path.name,
        background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True),
    )


router = APIRouter()
for _res in record_types().values():
    router.include_router(_resource_router(_res))
router.include_router(bulk)
