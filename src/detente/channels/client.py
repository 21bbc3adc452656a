"""What a client does with messages, on the client's side of the wire: seal a message for
each recipient (and an attachment once, its key inside every copy), and open one. The
CLI, the demo and the benchmark use this; the browser does the same in ``channels.js``.
Nothing here runs on the server's side of a request."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import nacl.utils
from nacl.secret import SecretBox

from detente.channels.crypto import KeyPair, b64, open_copy, seal_copy, unb64
from detente.core.db import new_id

__all__ = ["Addressee", "Opened", "open_message", "seal_message"]


@dataclass(frozen=True)
class Addressee:
    """A recipient as the client addresses them: their key in force, and the escalation step."""

    username: str
    fingerprint: str
    box_public: str
    step: int = 0


@dataclass(frozen=True)
class Opened:
    """A decrypted message."""

    text: str
    attachment_name: str | None = None
    attachment: bytes | None = None


def seal_message(
    keys: KeyPair,
    *,
    sender: str,
    conversation_id: str,
    marking: str,
    to: Sequence[Addressee],
    text: str,
    urgent: bool = False,
    kind: str = "message",
    attachment: tuple[str, bytes] | None = None,
) -> dict[str, Any]:
    """The body the server receives: metadata, an encrypted attachment, one sealed and
    signed copy per addressee. The plaintext stays here."""
    head: dict[str, Any] = {
        "id": new_id(),
        "conversation_id": conversation_id,
        "sender": sender,
        "sender_key": keys.fingerprint,
        "marking": marking,
        "urgent": urgent,
        "kind": kind,
    }
    inner: dict[str, Any] = {"text": text}
    if attachment is not None:
        name, data = attachment
        key, nonce = nacl.utils.random(SecretBox.KEY_SIZE), nacl.utils.random(SecretBox.NONCE_SIZE)
        sealed = SecretBox(key).encrypt(data, nonce).ciphertext
        head["attachment"] = {"nonce": b64(nonce), "ciphertext": b64(sealed)}
        head["attachment_sha256"] = hashlib.sha256(sealed).hexdigest()
        inner.update(attachment_name=name, attachment_key=b64(key))
    plaintext = json.dumps(inner, ensure_ascii=False).encode("utf-8")
    head["copies"] = [
        {
            **seal_copy(keys, head, a.username, a.fingerprint, base64.b64decode(a.box_public), plaintext),
            "step": a.step,
        }
        for a in to
    ]
    return head


def open_message(
    keys: KeyPair,
    payload: dict[str, Any],
    sender_box: str,
    sender_sign: str,
    sender_fingerprint: str,
    recipient_fingerprint: str,
    attachment: dict[str, Any] | None = None,
) -> Opened:
    """Verify and decrypt the reader's copy of a message (``payload`` as the server lists it)."""
    copy = payload["copy"]
    head = {
        "id": payload["id"],
        "conversation_id": payload["conversation_id"],
        "sender": payload["sender"],
        "sender_key": sender_fingerprint,
        "marking": payload["marking"],
        "urgent": payload["urgent"],
        "kind": payload["kind"],
        "attachment_sha256": payload.get("attachment_sha256"),
    }
    signed = {**copy, "recipient_key": recipient_fingerprint}
    plain = open_copy(keys, head, signed, base64.b64decode(sender_box), base64.b64decode(sender_sign))
    inner = json.loads(plain.decode("utf-8"))
    data = None
    if attachment is not None and inner.get("attachment_key"):
        data = SecretBox(unb64(inner["attachment_key"], "attachment_key", 32)).decrypt(
            unb64(attachment["ciphertext"], "attachment"), unb64(attachment["nonce"], "attachment.nonce")
        )
    return Opened(str(inner.get("text", "")), inner.get("attachment_name"), data)
