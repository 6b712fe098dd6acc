"""``promptd backup now|list|verify|restore``, ``promptd export`` and ``promptd import``.

``backup now`` goes through the daemon (starting it when needed), which owns the store.
``list`` and ``verify`` read the backups folder directly. ``restore`` stops a running daemon,
swaps the backup in and starts the daemon again. ``export`` reads the event log directly
(LMDB readers never disturb the daemon). ``import`` goes through the daemon when it runs and
writes the log itself when it does not.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from .. import api
from ..errors import BackupError, StoreError
from ..paths import Paths, ensure_private_dir
from .common import home_paths, print_json

EXPORT_FORMATS = ("json", "jsonl", "csv", "zip")

# The commands say what happened themselves; the backup modules' log lines are for the daemon.
logging.getLogger("promptd.backup").addHandler(logging.NullHandler())


_IDENTITY_HELP = (
    "An age identity file that opens an encrypted backup or export ([backup] encrypt_to). "
    "Env: PROMPTD_AGE_IDENTITY. Read only for this command; never stored."
)


def _identity_option(command: Any) -> Any:
    return click.option(
        "--identity",
        "identity",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=_IDENTITY_HELP,
    )(command)


def _identity(given: Path | None) -> Path | None:
    from ..backup.crypto import identity_file

    return identity_file(given)


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _local(iso: str) -> str:
    try:
        at = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return at.astimezone().strftime("%Y-%m-%d %H:%M")


def _daemon_pid(paths: Paths) -> int | None:
    from ..process import running_pid

    return running_pid(paths)


def _recover(paths: Paths) -> None:
    """Finish a restore that was cut off (only when no daemon owns the store)."""
    from ..backup.restore import recover

    if _daemon_pid(paths) is None and (done := recover(paths)):
        click.echo(f"promptd: {done}", err=True)


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.group()
def backup() -> None:
    """Make, list, verify or restore backups of the event log.

    Backups are compacted hot copies of the store, compressed, in the home's backups/
    folder, each with a manifest.json (time, version, events, size, SHA-256). The daemon
    makes one daily (config [backup] time, default 03:00) and catches up after sleep.

    \b
    Examples:
      promptd backup now
      promptd backup list
      promptd backup verify 20261127T030000Z
      promptd backup restore latest
    """


@backup.command()
@click.option("--json", "as_json", is_flag=True, help="Print the new backup as JSON.")
@click.pass_context
def now(ctx: click.Context, as_json: bool) -> None:
    """Make a backup now (through the daemon, which keeps running), then verify it.

    \b
    Example:
      promptd backup now
    """
    from ..client import Client

    paths = home_paths(ctx)
    _recover(paths)

    def progress(note: api.Progress) -> None:
        if not as_json and sys.stderr.isatty():
            done = f" {_size(note.done)}/{_size(note.total)}" if note.total else ""
            click.echo(f"\r\x1b[K{note.message}{done}", err=True, nl=False)

    with Client.connect(paths, autostart=True, timeout=30.0) as client:
        info = client.call(
            "backup.now",
            api.BackupNowParams(),
            result_type=api.BackupInfo,
            on_progress=progress,
            timeout=None,
        )
    if not as_json and sys.stderr.isatty():
        click.echo("\r\x1b[K", err=True, nl=False)
    if as_json:
        print_json(info)
        return
    click.echo(
        f"Backup {info.id}: {info.events:,} events, {_size(info.size_bytes)}, "
        f"{'verified' if info.verified else 'NOT verified'}"
    )
    click.echo(info.path)


@backup.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print the backups as JSON.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List the backups, newest first: time, size, events, verified.

    \b
    Example:
      promptd backup list --json
    """
    from ..backup import catalog

    paths = home_paths(ctx)
    entries, problems = catalog.list_backups(paths.backups)
    result = api.BackupListResult(backups=[catalog.backup_info(e) for e in reversed(entries)])
    for problem in problems:
        _say(f"promptd: skipped {problem}")
    if as_json:
        print_json(result)
        return
    if not entries:
        click.echo(f"No backups in {paths.backups} yet; make one with: promptd backup now")
        return
    from rich.table import Table

    from .ui import out

    table = Table(box=None, header_style="bold")
    for column in ("id", "taken", "size", "events", "verified"):
        table.add_column(column, justify="right" if column in ("size", "events") else "left",
                         no_wrap=column != "verified")  # fmt: skip
    for entry in reversed(entries):
        m = entry.manifest
        if entry.mark is None:
            verified = "not yet"
        elif entry.mark.ok:
            verified = "[green]yes[/]"
        else:
            verified = f"[red]FAILED[/]: {entry.mark.reason}"
        table.add_row(
            m.id, _local(m.created_at), _size(m.size_bytes), f"{m.event_count:,}", verified
        )
    out.print(table)


