"""The batch runner: one parsed file in, one event per prompt, one output file out.

A batch is ``BatchStarted``, one ``BatchItemCompleted`` per prompt, then ``BatchCompleted``
(or ``BatchCancelled``). Every prompt goes through the daemon's one "optimize one prompt"
call (injected as :data:`OptimizeOne`), so batch items share the caches, the budget and the
provider's breaker with every other request. At most ``concurrency`` prompts run at once,
across all batches.

* Resume: a batch cut off by a crash is run again from its events; items that already have
  a ``BatchItemCompleted`` are not redone (and so not paid again).
* Duplicate content (same SHA-256, type and engine as a completed batch) is answered from
  that batch's item events without calling the engine; only its failed rows run again.
* Budget: the first ``BudgetError`` stops new calls; the remaining items are recorded with
  status ``budget`` and the batch still completes. ``BatchProgress.budget_reason`` says why.
* Streaming: rows are read from the file's bytes as the workers need them, at most
  ``window`` rows are between being read and being written, and each row's result goes to
  the output file (a temporary file beside it) and to the report's :class:`~.report.Tally`
  as soon as the rows before it are written. Nothing per row stays in memory, so a
  100,000-row file runs in the memory of a few hundred rows.
* The output file and the report appear complete, through the temporary file and a rename,
  before ``BatchCompleted`` is recorded; a batch that does not complete leaves neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from ..api import BatchInfo, OptimizeResult
from ..errors import BudgetError, PromptdError
from ..events import (
    BatchCancelled,
    BatchCompleted,
    BatchFailed,
    BatchItemCompleted,
    BatchStarted,
    Event,
)
from ..paths import disk_full
from ..values import Finding, ticks_to_usd, usd_to_ticks
from .book import BatchBook, BatchRecord
from .formats import InboxFile, Item, Row, fit_name, rows
from .output import RowWriter, Spool, remove_stale_spools
from .report import Tally, render_report

log = logging.getLogger("promptd.inbox")


@dataclass(frozen=True, slots=True)
class OptimizeCall:
    """One prompt of a batch, as handed to the daemon's optimize call."""

    text: str
    prompt_type: str
    engine: str | None
    source: str  # inbox | batch
    batch_id: str
    index: int


OptimizeOne = Callable[[OptimizeCall], Awaitable[OptimizeResult]]
AppendEvent = Callable[[Event], Awaitable[object]]
ProgressHook = Callable[["BatchProgress"], None]
# opt ids -> their findings, from the log (rows done before a restart, or reused rows)
FindingsOf = Callable[[list[str]], Awaitable[dict[str, list[Finding]]]]


@dataclass(frozen=True, slots=True)
class Job:
    """A file ready to run: read, hashed and parsed by the caller."""

    file_name: str
    sha256: str
    file: InboxFile
    output_path: Path
    report_path: Path
    source: str = "inbox"  # inbox | cli
    prompt_type: str = "auto"
    engine: str = ""  # "" = the configured engine
    batch_id: str = ""  # set when resuming


@dataclass(slots=True)
class BatchProgress:
    """A running batch as ``status`` and progress notifications show it."""

    batch_id: str
    file_name: str
    total: int
    done: int
    cost_ticks: int = 0
    started_done: int = 0  # items already done when this run began (resume / duplicate)
    started_at: float = field(default_factory=time.monotonic)
    state: str = "running"
    output_path: str = ""
    budget_reason: str = ""
    reason: str = ""
    degraded: int = 0  # rows a stand-in answered (the provider failed): offline or cache
    degraded_reason: str = ""  # the first such row's reason

    def rate_per_s(self) -> float:
        elapsed = time.monotonic() - self.started_at
        ran = self.done - self.started_done
        return ran / elapsed if elapsed > 0 and ran > 0 else 0.0

    def eta_s(self) -> float | None:
        if self.state == "stalled":
            return None  # no promise while nothing moves
        if self.state != "running":
            return 0.0
        rate = self.rate_per_s()
        return (self.total - self.done) / rate if rate > 0 else None

    def info(self) -> BatchInfo:
        return BatchInfo(
            id=self.batch_id,
            file_name=self.file_name,
            done=self.done,
            total=self.total,
            rate_per_s=round(self.rate_per_s(), 3),
            eta_s=None if (eta := self.eta_s()) is None else round(eta, 1),
            cost_usd=ticks_to_usd(self.cost_ticks),
            state=self.state,
            output_path=self.output_path,
            reason=self.budget_reason or self.reason,
            degraded=self.degraded,
            degraded_reason=self.degraded_reason,
        )


