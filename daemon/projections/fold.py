"""Folding records into a set of projections.

:class:`Folder` dispatches each record to the handlers registered for its type with
:func:`~.base.on` (the table of them is built once per event type), so folding costs one
dict lookup per record plus the handlers themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from ..events import Record
from .base import CHECKPOINTS, Checkpoint, Fold, Projection, State, Table

_event_of = attrgetter("event")


class Folder:
    """Applies a fixed set of projections to records."""

    def __init__(self, projections: Sequence[Projection]) -> None:
        self.projections = tuple(projections)
        self.tables: dict[str, Table[Any]] = {CHECKPOINTS.name: CHECKPOINTS}
        for proj in self.projections:
            for table in proj.tables:
                self.tables[table.name] = table
        batch = [p for p in self.projections if p.has_batch_fold()]
        self._batch = [p.fold_batch for p in batch]
        self._batch_appended = [p.fold_batch for p in batch if not p.imported_only]
        self._handlers = [p.handlers() for p in self.projections]
        self._dispatch: dict[type, tuple[Fold, ...]] = {}

    def _resolve(self, etype: type) -> tuple[Fold, ...]:
        folds: list[Fold] = []
        for handlers in self._handlers:
            fold = handlers.get(etype)
            if fold is not None:
                folds.append(fold)
        found = self._dispatch[etype] = tuple(folds)
        return found

    def fold(
        self,
        state: State,
        records: Sequence[Record],
        kinds: Counter[type] | None = None,
        *,
        appended: bool = False,
    ) -> None:
        """Fold ``records`` in log order. ``kinds``: the count of each event type among them,
        when the caller has it (appends count their events, one pass fewer over the
        records); ``appended``: fresh appends, which have no origin."""
        if kinds is None:
            kinds = Counter(map(type, map(_event_of, records)))
        dispatch = self._dispatch
        for etype in kinds.keys() - dispatch.keys():
            self._resolve(etype)
        if any(dispatch[etype] for etype in kinds):  # else no record has a per-record fold
            for rec in records:
                event = rec.event
                for fold in dispatch[type(event)]:
                    fold(state, rec, event)
        for fold_batch in self._batch_appended if appended else self._batch:
            fold_batch(state, records, kinds)

    def checkpoint(self, state: State, last_seq: int) -> None:
        """Record that every projection has folded up to ``last_seq``."""
        for proj in self.projections:
            state.put(CHECKPOINTS, proj.name.encode(), Checkpoint(proj.version_key(), last_seq))

    def table_names(self) -> list[str]:
        return sorted(self.tables)

    def owner(self, table: str) -> str:
        for proj in self.projections:
            if any(t.name == table for t in proj.tables):
                return proj.name
        return "checkpoints"
