"""Administration (organisations and users) and bulk import with progress.

An import runs in a background thread with its own unit of work (all rows or
none, as everywhere); its page refreshes itself to show progress until it ends.
Jobs are kept in memory and visible only to the user who started them.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from detente.api.registry import import_saved_upload, save_upload
from detente.core.errors import DetenteError, ImportRowsError, NotFoundError
from detente.core.markings import Principal
from detente.core.workspace import Workspace
from detente.registry.fields import Line
from detente.registry.resources import RESOURCES
from detente.registry.service import Registry
from detente.sharing.service import AuthError, Sharing, roles
from detente.web.auth import opened

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------- admin
def _admin_page(
    request: Request, *, error: str | None = None, notice: str | None = None, status: int = 200
) -> HTMLResponse:
    with opened(request) as (reg, page):
        if page.principal is None or page.principal.role != "administrator":
            raise AuthError("administration is for administrators")
        sharing = Sharing(reg.session)
        return page.render(
            "admin.html",
            status_code=status,
            orgs=sharing.orgs(),
            users=sharing.users(page.principal.org),
            roles=roles(),
            error=error,
            notice=notice,
        )


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request) -> HTMLResponse:
    return _admin_page(request)


@router.post("/admin/users", response_model=None)
def admin_add_user(
    request: Request,
    username: Annotated[Line, Form(max_length=100)],
    role: Annotated[Line, Form(max_length=40)],
    password: Annotated[str, Form(max_length=1000)],
    national: Annotated[Line, Form(max_length=60)] = "",
    nato: Annotated[Line, Form(max_length=60)] = "",
    organisation: Annotated[Line, Form(max_length=300)] = "",
    csrf_token: Annotated[Line, Form(max_length=200)] = "",
) -> Response:
    clearances = {k: v for k, v in (("national", national), ("nato", nato)) if v}
    try:
        with opened(request, write=True, csrf=csrf_token) as (reg, page):
            assert page.principal is not None
            Sharing(reg.session).add_user(
                username,
                organisation or page.principal.org,
                role=role,
                clearances=clearances,
                password=password,
                actor=page.principal,
            )
    except DetenteError as exc:
        return _admin_page(request, error=exc.message, status=422 if not isinstance(exc, AuthError) else 403)
    return _admin_page(request, notice=f"added user {username.strip().lower()}")


@router.post("/admin/organisations", response_model=None)
def admin_add_org(
    request: Request,
    name: Annotated[Line, Form(max_length=300)],
    country: Annotated[Line, Form(max_length=100)],
    csrf_token: Annotated[Line, Form(max_length=200)] = "",
) -> Response:
    try:
        with opened(request, write=True, csrf=csrf_token) as (reg, page):
            Sharing(reg.session).add_org(name, country, actor=page.principal)
    except DetenteError as exc:
        return _admin_page(request, error=exc.message, status=422 if not isinstance(exc, AuthError) else 403)
    return _admin_page(request, notice=f"added organisation {name.strip()}")


# ---------------------------------------------------------------- import
@dataclass
class Job:
    id: str
    owner: str
    file: str
    state: str = "running"  # running, done, failed
    table: str = ""
    done: int = 0
    total: int = 0
    message: str = ""
    errors: list[str] = field(default_factory=list)
    report: dict[str, dict[str, int]] = field(default_factory=dict)
    finished: float | None = None  # time.monotonic() when it ended


KEEP_JOBS_SECONDS = 3600  # a finished job's page stays for an hour, then it is forgotten


_jobs: dict[str, Job] = {}
_jobs_lock = threading.Lock()


def _run(job: Job, ws: Workspace, principal: Principal, path: Path, table: str | None, folder: Path) -> None:
    def progress(name: str, done: int, total: int) -> None:
        job.table, job.done, job.total = name, done, total

    try:
        with ws.session(write=True) as session:
            report = import_saved_upload(
                Registry(session, principal),
                path,
                table=table,
                max_bytes=ws.settings.max_import_bytes,
                progress=progress,
            )
        job.report = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
        job.state = "done"
    except ImportRowsError as exc:
        job.state, job.message = "failed", exc.message.split(":\n")[0]
        job.errors = [str(e) for e in exc.errors[:200]]
    except DetenteError as exc:
        job.state, job.message = "failed", exc.message
    except Exception as exc:  # reported on the job's page rather than lost in a thread
        job.state, job.message = "failed", f"unexpected error: {type(exc).__name__}"
    finally:
        job.finished = time.monotonic()
        shutil.rmtree(folder, ignore_errors=True)


@router.get("/import", response_class=HTMLResponse)
def import_form(request: Request) -> HTMLResponse:
    with opened(request) as (_reg, page):
        return page.render("import.html", tables=list(RESOURCES), error=None)


@router.post("/import", response_model=None)
def import_start(
    request: Request,
    file: UploadFile,
    table: Annotated[Line, Form(max_length=40)] = "",
    csrf_token: Annotated[Line, Form(max_length=200)] = "",
) -> Response:
    ws: Workspace = request.app.state.workspace
    with opened(request, write=True, csrf=csrf_token) as (reg, _page):
        reg.require("write", "import records")
        principal = reg.principal
    folder = Path(tempfile.mkdtemp(prefix="detente-import-"))
    try:
        path = save_upload(file, folder, min(ws.settings.max_upload_bytes, ws.settings.max_import_bytes))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    job = Job(id=uuid.uuid4().hex, owner=principal.user, file=path.name)
    with _jobs_lock:
        now = time.monotonic()
        for old in [k for k, j in _jobs.items() if j.finished and now - j.finished > KEEP_JOBS_SECONDS]:
            del _jobs[old]
        _jobs[job.id] = job
    threading.Thread(
        target=_run,
        args=(job, ws, principal, path, table or None, folder),
        daemon=True,
        name=f"import-{job.id}",
    ).start()
    return RedirectResponse(f"/import/jobs/{job.id}", status_code=303)


@router.get("/import/jobs/{job_id}", response_class=HTMLResponse)
def import_job(request: Request, job_id: Annotated[Line, PathParam(max_length=64)]) -> HTMLResponse:
    with opened(request) as (_reg, page):
        job = _jobs.get(job_id)
        if job is None or page.principal is None or job.owner != page.principal.user:
            raise NotFoundError(f"no import job {job_id}")
        return page.render("import_job.html", job=job)
