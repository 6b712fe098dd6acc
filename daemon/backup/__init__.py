"""Backups: hot snapshots, rotation, verify, restore, export and import.

Modules (one concept each):

* :mod:`.manifest`  the backup folder's files: :class:`Manifest`, :class:`VerifyMark`
* :mod:`.snapshot`  :func:`~.snapshot.take`: hot copy → gzip → manifest → rename into place
* :mod:`.catalog`   the backups on disk: list, find (id, prefix, ``latest``), unpack, remove
* :mod:`.rotation`  the grandfather-father-son policy, a pure function with an injected clock
* :mod:`.verify`    checksum, opens, gapless log, projections rebuild
* :mod:`.restore`   verified, all-or-nothing swap of ``events/``; :func:`~.restore.recover`
* :mod:`.scheduler` APScheduler's daily job and the catch-up checks
* :mod:`.backup_service` :class:`~.backup_service.BackupService`, the daemon service
  (``backup.now``, ``backup.list``, ``events.import``)
* :mod:`.export`    json / jsonl / csv / zip exports, with secrets redacted
* :mod:`.importer`  reading an export back, refusing bad input with line and reason
* :mod:`.merge`     merging an export's events into a log, idempotently

Exports (the names in ``__all__``; the submodules ``restore`` and ``verify`` hold the
functions of the same name) are loaded lazily: ``promptd backup list`` does not import
APScheduler or asyncio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .backup_service import BackupService
    from .catalog import BackupEntry
    from .manifest import Manifest
    from .restore import recover
    from .rotation import BackupRef, Decision, Policy, plan
    from .snapshot import take
    from .verify import VerifyResult

__all__ = [
    "BackupEntry",
    "BackupRef",
    "BackupService",
    "Decision",
    "Manifest",
    "Policy",
    "VerifyResult",
    "plan",
    "recover",
    "take",
]

_WHERE = {
    "BackupEntry": "catalog",
    "Manifest": "manifest",
    "recover": "restore",
    "BackupRef": "rotation",
    "Decision": "rotation",
    "Policy": "rotation",
    "plan": "rotation",
    "BackupService": "backup_service",
    "take": "snapshot",
    "VerifyResult": "verify",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
