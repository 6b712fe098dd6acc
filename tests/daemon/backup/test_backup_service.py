"""The daemon's backup service: runs, failures, rotation, scheduling and catch-up."""

from __future__ import annotations

import asyncio
import errno
import threading
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from promptd.daemon import api
from promptd.daemon.backup import catalog, snapshot, worker
from promptd.daemon.backup.backup_service import BackupService
from promptd.daemon.backup.scheduler import BackupScheduler, parse_time
from promptd.daemon.backup.verify import unpacked
from promptd.daemon.config import BackupConfig, Config
from promptd.daemon.errors import BackupError, ConfigError
from promptd.daemon.events import BackupCreated, BackupFailed, BackupPruned
from promptd.daemon.paths import Paths
from promptd.daemon.projections import open_log
from promptd.daemon.store import AsyncEventLog
from tests.waiting import until

from .samples import history

TZ = ZoneInfo("Europe/Paris")


class Clock:
    """The injected clock: local, aware, moved by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        self.at += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 27, 10, 0, tzinfo=TZ))


@pytest.fixture
async def live(paths: Paths) -> AsyncIterator[AsyncEventLog]:
    log = AsyncEventLog(open_log(paths.events))
    await log.append(history(3)[:-1])  # without its BackupCreated
    yield log
    await log.close()


def make_service(
    paths: Paths,
    store: AsyncEventLog,
    clock: Clock,
    runner: worker.Runner = worker.in_child,
    **backup: object,
) -> BackupService:
    """The service as the daemon has it (the backup made in a child process); a test that
    injects a fault into a step of the backup passes ``worker.in_thread``, where the fault
    is."""
    config = Config(backup=msgspec.structs.replace(BackupConfig(), **backup))
    return BackupService(paths=paths, config=config, store=store, clock=clock, runner=runner)


def events_of(store: AsyncEventLog, kind: type) -> list:  # type: ignore[type-arg]
    return [r.event for r in store.read() if isinstance(r.event, kind)]


async def test_a_run_makes_a_verified_backup_and_records_it(
    paths: Paths, live: AsyncEventLog, clock: Clock
) -> None:
    service = make_service(paths, live, clock)
    entry = await service.run()
    assert entry.verified and entry.id == "20261127T090000Z"
    [created] = events_of(live, BackupCreated)
    assert (created.backup_id, created.verified, created.event_count) == (entry.id, True, 13)
    assert created.sha256 == entry.manifest.sha256
    listed = await service._rpc_list(api.Empty(), None)  # type: ignore[arg-type]
    assert [b.id for b in listed.backups] == [entry.id]
    assert listed.backups[0].verified
    with live.view() as view:
        assert view.backups.count() == 1


async def test_a_backup_while_the_daemon_appends_10000_events(
    paths: Paths, live: AsyncEventLog, clock: Clock, tmp_path: Path
) -> None:
    from promptd.daemon.events import OptimizationRequested

    service = make_service(paths, live, clock)
    base = live.last_seq()

    async def appender() -> None:
        for b in range(100):
            await live.append(
                [OptimizationRequested(opt_id=f"o{b}-{i}", prompt="p" * 100, prompt_hash="h")
                 for i in range(100)]
            )  # fmt: skip

    writing = asyncio.create_task(appender())
    await until(lambda: live.last_seq() >= base + 1_000)
    entry = await service.run()
    await writing
    assert live.last_seq() == base + 10_000 + 1  # + its BackupCreated
    last = entry.manifest.last_seq
    assert base + 1_000 <= last < live.last_seq()
    with unpacked(entry, tmp_path) as folder, open_log(folder, readonly=True) as copy:
        assert list(copy.read_envelopes()) == list(live.read_envelopes(1, last + 1))


async def test_backup_now_over_the_api_reports_progress(
    paths: Paths, live: AsyncEventLog, clock: Clock
) -> None:
    from promptd.daemon.wire import Call

    class Conn:
        def __init__(self) -> None:
            self.sent: list[bytes] = []

        def send(self, data: bytes) -> None:
            self.sent.append(data)

    conn = Conn()
    service = make_service(paths, live, clock)
    assert set(service.methods()) == {"backup.now", "backup.list", "events.import"}
    call = Call(conn=conn, id=1, method="backup.now", progress_token="tok")
    info = await service._rpc_now(api.BackupNowParams(progress_token="tok"), call)
    await asyncio.sleep(0)  # progress is handed to the loop from the copy thread
    notes = [msgspec.json.decode(line)["params"] for line in conn.sent]
    assert {n["token"] for n in notes} == {"tok"} and {n["kind"] for n in notes} == {"backup"}
    messages = [n["message"] for n in notes]
    assert messages[0] == "copying the store" and messages[-1] == "verifying"
    assert "compressing" in messages
    assert info.verified and info.events == 13 and info.path.endswith(info.id)


async def test_a_failed_run_is_recorded_prunes_nothing_and_keeps_older_backups(
    paths: Paths, live: AsyncEventLog, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(
        paths, live, clock, worker.in_thread, keep_daily=1, keep_weekly=0, keep_monthly=0
    )
    first = await service.run()
    clock.advance(days=1)
    safety = paths.events.parent / "events.before-restore-20261101T000000Z"
    safety.mkdir()

    def full(self: object, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(snapshot.HashingWriter, "write", full)
    with pytest.raises(BackupError, match="no space left on the device"):
        await service.run(scheduled=True)
    [failed] = events_of(live, BackupFailed)
    assert failed.scheduled and "no space left" in failed.reason
    assert events_of(live, BackupPruned) == []
    assert [e.id for e in catalog.list_backups(paths.backups)[0]] == [first.id]
    assert safety.exists()  # the safety copy of a restore waits for a good backup
    with live.view() as view:
        assert "no space left" in view.backups.summary().last_failure

    monkeypatch.undo()
    second = await service.run()  # the next run works, and only then prunes
    assert [e.id for e in catalog.list_backups(paths.backups)[0]] == [second.id]
    [pruned] = events_of(live, BackupPruned)
    assert pruned.backup_id == first.id and "beyond the 1 daily" in pruned.reason
    assert not safety.exists()


async def test_rotation_over_days_prunes_with_an_event_for_each_deletion(
    paths: Paths, live: AsyncEventLog, clock: Clock
) -> None:
    service = make_service(paths, live, clock, keep_daily=3, keep_weekly=0, keep_monthly=0)
    made = []
    for _ in range(6):
        made.append((await service.run(scheduled=True)).id)
        clock.advance(days=1)
    kept = [e.id for e in catalog.list_backups(paths.backups)[0]]
    assert kept == made[-3:]
    assert [p.backup_id for p in events_of(live, BackupPruned)] == made[:3]
    with live.view() as view:
        assert view.backups.count() == 3


async def test_a_new_backup_that_does_not_verify_is_removed_and_recorded(
    paths: Paths, live: AsyncEventLog, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptd.daemon.backup.verify import VerifyResult

    monkeypatch.setattr(
        worker, "verify", lambda e, **kw: VerifyResult(id=e.id, ok=False, reason="bad")
    )
    service = make_service(paths, live, clock, worker.in_thread)
    with pytest.raises(BackupError, match=r"the new backup did not verify \(bad\)"):
        await service.run()
    assert catalog.list_backups(paths.backups) == ([], [])
    assert [f.reason for f in events_of(live, BackupFailed)] == [
        "the new backup did not verify (bad); removed it"
    ]
    assert events_of(live, BackupCreated) == []


async def test_the_daily_job_is_scheduled_as_the_config_says(
    paths: Paths, live: AsyncEventLog, clock: Clock
) -> None:
    snapshot.take(live, paths.backups, now=clock())  # recent: no catch-up at start
    service = make_service(paths, live, clock, time="04:30")
    await service.start()
    try:
        assert service.scheduler.startup_check is not None
        assert await service.scheduler.startup_check is False
        job = service.scheduler._scheduler.get_job("backup-daily")  # type: ignore[union-attr]
        assert (job.coalesce, job.misfire_grace_time, job.max_instances) == (True, None, 1)
        nxt = job.next_run_time
        assert (nxt.hour, nxt.minute, nxt.second) == (4, 30, 0)
        assert service.next_backup_at() == nxt.astimezone(ZoneInfo("UTC")).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    finally:
        await service.stop()
    assert service.next_backup_at() is None
    assert len(catalog.list_backups(paths.backups)[0]) == 1


async def test_start_catches_up_when_the_last_backup_is_too_old(
    paths: Paths, live: AsyncEventLog, clock: Clock
) -> None:
    snapshot.take(live, paths.backups, now=clock() - timedelta(hours=30))
    service = make_service(paths, live, clock, interval_h=24)
    await service.start()
    try:
        assert service.scheduler.startup_check is not None
        assert await service.scheduler.startup_check is True
    finally:
        await service.stop()
    entries, _ = catalog.list_backups(paths.backups)
    assert len(entries) == 2 and entries[-1].manifest.scheduled
    [created] = events_of(live, BackupCreated)
    assert created.scheduled


async def test_the_periodic_check_catches_up_after_a_missed_run(
    paths: Paths, live: AsyncEventLog, clock: Clock
) -> None:
    snapshot.take(live, paths.backups, now=clock())
    service = make_service(paths, live, clock, check_interval_s=1)
    await service.start()
    try:
        assert await service.scheduler.startup_check is False  # type: ignore[misc]
        clock.advance(hours=25)  # the machine slept through 03:00
        await until(lambda: len(events_of(live, BackupCreated)) == 1)
    finally:
        await service.stop()
    assert len(catalog.list_backups(paths.backups)[0]) == 2


async def test_a_home_without_backups_gets_its_first_from_the_periodic_check(
    paths: Paths, live: AsyncEventLog, clock: Clock
) -> None:
    service = make_service(paths, live, clock, check_interval_s=1)
    await service.start()
    try:
        assert await service.scheduler.startup_check is False  # type: ignore[misc]
        assert catalog.list_backups(paths.backups) == ([], [])
        await until(lambda: len(events_of(live, BackupCreated)) == 1)
    finally:
        await service.stop()


async def test_a_failing_catch_up_backs_off_before_retrying(clock: Clock) -> None:
    calls: list[datetime] = []

    async def failing() -> None:
        calls.append(clock())
        raise BackupError("disk full")

    sched = BackupScheduler(
        BackupConfig(check_interval_s=300, interval_h=24), failing, lambda: None, clock=clock
    )
    assert await sched.check() is False and len(calls) == 1
    assert not sched.due()  # not again at the next check...
    clock.advance(seconds=300)
    assert sched.due() and await sched.check() is False  # ...but after one interval
    clock.advance(seconds=300)
    assert not sched.due()  # then after two, four, ...
    clock.advance(seconds=300)
    assert sched.due()

    async def working() -> None:
        calls.append(clock())

    sched._run_backup = working
    assert await sched.check() is True
    assert sched.due()  # success clears the back-off (and there is still no backup)


async def test_a_backup_made_in_its_process_while_the_log_is_written_holds_a_consistent_copy(
    paths: Paths, live: AsyncEventLog, clock: Clock
) -> None:
    service = make_service(paths, live, clock)
    backing_up = asyncio.create_task(service.run())
    written = 0
    while not backing_up.done():  # the daemon keeps writing while the child copies
        await live.append(history(1))
        written += 1
    entry = await backing_up
    assert written > 0
    with unpacked(entry, paths.backups) as folder, open_log(folder, readonly=True) as copy:
        seqs = [r.seq for r in copy.read()]
        assert seqs == list(range(1, len(seqs) + 1)) == list(range(1, entry.manifest.last_seq + 1))
    assert live.last_seq() > entry.manifest.last_seq  # later appends are not in it


async def test_a_failure_in_the_backup_process_reaches_status_with_its_reason(
    paths: Paths, live: AsyncEventLog, clock: Clock
) -> None:
    paths.backups.parent.mkdir(parents=True, exist_ok=True)
    paths.backups.write_text("a file where the backups folder should be")
    service = make_service(paths, live, clock)
    with pytest.raises(BackupError, match=f"cannot write the backup in {paths.backups}"):
        await service.run()
    [failed] = events_of(live, BackupFailed)
    assert f"cannot write the backup in {paths.backups}" in failed.reason


async def test_a_backup_process_that_dies_without_answering_is_a_clear_failure(
    paths: Paths, live: AsyncEventLog, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker.sys, "executable", "/bin/false")  # exits 1, says nothing
    service = make_service(paths, live, clock)
    with pytest.raises(BackupError, match=r"ended without an answer \(exit code 1\)"):
        await service.run()
    [failed] = events_of(live, BackupFailed)
    assert "see run/daemon.log" in failed.reason
    assert catalog.list_backups(paths.backups)[0] == []


async def test_stop_waits_for_a_backup_in_progress(
    paths: Paths, live: AsyncEventLog, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, gate = threading.Event(), threading.Event()
    real_take = snapshot.take

    def slow_take(*args: Any, **kwargs: Any) -> Any:
        started.set()
        gate.wait(30)
        return real_take(*args, **kwargs)

    monkeypatch.setattr(snapshot, "take", slow_take)
    service = make_service(paths, live, clock, worker.in_thread)
    caller = asyncio.create_task(service.run())
    await until(started.is_set)
    caller.cancel()  # the caller gives up; the copy thread cannot
    stopping = asyncio.create_task(service.stop())
    done, _ = await asyncio.wait([stopping], timeout=0.3)
    assert not done  # stop() waits for the copy: LMDB must not close under it
    gate.set()
    await stopping
    assert len(catalog.list_backups(paths.backups)[0]) == 1
    assert len(events_of(live, BackupCreated)) == 1


def test_backup_time_must_be_a_time_of_day() -> None:
    assert parse_time("03:00") == (3, 0)
    assert parse_time(" 23:59 ") == (23, 59)
    for bad in ("3am", "24:00", "03:60", "3:5", ""):
        with pytest.raises(ConfigError, match=r"write it as HH:MM"):
            parse_time(bad)


async def test_disabled_backups_schedule_nothing(
    paths: Paths, live: AsyncEventLog, clock: Clock
) -> None:
    service = make_service(paths, live, clock, enabled=False)
    await service.start()
    assert service.next_backup_at() is None and service.scheduler.startup_check is None
    await service.stop()
