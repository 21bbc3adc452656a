"""detente's REST API (FastAPI); ``detente.server`` serves it with the web app."""

from detente.api.app import API_PREFIX, install_api

__all__ = ["API_PREFIX", "install_api"]
