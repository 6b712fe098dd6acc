"""The Unix socket's address, even under a long home folder.

``sun_path`` holds at most 107 bytes on Linux (103 on macOS). When ``run/promptd.sock`` is
longer, on Linux we reach it through ``/proc/self/fd/N/promptd.sock`` where ``N`` is an open
descriptor of the ``run/`` folder: a short path to the same file that needs no symlink in a
shared folder. Elsewhere a long path is a clear error that says what to do.

Pure standard library: the CLI's sync client imports this without asyncio.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import DaemonError

MAX_SUN_PATH = 103 if sys.platform == "darwin" else 107


@contextmanager
def socket_address(path: Path) -> Iterator[str]:
    """A path ``bind``/``connect`` accept for ``path``, valid inside the ``with`` block."""
    text = os.fsencode(path)
    if len(text) <= MAX_SUN_PATH:
        yield str(path)
        return
    if not os.path.isdir("/proc/self/fd"):
        raise DaemonError(
            f"the socket path {path} is {len(text)} bytes, over the {MAX_SUN_PATH}-byte limit "
            "of Unix sockets; use a shorter home (--home or PROMPTD_HOME)"
        )
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)  # FileNotFoundError: no daemon
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)
