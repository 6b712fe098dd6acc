"""Batches: each batch's progress (which items are done), status, and lookup by sha256.

Tables:

* ``batches``        ``batch_id`` -> :class:`BatchEntry`
* ``batch_items``    ``batch_id/be32(index)`` -> :class:`BatchItem` (the item's record seq)
* ``batch_by_sha``   ``sha256/be64(seq)`` -> ``batch_id`` (every batch of that file content)

A batch is ``running`` from ``BatchStarted`` until ``BatchCompleted`` (``completed``),
``BatchFailed`` (``failed``) or ``BatchCancelled`` (``cancelled``).
"""

from __future__ import annotations

import msgspec

from ..events import (
    BatchCancelled,
    BatchCompleted,
    BatchFailed,
    BatchItemCompleted,
    BatchStarted,
    Record,
)
from .base import Projection, Reader, State, Table, be32, be64, from_be64, on

List = list  # the view has a method named `list`


class BatchEntry(msgspec.Struct, array_like=True):
    batch_id: str
    file_name: str = ""
    sha256: str = ""
    count: int = 0
    format: str = ""
    source: str = ""
    prompt_type: str = ""
    engine: str = ""
    output_path: str = ""
    duplicate_of: str = ""
    started_seq: int = 0
    started_ts_ns: int = 0
    status: str = "running"  # running | completed | failed | cancelled
    done: int = 0  # distinct items completed
    ok: int = 0
    failed: int = 0
    budget: int = 0
    cost_ticks: int = 0
    finished_ts_ns: int = 0
    report_path: str = ""
    reason: str = ""


class BatchItem(msgspec.Struct, array_like=True):
    seq: int  # the BatchItemCompleted record
    status: str
    opt_id: str = ""


BATCHES = Table("batches", BatchEntry)
ITEMS = Table("batch_items", BatchItem)
BY_SHA = Table("batch_by_sha", str)


class BatchesProjection(Projection):
    name = "batches"
    version = 1
    tables = (BATCHES, ITEMS, BY_SHA)

    @staticmethod
    def _entry(state: State, batch_id: str) -> BatchEntry:
        return state.get(BATCHES, batch_id.encode()) or BatchEntry(batch_id=batch_id)

    @on(BatchStarted)
    def started(self, state: State, rec: Record, ev: BatchStarted) -> None:
        entry = self._entry(state, ev.batch_id)
        if not entry.started_seq and ev.sha256:
            state.put(BY_SHA, ev.sha256.encode() + b"/" + be64(rec.seq), ev.batch_id)
        entry.file_name = ev.file_name
        entry.sha256 = ev.sha256
        entry.count = ev.count
        entry.format = ev.format
        entry.source = ev.source
        entry.prompt_type = ev.prompt_type
        entry.engine = ev.engine
        entry.output_path = ev.output_path
        entry.duplicate_of = ev.duplicate_of
        entry.started_seq = entry.started_seq or rec.seq
        entry.started_ts_ns = entry.started_ts_ns or rec.ts_ns
        state.put(BATCHES, ev.batch_id.encode(), entry)

    @on(BatchItemCompleted)
    def item(self, state: State, rec: Record, ev: BatchItemCompleted) -> None:
        key = ev.batch_id.encode() + b"/" + be32(ev.index)
        entry = self._entry(state, ev.batch_id)
        if state.get(ITEMS, key) is None:
            entry.done += 1
        state.put(ITEMS, key, BatchItem(seq=rec.seq, status=ev.status, opt_id=ev.opt_id))
        entry.cost_ticks += ev.cost_ticks
        state.put(BATCHES, ev.batch_id.encode(), entry)

    @on(BatchCompleted)
    def completed(self, state: State, rec: Record, ev: BatchCompleted) -> None:
        entry = self._entry(state, ev.batch_id)
        entry.status = "completed"
        entry.ok, entry.failed, entry.budget = ev.ok, ev.failed, ev.budget
        entry.cost_ticks = ev.cost_ticks
        entry.output_path = ev.output_path or entry.output_path
        entry.report_path = ev.report_path
        entry.finished_ts_ns = rec.ts_ns
        state.put(BATCHES, ev.batch_id.encode(), entry)

    @on(BatchFailed)
    def failed(self, state: State, rec: Record, ev: BatchFailed) -> None:
        if not ev.batch_id:
            return  # a file that never became a batch: counted in stats only
        entry = self._entry(state, ev.batch_id)
        entry.status = "failed"
        entry.reason = ev.reason
        entry.file_name = entry.file_name or ev.file_name
        entry.finished_ts_ns = rec.ts_ns
        state.put(BATCHES, ev.batch_id.encode(), entry)

    @on(BatchCancelled)
    def cancelled(self, state: State, rec: Record, ev: BatchCancelled) -> None:
        entry = self._entry(state, ev.batch_id)
        entry.status = "cancelled"
        entry.reason = ev.reason
        entry.finished_ts_ns = rec.ts_ns
        state.put(BATCHES, ev.batch_id.encode(), entry)


class BatchesView:
    """``view.batches``: batch progress, for resuming and for ``status``."""

    def __init__(self, reader: Reader) -> None:
        self._r = reader

    def get(self, batch_id: str) -> BatchEntry | None:
        return self._r.get(BATCHES, batch_id.encode())

    def list(self, *, status: str | None = None) -> List[BatchEntry]:
        """Batches oldest first (optionally only ``running``, ``completed``...)."""
        entries = [e for _, e in self._r.scan(BATCHES) if status is None or e.status == status]
        return sorted(entries, key=lambda e: e.started_seq)

    def running(self) -> List[BatchEntry]:
        return self.list(status="running")

    def done_indexes(self, batch_id: str) -> set[int]:
        """Indexes of the items already completed (a resumed batch skips them)."""
        prefix = batch_id.encode() + b"/"
        return {int.from_bytes(k[len(prefix) :], "big") for k, _ in self._r.scan(ITEMS, prefix)}

    def items(self, batch_id: str) -> List[tuple[int, Record]]:
        """``(index, BatchItemCompleted record)`` of every completed item, by index."""
        prefix = batch_id.encode() + b"/"
        out: List[tuple[int, Record]] = []
        for key, item in self._r.scan(ITEMS, prefix):
            rec = self._r.record(item.seq)
            if rec is not None:
                out.append((int.from_bytes(key[len(prefix) :], "big"), rec))
        return out

    def by_sha256(self, sha256: str) -> List[BatchEntry]:
        """Every batch made from content with this sha256, oldest first."""
        out: List[BatchEntry] = []
        for key, batch_id in self._r.scan(BY_SHA, sha256.encode() + b"/"):
            entry = self.get(batch_id)
            if entry is not None and from_be64(key[-8:]) == entry.started_seq:
                out.append(entry)
        return out
