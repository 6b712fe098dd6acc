"""One backup made and verified in a process of its own, so the daemon's memory stays its own.

A backup reads the whole event log twice: LMDB's hot copy walks every page through the map
of ``events/data.mdb``, and the verify folds every event of the copy into fresh projections
in memory. Inside the daemon both stayed counted against it: a 100,000-row batch makes a
1.7 GB log, and the catch-up backup taken while such a batch ran took the daemon from 140 MB
resident to over 700 MB, and left its heap 60 MB larger for the rest of its life
(``bench/inbox.py memory``). In a child process that memory is the child's, and it goes back
to the system when the child exits.

* :func:`make`: take → verify → remove the new backup if it does not verify; the
  :class:`~promptd.daemon.backup.manifest.Manifest` of a good one. Both runners call it.
* :func:`in_child` (the daemon's runner): ``python -m promptd.daemon.backup.worker`` gets a
  :class:`Job` as JSON on stdin, opens the log read-only (LMDB lets a second process read
  while the daemon writes; the copy is one consistent snapshot) and answers with JSON lines
  on stdout: :class:`Note` for progress, then one :class:`Outcome`. Its log lines come on
  stderr and go into the daemon's log.
* :func:`in_thread`: the same work on a thread of the calling process, for callers that hold
  the store in hand (tests that inject a fault into a step).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Final

import msgspec

from ..errors import BackupError, PromptdError
from . import catalog, snapshot
from .manifest import Manifest
from .snapshot import HotCopySource
from .verify import verify

__all__ = ["Job", "Runner", "in_child", "in_thread", "make"]

log = logging.getLogger("promptd.backup")

Progress = Callable[[str, int, int], None]  # message, done, total
_LINE_LIMIT: Final = 1 << 20  # a progress or outcome line is small; a manifest a few KB


class Job(msgspec.Struct, frozen=True, kw_only=True):
    """What to back up, and where: the daemon's side of the conversation."""

    events: str  # the live log's folder
    backups: str
    now: datetime  # the backup's time (its id), from the service's clock
    scheduled: bool = False
    encrypt_to: list[str] = msgspec.field(default_factory=list)


class Note(msgspec.Struct, frozen=True, tag="progress"):
    message: str
    done: int
    total: int


class Outcome(msgspec.Struct, frozen=True, tag="outcome"):
    manifest: Manifest | None = None
    error: str = ""  # for a person; empty when the backup was made and verified


_Line = Note | Outcome


Runner = Callable[[Job, HotCopySource, Progress | None], Awaitable[Manifest]]


def make(
    source: HotCopySource,
    job: Job,
    progress: Progress | None = None,
) -> Manifest:
    """Take the backup ``job`` describes and verify it; :class:`BackupError` when it cannot be
    made, or when it does not verify (the new backup is then removed)."""
    backups = Path(job.backups)
    manifest = snapshot.take(
        source,
        backups,
        now=job.now,
        scheduled=job.scheduled,
        progress=progress,
        encrypt_to=job.encrypt_to,
    )
    entry = catalog.BackupEntry(folder=backups / manifest.id, manifest=manifest)
    if progress is not None:
        progress("verifying", 0, 0)
    result = verify(entry, work_root=backups, sealed=True)
    if not result.ok:
        catalog.remove(entry)
        raise BackupError(f"the new backup did not verify ({result.reason}); removed it")
    return manifest


async def in_thread(job: Job, source: HotCopySource, progress: Progress | None) -> Manifest:
    """:func:`make` on a worker thread of this process."""
    return await asyncio.to_thread(make, source, job, progress)


async def in_child(job: Job, source: HotCopySource, progress: Progress | None) -> Manifest:
    """:func:`make` in a child process (``source`` is not used: the child opens
    ``job.events`` itself)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=_LINE_LIMIT,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stderr = asyncio.ensure_future(proc.stderr.read())
    try:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # it died at once
            proc.stdin.write(msgspec.json.encode(job))
            await proc.stdin.drain()
            proc.stdin.close()
        outcome: Outcome | None = None
        decoder = msgspec.json.Decoder(_Line)
        while line := await proc.stdout.readline():
            try:
                said = decoder.decode(line)
            except msgspec.DecodeError:
                log.warning("backup worker: %s", line.decode(errors="replace").rstrip())
                continue
            if isinstance(said, Note):
                if progress is not None:
                    progress(said.message, said.done, said.total)
            else:
                outcome = said
        code = await proc.wait()
    finally:
        if proc.returncode is None:  # cancelled: the worker cannot be left running alone
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        for text in (await stderr).decode(errors="replace").splitlines():
            log.info("backup worker: %s", text)
    if outcome is None:
        raise BackupError(
            f"the backup process ended without an answer (exit code {code}); see run/daemon.log"
        )
    if outcome.error or outcome.manifest is None:
        raise BackupError(outcome.error or "the backup process gave no manifest")
    return outcome.manifest


def _serve() -> int:
    """The child's side: one :class:`Job` on stdin, :class:`Note` lines and one
    :class:`Outcome` on stdout."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    out = sys.stdout.buffer

    def say(line: _Line) -> None:
        out.write(msgspec.json.encode(line) + b"\n")
        out.flush()

    try:
        job = msgspec.json.decode(sys.stdin.buffer.read(), type=Job)
    except msgspec.DecodeError as exc:
        say(Outcome(error=f"the backup process was given a bad job ({exc})"))
        return 2
    from ..projections import open_log

    try:
        with open_log(Path(job.events), readonly=True, allow_stale=True) as store:
            manifest = make(store, job, lambda m, d, t: say(Note(m, d, t)))
    except PromptdError as exc:
        say(Outcome(error=str(exc)))
        return 1
    except Exception as exc:  # status must show it; the traceback goes to the daemon's log
        log.exception("backup failed")
        say(Outcome(error=f"internal error ({type(exc).__name__}: {exc}); see run/daemon.log"))
        return 1
    say(Outcome(manifest=manifest))
    return 0


if __name__ == "__main__":
    os.umask(0o077)
    sys.exit(_serve())
