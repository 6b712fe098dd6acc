"""A daemon killed (SIGKILL) with provider calls in flight: nothing lost, the budget whole again.

A real daemon process, a real loopback chat-completions server that holds its answers, and
``kill -9`` once the server has the requests. At the next start the calls the server served
are booked as spent at their reservations, and no hold is left open.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from promptd.daemon import process
from promptd.daemon.events import ProviderCallCompleted, ProviderCallStarted
from promptd.daemon.paths import Paths, resolve
from promptd.daemon.projections import open_log

from .loopback import LoopbackServer

PROMPTS = 3


def promptd(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    exe = str(Path(sys.executable).with_name("promptd"))
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=timeout)


def until(check: Callable[[], bool], what: str, deadline_s: float = 20) -> None:
    end = time.monotonic() + deadline_s
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def paths(promptd_home: Path) -> Iterator[Paths]:
    p = resolve()
    yield p
    pid = process.running_pid(p)
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
        process.wait_exit(p, pid, 5)


def test_kill_9_mid_call_books_what_the_provider_served(paths: Paths) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    with LoopbackServer(latency_s=60) as server:  # answers come after the kill
        paths.config_file.write_text(
            f'[provider]\nkind = "openai"\nbase_url = "{server.base_url}"\nmodel = "grok-4.3"\n'
            "[budget]\ndaily_usd = 5.0\n[backup]\nenabled = false\n"
        )
        assert promptd("start").returncode == 0
        pid = process.running_pid(paths)
        assert pid is not None
        exe = str(Path(sys.executable).with_name("promptd"))
        clients = [
            subprocess.Popen(
                [exe, "optimize", f"write some stuff about dogs, take {i}", "--no-cache"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for i in range(PROMPTS)
        ]
        try:
            until(lambda: len(server.bodies) >= PROMPTS, "the server to have the requests")
            reserved = json.loads(promptd("budget", "--json").stdout)["reserved_usd"]
            assert reserved > 0  # the calls in flight hold budget
            os.kill(pid, signal.SIGKILL)
            assert process.wait_exit(paths, pid, 10)
            served = len(server.bodies)
        finally:
            for c in clients:
                c.kill()
                c.wait(10)
    # the log has the calls' starts and no ends; read-only commands already see the holds
    log = open_log(paths.events, readonly=True)
    try:
        started = [r.event for r in log.read() if isinstance(r.event, ProviderCallStarted)]
    finally:
        log.close()
    assert len(started) == served
    assert promptd("start").returncode == 0  # the next start books them
    costs = json.loads(promptd("costs", "--json").stdout)
    assert sum(row["calls"] for row in costs["by_day"]) == served
    expected_usd = sum(s.reserved_ticks for s in started) / 10**10
    assert costs["today_usd"] == pytest.approx(expected_usd)
    budget = json.loads(promptd("budget", "--json").stdout)
    assert budget["reserved_usd"] == 0  # the budget is whole again
    assert budget["today_usd"] == pytest.approx(expected_usd)
    assert "in flight, booked as spent at their reservation" in paths.log_file.read_text()
    promptd("stop")
    log = open_log(paths.events, readonly=True)
    try:
        ends = [r.event for r in log.read() if isinstance(r.event, ProviderCallCompleted)]
    finally:
        log.close()
    assert {e.call_id for e in ends} == {s.call_id for s in started}
    assert all(e.recovered and not e.ok for e in ends)
