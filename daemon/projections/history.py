"""History: every optimization by id, by time and by prompt hash, with its steps and calls.

Tables:

* ``history``          ``opt_id`` -> :class:`HistoryEntry` (status, summary fields, and the
  sequence numbers of its request, steps, provider calls and outcome)
* ``history_by_time``  ``be64(first seen ns) + opt_id`` -> ``True``
* ``history_by_hash``  ``prompt_hash + "/" + be64(first seen ns) + opt_id`` -> ``True``

Entries keep sequence numbers, not copies: the view reads the events from the log.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from ..events import (
    AgentStepCompleted,
    OptimizationCompleted,
    OptimizationFailed,
    OptimizationRequested,
    ProviderCallCompleted,
    Record,
)
from .base import Projection, Reader, State, Table, be64, on, text_key

_PREVIEW = 80


class HistoryEntry(msgspec.Struct, array_like=True):
    """One optimization as ``promptd history``/``show`` need it."""

    opt_id: str
    status: str = "requested"  # requested | completed | failed
    ts_ns: int = 0  # first seen (the request, normally): the time index
    prompt_hash: str = ""
    prompt_type: str = ""
    engine: str = ""
    model: str = ""
    source: str = ""
    batch_id: str = ""
    preview: str = ""  # first line of the original, shortened
    requested_seq: int = 0
    done_seq: int = 0  # the OptimizationCompleted / OptimizationFailed record
    done_ts_ns: int = 0
    score_before: int = -1  # -1: no score
    score_after: int = -1
    cost_ticks: int = 0  # the outcome's cost, else the sum of the calls so far
    changed: bool = False
    cached: bool = False
    degraded: bool = False
    error: str = ""  # OptimizationFailed.error code
    steps: list[int] = msgspec.field(default_factory=list)
    calls: list[int] = msgspec.field(default_factory=list)


HISTORY = Table("history", HistoryEntry)
BY_TIME = Table("history_by_time", bool)
BY_HASH = Table("history_by_hash", bool)


def _preview(text: str) -> str:
    line = text.strip().split("\n", 1)[0].strip()
    return line if len(line) <= _PREVIEW else line[: _PREVIEW - 1] + "…"


class HistoryProjection(Projection):
    name = "history"
    version = 5
    tables = (HISTORY, BY_TIME, BY_HASH)

    @staticmethod
    def _entry(state: State, opt_id: str, rec: Record, prompt_hash: str = "") -> HistoryEntry:
        key = opt_id.encode()
        entry = state.get(HISTORY, key)
        if entry is None:
            entry = HistoryEntry(opt_id=opt_id, ts_ns=rec.ts_ns, prompt_hash=prompt_hash)
            state.put(HISTORY, key, entry)
            state.put(BY_TIME, be64(rec.ts_ns) + key, True)
            if prompt_hash:
                state.put(BY_HASH, text_key(prompt_hash) + be64(rec.ts_ns) + key, True)
        elif prompt_hash and not entry.prompt_hash:
            entry.prompt_hash = prompt_hash
            state.put(BY_HASH, text_key(prompt_hash) + be64(entry.ts_ns) + key, True)
        return entry

    @on(OptimizationRequested)
    def requested(self, state: State, rec: Record, ev: OptimizationRequested) -> None:
        entry = self._entry(state, ev.opt_id, rec, ev.prompt_hash)
        entry.requested_seq = rec.seq
        if not entry.done_seq:
            entry.prompt_type = ev.prompt_type
            entry.engine = ev.engine
            entry.model = ev.model
        entry.source = ev.source
        entry.batch_id = ev.batch_id
        entry.preview = _preview(ev.prompt)

    @on(AgentStepCompleted)
    def step(self, state: State, rec: Record, ev: AgentStepCompleted) -> None:
        key = ev.opt_id.encode()
        entry = state.get(HISTORY, key) or self._entry(state, ev.opt_id, rec)
        entry.steps.append(rec.seq)

    @on(ProviderCallCompleted)
    def call(self, state: State, rec: Record, ev: ProviderCallCompleted) -> None:
        if not ev.opt_id:
            return
        key = ev.opt_id.encode()
        entry = state.get(HISTORY, key) or self._entry(state, ev.opt_id, rec)
        entry.calls.append(rec.seq)
        if not entry.done_seq:
            entry.cost_ticks += ev.cost_ticks

    @on(OptimizationCompleted)
    def completed(self, state: State, rec: Record, ev: OptimizationCompleted) -> None:
        entry = self._entry(state, ev.opt_id, rec, ev.prompt_hash)
        entry.status = "completed"
        entry.done_seq = rec.seq
        entry.done_ts_ns = rec.ts_ns
        entry.prompt_type = ev.prompt_type
        entry.engine = ev.engine
        entry.model = ev.model
        if not entry.requested_seq:  # else the request said where it came from
            entry.source = ev.source
            entry.batch_id = ev.batch_id
            entry.preview = _preview(ev.original)
        entry.score_before = ev.score_before.total if ev.score_before is not None else -1
        entry.score_after = ev.score_after.total if ev.score_after is not None else -1
        entry.cost_ticks = ev.cost_ticks
        entry.changed = ev.changed
        entry.cached = ev.cached
        entry.degraded = ev.degraded
        entry.error = ""

    @on(OptimizationFailed)
    def failed(self, state: State, rec: Record, ev: OptimizationFailed) -> None:
        entry = self._entry(state, ev.opt_id, rec)
        entry.status = "failed"
        entry.done_seq = rec.seq
        entry.done_ts_ns = rec.ts_ns
        entry.error = ev.error


class HistoryView:
    """``view.history``: read optimizations (newest first where a list is returned)."""

    def __init__(self, reader: Reader) -> None:
        self._r = reader

    def get(self, opt_id: str) -> HistoryEntry | None:
        return self._r.get(HISTORY, opt_id.encode())

    def match(self, prefix: str, limit: int = 2) -> list[HistoryEntry]:
        """Entries whose id starts with ``prefix`` (for ``promptd show`` with a short id)."""
        out: list[HistoryEntry] = []
        for _, entry in self._r.scan(HISTORY, prefix.encode()):
            out.append(entry)
            if len(out) >= limit:
                break
        return out

    def recent(self, limit: int = 20, *, status: str | None = None) -> list[HistoryEntry]:
        """The ``limit`` most recently started optimizations (optionally of one status)."""
        out: list[HistoryEntry] = []
        for key, _ in self._r.scan(BY_TIME, reverse=True):
            if len(out) >= limit:
                break
            entry = self._r.get(HISTORY, key[8:])
            if entry is not None and (status is None or entry.status == status):
                out.append(entry)
        return out

    def by_prompt_hash(self, prompt_hash: str, limit: int | None = None) -> list[HistoryEntry]:
        out: list[HistoryEntry] = []
        prefix = text_key(prompt_hash)
        for key, _ in self._r.scan(BY_HASH, prefix, reverse=True):
            if limit is not None and len(out) >= limit:
                break
            entry = self._r.get(HISTORY, key[len(prefix) + 8 :])
            if entry is not None:
                out.append(entry)
        return out

    def _event(self, seq: int, kind: type[Any]) -> Any:
        rec = self._r.record(seq) if seq else None
        return rec.event if rec is not None and isinstance(rec.event, kind) else None

    def requested(self, opt_id: str) -> OptimizationRequested | None:
        entry = self.get(opt_id)
        return None if entry is None else self._event(entry.requested_seq, OptimizationRequested)

    def completed(self, opt_id: str) -> OptimizationCompleted | None:
        entry = self.get(opt_id)
        return None if entry is None else self._event(entry.done_seq, OptimizationCompleted)

    def failure(self, opt_id: str) -> OptimizationFailed | None:
        entry = self.get(opt_id)
        return None if entry is None else self._event(entry.done_seq, OptimizationFailed)

    def steps(self, opt_id: str) -> list[Record]:
        """The AgentStepCompleted records of an optimization, in log order."""
        entry = self.get(opt_id)
        return [] if entry is None else self._records(entry.steps)

    def calls(self, opt_id: str) -> list[Record]:
        """The ProviderCallCompleted records of an optimization, in log order."""
        entry = self.get(opt_id)
        return [] if entry is None else self._records(entry.calls)

    def _records(self, seqs: list[int]) -> list[Record]:
        return [rec for seq in seqs if (rec := self._r.record(seq)) is not None]

    def newest(self) -> Iterator[HistoryEntry]:
        """Every optimization, most recently started first (lazily: stop when you have
        enough)."""
        for key, _ in self._r.scan(BY_TIME, reverse=True):
            entry = self._r.get(HISTORY, key[8:])
            if entry is not None:
                yield entry
