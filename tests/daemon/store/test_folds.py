"""The log is handed its folds: it imports no projection, and any set of projections works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from promptd.daemon.events import BudgetSet, DaemonStarted, Record
from promptd.daemon.projections import (
    Projection,
    Projections,
    State,
    Table,
    default_projections,
    memory_log,
    on,
    open_log,
)
from promptd.daemon.store import EventLog, MemoryEventLog

PIDS = Table("test_pids", list[int], counter=True)


class PidsProjection(Projection):
    """Counts daemon starts per pid: a projection promptd does not ship."""

    name = "test_pids"
    version = 1
    tables = (PIDS,)

    @on(DaemonStarted)
    def started(self, state: State, rec: Record, ev: DaemonStarted) -> None:
        state.add(PIDS, str(ev.pid).encode(), 1)


def _starts(*pids: int) -> list[DaemonStarted]:
    return [DaemonStarted(pid=pid, version="test") for pid in pids]


def test_the_store_package_imports_no_projection() -> None:
    code = (
        "import sys, promptd.daemon.store as s\n"
        "bad = sorted(m for m in sys.modules if m.startswith('promptd.daemon.projections'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"promptd.daemon.store imported {out}"


def test_a_log_keeps_whatever_projections_it_is_handed() -> None:
    log = MemoryEventLog(Projections(projections=[PidsProjection()]))
    log.append(_starts(7, 7, 9))
    tables = log.projection_bytes()
    assert set(tables) == {"checkpoints", "test_pids"}  # none of promptd's own
    assert [(k, PIDS.decode(v)) for k, v in tables["test_pids"]] == [(b"7", [2]), (b"9", [1])]
    assert log.folds.names() == ["test_pids"]
    assert log.verify().ok


def test_a_projection_added_later_is_built_from_the_whole_log_at_open(tmp_path: Path) -> None:
    with open_log(tmp_path / "ev") as log:
        log.append(_starts(1, 2, 2))
    more = Projections(projections=[*default_projections(), PidsProjection()])
    with EventLog.open(tmp_path / "ev", more) as log:
        assert [PIDS.decode(v) for _, v in log.projection_bytes()["test_pids"]] == [[1], [2]]
        log.append(_starts(1))
        assert log.verify().ok
        with log.view() as view:  # promptd's views are there as before
            assert view.stats.by_type() == {"daemon.started": 4}


def test_each_handler_gets_its_own_event_type_only() -> None:
    log = memory_log()
    log.append([BudgetSet(daily_ticks=5), *_starts(3)])
    with log.view() as view:
        assert view.budget.settings().daily_ticks == 5
        assert view.stats.by_type() == {"budget.set": 1, "daemon.started": 1}


def test_two_handlers_for_one_event_type_are_refused() -> None:
    with pytest.raises(TypeError, match="both started\\(\\) and again\\(\\) fold DaemonStarted"):

        class Twice(Projection):
            name = "twice"
            version = 1
            tables = ()

            @on(DaemonStarted)
            def started(self, state: State, rec: Record, ev: DaemonStarted) -> None: ...

            @on(DaemonStarted)
            def again(self, state: State, rec: Record, ev: DaemonStarted) -> None: ...


def test_handlers_are_registered_by_event_type() -> None:
    assert set(PidsProjection.folds) == {DaemonStarted}
    assert set(PidsProjection().handlers()) == {DaemonStarted}
