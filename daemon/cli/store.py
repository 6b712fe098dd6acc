"""``promptd rebuild`` and ``promptd verify``: maintenance of the event log, no daemon needed."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import click

from .. import config as _config
from ..errors import StoreError
from ..paths import Paths
from ..process import running_pid
from ..projections import open_log
from .common import home_paths, print_json

if TYPE_CHECKING:
    from ..store import EventLog


def _require_log(paths: Paths) -> None:
    if not (paths.events / "data.mdb").exists():
        raise StoreError(
            f"no event log at {paths.events} yet; it is created when the daemon first runs "
            "(`promptd start`)"
        )


@click.command()
@click.pass_context
def rebuild(ctx: click.Context) -> None:
    """Rebuild every projection from the event log.

    History, budget, cache, stats, backups and batches. Needs the daemon stopped: it writes
    the store.

    \b
    Example:
      promptd stop && promptd rebuild
    """
    paths = home_paths(ctx)
    pid = running_pid(paths)  # the daemon's pid-file lock, not a bare pid that may be reused
    if pid is not None:
        raise StoreError(
            f"the daemon is running (pid {pid}) and owns the store; stop it with "
            "`promptd stop`, then run `promptd rebuild`"
        )
    _require_log(paths)
    cfg = _config.load(paths.config_file)
    started = time.perf_counter()
    with open_log(paths.events, cfg.cache) as log:
        log.rebuild()
        count = log.count()
        names = log.folds.names()
        library = _rebuild_library(paths, cfg, log) if cfg.library.enabled else None
    took = time.perf_counter() - started
    click.echo(
        f"Rebuilt {len(names)} projections ({', '.join(names)}) from {count} events "
        f"in {took:.2f} s."
    )
    if library is not None:
        click.echo(
            f"Rebuilt the library index: {library.get('optimization', 0)} optimizations, "
            f"{library.get('file', 0)} prompt files."
        )


def _rebuild_library(paths: Paths, cfg: _config.Config, log: EventLog[Any]) -> dict[str, int]:
    from ..library import feed

    folders = feed.folders_of(cfg.library.paths)
    return feed.rebuild(
        paths.library, log.store_id(), log.read(), folders, cfg.library.max_file_bytes
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON document.")
@click.pass_context
def verify(ctx: click.Context, as_json: bool) -> None:
    """Check the event log and every projection.

    The log: gapless sequences, every record decodes. Each projection: equal to a fresh
    rebuild; what differs is printed. Exit status 1 on problems. Read-only: safe while the
    daemon runs.

    \b
    Example:
      promptd verify
    """
    paths = home_paths(ctx)
    _require_log(paths)
    cfg = _config.load(paths.config_file)
    with open_log(paths.events, cfg.cache, readonly=True, allow_stale=True) as log:
        report = log.verify()
    if as_json:
        out = {
            "ok": report.ok,
            "events": report.events,
            "last_seq": report.last_seq,
            "problems": report.problems,
            "differences": [d.describe() for d in report.differences],
            "unknown_types": report.unknown_types,
        }
        print_json(out)
    else:
        for line in report.lines():
            click.echo(line)
    if not report.ok:
        sys.exit(1)
