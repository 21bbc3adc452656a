"""Transitional: the store kernel's service under its old name, for modules not yet moved
to ``detente.store.service`` (removed when the last importer is updated)."""

from detente.store.reads import LINK_CHUNK
from detente.store.service import ListQuery, Store, field_errors, first_error

Registry = Store

__all__ = ["LINK_CHUNK", "ListQuery", "Registry", "field_errors", "first_error"]
