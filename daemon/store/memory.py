"""The event log in memory: the same contract as :class:`~daemon.store.EventLog`, no disk.

For tests and for the contract test. Tables are dicts of bytes; a write transaction buffers
its writes and applies them when the body returns, so a failed body changes nothing.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from ..config import CacheConfig
from ..errors import StoreError
from ..events import key_seq
from ..projections import LOG_TABLE, Source
from .base import BaseEventLog, WriteTxn

R = TypeVar("R")


class _DictSource:
    def __init__(self, tables: dict[str, dict[bytes, bytes]]) -> None:
        self._tables = tables

    def get(self, table: str, key: bytes) -> bytes | None:
        return self._tables.get(table, {}).get(key)

    def scan(
        self,
        table: str,
        prefix: bytes = b"",
        *,
        start: bytes | None = None,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]:
        data = self._tables.get(table, {})
        keys = sorted(k for k in data if k.startswith(prefix) and (start is None or k >= start))
        for key in reversed(keys) if reverse else keys:
            yield key, data[key]


class _MemoryTxn:
    def __init__(self, tables: dict[str, dict[bytes, bytes]]) -> None:
        # Copy-on-write per table: the body's writes land in copies swapped in at commit.
        self._base = tables
        self.tables: dict[str, dict[bytes, bytes]] = dict(tables)
        self._copied: set[str] = set()
        self.source: Source = _DictSource(self.tables)
        log = tables.get(LOG_TABLE, {})
        self.last_seq = key_seq(max(log)) if log else 0

    def _table(self, name: str) -> dict[bytes, bytes]:
        if name not in self._copied:
            self.tables[name] = dict(self._base.get(name, {}))
            self._copied.add(name)
        return self.tables[name]

    def put_log(self, items: list[tuple[bytes, bytes]]) -> None:
        self._table(LOG_TABLE).update(items)

    def write(self, table: str, items: list[tuple[bytes, bytes | None]], *, fresh: bool) -> None:
        data = self._table(table)
        for key, value in items:
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value

    def clear(self, table: str) -> None:
        self._table(table).clear()


class MemoryEventLog(BaseEventLog):
    """An event log held in memory (lost on close)."""

    def __init__(self, *, cache_config: CacheConfig | None = None) -> None:
        super().__init__(cache_config)
        self._tables: dict[str, dict[bytes, bytes]] = {}
        self._lock = threading.RLock()
        self._store_id = uuid.uuid4().hex
        self._closed = False
        self.rebuild()  # writes each projection's checkpoint, as opening an LMDB log does

    @classmethod
    def open(
        cls,
        path: Path | None = None,
        *,
        readonly: bool = False,
        map_size: int = 0,
        cache_config: CacheConfig | None = None,
    ) -> MemoryEventLog:
        """A new, empty log (``path`` and ``map_size`` are accepted and ignored)."""
        return cls(cache_config=cache_config)

    def _transact(self, body: Callable[[WriteTxn], R]) -> R:
        with self._lock:
            self._check_open()
            txn = _MemoryTxn(self._tables)
            result = body(txn)
            self._tables = txn.tables
            return result

    @contextmanager
    def _reading(self) -> Iterator[Source]:
        with self._lock:
            self._check_open()
            tables = self._tables  # replaced, never mutated, by commits: a snapshot
        yield _DictSource(tables)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the event log is closed")

    def last_seq(self) -> int:
        with self._reading() as src:
            for key, _ in src.scan(LOG_TABLE, reverse=True):
                return key_seq(key)
        return 0

    def count(self) -> int:
        with self._lock:
            return len(self._tables.get(LOG_TABLE, {}))

    def size_bytes(self) -> int:
        with self._lock:
            return sum(len(k) + len(v) for t in self._tables.values() for k, v in t.items())

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
        copy = EventLog.open(dest, cache_config=self.cache_config)
        try:
            copy._transact(lambda txn: txn.put_log(items))
            copy.rebuild()
        finally:
            copy.close()

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> MemoryEventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
