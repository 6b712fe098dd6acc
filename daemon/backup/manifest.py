"""What a backup folder holds, and how to read it back.

A backup is one folder in ``backups/`` named by its id (the UTC time it was taken,
``20261127T030000Z``, with ``-2``, ``-3``... when two land in one second)::

    backups/20261127T030000Z/
        events.mdb.gz    the compacted LMDB copy of events/, gzip-compressed
        manifest.json    Manifest: when, which promptd, how many events, size, SHA-256
        verify.json      VerifyMark: the last verification's result (absent: never verified)

A backup is built in ``backups/.tmp-ID-PID/`` and renamed to its id only when complete, so a
folder with a plain id is always a whole backup. Names starting with ``.`` are work in
progress (or left over from a crash) and never listed.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import msgspec

from ..errors import BackupError
from ..paths import open_private

__all__ = [
    "DATA_FILE",
    "MANIFEST_FILE",
    "VERIFY_FILE",
    "Manifest",
    "VerifyMark",
    "backup_id_for",
    "read_manifest",
    "read_verify_mark",
    "write_json_atomic",
]

MANIFEST_FILE: Final = "manifest.json"
DATA_FILE: Final = "events.mdb.gz"
VERIFY_FILE: Final = "verify.json"
FORMAT: Final = 1

ID_RE: Final = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    """``manifest.json``: everything needed to trust and describe a backup without opening it.

    Read without ``forbid_unknown_fields``: a manifest written by a newer promptd still lists.
    """

    format: int = FORMAT
    id: str
    created_at: str  # ISO 8601, UTC
    created_ns: int  # the same instant, ns since the epoch (UTC)
    promptd_version: str
    schema_version: int
    store_id: str
    last_seq: int
    event_count: int
    file_name: str = DATA_FILE
    compression: str = "gzip"
    size_bytes: int  # of file_name, compressed
    raw_bytes: int  # of the LMDB copy, uncompressed
    sha256: str  # of file_name, compressed
    scheduled: bool = False
    duration_ms: int = 0
    # age-encrypted (file_name ends .age; size and sha256 are of the encrypted file), and
    # the public keys it was encrypted to (never an identity: promptd does not store those)
    encrypted: bool = False
    recipients: list[str] = msgspec.field(default_factory=list)

    @property
    def created(self) -> datetime:
        return datetime.fromtimestamp(self.created_ns / 1e9, UTC)


class VerifyMark(msgspec.Struct, frozen=True, kw_only=True):
    """``verify.json``: when the backup was last verified and what came out."""

    ok: bool
    at: str  # ISO 8601, UTC
    reason: str = ""  # why it failed
    events: int = 0  # events read back


_manifest_decoder: Final = msgspec.json.Decoder(Manifest)
_mark_decoder: Final = msgspec.json.Decoder(VerifyMark)
_encoder: Final = msgspec.json.Encoder()


def backup_id_for(at: datetime, taken: set[str]) -> str:
    """The id of a backup taken at ``at``: its UTC second, made unique among ``taken``."""
    base = at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def read_manifest(folder: Path) -> Manifest:
    """The manifest of the backup in ``folder``; a clear :class:`BackupError` when unusable."""
    path = folder / MANIFEST_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise BackupError(f"{folder.name}: no {MANIFEST_FILE}; this is not a whole backup") from exc
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        manifest = _manifest_decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise BackupError(f"{path} is damaged ({exc}); this backup cannot be trusted") from exc
    if manifest.id != folder.name:
        raise BackupError(
            f"{path} names backup {manifest.id!r} but sits in {folder.name!r}; "
            "move it back to its own folder"
        )
    return manifest


def read_verify_mark(folder: Path) -> VerifyMark | None:
    """The last verification of the backup in ``folder`` (None: never verified, or unreadable)."""
    try:
        return _mark_decoder.decode((folder / VERIFY_FILE).read_bytes())
    except (OSError, msgspec.ValidationError, msgspec.DecodeError):
        return None


def encode_json(value: object) -> bytes:
    return msgspec.json.format(_encoder.encode(value), indent=2) + b"\n"


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable (a no-op where directories can't sync)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_json_atomic(path: Path, value: object) -> None:
    """Write ``value`` as JSON to ``path`` through a temporary name and a rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with os.fdopen(open_private(tmp), "wb") as fh:
            fh.write(encode_json(value))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
