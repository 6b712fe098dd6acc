"""Projections: views of the event log kept in the same LMDB environment.

The log (:mod:`promptd.daemon.store`) knows nothing of them: it is opened with
:class:`Projections` (its :class:`~promptd.daemon.store.Folds`) and calls them inside its
write transactions. Open a log with promptd's projections in one line::

    log = open_log(paths.events)             # or open_log(path, readonly=True), memory_log(),
    store = await open_async_log(path, cfg)  # the daemon's
    with log.view() as v: v.history.recent(20); v.budget.spent(day="2026-11-27")

Each projection folds records into its own named tables, in the same write transaction as
the append, and keeps a :class:`Checkpoint` (version key, last folded sequence). A version
mismatch rebuilds it at open. Rebuilding from the log gives the same bytes as folding
incrementally (``tests/daemon/projections/test_property.py``). Upkeep (stale, rebuild,
verify, diff) is in :mod:`.upkeep`; the dispatch to handlers in :mod:`.fold`.

Adding a projection (say per-day aggregates for the dashboard):

1. Write ``projections/daily.py``: its stored value types (msgspec Structs,
   ``array_like=True``), its :class:`Table` s (table names are global: pick new ones), a
   :class:`Projection` subclass with ``name``, ``version = 1``, ``tables``, and one
   handler per event type it folds, marked with :func:`on`::

       class DailyProjection(Projection):
           name = "daily"
           version = 1
           tables = (DAILY,)

           @on(OptimizationCompleted)
           def completed(self, state: State, rec: Record, ev: OptimizationCompleted) -> None:
               state.add(DAILY, utc_day(rec.ts_ns).encode(), 1, ev.cost_ticks)

   and a view class taking a :class:`Reader` (``DailyView(reader)``) with the reads the
   callers need. Folds are pure: read and write only through ``state`` (``get``/``put``/
   ``delete``/``add``), never I/O, never the clock (use ``rec.ts_ns``).
2. In ``projections/standard.py``: append ``DailyProjection()`` to
   :func:`default_projections`, and add ``self.daily = DailyView(reader)`` to
   :class:`StoreView`.

That is all: at the next open the log creates the new tables and, finding no checkpoint,
builds the projection from the whole log. Change a fold or a stored layout later: bump
``version`` (the projection is rebuilt at open). Tests: add the events to
``tests/daemon/projections/strategies.py`` so the property test (incremental == rebuild,
byte for byte) covers the new fold, and a view test in ``test_views.py``.

Exports: :func:`open_log`, :func:`open_async_log`, :func:`memory_log`, :class:`Projections`,
:class:`StoreView`, :func:`default_projections`, the projection classes and their views
(``HistoryView``, ``BudgetView``, ``CacheView``, ``StatsView``, ``BackupsView``,
``BatchesView``, ``OriginsView``, ``AnalyticsView``), the stored value types they return, the
building blocks (:class:`Projection`, :func:`on`, :class:`Table`, :class:`State`, :class:`Reader`,
:class:`Folder`).
"""

from __future__ import annotations

from ..store.folds import LOG_TABLE, Source
from ..store.report import TableDiff
from .analytics import AnalyticsProjection, AnalyticsView
from .backups import BackupEntry, BackupsProjection, BackupSummary, BackupsView
from .base import (
    CHECKPOINTS,
    Checkpoint,
    FreshState,
    Projection,
    Reader,
    State,
    Table,
    on,
)
from .batches import BatchEntry, BatchesProjection, BatchesView, BatchItem
from .budget import AlertSent, BudgetProjection, BudgetSettings, BudgetView, Reservation, Spend
from .cache import CACHES, CachedValue, CacheProjection, CacheView
from .fold import Folder
from .history import HistoryEntry, HistoryProjection, HistoryView
from .origins import OriginsProjection, OriginsView
from .provider_modes import ModeEntry, ProviderModesProjection, ProviderModesView
from .standard import (
    Projections,
    StoreView,
    default_projections,
    memory_log,
    open_async_log,
    open_log,
)
from .stats import CacheRate, StatsProjection, StatsView

__all__ = [
    "CACHES",
    "CHECKPOINTS",
    "LOG_TABLE",
    "AlertSent",
    "AnalyticsProjection",
    "AnalyticsView",
    "BackupEntry",
    "BackupSummary",
    "BackupsProjection",
    "BackupsView",
    "BatchEntry",
    "BatchItem",
    "BatchesProjection",
    "BatchesView",
    "BudgetProjection",
    "BudgetSettings",
    "BudgetView",
    "CacheProjection",
    "CacheRate",
    "CacheView",
    "CachedValue",
    "Checkpoint",
    "Folder",
    "FreshState",
    "HistoryEntry",
    "HistoryProjection",
    "HistoryView",
    "ModeEntry",
    "OriginsProjection",
    "OriginsView",
    "Projection",
    "Projections",
    "ProviderModesProjection",
    "ProviderModesView",
    "Reader",
    "Reservation",
    "Source",
    "Spend",
    "State",
    "StatsProjection",
    "StatsView",
    "StoreView",
    "Table",
    "TableDiff",
    "default_projections",
    "memory_log",
    "on",
    "open_async_log",
    "open_log",
]
