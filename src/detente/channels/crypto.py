"""The cryptography of secure channels (libsodium through PyNaCl), one definition for the
client side (the CLI, the demo, the benchmark) and the checks the server makes.

A user's keys are an X25519 pair (``crypto_box``: encryption, authenticated between
sender and recipient) and an Ed25519 pair (signatures). The private halves leave the
client only locked: ``crypto_secretbox`` under a key derived from the passphrase with
Argon2id (``crypto_pwhash``), so the server stores a blob it cannot open. The browser
does the same with libsodium.js (``static/channels.js``): the formats here are the
formats there, byte for byte.

A message is encrypted once per recipient (``crypto_box`` with a fresh 24-byte nonce)
and each copy is signed with Ed25519 over ``signed_bytes``: the message id, the
conversation, sender and recipient and both keys' fingerprints, the marking, the urgent
flag and kind, the nonce and the SHA-256 of the ciphertext (and of an attachment). The
server verifies every signature against the sender's current published key before it
stores anything; a recipient verifies again before decrypting.

This module must never receive a plaintext on the server's side: the server imports
only the checks (``verify_copy``, ``check_locked``, ``check_published``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import nacl.exceptions
import nacl.pwhash
import nacl.utils
from nacl.public import Box, PrivateKey, PublicKey
from nacl.secret import SecretBox
from nacl.signing import SigningKey, VerifyKey

from detente.core.errors import AuthError, ValidationError

__all__ = [
    "KDF_MEMLIMIT",
    "KDF_OPSLIMIT",
    "NONCE_BYTES",
    "KeyPair",
    "b64",
    "fingerprint",
    "generate",
    "lock",
    "open_copy",
    "seal_copy",
    "signed_bytes",
    "unb64",
    "unlock",
    "verify_copy",
]

VERSION = "detente-channels/1"
NONCE_BYTES = Box.NONCE_SIZE  # 24
MAC_BYTES = 16
# Argon2id's cost: libsodium's "interactive" limits, the floor the server accepts (a
# locked key made cheaper would make a stolen database a cheap passphrase search)
KDF_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
KDF_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE


def b64(data: bytes) -> str:
    """Standard base64 (with padding): what every binary field travels as."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any, what: str, size: int | None = None) -> bytes:
    """Decode a base64 field, refusing anything else (or the wrong length) by name."""
    if not isinstance(text, str):
        raise ValidationError("must be base64 text", field=what)
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValidationError("malformed: not base64", field=what) from None
    if size is not None and len(data) != size:
        raise ValidationError(f"must be {size} bytes, not {len(data)}", field=what)
    return data


def fingerprint(sign_public: bytes, box_public: bytes) -> str:
    """What two people compare out of band: 32 hex digits of SHA-256 over both public
    keys, in groups of four."""
    digest = hashlib.sha256(b"detente-key/1" + sign_public + box_public).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


@dataclass(frozen=True)
class KeyPair:
    """A user's two key pairs, unlocked: lives on the client only."""

    box: PrivateKey
    sign: SigningKey

    @property
    def box_public(self) -> bytes:
        return bytes(self.box.public_key)

    @property
    def sign_public(self) -> bytes:
        return bytes(self.sign.verify_key)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sign_public, self.box_public)

    def published(self, username: str, passphrase: str) -> dict[str, Any]:
        """What the client uploads: both public keys, a self-signature that binds them to
        the user (proof that the uploader holds the signing key), and the locked private keys."""
        claim = _claim(username, self.sign_public, self.box_public)
        return {
            "box_public": b64(self.box_public),
            "sign_public": b64(self.sign_public),
            "self_signature": b64(self.sign.sign(claim).signature),
            "locked": lock(self, passphrase),
        }


def _claim(username: str, sign_public: bytes, box_public: bytes) -> bytes:
    return json.dumps(
        [VERSION, "key", username, b64(sign_public), b64(box_public)], separators=(",", ":")
    ).encode()


def generate() -> KeyPair:
    """Fresh key pairs (on the client)."""
    return KeyPair(PrivateKey.generate(), SigningKey.generate())


def _derive(passphrase: str, salt: bytes, ops: int, mem: int) -> bytes:
    return nacl.pwhash.argon2id.kdf(
        SecretBox.KEY_SIZE, passphrase.encode("utf-8"), salt, opslimit=ops, memlimit=mem
    )


def lock(keys: KeyPair, passphrase: str) -> dict[str, Any]:
    """The private keys sealed under an Argon2id key derived from ``passphrase``."""
    if len(passphrase) < 8:
        raise ValidationError("a passphrase needs at least 8 characters", field="passphrase")
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    key = _derive(passphrase, salt, KDF_OPSLIMIT, KDF_MEMLIMIT)
    nonce = nacl.utils.random(SecretBox.NONCE_SIZE)
    secret = bytes(keys.box) + bytes(keys.sign)  # 32 + 32 bytes (the Ed25519 seed)
    sealed = SecretBox(key).encrypt(secret, nonce).ciphertext
    return {
        "kdf": "argon2id13",
        "opslimit": KDF_OPSLIMIT,
        "memlimit": KDF_MEMLIMIT,
        "salt": b64(salt),
        "nonce": b64(nonce),
        "ciphertext": b64(sealed),
    }


