"""The daemon: a long-running process that serves the control API on a Unix socket.

Modules:

* :mod:`.listener` the 0600 socket, the peer-uid check, line framing with a size cap
* :mod:`.dispatch` requests -> concurrent tasks, subscriptions, graceful drain
* :mod:`.logs` the rotating structured log with secrets filtered out
* :mod:`.app` :class:`Daemon`: services, signals, start and stop
* :mod:`.core_service` :class:`CoreService`: status, optimize, lint, history, show, costs, budget
* :mod:`.main` builds and runs a daemon (``promptd start``)

What the clients share with the daemon lives outside this package, so that a client never
imports it: :mod:`promptd.daemon.wire` (JSON-RPC framing, errors,
:class:`~promptd.daemon.wire.Method` and :class:`~promptd.daemon.wire.Call`) and
:mod:`promptd.daemon.process` (the pid-file lock, stale detection, spawning detached).

Adding a service (backups, inbox...). A service is any object with::

    name: str
    def methods(self) -> Mapping[str, wire.Method]   # control-API methods it answers
    async def start(self) -> None                   # after the core service has started
    async def stop(self) -> None                    # before the core service stops

Write a factory ``Factory(daemon: Daemon) -> Service`` and list it in
:data:`promptd.daemon.server.main.SERVICES`
(``("promptd.daemon.backup.backup_service", "BackupService")`` is
already there). The daemon calls it before start and then
``daemon.register_service(service)``. From the daemon a service gets ``daemon.config``,
``daemon.paths``, ``daemon.core`` (the :class:`CoreService`: ``core.store`` the event log,
``core.optimize(params, call)``), ``daemon.spawn(coro, name)`` for background tasks,
``daemon.publish(topic, method, params)`` to push notifications to subscribers and
``daemon.reload_hooks`` to hear about SIGHUP. A method is
``wire.Method(ParamsStruct, async handler(params, call), work=True)``; ``work=True`` makes
the daemon wait for it (bounded) at shutdown; a handler reports progress with
``call.progress(api.Progress(...))``. Exceptions from
``promptd.daemon.errors`` become JSON-RPC errors
with the right code; anything else is logged and answered as an internal error.

Optional hooks the ``status`` method reads: ``next_backup_at() -> str | None`` (ISO 8601) and
``status() -> api.InboxStatus``. Pushed state: clients call ``subscribe`` with topics
(``status`` for the editors' status bar, ``batch`` for batch progress); the core service
publishes ``status`` notifications (:class:`promptd.daemon.api.StatusNotice`) when spend moves, a
budget alert fires or the provider's breaker changes.

Exports are loaded lazily so ``promptd status`` does not import asyncio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .app import Daemon, Service

__all__ = ["Daemon", "Service"]


__getattr__, __dir__ = lazy_exports(__name__, {"Daemon": "app", "Service": "app"})
