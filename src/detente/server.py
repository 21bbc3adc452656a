"""The HTTP application: the REST API under ``/api/v1`` and the web app at ``/``.

One process serves both over the same workspace and services. ``create_app`` opens
the workspace (migrating it like every other entry point) and closes it at shutdown.
This module composes the two interfaces; neither imports the other's application.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from detente import __version__
from detente.api import API_PREFIX, install_api
from detente.api.app import DESCRIPTION
from detente.core.settings import Settings
from detente.core.workspace import Workspace, open_workspace
from detente.web import mount

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, *, workspace: Workspace | None = None) -> FastAPI:
    """The application over ``workspace`` (or the one ``settings`` names, opened at start-up)."""
    settings = settings or (workspace.settings if workspace else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if workspace is not None:
            app.state.workspace = workspace
            yield
            return
        with open_workspace(settings) as ws:
            app.state.workspace = ws
            yield

    app = FastAPI(
        title="detente",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served from packaged assets, not a CDN
        redoc_url=None,
    )
    if workspace is not None:
        app.state.workspace = workspace
    install_api(app, settings)
    mount(app)
    return app
