"""``AsyncEventLog``: the event log for the asyncio daemon.

LMDB write transactions belong to the thread that opened them, so one dedicated writer
thread owns every write. Appends from coroutines are queued; the writer takes everything
queued at once (up to ``max_group`` events) and commits it in ONE durable transaction
(group commit), then wakes the appenders and every reader waiting for new events.

Reads (``read``, ``view``, ``last_seq``...) run on the caller's thread: LMDB readers are
fine on any thread. Create it inside the running loop: ``log = await AsyncEventLog.open(path)``
or ``AsyncEventLog(EventLog.open(path, folds))`` from a coroutine (promptd's projections:
:func:`promptd.daemon.projections.open_async_log`).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

from ..errors import StoreError
from ..events import Envelope, Event, Record
from .base import BaseEventLog, Decide, Request, as_events
from .folds import Folds
from .report import VerifyReport

V = TypeVar("V")
_STOP = object()


class _Job:
    """An append request, or ``call``: a function to run alone on the writer thread."""

    __slots__ = ("call", "future", "loop", "request")

    def __init__(
        self,
        request: Request[Any] | None,
        loop: asyncio.AbstractEventLoop,
        future: asyncio.Future[Any],
        call: Callable[[], Any] | None = None,
    ) -> None:
        self.request = request
        self.loop = loop
        self.future = future
        self.call = call

    def size(self) -> int:
        return self.request.size() if self.request is not None else 0


def _settle(future: asyncio.Future[Any], result: Any) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


def _notify(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any) -> None:
    """Run ``fn(*args)`` on ``loop``; nothing if that loop is already closed (nobody waits)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(fn, *args)


