"""The event log: durable, gapless, append-only; it knows nothing of the views kept from it.

Exports: :class:`EventLog` (LMDB), :class:`MemoryEventLog` (same contract, in memory),
:class:`AsyncEventLog` (the daemon's: one writer thread, group commit, ``wait_for`` and
``subscribe``), :class:`Folds` (what a log is handed when opened: the folds that keep its
views, see :mod:`.folds`), :class:`VerifyReport`, :class:`TableDiff`, :class:`Request`.

A log is opened with its folds, and keeps their tables in the same write transaction as the
records. promptd's folds are its projections: open a log with them in one line with
:func:`promptd.daemon.projections.open_log` (``open_async_log``, ``memory_log``), which is
what every caller does::

    log = open_log(paths.events)                   # = EventLog.open(paths.events, Projections())
    seqs = log.append([ev1, ev2])                  # one durable transaction; gapless seqs
    log.append_if(lambda view: [...])              # decide inside the write transaction:
                                                   # e.g. check the budget and reserve
    log.append_records(envelopes, source_store_id=other)  # import: keep ts, skip known origins

Reading (any thread)::

    for rec in log.read(start=1, end=None): ...    # Records with start <= seq < end
    for rec in log.read_from(seq): ...             # catch-up
    log.read_envelopes(start, end); log.read_raw(start, end)  # raw events, for export
    with log.view() as v: ...                      # one consistent read of every view
                                                   # (promptd's: a StoreView, v.history...)

Maintenance: ``log.rebuild()``, ``log.verify() -> VerifyReport`` (the folds do the work, in
the log's transactions), ``log.copy_to(dest)`` (a consistent compacted hot copy, for
backups), ``log.close()``. Facts: ``last_seq()``, ``count()``, ``size_bytes()``,
``store_id()``.

In the asyncio daemon (``AsyncEventLog``; ``await open_async_log(path)``)::

    await log.append(events); await log.append_if(decide); await log.append_records(...)
    await log.wait_for(seq, timeout)               # -> last committed seq
    async for rec in log.subscribe(from_seq): ...  # stored records, then live ones
    await log.rebuild(); await log.run_on_writer(fn); await log.close()
    # plus the sync reads above, on any thread

Every write goes through one writer thread; appends queued meanwhile share one durable
commit. ``append_if`` deciders run inside that transaction (they may run again if the map
had to grow: keep them pure). Read-only processes (``promptd status`` with no daemon) use
``open_log(path, readonly=True)``.
"""

from __future__ import annotations

from .base import BaseEventLog, Decide, Request
from .folds import LOG_TABLE, META_TABLE, Folds, FoldTxn, Source, WriteTxn
from .lmdb_log import EventLog
from .memory import MemoryEventLog
from .report import TableDiff, VerifyReport
from .writer import AsyncEventLog

__all__ = [
    "LOG_TABLE",
    "META_TABLE",
    "AsyncEventLog",
    "BaseEventLog",
    "Decide",
    "EventLog",
    "FoldTxn",
    "Folds",
    "MemoryEventLog",
    "Request",
    "Source",
    "TableDiff",
    "VerifyReport",
    "WriteTxn",
]
