"""One daemon per home: the pid-file lock and stale state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from promptd.daemon import process
from promptd.daemon.paths import ensure_private_dir, resolve


def test_the_lock_says_who_runs(promptd_home: Path) -> None:
    paths = resolve()
    ensure_private_dir(paths.run)
    assert process.running_pid(paths) is None
    lock = process.PidLock(paths.pid_file)
    lock.acquire()
    try:
        # flock is per open file: a second claim from this process is refused too
        with pytest.raises(process.AlreadyRunning) as info:
            process.PidLock(paths.pid_file).acquire()
        assert info.value.pid == os.getpid()
        assert f"already running (pid {os.getpid()})" in str(info.value)
    finally:
        lock.release()
    assert not paths.pid_file.exists()
    assert process.running_pid(paths) is None


def test_a_killed_owner_leaves_stale_state_that_is_cleaned(promptd_home: Path) -> None:
    paths = resolve()
    ensure_private_dir(paths.run)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from promptd.daemon.process import PidLock\n"
            f"PidLock(Path({str(paths.pid_file)!r})).acquire()\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        paths.socket.write_bytes(b"")  # a socket file the dead daemon would leave
        assert process.running_pid(paths) == holder.pid
        assert not process.clean_stale(paths)  # alive: nothing is stale
        holder.send_signal(signal.SIGKILL)
        holder.wait(5)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(5)
        holder.stdout.close()  # type: ignore[union-attr]
    assert paths.pid_file.exists()
    assert process.running_pid(paths) is None
    assert process.clean_stale(paths)
    assert not paths.pid_file.exists() and not paths.socket.exists()


def test_wait_exit_has_a_deadline(promptd_home: Path) -> None:
    paths = resolve()
    ensure_private_dir(paths.run)
    lock = process.PidLock(paths.pid_file)
    lock.acquire()
    try:
        t0 = time.monotonic()
        assert not process.wait_exit(paths, os.getpid(), 0.2)
        assert time.monotonic() - t0 < 1.0
    finally:
        lock.release()
    assert process.wait_exit(paths, os.getpid(), 0.2)
