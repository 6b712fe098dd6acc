"""Take one backup: a hot copy of the live store, compressed, with its manifest, renamed in.

The daemon keeps writing while this runs: the copy is LMDB's own consistent, compacted copy
(``env.copy(path, compact=True)`` behind :meth:`EventLog.copy_to`), which reads one MVCC
snapshot and never blocks the writer. Its facts (last sequence, event count) are read from
the *copy*, so the manifest describes exactly what the backup holds.

Steps, all inside ``backups/.tmp-ID-PID/``: copy → read the copy's facts → gzip it while
hashing the compressed bytes → fsync → write ``manifest.json`` → rename the folder to ``ID``.
Any failure (disk full, permission denied, read-only file system) removes the temporary folder
and raises :class:`BackupError`: the store and the older backups are never touched.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Protocol

import msgspec

from .. import __version__
from ..errors import BackupError, PromptdError
from ..events import SCHEMA_VERSION
from ..paths import open_private
from .manifest import (
    DATA_FILE,
    ID_RE,
    MANIFEST_FILE,
    Manifest,
    backup_id_for,
    fsync_dir,
    write_json_atomic,
)

__all__ = [
    "CopyFacts",
    "HashingWriter",
    "HotCopySource",
    "explain_os_error",
    "inspect_copy",
    "take",
]

log = logging.getLogger("promptd.backup")

CHUNK: Final = 1 << 20
LMDB_DATA: Final = "data.mdb"
TMP_PREFIX: Final = ".tmp-"

Progress = Callable[[str, int, int], None]  # message, done, total


class HotCopySource(Protocol):
    """The live store: it can write a consistent, compacted copy of itself to a folder."""

    def copy_to(self, dest: Path) -> None: ...


class CopyFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What the copy holds, read from the copy itself."""

    store_id: str
    last_seq: int
    event_count: int


Inspect = Callable[[Path], CopyFacts]


def inspect_copy(folder: Path) -> CopyFacts:
    """Open the LMDB copy in ``folder`` and read what it holds."""
    from ..projections import open_log

    with open_log(folder, readonly=True) as copy:
        return CopyFacts(
            store_id=copy.store_id(), last_seq=copy.last_seq(), event_count=copy.count()
        )


class HashingWriter:
    """A binary file wrapper that counts and hashes every byte written through it."""

    def __init__(self, raw: os.PathLike[str] | str) -> None:
        self._fh = os.fdopen(open_private(raw), "wb")  # closed in close()
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        written = self._fh.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return written

    def flush(self) -> None:
        self._fh.flush()

    def sync(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


def explain_os_error(exc: OSError, where: Path) -> str:
    """One line for a person: what went wrong writing a backup and what to do."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"no space left on the device holding {where}; free some space (or move the "
            "backups folder); the store and older backups are untouched"
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"permission denied writing to {where}; make it writable by this user — "
            "the store and older backups are untouched"
        )
    if exc.errno == errno.EROFS:
        return (
            f"{where} is on a read-only file system; remount it read-write or move the "
            "backups folder; the store and older backups are untouched"
        )
    reason = exc.strerror or str(exc)
    return f"cannot write the backup in {where}: {reason}; store and older backups are untouched"


def _compress(src: Path, dest: Path, progress: Progress | None) -> tuple[int, str]:
    """gzip ``src`` into ``dest``; the compressed size and SHA-256, after an fsync."""
    total = src.stat().st_size
    out = HashingWriter(dest)
    try:
        with (
            open(src, "rb") as inp,
            gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=6, mtime=0) as gz,
        ):
            done = 0
            while chunk := inp.read(CHUNK):
                gz.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress("compressing", done, total)
        out.sync()
    finally:
        out.close()
    return out.size, out.sha256.hexdigest()


def _digest(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of a file, read in chunks (after an fsync)."""
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())
        while chunk := fh.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest()


def _taken_ids(backups_dir: Path) -> set[str]:
    return {p.name for p in backups_dir.iterdir() if ID_RE.match(p.name)}


