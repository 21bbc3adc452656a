"""Signed audit checkpoints as a file to keep elsewhere: JSON lines, one checkpoint a line.

Each line is self-contained: ``{"seq", "hash", "at", "public_key", "fingerprint",
"signature"}``, the signature being Ed25519 over (seq, hash, at) by the workspace's
checkpoint key (``detente.core.audit_keys``). Exporting again to the same file keeps
the checkpoints already in it and adds the new ones, so a file kept on another
machine only grows; a checkpoint in the file that disagrees with the database's is
reported, never overwritten.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from detente.core.audit import Checkpoint, checkpoint, stored_checkpoints
from detente.core.audit_keys import fingerprint
from detente.core.errors import ValidationError

__all__ = ["Export", "export_checkpoints", "read_checkpoints"]

FIELDS = ("seq", "hash", "at", "public_key", "fingerprint", "signature")
HEX = frozenset("0123456789abcdef")


def _hex(value: object, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and set(value) <= HEX


def _parse_line(raw: str, where: str) -> Checkpoint:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{where}: not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{where}: a checkpoint is a JSON object")
    for name in FIELDS:
        if name not in data:
            raise ValidationError(f"{where}, field {name!r}: missing")
    seq = data["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise ValidationError(f"{where}, field 'seq': a positive whole number")
    for name, length in (("hash", 64), ("public_key", 64), ("signature", 128)):
        if not _hex(data[name], length):
            raise ValidationError(f"{where}, field {name!r}: {length} lowercase hexadecimal characters")
    try:
        at = datetime.fromisoformat(str(data["at"]))
    except ValueError:
        raise ValidationError(f"{where}, field 'at': an ISO 8601 time") from None
    if at.tzinfo is None:
        raise ValidationError(f"{where}, field 'at': the time needs its UTC offset")
    if data["fingerprint"] != fingerprint(data["public_key"]):
        raise ValidationError(f"{where}, field 'fingerprint': does not belong to the public key")
    return Checkpoint(seq, data["hash"], at.astimezone(UTC), data["public_key"], data["signature"], where)


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """The checkpoints of an exported file; a bad line is an error naming file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read the checkpoints file {path}: {exc}") from None
    out = [
        _parse_line(raw, f"{path}, line {n}")
        for n, raw in enumerate(text.splitlines(), start=1)
        if raw.strip()
    ]
    if not out:
        raise ValidationError(f"{path}: no checkpoints in the file")
    return out


class Export:
    """What ``export_checkpoints`` did: lines written, of which new; or the disagreements."""

    def __init__(self, written: int, new: int, conflicts: list[str]) -> None:
        self.written, self.new, self.conflicts = written, new, conflicts


def export_checkpoints(session: Session, out: Path) -> Export:
    """Sign a checkpoint at the current head (if none is there yet) and write every
    checkpoint to ``out``, keeping those the file already holds. Nothing is written when
    the file holds a checkpoint that disagrees with the database's at the same entry."""
    checkpoint(session)
    ours = stored_checkpoints(session)
    kept = read_checkpoints(out) if out.exists() and out.stat().st_size else []
    by_seq = {c.seq: c for c in kept}
    conflicts = [
        f"entry {c.seq}: {by_seq[c.seq].source} says hash {by_seq[c.seq].hash[:16]}, "
        f"the database {c.hash[:16]}"
        for c in ours
        if c.seq in by_seq and (by_seq[c.seq].hash, by_seq[c.seq].signature) != (c.hash, c.signature)
    ]
    if conflicts:
        return Export(0, 0, conflicts)
    new = [c for c in ours if c.seq not in by_seq]
    lines = sorted([*kept, *new], key=lambda c: c.seq)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text("".join(json.dumps(c.line(), separators=(",", ":")) + "\n" for c in lines))
    tmp.replace(out)
    return Export(len(lines), len(new), [])
