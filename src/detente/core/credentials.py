"""Credentials detente must itself send to others (a federation peer's token or password),
sealed at rest: NaCl's SecretBox (XSalsa20-Poly1305) under a key derived from the
workspace's audit secret, which is kept outside the database (``detente.core.audit_keys``).
Whoever can read the database alone (a dump, a backup, a report tool) cannot use them.

A value stored before sealing existed (no ``sealed:v1:`` prefix) is read as it is; its
owner seals it again on the next write (``is_sealed``).
"""

from __future__ import annotations

import base64

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from sqlalchemy.orm import Session

from detente.core.audit_keys import Keyring
from detente.core.errors import ConfigError

__all__ = ["SEALED", "is_sealed", "seal", "unseal"]

SEALED = "sealed:v1:"


def _box(session: Session) -> SecretBox:
    ring = session.info.get("audit_keyring")
    if not isinstance(ring, Keyring):
        raise ConfigError("sealed credentials need a session from Workspace.session(): it carries the key")
    keys = ring.get(create=False)  # a new workspace's key is made by its first audit entry
    if keys is None:
        raise ring.missing("cannot open a stored credential")
    return SecretBox(keys.credentials_key)


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED)


def seal(session: Session, secret: str) -> str:
    """``secret`` sealed for storing (a new random nonce each time). The audit key must
    exist: write the change's audit entry first (it makes the key of a new workspace)."""
    box = _box(session)
    return SEALED + base64.b64encode(bytes(box.encrypt(secret.encode()))).decode()


def unseal(session: Session, stored: str) -> str:
    """The secret a stored value holds (a value stored before sealing, as it is)."""
    if not is_sealed(stored):
        return stored
    try:
        return bytes(_box(session).decrypt(base64.b64decode(stored[len(SEALED) :]))).decode()
    except (CryptoError, ValueError) as exc:
        raise ConfigError(
            "a stored credential cannot be opened with this workspace's audit key (was the key "
            f"changed?): {type(exc).__name__}; add the peer again"
        ) from None
