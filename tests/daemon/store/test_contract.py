"""The event-log contract, run against every backend: LMDB and memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from promptd.daemon.errors import StoreError
from promptd.daemon.events import (
    BudgetReserved,
    BudgetSet,
    DaemonStarted,
    Envelope,
    Event,
    OptimizationRequested,
    ProviderCallCompleted,
    UnknownEvent,
    encode_event,
)
from promptd.daemon.projections import StoreView, memory_log, open_log
from promptd.daemon.store.base import BaseEventLog

Factory = Callable[[], BaseEventLog]


@pytest.fixture(params=["lmdb", "memory"])
def make_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    opened: list[BaseEventLog] = []

    def make() -> BaseEventLog:
        log: BaseEventLog
        if request.param == "lmdb":
            log = open_log(tmp_path / f"events{len(opened)}")
        else:
            log = memory_log()
        opened.append(log)
        return log

    yield make
    for log in opened:
        log.close()


def started(pid: int) -> DaemonStarted:
    return DaemonStarted(pid=pid, version="test")


def test_an_empty_log_has_nothing(make_log: Factory) -> None:
    log = make_log()
    assert (log.last_seq(), log.count()) == (0, 0)
    assert list(log.read()) == []
    assert log.verify().ok


def test_appends_get_gapless_sequences_from_one_in_order(make_log: Factory) -> None:
    log = make_log()
    assert log.append(started(1)) == [1]
    assert log.append([started(2), started(3), started(4)]) == [2, 3, 4]
    assert log.append([]) == []
    assert log.append(started(5)) == [5]
    records = list(log.read())
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert [r.event.pid for r in records] == [1, 2, 3, 4, 5]  # type: ignore[union-attr]
    assert (log.last_seq(), log.count()) == (5, 5)


def test_a_batch_shares_one_time_and_keeps_a_given_time(make_log: Factory) -> None:
    log = make_log()
    log.append([started(1), started(2)])
    log.append(started(3), ts_ns=1_000)
    first, second, third = log.read()
    assert first.ts_ns == second.ts_ns > 1_000
    assert third.ts_ns == 1_000


def test_range_reads_are_half_open_and_read_from_catches_up(make_log: Factory) -> None:
    log = make_log()
    log.append([started(i) for i in range(1, 3001)])  # more than one read chunk
    assert [r.seq for r in log.read(5, 8)] == [5, 6, 7]
    assert [r.seq for r in log.read(2999)] == [2999, 3000]
    assert [r.seq for r in log.read(3001)] == []
    assert [r.seq for r in log.read(0, 3)] == [1, 2]
    assert sum(1 for _ in log.read_from(1000)) == 2001
    assert [e.seq for e in log.read_envelopes(10, 12)] == [10, 11]


def test_something_that_is_not_an_event_is_refused_and_nothing_is_written(
    make_log: Factory,
) -> None:
    log = make_log()
    with pytest.raises(TypeError, match="not an event"):
        log.append([started(1), "oops"])  # type: ignore[list-item]
    assert log.count() == 0


def test_an_event_with_a_field_of_the_wrong_type_is_refused(make_log: Factory) -> None:
    log = make_log()
    bad = DaemonStarted(pid="not a number", version="t")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"cannot append DaemonStarted: Expected `int`"):
        log.append([started(1), bad])
    assert log.count() == 0
    assert log.verify().ok


def _reserve(limit: int, ticks: int, rid: str) -> Callable[[StoreView], Sequence[Event]]:
    def decide(view: StoreView) -> Sequence[Event]:
        if view.budget.reserved(day="2026-11-27") + ticks > limit:
            return []
        return [BudgetReserved(reservation_id=rid, ticks=ticks, day="2026-11-27")]

    return decide


def test_append_if_decides_on_the_projections_in_the_same_transaction(make_log: Factory) -> None:
    log = make_log()
    assert log.append_if(_reserve(100, 60, "a")) == [1]
    assert log.append_if(_reserve(100, 60, "b")) == []  # would exceed: nothing appended
    assert log.append_if(_reserve(100, 40, "c")) == [2]
    with log.view() as view:
        assert view.budget.reserved(day="2026-11-27") == 100
        assert view.last_seq() == 2


def test_a_decider_may_return_one_event_or_none(make_log: Factory) -> None:
    log = make_log()
    assert log.append_if(lambda view: started(view.last_seq() + 1)) == [1]  # type: ignore[arg-type,return-value]
    assert log.append_if(lambda view: []) == []
    assert [r.event.pid for r in log.read()] == [1]  # type: ignore[union-attr]


def test_a_group_commit_lets_later_deciders_see_earlier_events(make_log: Factory) -> None:
    from promptd.daemon.store import Request

    log = make_log()

    def boom(view: StoreView) -> Sequence[Event]:
        raise RuntimeError("decider failed")

    results = log.commit(
        [
            Request(decide=_reserve(100, 60, "a")),
            Request(decide=boom),
            Request(decide=_reserve(100, 60, "b")),
            Request(events=[started(1)]),
        ]
    )
    assert results[0] == [1]
    assert isinstance(results[1], RuntimeError)
    assert results[2] == []  # saw reservation "a" although it is not committed yet
    assert results[3] == [2]
    assert log.count() == 2


def test_a_failing_decider_raises_and_appends_nothing(make_log: Factory) -> None:
    log = make_log()

    def boom(view: StoreView) -> Sequence[Event]:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        log.append_if(boom)
    assert log.count() == 0


def test_append_records_keeps_time_and_skips_known_origins(make_log: Factory) -> None:
    source, target = make_log(), make_log()
    source.append([started(1), started(2)], ts_ns=42)
    target.append(started(9))
    envelopes = list(source.read_envelopes())
    assert target.append_records(envelopes, source_store_id=source.store_id()) == [2, 3]
    assert target.append_records(envelopes, source_store_id=source.store_id()) == []
    imported = list(target.read(2))
    assert [r.ts_ns for r in imported] == [42, 42]
    assert [r.origin for r in imported] == [f"{source.store_id()}/1", f"{source.store_id()}/2"]
    # importing our own export back adds nothing
    own = list(target.read_envelopes(1, 2))
    assert target.append_records(own, source_store_id=target.store_id()) == []
    # an envelope already carrying an origin keeps it (import of an import)
    assert source.append_records(list(target.read_envelopes(2))) == []
    with target.view() as view:
        assert view.origins.seq_of(f"{source.store_id()}/2") == 3
    with pytest.raises(StoreError, match="source_store_id"):
        target.append_records([Envelope(seq=1, ts_ns=1, schema=1, event=b"")])


def test_unknown_event_types_are_kept_and_named(make_log: Factory) -> None:
    log = make_log()
    raw = encode_event(started(1)).replace(b"daemon.started", b"daemon.future!")
    log.append_records([Envelope(seq=7, ts_ns=5, schema=2, event=raw)], source_store_id="x")
    (rec,) = log.read()
    assert isinstance(rec.event, UnknownEvent)
    assert rec.event.type == "daemon.future!"
    report = log.verify()
    assert report.ok
    assert report.unknown_types == {"daemon.future!": 1}


def test_projections_follow_appends_and_equal_a_rebuild(make_log: Factory) -> None:
    log = make_log()
    log.append(BudgetSet(daily_ticks=500))
    log.append(OptimizationRequested(opt_id="o1", prompt="Write a poem", prompt_hash="h"))
    log.append(
        ProviderCallCompleted(
            call_id="c1",
            provider="xai",
            model="grok",
            opt_id="o1",
            cost_ticks=70,
            day="2026-11-27",
            month="2026-11",
        )
    )
    with log.view() as view:
        assert view.budget.settings().daily_ticks == 500
        assert view.budget.spent(day="2026-11-27") == 70
        assert view.budget.by_source() and view.budget.by_source()[0][0] == "cli"
        entry = view.history.get("o1")
        assert entry is not None and entry.preview == "Write a poem"
        assert view.stats.by_type()["provider.call_completed"] == 1
    assert log.verify().ok
    log.rebuild()
    assert log.verify().ok
    with log.view() as view:
        assert view.budget.spent(month="2026-11") == 70


def test_a_closed_log_refuses_work(make_log: Factory) -> None:
    log = make_log()
    log.close()
    with pytest.raises(StoreError, match="closed"):
        log.append(started(1))
