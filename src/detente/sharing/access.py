"""Transitional: the one access decision under its old name (migration 0003 imports it);
it lives in ``detente.store.access``."""

from detente.store.access import NOBODY, bind_principal, marking_columns, system_access, visible

__all__ = ["NOBODY", "bind_principal", "marking_columns", "system_access", "visible"]
