"""Restoring: verified first, all or nothing, the old store kept aside, the daemon cycled."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from promptd.daemon.backup import restore as restore_mod
from promptd.daemon.backup import snapshot
from promptd.daemon.backup.restore import recover, restore, safety_copies
from promptd.daemon.errors import BackupError
from promptd.daemon.events import BackupRestored, Envelope
from promptd.daemon.paths import Paths
from promptd.daemon.projections import open_log

from .samples import optimization
from .test_verify import flip_byte

NOON = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


class FakeDaemon:
    """Stands in for the daemon's process: records what restore asked, and when."""

    def __init__(self, paths: Paths, pid: int | None = None, stops: bool = True) -> None:
        self.paths = paths
        self.pid = pid
        self.stops = stops
        self.calls: list[str] = []
        self.store_at_stop: list[Envelope] = []

    def running_pid(self) -> int | None:
        return self.pid

    def stop(self, pid: int) -> None:
        self.calls.append(f"stop {pid}")
        self.store_at_stop = envelopes(self.paths.events)
        if not self.stops:
            raise BackupError(f"the daemon (pid {pid}) did not stop")
        self.pid = None

    def start(self) -> None:
        self.calls.append("start")
        self.pid = 4242


def envelopes(folder: Path) -> list[Envelope]:
    with open_log(folder, readonly=True) as log:
        return list(log.read_envelopes())


@pytest.fixture
def backed_up(paths: Paths) -> Iterator[tuple[list[Envelope], str]]:
    """A store with 22 events and a backup of them; then 4 more events after the backup."""
    with open_log(paths.events) as log:
        log.append([ev for n in range(5) for ev in optimization(n)][:22])
        manifest = snapshot.take(log, paths.backups, now=NOON)
        saved = list(log.read_envelopes())
        log.append(optimization(99))
    yield saved, manifest.id


def test_restore_round_trip_loses_nothing(
    paths: Paths, backed_up: tuple[list[Envelope], str]
) -> None:
    saved, backup_id = backed_up
    before = envelopes(paths.events)
    result = restore(paths, backup_id, daemon=FakeDaemon(paths), now=NOON)

    after = envelopes(paths.events)
    assert after[:-1] == saved
    with open_log(paths.events) as log:
        last = list(log.read(len(saved) + 1))
        assert log.verify().ok
        with log.view() as view:
            assert len(view.history.recent(100)) == 5
    assert [type(r.event) for r in last] == [BackupRestored]
    event = last[0].event
    assert isinstance(event, BackupRestored)
    assert event.backup_id == backup_id and event.previous_last_seq == len(saved) + 4
    assert event.safety_copy == result.safety_copy
    assert (result.events, result.previous_last_seq) == (len(saved), len(saved) + 4)

    [safety] = safety_copies(paths)
    assert str(safety) == result.safety_copy
    assert envelopes(safety) == before  # the events made after the backup are kept aside
    assert not [p for p in paths.events.parent.iterdir() if p.name.startswith(".")]
    assert sorted(os.listdir(paths.events)) == ["data.mdb", "lock.mdb"]


def test_a_running_daemon_is_stopped_before_the_swap_and_started_after(
    paths: Paths, backed_up: tuple[list[Envelope], str]
) -> None:
    _, backup_id = backed_up
    before = envelopes(paths.events)
    daemon = FakeDaemon(paths, pid=777)
    result = restore(paths, backup_id, daemon=daemon)
    assert daemon.calls == ["stop 777", "start"]
    assert daemon.store_at_stop == before  # nothing was swapped while it ran
    assert result.daemon_restarted


def test_a_daemon_that_does_not_stop_means_no_restore(
    paths: Paths, backed_up: tuple[list[Envelope], str]
) -> None:
    _, backup_id = backed_up
    before = envelopes(paths.events)
    with pytest.raises(BackupError, match="did not stop"):
        restore(paths, backup_id, daemon=FakeDaemon(paths, pid=777, stops=False))
    assert envelopes(paths.events) == before
    assert safety_copies(paths) == []
    assert not [p for p in paths.events.parent.iterdir() if p.name.startswith(".")]


def test_a_corrupt_backup_fails_verification_and_is_never_restored(
    paths: Paths, backed_up: tuple[list[Envelope], str]
) -> None:
    _, backup_id = backed_up
    flip_byte(paths.backups / backup_id / "events.mdb.gz")
    before = envelopes(paths.events)
    daemon = FakeDaemon(paths, pid=777)
    with pytest.raises(BackupError) as err:
        restore(paths, backup_id, daemon=daemon)
    assert f"backup {backup_id} failed verification" in str(err.value)
    assert "it was not restored and the store is unchanged" in str(err.value)
    assert daemon.calls == []  # the daemon was never even stopped
    assert envelopes(paths.events) == before
    assert safety_copies(paths) == []
    assert not [p for p in paths.events.parent.iterdir() if p.name.startswith(".")]


