"""Fixtures for the backup tests: a home with a real LMDB store, and small mounts."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptd.daemon.paths import Paths, resolve
from promptd.daemon.projections import open_log
from promptd.daemon.store import EventLog

from .samples import history


@pytest.fixture
def paths(promptd_home: Path) -> Paths:
    return resolve(promptd_home)


@pytest.fixture
def store(paths: Paths) -> Iterator[EventLog]:
    """The home's store, holding 5 optimizations (22 events)."""
    log = open_log(paths.events)
    log.append(history(5))
    yield log
    log.close()


@contextlib.contextmanager
def tmpfs(where: Path, options: str) -> Iterator[None]:
    """Mount a tmpfs at ``where`` (root only); skip the test where mounting is not allowed."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
