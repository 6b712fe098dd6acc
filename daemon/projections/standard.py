"""promptd's standard projections: the list, the view of them all, and opening a log with them.

The event log (:mod:`promptd.daemon.store`) knows no projection: it is handed a
:class:`~promptd.daemon.store.Folds` when it is opened. :class:`Projections` is promptd's,
and the three helpers below are how every caller opens a log::

    log = open_log(paths.events)                          # EventLog[StoreView]
    log = open_log(paths.events, readonly=True)           # promptd status with no daemon
    store = await open_async_log(paths.events, config.cache)   # the daemon's
    log = memory_log()                                    # tests

This file is also the registry: a new projection is one line in :func:`default_projections`
and one attribute of :class:`StoreView` (see :mod:`promptd.daemon.projections`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from ..config import CacheConfig
from ..events import Record, key_seq
from ..store import AsyncEventLog, EventLog, MemoryEventLog, VerifyReport
from ..store.folds import LOG_TABLE, Source, Writes, WriteTxn
from . import upkeep
from .analytics import AnalyticsProjection, AnalyticsView
from .backups import BackupsProjection, BackupsView
from .base import Projection, Reader, State
from .batches import BatchesProjection, BatchesView
from .budget import BudgetProjection, BudgetView
from .cache import CacheProjection, CacheView
from .evaluations import EvaluationsProjection, EvaluationsView
from .fold import Folder
from .history import HistoryProjection, HistoryView
from .origins import ORIGINS, OriginsProjection, OriginsView
from .provider_modes import ProviderModesProjection, ProviderModesView
from .stats import StatsProjection, StatsView


def default_projections(cache: CacheConfig | None = None) -> list[Projection]:
    """Every projection promptd keeps, in a fixed order (new ones go at the end)."""
    return [
        HistoryProjection(),
        BudgetProjection(),
        CacheProjection(cache),
        StatsProjection(),
        BackupsProjection(),
        BatchesProjection(),
        OriginsProjection(),
        AnalyticsProjection(),
        ProviderModesProjection(),
        EvaluationsProjection(),
    ]


class StoreView:
    """A consistent snapshot of the projections (one read transaction): ``log.view()``.

    ``view.history``, ``view.budget``, ``view.cache``, ``view.stats``, ``view.backups``,
    ``view.batches``, ``view.origins``, ``view.analytics``, ``view.provider_modes``: see their
    classes in :mod:`promptd.daemon.projections`.
    Values returned are copies: changing them changes nothing stored.
    """

    def __init__(self, source: Source, cache_config: CacheConfig | None = None) -> None:
        reader = Reader(source)
        self._reader = reader
        self.history = HistoryView(reader)
        self.budget = BudgetView(reader)
        self.cache = CacheView(reader, cache_config or CacheConfig())
        self.stats = StatsView(reader)
        self.backups = BackupsView(reader)
        self.batches = BatchesView(reader)
        self.origins = OriginsView(reader)
        self.analytics = AnalyticsView(reader)
        self.provider_modes = ProviderModesView(reader)
        self.evaluations = EvaluationsView(reader)

    def record(self, seq: int) -> Record | None:
        """The log record at ``seq``, or ``None``."""
        return self._reader.record(seq)

    def last_seq(self) -> int:
        """The last sequence visible in this view (0 for an empty log)."""
        for key, _ in self._reader.source.scan(LOG_TABLE, reverse=True):
            return key_seq(key)
        return 0


class _Folding:
    """The projections' part of one write transaction (a
    :class:`~promptd.daemon.store.FoldTxn`): a :class:`State` overlay that the log's commit
    folds into, shows to deciders, and writes out with the records."""

    __slots__ = ("_cache", "_folder", "state")

    def __init__(self, folder: Folder, source: Source, cache: CacheConfig) -> None:
        self._folder = folder
        self._cache = cache
        self.state = State(source)

    def fold(
        self, records: Sequence[Record], kinds: Counter[type] | None, *, appended: bool
    ) -> None:
        self._folder.fold(self.state, records, kinds, appended=appended)

    def view(self) -> StoreView:
        return StoreView(self.state.source(self._folder.tables), self._cache)

    def has_origin(self, origin: str) -> bool:
        return self.state.get(ORIGINS, origin.encode()) is not None

    def writes(self, last_seq: int) -> Iterable[tuple[str, Writes]]:
        self._folder.checkpoint(self.state, last_seq)
        return self.state.writes(self._folder.tables)


class Projections:
    """A set of projections as the folds of an event log (a
    :class:`~promptd.daemon.store.Folds` of :class:`StoreView`); promptd's standard set
    unless ``projections`` is given."""

    def __init__(
        self,
        cache_config: CacheConfig | None = None,
        projections: Sequence[Projection] | None = None,
    ) -> None:
        self.cache_config = cache_config or CacheConfig()
        chosen = default_projections(self.cache_config) if projections is None else projections
        self.folder = Folder(chosen)

    @property
    def projections(self) -> tuple[Projection, ...]:
        return self.folder.projections

    def names(self) -> list[str]:
        return [p.name for p in self.folder.projections]

    def table_names(self) -> Collection[str]:
        return self.folder.table_names()

    def begin(self, source: Source) -> _Folding:
        return _Folding(self.folder, source, self.cache_config)

    def view(self, source: Source) -> StoreView:
        return StoreView(source, self.cache_config)

    def stale(self, source: Source) -> list[str]:
        return upkeep.stale(self.folder, source)

    def rebuild(self, txn: WriteTxn, names: Collection[str] | None = None) -> None:
        upkeep.rebuild(self.folder, txn, names)

    def verify(self, source: Source) -> VerifyReport:
        return upkeep.verify(self.folder, source)


def open_log(
    path: Path,
    cache_config: CacheConfig | None = None,
    *,
    readonly: bool = False,
    allow_stale: bool = False,
    map_size: int = 64 << 20,
    writemap: bool = False,
) -> EventLog[StoreView]:
    """The LMDB event log at ``path`` (e.g. ``paths.events``) with promptd's projections;
    see :meth:`EventLog.open <promptd.daemon.store.EventLog.open>` for the flags."""
    return EventLog.open(
        path,
        Projections(cache_config),
        readonly=readonly,
        allow_stale=allow_stale,
        map_size=map_size,
        writemap=writemap,
    )


async def open_async_log(
    path: Path, cache_config: CacheConfig | None = None, *, map_size: int = 64 << 20
) -> AsyncEventLog[StoreView]:
    """The daemon's log at ``path`` with promptd's projections (one writer thread)."""
    return await AsyncEventLog.open(path, Projections(cache_config), map_size=map_size)


def memory_log(cache_config: CacheConfig | None = None) -> MemoryEventLog[StoreView]:
    """An event log in memory with promptd's projections (tests, the contract test)."""
    return MemoryEventLog(Projections(cache_config))
