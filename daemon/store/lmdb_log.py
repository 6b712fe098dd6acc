"""The event log on LMDB: one environment (a folder) holding the log and its projections.

* The log is the named database ``events``: 8-byte big-endian sequence -> encoded Envelope,
  gapless from 1. Every projection table is another named database of the same environment,
  written in the same transaction as the append it folds.
* Durability: ``sync=True``: when ``append`` returns, the commit is on disk.
* Growth: ``MapFullError`` doubles the map and retries the whole transaction (nothing lost).
  A process that sees ``MapResizedError`` (another process grew the map) adopts the new size.
  Re-mapping is unsafe while a transaction is open in this process, so reads and writes take
  a shared guard and a resize takes it exclusively. A hot copy (a backup) holds its read
  transaction for as long as it runs, so it first grows the map with headroom, and a resize
  that still comes during a copy waits for the copy to end instead of failing the append.
* A stale reader slot left by a killed process is cleared on open (``reader_check``).
* Write transactions belong to the thread that opened them; in the asyncio daemon every write
  goes through :class:`~promptd.daemon.store.writer.AsyncEventLog`'s writer thread.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

import lmdb

from ..errors import StoreError
from ..events import key_seq
from .base import BaseEventLog
from .folds import LOG_TABLE, META_TABLE, Folds, Source, WriteTxn

R = TypeVar("R")
V = TypeVar("V")

_MAX_DBS = 32
_GROW_TRIES = 40  # 64 MiB doubled 40 times is far past any disk
_GUARD_TIMEOUT_S = 30.0
_MIB = 1 << 20
_COPY_HEADROOM_MIN = 64 * _MIB  # free map space a copy leaves at least (and the store's size)


class _ResizeGuard:
    """Shared for transactions, exclusive for re-mapping. Re-entrant for readers per thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._copying = 0  # of the _active holders: copies, which always end on their own
        self._resizing = False
        self._local = threading.local()

    @contextmanager
    def shared(self) -> Iterator[None]:
        depth = getattr(self._local, "depth", 0)
        with self._cond:
            if depth == 0:
                self._cond.wait_for(lambda: not self._resizing)
            self._active += 1
        self._local.depth = depth + 1
        try:
            yield
        finally:
            self._local.depth = depth
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    @contextmanager
    def copying(self) -> Iterator[None]:
        """Shared, for a hot copy: a resize waits for it as long as it takes."""
        with self.shared():
            with self._cond:
                self._copying += 1
            try:
                yield
            finally:
                with self._cond:
                    self._copying -= 1
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        if getattr(self._local, "depth", 0):
            raise StoreError(
                "the event log map must grow but this thread holds a read view "
                "open; close the view before appending"
            )
        with self._cond:
            self._cond.wait_for(lambda: not self._resizing)
            self._resizing = True
            while not self._cond.wait_for(lambda: self._active == 0, _GUARD_TIMEOUT_S):
                if self._copying:
                    continue  # a backup is copying; it ends by itself, then the map grows
                self._resizing = False
                self._cond.notify_all()
                raise StoreError("the event log map must grow but read views stay open; try again")
        try:
            yield
        finally:
            with self._cond:
                self._resizing = False
                self._cond.notify_all()


