"""Keys and messages on the store (SQLite and PostgreSQL): what the server stores is
ciphertext; tampering, forged senders, revoked keys, markings, oversized and replayed
messages are refused with a clear error and nothing stored; a wrong passphrase opens nothing."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from detente.channels import keys as keyring
from detente.channels.client import open_message
from detente.channels.crypto import b64, generate, signed_bytes, unlock
from detente.channels.messages import MAX_COPY_BYTES, message_list, send
from detente.channels.tables import Copy, Key, Message
from detente.core.errors import AuthError, ConflictError, DetenteError, NotFoundError, ValidationError
from tests.channels.conftest import PASSPHRASE, seal, store_of


def _count(ws: Any) -> int:
    with ws.session() as session:
        return int(session.scalar(select(func.count()).select_from(Message)) or 0)


def test_send_and_read_round_trip(world: dict[str, Any]) -> None:
    ws, conv, pairs = world["ws"], world["conversation"], world["keys"]
    with ws.session() as session:
        gbr = store_of(session, "gbr-planner")
        body = seal(
            gbr, pairs["gbr-planner"], conv, "meet at the border post at 0600", attachment=("a.txt", b"map")
        )
        send(gbr, body)
    with ws.session() as session:
        ken = store_of(session, "ken-analyst")
        listed = message_list(ken, conv)
        assert len(listed) == 1 and "copy" in listed[0]
        sender_key = keyring.current_key(session, "gbr-planner")
        mine = keyring.current_key(session, "ken-analyst")
        assert sender_key and mine
        stored = session.get(Message, listed[0]["id"])
        assert stored is not None and stored.attachment_size == 3
        opened = open_message(
            pairs["ken-analyst"],
            listed[0],
            sender_key.box_public,
            sender_key.sign_public,
            sender_key.fingerprint,
            mine.fingerprint,
            {"ciphertext": stored.attachment, "nonce": stored.attachment_nonce},
        )
        assert opened.text == "meet at the border post at 0600" and opened.attachment == b"map"
        # the other organisation's administrator is not a member: nothing listed for them
        assert (
            session.scalar(select(func.count()).select_from(Copy).where(Copy.recipient == "ken-admin")) == 0
        )


def _refused(ws: Any, sender: str, body: dict[str, Any], error: type[DetenteError], words: str) -> None:
    before = _count(ws)
    with pytest.raises(error) as caught, ws.session() as session:
        send(store_of(session, sender), body)
    assert words in caught.value.message
    assert _count(ws) == before


def test_tampered_forged_replayed_and_oversized_are_refused(world: dict[str, Any]) -> None:
    ws, conv, pairs = world["ws"], world["conversation"], world["keys"]
    with ws.session() as session:
        body = seal(store_of(session, "gbr-planner"), pairs["gbr-planner"], conv, "hello")
    tampered = copy.deepcopy(body)
    raw = bytearray(__import__("base64").b64decode(tampered["copies"][0]["ciphertext"]))
    raw[20] ^= 1
    tampered["copies"][0]["ciphertext"] = __import__("base64").b64encode(bytes(raw)).decode()
    _refused(ws, "gbr-planner", tampered, ValidationError, "does not verify")
    # a message signed by gbr-planner, sent by gbr-admin claiming to be gbr-planner
    _refused(ws, "gbr-admin", body, AuthError, "forged sender")
    # gbr-admin re-signs the same copies as themself: the signature is not theirs
    forged = {**copy.deepcopy(body), "sender": "gbr-admin"}
    with ws.session() as session:
        forged["sender_key"] = keyring.current_key(session, "gbr-admin").fingerprint  # type: ignore[union-attr]
    _refused(ws, "gbr-admin", forged, ValidationError, "does not verify")
    malformed = copy.deepcopy(body)
    malformed["copies"][0]["ciphertext"] = "not base64 !!"
    _refused(ws, "gbr-planner", malformed, ValidationError, "not base64")
    huge = seal_huge(ws, pairs, conv)
    _refused(ws, "gbr-planner", huge, ValidationError, "over the limit")
    with ws.session() as session:
        send(store_of(session, "gbr-planner"), body)
    _refused(ws, "gbr-planner", body, ConflictError, "replay")
    again = copy.deepcopy(body)  # a new message id, the same nonces, signed again by the sender
    again["id"] = "00000000-0000-4000-8000-000000000001"
    for one in again["copies"]:
        one["signature"] = b64(pairs["gbr-planner"].sign.sign(signed_bytes(again, one)).signature)
    _refused(ws, "gbr-planner", again, ConflictError, "nonce was used before")


def seal_huge(ws: Any, pairs: dict[str, Any], conv: str) -> dict[str, Any]:
    with ws.session() as session:
        return seal(store_of(session, "gbr-planner"), pairs["gbr-planner"], conv, "x" * (MAX_COPY_BYTES + 10))


def test_markings_rule_who_may_be_addressed(world: dict[str, Any]) -> None:
    ws, conv, pairs = world["ws"], world["conversation"], world["keys"]
    with ws.session() as session:
        gbr = store_of(session, "gbr-planner")
        # GBR only: the KEN analyst may not read it, and the server refuses to address them
        body = seal(gbr, pairs["gbr-planner"], conv, "not for Kenya", marking=SHARED_GBR)
        assert [c["recipient"] for c in body["copies"]] == ["gbr-admin"]
        body = seal(gbr, pairs["gbr-planner"], conv, "not for Kenya")
        body["marking"] = SHARED_GBR
    _refused(ws, "gbr-planner", body, AuthError, "ken-analyst may not read UNCLASSIFIED//REL TO GBR")
    with ws.session() as session:
        send(
            store_of(session, "gbr-planner"),
            seal(store_of(session, "gbr-planner"), pairs["gbr-planner"], conv, "ok"),
        )
        # the KEN administrator is no member; the listing shows them nothing
        with pytest.raises(NotFoundError):
            message_list(store_of(session, "ken-admin"), conv)
        assert len(message_list(store_of(session, "ken-analyst"), conv)) == 1


SHARED_GBR = "UNCLASSIFIED//REL TO GBR"


def test_revoked_and_rotated_keys(world: dict[str, Any]) -> None:
    ws, conv, pairs = world["ws"], world["conversation"], world["keys"]
    with ws.session() as session:
        body = seal(store_of(session, "gbr-planner"), pairs["gbr-planner"], conv, "to the old key")
    with ws.session() as session:
        keyring.revoke(store_of(session, "ken-analyst"), "laptop lost")
    _refused(ws, "gbr-planner", body, ValidationError, "revoked")
    fresh = generate()
    with ws.session() as session, pytest.raises(ValidationError):
        keyring.publish(
            store_of(session, "ken-analyst"), fresh.published("ken-analyst", PASSPHRASE), rotate=True
        )
    with ws.session() as session:
        keyring.publish(store_of(session, "ken-analyst"), fresh.published("ken-analyst", PASSPHRASE))
        newer = generate()
        keyring.publish(
            store_of(session, "ken-analyst"), newer.published("ken-analyst", PASSPHRASE), rotate=True
        )
        kept = keyring.keys_of(session, "ken-analyst")
        assert [k.revoked_reason for k in kept] == [None, "rotated", "laptop lost"]
        body = seal(store_of(session, "gbr-planner"), pairs["gbr-planner"], conv, "to the new key")
        assert newer.fingerprint in [c["recipient_key"] for c in body["copies"]]
        send(store_of(session, "gbr-planner"), body)


def test_wrong_passphrase_is_clear_and_changes_nothing(world: dict[str, Any]) -> None:
    ws = world["ws"]
    with ws.session() as session:
        mine = keyring.my_keys(store_of(session, "ken-analyst"))[0]
        assert unlock(mine["locked"], PASSPHRASE).fingerprint == mine["fingerprint"]
        with pytest.raises(AuthError, match="wrong passphrase"):
            unlock(mine["locked"], "not the passphrase")
        before = session.scalar(select(func.count()).select_from(Key))
        # the locked blob the server holds has no key material in clear
        pair = world["keys"]["ken-analyst"]
        assert bytes(pair.box).hex() not in json.dumps(mine, default=str)
        assert bytes(pair.sign).hex() not in json.dumps(mine, default=str)
    with ws.session() as session:
        assert session.scalar(select(func.count()).select_from(Key)) == before