class AsyncEventLog(Generic[V]):
    """Async appends through one writer thread (group commit); sync reads delegated."""

    def __init__(self, log: BaseEventLog[V], *, max_group: int = 10_000) -> None:
        self.log = log
        self._loop = asyncio.get_running_loop()
        self._max_group = max_group
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._last_seq = log.last_seq()
        self._waiters: list[tuple[int, asyncio.Future[int]]] = []
        self._closed = False
        self.commits = 0  # durable commits made (group commit: fewer than appends)
        self._thread = threading.Thread(target=self._run, name="promptd-store-writer", daemon=True)
        self._thread.start()

    @classmethod
    async def open(
        cls, path: Path, folds: Folds[V], *, map_size: int = 64 << 20
    ) -> AsyncEventLog[V]:
        """Open the LMDB log at ``path`` (in a thread: a rebuild may run) and start writing."""
        from .lmdb_log import EventLog

        log = await asyncio.to_thread(EventLog.open, path, folds, map_size=map_size)
        return cls(log)

    # --- the writer thread ---------------------------------------------------------------

    def _run(self) -> None:
        held: Any = None
        while True:
            job = held if held is not None else self._queue.get()
            held = None
            if job is _STOP:
                return
            if job.call is not None:
                self._call(job)
                continue
            jobs: list[_Job] = [job]
            size = job.size()
            while size < self._max_group:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP or nxt.call is not None:
                    held = nxt  # handled after this group is committed
                    break
                jobs.append(nxt)
                size += nxt.size()
            self._commit(jobs)

    def _call(self, job: _Job) -> None:
        assert job.call is not None
        try:
            result: Any = job.call()
        except BaseException as exc:
            result = exc
        _notify(job.loop, _settle, job.future, result)

    def _commit(self, jobs: list[_Job]) -> None:
        results: Sequence[list[int] | BaseException]
        try:
            results = self.log.commit([job.request for job in jobs if job.request is not None])
        except BaseException as exc:  # the transaction failed as a whole
            results = [exc] * len(jobs)
        else:
            self.commits += 1
        last = max((r[-1] for r in results if isinstance(r, list) and r), default=0)
        settled = list(zip(jobs, results, strict=True))
        # One callback on our loop: the new last sequence is known before any appender
        # resumes (so ``wait_for`` right after ``append`` never waits).
        _notify(
            self._loop, self._finish, last, [(j, r) for j, r in settled if j.loop is self._loop]
        )
        for job, result in settled:
            if job.loop is not self._loop:
                _notify(job.loop, _settle, job.future, result)

    def _finish(self, last: int, settled: list[tuple[_Job, Any]]) -> None:
        if last:
            self._advance(last)
        for job, result in settled:
            _settle(job.future, result)

    def _advance(self, last: int) -> None:
        if last <= self._last_seq:
            return
        self._last_seq = last
        keep: list[tuple[int, asyncio.Future[int]]] = []
        for seq, fut in self._waiters:
            if fut.done():
                continue
            if seq <= last:
                fut.set_result(last)
            else:
                keep.append((seq, fut))
        self._waiters = keep

    # --- writing -------------------------------------------------------------------------

    async def _submit(self, request: Request[V]) -> list[int]:
        result: list[int] = await self._enqueue(request, None)
        return result

    async def _enqueue(self, request: Request[V] | None, call: Callable[[], Any] | None) -> Any:
        if self._closed:
            raise StoreError("the event log is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put(_Job(request, loop, future, call))
        return await future

    async def run_on_writer(self, call: Callable[[], Any]) -> Any:
        """Run ``call()`` alone on the writer thread (between commits); return its result."""
        return await self._enqueue(None, call)

    async def append(
        self, events: Event | Sequence[Event], *, ts_ns: int | None = None
    ) -> list[int]:
        """Append one event or a batch durably; concurrent appends share one commit."""
        return await self._submit(Request(events=as_events(events), ts_ns=ts_ns))

    async def append_if(self, decide: Decide[V]) -> list[int]:
        """``decide(view)`` runs in the writer's transaction; see ``EventLog.append_if``."""
        return await self._submit(Request(decide=decide))

    async def append_records(
        self, envelopes: Iterable[Envelope], *, source_store_id: str = ""
    ) -> list[int]:
        return await self._submit(
            Request(envelopes=list(envelopes), source_store_id=source_store_id)
        )

    # --- waiting for events --------------------------------------------------------------

    async def wait_for(self, seq: int, timeout: float | None = None) -> int:
        """Wait until ``seq`` is committed; returns the last committed sequence (still
        below ``seq`` only if ``timeout`` seconds passed first)."""
        if self._last_seq >= seq:
            return self._last_seq
        fut: asyncio.Future[int] = self._loop.create_future()
        self._waiters.append((seq, fut))
        # Not asyncio.wait_for: on 3.11 it swallows a cancel that comes as ``fut`` is set,
        # and a subscriber's task (status push, dashboard) then never ends at shutdown.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                return await fut
        return self._last_seq

    async def subscribe(self, from_seq: int = 1) -> AsyncIterator[Record]:
        """Every record from ``from_seq`` on: first those already stored, then live ones."""
        nxt = max(1, from_seq)
        while not self._closed:
            got = False
            for rec in self.log.read(nxt, nxt + 512):
                got = True
                nxt = rec.seq + 1
                yield rec
            if not got:
                await self.wait_for(nxt, timeout=1.0)

    # --- reads, delegated ----------------------------------------------------------------

    def read(self, start: int = 1, end: int | None = None) -> Iterator[Record]:
        return self.log.read(start, end)

    def read_from(self, seq: int) -> Iterator[Record]:
        return self.log.read_from(seq)

    def read_envelopes(self, start: int = 1, end: int | None = None) -> Iterator[Envelope]:
        return self.log.read_envelopes(start, end)

    def view(self) -> contextlib.AbstractContextManager[V]:
        return self.log.view()

    def last_seq(self) -> int:
        return self.log.last_seq()

    def count(self) -> int:
        return self.log.count()

    def size_bytes(self) -> int:
        return self.log.size_bytes()

    def store_id(self) -> str:
        return self.log.store_id()

    def verify(self) -> VerifyReport:
        return self.log.verify()

    async def rebuild(self) -> None:
        """Rebuild every projection on the writer thread (appends wait meanwhile)."""
        await self.run_on_writer(self.log.rebuild)

    def release_map(self) -> None:
        """Give back the mapped pages of the log (an LMDB log; others have none)."""
        release = getattr(self.log, "release_map", None)
        if release is not None:
            release()

    def copy_to(self, dest: Path) -> None:
        copy = getattr(self.log, "copy_to", None)
        if copy is None:
            raise StoreError("this event log cannot be copied")
        copy(dest)

    async def close(self) -> None:
        """Finish queued appends, stop the writer thread, close the log."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join)
        for _, fut in self._waiters:
            if not fut.done():
                fut.set_result(self._last_seq)
        self._waiters.clear()
        self.log.close()
