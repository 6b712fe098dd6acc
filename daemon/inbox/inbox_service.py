"""The inbox service: the daemon's part that turns dropped or submitted files into batches.

* Watches the inbox (see :mod:`.watcher`); each complete file becomes a batch run by the
  :class:`~.batch.BatchRunner` through the daemon's one "optimize one prompt" call, so batch
  items share the caches, the budget and the provider with everything else.
* At start, batches cut off by a crash or a stop resume from their events before the
  watcher's first scan (so their files are not taken twice).
* A finished file moves to ``inbox/done/``; a file that cannot be used moves to
  ``inbox/failed/`` beside ``NAME.error.txt`` saying what is wrong and how to fix it; so do
  symlinks, FIFOs, devices, folders and names that are not UTF-8 (see :mod:`.failures`).
* Results never overwrite each other: the ``n``-th run of ``x.txt`` whose
  ``outbox/x.optimized.txt`` or ``x.report.md`` is taken writes ``x-n.optimized.txt`` and
  ``x-n.report.md`` (the first ``n`` free for both).
* A file that changed while its batch ran (size, mtime, inode or content at the end differ
  from what was read) does not go to ``done/``: it stays in the inbox and is run again once
  it settles, so an append written after a pause is never lost.
* Control API: ``batch.submit`` (the ``promptd batch`` command), ``batch.status`` (alias
  ``batch.get``), ``batch.cancel``; :meth:`InboxService.status` is the inbox part of
  ``status``. ``batch.submit`` answers when the batch ends; meanwhile ``progress``
  notifications (with the request's token) go to the submitting connection; every batch
  (inbox drops too) sends ``batch.progress`` to subscribers of the ``batch`` topic.

Files are opened with ``O_NOFOLLOW`` and must be regular files: nothing outside the inbox is
read or written for an inbox batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import api
from ..errors import InboxError
from ..events import BatchFailed, Event
from ..footprint import Keeper, release_memory
from ..values import PROMPT_TYPES, ticks_to_usd
from ..wire import Call, Method
from .batch import BatchProgress, BatchRunner, BatchStopped, Job, OptimizeCall, write_atomic
from .book import BatchBook, BatchRecord
from .bridge import CoreBridge
from .failures import failed_summary, safe_name
from .formats import (
    check_size,
    error_name,
    fit_name,
    format_of,
    open_file,
    output_name,
    report_for,
    report_name,
)
from .stability import FileState, is_temporary, regular_file_state
from .watcher import InboxWatcher, ensure_inbox

if TYPE_CHECKING:
    from ..config import Config
    from ..server.app import Daemon

log = logging.getLogger("promptd.inbox")


def read_regular(path: Path, max_bytes: int, *, follow: bool = False) -> tuple[bytes, FileState]:
    """The bytes and state (size, mtime, inode) of a regular file; symlinks (unless
    ``follow``), other kinds of file and files over ``max_bytes`` are refused with an
    InboxError."""
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise InboxError(f"{path}: no such file; check the path") from None
    except OSError as exc:
        if not follow and os.path.islink(path):
            raise InboxError(f"{path.name}: a symlink; inbox files must be regular files") from None
        raise InboxError(f"{path}: cannot open it ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise InboxError(f"{path.name}: not a regular file; give a file of prompts")
        check_size(path.name, st.st_size, max_bytes)
        data = fh.read(max_bytes + 1)
    check_size(path.name, len(data), max_bytes)
    # the state the data matches: what was there when the read began
    return data, FileState(size=st.st_size, mtime_ns=st.st_mtime_ns, ino=st.st_ino)


def _unique(folder: Path, name: str) -> Path:
    target = folder / fit_name(name, "")
    stem, dot, ext = name.partition(".")
    n = 1
    while os.path.lexists(target) or os.path.lexists(target.parent / error_name(target.name)):
        target = folder / fit_name(f"{stem}-{n}", dot + ext)
        n += 1
    return target


class InboxService:
    """Registered with the daemon by :data:`promptd.daemon.server.main.SERVICES`."""

    name = "inbox"

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.paths = daemon.paths
        self.config = daemon.config.inbox
        self.inbox = self.paths.inbox
        self.bridge = CoreBridge(daemon)
        self.book = BatchBook()
        self.runner = BatchRunner(
            optimize=self._optimize,
            append=self._append,
            book=self.book,
            # LLM rows are bounded by the provider's own limit (calls in flight), not this
            concurrency=max(self.config.concurrency, daemon.config.provider.max_concurrency),
            on_progress=self._progress,
            findings_of=self.bridge.findings_of,
            trim=Keeper(self._release_map),
        )
        self.watcher = InboxWatcher(self.inbox, self.config, self._take, self._reject)
        self._claimed: set[str] = set()  # inbox names being run
        self._reserved: set[Path] = set()  # outbox names of batches that have not written yet
        self._queue: asyncio.Queue[Path] = asyncio.Queue()
        self._batch_slots = asyncio.Semaphore(max(1, self.config.concurrency))
        self._tasks: set[asyncio.Task[Any]] = set()
        daemon.reload_hooks.append(self._reloaded)

    # --- life ----------------------------------------------------------------------------

    def methods(self) -> Mapping[str, Method]:
        status = Method(api.BatchIdParams, self._rpc_status)
        return {
            # not work=True: a long batch must not hold up a stop (it resumes at next start)
            "batch.submit": Method(api.BatchSubmitParams, self._rpc_submit),
            "batch.status": status,
            "batch.get": status,
            "batch.cancel": Method(api.BatchIdParams, self._rpc_cancel),
        }

    async def start(self) -> None:
        await asyncio.to_thread(ensure_inbox, self.inbox)
        self.paths.outbox.mkdir(parents=True, exist_ok=True, mode=0o700)
        for record in await asyncio.to_thread(self.bridge.load_book, self.book):
            self._resume(record)
        self._spawn(self._consume(), "inbox-consumer")
        if self.config.enabled:
            self._spawn(self.watcher.run(), "inbox-watcher")

    async def stop(self) -> None:
        self.watcher.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _reloaded(self, config: Config) -> None:
        """SIGHUP: new sizes and timings apply at once; a polling change re-arms the watch.
        ``inbox.concurrency`` and ``inbox.enabled`` take effect at the next start."""
        new = config.inbox
        polling_changed = new.polling != self.config.polling
        self.config = new
        self.watcher.config = new
        self.watcher.tracker.stable_s = new.stable_s
        if polling_changed:
            self.watcher.rearm()

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("inbox task %s failed", task.get_name(), exc_info=task.exception())

    # --- status --------------------------------------------------------------------------

    def status(self) -> api.InboxStatus:
        """The inbox part of ``status``: folder, files waiting, running or stopped batches."""
        batches = [p.info() for p in self.runner.running.values()]
        batches += [
            p.info()
            for p in list(self.runner.finished.values())[-5:]
            if p.budget_reason or p.state != "completed"
        ]
        pending = self.watcher.pending() + self._queue.qsize()
        failed, errors = failed_summary(self.inbox)
        return api.InboxStatus(
            path=str(self.inbox),
            pending=pending,
            batches=batches,
            failed=failed,
            errors=errors,
            problems=[
                *self.watcher.problems,
                *(
                    f"{p.file_name}: {p.reason}"
                    for p in self.runner.running.values()
                    if p.state == "stalled"
                ),
            ],
        )

    def info(self, batch_id: str) -> api.BatchInfo:
        record = self.book.get(batch_id)
        prog = self.runner.progress(record.batch_id if record else batch_id)
        if prog is not None:
            return prog.info()
        if record is None:
            record = self.bridge.load_batch(self.book, batch_id)
        if record is None:
            raise InboxError(f"no batch {batch_id!r}; `promptd status` lists running batches")
        done = record.completed
        return api.BatchInfo(
            id=record.batch_id,
            file_name=record.started.file_name,
            done=record.done,
            total=record.started.count,
            rate_per_s=0.0,
            eta_s=0.0 if record.state != "running" else None,
            cost_usd=ticks_to_usd(record.cost_ticks),
            state=record.state,
            output_path=done.output_path if done else record.started.output_path,
            reason=record.reason,
        )

    # --- the inbox -----------------------------------------------------------------------

    def _reject(self, path: Path, reason: str) -> None:
        """An entry the inbox can never take (see :func:`.failures.unusable`): to failed/."""
        if path.name in self._claimed:
            return
        log.warning("inbox entry refused: %s", reason)
        self._move_failed(path, reason)
        self._spawn(
            self._append(BatchFailed(file_name=safe_name(path.name), reason=reason)),
            f"inbox-refused:{safe_name(path.name)}",
        )

    def _take(self, path: Path) -> bool:
        if path.name in self._claimed:
            return False  # the same name is still running: the watcher asks again later
        self._claimed.add(path.name)
        self._queue.put_nowait(path)
        return True

    async def _consume(self) -> None:
        while True:
            path = await self._queue.get()
            await self._batch_slots.acquire()
            self._spawn(self._guarded(self._run_inbox_file(path)), f"inbox:{path.name}")

    async def _guarded(self, coro: Any) -> None:
        try:
            await coro
        finally:
            self._batch_slots.release()

    def _resume(self, record: BatchRecord) -> None:
        """Queue a batch cut off by a crash; its file must still be there, unchanged."""
        started = record.started
        if started.source == "inbox":
            path = self.inbox / started.file_name
            self._claimed.add(path.name)
        else:
            path = Path(started.file_name)
        self._spawn(self._resume_one(record, path), f"resume:{record.batch_id}")

    async def _resume_one(self, record: BatchRecord, path: Path) -> None:
        started = record.started
        inbox = started.source == "inbox"
        try:
            data, state = await asyncio.to_thread(
                read_regular, path, self.config.max_file_bytes, follow=not inbox
            )
            if hashlib.sha256(data).hexdigest() != started.sha256:
                raise InboxError(f"{path.name} changed since the batch started")
            file = open_file(path.name, data, self.config.max_file_bytes)
        except InboxError as exc:
            reason = f"cannot resume: {exc}"
            await self._append(
                BatchFailed(
                    batch_id=record.batch_id,
                    file_name=started.file_name,
                    reason=reason,
                    sha256=started.sha256,
                )
            )
            self._claimed.discard(path.name)
            return
        out = Path(started.output_path)
        job = Job(
            file_name=started.file_name,
            sha256=started.sha256,
            file=file,
            output_path=out,
            report_path=out.with_name(report_for(out.name, path.name)),
            source=started.source,
            prompt_type=started.prompt_type,
            engine=started.engine,
            batch_id=record.batch_id,
        )
        log.info("resuming batch %s (%d of %d done)", record.batch_id, record.done, started.count)
        if not inbox:
            try:
                await self.runner.run(job)
            finally:
                self._release(job)
            return
        try:
            async with self._batch_slots:
                await self._finish_inbox(path, job, state)
        finally:
            self._claimed.discard(path.name)

    async def _run_inbox_file(self, path: Path) -> None:
        sha = ""
        try:
            try:
                data, state = await asyncio.to_thread(
                    read_regular, path, self.config.max_file_bytes
                )
                sha = hashlib.sha256(data).hexdigest()
                file = open_file(path.name, data, self.config.max_file_bytes)
            except InboxError as exc:
                await self._fail_file(path, str(exc), sha)
                return
            except Exception as exc:  # a bug must not leave the file unexplained in the inbox
                log.exception("inbox: cannot read %r", path)
                reason = f"{safe_name(path.name)}: cannot be read ({type(exc).__name__}: {exc})"
                await self._fail_file(path, reason + "; see run/daemon.log", sha)
                return
            await asyncio.to_thread(self.bridge.load_sha, self.book, sha)
            output, report = self._outbox_names(path.name)
            job = Job(
                file_name=path.name,
                sha256=sha,
                file=file,
                output_path=output,
                report_path=report,
                source="inbox",
                engine=self.daemon.config.engine_name(),
            )
            await self._finish_inbox(path, job, state)
        finally:
            self._claimed.discard(path.name)

    def _release(self, job: Job) -> None:
        """After a batch: its rows leave the book, and freed memory goes back to the system."""
        for batch_id in [b for b, r in self.book.by_id.items() if r.started.sha256 == job.sha256]:
            record = self.book.by_id[batch_id]
            if record.state != "running":
                self.book.forget(batch_id)
        release_memory(self._release_map)

    def _release_map(self) -> None:
        """The log's mapped pages back to the system (a batch reads them all over)."""
        core = self.daemon.core
        store = core.store if core is not None else None
        if store is not None:
            store.release_map()

    def _outbox_names(self, name: str) -> tuple[Path, Path]:
        """The first free (output, report) pair for ``name``: results never overwrite."""
        outbox = self.paths.outbox
        n = 1
        while True:
            output, report = outbox / output_name(name, n), outbox / report_name(name, n)
            taken = {output, report} & self._reserved
            if not (taken or os.path.lexists(output) or os.path.lexists(report)):
                self._reserved |= {output, report}
                return output, report
            n += 1

    async def _finish_inbox(self, path: Path, job: Job, taken: FileState) -> None:
        self._reserved |= {job.output_path, job.report_path}
        try:
            record = await self.runner.run(job)
        except BatchStopped as exc:
            await asyncio.to_thread(self._move_failed, path, f"{safe_name(path.name)}: {exc}")
            return
        finally:
            self._reserved -= {job.output_path, job.report_path}
            self._release(job)
        now = regular_file_state(path)
        if now is None or now.ino != taken.ino:
            # Replaced (or removed) while it ran: the new file is a new batch; keep it.
            log.info("%s changed while its batch ran; the new file stays in the inbox", path)
            return
        if now != taken or await asyncio.to_thread(self._sha_differs, path, job.sha256):
            # Written to after it was taken (an append after a pause longer than stable_s):
            # these results cover only what was read; keep the file and run it again whole.
            log.warning(
                "%s changed while its batch %s ran (%d -> %d bytes); it stays in the inbox "
                "and runs again once it settles",
                safe_name(path.name),
                record.batch_id,
                taken.size,
                now.size,
            )
            self.watcher.retake(path.name)
            return
        if record.state == "completed":
            await asyncio.to_thread(self._move, path, self.inbox / "done")
        elif record.state == "cancelled":
            await asyncio.to_thread(
                self._move_failed, path, f"{path.name}: {record.reason}; drop it again to rerun"
            )

    def _sha_differs(self, path: Path, sha: str) -> bool:
        try:
            data, _ = read_regular(path, self.config.max_file_bytes)
        except InboxError:
            return True
        return hashlib.sha256(data).hexdigest() != sha

    async def _fail_file(self, path: Path, reason: str, sha: str) -> None:
        log.warning("inbox file refused: %s", reason)
        await asyncio.to_thread(self._move_failed, path, reason)
        await self._append(BatchFailed(file_name=safe_name(path.name), reason=reason, sha256=sha))

    def _move(self, path: Path, folder: Path) -> Path | None:
        try:
            target = _unique(folder, safe_name(path.name))
            os.rename(path, target)
            return target
        except OSError as exc:
            log.error("cannot move %s to %s: %s", path, folder, exc)
            return None

    def _move_failed(self, path: Path, reason: str) -> None:
        target = self._move(path, self.inbox / "failed") if os.path.lexists(path) else None
        name = target.name if target is not None else safe_name(path.name)
        text = (
            f"{reason}\n\nThe file was moved here from the inbox. Fix it and drop it into "
            f"{self.inbox} again.\n"
        )
        try:
            write_atomic(self.inbox / "failed" / error_name(name), text.encode("utf-8"))
        except OSError as exc:
            log.error("cannot write the error file for %s: %s", name, exc)

    # --- the daemon's pieces ---------------------------------------------------------------

    async def _append(self, event: Event) -> None:
        await self.bridge.append(event)

    async def _optimize(self, call: OptimizeCall) -> api.OptimizeResult:
        return await self.bridge.optimize(call)

    def _progress(self, prog: BatchProgress) -> None:
        # "batch.progress", not "progress": a subscriber has no request token to match.
        self.daemon.publish("batch", "batch.progress", self._notice(prog))

    @staticmethod
    def _notice(prog: BatchProgress) -> api.Progress:
        info = prog.info()
        message = f"{prog.file_name}: {prog.done}/{prog.total}"
        if prog.state != "running":
            message += f" ({prog.state}{': ' + info.reason if info.reason else ''})"
        return api.Progress(
            token=prog.batch_id,
            kind="batch",
            message=message,
            done=prog.done,
            total=prog.total,
            batch_id=prog.batch_id,
            cost_usd=info.cost_usd,
        )

    # --- control API ---------------------------------------------------------------------

    async def _rpc_submit(self, params: api.BatchSubmitParams, call: Call) -> api.BatchInfo:
        path = Path(params.path).expanduser()
        if not path.is_absolute():
            raise InboxError(f"{params.path}: give an absolute path (promptd batch does this)")
        if format_of(path.name) is None or is_temporary(path.name):
            raise InboxError(
                f"{path.name}: not a batch file; use .txt, .md, .prompt, .json, .jsonl or .csv"
            )
        if params.prompt_type not in ("auto", *PROMPT_TYPES):
            raise InboxError(
                f"unknown type {params.prompt_type!r}; use auto, " + ", ".join(PROMPT_TYPES)
            )
        if params.engine not in (None, "offline", "llm"):
            raise InboxError(f"unknown engine {params.engine!r}; use offline or llm")
        data, _ = await asyncio.to_thread(
            read_regular, path, self.config.max_file_bytes, follow=True
        )
        file = open_file(path.name, data, self.config.max_file_bytes)
        output = Path(params.output).expanduser() if params.output else None
        output = output or path.with_name(output_name(path.name))
        if output.resolve() == path.resolve():
            raise InboxError(
                f"{output}: the output would overwrite the input; give another --output"
            )
        if not output.parent.is_dir():
            raise InboxError(f"{output.parent}: no such folder for the output; create it first")
        job = Job(
            file_name=str(path),
            sha256=hashlib.sha256(data).hexdigest(),
            file=file,
            output_path=output,
            report_path=output.with_name(report_name(path.name)),
            source="cli",
            prompt_type=params.prompt_type,
            engine=params.engine or self.daemon.config.engine_name(),
        )
        await asyncio.to_thread(self.bridge.load_sha, self.book, job.sha256)
        started: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def listen(prog: BatchProgress) -> None:
            if not started.done():
                started.set_result(prog.batch_id)
            call.progress(self._notice(prog))

        task = self.daemon.spawn(self.runner.run(job, listen), f"batch:{path.name}")
        # The answer comes when the batch ends; progress goes out meanwhile. The batch is
        # the daemon's, not this request's: a client that leaves (Ctrl-C) does not stop it.
        await asyncio.wait({started, task}, return_when=asyncio.FIRST_COMPLETED)
        if not started.done():
            task.result()  # raises what stopped it before it began
            raise InboxError(f"{path.name}: the batch did not start; see run/daemon.log")
        try:
            await asyncio.shield(task)
            return self.info(started.result())
        finally:
            if task.done():
                self._release(job)

    async def _rpc_status(self, params: api.BatchIdParams, call: Call) -> api.BatchInfo:
        return self.info(params.id)

    async def _rpc_cancel(self, params: api.BatchIdParams, call: Call) -> api.BatchInfo:
        record = self.book.get(params.id)
        batch_id = record.batch_id if record else params.id
        if not self.runner.cancel(batch_id, "cancelled with promptd batch --cancel"):
            info = self.info(batch_id)
            raise InboxError(f"batch {info.id} is not running (it is {info.state})")
        return self.info(batch_id)
