"""The daemon process, one per home: the pid file lock, stale-state detection, spawning it
detached, asking it to stop.

The pid file ``run/promptd.pid`` is also the lock: the daemon holds an exclusive ``flock``
on it for its whole life. The kernel drops that lock when the process dies, however it dies
(even SIGKILL), so "is a daemon running here?" is exactly "is the pid file locked?" and a
pid file or socket left behind by a killed daemon is recognised as stale and removed.

Standard library only: the clients (``promptd status``, ``promptd stop``, the language server)
import this to start a daemon without importing the server.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from .errors import DaemonError
from .paths import Paths, ensure_private_dir

_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b")


class AlreadyRunning(DaemonError):
    def __init__(self, pid: int | None) -> None:
        super().__init__(f"promptd is already running (pid {pid})")
        self.pid = pid


def _read_pid(fd: int) -> int | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


class PidLock:
    """The daemon's claim on a home: an exclusive lock on the pid file, held until release."""

    def __init__(self, pid_file: Path) -> None:
        self.pid_file = pid_file
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock and write our pid, or raise :class:`AlreadyRunning`."""
        fd = os.open(self.pid_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        # A checker (``running_pid``) holds a shared lock for microseconds: retry briefly
        # before concluding that another daemon owns the home.
        for attempt in range(20):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    os.close(fd)
                    raise DaemonError(f"cannot lock {self.pid_file}: {exc.strerror}") from exc
                if attempt == 19:
                    pid = _read_pid(fd)
                    os.close(fd)
                    raise AlreadyRunning(pid) from exc
                time.sleep(0.01)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as exc:
            # Never leave an empty pid file behind (it read as "running, pid unknown").
            with contextlib.suppress(OSError):
                self.pid_file.unlink()
            os.close(fd)
            raise DaemonError(f"cannot write {self.pid_file}: {_os_reason(exc)}") from exc
        self._fd = fd

    def release(self) -> None:
        """Remove the pid file and drop the lock (in that order: no window where another
        daemon's fresh pid file could be removed)."""
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.pid_file.unlink()
        os.close(self._fd)
        self._fd = None


def _os_reason(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full; free some space and start again"
    return f"{exc.strerror or exc}; check that the folder is writable"


def disk_full_hint(paths: Paths) -> str:
    """ "the disk is full ..." when the home's file system has no room left, else ""."""
    try:
        st = os.statvfs(paths.run if paths.run.exists() else paths.run.parent)
    except OSError:
        return ""
    if st.f_bavail * st.f_frsize < 64 * 1024:
        return f"the disk holding {paths.run} is full; free some space and start again"
    return ""


def log_size(paths: Paths) -> int:
    """The daemon log's size now (``last_error(since=...)`` reads only what comes after)."""
    try:
        return paths.log_file.stat().st_size
    except OSError:
        return 0


def running_pid(paths: Paths) -> int | None:
    """The pid of the daemon that owns this home, or None when none runs."""
    try:
        fd = os.open(paths.pid_file, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            return pid if pid is not None else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def clean_stale(paths: Paths) -> bool:
    """Remove the pid file and socket a dead daemon left; True when there was something."""
    if running_pid(paths) is not None:
        return False
    found = False
    for path in (paths.pid_file, paths.socket):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            found = True
    return found


def daemon_command(paths: Paths) -> list[str]:
    """The command that runs a detached daemon: ``promptd start --detached`` (hidden flag)."""
    cmd = [sys.executable, "-m", "promptd.daemon"]
    if paths.home is not None:
        cmd += ["--home", str(paths.home)]
    return [*cmd, "start", "--detached"]


def spawn_detached(paths: Paths) -> subprocess.Popen[bytes]:
    """Start the daemon in its own session, output to ``run/daemon.log``; do not wait."""
    ensure_private_dir(paths.run)
    clean_stale(paths)
    with open(paths.log_file, "ab") as log_file:
        return subprocess.Popen(
            daemon_command(paths),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
            close_fds=True,
            cwd=paths.run,
        )


def last_error(paths: Paths, since: int = 0) -> str:
    """The last ERROR line of the daemon's log (for "the daemon exited during start"), only
    from what was written after offset ``since`` (an older line would blame a stale error)."""
    try:
        with open(paths.log_file, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(since, f.tell() - 16384))
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        text = line.strip()
        if " ERROR " in text:  # TIME ERROR LOGGER message
            return text.split(" ERROR ", 1)[1].strip().partition(" ")[2]
        if text.startswith("promptd:") or _EXCEPTION.match(text):  # a crash's last line
            return text
    return lines[-1].strip() if lines else ""


def wait_exit(paths: Paths, pid: int, timeout: float) -> bool:
    """Wait until the daemon ``pid`` has let go of the home (True) or ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while time.monotonic() < deadline:
        if running_pid(paths) != pid:
            return True
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
    return running_pid(paths) != pid


def restore_marker(paths: Paths) -> Path:
    """``run/promptd.restoring``: a foreground daemon that stepped aside for a restore waits
    while this file exists, then serves again in its terminal (``make run`` stays Ctrl-C-able)."""
    return paths.run / "promptd.restoring"


def step_aside(pid: int) -> None:
    """Ask the daemon to stop for a restore (SIGUSR1): a detached one exits, a foreground one
    waits for the restore to finish and starts again in the same terminal."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGUSR1)


def wait_restore_done(paths: Paths, timeout: float = 600.0) -> None:
    """In a foreground daemon that stepped aside: wait until the restore removed the marker
    (or ``timeout`` passed: a restore that died must not keep the terminal waiting forever)."""
    marker = restore_marker(paths)
    deadline = time.monotonic() + timeout
    while marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    with contextlib.suppress(FileNotFoundError):
        marker.unlink()


def terminate(pid: int) -> None:
    """Ask the daemon to stop (SIGTERM: graceful, like ``promptd stop``)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
