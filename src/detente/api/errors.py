"""Errors as HTTP: the one place where detente's error hierarchy meets status codes.

Every error response has the same JSON shape (``ErrorBody``), whatever raised it:
a service (``DetenteError``), request validation, or routing (unknown path,
wrong method). Clients can rely on ``error.code``; ``error.message`` is for people.
This module must not decide anything about access: it only translates.

JSON request bodies are measured before any parser recurses into them
(``JsonDepthLimit``: nested deeper than ``MAX_JSON_DEPTH``, a 400 ``too_deep``), and
an error nothing else handled is still answered in the same shape (a 500 ``internal``,
never a plain-text page or a traceback).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from detente.core.bounded import MAX_JSON_DEPTH, check_json_depth
from detente.core.errors import (
    AuthError,
    ConfigError,
    ConflictError,
    DetenteError,
    ImportRowsError,
    NotFoundError,
    StaleVersionError,
    TooDeepError,
    TooLargeError,
    ValidationError,
)

__all__ = [
    "ERRORS",
    "ErrorBody",
    "JsonDepthLimit",
    "Unauthenticated",
    "error_response",
    "install",
    "responses",
]

log = logging.getLogger(__name__)


class Unauthenticated(AuthError):
    """No credentials, or credentials that are not (or no longer) valid."""


class PreconditionRequired(DetenteError):
    """A change to an existing record without If-Match."""


class RowProblem(BaseModel):
    file: str
    row: int
    field: str | None = None
    table: str | None = None
    message: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None
    rows: list[RowProblem] | None = None


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


# most specific first: the first class an error is an instance of decides
ERRORS: list[tuple[type[Exception], int, str]] = [
    (Unauthenticated, 401, "unauthenticated"),
    (AuthError, 403, "forbidden"),
    (NotFoundError, 404, "not_found"),
    (StaleVersionError, 412, "stale_version"),
    (PreconditionRequired, 428, "precondition_required"),
    (ConflictError, 409, "conflict"),
    (TooLargeError, 413, "too_large"),
    (TooDeepError, 400, "too_deep"),
    (ImportRowsError, 422, "bad_rows"),
    (ValidationError, 422, "invalid"),
    (ConfigError, 503, "unavailable"),
    (DetenteError, 400, "bad_request"),
]

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "stale_version",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    428: "precondition_required",
}


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, **extra))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def _classify(exc: DetenteError) -> tuple[int, str]:
    for cls, status, code in ERRORS:
        if isinstance(exc, cls):
            return status, code
    return 400, "bad_request"


def detente_error(exc: DetenteError) -> JSONResponse:
    status, code = _classify(exc)
    if isinstance(exc, ImportRowsError):
        rows = [
            RowProblem(file=e.file, row=e.row, field=e.field, table=e.table, message=e.message)
            for e in exc.errors
        ]
        return error_response(status, code, exc.message.split(":\n")[0], rows=rows)
    return error_response(status, code, exc.message, field=getattr(exc, "field", None))


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[0] if loc else "request")


def _html(request: Request, status: int, code: str, message: str) -> Response | None:
    """Pages (outside the API) show errors as a page, if the web app installed a renderer."""
    render = getattr(request.app.state, "html_error", None)
    if render is None or request.url.path.startswith("/api/"):
        return None
    return render(request, status, code, message)  # type: ignore[no-any-return]


def _json_body(scope: Scope) -> bool:
    """Whether the framework would parse this request's body as JSON (it does when the
    content type is JSON, or when there is none)."""
    if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
        return False
    headers = dict(scope.get("headers") or [])
    kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    return not kind or kind == b"application/json" or kind.endswith(b"+json")


class JsonDepthLimit:
    """Refuse JSON request bodies nested deeper than ``MAX_JSON_DEPTH`` (400 ``too_deep``)
    before FastAPI, pydantic or a route parses them: deep nesting exhausts a recursive
    parser's stack. Other bodies (forms, uploads) pass untouched; size is ``BodyLimit``'s."""

    def __init__(self, app: ASGIApp, limit: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _json_body(scope):
            await self.app(scope, receive, send)
            return
        body = bytearray()
        last: Message = {"type": "http.request", "body": b"", "more_body": False}
        try:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    last = message  # the client went away: pass that on
                    break
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
            check_json_depth(bytes(body), name="request body", limit=self.limit)
        except DetenteError as exc:  # too deep, or (streamed) over BodyLimit's size
            await detente_error(exc)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            if last["type"] != "http.request":
                return last
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


def install(app: FastAPI) -> None:
    """Map every error to the one JSON shape (or, for web pages, an error page)."""
    app.add_middleware(JsonDepthLimit)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # a fault of detente's, not the caller's: logged, answered in the same shape
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        message = "internal error; the server's log has the details"
        try:
            page = _html(request, 500, "internal", message)
        except Exception:  # the error page itself failed: the JSON shape still answers
            page = None
        return page or error_response(500, "internal", message)

    @app.exception_handler(DetenteError)
    async def _detente(request: Request, exc: DetenteError) -> Response:
        status, code = _classify(exc)
        return _html(request, status, code, exc.message) or detente_error(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = exc.errors()
        first = problems[0] if problems else {"loc": (), "msg": "invalid request"}
        field = _location(tuple(first.get("loc", ())))
        message = "; ".join(f"{_location(tuple(p.get('loc', ())))}: {p.get('msg')}" for p in problems[:10])
        return _html(request, 422, "invalid", message) or error_response(422, "invalid", message, field=field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _STATUS_CODES.get(exc.status_code, "error")
        page = _html(request, exc.status_code, code, str(exc.detail))
        if page is not None:
            return page
        response = error_response(exc.status_code, code, str(exc.detail))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error statuses a route can return."""
    described = {
        400: "Bad request",
        401: "Not signed in, or the token is invalid, expired or revoked",
        403: "Signed in but not allowed (role, organisation or marking)",
        404: "No such record (or not releasable to you: the two look the same)",
        409: "Conflicts with the stored data",
        412: "If-Match names an older version: someone else changed the record",
        413: "Request body or upload over the size limit",
        422: "A value is invalid (the field is named)",
        428: "If-Match is required to change or delete a record",
    }
    return {s: {"model": ErrorBody, "description": described[s]} for s in statuses}
