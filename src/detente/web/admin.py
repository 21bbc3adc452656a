"""Administration (organisations, users, coalitions) and bulk import with progress.

Who may do what is the sharing service's rule: an administrator manages their own
organisation's users; the workspace's operator adds organisations and changes coalitions.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from detente.api.registry import import_saved_upload, save_upload
from detente.core.errors import AuthError, DetenteError, ImportRowsError, NotFoundError, ValidationError
from detente.core.markings import Principal
from detente.core.workspace import Workspace
from detente.sharing import coalitions
from detente.sharing.service import Sharing
from detente.store.fields import Line
from detente.store.permissions import roles
from detente.store.records import record_types
from detente.store.service import Store
from detente.web.auth import opened

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------- admin
def _admin_page(
    request: Request, *, error: str | None = None, notice: str | None = None, status: int = 200
) -> HTMLResponse:
    with opened(request) as (reg, page):
        reg.require("admin", "open the administration pages")
        assert page.principal is not None
        sharing = Sharing(reg.session)
        return page.render(
            "admin.html",
            status_code=status,
            orgs=sharing.orgs(),
            users=sharing.users(page.principal.org),
            roles=roles(),
            coalitions=coalitions.membership(reg.session),
            today=sharing.coalitions(),
            changes=sharing.coalition_changes(actor=page.principal, limit=50),
            error=error,
            notice=notice,
        )


def _administer(request: Request, csrf_token: str, change: Callable[[Sharing, Principal], str]) -> Response:
    """Run one administrative change as the signed-in user and show the page again, with
    what was done or why it was refused."""
    try:
        with opened(request, write=True, csrf=csrf_token) as (reg, page):
            assert page.principal is not None
            notice = change(Sharing(reg.session), page.principal)
    except DetenteError as exc:
        return _admin_page(request, error=exc.message, status=403 if isinstance(exc, AuthError) else 422)
    return _admin_page(request, notice=notice)


def _clearances(national: str, nato: str) -> dict[str, str]:
    return {k: v for k, v in (("national", national), ("nato", nato)) if v}


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
    def add(sharing: Sharing, me: Principal) -> str:
        user = sharing.add_user(
            username,
            organisation or me.org,
            role=role,
            clearances=_clearances(national, nato),
            password=password,
            actor=me,
        )
        return f"added user {user.username}"

    return _administer(request, csrf_token, add)


@router.post("/admin/users/{username}", response_model=None)
def admin_update_user(
    request: Request,
    username: Annotated[Line, PathParam(max_length=100)],
    role: Annotated[Line, Form(max_length=40)],
    national: Annotated[Line, Form(max_length=60)] = "",
    nato: Annotated[Line, Form(max_length=60)] = "",
    active: Annotated[Line, Form(max_length=5)] = "",
    csrf_token: Annotated[Line, Form(max_length=200)] = "",
) -> Response:
    def change(sharing: Sharing, me: Principal) -> str:
        user = sharing.update_user(
            username, actor=me, role=role, clearances=_clearances(national, nato), active=active == "on"
        )
        return f"updated user {user.username}"

    return _administer(request, csrf_token, change)


@router.post("/admin/organisations", response_model=None)
def admin_add_org(
    request: Request,
    name: Annotated[Line, Form(max_length=300)],
    country: Annotated[Line, Form(max_length=100)],
    csrf_token: Annotated[Line, Form(max_length=200)] = "",
) -> Response:
    def add(sharing: Sharing, me: Principal) -> str:
        return f"added organisation {sharing.add_org(name, country, actor=me).name}"

    return _administer(request, csrf_token, add)


@router.post("/admin/coalitions", response_model=None)
def admin_set_coalition(
    request: Request,
    name: Annotated[Line, Form(max_length=32)],
    members: Annotated[Line, Form(max_length=3000)],
    label: Annotated[Line, Form(max_length=200)] = "",
    effective_on: Annotated[Line, Form(max_length=10)] = "",
    csrf_token: Annotated[Line, Form(max_length=200)] = "",
) -> Response:
    def change(sharing: Sharing, me: Principal) -> str:
        countries = [m for m in members.replace(";", ",").split(",") if m.strip()]
        try:
            on = date.fromisoformat(effective_on) if effective_on else None
        except ValueError:
            raise ValidationError(
                f"{effective_on!r} is not a date (YYYY-MM-DD)", field="effective_on"
            ) from None
        made = sharing.set_coalition(name, label or None, countries, actor=me, effective_on=on)
        return f"{name.strip().upper()}: {len(made)} change(s) recorded" if made else "nothing changed"

    return _administer(request, csrf_token, change)


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
    warnings: list[str] = field(default_factory=list)  # columns the import ignored, and why
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
                Store(session, principal),
                path,
                table=table,
                max_bytes=ws.settings.max_import_bytes,
                progress=progress,
            )
        job.report = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
        job.warnings = list(report.warnings)
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
        return page.render("import.html", tables=list(record_types()), error=None)


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
