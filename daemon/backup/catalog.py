"""The backups on disk: list them, find one by id, unpack one, remove one.

The folder is the truth about which backups exist (the event log's ``BackupCreated`` /
``BackupPruned`` events tell their story, but a restore rewinds the log while the backups
stay). Each entry carries its manifest and its last verification.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import zlib
from pathlib import Path
from typing import IO, Final

import msgspec

from .. import api
from ..errors import BackupError
from ..paths import open_private
from .manifest import ID_RE, Manifest, VerifyMark, read_manifest, read_verify_mark
from .snapshot import CHUNK, LMDB_DATA

__all__ = ["BackupEntry", "backup_info", "find", "list_backups", "remove", "unpack"]


class BackupEntry(msgspec.Struct, frozen=True, kw_only=True):
    folder: Path
    manifest: Manifest
    mark: VerifyMark | None = None

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def verified(self) -> bool:
        return self.mark is not None and self.mark.ok

    @property
    def data_file(self) -> Path:
        return self.folder / self.manifest.file_name


def backup_info(entry: BackupEntry) -> api.BackupInfo:
    """How the control API and ``backup list --json`` describe a backup."""
    m = entry.manifest
    return api.BackupInfo(
        id=m.id,
        at=m.created_at,
        size_bytes=m.size_bytes,
        events=m.event_count,
        last_seq=m.last_seq,
        verified=entry.verified,
        path=str(entry.folder),
    )


def list_backups(backups_dir: Path) -> tuple[list[BackupEntry], list[str]]:
    """Every whole backup, oldest first, and one line per folder that is not a usable backup."""
    entries: list[BackupEntry] = []
    problems: list[str] = []
    try:
        folders = sorted(p for p in backups_dir.iterdir() if ID_RE.match(p.name) and p.is_dir())
    except FileNotFoundError:
        return [], []
    except OSError as exc:
        raise BackupError(f"cannot list {backups_dir}: {exc.strerror}") from exc
    for folder in folders:
        try:
            manifest = read_manifest(folder)
        except BackupError as exc:
            problems.append(str(exc))
            continue
        entries.append(BackupEntry(folder=folder, manifest=manifest, mark=read_verify_mark(folder)))
    entries.sort(key=lambda e: (e.manifest.created_ns, e.id))
    return entries, problems


def find(backups_dir: Path, ident: str) -> BackupEntry:
    """The backup whose id is ``ident``, a unique prefix of one, or ``latest``."""
    entries, _ = list_backups(backups_dir)
    if not entries:
        raise BackupError(
            f"there are no backups in {backups_dir}; make one with 'promptd backup now'"
        )
    if ident == "latest":
        return entries[-1]
    exact = [e for e in entries if e.id == ident]
    if exact:
        return exact[0]
    matches = [e for e in entries if e.id.startswith(ident)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise BackupError(f"no backup {ident!r}; 'promptd backup list' shows their ids")
    ids = ", ".join(e.id for e in matches[:5])
    raise BackupError(f"{ident!r} matches several backups ({ids}); give more of the id")


def remove(entry: BackupEntry) -> None:
    """Delete one backup folder, renamed out of the listing first so no half of it lists."""
    doomed = entry.folder.with_name(f".del-{entry.folder.name}")
    try:
        entry.folder.rename(doomed)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise BackupError(f"cannot remove backup {entry.id}: {exc.strerror}") from exc
    shutil.rmtree(doomed, ignore_errors=True)


class _HashingReader:
    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1, /) -> bytes:
        data = self._fh.read(n)
        self.sha256.update(data)
        self.size += len(data)
        return data

    def seek(self, n: int, /) -> int:
        raise io.UnsupportedOperation("a backup is read once, from the start")

    def drain(self) -> None:
        while self.read(CHUNK):
            pass


_DAMAGE: Final = (EOFError, zlib.error, gzip.BadGzipFile)


def unpack(entry: BackupEntry, dest: Path, identity: Path | None = None) -> Path:
    """Decompress the backup into ``dest/data.mdb`` (an LMDB folder) after checking its SHA-256.

    The compressed bytes are hashed as they are read; a backup whose size or hash differs from
    its manifest raises :class:`BackupError` and leaves nothing usable in ``dest``. An
    encrypted backup needs ``identity`` (an age identity file): its stored bytes are checked
    first, then decrypted beside ``data.mdb`` (0600) and decompressed.
    """
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not entry.manifest.encrypted:
        return _gunzip(entry, entry.data_file, dest, check=True)
    from . import crypto

    what = f"backup {entry.id}"
    identities = crypto.load_identities(identity, what)
    check_stored(entry)  # the stored bytes, as the manifest says
    plain = dest / f"{LMDB_DATA}.gz"
    try:
        crypto.decrypt_file(entry.data_file, plain, identities, what)
        return _gunzip(entry, plain, dest, check=False)
    finally:
        plain.unlink(missing_ok=True)


def _gunzip(entry: BackupEntry, source: Path, dest: Path | None, *, check: bool) -> Path:
    """Decompress ``source`` into ``dest/data.mdb``; ``check``: its size and SHA-256 must be
    the manifest's. ``dest`` None: only check (an encrypted file is not gzip)."""
    manifest = entry.manifest
    target = dest / LMDB_DATA if dest is not None else Path(os.devnull)
    damage = ""
    try:
        with open(source, "rb") as raw:
            reader = _HashingReader(raw)
            if dest is not None:
                try:
                    with (
                        gzip.GzipFile(fileobj=reader, mode="rb") as gz,
                        os.fdopen(open_private(target), "wb") as out,
                    ):
                        shutil.copyfileobj(gz, out, CHUNK)
                except _DAMAGE as exc:
                    damage = f"it does not decompress ({exc})"
            reader.drain()
    except FileNotFoundError as exc:
        if dest is not None:
            target.unlink(missing_ok=True)
        raise BackupError(
            f"backup {entry.id} has no {manifest.file_name}; it cannot be used"
        ) from exc
    except OSError as exc:
        if dest is not None:
            target.unlink(missing_ok=True)
        raise BackupError(f"cannot unpack backup {entry.id}: {exc.strerror or exc}") from exc
    problems = []
    if not check:
        pass
    elif reader.size != manifest.size_bytes:
        problems.append(f"its size is {reader.size} bytes, the manifest says {manifest.size_bytes}")
    digest = reader.sha256.hexdigest()
    if check and digest != manifest.sha256:
        problems.append(f"its SHA-256 is {digest[:12]}…, the manifest says {manifest.sha256[:12]}…")
    if damage:
        problems.append(damage)
    if problems:
        if dest is not None:
            target.unlink(missing_ok=True)
        raise BackupError(f"backup {entry.id} is damaged: {'; '.join(problems)}")
    return target


def check_stored(entry: BackupEntry) -> None:
    """The stored file's size and SHA-256 are the manifest's (no decompression)."""
    _gunzip(entry, entry.data_file, None, check=True)
