"""The one settings object of detente.

Everything configurable comes from here, read from ``DETENTE_*`` environment
variables (or passed explicitly by an interface, e.g. ``--workspace``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
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
        host: address ``detente serve`` listens on (``DETENTE_HOST``; default
            ``127.0.0.1``, this machine only).
        port: its port (``DETENTE_PORT``; default 8000).
        max_upload_bytes: largest request body the web server accepts, uploads
            included (``DETENTE_MAX_UPLOAD_BYTES``; default 50 MiB); larger ones get 413.
        session_hours: how long a web sign-in lasts (``DETENTE_SESSION_HOURS``).
        secure_cookies: send the session cookie over HTTPS only
            (``DETENTE_SECURE_COOKIES``); required when ``host`` is not loopback.
        audit_key_file: file holding the audit trail's secret key, 64 hex characters
            (``DETENTE_AUDIT_KEY_FILE``; default ``audit.key`` in the workspace folder,
            created with mode 0600 on first use: production keeps it elsewhere).
        audit_key: the audit key itself, 64 hex characters, instead of a file
            (``DETENTE_AUDIT_KEY``, e.g. from a secret manager; wins over the file).
        audit_checkpoint_every: sign a checkpoint of the audit chain every this many
            entries (``DETENTE_AUDIT_CHECKPOINT_EVERY``; default 100).
        pool_size: PostgreSQL connections each process keeps open
            (``DETENTE_POOL_SIZE``; default 5, SQLAlchemy's).
        pool_overflow: connections each process opens beyond ``pool_size`` under load,
            closed when handed back (``DETENTE_POOL_OVERFLOW``; default 10): a process holds
            at most the two together, which ``detente serve`` weighs against the server's
            ``max_connections``.

    Who is acting is not a setting: it is the logged-in user (``detente login``,
    ``--as``, ``--token``), whose name is recorded as the author of changes.
    """

    model_config = SettingsConfigDict(env_prefix="DETENTE_", extra="ignore")

    workspace: Path = Field(default=Path("detente-workspace"))
    database_url: str = ""
    max_import_bytes: int = 200 * 1024 * 1024
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    secure_cookies: bool = False
    audit_key_file: Path | None = None
    audit_key: SecretStr | None = None
    audit_checkpoint_every: int = Field(default=100, ge=1)
    pool_size: int = Field(default=5, ge=1, le=1000)
    pool_overflow: int = Field(default=10, ge=0, le=1000)

    def check_serving(self) -> None:
        """Refuse to serve beyond this machine over plain HTTP (session cookies would travel
        in clear): put detente behind a TLS proxy and set ``DETENTE_SECURE_COOKIES``."""
        from detente.core.errors import ConfigError

        if self.host not in ("127.0.0.1", "localhost", "::1") and not self.secure_cookies:
            raise ConfigError(
                f"refusing to serve on {self.host} without HTTPS: run detente behind a TLS proxy "
                "and set DETENTE_SECURE_COOKIES=true (or serve on 127.0.0.1)"
            )

    @field_validator("audit_key_file", "audit_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

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