def check_locked(locked: Any) -> dict[str, Any]:
    """The server's check of a locked key: well formed, and costly enough to guess at."""
    if not isinstance(locked, dict) or locked.get("kdf") != "argon2id13":
        raise ValidationError("must be a key locked with argon2id13", field="locked")
    for name, floor in (("opslimit", KDF_OPSLIMIT), ("memlimit", KDF_MEMLIMIT)):
        value = locked.get(name)
        if not isinstance(value, int) or value < floor or value > floor * 16:
            raise ValidationError(f"{name} must be between {floor} and {floor * 16}", field=f"locked.{name}")
    unb64(locked.get("salt"), "locked.salt", nacl.pwhash.argon2id.SALTBYTES)
    unb64(locked.get("nonce"), "locked.nonce", SecretBox.NONCE_SIZE)
    unb64(locked.get("ciphertext"), "locked.ciphertext", 64 + MAC_BYTES)
    return {k: locked[k] for k in ("kdf", "opslimit", "memlimit", "salt", "nonce", "ciphertext")}


def unlock(locked: dict[str, Any], passphrase: str) -> KeyPair:
    """Open a locked key with the passphrase; a wrong one is a clear ``AuthError``."""
    checked = check_locked(locked)
    key = _derive(
        passphrase, unb64(checked["salt"], "salt"), int(checked["opslimit"]), int(checked["memlimit"])
    )
    try:
        secret = SecretBox(key).decrypt(
            unb64(checked["ciphertext"], "ciphertext"), unb64(checked["nonce"], "nonce")
        )
    except nacl.exceptions.CryptoError:
        raise AuthError("wrong passphrase: the private key did not unlock") from None
    return KeyPair(PrivateKey(secret[:32]), SigningKey(secret[32:]))


def check_published(username: str, sign_public: bytes, box_public: bytes, self_signature: bytes) -> None:
    """The server's check that an uploaded key pair is bound to ``username`` by its own signature."""
    try:
        VerifyKey(sign_public).verify(_claim(username, sign_public, box_public), self_signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        raise ValidationError("the key's self-signature does not verify", field="self_signature") from None


def signed_bytes(head: dict[str, Any], copy: dict[str, Any]) -> bytes:
    """What a copy's signature covers (the same bytes in the browser: a JSON array)."""
    digest = hashlib.sha256(unb64(copy["ciphertext"], "ciphertext")).hexdigest()
    fields = [
        VERSION,
        head["id"],
        head["conversation_id"],
        head["sender"],
        head["sender_key"],
        head["marking"],
        bool(head.get("urgent", False)),
        head.get("kind", "message"),
        head.get("attachment_sha256") or "",
        copy["recipient"],
        copy["recipient_key"],
        copy["nonce"],
        digest,
    ]
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=True).encode()


def seal_copy(
    keys: KeyPair,
    head: dict[str, Any],
    recipient: str,
    recipient_key: str,
    recipient_box: bytes,
    plaintext: bytes,
) -> dict[str, Any]:
    """One recipient's copy: encrypted to their key, signed by the sender (on the client)."""
    nonce = nacl.utils.random(NONCE_BYTES)
    sealed = Box(keys.box, PublicKey(recipient_box)).encrypt(plaintext, nonce).ciphertext
    copy = {
        "recipient": recipient,
        "recipient_key": recipient_key,
        "nonce": b64(nonce),
        "ciphertext": b64(sealed),
    }
    copy["signature"] = b64(keys.sign.sign(signed_bytes(head, copy)).signature)
    return copy


def verify_copy(head: dict[str, Any], copy: dict[str, Any], sign_public: bytes) -> None:
    """Refuse a copy whose signature does not verify under the sender's key (a tampered
    ciphertext or metadata, or a sender who is not who the message says)."""
    unb64(copy.get("nonce"), "nonce", NONCE_BYTES)
    body = unb64(copy.get("ciphertext"), "ciphertext")
    if len(body) <= MAC_BYTES:
        raise ValidationError("malformed: too short to be a sealed message", field="ciphertext")
    signature = unb64(copy.get("signature"), "signature", 64)
    try:
        VerifyKey(sign_public).verify(signed_bytes(head, copy), signature)
    except nacl.exceptions.BadSignatureError:
        raise ValidationError(
            f"the copy for {copy.get('recipient')} does not verify under {head['sender']}'s key "
            "(tampered, or not signed by the sender)",
            field="signature",
        ) from None


def open_copy(
    keys: KeyPair, head: dict[str, Any], copy: dict[str, Any], sender_box: bytes, sender_sign: bytes
) -> bytes:
    """A recipient's plaintext, after checking the sender's signature (on the client)."""
    verify_copy(head, copy, sender_sign)
    try:
        return Box(keys.box, PublicKey(sender_box)).decrypt(
            unb64(copy["ciphertext"], "ciphertext"), unb64(copy["nonce"], "nonce")
        )
    except nacl.exceptions.CryptoError:
        raise ValidationError("the message does not decrypt with your key", field="ciphertext") from None
