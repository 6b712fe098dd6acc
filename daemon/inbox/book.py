"""The batch book: every batch folded from its events, so a restart knows where each one stands.

``evolve`` is a pure fold over BatchStarted / BatchItemCompleted / BatchCompleted /
BatchFailed / BatchCancelled. The daemon builds the book from the log at start (that is
how a batch cut off by a crash resumes without redoing its finished items) and applies each
batch event it appends after that. A duplicate drop is answered from the items kept here.

Rows folded from the log (a batch loaded to resume it or to answer a duplicate) are kept
whole; rows the daemon runs now are only counted (``keep=False``): their results go to the
output file as they come, so a running 100,000-row batch keeps a set of row numbers and a few
sums, not 100,000 results.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from ..events import (
    BatchCancelled,
    BatchCompleted,
    BatchFailed,
    BatchItemCompleted,
    BatchStarted,
    Event,
    UnknownEvent,
)

BatchState = Literal["running", "completed", "failed", "cancelled"]


class RowSet:
    """The row numbers that have their result: one bit a row (a set of ints held 80 bytes a
    row, 8 MB at 100,000 rows, for the whole of the batch)."""

    __slots__ = ("_bits", "_count")

    def __init__(self) -> None:
        self._bits = bytearray()
        self._count = 0

    def __contains__(self, index: object) -> bool:
        if not isinstance(index, int) or index < 0:
            return False
        byte = index >> 3
        return byte < len(self._bits) and bool(self._bits[byte] >> (index & 7) & 1)

    def add(self, index: int) -> None:
        if index < 0:
            raise ValueError(f"a row number is never negative (got {index})")
        if index in self:
            return
        byte = index >> 3
        if byte >= len(self._bits):
            self._bits.extend(bytes(max(byte + 1 - len(self._bits), len(self._bits))))
        self._bits[byte] |= 1 << (index & 7)
        self._count += 1

    def __len__(self) -> int:
        return self._count


@dataclass(slots=True)
class BatchRecord:
    """One batch as its events tell it."""

    started: BatchStarted
    # rows as loaded from the log, whole (resume, duplicates); rows run now are only counted
    items: dict[int, BatchItemCompleted] = field(default_factory=dict)
    state: BatchState = "running"
    completed: BatchCompleted | None = None
    reason: str = ""  # why it failed or was cancelled
    seq: int = 0  # the BatchStarted record's sequence (0: not known)
    rows_done: RowSet = field(default_factory=RowSet)
    counts: dict[str, int] = field(default_factory=dict)
    cost_ticks: int = 0

    @property
    def batch_id(self) -> str:
        return self.started.batch_id

    @property
    def done(self) -> int:
        return len(self.rows_done)

    def has(self, index: int) -> bool:
        """True when row ``index`` has its ``BatchItemCompleted``."""
        return index in self.rows_done

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)

    def note(self, event: BatchItemCompleted, *, keep: bool = True) -> None:
        """Count one row's result (the last one of a row wins); ``keep`` it whole or not."""
        if event.index in self.rows_done:
            old = self.items.get(event.index)
            if old is None:
                return  # counted once already and not kept: nothing to correct
            self.counts[old.status] -= 1
            self.cost_ticks -= old.cost_ticks
        self.rows_done.add(event.index)
        self.counts[event.status] = self.count(event.status) + 1
        self.cost_ticks += event.cost_ticks
        if keep:
            self.items[event.index] = event
        else:
            self.items.pop(event.index, None)


class BatchBook:
    """Batches by id and by content hash."""

    def __init__(self) -> None:
        self.by_id: dict[str, BatchRecord] = {}
        self._by_sha: dict[str, list[str]] = {}
        self.failed: list[BatchFailed] = []  # files that never became a batch, newest last

    def apply(self, event: Event | UnknownEvent, *, keep: bool = True) -> None:
        """Fold one event (anything that is not a batch event is ignored); ``keep=False``:
        a row's result is counted, not kept."""
        match event:
            case BatchStarted():
                self.by_id[event.batch_id] = BatchRecord(started=event)
                self._by_sha.setdefault(event.sha256, []).append(event.batch_id)
            case BatchItemCompleted():
                record = self.by_id.get(event.batch_id)
                if record is not None:
                    record.note(event, keep=keep)
            case BatchCompleted():
                record = self.by_id.get(event.batch_id)
                if record is not None:
                    record.state = "completed"
                    record.completed = event
            case BatchFailed():
                record = self.by_id.get(event.batch_id)
                if record is not None:
                    record.state = "failed"
                    record.reason = event.reason
                else:
                    self.failed.append(event)
                    del self.failed[:-50]
            case BatchCancelled():
                record = self.by_id.get(event.batch_id)
                if record is not None:
                    record.state = "cancelled"
                    record.reason = event.reason or "cancelled"
            case _:
                pass

    def add(self, record: BatchRecord) -> None:
        """Put a batch loaded from the store's ``batches`` projection (not yet in the book)."""
        if record.batch_id in self.by_id:
            return
        self.by_id[record.batch_id] = record
        ids = self._by_sha.setdefault(record.started.sha256, [])
        ids.append(record.batch_id)
        # Loaded batches are older than those started in this run (seq 0 here): keep order.
        ids.sort(key=lambda b: self.by_id[b].seq or float("inf"))

    def forget(self, batch_id: str) -> None:
        """Drop a finished batch and its rows from memory (a 100,000-row batch must not stay
        in the daemon); it is loaded again from the store when a duplicate needs it."""
        record = self.by_id.pop(batch_id, None)
        if record is None:
            return
        ids = self._by_sha.get(record.started.sha256, [])
        if batch_id in ids:
            ids.remove(batch_id)
        if not ids:
            self._by_sha.pop(record.started.sha256, None)

    def apply_all(self, events: Iterable[Event | UnknownEvent]) -> BatchBook:
        for event in events:
            self.apply(event)
        return self

    def get(self, batch_id: str) -> BatchRecord | None:
        """A batch by id, or by a unique prefix of its id."""
        record = self.by_id.get(batch_id)
        if record is not None or not batch_id:
            return record
        matches = [r for key, r in self.by_id.items() if key.startswith(batch_id)]
        return matches[0] if len(matches) == 1 else None

    def unfinished(self) -> list[BatchRecord]:
        """Batches started and never completed, failed or cancelled (cut off by a crash)."""
        return [r for r in self.by_id.values() if r.state == "running"]

    def answered(self, sha256: str, prompt_type: str, engine: str) -> BatchRecord | None:
        """The latest completed batch of the same content, type and engine."""
        for batch_id in reversed(self._by_sha.get(sha256, [])):
            record = self.by_id[batch_id]
            same = record.started.prompt_type == prompt_type and record.started.engine == engine
            if record.state == "completed" and same:
                return record
        return None

    def recent(self, limit: int = 20) -> list[BatchRecord]:
        return list(self.by_id.values())[-limit:]
