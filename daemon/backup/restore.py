"""``promptd backup restore ID``: put a backup back as the store, all or nothing.

1. Unpack the backup beside ``events/`` (same disk) and verify it there: checksum, opens,
   gapless log, projections rebuilt. A backup that fails is never swapped in.
2. Stop the daemon if it runs, and hold its pid-file lock so none starts meanwhile.
3. Swap: the unpacked folder and ``events/`` trade places in ONE atomic ``renameat2
   (RENAME_EXCHANGE)`` (Linux); where that call is missing, two renames with a journal that
   :func:`recover` finishes. The old store becomes the safety copy
   ``events.before-restore-TIME/`` (kept until the next successful backup).
4. Record ``BackupRestored`` in the restored log; start the daemon again if it was running.

Interrupted anywhere, ``events/`` is the old store or the new one, never half of each: before
the swap the new one is only a side folder; the swap is one rename; after it, :func:`recover`
(run by every restore, backup and import, and at daemon start) finishes the bookkeeping.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import logging
import os
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Protocol

import msgspec

from .. import process
from ..client import ensure_daemon
from ..errors import BackupError, PromptdError
from ..events import BackupRestored
from ..paths import Paths, ensure_private_dir
from .catalog import BackupEntry, find, unpack
from .manifest import VERIFY_FILE, VerifyMark, fsync_dir, write_json_atomic
from .verify import check_unpacked

__all__ = [
    "SAFETY_PREFIX",
    "DaemonControl",
    "ProcessDaemonControl",
    "RestoreResult",
    "recover",
    "restore",
    "safety_copies",
]

log = logging.getLogger("promptd.backup")

SAFETY_PREFIX: Final = "events.before-restore-"
STAGING_PREFIX: Final = ".events.restore-"
JOURNAL: Final = ".restore.json"
MARK: Final = "restored-from.json"  # inside the staged store until the restore is recorded


class DaemonControl(Protocol):
    """What a restore needs from the daemon's life."""

    def running_pid(self) -> int | None: ...

    def stop(self, pid: int) -> None: ...

    def start(self) -> None: ...


class ProcessDaemonControl:
    """The real daemon of a home: ask it to step aside (SIGUSR1) and wait; afterwards start
    it again in the mode it ran (foreground in its terminal, or detached) and wait for its
    socket."""

    def __init__(self, paths: Paths, stop_timeout: float = 30.0) -> None:
        self.paths = paths
        self.stop_timeout = stop_timeout

    def running_pid(self) -> int | None:
        return process.running_pid(self.paths)

    def stop(self, pid: int) -> None:
        from .. import process

        process.step_aside(pid)  # a foreground daemon comes back by itself after the restore
        if not process.wait_exit(self.paths, pid, self.stop_timeout):
            raise BackupError(
                f"the daemon (pid {pid}) did not stop within {self.stop_timeout:g} s; "
                "stop it with 'promptd stop' and restore again (nothing was changed)"
            )

    def start(self) -> None:
        """Start the daemon again in the mode it ran: a foreground one that stepped aside is
        told the restore is done (it serves again in its own terminal); else detached."""
        from .. import process
        from ..client import answers

        marker = process.restore_marker(self.paths)
        if marker.exists():
            marker.unlink(missing_ok=True)
            deadline = time.monotonic() + 30.0
            while time.monotonic() < deadline:
                if answers(self.paths):
                    return
                time.sleep(0.05)
        ensure_daemon(self.paths, timeout=30.0)


class RestoreResult(msgspec.Struct, frozen=True, kw_only=True):
    backup_id: str
    events: int
    last_seq: int
    previous_last_seq: int
    safety_copy: str
    daemon_restarted: bool


class _Journal(msgspec.Struct, frozen=True, kw_only=True):
    backup_id: str
    staging: str
    safety: str
    last_seq: int  # of the backup: a BackupRestored after it means the restore is recorded
    previous_last_seq: int
    daemon_was_running: bool = False


# --- the atomic swap ---------------------------------------------------------------------

_AT_FDCWD: Final = -100
_RENAME_EXCHANGE: Final = 2


