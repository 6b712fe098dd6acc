"""Projections: views of the event log kept in the same LMDB environment.

Each projection folds records (``evolve``-style methods: ``fold(state, record)``, writing only
to the :class:`State` overlay) into its own named tables, in the same write transaction as
the append, and keeps a :class:`Checkpoint` (version key, last folded sequence). A version
mismatch rebuilds it at open. Rebuilding from the log gives the same bytes as folding
incrementally (``tests/daemon/projections/test_property.py``).

Exports: the projection classes and their views (``HistoryView``, ``BudgetView``,
``CacheView``, ``StatsView``, ``BackupsView``, ``BatchesView``, ``OriginsView``,
``AnalyticsView``), the stored value types they return, :func:`default_projections`,
:class:`Folder`, :class:`TableDiff`.
"""

from __future__ import annotations

from ..config import CacheConfig
from .analytics import AnalyticsProjection, AnalyticsView
from .backups import BackupEntry, BackupsProjection, BackupSummary, BackupsView
from .base import (
    CHECKPOINTS,
    LOG_TABLE,
    META,
    Checkpoint,
    FreshState,
    Projection,
    Reader,
    Source,
    State,
    Table,
)
from .batches import BatchEntry, BatchesProjection, BatchesView, BatchItem
from .budget import AlertSent, BudgetProjection, BudgetSettings, BudgetView, Reservation, Spend
from .cache import CACHES, CachedValue, CacheProjection, CacheView
from .fold import Folder, TableDiff
from .history import HistoryEntry, HistoryProjection, HistoryView
from .origins import OriginsProjection, OriginsView
from .stats import CacheRate, StatsProjection, StatsView


def default_projections(cache: CacheConfig | None = None) -> list[Projection]:
    """Every projection promptd keeps, in a fixed order."""
    return [
        HistoryProjection(),
        BudgetProjection(),
        CacheProjection(cache),
        StatsProjection(),
        BackupsProjection(),
        BatchesProjection(),
        OriginsProjection(),
        AnalyticsProjection(),
    ]


__all__ = [
    "CACHES",
    "CHECKPOINTS",
    "LOG_TABLE",
    "META",
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
    "OriginsProjection",
    "OriginsView",
    "Projection",
    "Reader",
    "Reservation",
    "Source",
    "Spend",
    "State",
    "StatsProjection",
    "StatsView",
    "Table",
    "TableDiff",
    "default_projections",
]
