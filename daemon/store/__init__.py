"""The event log and its projections.

Exports: :class:`EventLog` (LMDB), :class:`MemoryEventLog` (same contract, in memory),
:class:`AsyncEventLog` (the daemon's: one writer thread, group commit, ``wait_for`` and
``subscribe``), :func:`open_log`, :class:`StoreView`, :class:`VerifyReport`,
:class:`Request`.

Writing::

    log = EventLog.open(paths.events)              # creates the environment if needed
    seqs = log.append([ev1, ev2])                  # one durable transaction; gapless seqs
    log.append_if(lambda view: [...])              # decide inside the write transaction:
                                                   # e.g. check the budget and reserve
    log.append_records(envelopes, source_store_id=other)  # import: keep ts, skip known origins

Reading (any thread)::

    for rec in log.read(start=1, end=None): ...    # Records with start <= seq < end
    for rec in log.read_from(seq): ...             # catch-up
    log.read_envelopes(start, end); log.read_raw(start, end)  # raw events, for export
    with log.view() as v:                          # one consistent read of every projection
        v.history.get(opt_id); v.history.recent(20); v.history.by_prompt_hash(h)
        v.history.steps(opt_id); v.history.calls(opt_id); v.history.completed(opt_id)
        v.budget.spent(day="2026-11-27"); v.budget.spent(month="2026-11")
        v.budget.reserved(day=...); v.budget.settings(); v.budget.alert_sent("day", k, 80)
        v.budget.by_day(); v.budget.by_model(); v.budget.by_source()
        v.cache.get("optimization"|"response"|"lint", key, now_ns)  # -> CachedValue | None
        v.cache.optimization(key, now_ns); v.cache.response(key, now_ns); v.cache.entries()
        v.stats.by_type(); v.stats.caches(); v.stats.hit_rate(); v.stats.optimizations()
        v.backups.list(); v.backups.get(id); v.backups.last_at()
        v.batches.get(id); v.batches.done_indexes(id); v.batches.items(id)
        v.batches.by_sha256(sha); v.batches.running()

Maintenance: ``log.rebuild()``, ``log.verify() -> VerifyReport``, ``log.copy_to(dest)`` (a
consistent compacted hot copy, for backups), ``log.close()``. Facts: ``last_seq()``,
``count()``, ``size_bytes()``, ``store_id()``.

In the asyncio daemon (``AsyncEventLog``; ``await AsyncEventLog.open(path)``)::

    await log.append(events); await log.append_if(decide); await log.append_records(...)
    await log.wait_for(seq, timeout)               # -> last committed seq
    async for rec in log.subscribe(from_seq): ...  # stored records, then live ones
    await log.rebuild(); await log.run_on_writer(fn); await log.close()
    # plus the sync reads above, on any thread

Every write goes through one writer thread; appends queued meanwhile share one durable
commit. ``append_if`` deciders run inside that transaction (they may run again if the map
had to grow: keep them pure). Read-only processes (``promptd status`` with no daemon) use
``EventLog.open(path, readonly=True)``.

Projections live in named databases of the same environment and are updated in the same
write transaction as the append they fold; each keeps a checkpoint and a version (a mismatch
rebuilds it at open). See :mod:`promptd.daemon.projections` for the tables.
"""

from __future__ import annotations

from pathlib import Path

from ..config import CacheConfig
from .base import BaseEventLog, Decide, Request, VerifyReport
from .lmdb_log import EventLog
from .memory import MemoryEventLog
from .view import StoreView
from .writer import AsyncEventLog


def open_log(
    path: Path | None, *, readonly: bool = False, cache_config: CacheConfig | None = None
) -> EventLog | MemoryEventLog:
    """The LMDB log at ``path`` (e.g. ``paths.events``), or a memory log when ``path`` is
    ``None``."""
    if path is None:
        return MemoryEventLog(cache_config=cache_config)
    return EventLog.open(path, readonly=readonly, cache_config=cache_config)


__all__ = [
    "AsyncEventLog",
    "BaseEventLog",
    "Decide",
    "EventLog",
    "MemoryEventLog",
    "Request",
    "StoreView",
    "VerifyReport",
    "open_log",
]
