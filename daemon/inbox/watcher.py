"""Watch the inbox folder and hand each complete file to the service, once.

Three ways a file is noticed, because native watching alone is not enough:

* watchfiles (``awatch``: inotify / FSEvents / ReadDirectoryChangesW, or polling when
  ``inbox.polling`` or ``PROMPTD_INBOX_POLLING=1`` says so, for network and container mounts);
* a full scan at start (files that arrived while the daemon was down) and every
  ``inbox.scan_interval_s`` (events that were lost);
* a tick a few times a second that re-checks files still settling (see :mod:`.stability`)
  and notices when the inbox folder was deleted or replaced: the folder is made again
  (0700) and the watch is re-armed on the new folder, since the old watch silently stops.

Only regular files directly in the inbox are taken; symlinks, folders, sockets and the like
are never followed or opened, and ``done/`` and ``failed/`` are not descended into.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, awatch

from ..config import InboxConfig
from ..paths import ensure_private_dir
from .stability import StabilityTracker, is_temporary, regular_file_state, renamed_into_place

log = logging.getLogger("promptd.inbox")

# Hand a complete file over; False: not now (its name is still being run), ask again later.
Take = Callable[[Path], bool]


def ensure_inbox(inbox: Path) -> None:
    """The inbox and its ``done/`` and ``failed/`` folders, each 0700.

    A ``done`` or ``failed`` that is a symlink is replaced by a real folder: files are moved
    there, and a link would send them (and the mode change) outside the inbox.
    """
    ensure_private_dir(inbox)
    for name in ("done", "failed"):
        sub = inbox / name
        if sub.is_symlink():
            log.warning("inbox: %s is a symlink; replacing it with a folder", sub)
            sub.unlink()
        ensure_private_dir(sub)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


class InboxWatcher:
    """Calls ``take(path)`` once for every complete file that appears in the inbox."""

    def __init__(self, inbox: Path, config: InboxConfig, take: Take) -> None:
        self.inbox = inbox
        self.config = config
        self._take = take
        self.tracker = StabilityTracker(config.stable_s)
        self.tick_s = min(max(config.stable_s / 4, 0.05), 0.5)
        self.arms = 0  # how many times the watch was (re)started on the folder
        self.scans = 0
        self._taken: set[tuple[str, int]] = set()  # (name, inode) handed over
        self._deferred: set[str] = set()  # complete, but the service said "not now"
        self._rearm = asyncio.Event()
        self._identity: tuple[int, int] | None = None
        self._last_scan = 0.0
        self._closing = False

    @property
    def polling(self) -> bool:
        return self.config.polling

    def pending(self) -> int:
        """Files seen and still settling."""
        return len(self.tracker.pending())

    async def run(self) -> None:
        """Watch until cancelled."""
        await asyncio.to_thread(ensure_inbox, self.inbox)
        self._identity = _identity(self.inbox)
        self.scan()
        async with asyncio.TaskGroup() as group:
            group.create_task(self._watch_loop())
            group.create_task(self._tick_loop())

    # --- watching --------------------------------------------------------------------------

    def rearm(self) -> None:
        """Start the watch again (after a settings change)."""
        self._rearm.set()

    def close(self) -> None:
        """Make the running watch return now (before cancelling :meth:`run`)."""
        self._closing = True
        self._rearm.set()

    async def _watch_loop(self) -> None:
        while not self._closing:
            if _identity(self.inbox) is None:
                await asyncio.sleep(self.tick_s)
                continue
            self._rearm = asyncio.Event()
            self.arms += 1
            try:
                async for changes in awatch(
                    self.inbox,
                    stop_event=self._rearm,
                    recursive=False,
                    force_polling=self.polling,
                    poll_delay_ms=max(50, int(min(self.config.stable_s, 1.0) * 500)),
                    debounce=200,
                    step=50,
                    rust_timeout=1000,
                    yield_on_timeout=False,
                    ignore_permission_denied=True,
                ):
                    self._on_changes(changes)
            except (FileNotFoundError, OSError, RuntimeError) as exc:
                log.warning("inbox watch on %s stopped (%s); re-arming", self.inbox, exc)
            if not self._rearm.is_set():
                # The watch ended on its own (folder gone): wait a tick before re-arming.
                await asyncio.sleep(self.tick_s)

    def _on_changes(self, changes: set[tuple[Change, str]]) -> None:
        renamed = renamed_into_place(
            ((int(c), p) for c, p in changes), int(Change.added), int(Change.deleted)
        )
        for change, raw in sorted(changes, key=lambda cp: cp[1]):
            path = Path(raw)
            if path.parent != self.inbox:
                if path == self.inbox and change == Change.deleted:
                    self._rearm.set()
                continue
            if change == Change.deleted:
                self.tracker.forget(path.name)
                continue
            self._consider(path, renamed=raw in renamed)

    # --- scanning and settling ---------------------------------------------------------------

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            identity = _identity(self.inbox)
            if identity is None:
                with contextlib.suppress(OSError):
                    await asyncio.to_thread(ensure_inbox, self.inbox)
                identity = _identity(self.inbox)
            if identity != self._identity:
                log.info("inbox folder %s was replaced: re-arming the watch", self.inbox)
                self._identity = identity
                self._rearm.set()
                with contextlib.suppress(OSError):
                    await asyncio.to_thread(ensure_inbox, self.inbox)
                self.scan()
                continue
            if time.monotonic() - self._last_scan >= self.config.scan_interval_s:
                self.scan()
                continue
            for name in self.tracker.pending():
                self._consider(self.inbox / name)
            deferred, self._deferred = self._deferred, set()
            for name in deferred:
                self._consider(self.inbox / name, renamed=True)

    def scan(self) -> None:
        """Look at every file in the inbox (start, periodic, after a re-arm)."""
        self._last_scan = time.monotonic()
        self.scans += 1
        present: set[str] = set()
        try:
            with os.scandir(self.inbox) as entries:
                for entry in entries:
                    if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
                        continue
                    present.add(entry.name)
                    self._consider(Path(entry.path))
        except OSError as exc:
            log.warning("cannot scan the inbox %s: %s", self.inbox, exc)
            return
        # Forget files that left the inbox, so the same name dropped again is taken again.
        self._taken = {(n, i) for n, i in self._taken if n in present}

    def _consider(self, path: Path, *, renamed: bool = False) -> None:
        name = path.name
        if is_temporary(name):
            return
        state = regular_file_state(path)  # lstat: a symlink or a folder gives None
        if state is None:
            self.tracker.forget(name)
            return
        if (name, state.ino) in self._taken:
            return
        ready = self.tracker.observe(
            name, state, now=time.monotonic(), wall_ns=time.time_ns(), renamed=renamed
        )
        if not ready:
            return
        try:
            accepted = self._take(path)
        except Exception:  # the service's problem must not stop the watch
            log.exception("inbox: handing over %s failed", path)
            accepted = True
        if accepted:
            self._taken.add((name, state.ino))
        else:
            self._deferred.add(name)
