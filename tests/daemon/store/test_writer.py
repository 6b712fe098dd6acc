"""AsyncEventLog: one writer thread, group commit, deciders, waiting and subscribing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from promptd.daemon.errors import StoreError
from promptd.daemon.events import BudgetReserved, DaemonStarted, Event, Record
from promptd.daemon.projections import StoreView, memory_log, open_async_log, open_log
from promptd.daemon.store import AsyncEventLog
from tests.waiting import until


@pytest.fixture(params=["lmdb", "memory"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEventLog]:
    if request.param == "lmdb":
        log = await open_async_log(tmp_path / "events")
    else:
        log = AsyncEventLog(memory_log())
    yield log
    await log.close()


def started(pid: int) -> DaemonStarted:
    return DaemonStarted(pid=pid, version="t")


async def test_concurrent_appends_are_grouped_and_gapless(store: AsyncEventLog) -> None:
    results = await asyncio.gather(*(store.append([started(i), started(i)]) for i in range(200)))
    seqs = sorted(s for r in results for s in r)
    assert seqs == list(range(1, 401))
    assert all(r[1] == r[0] + 1 for r in results)  # a batch stays contiguous
    assert store.commits < 200  # group commit: fewer durable commits than appends
    by_seq = {r.seq: r.event for r in store.read()}
    for pid, seqs_of_pid in enumerate(results):
        assert [by_seq[s] for s in seqs_of_pid] == [started(pid), started(pid)]


async def test_deciders_check_and_reserve_atomically(store: AsyncEventLog) -> None:
    limit, each = 1000, 150

    def reserve(n: int):  # type: ignore[no-untyped-def]
        def decide(view: StoreView) -> Sequence[Event]:
            if view.budget.reserved(day="2026-11-27") + each > limit:
                return []
            return [BudgetReserved(reservation_id=f"r{n}", ticks=each, day="2026-11-27")]

        return decide

    results = await asyncio.gather(*(store.append_if(reserve(n)) for n in range(20)))
    assert sum(1 for r in results if r) == limit // each  # 6 fit, never a 7th
    with store.view() as view:
        assert view.budget.reserved(day="2026-11-27") == 900


async def test_a_failing_decider_fails_alone(store: AsyncEventLog) -> None:
    def boom(view: StoreView) -> Sequence[Event]:
        raise RuntimeError("decider broke")

    ok, bad = await asyncio.gather(
        store.append(started(1)), store.append_if(boom), return_exceptions=True
    )
    assert ok == [1]
    assert isinstance(bad, RuntimeError)
    assert store.last_seq() == 1


async def test_wait_for_and_subscribe_catch_up_then_follow(store: AsyncEventLog) -> None:
    await store.append([started(1), started(2)])
    assert await store.wait_for(2, timeout=0) == 2
    assert await store.wait_for(3, timeout=0.01) == 2  # timed out: still 2

    got: list[Record] = []

    async def follow() -> None:
        async for rec in store.subscribe(2):
            got.append(rec)
            if rec.seq == 4:
                return

    task = asyncio.create_task(follow())
    waiter = asyncio.create_task(store.wait_for(4, timeout=10))
    await store.append(started(3))
    await store.append(started(4))
    assert await waiter >= 4
    await asyncio.wait_for(task, 10)
    assert [r.seq for r in got] == [2, 3, 4]


async def test_rebuild_runs_on_the_writer_and_close_refuses_more(store: AsyncEventLog) -> None:
    await store.append(started(1))
    await store.rebuild()
    assert store.verify().ok
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.append(started(2))


async def test_an_async_log_over_an_open_event_log(tmp_path: Path) -> None:
    log = AsyncEventLog(open_log(tmp_path / "ev"))
    try:
        assert await log.append(started(1)) == [1]
        assert log.count() == 1 and log.size_bytes() > 0 and log.store_id()
    finally:
        await log.close()


async def test_a_subscriber_cancelled_as_an_event_commits_stops(store: AsyncEventLog) -> None:
    """The daemon cancels its subscribers (status push, dashboard) at shutdown; a cancel that
    comes in the same turn as the commit the subscriber waits for must still end it, or the
    daemon never stops."""
    await store.append(started(1))

    async def follow() -> None:
        async for _ in store.subscribe(2):
            pass

    task = asyncio.create_task(follow())
    await until(lambda: store._waiters, 10, "the subscriber to wait for the next event")
    # What the writer thread's commit does, in one turn of the loop: event 2 is stored and
    # the subscriber's waiter is set...
    store.log.append([started(2)])
    store._advance(2)
    task.cancel()  # ...and the shutdown's cancel arrives before the subscriber runs again
    done, _ = await asyncio.wait({task}, timeout=5)
    assert task in done and task.cancelled(), "the subscriber went on after its cancel"
