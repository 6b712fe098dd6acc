"""The dashboard service: a web page served by the daemon, on its event loop.

:class:`DashboardService` is what :data:`promptd.daemon.server.main.SERVICES` loads. At start
(unless ``[dashboard] enabled = false``) it makes a fresh random token, listens with
aiohttp on ``127.0.0.1`` only (``[dashboard] port``, or a free port when it is 0), writes
``run/dashboard.json`` (0600: the port, the token, the URL) and follows the event log to
push each new event to the open pages (Server-Sent Events). At stop it closes the pages'
streams, stops listening and removes the file.

Control API: ``dashboard.url`` (-> ``{"url": ...}``; an error saying why when it is off or
could not listen). ``status`` shows the URL through :meth:`DashboardService.dashboard_url`.

A dashboard that cannot listen (the configured port is taken) is logged and reported by
``dashboard.url``; the daemon goes on without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from .. import api
from ..errors import BackupError, DaemonError, PromptdError
from ..events import Record, event_tag
from ..paths import Paths
from ..projections import StoreView
from ..projections.base import utc_day
from ..server import queries
from ..store.writer import AsyncEventLog
from ..wire import Call, Method
from . import data, page
from .assets import Assets
from .security import CSP, Guard, new_token, page_csp
from .web import STATIC, make_app

if TYPE_CHECKING:
    from ..server.app import Daemon

log = logging.getLogger("promptd.dashboard")

RUN_FILE = "dashboard.json"
_QUEUE = 1000  # events a slow page may lag behind before its stream is closed


class UrlResult(msgspec.Struct, kw_only=True):
    url: str


class Hub:
    """The open pages' event queues; a page that falls too far behind is dropped (its
    browser reconnects and reloads what it shows)."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue[bytes | None]] = set()

    def join(self) -> asyncio.Queue[bytes | None]:
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(_QUEUE)
        self.queues.add(queue)
        return queue

    def leave(self, queue: asyncio.Queue[bytes | None]) -> None:
        self.queues.discard(queue)

    def publish(self, item: bytes) -> None:
        for queue in list(self.queues):
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:
                self.queues.discard(queue)
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(None)

    def close(self) -> None:
        for queue in list(self.queues):
            with contextlib.suppress(asyncio.QueueEmpty):
                while queue.full():
                    queue.get_nowait()
            queue.put_nowait(None)
        self.queues.clear()


