"""A real daemon in this event loop, with its dashboard, for the dashboard's tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from promptd.daemon import config as _config
from promptd.daemon.dashboard.dashboard_service import DashboardService
from promptd.daemon.paths import ensure_private_dir, resolve
from promptd.daemon.server import logs
from promptd.daemon.server.app import Daemon
from promptd.daemon.server.main import build
from tests.waiting import until


def dashboard_of(daemon: Daemon) -> DashboardService:
    return next(s for s in daemon.services if isinstance(s, DashboardService))


@asynccontextmanager
async def running_daemon(home: Path, config_text: str = "") -> AsyncIterator[Daemon]:
    """Start a daemon for ``home`` in this event loop; stop it on exit."""
    paths = resolve(home)
    paths.config_file.write_text(config_text)
    config = _config.load(paths.config_file)
    for folder in (paths.run, paths.events.parent, paths.inbox, paths.outbox, paths.backups):
        ensure_private_dir(folder)
    daemon = build(paths, config)
    task = asyncio.create_task(daemon.run())
    dash = dashboard_of(daemon)
    try:
        await until(
            lambda: (paths.socket.exists() and (dash.port or dash.problem)) or task.done(),
            what="the daemon to listen",
        )
        if task.done():
            task.result()
        yield daemon
    finally:
        daemon.request_stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)


@pytest.fixture(autouse=True)
def _close_log_handlers() -> Iterator[None]:
    """``logs.setup`` opens files on the process-wide logger: close them after each test."""
    yield
    logger = logs.get()
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
