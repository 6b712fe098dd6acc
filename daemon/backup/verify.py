"""``promptd backup verify ID``: is this backup whole, and would it restore?

Checks, in order (the first that fails is the reason given):

1. the compressed file's size and SHA-256 match the manifest (a flipped byte fails here);
2. it decompresses, and the result opens as an LMDB event log of the same store;
3. the log decodes gaplessly: every sequence from 1 to the manifest's last, each record
   decodes, as many events as the manifest says;
4. every projection rebuilds from it (in memory, compared with the stored ones).

The work happens in a private folder beside the backups (same disk, never ``/tmp``, which
may be a small RAM disk), removed afterwards. The result is written to the backup's
``verify.json`` so ``backup list`` shows it and rotation can protect the newest verified one.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from ..errors import BackupError, PromptdError
from .catalog import BackupEntry, unpack
from .manifest import VERIFY_FILE, VerifyMark, write_json_atomic

__all__ = ["VerifyResult", "unpacked", "verify"]

log = logging.getLogger("promptd.backup")


class VerifyResult(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    ok: bool
    events: int = 0
    last_seq: int = 0
    reason: str = ""
    checks: list[str] = msgspec.field(default_factory=list)  # what passed, for people


@contextmanager
def unpacked(entry: BackupEntry, work_root: Path, identity: Path | None = None) -> Iterator[Path]:
    """The backup decompressed into a private LMDB folder under ``work_root``, removed after."""
    work_root.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        folder = Path(tempfile.mkdtemp(prefix=f".work-{entry.id}-", dir=work_root))
    except OSError as exc:
        raise BackupError(f"cannot make a work folder in {work_root}: {exc.strerror}") from exc
    try:
        unpack(entry, folder, identity)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check_unpacked(
    entry: BackupEntry, folder: Path, checks: list[str], *, rebuild: bool = False
) -> tuple[int, int]:
    """Open the unpacked log in ``folder`` and run checks 2-4; (events, last_seq).

    The log's own ``verify`` folds every record into fresh projections (a rebuild in
    memory) and compares them with the stored ones. ``rebuild``: also write the rebuilt
    projections (a restore does, so the store it swaps in is ready).
    """
    from ..projections import open_log

    manifest = entry.manifest
    try:
        store = open_log(folder)
    except PromptdError as exc:
        raise BackupError(f"it does not open as an event log: {exc}") from exc
    try:
        checks.append("opens as an event log")
        if store.store_id() != manifest.store_id:
            raise BackupError(
                f"it holds store {store.store_id()}, the manifest says {manifest.store_id}"
            )
        try:
            report = store.verify()
        except PromptdError as exc:
            raise BackupError(f"its projections do not rebuild: {exc}") from exc
        if report.problems:
            raise BackupError(f"its log is damaged: {'; '.join(report.problems[:3])}")
        if (report.events, report.last_seq) != (manifest.event_count, manifest.last_seq):
            raise BackupError(
                f"it holds {report.events} events up to {report.last_seq}, the manifest says "
                f"{manifest.event_count} up to {manifest.last_seq}"
            )
        if report.events != report.last_seq:
            raise BackupError(f"{report.events} events but the last sequence is {report.last_seq}")
        checks.append(f"log decodes gaplessly: sequences 1..{report.last_seq}")
        if report.differences:
            tables = ", ".join(sorted({d.table for d in report.differences}))
            checks.append(
                f"every projection rebuilds (the stored {tables} differ from the rebuild; "
                "a restore rebuilds them)"
            )
        else:
            checks.append("every projection rebuilds, equal to the stored ones")
        if rebuild:
            try:
                store.rebuild()
            except PromptdError as exc:
                raise BackupError(f"its projections do not rebuild: {exc}") from exc
        return report.events, report.last_seq
    finally:
        store.close()


def verify(
    entry: BackupEntry,
    *,
    work_root: Path,
    record: bool = True,
    identity: Path | None = None,
    sealed: bool = False,
) -> VerifyResult:
    """Verify ``entry``; never raises for a bad backup (the result says why), only for I/O
    and, for an encrypted backup, for a missing or wrong ``identity`` (an age identity file).

    ``sealed``: an encrypted backup with no identity is checked as far as it can be without
    one (its stored size and SHA-256), as the daemon does right after making it (the copy it
    encrypted was opened and read before).
    """
    if entry.manifest.encrypted and identity is None and sealed:
        return _verify_sealed(entry, record)
    checks: list[str] = []
    events = last_seq = 0
    reason = ""
    if entry.manifest.encrypted:
        from . import crypto

        crypto.load_identities(identity, f"backup {entry.id}")  # missing: refused, clearly
    try:
        with unpacked(entry, work_root, identity) as folder:
            checks.append("size and SHA-256 match the manifest; it decompresses")
            events, last_seq = check_unpacked(entry, folder, checks)
    except BackupError as exc:
        reason = str(exc).removeprefix(f"backup {entry.id} is damaged: ")
    if reason.startswith("the identity given does not open"):
        raise BackupError(reason)  # not the backup's fault: nothing to record
    ok = not reason
    result = VerifyResult(
        id=entry.id, ok=ok, events=events, last_seq=last_seq, reason=reason, checks=checks
    )
    if ok:
        log.info("backup %s verified: %d events", entry.id, events)
    else:
        log.warning("backup %s failed verification: %s", entry.id, reason)
    if record:
        mark = VerifyMark(
            ok=ok,
            at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            reason=reason,
            events=events,
        )
        try:
            write_json_atomic(entry.folder / VERIFY_FILE, mark)
        except OSError as exc:
            log.warning("could not record the verification of %s: %s", entry.id, exc)
    return result


def _verify_sealed(entry: BackupEntry, record: bool) -> VerifyResult:
    """An encrypted backup checked without its identity: stored size and SHA-256 only."""
    from .catalog import check_stored

    try:
        check_stored(entry)
    except BackupError as exc:
        reason = str(exc).removeprefix(f"backup {entry.id} is damaged: ")
        return VerifyResult(id=entry.id, ok=False, reason=reason)
    m = entry.manifest
    checks = [
        "the encrypted file's size and SHA-256 match the manifest",
        "contents not opened (encrypted; promptd keeps no identity): "
        "promptd backup verify ID --identity FILE checks them",
    ]
    if record:
        mark = VerifyMark(
            ok=True,
            at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            events=m.event_count,
        )
        try:
            write_json_atomic(entry.folder / VERIFY_FILE, mark)
        except OSError as exc:
            log.warning("could not record the verification of %s: %s", entry.id, exc)
    return VerifyResult(
        id=entry.id, ok=True, events=m.event_count, last_seq=m.last_seq, checks=checks
    )
