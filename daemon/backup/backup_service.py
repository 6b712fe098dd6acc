"""The backup service inside the daemon: scheduled and on-demand backups, rotation, import.

:class:`BackupService` is what :data:`promptd.daemon.server.main.SERVICES` loads. It answers

* ``backup.now`` (``api.BackupNowParams`` -> ``api.BackupInfo``, with ``progress``),
* ``backup.list`` (-> ``api.BackupListResult``),
* ``events.import`` (:class:`ImportParams` -> :class:`ImportSummary`): ``promptd import``
  while the daemon runs (the daemon is the only writer),

and runs :class:`~promptd.daemon.backup.scheduler.BackupScheduler`. One backup at a time.

A backup run (:meth:`BackupService.run`): hot copy → verify the new backup (both in a child
process: :mod:`.worker` says why) → record
``BackupCreated`` → drop the safety copies of earlier restores → rotate (each deletion a
``BackupPruned``). Any failure records ``BackupFailed`` (``status`` shows it), removes the
partial backup, and prunes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .. import api
from ..config import Config
from ..errors import BackupError, PromptdError
from ..events import (
    BackupCreated,
    BackupFailed,
    BackupPruned,
    Envelope,
    Event,
    EventsImported,
)
from ..paths import Paths
from ..wire import Call, Method
from . import catalog, rotation, worker
from .importer import read_import
from .manifest import read_verify_mark
from .merge import ImportSummary, envelopes_for, summary
from .restore import recover, safety_copies
from .scheduler import BackupScheduler, Clock, local_now

if TYPE_CHECKING:
    from ..server.app import Daemon

__all__ = ["BackupService", "ImportParams"]

log = logging.getLogger("promptd.backup")


class Store(Protocol):
    """What the service needs of the daemon's event log (:class:`AsyncEventLog`)."""

    def copy_to(self, dest: Path) -> None: ...

    def store_id(self) -> str: ...

    async def append(self, events: Event | list[Event]) -> list[int]: ...

    async def append_records(self, envelopes: list[Envelope]) -> list[int]: ...


class ImportParams(api.Params):
    path: str  # absolute path of the export file