@backup.command(name="verify")
@click.argument("backup_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@_identity_option
@click.pass_context
def verify_(ctx: click.Context, backup_id: str, as_json: bool, identity: Path | None) -> None:
    """Check backup ID: checksum, it opens, the log decodes gaplessly, projections rebuild.

    ID is a backup id, a unique prefix of one, or "latest". Exit status 1 when it fails.

    \b
    Example:
      promptd backup verify latest
    """
    from ..backup import catalog
    from ..backup.verify import verify

    paths = home_paths(ctx)
    entry = catalog.find(paths.backups, backup_id)
    result = verify(entry, work_root=paths.backups, identity=_identity(identity))
    if as_json:
        print_json(result)
    else:
        for check in result.checks:
            click.echo(f"  ok  {check}")
        if result.ok:
            click.echo(f"Backup {result.id} is good: {result.events:,} events.")
    if not result.ok:
        raise BackupError(f"backup {result.id} failed verification: {result.reason}")


@backup.command(name="restore")
@click.argument("backup_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@_identity_option
@click.pass_context
def restore_(ctx: click.Context, backup_id: str, as_json: bool, identity: Path | None) -> None:
    """Replace the store with backup ID (verified first; the current store is kept aside).

    Stops the daemon if it runs and starts it again afterwards. The store you had is moved
    to events.before-restore-TIME/ beside events/, and kept until the next successful
    backup. Interrupted at any point, the store is the old one or the new one.

    \b
    Example:
      promptd backup restore 20261127T030000Z
    """
    from ..backup.restore import ProcessDaemonControl, restore

    paths = home_paths(ctx)
    result = restore(
        paths,
        backup_id,
        daemon=ProcessDaemonControl(paths),
        progress=None if as_json else _say,
        identity=_identity(identity),
    )
    if as_json:
        print_json(result)
        return
    click.echo(
        f"Restored backup {result.backup_id}: {result.events:,} events "
        f"(the store had {result.previous_last_seq:,})."
    )
    if result.safety_copy:
        click.echo(f"The previous store is kept in {result.safety_copy} until the next backup.")
    if result.daemon_restarted:
        click.echo("The daemon is running again.")


def _format_for(output: Path, fmt: str | None) -> str:
    if fmt is not None:
        return fmt
    name = output.name.lower().removesuffix(".age")
    suffix = Path(name).suffix.lstrip(".")
    if suffix in EXPORT_FORMATS:
        return suffix
    raise click.UsageError(
        f"cannot tell the format from {output.name!r}; add --format json|jsonl|csv|zip"
    )


def _read_log(paths: Paths) -> Any:
    from ..projections import open_log

    if not (paths.events / "data.mdb").exists():
        raise StoreError(
            f"no event log at {paths.events} yet; there is nothing to export "
            "(it is created when the daemon first runs)"
        )
    return open_log(paths.events, readonly=True)


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default=None,
    help="json, jsonl (every event), csv (one row per optimization) or zip (all of them). "
    "Default: from the --output suffix.",
)
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(path_type=Path),
    help="The file to write (replaced when complete).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a summary as JSON.")
@click.pass_context
def export(ctx: click.Context, fmt: str | None, output: Path, as_json: bool) -> None:
    """Export the history as json, jsonl, csv or zip.

    Each optimization with its original, optimized, scores, findings and costs.
    jsonl holds every event (what `promptd import` reads); csv is for spreadsheets; json
    holds both; zip holds events.jsonl, optimizations.csv and a README. No API key is ever
    written.

    \b
    Examples:
      promptd export --format csv --output history.csv
      promptd export --output promptd-2026-11-27.zip
    """
    from ..backup.crypto import recipient_strings
    from ..backup.export import export as write_export
    from ..config import load

    paths = home_paths(ctx)
    chosen = _format_for(output, fmt)
    config = load(paths.config_file)
    with _read_log(paths) as log:
        summary = write_export(
            log.read(),
            store_id=log.store_id(),
            fmt=chosen,
            output=output,
            key_variables=[config.api_key_env()],
            encrypt_to=recipient_strings(config),
        )
    if as_json:
        print_json(summary)
        return
    click.echo(
        f"Exported {summary.optimizations:,} optimizations ({summary.events:,} events) "
        f"as {chosen} to {summary.path} ({_size(summary.bytes)})"
        + (", encrypted with age." if summary.encrypted else ".")
    )


@click.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a summary as JSON.")
@_identity_option
@click.pass_context
def import_(ctx: click.Context, file: Path, as_json: bool, identity: Path | None) -> None:
    """Merge the events of an export (jsonl, json or zip) into this home's log.

    Events keep their time; an event that is already here is skipped, so importing the
    same file twice adds nothing. A file with a bad line is refused whole, naming the line.
    An encrypted export ([backup] encrypt_to) needs --identity FILE.

    \b
    Example:
      promptd import ~/old-laptop/promptd-2026-11-27.zip
    """
    paths = home_paths(ctx)
    path = file.expanduser().absolute()
    with _opened(paths, path, identity) as readable:
        summary = _import(paths, readable)
    if as_json:
        print_json(summary)
        return
    line = f"Imported {summary.imported:,} of {summary.events:,} events from {path.name}"
    skipped = summary.skipped - summary.local_only
    notes = []
    if skipped:
        notes.append(f"{skipped:,} already here")
    if summary.local_only:
        notes.append(f"{summary.local_only:,} about the other home's backups/budget/breaker")
    click.echo(line + (f" (skipped: {'; '.join(notes)})." if notes else "."))


@contextlib.contextmanager
def _opened(paths: Paths, path: Path, identity: Path | None) -> Iterator[Path]:
    """``path``, or for an age-encrypted export a private decrypted copy in run/ (removed
    after): the daemon is handed a path, never the identity."""
    from ..backup import crypto

    if not crypto.is_encrypted(path):
        yield path
        return
    identities = crypto.load_identities(_identity(identity), path.name)
    ensure_private_dir(paths.run)
    plain = paths.run / f".import-{os.getpid()}-{path.name.removesuffix('.age')}"
    try:
        crypto.decrypt_file(path, plain, identities, path.name)
        yield plain
    finally:
        plain.unlink(missing_ok=True)


def _import(paths: Paths, path: Path) -> Any:
    from ..backup.backup_service import ImportParams
    from ..backup.merge import merge_into

    if _daemon_pid(paths) is not None:
        from ..backup.merge import ImportSummary
        from ..client import Client

        with Client.connect(paths) as client:
            return client.call(
                "events.import",
                ImportParams(path=str(path)),
                result_type=ImportSummary,
                timeout=None,
            )
    from ..projections import open_log

    _recover(paths)
    with open_log(paths.events) as log:
        return merge_into(log, path)
