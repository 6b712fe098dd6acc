"""A real daemon in this process (or in a child process) for the inbox's end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from promptd.daemon import config as _config
from promptd.daemon.events import Event, Record
from promptd.daemon.inbox.inbox_service import InboxService
from promptd.daemon.paths import Paths, ensure_private_dir, resolve
from promptd.daemon.projections import open_log
from promptd.daemon.server.app import Daemon
from promptd.daemon.server.main import build
from tests.waiting import until, wait_until

FAST_INBOX = "[inbox]\nstable_s = 0.2\n"


def inbox_service(daemon: Daemon) -> InboxService:
    return next(s for s in daemon.services if isinstance(s, InboxService))


def events(daemon: Daemon, kind: type | tuple[type, ...] = object) -> list[Any]:
    store = daemon.core.store
    assert store is not None
    return [r.event for r in store.read() if isinstance(r.event, kind)]


@asynccontextmanager
async def running_daemon(home: Path, config_text: str = FAST_INBOX) -> AsyncIterator[Daemon]:
    """Start a daemon for ``home`` in this event loop; stop it on exit."""
    paths = resolve(home)
    paths.config_file.write_text(config_text)
    config = _config.load(paths.config_file)
    for folder in (paths.run, paths.events.parent, paths.outbox):
        ensure_private_dir(folder)
    daemon = build(paths, config)
    task = asyncio.create_task(daemon.run())
    try:
        await until(
            lambda: (
                (paths.socket.exists() and inbox_service(daemon).watcher.arms >= 1) or task.done()
            ),
            what="the daemon to listen",
        )
        if task.done():
            task.result()
        yield daemon
    finally:
        daemon.request_stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)


@contextlib.contextmanager
def child_daemon(home: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """``promptd --home HOME start --foreground`` in a child process (killed on exit)."""
    full = {**os.environ, **env, "PROMPTD_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptd.daemon", "--home", str(home), "start", "--foreground"],
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        if proc.stderr is not None:
            proc.stderr.close()


def wait_in_child(
    cond: Callable[[], object],
    proc: subprocess.Popen[bytes],
    paths: Paths,
    timeout: float,
    what: str,
) -> None:
    """Poll ``cond`` while the child daemon runs; on failure show the daemon's log tail."""

    def explain() -> str:
        try:
            tail = paths.log_file.read_text(errors="replace").splitlines()[-15:]
        except OSError:
            tail = ["(no daemon log)"]
        state = "running" if proc.poll() is None else f"exited {proc.returncode}"
        return f"daemon {state}; log:\n" + "\n".join(tail)

    wait_until(
        lambda: bool(cond()) or proc.poll() is not None,
        timeout,
        what,
        interval=0.05,
        explain=explain,
    )
    if not cond():
        raise AssertionError(f"gave up waiting for {what}: {explain()}")


def read_log(paths: Paths) -> list[Record]:
    """Every record of a home's event log, read from outside the daemon."""
    if not (paths.events / "data.mdb").exists():
        return []
    log = open_log(paths.events, readonly=True, allow_stale=True)
    try:
        return list(log.read())
    finally:
        log.close()


def of(records: list[Record], kind: type) -> list[Event]:
    return [r.event for r in records if isinstance(r.event, kind)]  # type: ignore[misc]
