"""Watch the inbox folder and hand each complete file to the service, once.

Three ways a file is noticed, because native watching alone is not enough:

* watchfiles (``awatch``: inotify / FSEvents / ReadDirectoryChangesW, or polling when
  ``inbox.polling`` or ``PROMPTD_INBOX_POLLING=1`` says so, for network and container mounts);
* a full scan at start (files that arrived while the daemon was down) and every
  ``inbox.scan_interval_s`` (events that were lost);
* a tick a few times a second that re-checks files still settling (see :mod:`.stability`)
  and notices when the inbox folder was deleted or replaced: the folder is made again
  (0700) and the watch is re-armed on the new folder, since the old watch silently stops.

Only regular files with UTF-8 names directly in the inbox are taken; symlinks, folders,
FIFOs, sockets, devices and names of other bytes are never followed or opened but handed to
``reject`` with the reason (the service moves them to ``failed/`` with an ``.error.txt``), and
``done/`` and ``failed/`` are not descended into. An error of the native watch (watchfiles
cannot decode a path, the folder went away) never ends the watching: it is kept in
:attr:`InboxWatcher.problems` for ``status``, a scan runs at once, and the watch is re-armed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, awatch

from ..config import InboxConfig
from ..paths import ensure_private_dir
from .failures import unusable
from .stability import StabilityTracker, is_temporary, regular_file_state, renamed_into_place

log = logging.getLogger("promptd.inbox")

# Hand a complete file over; False: not now (its name is still being run), ask again later.
Take = Callable[[Path], bool]
# Hand over an entry that can never be taken, with the reason (moved to failed/).
Reject = Callable[[Path, str], None]


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

    def __init__(
        self, inbox: Path, config: InboxConfig, take: Take, reject: Reject | None = None
    ) -> None:
        self.inbox = inbox
        self.config = config
        self._take = take
        self._reject = reject
        self.problems: deque[str] = deque(maxlen=5)  # the watch's latest errors, for status
        self.tracker = StabilityTracker(config.stable_s)
        self.tick_s = min(max(config.stable_s / 4, 0.05), 0.5)
        self.arms = 0  # how many times the watch was (re)started on the folder
        self.scans = 0
        self.change_sets = 0  # change sets the native watch delivered (tests wait on it)
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
            except Exception as exc:  # watchfiles' errors (undecodable path...) are not fatal
                log.warning("inbox watch on %s stopped (%s); re-arming", self.inbox, exc)
                stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
                self.problems.append(f"{stamp} UTC watch stopped and re-armed: {exc}")
                self._last_scan = 0.0  # scan at the next tick: what the watch missed
            if not self._rearm.is_set():
                # The watch ended on its own (folder gone): wait a tick before re-arming.
                await asyncio.sleep(self.tick_s)

    def _on_changes(self, changes: set[tuple[Change, str]]) -> None:
        self.change_sets += 1
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
                    if entry.name in ("done", "failed") and entry.is_dir(follow_symlinks=False):
                        continue
                    present.add(entry.name)
                    self._consider(Path(entry.path))
        except OSError as exc:
            log.warning("cannot scan the inbox %s: %s", self.inbox, exc)
            return
        # Forget files that left the inbox, so the same name dropped again is taken again.
        self._taken = {(n, i) for n, i in self._taken if n in present}

    def retake(self, name: str) -> None:
        """Forget that ``name`` was handed over (it changed while its batch ran): it is taken
        again once it has settled."""
        self._taken = {(n, i) for n, i in self._taken if n != name}
        self.tracker.forget(name)
        state = regular_file_state(self.inbox / name)
        if state is not None:  # settle again from now (wall_ns=0: never "old enough" at once)
            self.tracker.observe(name, state, now=time.monotonic(), wall_ns=0)

    def _usable(self, path: Path) -> bool:
        """False (and the entry handed to ``reject``) when it can never be taken."""
        if path.name in ("done", "failed"):
            return False
        if self._reject is None:
            return True
        try:
            st = os.lstat(path)
        except OSError:
            return False
        reason = unusable(path.name, st)
        if reason is None:
            return True
        self._reject(path, reason)
        return False

    def _consider(self, path: Path, *, renamed: bool = False) -> None:
        try:
            self._consider_one(path, renamed=renamed)
        except Exception:  # one entry must not stop the watch, the scan or the tick
            log.exception("inbox: cannot consider %r", path)

    def _consider_one(self, path: Path, *, renamed: bool) -> None:
        name = path.name
        if is_temporary(name):
            return
        if not self._usable(path):
            self.tracker.forget(name)
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
