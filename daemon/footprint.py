"""Giving memory back after (and during) a big batch, where the C library and the kernel
would keep it counted against the daemon (the inbox calls it as a batch runs and when it
ends; the library when its index goes idle).

Measured on a real daemon running a 100,000-row offline CSV (bench/inbox.py):

* The heap: CPython frees the rows, but glibc keeps freed arenas mapped. ``malloc_trim(0)``
  hands them back (:func:`trim_heap`; a no-op where the C library is not glibc).
* The arenas: glibc gives each thread that allocates an arena of its own (up to eight per
  core), and each keeps what its thread once used, scattered so that a trim cannot give it
  back. The daemon's worker threads (store writer, library, thread pool) held 6 MB more
  after a 10,000-row batch than with two arenas in all (:func:`tune_malloc`).
* The event log's map: LMDB reads its B-tree through a read-only shared map of
  ``events/data.mdb``. Every page a transaction touches stays mapped into the daemon, so its
  resident size grew with the log (tens of MB per 10,000 rows) and only fell when LMDB
  remapped a larger file. Those pages are the kernel's page cache, clean and shared; telling
  the kernel that the daemon does not need them now (``madvise(MADV_DONTNEED)``,
  :func:`release_mapped`) only drops them from the daemon's page tables: the next read maps
  them back from the page cache, with the same bytes. Linux only; a no-op elsewhere.
* The library index: tantivy's indexing arena, its readers' caches and the pages of the
  segment files its searches mapped; an idle index drops its writer and reopens
  (:meth:`LibraryIndex.rest <promptd.daemon.library.index.LibraryIndex.rest>`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

log = logging.getLogger("promptd.daemon")

_MADV_DONTNEED: Final = 4  # Linux
_M_ARENA_MAX: Final = -8  # glibc's mallopt parameters
_M_MMAP_THRESHOLD: Final = -3


@functools.cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True) if name else None
    except OSError:
        return None


def trim_heap() -> None:
    """Hand freed heap back to the system (glibc's malloc_trim); a no-op elsewhere."""
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None) if libc is not None else None
    if trim is not None:
        trim(0)


def tune_malloc(arenas: int = 2, mmap_threshold: int = 256 * 1024) -> None:
    """Let glibc's malloc keep at most ``arenas`` arenas, and give every block of
    ``mmap_threshold`` bytes or more a map of its own, returned to the system as soon as it
    is freed (glibc otherwise raises that threshold to the largest block freed so far, and
    such blocks then stay in the heap). From now on: call it before the threads start. A
    no-op where the C library is not glibc; ``MALLOC_ARENA_MAX`` and
    ``MALLOC_MMAP_THRESHOLD_`` in the environment win."""
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None) if libc is not None else None
    if mallopt is None or not sys.platform.startswith("linux"):
        return
    if "MALLOC_ARENA_MAX" not in os.environ:
        mallopt(_M_ARENA_MAX, arenas)
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        mallopt(_M_MMAP_THRESHOLD, mmap_threshold)


def _mappings(path: Path) -> list[tuple[int, int]]:
    """The (start, end) addresses where this process maps the file ``path`` shared
    (``MAP_SHARED``, as LMDB does; a private map is never touched), from /proc/self/maps."""
    target = str(path)
    out: list[tuple[int, int]] = []
    with open("/proc/self/maps", encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            parts = line.split(maxsplit=5)
            shared = len(parts) == 6 and parts[1].endswith("s")
            if shared and parts[5].rstrip("\n") == target:
                start, end = parts[0].split("-")
                out.append((int(start, 16), int(end, 16)))
    return out


def release_mapped(path: Path) -> None:
    """Drop the pages of the shared maps of the file ``path`` from this process's resident
    set (they stay in the page cache; the next read maps them back). Linux only.

    The caller must hold the map still until this returns: an address read from
    /proc/self/maps that is unmapped and reused meanwhile (by malloc, say) would be wiped.
    :meth:`EventLog.release_map <promptd.daemon.store.EventLog.release_map>` holds LMDB's
    map still; tantivy unmaps its segments from threads of its own, so the library index
    gives its pages back by reopening instead (:meth:`LibraryIndex.rest`)."""
    libc = _libc()
    if not sys.platform.startswith("linux") or libc is None:
        return
    try:
        spans = _mappings(path.resolve())
    except OSError:
        return
    madvise = libc.madvise
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    for start, end in spans:
        if madvise(start, end - start, _MADV_DONTNEED) != 0:
            log.debug("madvise(%s) failed: errno %d", path, ctypes.get_errno())


def resident_mb(field: str = "RssFile") -> float:
    """This process's resident MB of one kind (/proc/self/status: ``RssFile`` the mapped
    files, ``RssAnon`` the heap); 0.0 where there is no /proc."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


class Keeper:
    """Keeps a batch's footprint in bounds; call it every few rows (on a worker thread).

    The maps are released (each of ``release`` called, e.g. the log's
    :meth:`~promptd.daemon.store.EventLog.release_map`) whenever the mapped files'
    resident size passes ``mapped_mb`` (by default 16 MB more than when the keeper was
    made; checked at every call: it is one read of /proc/self/status), and the heap
    is trimmed every ``trim_every`` calls. How fast the maps fill is not steady: after a
    long reader (a backup's copy) lets go, LMDB reuses the pages it held all over the file,
    and a 100,000-row batch then mapped 100 MB a second for a minute and a half.
    """

    def __init__(
        self,
        *release: Callable[[], None],
        mapped_mb: float | None = None,
        trim_every: int = 10,
    ) -> None:
        self.release = release
        self.mapped_mb = resident_mb("RssFile") + 16 if mapped_mb is None else mapped_mb
        self.trim_every = trim_every
        self._calls = 0

    def __call__(self) -> None:
        self._calls += 1
        if self._calls % self.trim_every == 0:
            trim_heap()
        if resident_mb("RssFile") > self.mapped_mb:
            for release in self.release:
                release()


def release_memory(*release: Callable[[], None], collect: bool = True) -> None:
    """Everything above at once: a full collection (unless ``collect`` is False), the heap
    trimmed, each of ``release`` called (the maps it knows to be still)."""
    if collect:
        gc.collect()
    trim_heap()
    for each in release:
        each()
