"""`promptd start` on a full disk: a clear "disk full", no empty pid file, no stale blame.

ENOSPC is injected at the write boundary (the pid file's write, the file system's free-space
answer); no real disk is filled.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from promptd.daemon import process as lifecycle
from promptd.daemon.client import ensure_daemon
from promptd.daemon.errors import DaemonError
from promptd.daemon.paths import ensure_private_dir, resolve

STALE = "2026-12-01T10:00:00.000Z ERROR promptd.inbox inbox task inbox:x.csv failed\n"


def test_a_pid_file_that_cannot_be_written_is_not_left_empty(
    promptd_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = resolve(promptd_home)
    ensure_private_dir(paths.run)

    def full(fd: int, data: bytes, offset: int) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(lifecycle.os, "pwrite", full)
    with pytest.raises(DaemonError, match="the disk is full; free some space"):
        lifecycle.PidLock(paths.pid_file).acquire()
    assert not paths.pid_file.exists()
    assert lifecycle.running_pid(paths) is None


def _dies_silently(paths: object) -> subprocess.Popen[bytes]:
    """A daemon that cannot write a byte (its log included) and exits 1."""
    return subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])


def test_start_says_disk_full_not_an_old_log_line(
    promptd_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = resolve(promptd_home)
    ensure_private_dir(paths.run)
    paths.log_file.write_text(STALE)
    monkeypatch.setattr(lifecycle, "spawn_detached", _dies_silently)
    real = os.statvfs

    class _Full:
        def __init__(self, st: os.statvfs_result) -> None:
            self.f_frsize = st.f_frsize
            self.f_bavail = 0

    monkeypatch.setattr(lifecycle.os, "statvfs", lambda p: _Full(real(p)))
    with pytest.raises(DaemonError) as caught:
        ensure_daemon(paths, timeout=20)
    assert "is full; free some space" in str(caught.value)
    assert "inbox task" not in str(caught.value)
    assert not paths.pid_file.exists()


def test_start_does_not_blame_a_stale_error(
    promptd_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = resolve(promptd_home)
    ensure_private_dir(paths.run)
    paths.log_file.write_text(STALE)
    monkeypatch.setattr(lifecycle, "spawn_detached", _dies_silently)
    with pytest.raises(DaemonError) as caught:
        ensure_daemon(paths, timeout=20)
    assert "inbox task" not in str(caught.value)
    assert "exit code 1, and it wrote nothing to its log" in str(caught.value)
