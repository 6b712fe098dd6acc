"""Run a daemon: what ``promptd start --foreground`` and the detached daemon that
``promptd start`` spawns (``promptd start --detached``) call.

:func:`serve` builds the :class:`~promptd.daemon.server.app.Daemon`, registers the core service and
every optional service whose module is installed (:data:`SERVICES`), and runs it.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Callable

from .. import config as _config
from .. import process
from ..errors import PromptdError
from ..footprint import tune_malloc
from ..paths import Paths, ensure_private_dir, private_umask, tighten
from . import logs
from .app import Daemon, Service

# Optional services: (module, factory). A factory takes the Daemon and returns a Service;
# a module that is not there yet is skipped (its methods answer "not available").
SERVICES: tuple[tuple[str, str], ...] = (
    ("promptd.daemon.backup.backup_service", "BackupService"),
    ("promptd.daemon.inbox.inbox_service", "InboxService"),
    ("promptd.daemon.dashboard.dashboard_service", "DashboardService"),
    ("promptd.daemon.library.keeper", "LibraryService"),
    ("promptd.daemon.tools.service", "ToolsService"),
    ("promptd.daemon.evals.service", "EvalService"),
)


def build(paths: Paths, config: _config.Config, *, foreground: bool = False) -> Daemon:
    """A daemon with the core service and the optional services registered."""
    from .core_service import CoreService

    daemon = Daemon(paths, config, foreground=foreground)
    core = CoreService(daemon)
    daemon.register_service(core)
    for module_name, factory_name in SERVICES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        factory: Callable[[Daemon], Service] = getattr(module, factory_name)
        daemon.register_service(factory(daemon))
    return daemon


def serve(paths: Paths, *, foreground: bool = False, detached: bool = False) -> int:
    """Run a daemon for ``paths`` until it is stopped; the process's exit code.

    A second daemon for the same home says so and returns 0.
    """
    config = _config.load(paths.config_file)
    tune_malloc()  # before the daemon's threads start: see footprint.py
    for folder in (paths.run, paths.events.parent, paths.inbox, paths.outbox, paths.backups):
        ensure_private_dir(folder)
    tighten(paths)  # what an older version or a loose umask left group/world-readable
    while True:
        daemon = build(paths, config, foreground=foreground)
        try:
            code = asyncio.run(daemon.run(detached=detached))
        except process.AlreadyRunning as exc:
            print(f"promptd: {exc}", file=sys.stderr)
            return 0
        if not (foreground and daemon.stop_reason == "restore"):
            return code
        # A restore asked us to step aside: wait here, in the user's terminal, and serve the
        # restored store when it is done (Ctrl-C keeps working: we never detach).
        print("promptd: stepping aside for a backup restore; back when it is done", flush=True)
        process.wait_restore_done(paths)
        config = _config.load(paths.config_file)


def run(paths: Paths, *, detached: bool = False) -> int:
    """``promptd start --foreground`` (or the detached daemon ``promptd start`` spawns): serve
    until stopped and return the exit code; errors go to stderr and the log in one line."""
    private_umask()  # LMDB, the log, backups: born 0600/0700 whatever the umask
    try:
        return serve(paths, foreground=not detached, detached=detached)
    except PromptdError as exc:
        logs.get().error("%s", exc)
        print(f"promptd: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: say what it was in one line, the traceback in the log
        logs.get().exception("the daemon failed: %s: %s", type(exc).__name__, exc)
        print(f"promptd: the daemon failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
