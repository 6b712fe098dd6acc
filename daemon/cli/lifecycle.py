"""``promptd start``, ``promptd stop`` and ``promptd status``.

``status`` imports only what it needs: the blocking client when a daemon answers, the
read-only store when none does, and rich only to draw the dashboard.
"""

from __future__ import annotations

import sys

import click

from .. import api, process
from .. import config as _config
from ..client import Client, DaemonNotRunning, ensure_daemon
from ..errors import DaemonError, PromptdError
from .common import home_paths, print_json


@click.command()
@click.option("--foreground", is_flag=True, help="Run in this terminal (Ctrl-C stops it).")
@click.option(
    "--timeout", default=15.0, show_default=True, help="Seconds to wait for the socket to answer."
)
@click.option("--detached", is_flag=True, hidden=True)  # the background daemon `start` spawns
@click.pass_context
def start(ctx: click.Context, foreground: bool, timeout: float, detached: bool) -> None:
    """Start the daemon (in the background by default).

    In the background, return once the daemon answers on its socket.

    \b
    Examples:
      promptd start                # background; log in run/daemon.log
      promptd start --foreground   # in this terminal (make run, systemd)
    """
    paths = home_paths(ctx)
    config = _config.load(paths.config_file)  # a bad config.toml fails here, not in the log
    pid = process.running_pid(paths)
    if pid is not None:
        click.echo(f"promptd is already running (pid {pid})")
        return
    if process.clean_stale(paths):
        click.echo("promptd: removed a stale pid file/socket left by a daemon that died", err=True)
    if foreground or detached:
        from ..server.main import run

        sys.exit(run(paths, detached=detached))
    pid = ensure_daemon(paths, timeout=timeout)
    click.echo(f"promptd started (pid {pid}, engine {config.engine_name()}); log: {paths.log_file}")


@click.command()
@click.option(
    "--timeout",
    default=None,
    type=float,
    help="Seconds to wait for it to exit (default: daemon.shutdown_grace_s + 5).",
)
@click.pass_context
def stop(ctx: click.Context, timeout: float | None) -> None:
    """Stop the daemon gracefully.

    Work in flight finishes (up to daemon.shutdown_grace_s), then the daemon exits.

    \b
    Example:
      promptd stop
    """
    paths = home_paths(ctx)
    pid = process.running_pid(paths)
    if pid is None:
        stale = process.clean_stale(paths)
        click.echo("promptd is not running" + (" (removed a stale pid file)" if stale else ""))
        return
    if timeout is None:
        try:
            timeout = _config.load(paths.config_file).daemon.shutdown_grace_s + 5.0
        except PromptdError:  # a broken config.toml must not keep a daemon from stopping
            timeout = 15.0
    try:
        with Client.connect(paths, timeout=2.0) as client:
            client.call("shutdown", timeout=5.0)
    except (DaemonError, OSError):
        process.terminate(pid)  # the socket does not answer: ask with a signal
    if not process.wait_exit(paths, pid, timeout):
        raise DaemonError(
            f"promptd (pid {pid}) did not stop within {timeout:g} s; "
            f"see {paths.log_file}, or kill {pid}"
        )
    click.echo(f"promptd stopped (pid {pid})")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show the dashboard: daemon, engine, spend, cache, backups, inbox.

    Spend is shown against the budgets.

    Works without a daemon too (reads the event log directly, and says so).

    \b
    Examples:
      promptd status
      promptd status --json | jq .spend
    """
    paths = home_paths(ctx)
    try:
        with Client.connect(paths, timeout=5.0) as client:
            result = client.call("status", result_type=api.StatusResult, timeout=10.0)
    except DaemonNotRunning:
        from ..server.queries import offline_status

        result = offline_status(paths, _config.load(paths.config_file))
    if as_json:
        print_json(result)
        return
    from .ui import render_status

    render_status(result)
    if result.running and result.provider.settings is not None:
        from .batch import provider_mismatch

        drift = provider_mismatch(_config.load(paths.config_file), result)
        if drift:
            from .ui import err

            err.print(drift, style="yellow", markup=False)