def live_item(rec: Record) -> bytes:
    """The SSE message for one new record: what it is and which things it touches."""
    ev = rec.event
    note: dict[str, Any] = {"seq": rec.seq, "kind": event_tag(ev), "at": queries.iso(rec.ts_ns)}
    for name in ("opt_id", "batch_id", "backup_id"):
        value = getattr(ev, name, "")
        if isinstance(value, str) and value:
            note[name] = value
    if event_tag(ev) == "batch.item_completed":
        note["index"] = getattr(ev, "index", 0)
    return b"event: record\ndata: " + msgspec.json.encode(note) + b"\n\n"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as 0600, atomically (whatever the umask)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read_run_file(paths: Paths) -> dict[str, Any] | None:
    """What a running daemon's dashboard wrote to ``run/`` (None: no such file)."""
    try:
        value = json.loads((paths.run / RUN_FILE).read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


class DashboardService:
    """Registered with the daemon by :data:`promptd.daemon.server.main.SERVICES`."""

    name = "dashboard"

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.paths = daemon.paths
        self.config = daemon.config.dashboard
        self.guard = Guard(new_token())
        self.hub = Hub()
        self.port = 0
        self.problem = ""  # why there is no dashboard, when there is none
        self.page = (b"", b"")  # the page before and after its overview
        self.page_csp = CSP
        self._drawn: tuple[dict[str, Any], str] | None = None  # the last overview drawn
        self.assets: Assets | None = None
        self._runner: web.AppRunner | None = None

    # --- the service protocol ----------------------------------------------------------

    def methods(self) -> Mapping[str, Method]:
        return {"dashboard.url": Method(api.Empty, self._rpc_url)}

    async def start(self) -> None:
        run_file = self.paths.run / RUN_FILE
        with contextlib.suppress(FileNotFoundError):
            run_file.unlink()  # a dead daemon's
        if not self.config.enabled:
            self.problem = (
                "the dashboard is off ([dashboard] enabled = false in config.toml); "
                "set it to true and restart the daemon"
            )
            return
        self.assets = assets = Assets(STATIC)
        template = (STATIC / "index.html").read_text("utf-8")
        style = assets.style  # in the page: no request to wait for
        for mark, value in (
            ("__CSRF__", self.guard.csrf),
            ("__JS__", assets.url("app.js")),
            ("__STYLE__", style),
        ):
            template = template.replace(mark, value)
        self.page = page.split(template)
        self.page_csp = page_csp(style)
        runner = web.AppRunner(
            make_app(self), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.config.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            self.problem = (
                f"the dashboard could not listen on 127.0.0.1:{self.config.port} "
                f"({exc.strerror or exc}); set [dashboard] port to a free port, or 0 for any"
            )
            log.error("%s", self.problem)
            return
        self._runner = runner
        self.port = self.guard.port = _bound_port(runner)
        write_private(
            run_file,
            json.dumps(
                {
                    "pid": os.getpid(),
                    "port": self.port,
                    "token": self.guard.token,
                    "url": self.url(),
                }
            ),
        )
        store = self.store()
        self.daemon.spawn(self._follow(store, store.last_seq() + 1), "dashboard-live")
        log.info("dashboard on http://127.0.0.1:%d/", self.port)

    async def stop(self) -> None:
        self.hub.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        with contextlib.suppress(FileNotFoundError):
            (self.paths.run / RUN_FILE).unlink()

    # --- facts ---------------------------------------------------------------------------

    def url(self) -> str:
        """The URL that opens the dashboard (with this start's token), or ""."""
        if not self.port:
            return ""
        return f"http://127.0.0.1:{self.port}/?token={self.guard.token}"

    def dashboard_url(self) -> str:
        """For ``status``: the URL, or "" when there is no dashboard."""
        return self.url()

    def store(self) -> AsyncEventLog[StoreView]:
        core = self.daemon.core
        if core is None or core.store is None:
            raise DaemonError("the event log is not open yet; try again in a moment")
        return core.store

    def last_seq(self) -> int:
        return self.store().last_seq()

    def overview(self) -> dict[str, Any]:
        core = self.daemon.core
        provider = (
            core.optimizer.provider_status()
            if core is not None and core.optimizer is not None
            else queries.provider_status(self.daemon.config)
        )
        local_today = queries.periods()[0]
        with self.store().view() as view:
            return data.overview(
                view, self.daemon.config, provider, local_today, utc_day(time.time_ns())
            )

    def overview_html(self) -> str:
        """The Overview section as HTML (:func:`.page.overview_html`), or what keeps it from
        being read. Drawn again only when its numbers changed (a page load after no event
        reuses the charts); called on worker threads."""
        try:
            numbers = self.overview()
        except PromptdError as exc:
            return page.unreadable(str(exc))
        drawn = self._drawn
        if drawn is not None and drawn[0] == numbers:
            return drawn[1]
        body = page.overview_html(numbers)
        self._drawn = (numbers, body)
        return body

    def first_answers(self) -> dict[str, Any]:
        """What the page's sections ask for first (app.js's ``first``: these URLs), read
        now to go inside the page, so that its script draws them at once; a section that
        cannot be read is left out (the page asks for it, and shows why it failed)."""
        out: dict[str, Any] = {}
        try:
            store = self.store()
            with store.view() as view:
                out["/api/history?"] = data.history(view, data.HistoryQuery())
                out["/api/batches"] = data.batches(view, self.paths.inbox)
            out["/api/audit?limit=50"] = data.audit(store.read, store.last_seq(), limit=50)
            out["/api/backups"] = data.backups(self.paths.backups)
        except PromptdError as exc:
            log.debug("the page goes without some of its sections: %s", exc)
        return out

    # --- actions -------------------------------------------------------------------------

    def _backup_service(self) -> Any:
        for service in self.daemon.services:
            if service.name == "backup":
                return service
        raise BackupError("backups are not available: this daemon has no backup service")

    async def backup_now(self) -> api.BackupInfo:
        from ..backup import catalog

        entry = await self._backup_service().run()
        return catalog.backup_info(entry)

    async def verify_backup(self, backup_id: str) -> Any:
        from ..backup import catalog
        from ..backup.verify import verify

        entry = await asyncio.to_thread(catalog.find, self.paths.backups, backup_id)
        return await asyncio.to_thread(verify, entry, work_root=self.paths.backups)

    # --- live ----------------------------------------------------------------------------

    async def _follow(self, store: AsyncEventLog[StoreView], from_seq: int) -> None:
        async for rec in store.subscribe(from_seq):
            if self.hub.queues:
                self.hub.publish(live_item(rec))

    # --- control API ---------------------------------------------------------------------

    async def _rpc_url(self, params: api.Empty, call: Call) -> UrlResult:
        if not self.port:
            raise DaemonError(self.problem or "the dashboard has not started yet")
        return UrlResult(url=self.url())


def _bound_port(runner: web.AppRunner) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    raise DaemonError("the dashboard's server has no address")
