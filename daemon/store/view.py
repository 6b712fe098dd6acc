"""``StoreView``: typed, read-only access to every projection at one point of the log."""

from __future__ import annotations

from ..config import CacheConfig
from ..events import Record, key_seq
from ..projections import (
    LOG_TABLE,
    AnalyticsView,
    BackupsView,
    BatchesView,
    BudgetView,
    CacheView,
    HistoryView,
    OriginsView,
    Reader,
    Source,
    StatsView,
)


class StoreView:
    """A consistent snapshot of the projections (one read transaction).

    ``view.history``, ``view.budget``, ``view.cache``, ``view.stats``, ``view.backups``,
    ``view.batches``, ``view.origins``, ``view.analytics``: see their classes in
    :mod:`promptd.daemon.projections`.
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

    def record(self, seq: int) -> Record | None:
        """The log record at ``seq``, or ``None``."""
        return self._reader.record(seq)

    def last_seq(self) -> int:
        """The last sequence visible in this view (0 for an empty log)."""
        for key, _ in self._reader.source.scan(LOG_TABLE, reverse=True):
            return key_seq(key)
        return 0
