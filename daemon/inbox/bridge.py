"""The inbox's way into the rest of the daemon: the event log and the optimize call.

Kept in one place so the batch code stays independent of how the core service is built:

* :meth:`CoreBridge.append` appends through the daemon's ``AsyncEventLog`` (group commit).
* :meth:`CoreBridge.load_book` / :meth:`load_sha` / :meth:`load_batch` fill the
  :class:`~.book.BatchBook` from the store's ``batches`` projection (running batches at start,
  earlier batches of the same content before a new one), reading the item events by their
  sequence, so a start does not scan the whole log.
* :meth:`CoreBridge.optimize` is the daemon's one "optimize one prompt" call, the same one
  ``promptd optimize`` uses, with ``source`` and ``batch_id`` set.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .. import api
from ..events import BatchCompleted, BatchItemCompleted, BatchStarted, BudgetRefused, Event
from ..values import Finding
from ..wire import Call
from .batch import OptimizeCall
from .book import BatchBook, BatchRecord

if TYPE_CHECKING:
    from ..projections import StoreView
    from ..projections.batches import BatchEntry
    from ..server.app import Daemon


def record_from_view(view: StoreView, entry: BatchEntry) -> BatchRecord | None:
    """A batch rebuilt from its projection entry and its stored events."""
    rec = view.record(entry.started_seq) if entry.started_seq else None
    if rec is None or not isinstance(rec.event, BatchStarted):
        return None
    record = BatchRecord(started=rec.event, seq=entry.started_seq)
    for _, item in view.batches.items(entry.batch_id):
        if isinstance(item.event, BatchItemCompleted):
            record.note(item.event)
    if entry.status in ("completed", "failed", "cancelled"):
        record.state = entry.status  # type: ignore[assignment]
        record.reason = entry.reason
    if entry.status == "completed":
        record.completed = BatchCompleted(
            batch_id=entry.batch_id,
            ok=entry.ok,
            failed=entry.failed,
            budget=entry.budget,
            cost_ticks=entry.cost_ticks,
            output_path=entry.output_path,
            report_path=entry.report_path,
        )
    return record


class CoreBridge:
    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    @property
    def core(self) -> Any:
        return self.daemon.core

    @property
    def store(self) -> Any:
        return self.core.store

    async def append(self, event: Event) -> None:
        await self.store.append(event)

    def load_book(self, book: BatchBook) -> list[BatchRecord]:
        """Load the running (unfinished) batches; returns them, oldest first."""
        with self.store.view() as view:
            for entry in view.batches.running():
                record = record_from_view(view, entry)
                if record is not None:
                    book.add(record)
        return book.unfinished()

    def load_sha(self, book: BatchBook, sha256: str) -> None:
        """Load every earlier batch of this content (for answering a duplicate)."""
        with self.store.view() as view:
            for entry in view.batches.by_sha256(sha256):
                if entry.batch_id not in book.by_id:
                    record = record_from_view(view, entry)
                    if record is not None:
                        book.add(record)

    def load_batch(self, book: BatchBook, batch_id: str) -> BatchRecord | None:
        with self.store.view() as view:
            entry = view.batches.get(batch_id)
            record = record_from_view(view, entry) if entry is not None else None
        if record is not None:
            book.add(record)
        return record

    async def findings_of(self, opt_ids: list[str]) -> dict[str, list[Finding]]:
        """The findings of earlier optimizations (for the report of a resumed or reused batch)."""

        def read() -> dict[str, list[Finding]]:
            out: dict[str, list[Finding]] = {}
            with self.store.view() as view:
                for opt_id in opt_ids:
                    done = view.history.completed(opt_id)
                    if done is not None:
                        out[opt_id] = list(done.findings)
            return out

        return await asyncio.to_thread(read)

    async def optimize(self, call: OptimizeCall) -> api.OptimizeResult:
        """One prompt through the daemon's optimizer (the same path as ``promptd optimize``).

        A provider call the budget refused makes the optimizer answer offline, marked
        degraded; for a batch that means the budget has run out, so it raises the budget's
        own :class:`BudgetError` and the runner marks the rest of the batch ``budget``.
        """
        params = api.OptimizeParams(
            text=call.text,
            prompt_type=call.prompt_type,
            engine=call.engine,
            source=call.source,
        )
        store = self.store
        before = store.last_seq()
        rpc_call = Call(conn=_Nowhere(), id=None, method="optimize")  # no progress token
        result: api.OptimizeResult = await self.core.optimize(
            params, rpc_call, batch_id=call.batch_id
        )
        if result.degraded:
            refused = await asyncio.to_thread(_refusal, store, before, result.id)
            if refused is not None:
                from ..providers.budget_rules import refusal_error

                raise refusal_error(refused)
        return result


class _Nowhere:
    """The connection of an internal call: it asks for no progress, so nothing is sent."""

    def send(self, data: bytes) -> None:
        pass


def _refusal(store: Any, after_seq: int, opt_id: str) -> BudgetRefused | None:
    """The BudgetRefused of this optimization, recorded after ``after_seq``, if any."""
    for rec in store.read_from(after_seq + 1):
        if isinstance(rec.event, BudgetRefused) and rec.event.opt_id == opt_id:
            return rec.event
    return None