WINDOW = 256  # rows read ahead of the output: a slow row holds back at most this many
SPOOL_BYTES = 256 * 1024  # output written to disk in pieces of about this size
FINDINGS_CHUNK = 500  # earlier rows' findings read from the log this many at a time
TRIM_ROWS = 10  # the trim hook runs after this many rows are written (8 times a second offline)


@dataclass(slots=True)
class _Lane:
    """Rows in file order between the workers and the output writer.

    Workers draw rows from one iterator (``rows``) and put each row's result here; the
    writer takes them back in order. ``room`` bounds the rows drawn and not yet written.
    """

    rows: Iterator[Row]
    room: asyncio.Semaphore
    drawn: dict[int, Row] = field(default_factory=dict)
    results: dict[int, tuple[BatchItemCompleted | None, Sequence[Finding] | None]] = field(
        default_factory=dict
    )
    count: int = 0  # rows drawn so far
    end: int | None = None  # rows in the file, once a worker has drawn the last one
    signal: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False

    def draw(self) -> Row | None:
        if self.end is not None:
            return None
        row = next(self.rows, None)
        if row is None:
            self.end = self.count
            self.signal.set()
            return None
        self.count += 1
        self.drawn[row.item.index] = row
        return row

    def put(
        self, index: int, result: BatchItemCompleted | None, found: Sequence[Finding] | None
    ) -> None:
        self.results[index] = (result, found)
        self.signal.set()

    def close(self) -> None:
        """The writer stopped: let every worker waiting for room go (and see why)."""
        self.closed = True
        for _ in range(WINDOW):
            self.room.release()


class BatchStopped(PromptdError):
    """A batch ended before its results were written (recorded as ``BatchFailed``)."""


