"""Taking backups: a verified hot copy, made atomically, that failures never half-write."""

from __future__ import annotations

import errno
import gzip
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from promptd.daemon import __version__
from promptd.daemon.backup import catalog, snapshot
from promptd.daemon.backup.verify import unpacked, verify
from promptd.daemon.errors import BackupError
from promptd.daemon.events import SCHEMA_VERSION, OptimizationRequested
from promptd.daemon.paths import Paths
from promptd.daemon.projections import open_log
from promptd.daemon.store import EventLog

from .conftest import tmpfs
from .samples import optimization

NOON = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def test_a_backup_is_a_compressed_copy_with_a_manifest(paths: Paths, store: EventLog) -> None:
    manifest = snapshot.take(store, paths.backups, now=NOON)
    folder = paths.backups / "20261127T120000Z"
    assert manifest.id == folder.name
    assert sorted(p.name for p in folder.iterdir()) == ["events.mdb.gz", "manifest.json"]
    on_disk = json.loads((folder / "manifest.json").read_text())
    assert on_disk["created_at"] == "2026-11-27T12:00:00Z"
    assert on_disk["promptd_version"] == __version__
    assert on_disk["schema_version"] == SCHEMA_VERSION
    assert (on_disk["last_seq"], on_disk["event_count"]) == (22, 22)
    assert on_disk["store_id"] == store.store_id()
    assert on_disk["size_bytes"] == (folder / "events.mdb.gz").stat().st_size
    assert on_disk["raw_bytes"] > on_disk["size_bytes"]
    assert len(on_disk["sha256"]) == 64
    assert gzip.decompress((folder / "events.mdb.gz").read_bytes())[:0] == b""
    assert not [p for p in paths.backups.iterdir() if p.name.startswith(".")]

    second = snapshot.take(store, paths.backups, now=NOON)
    assert second.id == "20261127T120000Z-2"
    entries, problems = catalog.list_backups(paths.backups)
    assert [e.id for e in entries] == ["20261127T120000Z", "20261127T120000Z-2"]
    assert problems == []


def test_a_backup_taken_while_10000_events_are_appended_holds_a_gapless_prefix(
    paths: Paths, tmp_path: Path
) -> None:
    log = open_log(paths.events)
    target, half_way = 10_000, 2_000
    started, backup_done = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def append() -> None:
        try:
            n = 0
            while n < target:
                batch = [
                    OptimizationRequested(opt_id=f"o{n + i}", prompt="p" * 150, prompt_hash="h")
                    for i in range(50)
                ]
                log.append(batch)
                n += len(batch)
                if n >= half_way:
                    started.set()
                if n >= target - 1_000:
                    backup_done.wait(30)  # the backup overlaps appends, whatever its speed
        except BaseException as exc:  # surfaced below
            failure.append(exc)
            started.set()

    writer = threading.Thread(target=append)
    writer.start()
    assert started.wait(30)
    try:
        manifest = snapshot.take(log, paths.backups, now=NOON)
    finally:
        backup_done.set()
        writer.join(60)
    assert not failure
    assert log.last_seq() == target
    assert half_way <= manifest.last_seq <= target - 1_000
    assert manifest.event_count == manifest.last_seq

    entry = catalog.find(paths.backups, manifest.id)
    result = verify(entry, work_root=tmp_path)
    assert result.ok, result.reason
    assert result.events == manifest.last_seq
    with unpacked(entry, tmp_path) as folder, open_log(folder, readonly=True) as copy:
        copied = list(copy.read_envelopes())
    live = list(log.read_envelopes(1, manifest.last_seq + 1))
    assert [e.seq for e in copied] == list(range(1, manifest.last_seq + 1))
    assert copied == live
    log.close()


def _fail_write(exc: OSError):  # type: ignore[no-untyped-def]
    def write(self: object, data: bytes) -> int:
        raise exc

    return write


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "no space left on the device"),
        (OSError(errno.EACCES, "Permission denied"), "permission denied writing to"),
        (OSError(errno.EROFS, "Read-only file system"), "is on a read-only file system"),
    ],
)
def test_a_failed_write_leaves_the_store_and_older_backups_untouched(
    paths: Paths, store: EventLog, monkeypatch: pytest.MonkeyPatch, error: OSError, says: str
) -> None:
    older = snapshot.take(store, paths.backups, now=NOON)
    before = sorted(p.name for p in paths.backups.rglob("*"))
    store.append(optimization(99))
    monkeypatch.setattr(snapshot.HashingWriter, "write", _fail_write(error))
    with pytest.raises(BackupError) as err:
        snapshot.take(store, paths.backups, now=datetime(2026, 11, 28, tzinfo=UTC))
    assert says in str(err.value)
    assert "the store and older backups are untouched" in str(err.value)
    monkeypatch.undo()
    assert sorted(p.name for p in paths.backups.rglob("*")) == before
    assert verify(catalog.find(paths.backups, older.id), work_root=paths.backups).ok
    assert store.last_seq() == 26 and store.verify().ok


def test_a_full_disk_fails_cleanly(paths: Paths, store: EventLog) -> None:
    store.append([ev for n in range(200) for ev in optimization(n)])
    with tmpfs(paths.backups, "size=64k"):
        with pytest.raises(BackupError, match="no space left on the device"):
            snapshot.take(store, paths.backups, now=NOON)
        assert list(paths.backups.iterdir()) == []
    assert store.verify().ok


def test_a_read_only_backups_folder_fails_cleanly(paths: Paths, store: EventLog) -> None:
    with tmpfs(paths.backups, "ro,size=1m"):
        with pytest.raises(BackupError) as err:
            snapshot.take(store, paths.backups, now=NOON)
        assert "read-only file system" in str(err.value)
        assert "remount it read-write or move the backups folder" in str(err.value)
    assert store.verify().ok


def test_a_backups_folder_this_user_cannot_write_fails_cleanly(
    paths: Paths, store: EventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths.backups.mkdir()

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(BackupError, match=r"permission denied writing to .*backups"):
        snapshot.take(store, paths.backups, now=NOON)
    monkeypatch.undo()
    assert list(paths.backups.iterdir()) == []


def test_leftovers_of_a_crashed_backup_are_cleaned_and_never_listed(
    paths: Paths, store: EventLog
) -> None:
    crashed = paths.backups / ".tmp-20261126T030000Z-999999999"
    crashed.mkdir(parents=True)
    (crashed / "events.mdb.gz").write_bytes(b"half")
    assert catalog.list_backups(paths.backups) == ([], [])
    snapshot.take(store, paths.backups, now=NOON)
    assert not crashed.exists()
