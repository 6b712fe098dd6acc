"""The daemon process: lock the home, open the services, serve the socket, stop gracefully.

Life of a daemon (:meth:`Daemon.run`):

1. take the pid-file lock (a second daemon for the same home stops here), clean what a dead
   one left, set up the log;
2. start the services in order (the core one opens the event log and records
   ``DaemonStarted``), then listen on ``run/promptd.sock``;
3. serve until SIGTERM / SIGINT / the ``shutdown`` method; SIGHUP reloads ``config.toml``;
4. stop: refuse new requests, let work in flight finish for up to ``daemon.shutdown_grace_s``,
   cancel the rest (the core service records them as interrupted), stop the services in
   reverse order (the core one records ``DaemonStopped`` and closes LMDB), remove the socket
   and the pid file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .. import __version__, api, process, wire
from .. import config as _config
from ..config import Config
from ..errors import ConfigError
from ..paths import Paths, ensure_private_dir
from . import logs
from .dispatch import Dispatcher
from .listener import Connection, Listener

if TYPE_CHECKING:
    from .core_service import CoreService

log = logs.get("daemon")

# Methods other services provide; until one registers them, the answer says why.
UNAVAILABLE = {
    "backup.now": "backups are not available: this daemon has no backup service",
    "backup.list": "backups are not available: this daemon has no backup service",
    "batch.submit": "batches are not available: this daemon has no inbox service",
    "batch.get": "batches are not available: this daemon has no inbox service",
    "batch.cancel": "batches are not available: this daemon has no inbox service",
}


@runtime_checkable
class Service(Protocol):
    """A part of the daemon with a life and control-API methods (see the package docs)."""

    name: str

    def methods(self) -> Mapping[str, wire.Method]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Daemon:
    """One daemon for one home. Services are added with :meth:`register_service`."""

    def __init__(self, paths: Paths, config: Config, *, foreground: bool = False) -> None:
        self.paths = paths
        self.config = config
        self.foreground = foreground
        self.pid = os.getpid()
        self.started_at = time.time()
        self.dispatcher = Dispatcher(UNAVAILABLE)
        self.services: list[Service] = []
        self.stop_reason = "shutdown"
        self.interrupted = 0
        self.reload_hooks: list[Callable[[Config], None]] = []
        self.core: CoreService | None = None  # set by the core service
        self._stop = asyncio.Event()
        self._started = False
        self._lock = process.PidLock(paths.pid_file)
        self._listener = Listener(paths.socket, self.dispatcher, config.daemon.max_message_bytes)
        self._background: set[asyncio.Task[Any]] = set()
        self.dispatcher.add("shutdown", wire.Method(api.Empty, self._rpc_shutdown))
        self.dispatcher.add("subscribe", wire.Method(api.SubscribeParams, self._rpc_subscribe))

    # --- services ------------------------------------------------------------------------

    def register_service(self, service: Service) -> None:
        """Add a service before :meth:`run`: its methods answer once the daemon listens, its
        ``start`` runs after the services registered before it, its ``stop`` before them."""
        if self._started:
            raise RuntimeError("register services before the daemon starts")
        for name, method in service.methods().items():
            self.dispatcher.add(name, method)
            self.dispatcher.unavailable.pop(name, None)
        self.services.append(service)

    def publish(self, topic: str, method: str, params: Any) -> int:
        """Push a notification to the clients subscribed to ``topic``."""
        return self.dispatcher.publish(topic, method, params)

    def spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        """Run a background task for the daemon's life (cancelled at stop, errors logged)."""
        task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(coro, name=name)
        self._background.add(task)
        task.add_done_callback(self._background_done)
        return task

    def _background_done(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "background task failed",
                exc_info=task.exception(),
                extra=logs.fields(task=task.get_name()),
            )

    # --- control methods -------------------------------------------------------------------

    async def _rpc_shutdown(self, params: api.Empty, call: wire.Call) -> dict[str, Any]:
        log.info("shutdown requested over the socket")
        asyncio.get_running_loop().call_soon(self.request_stop, "shutdown")
        return {"stopping": True, "pid": self.pid}

    async def _rpc_subscribe(self, params: api.SubscribeParams, call: wire.Call) -> dict[str, Any]:
        """Push notifications of ``topics`` to this connection until it closes.

        Topic ``status``: method ``status`` with an :class:`~promptd.daemon.api.StatusNotice`
        whenever the spend, the budget or the breaker changes. A notice with a ``message`` is
        meant for the person (level ``info``/``warning``/``error``). A budget alert's notice
        has ``event: "budget.alert"`` and ``alert_id`` (``budget:day:2026-12-03:80``): the
        daemon records one alert per period and threshold, so a client shows a notice once
        per ``alert_id``. A client that was not connected when it came finds the current
        period's alerts, with the same ids, in ``status`` ``spend.alert_items``.
        """
        conn = call.conn
        if isinstance(conn, Connection):
            self.dispatcher.subscribe(conn, set(params.topics))
        return {"topics": sorted(params.topics)}

    # --- life ----------------------------------------------------------------------------

    def request_stop(self, reason: str = "shutdown") -> None:
        if not self._stop.is_set():
            self.stop_reason = reason
            self._stop.set()

    def reload(self) -> None:
        """SIGHUP: read config.toml again; a bad file keeps the running config."""
        try:
            new = _config.load(self.paths.config_file)
        except ConfigError as exc:
            log.error("config not reloaded: %s", exc)
            return
        self.config = new
        for hook in self.reload_hooks:
            try:
                hook(new)
            except Exception:
                log.exception("a reload hook failed")
        log.info("config reloaded", extra=logs.fields(engine=new.engine_name()))

    def _install_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        def on_stop(signame: str) -> None:
            if self._stop.is_set():
                log.warning("second %s: stopping now", signame)
                self.dispatcher.accepting = False
                for task in self.dispatcher.in_flight(work_only=False):
                    task.cancel()
                return
            log.info("%s received: stopping", signame)
            self.request_stop("signal")

        def on_restore() -> None:
            # `promptd backup restore`: stop; in the foreground, come back when it is done
            log.info("SIGUSR1 received: stepping aside for a restore")
            if self.foreground:
                process.restore_marker(self.paths).touch(mode=0o600)
            self.request_stop("restore")

        loop.add_signal_handler(signal.SIGTERM, on_stop, "SIGTERM")
        loop.add_signal_handler(signal.SIGINT, on_stop, "SIGINT")
        loop.add_signal_handler(signal.SIGUSR1, on_restore)
        loop.add_signal_handler(signal.SIGHUP, self.reload)

    async def run(self, *, detached: bool = False) -> int:
        """Serve until stopped. Raises :class:`process.AlreadyRunning` before anything else
        when another daemon owns the home."""
        ensure_private_dir(self.paths.run)
        self._lock.acquire()
        try:
            with contextlib.suppress(FileNotFoundError):
                self.paths.socket.unlink()  # we own the lock: any socket here is stale
            dc = self.config.daemon
            logs.setup(
                self.paths.log_file,
                level=dc.log_level,
                max_bytes=dc.log_max_bytes,
                backups=dc.log_backups,
                key_vars=[self.config.api_key_env()],
                foreground=self.foreground,
                detached=detached,
            )
            # The store's writer thread folds projections in Python: hand the GIL back to
            # the event loop within 1 ms (default 5 ms), so answers do not queue behind it.
            sys.setswitchinterval(0.001)
            loop = asyncio.get_running_loop()
            self._install_signals(loop)
            return await self._serve()
        finally:
            self._lock.release()

    async def _serve(self) -> int:
        self._started = True
        started: list[Service] = []
        try:
            for service in self.services:
                await service.start()
                started.append(service)
            await self._listener.start()
            log.info(
                "started",
                extra=logs.fields(
                    pid=self.pid,
                    version=__version__,
                    engine=self.config.engine_name(),
                    socket=str(self.paths.socket),
                ),
            )
            if self.foreground:
                print(
                    f"promptd {__version__} running (pid {self.pid}, engine "
                    f"{self.config.engine_name()}); socket {self.paths.socket}; Ctrl-C stops it",
                    flush=True,
                )
            await self._stop.wait()
            return 0
        finally:
            await self._shutdown(started)

    async def _shutdown(self, started: list[Service]) -> None:
        grace = self.config.daemon.shutdown_grace_s
        self._listener.stop_accepting()
        self.interrupted = await self.dispatcher.drain(grace)
        if self.interrupted:
            log.warning("cut off work in flight", extra=logs.fields(count=self.interrupted))
        for task in list(self._background):
            task.cancel()
        for task in list(self._background):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for service in reversed(started):
            try:
                await service.stop()
            except Exception:
                log.exception("service failed to stop", extra=logs.fields(service=service.name))
        await self._listener.close()
        log.info(
            "stopped", extra=logs.fields(reason=self.stop_reason, interrupted=self.interrupted)
        )
        if self.foreground:
            print("promptd stopped", flush=True)