def _successor(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with ``prefix`` (None: no bound)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


class _LmdbSource:
    __slots__ = ("_dbs", "_txn")

    def __init__(self, txn: Any, dbs: dict[str, Any]) -> None:
        self._txn = txn
        self._dbs = dbs

    def get(self, table: str, key: bytes) -> bytes | None:
        db = self._dbs.get(table)
        if db is None:
            return None
        value = self._txn.get(key, db=db)
        return None if value is None else bytes(value)

    def scan(
        self,
        table: str,
        prefix: bytes = b"",
        *,
        start: bytes | None = None,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]:
        db = self._dbs.get(table)
        if db is None:
            return
        cur = self._txn.cursor(db=db)
        if reverse:
            bound = _successor(prefix)
            if bound is None:
                found = cur.last()
            elif cur.set_range(bound):
                found = cur.prev()
            else:
                found = cur.last()
            if not found:
                return
            items = cur.iterprev()
        else:
            first = max(prefix, start) if start is not None else prefix
            if not (cur.set_range(first) if first else cur.first()):
                return
            items = cur.iternext()
        if not prefix:
            yield from items
            return
        for key, value in items:
            if not key.startswith(prefix):
                return
            yield key, value


class _LmdbTxn:
    def __init__(self, txn: Any, dbs: dict[str, Any]) -> None:
        self._txn = txn
        self._dbs = dbs
        self.source: Source = _LmdbSource(txn, dbs)
        cur = txn.cursor(db=dbs[LOG_TABLE])
        self.last_seq = key_seq(cur.key()) if cur.last() else 0

    def put_log(self, items: list[tuple[bytes, bytes]]) -> None:
        _, added = self._txn.cursor(db=self._dbs[LOG_TABLE]).putmulti(items, append=True)
        if added != len(items):
            raise StoreError("the event log refused an append (sequence out of order)")

    def write(self, table: str, items: list[tuple[bytes, bytes | None]], *, fresh: bool) -> None:
        db = self._dbs[table]
        if fresh:  # an empty table: deletes are no-ops, puts go in key order
            self._txn.cursor(db=db).putmulti(
                [(k, v) for k, v in items if v is not None], append=True
            )
            return
        txn = self._txn
        puts = [(k, v) for k, v in items if v is not None]
        if len(puts) != len(items):
            for key, value in items:
                if value is None:
                    txn.delete(key, db=db)
        if puts:
            txn.cursor(db=db).putmulti(puts)

    def clear(self, table: str) -> None:
        self._txn.drop(self._dbs[table], delete=False)


class EventLog(BaseEventLog[V], Generic[V]):
    """The event log in one LMDB environment at ``path`` (a folder); see the module doc."""

    def __init__(
        self, env: Any, path: Path, dbs: dict[str, Any], folds: Folds[V], *, readonly: bool
    ) -> None:
        super().__init__(folds)
        self._env = env
        self.path = path
        self.readonly = readonly
        self._dbs = dbs
        self._guard = _ResizeGuard()
        self._write_lock = threading.Lock()
        self._map_lock = threading.Lock()  # the map is not unmapped while it is released
        self._closed = False
        self._store_id = ""

    @classmethod
    def open(
        cls,
        path: Path,
        folds: Folds[V],
        *,
        readonly: bool = False,
        map_size: int = 64 << 20,
        allow_stale: bool = False,
        writemap: bool = False,
    ) -> EventLog[V]:
        """Open (or create, unless ``readonly``) the log at ``path``, kept up by ``folds``
        (promptd's: :func:`promptd.daemon.projections.open_log` does it in one line);
        rebuild the folds whose version changed or that are behind the log. Read-only,
        stale folds are an error unless ``allow_stale`` (``verify`` reports them instead).
        ``writemap`` (LMDB's MDB_WRITEMAP) makes commits cheaper, but a full disk then
        kills the process with SIGBUS instead of raising an error, and every process
        opening the environment must use the same setting: it is off by default."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise StoreError(
                f"the event log at {path} should be a folder but is a file; "
                "move that file away (promptd creates the folder)"
            )
        if readonly and not (path / "data.mdb").exists():
            raise StoreError(
                f"no event log at {path} yet; start the daemon (`promptd start`) "
                "or run a command that writes, to create it"
            )
        if not readonly:
            try:
                path.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the event log folder {path}: {exc.strerror or exc}; "
                    "check that its parent is a writable folder"
                ) from exc
        try:
            env = lmdb.open(
                str(path),
                map_size=map_size,
                max_dbs=_MAX_DBS,
                readonly=readonly,
                sync=True,
                metasync=True,
                lock=True,
                subdir=True,
                max_readers=256,
                writemap=writemap,
            )
        except lmdb.Error as exc:
            raise StoreError(f"cannot open the event log at {path}: {exc}") from exc
        log = cls(env, path, {}, folds, readonly=readonly)
        try:
            log._setup(allow_stale)
        except BaseException:
            env.close()
            raise
        return log

    def _setup(self, allow_stale: bool) -> None:
        env = self._env
        try:
            env.reader_check()
            names = [LOG_TABLE, META_TABLE, *self.folds.table_names()]
            if self.readonly:
                for name in names:
                    # A table an older store lacks is simply empty.
                    with contextlib.suppress(lmdb.NotFoundError):
                        self._dbs[name] = env.open_db(name.encode(), create=False)
            else:
                with env.begin(write=True) as txn:
                    for name in names:
                        self._dbs[name] = env.open_db(name.encode(), txn=txn, create=True)
                    meta = self._dbs[META_TABLE]
                    if txn.get(b"store_id", db=meta) is None:
                        txn.put(b"store_id", uuid.uuid4().hex.encode(), db=meta)
                        txn.put(b"created_ns", str(time.time_ns()).encode(), db=meta)
        except lmdb.Error as exc:
            raise StoreError(f"cannot open the event log at {self.path}: {exc}") from exc
        with self._reading() as src:
            self._store_id = (src.get(META_TABLE, b"store_id") or b"").decode()
            stale = self.folds.stale(src)
        if stale and not (self.readonly and allow_stale):
            if self.readonly:
                raise StoreError(
                    f"the projections in {self.path} are out of date ("
                    f"{', '.join(stale)}); run `promptd rebuild` or start the daemon"
                )
            self.rebuild(stale)

    # --- backend hooks -------------------------------------------------------------------

    def _transact(self, body: Callable[[WriteTxn], R]) -> R:
        if self.readonly:
            raise StoreError(f"the event log at {self.path} is open read-only")
        self._check_open()
        with self._write_lock:
            for _ in range(_GROW_TRIES):
                try:
                    with self._guard.shared():
                        txn = self._env.begin(write=True)
                        try:
                            result = body(_LmdbTxn(txn, self._dbs))
                            txn.commit()
                        except BaseException:
                            txn.abort()
                            raise
                    return result
                except lmdb.MapFullError:
                    self._resize(int(self._env.info()["map_size"]) * 2)
                except lmdb.MapResizedError:
                    self._resize(0)
                except lmdb.BadValsizeError as exc:
                    raise StoreError(
                        "cannot write the event log: an id or cache key is longer than LMDB's "
                        "511-byte key limit; keep ids and keys short (hash long ones)"
                    ) from exc
                except lmdb.Error as exc:
                    raise StoreError(f"cannot write the event log at {self.path}: {exc}") from exc
        raise StoreError(f"the event log at {self.path} cannot grow; is the disk full?")

    def _resize(self, size: int) -> None:
        with self._guard.exclusive():
            self._env.set_mapsize(size)

    @contextmanager
    def _reading(self) -> Iterator[Source]:
        self._check_open()
        for _ in range(5):
            with self._guard.shared():
                try:
                    txn = self._env.begin(write=False)
                except lmdb.MapResizedError:
                    pass
                else:
                    try:
                        yield _LmdbSource(txn, self._dbs)
                    finally:
                        txn.abort()
                    return
            self._resize(0)  # another process grew the map: adopt its size
        raise StoreError(f"cannot read the event log at {self.path}: the map keeps changing")

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the event log is closed")

    # --- facts ---------------------------------------------------------------------------

    def last_seq(self) -> int:
        with self._reading() as src:
            for key, _ in src.scan(LOG_TABLE, reverse=True):
                return key_seq(key)
        return 0

    def count(self) -> int:
        with self._reading() as src:
            assert isinstance(src, _LmdbSource)
            return int(src._txn.stat(self._dbs[LOG_TABLE])["entries"])

    def size_bytes(self) -> int:
        """Bytes the environment uses (pages in use; the data file may be larger, sparse)."""
        with self._reading():
            info, stat = self._env.info(), self._env.stat()
        return (int(info["last_pgno"]) + 1) * int(stat["psize"])

    def store_id(self) -> str:
        return self._store_id

    def copy_to(self, dest: Path) -> None:
        """A consistent, compacted hot copy of the whole environment into ``dest`` (a new or
        empty folder); open it (with its folds) to verify it."""
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True, mode=0o700)
        if any(dest.iterdir()):
            raise StoreError(f"cannot copy the event log into {dest}: the folder is not empty")
        self._check_open()
        self._grow_for_copy()
        try:
            with self._guard.copying():
                self._env.copy(str(dest), compact=True)
        except lmdb.Error as exc:
            raise StoreError(f"cannot copy the event log to {dest}: {exc}") from exc

    def _grow_for_copy(self) -> None:
        """Leave free map space for the appends that come while a copy runs (its read
        transaction pins every page, so each commit meanwhile takes new ones): a resize
        during the copy would have to wait for it to end."""
        if self.readonly:
            return
        used = self.size_bytes()
        target = used + max(used, _COPY_HEADROOM_MIN)
        target = -(-target // _MIB) * _MIB
        if target <= int(self._env.info()["map_size"]):
            return
        with contextlib.suppress(StoreError):  # best effort: a resize in the copy waits for it
            self._resize(target)

    def release_map(self) -> None:
        """Drop the pages of ``data.mdb`` that reads left mapped from this process's resident
        set (they stay in the page cache; the next read maps them back: see
        :func:`promptd.daemon.footprint.release_mapped`). Safe from any thread: the map
        cannot move meanwhile (a resize waits for the guard, a close for the lock)."""
        from ..footprint import release_mapped

        with self._guard.shared(), self._map_lock:
            if not self._closed:
                release_mapped(self.path / "data.mdb")

    def close(self) -> None:
        with self._map_lock:
            if not self._closed:
                self._closed = True
                self._env.close()

    def __enter__(self) -> EventLog[V]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
