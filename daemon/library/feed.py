"""What goes into the library index: events of the log and the files of the library folders.

Pure functions from an event (or a file) to index operations, and the two feeds built on
them: :func:`fold_records` (events, in log order) and :func:`scan_folders` (the user's prompt
files). Both run in the library service's worker thread and in ``promptd rebuild``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from ..events import (
    OptimizationCompleted,
    OptimizationKept,
    OptimizationRejected,
    Record,
)
from .index import KEPT, REJECTED, Doc, LibraryIndex

# What counts as a prompt file in a library folder.
PROMPT_SUFFIXES: Final = frozenset(
    {".prompt", ".txt", ".md", ".markdown", ".j2", ".jinja", ".jinja2", ".tmpl", ".mustache"}
)


def doc_of_completed(ev: OptimizationCompleted, ts_ns: int) -> Doc | None:
    """The document for a finished optimization; None for a cache answer (the original run
    is indexed already)."""
    if ev.cached or not ev.original.strip():
        return None
    return Doc(
        doc_id=f"opt:{ev.opt_id}",
        kind="optimization",
        text=ev.original,
        result=ev.optimized,
        prompt_type=ev.prompt_type,
        score=ev.score_after.total if ev.score_after is not None else 0,
        ts_ns=ts_ns,
    )


def fold_records(index: LibraryIndex, records: Iterable[Record]) -> int:
    """Fold ``records`` into ``index`` and commit; the number of records read."""
    n, last = 0, 0
    for rec in records:
        n, last = n + 1, rec.seq
        ev = rec.event
        if isinstance(ev, OptimizationCompleted):
            doc = doc_of_completed(ev, rec.ts_ns)
            if doc is not None:
                index.put(doc)
        elif isinstance(ev, OptimizationKept):
            index.set_verdict(ev.opt_id, KEPT)
        elif isinstance(ev, OptimizationRejected):
            index.set_verdict(ev.opt_id, REJECTED)
    if n:
        index.commit(last)
    return n


def iso_date(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).date().isoformat() if ts_ns else ""


# --- library folders ---------------------------------------------------------------------


def folders_of(paths: Iterable[str]) -> list[Path]:
    """The configured folders, ``~`` expanded, those that exist."""
    out: list[Path] = []
    for raw in paths:
        folder = Path(raw).expanduser()
        if folder.is_dir():
            out.append(folder.resolve())
    return out


def is_prompt_file(path: Path) -> bool:
    return path.suffix.lower() in PROMPT_SUFFIXES and not path.name.startswith(".")


def prompt_files(folders: Iterable[Path]) -> Iterator[Path]:
    """Every prompt file under ``folders``; hidden folders and symlinks are not followed."""
    for folder in folders:
        for root, dirs, names in os.walk(folder, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                path = Path(root) / name
                if is_prompt_file(path):
                    yield path


def doc_of_file(path: Path, max_bytes: int) -> Doc | None:
    """The document for a prompt file; None when it is not a readable, regular UTF-8 text
    file of at most ``max_bytes`` (the library skips what it cannot use, it never fails)."""
    try:
        st = path.lstat()
        if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes or st.st_size == 0:
            return None
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    if not text.strip():
        return None
    return Doc(
        doc_id=f"file:{path}",
        kind="file",
        text=text,
        ts_ns=st.st_mtime_ns,
        title=str(path),
    )


def prompt_texts(paths: Iterable[Path], max_bytes: int) -> list[str]:
    """The texts of the usable prompt files among ``paths`` (for cache warming)."""
    out = []
    for path in paths:
        doc = doc_of_file(path, max_bytes)
        if doc is not None:
            out.append(doc.text)
    return out


def sync_file(index: LibraryIndex, path: Path, max_bytes: int) -> bool:
    """Index ``path`` as it is now, or drop it when it is gone; True when something changed."""
    doc_id = f"file:{path}"
    doc = doc_of_file(path, max_bytes)
    old = index.get(doc_id)
    if doc is None:
        if old is not None:
            index.remove(doc_id)
            return True
        return False
    if old is not None and old.ts_ns == doc.ts_ns and old.text == doc.text:
        return False
    index.put(doc)
    return True


def scan_folders(index: LibraryIndex, folders: list[Path], max_bytes: int) -> int:
    """Bring the indexed files in line with ``folders``; how many documents changed."""
    changed, seen = 0, set()
    for path in prompt_files(folders):
        seen.add(f"file:{path}")
        changed += sync_file(index, path, max_bytes)
    for doc_id in index.doc_ids("file"):
        if doc_id not in seen:
            index.remove(doc_id)
            changed += 1
    index.commit()
    return changed


def rebuild(
    folder: Path, store_id: str, records: Iterable[Record], folders: list[Path], max_bytes: int
) -> dict[str, int]:
    """Make the library index again from the log and the folders (``promptd rebuild``);
    how many documents of each kind it holds."""
    index = LibraryIndex(folder)
    index.open(store_id)
    try:
        index.reset(store_id)
        chunk: list[Record] = []
        for rec in records:
            chunk.append(rec)
            if len(chunk) >= 4096:
                fold_records(index, chunk)
                chunk = []
        fold_records(index, chunk)
        scan_folders(index, folders, max_bytes)
        return index.counts()
    finally:
        index.close()
