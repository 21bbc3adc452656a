"""The one settings object of detente.

Everything configurable comes from here, read from ``DETENTE_*`` environment
variables (or passed explicitly by an interface, e.g. ``--workspace``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """detente settings.

    Attributes:
        workspace: folder holding the registry database and the context lake
            (``DETENTE_WORKSPACE``; default ``./detente-workspace``).
        database_url: SQLAlchemy URL of the registry; empty means the SQLite
            file ``registry.sqlite`` inside the workspace
            (``DETENTE_DATABASE_URL``, e.g. ``postgresql+psycopg://host/db``).
        max_import_bytes: largest file ``detente import`` accepts
            (``DETENTE_MAX_IMPORT_BYTES``).

    Who is acting is not a setting: it is the logged-in user (``detente login``,
    ``--as``, ``--token``), whose name is recorded as the author of changes.
    """

    model_config = SettingsConfigDict(env_prefix="DETENTE_", extra="ignore")

    workspace: Path = Field(default=Path("detente-workspace"))
    database_url: str = ""
    max_import_bytes: int = 200 * 1024 * 1024

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            # psycopg 3 is the driver we ship; say so rather than fail on psycopg2
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        if value and not value.startswith(("sqlite", "postgresql+psycopg")):
            raise ValueError("DETENTE_DATABASE_URL must be a sqlite:/// or postgresql:// URL")
        return value
