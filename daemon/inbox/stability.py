"""When is a dropped file complete? Only then is it taken.

* Temporary names are never taken: dot-files and names ending ``.part``, ``.tmp``, ``~``,
  ``.crdownload``, ``.swp`` (browsers, editors and copy tools write under such names first).
* A file is taken once its size and mtime have not changed for ``inbox.stable_s`` seconds:
  either we watched it stay the same that long, or its mtime is already that old when we
  first see it (a file copied with its times kept, or present when the daemon starts).
* A rename into place (``x.csv.part`` -> ``x.csv`` inside the inbox, seen as one change set
  with the old name deleted and the new one added) is taken at once: the writer is done.

The tracker is pure: the caller stats files and passes times in, so tests need no clock.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Final

TEMP_SUFFIXES: Final[tuple[str, ...]] = (".part", ".tmp", "~", ".crdownload", ".swp")


def is_temporary(name: str) -> bool:
    """A name someone is still writing under (or a hidden file): never taken."""
    lowered = name.lower()
    return lowered.startswith(".") or lowered.endswith(TEMP_SUFFIXES)


@dataclass(frozen=True, slots=True)
class FileState:
    """What ``lstat`` says of a candidate: only regular files (never symlinks) get one."""

    size: int
    mtime_ns: int
    ino: int


def regular_file_state(path: str | os.PathLike[str]) -> FileState | None:
    """``lstat`` a path; None when it is missing, a symlink, or not a regular file."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return FileState(size=st.st_size, mtime_ns=st.st_mtime_ns, ino=st.st_ino)


@dataclass(slots=True)
class _Seen:
    state: FileState
    since: float  # monotonic time this exact state was first observed


class StabilityTracker:
    """Decides, observation by observation, when a file has stopped changing."""

    def __init__(self, stable_s: float) -> None:
        self.stable_s = stable_s
        self._seen: dict[str, _Seen] = {}

    def observe(
        self,
        key: str,
        state: FileState,
        *,
        now: float,
        wall_ns: int,
        renamed: bool = False,
    ) -> bool:
        """Record one observation; True when the file is complete and may be taken.

        ``now`` is monotonic seconds, ``wall_ns`` the wall clock in ns (compared with mtime).
        """
        if renamed:
            self._seen.pop(key, None)
            return True
        seen = self._seen.get(key)
        if seen is None or seen.state != state:
            fresh = seen is None
            self._seen[key] = _Seen(state=state, since=now)
            # First sight of a file nobody has touched for stable_s: it is complete already.
            return fresh and (wall_ns - state.mtime_ns) >= self.stable_s * 1e9
        if now - seen.since >= self.stable_s:
            del self._seen[key]
            return True
        return False

    def forget(self, key: str) -> None:
        self._seen.pop(key, None)

    def pending(self) -> list[str]:
        """Files seen but not yet stable (re-check them on the next tick)."""
        return list(self._seen)


def renamed_into_place(changes: Iterable[tuple[int, str]], added: int, deleted: int) -> set[str]:
    """Paths that one watch change set shows renamed into place.

    A path only *added* in a set that also *deleted* another path of the same folder: the
    signature of ``os.rename`` within the watched folder. ``added``/``deleted`` are the
    watcher's change codes (``watchfiles.Change.added`` / ``.deleted``).
    """
    kinds: dict[str, set[int]] = {}
    for change, path in changes:
        kinds.setdefault(path, set()).add(int(change))
    folders_with_deletes = {str(PurePath(p).parent) for p, k in kinds.items() if k == {deleted}}
    return {
        p
        for p, k in kinds.items()
        if k == {added} and str(PurePath(p).parent) in folders_with_deletes
    }