def _load_renameat2() -> Callable[[int, bytes, int, bytes, int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        func = libc.renameat2
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    return func


_renameat2 = _load_renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (True), or False where the system cannot."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False  # old kernel, or a file system without exchange
    raise OSError(err, os.strerror(err), str(a))


def _swap_in(events: Path, staging: Path, safety: Path) -> None:
    """Make ``staging`` the store and the old ``events`` the ``safety`` copy."""
    if not events.exists():
        os.rename(staging, events)
    elif exchange(events, staging):
        os.rename(staging, safety)  # staging now holds the old store
    else:
        os.rename(events, safety)
        os.rename(staging, events)  # a crash between the two: recover() rolls forward
    fsync_dir(events.parent)


# --- recovery ----------------------------------------------------------------------------


def safety_copies(paths: Paths) -> list[Path]:
    """The stores set aside by restores (oldest first)."""
    parent = paths.events.parent
    try:
        return sorted(p for p in parent.iterdir() if p.name.startswith(SAFETY_PREFIX))
    except FileNotFoundError:
        return []


def _record(paths: Paths, journal: _Journal) -> None:
    """Append ``BackupRestored`` to the restored log unless it is already there."""
    from ..projections import open_log

    with open_log(paths.events) as store:
        recorded = any(
            isinstance(r.event, BackupRestored) and r.event.backup_id == journal.backup_id
            for r in store.read(journal.last_seq + 1)
        )
        if not recorded:
            store.append(
                BackupRestored(
                    backup_id=journal.backup_id,
                    previous_last_seq=journal.previous_last_seq,
                    safety_copy=journal.safety,
                )
            )


def _read_journal(paths: Paths) -> _Journal | None:
    journal_path = paths.events.parent / JOURNAL
    try:
        return msgspec.json.decode(journal_path.read_bytes(), type=_Journal)
    except FileNotFoundError:
        return None
    except (OSError, msgspec.MsgspecError) as exc:
        raise BackupError(
            f"{journal_path} is unreadable ({exc}); check that {paths.events} is the store "
            "you want, then delete that file"
        ) from exc


def _finish(paths: Paths, journal: _Journal) -> bool:
    """Bring a journaled restore to an end: True when the backup is the store now."""
    parent = paths.events.parent
    staging, events = Path(journal.staging), paths.events
    if not events.exists() and staging.exists():
        os.rename(staging, events)  # the two-rename swap stopped half way: roll forward
        fsync_dir(parent)
    swapped = (events / MARK).exists()
    if swapped:
        if staging.exists():  # the exchange happened; staging holds the old store
            os.rename(staging, journal.safety)
            fsync_dir(parent)
        _record(paths, journal)
        (events / MARK).unlink()
    else:
        shutil.rmtree(staging, ignore_errors=True)  # never swapped in: the old store stands
    (parent / JOURNAL).unlink(missing_ok=True)
    fsync_dir(parent)
    return swapped


def recover(paths: Paths) -> str:
    """Finish or undo a restore that was interrupted; what was done ('' when nothing).

    Call it before opening the store (the daemon at start, and every backup command).
    """
    journal = _read_journal(paths)
    if journal is None:
        return ""
    if _finish(paths, journal):
        done = f"finished the interrupted restore of backup {journal.backup_id}"
    else:
        done = f"undid the unfinished restore of backup {journal.backup_id}; the store is as before"
    log.warning("%s", done)
    return done


# --- restore -----------------------------------------------------------------------------


def _stamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _previous_last_seq(events: Path) -> int:
    from ..projections import open_log

    if not (events / "data.mdb").exists():
        return 0
    with open_log(events, readonly=True) as store:
        return store.last_seq()


def _stage(entry: BackupEntry, staging: Path, identity: Path | None = None) -> tuple[int, int]:
    """Unpack and verify ``entry`` into ``staging`` (projections rebuilt); (events, last)."""
    shutil.rmtree(staging, ignore_errors=True)
    checks: list[str] = []
    try:
        unpack(entry, staging, identity)
        events, last = check_unpacked(entry, staging, checks, rebuild=True)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, BackupError) and (
            "is encrypted (age)" in str(exc) or "identity" in str(exc)
        ):
            raise BackupError(f"{exc}; the store is unchanged") from None
        if isinstance(exc, BackupError):
            reason = str(exc).removeprefix(f"backup {entry.id} is damaged: ")
            with contextlib.suppress(OSError):
                write_json_atomic(
                    entry.folder / VERIFY_FILE,
                    VerifyMark(ok=False, at=_iso_now(), reason=reason),
                )
            raise BackupError(
                f"backup {entry.id} failed verification ({reason}); it was not restored and "
                "the store is unchanged"
            ) from exc
        raise
    with contextlib.suppress(OSError):
        write_json_atomic(
            entry.folder / VERIFY_FILE, VerifyMark(ok=True, at=_iso_now(), events=events)
        )
    return events, last


def _iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def restore(
    paths: Paths,
    ident: str,
    *,
    daemon: DaemonControl,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
    identity: Path | None = None,
) -> RestoreResult:
    """Restore backup ``ident`` (an id, a unique prefix, or ``latest``) as the store.

    An encrypted backup needs ``identity`` (an age identity file); without it, or with one
    that does not open it, nothing changes and the error says so."""

    say = progress or (lambda _msg: None)
    recover(paths)
    entry = find(paths.backups, ident)
    parent = paths.events.parent
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = parent / f"{STAGING_PREFIX}{entry.id}"
    safety = parent / f"{SAFETY_PREFIX}{_stamp(now or datetime.now(UTC))}"
    n = 1
    while safety.exists():
        n += 1
        safety = safety.with_name(f"{SAFETY_PREFIX}{_stamp(now or datetime.now(UTC))}-{n}")
    say(f"verifying backup {entry.id}")
    try:
        events, last_seq = _stage(entry, staging, identity)
    except OSError as exc:
        raise BackupError(
            f"cannot unpack backup {entry.id} beside {paths.events}: {exc.strerror}; "
            "the store is unchanged"
        ) from exc

    pid = daemon.running_pid()
    try:
        return _swap(paths, entry, daemon, pid, staging, safety, events, last_seq, say)
    finally:
        # a foreground daemon that stepped aside must never wait on a restore that failed
        from ..process import restore_marker

        restore_marker(paths).unlink(missing_ok=True)


def _swap(
    paths: Paths,
    entry: BackupEntry,
    daemon: DaemonControl,
    pid: int | None,
    staging: Path,
    safety: Path,
    events: int,
    last_seq: int,
    say: Callable[[str], None],
) -> RestoreResult:
    """Stop the daemon, swap the staged backup in, start the daemon again."""

    parent = paths.events.parent
    try:
        if pid is not None:
            say(f"stopping the daemon (pid {pid})")
            daemon.stop(pid)
        ensure_private_dir(paths.run)
        lock = process.PidLock(paths.pid_file)
        lock.acquire()  # no daemon may start while the store is being swapped
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        previous = _previous_last_seq(paths.events)
        journal = _Journal(
            backup_id=entry.id,
            staging=str(staging),
            safety=str(safety) if paths.events.exists() else "",
            last_seq=last_seq,
            previous_last_seq=previous,
            daemon_was_running=pid is not None,
        )
        write_json_atomic(staging / MARK, journal)
        write_json_atomic(parent / JOURNAL, journal)
        say("swapping the backup in")
        try:
            _swap_in(paths.events, staging, safety)
        except OSError as exc:
            _finish(paths, journal)
            raise BackupError(f"cannot swap the backup in: {exc.strerror}") from exc
        _finish(paths, journal)  # records BackupRestored, removes the journal and the mark
    finally:
        lock.release()
    restarted = False
    if pid is not None:
        say("starting the daemon again")
        try:
            daemon.start()
            restarted = True
        except PromptdError as exc:
            raise BackupError(
                f"backup {entry.id} was restored, but the daemon did not start again: {exc}"
            ) from exc
    log.info("restored backup %s (%d events)", entry.id, events)
    return RestoreResult(
        backup_id=entry.id,
        events=events,
        last_seq=last_seq,
        previous_last_seq=previous,
        safety_copy=str(safety) if safety.exists() else "",
        daemon_restarted=restarted,
    )
