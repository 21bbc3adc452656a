"""detente's HTTP interface: the REST API (FastAPI) and, in the same process, the web app."""

from detente.api.app import API_PREFIX, create_app

__all__ = ["API_PREFIX", "create_app"]
