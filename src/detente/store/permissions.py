"""Roles and what they permit: the write guard's rule, as data (``roles.yaml``).

Every check of what a user may do asks for a permission (``read``, ``export``,
``write``, ``vet``, ``admin``, ``operate``), never for a role's name. Reading is
always further limited by markings (``detente.store.access``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from detente.core.errors import AuthError
from detente.core.markings import Principal

__all__ = ["may", "require", "role_permissions", "roles"]


@cache
def _config() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(Path(__file__).with_name("roles.yaml").read_text(encoding="utf-8"))
    return data


def roles() -> dict[str, dict[str, Any]]:
    """Role name -> label and permissions, lowest first."""
    return dict(_config()["roles"])


@cache
def role_permissions(role: str) -> frozenset[str]:
    return frozenset(roles()[role]["permissions"])


def may(principal: Principal | None, permission: str) -> bool:
    """Whether ``principal``'s role grants ``permission``."""
    return principal is not None and permission in role_permissions(principal.role)


def require(principal: Principal | None, permission: str, what: str) -> None:
    """Refuse unless the principal's role grants ``permission``; ``what`` completes the
    sentence "a <role> cannot ..." that the refusal says."""
    if not may(principal, permission):
        role = principal.role if principal else "signed-out user"
        raise AuthError(f"a {role} cannot {what}")
