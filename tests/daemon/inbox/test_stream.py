"""Issue 16: a big file runs as a stream (rows read, run and written a window at a time), and
what the user gets is unchanged: every row, in order, and a resume that pays no row twice."""

from __future__ import annotations

import csv
import io
import os
import signal
from pathlib import Path

import pytest

from promptd.daemon.events import (
    BatchCompleted,
    BatchItemCompleted,
    BatchStarted,
    OptimizationCompleted,
)
from promptd.daemon.inbox.batch import WINDOW
from promptd.daemon.paths import Paths, resolve
from promptd.daemon.projections import open_log

from .harness import child_daemon, of, read_log, wait_in_child

ROWS = 3 * WINDOW + 40


def rows_csv(n: int) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "prompt", "team"])
    for i in range(n):
        prompt = "" if i % 101 == 0 else f"write some stuff about topic {i} for our readers"
        writer.writerow([f"r{i}", prompt, "t"])
    return buf.getvalue().encode()


def rows_done(paths: Paths) -> int:
    """Rows of the running batch with their event, from the store's batches view."""
    if not (paths.events / "data.mdb").exists():
        return 0
    log = open_log(paths.events, readonly=True, allow_stale=True)
    try:
        with log.view() as view:
            return sum(entry.done for entry in view.batches.list())
    finally:
        log.close()


@pytest.mark.slow
def test_kill_9_mid_stream_resumes_and_writes_every_row_once(promptd_home: Path) -> None:
    paths = resolve(promptd_home)
    paths.config_file.write_text('[provider]\nkind = "offline"\n[inbox]\nstable_s = 0.2\n')
    with child_daemon(promptd_home, {}) as first:
        wait_in_child(paths.inbox.is_dir, first, paths, 30, "the inbox")
        (paths.inbox / "big.csv.part").write_bytes(rows_csv(ROWS))
        (paths.inbox / "big.csv.part").rename(paths.inbox / "big.csv")
        wait_in_child(
            lambda: rows_done(paths) >= WINDOW + 10, first, paths, 300, "a window of rows"
        )
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    before = read_log(paths)
    done_before = {e.index: e for e in of(before, BatchItemCompleted)}
    assert WINDOW < len(done_before) < ROWS, "kill -9 came too late to test a resume"
    assert not of(before, BatchCompleted)
    assert not (paths.outbox / "big.optimized.csv").exists()  # no half file under its name

    with child_daemon(promptd_home, {}) as second:
        done = paths.inbox / "done" / "big.csv"
        wait_in_child(done.exists, second, paths, 600, "the resumed batch")
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    after = read_log(paths)
    [started] = of(after, BatchStarted)
    [completed] = of(after, BatchCompleted)
    items = of(after, BatchItemCompleted)
    assert sorted(e.index for e in items) == list(range(ROWS))  # each row once
    failed = len(range(0, ROWS, 101))
    assert (completed.ok, completed.failed) == (ROWS - failed, failed)
    # a row done before the kill was not optimized again (a row in flight at the kill, with
    # no BatchItemCompleted yet, is run again: that is what resuming means)
    runs: dict[str, list[str]] = {}
    for opt in of(after, OptimizationCompleted):
        runs.setdefault(opt.original, []).append(opt.opt_id)
    assert len(runs) == ROWS - failed
    for index, item in done_before.items():
        if item.status == "ok":
            prompt = f"write some stuff about topic {index} for our readers"
            assert runs[prompt] == [item.opt_id]

    rows = list(csv.DictReader(io.StringIO((paths.outbox / "big.optimized.csv").read_text())))
    assert [r["id"] for r in rows] == [f"r{i}" for i in range(ROWS)]
    assert all(r["team"] == "t" for r in rows)
    for i, row in enumerate(rows):
        if i in done_before:  # written back from the log, as it was answered before the kill
            assert row["optimized"] == done_before[i].optimized
        assert row["status"] == ("error" if i % 101 == 0 else "ok")
        assert bool(row["optimized"]) == (i % 101 != 0)
    report = (paths.outbox / "big.report.md").read_text()
    assert f"Prompts: {ROWS} ({ROWS - failed} optimized, {failed} failed)" in report
    assert started.count == ROWS
    assert not [p for p in paths.outbox.iterdir() if p.name.endswith(".tmp")]
