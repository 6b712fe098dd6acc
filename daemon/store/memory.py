"""The event log in memory: the same contract as :class:`~promptd.daemon.store.EventLog`, no disk.

For tests and for the contract test. Projection tables are dicts of bytes, the log an
append-only list; a write transaction's changes become visible together when its body
returns, and a failed body changes nothing.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Generic, TypeVar

from ..errors import StoreError
from ..events import key_seq, seq_key
from .base import BaseEventLog
from .folds import LOG_TABLE, Folds, Source, WriteTxn

R = TypeVar("R")
V = TypeVar("V")


class _DictSource:
    """Tables as dicts; the log as an append-only list of which the first ``n`` are visible."""

    def __init__(self, tables: dict[str, dict[bytes, bytes]], log: list[bytes], n: int) -> None:
        self._tables = tables
        self._log = log
        self.n = n

    def get(self, table: str, key: bytes) -> bytes | None:
        if table == LOG_TABLE:
            index = key_seq(key) - 1 if len(key) == 8 else -1
            return self._log[index] if 0 <= index < self.n else None
        return self._tables.get(table, {}).get(key)

    def scan(
        self,
        table: str,
        prefix: bytes = b"",
        *,
        start: bytes | None = None,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]:
        if table == LOG_TABLE and not prefix:
            first = max(0, key_seq(start) - 1) if start is not None and len(start) == 8 else 0
            indexes = range(self.n - 1, first - 1, -1) if reverse else range(first, self.n)
            for i in indexes:
                yield seq_key(i + 1), self._log[i]
            return
        data = self._tables.get(table, {})
        keys = sorted(k for k in data if k.startswith(prefix) and (start is None or k >= start))
        for key in reversed(keys) if reverse else keys:
            yield key, data[key]


class _MemoryTxn:
    """Projection tables are copied on first write and swapped in at commit; log records are
    appended to the shared list and become visible when the commit moves ``n``."""

    def __init__(self, tables: dict[str, dict[bytes, bytes]], log: list[bytes]) -> None:
        self._base = tables
        self.tables: dict[str, dict[bytes, bytes]] = dict(tables)
        self._copied: set[str] = set()
        self.last_seq = len(log)
        self._source = _DictSource(self.tables, log, len(log))
        self.source: Source = self._source
        self._log = log

    def _table(self, name: str) -> dict[bytes, bytes]:
        if name not in self._copied:
            self.tables[name] = dict(self._base.get(name, {}))
            self._copied.add(name)
        return self.tables[name]

    def put_log(self, items: list[tuple[bytes, bytes]]) -> None:
        for key, value in items:
            if key_seq(key) != len(self._log) + 1:
                raise StoreError("the event log refused an append (sequence out of order)")
            self._log.append(value)
        self._source.n = len(self._log)

    def write(self, table: str, items: list[tuple[bytes, bytes | None]], *, fresh: bool) -> None:
        data = self._table(table)
        for key, value in items:
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value

    def clear(self, table: str) -> None:
        self._table(table).clear()


class MemoryEventLog(BaseEventLog[V], Generic[V]):
    """An event log held in memory (lost on close), kept up by ``folds`` (promptd's:
    :func:`promptd.daemon.projections.memory_log`)."""

    def __init__(self, folds: Folds[V]) -> None:
        super().__init__(folds)
        self._tables: dict[str, dict[bytes, bytes]] = {}
        self._log: list[bytes] = []
        self._n = 0  # committed records
        self._lock = threading.RLock()
        self._store_id = uuid.uuid4().hex
        self._closed = False
        self.rebuild()  # writes each projection's checkpoint, as opening an LMDB log does

    def _transact(self, body: Callable[[WriteTxn], R]) -> R:
        with self._lock:
            self._check_open()
            txn = _MemoryTxn(self._tables, self._log)
            try:
                result = body(txn)
            except BaseException:
                del self._log[self._n :]  # the uncommitted records
                raise
            self._tables = txn.tables
            self._n = len(self._log)
            return result

    @contextmanager
    def _reading(self) -> Iterator[Source]:
        with self._lock:
            self._check_open()
            tables, n = self._tables, self._n  # commits replace tables and grow n: a snapshot
        yield _DictSource(tables, self._log, n)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the event log is closed")

    def last_seq(self) -> int:
        return self._n

    def count(self) -> int:
        return self._n

    def size_bytes(self) -> int:
        with self._lock:
            records = sum(8 + len(v) for v in self._log[: self._n])
            return records + sum(
                len(k) + len(v) for t in self._tables.values() for k, v in t.items()
            )

    def store_id(self) -> str:
        return self._store_id

    def copy_to(self, dest: Path) -> None:
        """Write the log into a new LMDB environment at ``dest`` (projections rebuilt there).

        The copy gets its own store id (a memory log has no file to copy byte for byte).
        """
        from .lmdb_log import EventLog

        with self._reading() as src:
            items = list(src.scan(LOG_TABLE))
        dest = Path(dest)
        if dest.exists() and any(dest.iterdir()):
            raise StoreError(f"cannot copy the event log into {dest}: the folder is not empty")
        copy = EventLog.open(dest, self.folds)
        try:
            copy._transact(lambda txn: txn.put_log(items))
            copy.rebuild()
        finally:
            copy.close()

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> MemoryEventLog[V]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
