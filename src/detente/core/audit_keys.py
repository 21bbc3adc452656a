"""The audit trail's secret: one 32-byte key kept outside the database.

Two keys are derived from it: the HMAC-SHA256 key that chains the log's entries
(``detente.core.audit``) and the Ed25519 key that signs its checkpoints. Anyone
who can read the database but not this key can neither rewrite an entry nor
append one that verifies, nor sign a checkpoint.

Where the key comes from, in order:

- ``DETENTE_AUDIT_KEY``: the key itself, 64 hexadecimal characters (a secret manager
  or the service's environment);
- ``DETENTE_AUDIT_KEY_FILE``: a file holding it;
- otherwise ``audit.key`` in the workspace folder.

A missing key file is created (mode 0600, random key) on first use, and only while
the log holds no keyed entry: once the chain is keyed, a missing or different key
is an error, never a quiet new key. The default place, beside the database, is for
trying detente out; production keeps the key elsewhere (another volume or host,
a secret manager), because whoever can read it can rewrite the whole chain.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from detente.core.errors import ConfigError
from detente.core.settings import Settings

__all__ = ["KEY_FILE", "AuditKeys", "Keyring", "fingerprint", "signature_ok"]

KEY_FILE = "audit.key"


def _derive(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"detente audit {purpose} v1".encode(), hashlib.sha256).digest()


def fingerprint(public_key_hex: str) -> str:
    """A short name of an Ed25519 public key: SHA-256 of its 32 bytes, first 16 bytes in hex."""
    return hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:32]


def signature_ok(public_key_hex: str, message: bytes, signature_hex: str) -> bool:
    try:
        VerifyKey(bytes.fromhex(public_key_hex)).verify(message, bytes.fromhex(signature_hex))
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True


@dataclass(frozen=True)
class AuditKeys:
    """The keys derived from the audit secret, and where it came from."""

    chain_key: bytes = field(repr=False)
    key_id: str
    signing: SigningKey = field(repr=False)
    source: str
    # seals credentials detente must send to others (detente.core.credentials)
    credentials_key: bytes = field(repr=False, default=b"")

    @classmethod
    def from_secret(cls, secret: bytes, source: str) -> AuditKeys:
        return cls(
            chain_key=_derive(secret, "chain"),
            key_id=_derive(secret, "key id").hex()[:16],
            signing=SigningKey(_derive(secret, "checkpoint signing")),
            source=source,
            credentials_key=_derive(secret, "sealed credentials"),
        )

    @property
    def public_key(self) -> str:
        return bytes(self.signing.verify_key).hex()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def mac(self, payload: bytes) -> str:
        return hmac.new(self.chain_key, payload, hashlib.sha256).hexdigest()

    def sign(self, message: bytes) -> str:
        return bytes(self.signing.sign(message).signature).hex()


def _parse(text: str, where: str) -> bytes:
    value = text.strip()
    try:
        secret = bytes.fromhex(value)
    except ValueError:
        secret = b""
    if len(secret) != 32:
        raise ConfigError(f"{where}: the audit key must be 64 hexadecimal characters (32 bytes)")
    return secret


def _create(path: Path) -> None:
    """Write a new random key to ``path`` (mode 0600), unless another process just did."""
    if not path.parent.is_dir():
        raise ConfigError(f"cannot create the audit key {path}: folder {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # atomic, and never replaces a key that appeared meanwhile
    finally:
        tmp.unlink(missing_ok=True)


class Keyring:
    """A workspace's audit key, loaded on first use (and created when allowed)."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        self._env = settings.audit_key.get_secret_value() if settings.audit_key else None
        self.path = Path(settings.audit_key_file) if settings.audit_key_file else folder / KEY_FILE
        self.checkpoint_every = settings.audit_checkpoint_every
        self._keys: AuditKeys | None = None
        self._lock = threading.Lock()

    @property
    def location(self) -> str:
        """Where the key is (or would be) read from, for messages."""
        return "DETENTE_AUDIT_KEY" if self._env else str(self.path)

    def get(self, *, create: bool = False) -> AuditKeys | None:
        """The keys; ``None`` when there is no key and ``create`` is false."""
        with self._lock:
            if self._keys is None:
                self._keys = self._load(create)
            return self._keys

    def _load(self, create: bool) -> AuditKeys | None:
        if self._env:
            return AuditKeys.from_secret(_parse(self._env, "DETENTE_AUDIT_KEY"), "DETENTE_AUDIT_KEY")
        if not self.path.exists():
            if not create:
                return None
            _create(self.path)
        try:
            text = self.path.read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read the audit key {self.path}: {exc.strerror}") from exc
        return AuditKeys.from_secret(_parse(text, str(self.path)), str(self.path))

    def missing(self, what: str) -> ConfigError:
        """The error for a keyed chain met without its key."""
        return ConfigError(
            f"{what}: the audit log is keyed (HMAC-SHA256) but there is no audit key: "
            f"{self.path} does not exist. Point DETENTE_AUDIT_KEY_FILE (or set DETENTE_AUDIT_KEY) "
            "to the key the log was made with; detente never makes a new key for a keyed log"
        )
