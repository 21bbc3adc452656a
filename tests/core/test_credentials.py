"""Credentials detente sends to others are sealed at rest under the workspace's audit
secret: the stored value holds no trace of the secret, opens to it with the key, a value
stored before sealing reads as it is, and another workspace's key cannot open it."""

from __future__ import annotations

import pytest

from detente.core import audit, credentials
from detente.core.errors import ConfigError
from detente.core.settings import Settings
from detente.core.workspace import Workspace, create_workspace

SECRET = "dtt_peer-token-4f1c9a"


def _keyed(ws: Workspace) -> None:
    with ws.session() as session:  # the first audit entry makes a new workspace's key
        audit.append(session, actor="test", org_id=None, action="test.key")


def test_a_credential_is_sealed_and_opens_with_the_key(ws: Workspace) -> None:
    _keyed(ws)
    with ws.session() as session:
        first, second = credentials.seal(session, SECRET), credentials.seal(session, SECRET)
        assert first.startswith(credentials.SEALED) and SECRET not in first
        assert first != second  # a new nonce each time
        assert credentials.unseal(session, first) == SECRET == credentials.unseal(session, second)
        assert credentials.unseal(session, SECRET) == SECRET  # stored before sealing: as it is
        assert not credentials.is_sealed(SECRET)


def test_another_workspaces_key_cannot_open_it(ws: Workspace, tmp_path: object) -> None:
    _keyed(ws)
    with ws.session() as session:
        sealed = credentials.seal(session, SECRET)
    other = create_workspace(Settings(workspace=tmp_path / "other"))  # type: ignore[operator]
    try:
        _keyed(other)
        with other.session() as session, pytest.raises(ConfigError, match="cannot be opened"):
            credentials.unseal(session, sealed)
    finally:
        other.close()