class Crash(BaseException):
    """The process dies here."""


def _whole_store(paths: Paths, old: list[Envelope], new: list[Envelope]) -> str:
    got = envelopes(paths.events)
    with open_log(paths.events, readonly=True) as log:
        assert log.verify().ok
    if got == old:
        return "old"
    assert got[: len(new)] == new
    assert [type(r.event) for r in _records_after(paths, len(new))] == [BackupRestored]
    return "new"


def _records_after(paths: Paths, seq: int) -> list:  # type: ignore[type-arg]
    with open_log(paths.events, readonly=True) as log:
        return list(log.read(seq + 1))


def test_interrupted_before_the_swap_the_old_store_stands(
    paths: Paths, backed_up: tuple[list[Envelope], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    saved, backup_id = backed_up
    old = envelopes(paths.events)

    def die(*args: object) -> None:
        raise Crash

    monkeypatch.setattr(restore_mod, "_swap_in", die)
    with pytest.raises(Crash):
        restore(paths, backup_id, daemon=FakeDaemon(paths))
    monkeypatch.undo()
    assert "undid the unfinished restore" in recover(paths)
    assert _whole_store(paths, old, saved) == "old"
    assert not [p for p in paths.events.parent.iterdir() if p.name.startswith(".")]


def test_interrupted_right_after_the_atomic_exchange_the_restore_finishes(
    paths: Paths, backed_up: tuple[list[Envelope], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    saved, backup_id = backed_up
    old = envelopes(paths.events)
    real_exchange = restore_mod.exchange

    def exchange_then_die(a: Path, b: Path) -> bool:
        assert real_exchange(a, b)
        raise Crash

    monkeypatch.setattr(restore_mod, "exchange", exchange_then_die)
    with pytest.raises(Crash):
        restore(paths, backup_id, daemon=FakeDaemon(paths))
    monkeypatch.undo()
    assert "finished the interrupted restore" in recover(paths)
    assert _whole_store(paths, old, saved) == "new"
    [safety] = safety_copies(paths)
    assert envelopes(safety) == old
    assert recover(paths) == ""


def test_without_exchange_interrupted_between_two_renames_it_rolls_forward(
    paths: Paths, backed_up: tuple[list[Envelope], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    saved, backup_id = backed_up
    old = envelopes(paths.events)
    renames: list[tuple[str, str]] = []
    real_rename = os.rename

    def rename(a: os.PathLike[str] | str, b: os.PathLike[str] | str) -> None:
        renames.append((Path(a).name, Path(b).name))
        if len(renames) == 2:
            raise Crash
        real_rename(a, b)

    monkeypatch.setattr(restore_mod, "exchange", lambda a, b: False)
    monkeypatch.setattr(restore_mod.os, "rename", rename)
    with pytest.raises(Crash):
        restore(paths, backup_id, daemon=FakeDaemon(paths))
    monkeypatch.undo()
    assert not paths.events.exists()  # the crash left no events/ at all...
    assert "finished the interrupted restore" in recover(paths)  # ...recovery rolls forward
    assert _whole_store(paths, old, saved) == "new"
    [safety] = safety_copies(paths)
    assert envelopes(safety) == old


def test_recovery_does_not_record_the_restore_twice(
    paths: Paths, backed_up: tuple[list[Envelope], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    saved, backup_id = backed_up
    real_record = restore_mod._record

    def record_then_die(*args: object) -> None:
        real_record(*args)  # type: ignore[arg-type]
        raise Crash

    monkeypatch.setattr(restore_mod, "_record", record_then_die)
    with pytest.raises(Crash):
        restore(paths, backup_id, daemon=FakeDaemon(paths))
    monkeypatch.undo()
    assert "finished" in recover(paths)
    assert [type(r.event) for r in _records_after(paths, len(saved))] == [BackupRestored]


def test_restoring_into_a_home_without_a_store(paths: Paths, tmp_path: Path) -> None:
    with open_log(paths.events) as log:
        log.append(optimization(1))
        snapshot.take(log, paths.backups, now=NOON)
        saved = list(log.read_envelopes())
    os.rename(paths.events, tmp_path / "gone")
    result = restore(paths, "latest", daemon=FakeDaemon(paths))
    assert result.safety_copy == "" and safety_copies(paths) == []
    assert envelopes(paths.events)[:-1] == saved
