"""What the inbox cannot take, said where the user looks: ``failed/`` and ``status``.

* :func:`unusable` names what is wrong with an inbox entry that is not a regular file with a
  UTF-8 name (a symlink, FIFO, device, socket or folder, or a name of other bytes), so the
  service moves it to ``failed/`` beside an ``.error.txt`` instead of leaving it unexplained.
  Such an entry is never opened, and a symlink is moved as a link, never followed.
* :func:`safe_name` gives a name of bytes that are not UTF-8 a printable one
  (``caf\\xe9.txt`` -> ``caf%E9.txt``).
* :func:`failed_summary` counts the files in ``failed/`` and reads the newest reasons, for
  ``status`` (``inbox.failed``, ``inbox.errors``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Final

ERROR_SUFFIX: Final = ".error.txt"
_KINDS: Final = (
    (
        stat.S_ISLNK,
        "a symlink; the inbox takes only regular files and never follows a link "
        "(copy the file itself into the inbox)",
    ),
    (stat.S_ISDIR, "a folder; drop the files inside it into the inbox one by one"),
    (stat.S_ISFIFO, "a FIFO (named pipe); write the prompts to a regular file and drop that"),
    (stat.S_ISSOCK, "a socket; drop a regular file of prompts instead"),
    (stat.S_ISCHR, "a character device; drop a regular file of prompts instead"),
    (stat.S_ISBLK, "a block device; drop a regular file of prompts instead"),
)


def is_utf8_name(name: str) -> bool:
    """False for a name whose bytes are not UTF-8 (Python holds them as lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def safe_name(name: str) -> str:
    """A printable UTF-8 name for ``name``: each byte that is not UTF-8 as ``%XX``, each
    control character as ``%XX`` too."""
    raw = os.fsencode(name).decode("utf-8", "backslashreplace").replace("\\x", "%")
    return "".join(c if c.isprintable() else f"%{ord(c):02X}" for c in raw)


def unusable(name: str, st: os.stat_result) -> str | None:
    """Why an inbox entry cannot be taken (a message for its ``.error.txt``), or None when
    it is a regular file with a UTF-8 name."""
    shown = safe_name(name)
    for test, what in _KINDS:
        if test(st.st_mode):
            return f"{shown}: {what}"
    if not stat.S_ISREG(st.st_mode):
        return f"{shown}: not a regular file; drop a regular file of prompts instead"
    if not is_utf8_name(name):
        return (
            f"{shown}: the file name is not valid UTF-8 (shown here with %XX for the bytes "
            "that are not); rename it with UTF-8 characters and drop it again"
        )
    return None


def failed_summary(inbox: Path, limit: int = 5) -> tuple[int, list[str]]:
    """How many files wait in ``failed/``, and the first line of the newest ``limit``
    ``.error.txt`` files (newest first)."""
    failed = inbox / "failed"
    try:
        entries = list(os.scandir(failed))
    except OSError:
        return 0, []
    errors: list[tuple[int, str]] = []
    count = 0
    for entry in entries:
        if entry.name.endswith(ERROR_SUFFIX):
            try:
                errors.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.path))
            except OSError:
                continue
        else:
            count += 1
    lines = []
    for _, path in sorted(errors, reverse=True)[:limit]:
        try:
            with open(path, "rb") as fh:
                first = fh.read(4096).decode("utf-8", "replace").split("\n", 1)[0]
        except OSError:
            continue
        lines.append(first)
    return count, lines