def new_batch_id() -> str:
    return "b_" + uuid.uuid4().hex[:16]


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a temporary file beside it, fsync, rename."""
    tmp = path.with_name(fit_name(f".{path.name}", f".{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class BatchRunner:
    """Runs batches against an injected optimize call and event sink."""

    def __init__(
        self,
        *,
        optimize: OptimizeOne,
        append: AppendEvent,
        book: BatchBook,
        concurrency: int = 4,
        on_progress: ProgressHook | None = None,
        findings_of: FindingsOf | None = None,
        trim: Callable[[], None] | None = None,
    ) -> None:
        self._optimize = optimize
        self._trim = trim  # gives freed memory back to the system; called now and then
        self._findings_of = findings_of
        self._append = append
        self.book = book
        self.concurrency = max(1, concurrency)
        self._slots = asyncio.Semaphore(self.concurrency)
        self._on_progress = on_progress
        self.running: dict[str, BatchProgress] = {}
        self.finished: dict[str, BatchProgress] = {}
        self._cancelled: dict[str, str] = {}
        self._listeners: dict[str, ProgressHook] = {}
        self.retry_s = 10.0  # a disk-full write is tried again this often

    async def _record(self, event: Event, prog: BatchProgress | None = None) -> None:
        await self._write(event, prog)
        self.book.apply(event, keep=False)

    async def _write(self, event: Event, prog: BatchProgress | None) -> None:
        """Append ``event``; on a full disk the batch stalls (``status`` says so and why)
        and the same event is tried again every :attr:`retry_s` until there is room."""
        await self._until_room(lambda: self._append(event), prog)

    async def _until_room(
        self, attempt: Callable[[], Awaitable[object]], prog: BatchProgress | None
    ) -> None:
        said = False
        while True:
            try:
                await attempt()
            except Exception as exc:
                if not disk_full(exc):
                    raise
                reason = (
                    f"stalled: the disk is full ({exc}); free some space, it goes on by "
                    f"itself (tried again every {self.retry_s:g} s)"
                )
                if not said:
                    log.error("batch %s %s", prog.batch_id if prog else "", reason)
                    said = True
                if prog is not None and prog.state != "stalled":
                    prog.state, prog.reason = "stalled", reason
                    self._notify(prog)
                await asyncio.sleep(self.retry_s)
                continue
            if prog is not None and prog.state == "stalled":
                log.info("batch %s: there is room again; going on", prog.batch_id)
                prog.state, prog.reason = "running", ""
                self._notify(prog)
            return

    def cancel(self, batch_id: str, reason: str = "cancelled") -> bool:
        """Ask a running batch to stop taking new items; True when it was running."""
        if batch_id not in self.running:
            return False
        self._cancelled[batch_id] = reason
        return True

    def progress(self, batch_id: str) -> BatchProgress | None:
        return self.running.get(batch_id) or self.finished.get(batch_id)

    async def run(self, job: Job, listener: ProgressHook | None = None) -> BatchRecord:
        """Run (or resume) one batch to its end; returns its record from the book.

        ``listener`` hears this batch's progress (from the first notice, right after
        ``BatchStarted``) besides the runner's own hook.
        """
        record = self.book.get(job.batch_id) if job.batch_id else None
        if record is None:
            record = await self._start(job)
        batch_id = record.batch_id
        if listener is not None:
            self._listeners[batch_id] = listener
        prog = BatchProgress(
            batch_id=batch_id,
            file_name=job.file_name,
            total=job.file.count,
            done=record.done,
            cost_ticks=record.cost_ticks,
            started_done=record.done,
            output_path=str(job.output_path),
        )
        self.running[batch_id] = prog
        spool = Spool(job.output_path)
        try:
            await asyncio.to_thread(_remove_stale, job)
            lane = _Lane(rows=rows(job.file), room=asyncio.Semaphore(WINDOW))
            tally = Tally()
            self._notify(prog)
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self.concurrency, job.file.count)):
                    group.create_task(self._worker(job, record, prog, lane))
                group.create_task(self._write_rows(job, record, prog, lane, spool, tally))
            if batch_id in self._cancelled:
                spool.discard()
                return await self._cancel(record, prog, self._cancelled[batch_id])
            return await self._complete(job, record, prog, spool, tally)
        except BaseException as exc:
            spool.discard()
            if not isinstance(exc, Exception):
                raise
            # Never leave a batch "running" in the log (it would resume, and fail, at every
            # start): say why it stopped, then let the caller move its file to failed/.
            exc = _first(exc)
            if isinstance(exc, OSError):
                reason = f"cannot write the results: {exc.strerror or exc}"
            elif isinstance(exc, PromptdError):
                reason = str(exc)
            else:
                log.error("batch %s failed", batch_id, exc_info=exc)
                reason = f"internal error: {type(exc).__name__}: {exc}; see run/daemon.log"
            prog.state, prog.reason = "failed", reason
            with contextlib.suppress(Exception):
                await self._record(
                    BatchFailed(
                        batch_id=batch_id,
                        file_name=job.file_name,
                        reason=reason,
                        sha256=job.sha256,
                    )
                )
            self._notify(prog)
            raise BatchStopped(reason) from exc
        finally:
            self.running.pop(batch_id, None)
            self._cancelled.pop(batch_id, None)
            self._listeners.pop(batch_id, None)
            self.finished[batch_id] = prog
            while len(self.finished) > 100:
                self.finished.pop(next(iter(self.finished)))

    async def _start(self, job: Job) -> BatchRecord:
        earlier = self.book.answered(job.sha256, job.prompt_type, job.engine)
        event = BatchStarted(
            batch_id=new_batch_id(),
            file_name=job.file_name,
            sha256=job.sha256,
            count=job.file.count,
            format=job.file.format,
            source=job.source,
            prompt_type=job.prompt_type,
            engine=job.engine,
            output_path=str(job.output_path),
            duplicate_of=earlier.batch_id if earlier is not None else "",
        )
        await self._record(event)
        record = self.book.get(event.batch_id)
        assert record is not None
        return record

    def _known(self, record: BatchRecord, item: Item) -> BatchItemCompleted | None:
        """A row that needs no engine call: an unusable row, or one a duplicate can reuse."""
        if item.error:
            return _not_optimized(record, item, "error", item.error)
        dup = record.started.duplicate_of
        earlier = self.book.get(dup) if dup else None
        old = earlier.items.get(item.index) if earlier is not None else None
        # a degraded row was a stand-in (the provider was down): it is run again
        if old is not None and old.status in ("ok", "cached") and not old.degraded:
            # the earlier answer, reused at no cost
            return msgspec.structs.replace(
                old,
                batch_id=record.batch_id,
                item_id=item.item_id,
                status="cached",
                cost_ticks=0,
                cached=True,
            )
        return None

    async def _worker(
        self, job: Job, record: BatchRecord, prog: BatchProgress, lane: _Lane
    ) -> None:
        # Each item's record is committed while the worker runs the next item (one write in
        # flight per worker): the group commit then carries it with the next prompt's events.
        writing: asyncio.Future[None] | None = None
        try:
            while record.batch_id not in self._cancelled:
                await lane.room.acquire()
                if lane.closed or record.batch_id in self._cancelled:
                    return
                row = lane.draw()
                if row is None:
                    return
                item = row.item
                if record.has(item.index):  # done before a restart: its event is loaded
                    lane.put(item.index, record.items.get(item.index), None)
                    continue
                found: Sequence[Finding] | None = None
                known = self._known(record, item)
                if known is not None:
                    await self._record(known, prog)
                    lane.put(item.index, known, None)
                    prog.done += 1
                    prog.started_done += 1
                    prog.cost_ticks += known.cost_ticks
                    self._notify(prog)
                    continue
                if prog.budget_reason:
                    event = _not_optimized(record, item, "budget", f"not run: {prog.budget_reason}")
                else:
                    async with self._slots:
                        event, found = await self._one(job, record, item, prog)
                if writing is not None:
                    await writing
                writing = asyncio.ensure_future(self._write(event, prog))
                self.book.apply(event, keep=False)
                lane.put(item.index, event, found)
                prog.done += 1
                prog.cost_ticks += event.cost_ticks
                self._notify(prog)
        finally:
            if writing is not None:
                await writing

    async def _one(
        self, job: Job, record: BatchRecord, item: Item, prog: BatchProgress
    ) -> tuple[BatchItemCompleted, Sequence[Finding] | None]:
        call = OptimizeCall(
            text=item.prompt,
            prompt_type=item.prompt_type or job.prompt_type,
            engine=job.engine or None,
            source="inbox" if job.source == "inbox" else "batch",
            batch_id=record.batch_id,
            index=item.index,
        )
        try:
            result = await self._optimize(call)
        except BudgetError as exc:
            prog.budget_reason = prog.budget_reason or str(exc)
            return _not_optimized(record, item, "budget", f"not run: {exc}"), None
        except PromptdError as exc:
            error = str(exc)
        except Exception as exc:  # one broken row must not stop the batch
            log.exception("batch %s row %d failed", record.batch_id, item.index + 1)
            error = f"internal error: {type(exc).__name__}: {exc}"
        else:
            if result.degraded:
                prog.degraded += 1
                prog.degraded_reason = prog.degraded_reason or result.degraded_reason
            event = BatchItemCompleted(
                batch_id=record.batch_id,
                index=item.index,
                item_id=item.item_id,
                opt_id=result.id,
                status="ok",
                optimized=result.optimized,
                score_before=result.score_before,
                score_after=result.score_after,
                findings=len(result.findings),
                cost_ticks=usd_to_ticks(result.cost_usd),
                cached=result.cached,
                degraded=result.degraded,
            )
            return event, result.findings
        return _not_optimized(record, item, "error", error), None

    async def _write_rows(
        self,
        job: Job,
        record: BatchRecord,
        prog: BatchProgress,
        lane: _Lane,
        spool: Spool,
        tally: Tally,
    ) -> None:
        """Take each row's result in file order: into the output file and the report."""
        writer = RowWriter(job.file)
        spool.add(writer.head())
        lookup: dict[str, int] = {}  # opt_id -> rows whose findings are read from the log
        index = 0
        try:
            while lane.end is None or index < lane.end:
                if record.batch_id in self._cancelled:
                    return
                if index not in lane.results:
                    lane.signal.clear()
                    await lane.signal.wait()
                    continue
                row = lane.drawn.pop(index)
                result, found = lane.results.pop(index)
                lane.room.release()
                spool.add(writer.row(row, result))
                tally.add(row.item, result)
                if found is not None:
                    tally.add_findings(found)
                elif result is not None and result.opt_id and result.status in ("ok", "cached"):
                    lookup[result.opt_id] = lookup.get(result.opt_id, 0) + 1
                    if len(lookup) >= FINDINGS_CHUNK:
                        await self._tally_earlier(record, tally, lookup)
                if spool.pending >= SPOOL_BYTES:
                    await self._until_room(lambda: asyncio.to_thread(spool.write), prog)
                index += 1
                if self._trim is not None and index % TRIM_ROWS == 0:
                    await asyncio.to_thread(self._trim)
            await self._tally_earlier(record, tally, lookup)
            spool.add(writer.tail())
        finally:
            lane.close()

    async def _tally_earlier(
        self, record: BatchRecord, tally: Tally, lookup: dict[str, int]
    ) -> None:
        """The findings of rows answered before this run (resumed or reused), from the log."""
        if not lookup or self._findings_of is None:
            lookup.clear()
            return
        try:
            known = await self._findings_of(list(lookup))
        except Exception:  # the report is a summary: go on without them
            log.exception("batch %s: cannot read earlier findings", record.batch_id)
            known = {}
        for opt_id, found in known.items():
            for _ in range(lookup.get(opt_id, 0)):
                tally.add_findings(found)
        lookup.clear()

    async def _complete(
        self, job: Job, record: BatchRecord, prog: BatchProgress, spool: Spool, tally: Tally
    ) -> BatchRecord:
        report = render_report(
            record.started,
            tally,
            output_name=job.output_path.name,
            budget_reason=prog.budget_reason,
            finished_at=datetime.now(UTC),
        )
        await self._until_room(
            lambda: asyncio.to_thread(_commit_both, spool, job.report_path, report), prog
        )
        await self._record(
            BatchCompleted(
                batch_id=record.batch_id,
                ok=record.count("ok") + record.count("cached"),
                failed=record.count("error"),
                budget=record.count("budget"),
                cost_ticks=record.cost_ticks,
                output_path=str(job.output_path),
                report_path=str(job.report_path),
            ),
            prog,
        )
        prog.state = "completed"
        self._notify(prog)
        return record

    async def _cancel(self, record: BatchRecord, prog: BatchProgress, reason: str) -> BatchRecord:
        await self._record(BatchCancelled(batch_id=record.batch_id, reason=reason), prog)
        prog.state = "cancelled"
        prog.reason = reason
        self._notify(prog)
        return record

    def _notify(self, prog: BatchProgress) -> None:
        for hook in (self._on_progress, self._listeners.get(prog.batch_id)):
            if hook is None:
                continue
            try:
                hook(prog)
            except Exception:  # a broken listener must not break the batch
                log.exception("batch progress listener failed")


def _not_optimized(record: BatchRecord, item: Item, status: str, error: str) -> BatchItemCompleted:
    """A row that got no answer: ``error`` (unusable or failed) or ``budget`` (not run)."""
    return BatchItemCompleted(
        batch_id=record.batch_id, index=item.index, item_id=item.item_id, status=status, error=error
    )


def _commit_both(spool: Spool, report_path: Path, report: str) -> None:
    spool.commit()
    write_atomic(report_path, report.encode("utf-8"))


def _remove_stale(job: Job) -> None:
    for path in (job.output_path, job.report_path):
        remove_stale_spools(path)


def _first(exc: BaseException) -> BaseException:
    """The first error of an exception group (what stopped the batch's tasks)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc
