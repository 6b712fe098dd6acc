"""Backups: every backup made, whether it was verified, pruned or restored.

Tables:

* ``backups``       ``backup_id`` -> :class:`BackupEntry`
* ``backups_meta``  ``last`` -> :class:`BackupSummary` (last made, last failure, restores)
"""

from __future__ import annotations

import msgspec

from ..events import BackupCreated, BackupFailed, BackupPruned, BackupRestored, Record
from .base import Projection, Reader, State, Table, on

List = list  # the view has a method named `list`


class BackupEntry(msgspec.Struct, array_like=True):
    backup_id: str
    file_name: str
    seq: int
    ts_ns: int  # when it was made
    last_seq: int
    event_count: int
    size_bytes: int
    sha256: str
    verified: bool = False
    scheduled: bool = False
    pruned: bool = False
    pruned_ts_ns: int = 0
    prune_reason: str = ""
    restored: int = 0  # how many times it was restored
    restored_ts_ns: int = 0


class BackupSummary(msgspec.Struct, array_like=True):
    last_id: str = ""
    last_ts_ns: int = 0  # the last BackupCreated
    failures: int = 0
    last_failure_ts_ns: int = 0
    last_failure: str = ""
    restores: int = 0
    last_restore_ts_ns: int = 0


BACKUPS = Table("backups", BackupEntry)
SUMMARY = Table("backups_meta", BackupSummary)
_LAST = b"last"


class BackupsProjection(Projection):
    name = "backups"
    version = 1
    tables = (BACKUPS, SUMMARY)

    @on(BackupCreated)
    def created(self, state: State, rec: Record, ev: BackupCreated) -> None:
        state.put(
            BACKUPS,
            ev.backup_id.encode(),
            BackupEntry(
                backup_id=ev.backup_id,
                file_name=ev.file_name,
                seq=rec.seq,
                ts_ns=rec.ts_ns,
                last_seq=ev.last_seq,
                event_count=ev.event_count,
                size_bytes=ev.size_bytes,
                sha256=ev.sha256,
                verified=ev.verified,
                scheduled=ev.scheduled,
            ),
        )
        summary = state.get(SUMMARY, _LAST) or BackupSummary()
        summary.last_id = ev.backup_id
        summary.last_ts_ns = rec.ts_ns
        state.put(SUMMARY, _LAST, summary)

    @on(BackupPruned)
    def pruned(self, state: State, rec: Record, ev: BackupPruned) -> None:
        entry = state.get(BACKUPS, ev.backup_id.encode())
        if entry is not None:
            entry.pruned = True
            entry.pruned_ts_ns = rec.ts_ns
            entry.prune_reason = ev.reason
            state.put(BACKUPS, ev.backup_id.encode(), entry)

    @on(BackupRestored)
    def restored(self, state: State, rec: Record, ev: BackupRestored) -> None:
        entry = state.get(BACKUPS, ev.backup_id.encode())
        if entry is not None:
            entry.restored += 1
            entry.restored_ts_ns = rec.ts_ns
            state.put(BACKUPS, ev.backup_id.encode(), entry)
        summary = state.get(SUMMARY, _LAST) or BackupSummary()
        summary.restores += 1
        summary.last_restore_ts_ns = rec.ts_ns
        state.put(SUMMARY, _LAST, summary)

    @on(BackupFailed)
    def failed(self, state: State, rec: Record, ev: BackupFailed) -> None:
        summary = state.get(SUMMARY, _LAST) or BackupSummary()
        summary.failures += 1
        summary.last_failure_ts_ns = rec.ts_ns
        summary.last_failure = ev.reason
        state.put(SUMMARY, _LAST, summary)


class BackupsView:
    """``view.backups``: backups oldest first; pruned ones only when asked."""

    def __init__(self, reader: Reader) -> None:
        self._r = reader

    def list(self, *, include_pruned: bool = False) -> List[BackupEntry]:
        entries = [e for _, e in self._r.scan(BACKUPS) if include_pruned or not e.pruned]
        return sorted(entries, key=lambda e: e.seq)

    def get(self, backup_id: str) -> BackupEntry | None:
        return self._r.get(BACKUPS, backup_id.encode())

    def count(self) -> int:
        """Backups made and not pruned."""
        return len(self.list())

    def summary(self) -> BackupSummary:
        return self._r.get(SUMMARY, _LAST) or BackupSummary()

    def last_at(self) -> int | None:
        """When the last backup was made (UTC ns), or ``None``."""
        ts = self.summary().last_ts_ns
        return ts or None
