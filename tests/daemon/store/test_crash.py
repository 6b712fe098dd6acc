"""Crash test: SIGKILL a process that is appending, at random moments, then reopen."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from promptd.daemon.projections import open_log

from .crash_child import event

ROOT = Path(__file__).resolve().parents[3]


def _run_and_kill(events_dir: Path, rng: random.Random) -> list[tuple[int, int]]:
    """Start the child, let it append until a random number of sequences were reported or a
    random time passed, SIGKILL it; return every ``(seq, i)`` it reported."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.daemon.store.crash_child", str(events_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    want = rng.randint(1, 400)
    deadline = time.monotonic() + 30
    seen = 0
    lines: list[bytes] = []
    while seen < want and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        lines.append(line)
        seen += 1
    time.sleep(rng.random() * 0.05)  # land anywhere: mid-commit, mid-resize, mid-read
    child.send_signal(signal.SIGKILL)
    rest, err = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, err.decode()
    lines += rest.splitlines(keepends=True)
    reported = []
    for line in lines:
        if line.endswith(b"\n"):  # a line cut by the kill was never fully reported
            seq, i = line.split()
            reported.append((int(seq), int(i)))
    assert reported, f"the child reported nothing: {err.decode()}"
    return reported


@pytest.mark.slow
@pytest.mark.parametrize("run", range(4))
def test_every_reported_event_survives_sigkill(tmp_path: Path, run: int) -> None:
    rng = random.Random(run)
    events_dir = tmp_path / "events"
    reported: list[tuple[int, int]] = []
    for _ in range(2):  # crash twice into the same environment
        reported += _run_and_kill(events_dir, rng)
    with open_log(events_dir) as log:
        records = {rec.seq: rec for rec in log.read()}
        for seq, i in reported:
            assert records[seq].event == event(i), f"sequence {seq} is not event {i}"
        assert log.count() >= len(reported)
        assert sorted(records) == list(range(1, len(records) + 1))
        report = log.verify()
        assert report.ok, report.lines()
        with log.view() as view:
            assert view.stats.by_type()["optimization.requested"] == sum(
                1
                for rec in records.values()
                if rec.event.__class__.__name__ == "OptimizationRequested"
            )