class BackupService:
    """Backups for one home; see the module doc."""

    name = "backup"

    def __init__(
        self,
        daemon: Daemon | None = None,
        *,
        paths: Paths | None = None,
        config: Config | None = None,
        store: Store | None = None,
        clock: Clock = local_now,
        runner: worker.Runner = worker.in_child,
    ) -> None:
        self._daemon = daemon
        if daemon is not None:
            paths, config = daemon.paths, daemon.config
            daemon.reload_hooks.append(self._reloaded)
        if paths is None or config is None:
            raise TypeError("BackupService needs a daemon, or paths and config")
        self.paths = paths
        self.config = config
        self._explicit_store = store
        self.clock = clock
        self._runner = runner  # where the copy and the verify run (worker.py says why)
        self._lock = asyncio.Lock()
        self._running: asyncio.Future[Any] | None = None
        # The core service opens the store when it starts, after this runs: finish (or undo)
        # a restore that was interrupted, before anyone opens events/.
        if recovered := recover(paths):
            log.warning("%s", recovered)
        self.scheduler = BackupScheduler(
            config.backup, self._scheduled, self.last_backup_at, clock=clock
        )

    # --- the service protocol ----------------------------------------------------------

    def methods(self) -> Mapping[str, Method]:
        return {
            "backup.now": Method(api.BackupNowParams, self._rpc_now, work=True),
            "backup.list": Method(api.Empty, self._rpc_list),
            "events.import": Method(ImportParams, self._rpc_import, work=True),
        }

    async def start(self) -> None:
        await self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.stop()
        running = self._running
        if running is not None and not running.done():
            log.info("backup: waiting for the backup in progress to finish")
            await asyncio.wait([running])

    def next_backup_at(self) -> str | None:
        """For ``status``: when the daily backup runs next (ISO 8601, UTC)."""
        at = self.scheduler.next_at()
        return None if at is None else _iso(at)

    def _reloaded(self, config: Config) -> None:
        self.config = config
        if self._daemon is not None and config.backup != self.scheduler.config:
            self._daemon.spawn(self.scheduler.reschedule(config.backup), "backup-reschedule")

    # --- facts ---------------------------------------------------------------------------

    def store(self) -> Store:
        if self._explicit_store is not None:
            return self._explicit_store
        core = self._daemon.core if self._daemon is not None else None
        if core is None or core.store is None:
            raise BackupError("the event log is not open yet; try again in a moment")
        return core.store

    def last_backup_at(self) -> datetime | None:
        """When the newest backup on disk was taken (None: there is none)."""
        try:
            entries, _ = catalog.list_backups(self.paths.backups)
        except BackupError:
            return None
        return entries[-1].manifest.created if entries else None

    # --- a backup run --------------------------------------------------------------------

    async def _scheduled(self) -> None:
        await self.run(scheduled=True)

    async def run(
        self, *, scheduled: bool = False, progress: Callable[[str, int, int], None] | None = None
    ) -> catalog.BackupEntry:
        """Make, verify, record and rotate one backup; raises :class:`BackupError` on failure."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            # The copy cannot be cancelled half-way (a thread, or a child process whose
            # temporary folder would be left): shield it, and let stop() wait for it.
            work = loop.create_task(self._run(scheduled, progress))
            self._running = work
            try:
                return await asyncio.shield(work)
            finally:
                if work.done():
                    self._running = None

    async def _run(
        self, scheduled: bool, progress: Callable[[str, int, int], None] | None
    ) -> catalog.BackupEntry:
        store = self.store()
        from .crypto import recipient_strings

        job = worker.Job(
            events=str(self.paths.events),
            backups=str(self.paths.backups),
            now=self.clock(),
            scheduled=scheduled,
            encrypt_to=recipient_strings(self.config),
        )
        try:
            manifest = await self._runner(job, store, progress)
        except Exception as exc:  # whatever broke it, status must show the failure
            if isinstance(exc, PromptdError):
                reason = str(exc)
                log.error("backup failed: %s", reason)
            else:
                reason = f"internal error ({type(exc).__name__}: {exc}); see run/daemon.log"
                log.exception("backup failed")
            await store.append(BackupFailed(reason=reason, scheduled=scheduled))
            raise BackupError(reason) from exc
        folder = self.paths.backups / manifest.id
        entry = catalog.BackupEntry(folder=folder, manifest=manifest, mark=read_verify_mark(folder))
        await store.append(
            BackupCreated(
                backup_id=manifest.id,
                file_name=manifest.file_name,
                last_seq=manifest.last_seq,
                event_count=manifest.event_count,
                size_bytes=manifest.size_bytes,
                sha256=manifest.sha256,
                duration_ms=manifest.duration_ms,
                verified=True,
                scheduled=scheduled,
            )
        )
        for copy in safety_copies(self.paths):  # kept until this: a good backup exists again
            await asyncio.to_thread(shutil.rmtree, copy, True)
            log.info("backup: removed the safety copy %s", copy.name)
        await self._rotate(store)
        return entry

    async def _rotate(self, store: Store) -> None:
        entries, _ = await asyncio.to_thread(catalog.list_backups, self.paths.backups)
        cfg = self.config.backup
        policy = rotation.Policy(
            keep_daily=cfg.keep_daily, keep_weekly=cfg.keep_weekly, keep_monthly=cfg.keep_monthly
        )
        refs = [
            rotation.BackupRef(id=e.id, created=e.manifest.created, verified=e.verified)
            for e in entries
        ]
        by_id = {e.id: e for e in entries}
        for decision in rotation.plan(refs, policy, self.clock()):
            if decision.keep:
                continue
            try:
                await asyncio.to_thread(catalog.remove, by_id[decision.id])
            except BackupError as exc:
                log.warning("backup: could not prune %s: %s", decision.id, exc)
                continue
            await store.append(BackupPruned(backup_id=decision.id, reason=decision.reasons[0]))
            log.info("backup: pruned %s (%s)", decision.id, decision.reasons[0])

    # --- import --------------------------------------------------------------------------

    async def import_file(self, path: Path) -> ImportSummary:
        """Merge the export at ``path`` into the log (idempotent)."""
        store = self.store()
        parsed = await asyncio.to_thread(read_import, path)
        envelopes, local_only = envelopes_for(parsed)
        seqs = await store.append_records(envelopes)
        result = summary(parsed, imported=len(seqs), local_only=local_only)
        if seqs:
            await store.append(
                EventsImported(
                    file_name=path.name, imported=result.imported, skipped=result.skipped
                )
            )
        return result

    # --- control API ---------------------------------------------------------------------

    async def _rpc_now(self, params: api.BackupNowParams, call: Call) -> api.BackupInfo:
        loop = asyncio.get_running_loop()

        def progress(message: str, done: int, total: int) -> None:
            note = api.Progress(token="", kind="backup", message=message, done=done, total=total)
            loop.call_soon_threadsafe(call.progress, note)

        entry = await self.run(progress=progress)
        return catalog.backup_info(entry)

    async def _rpc_list(self, params: api.Empty, call: Call) -> api.BackupListResult:
        entries, _ = await asyncio.to_thread(catalog.list_backups, self.paths.backups)
        return api.BackupListResult(backups=[catalog.backup_info(e) for e in reversed(entries)])

    async def _rpc_import(self, params: ImportParams, call: Call) -> ImportSummary:
        path = Path(params.path)
        if not path.is_absolute():
            raise BackupError(f"{params.path!r}: give the export's absolute path")
        return await self.import_file(path)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