def clean_stale_temporaries(backups_dir: Path) -> None:
    """Remove ``.tmp-*`` folders left by a backup that died (its process is gone)."""
    try:
        entries = list(backups_dir.iterdir())
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(TMP_PREFIX):
            continue
        pid_text = entry.name.rsplit("-", 1)[-1]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and _alive(int(pid_text)):
            continue
        shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def take(
    source: HotCopySource,
    backups_dir: Path,
    *,
    now: datetime,
    inspect: Inspect = inspect_copy,
    scheduled: bool = False,
    progress: Progress | None = None,
    encrypt_to: Sequence[str] = (),
) -> Manifest:
    """Make one backup of ``source`` in ``backups_dir``; its manifest once it is renamed in.

    ``encrypt_to``: age public keys; the compressed copy is then encrypted to them
    (``data.mdb.gz.age``) and the plain one removed before the backup is renamed in."""
    started = time.monotonic()
    try:
        backups_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        clean_stale_temporaries(backups_dir)
        backup_id = backup_id_for(now, _taken_ids(backups_dir))
    except OSError as exc:
        raise BackupError(explain_os_error(exc, backups_dir)) from exc
    tmp = backups_dir / f"{TMP_PREFIX}{backup_id}-{os.getpid()}"
    try:
        tmp.mkdir(mode=0o700)
        copy_dir = tmp / "copy"
        if progress is not None:
            progress("copying the store", 0, 0)
        source.copy_to(copy_dir)
        facts = inspect(copy_dir)
        raw = copy_dir / LMDB_DATA
        raw_bytes = raw.stat().st_size
        size, digest = _compress(raw, tmp / DATA_FILE, progress)
        shutil.rmtree(copy_dir)
        file_name = DATA_FILE
        if encrypt_to:
            from . import crypto

            if progress is not None:
                progress("encrypting", 0, 0)
            file_name = DATA_FILE + crypto.SUFFIX
            crypto.encrypt_file(
                tmp / DATA_FILE, tmp / file_name, crypto.parse_recipients(encrypt_to)
            )
            (tmp / DATA_FILE).unlink()
            size, digest = _digest(tmp / file_name)
        created = now.astimezone(UTC)
        manifest = Manifest(
            id=backup_id,
            created_at=created.isoformat().replace("+00:00", "Z"),
            created_ns=int(created.timestamp() * 1_000_000) * 1000,
            promptd_version=__version__,
            schema_version=SCHEMA_VERSION,
            store_id=facts.store_id,
            last_seq=facts.last_seq,
            event_count=facts.event_count,
            file_name=file_name,
            size_bytes=size,
            raw_bytes=raw_bytes,
            sha256=digest,
            encrypted=bool(encrypt_to),
            recipients=list(encrypt_to),
            scheduled=scheduled,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        write_json_atomic(tmp / MANIFEST_FILE, manifest)
        fsync_dir(tmp)
        os.rename(tmp, backups_dir / backup_id)
        fsync_dir(backups_dir)
    except OSError as exc:
        _discard(tmp)
        raise BackupError(explain_os_error(exc, backups_dir)) from exc
    except PromptdError as exc:
        _discard(tmp)
        known = _os_error_in(exc)
        if known is not None:
            raise BackupError(explain_os_error(known, backups_dir)) from exc
        raise BackupError(f"the store could not be copied: {exc}") from exc
    except BaseException:
        _discard(tmp)
        raise
    log.info(
        "backup %s: %d events, %d bytes, %d ms",
        backup_id,
        manifest.event_count,
        manifest.size_bytes,
        manifest.duration_ms,
    )
    return manifest


_STRERRORS: Final = {
    os.strerror(n): n for n in (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS)
}


def _os_error_in(exc: BaseException) -> OSError | None:
    """The disk or permission error behind a store error (LMDB reports them as text)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen
        for text, number in _STRERRORS.items():
            if text in str(seen):
                return OSError(number, text)
        seen = seen.__cause__
    return None


def _discard(tmp: Path) -> None:
    shutil.rmtree(tmp, ignore_errors=True)
