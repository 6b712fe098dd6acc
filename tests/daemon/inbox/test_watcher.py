"""The inbox watcher: complete files only, once each, through renames, scans and re-arms."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from promptd.daemon.config import InboxConfig
from promptd.daemon.inbox.watcher import InboxWatcher
from tests.waiting import until


class Taken:
    def __init__(self) -> None:
        self.paths: list[Path] = []
        self.contents: dict[str, bytes] = {}

    def __call__(self, path: Path) -> bool:
        self.paths.append(path)
        self.contents[path.name] = path.read_bytes()
        return True

    def names(self) -> list[str]:
        return [p.name for p in self.paths]


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    return tmp_path / "inbox"


@asynccontextmanager
async def start(inbox: Path, taken: Taken, **cfg: object) -> AsyncIterator[InboxWatcher]:
    watcher = InboxWatcher(inbox, InboxConfig(**{"stable_s": 0.3, **cfg}), taken)  # type: ignore[arg-type]
    task = asyncio.create_task(watcher.run())
    try:
        await until(lambda: watcher.arms >= 1 and inbox.is_dir())
        yield watcher
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def drop(inbox: Path, name: str, data: bytes = b"a prompt about dogs") -> Path:
    path = inbox / name
    path.write_bytes(data)
    return path


async def test_inbox_is_created_private(inbox: Path) -> None:
    taken = Taken()
    async with start(inbox, taken):
        assert inbox.stat().st_mode & 0o777 == 0o700
        assert (inbox / "done").is_dir() and (inbox / "failed").is_dir()


async def test_done_and_failed_symlinks_are_replaced(inbox: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o755)
    inbox.mkdir(mode=0o700)
    (inbox / "done").symlink_to(elsewhere)
    async with start(inbox, Taken()):
        assert not (inbox / "done").is_symlink() and (inbox / "done").is_dir()
        assert elsewhere.stat().st_mode & 0o777 == 0o755  # untouched


async def test_slow_partial_write_is_taken_once_complete(inbox: Path) -> None:
    taken = Taken()
    async with start(inbox, taken, stable_s=0.4):
        path = inbox / "slow.txt"
        with path.open("wb") as fh:
            for i in range(8):
                fh.write(f"chunk {i} ".encode())
                fh.flush()
                await asyncio.sleep(0.1)
        await until(lambda: taken.names() == ["slow.txt"])
        assert taken.contents["slow.txt"] == b"".join(f"chunk {i} ".encode() for i in range(8))
        drop(inbox, "sentinel.txt")
        await until(lambda: "sentinel.txt" in taken.names())
        assert taken.names().count("slow.txt") == 1


async def test_rename_into_place_is_taken_at_once(inbox: Path) -> None:
    taken = Taken()
    async with start(inbox, taken, stable_s=30) as watcher:
        part = drop(inbox, "ready.csv.part", b"prompt\nhello\n")
        # the watch saw the .part name first (a change set of its own), then the rename
        await until(lambda: watcher.change_sets >= 1)
        os.rename(part, inbox / "ready.csv")
        await until(lambda: taken.names() == ["ready.csv"], timeout=5)


async def test_temporary_names_symlinks_and_folders_are_ignored(
    inbox: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("not yours")
    taken = Taken()
    async with start(inbox, taken, stable_s=0.1):
        for name in ("a.csv.part", "b.tmp", "c.txt~", ".hidden.txt", "d.crdownload", "e.swp"):
            drop(inbox, name)
        (inbox / "link.txt").symlink_to(outside)
        (inbox / "folder.txt").mkdir()
        os.mkfifo(inbox / "pipe.txt")
        drop(inbox, "sentinel.txt")
        await until(lambda: "sentinel.txt" in taken.names())
        assert taken.names() == ["sentinel.txt"]


async def test_files_present_at_start_are_found(inbox: Path) -> None:
    inbox.mkdir(mode=0o700)
    old = drop(inbox, "waiting.md")
    os.utime(old, (1_000_000_000, 1_000_000_000))
    taken = Taken()
    async with start(inbox, taken, stable_s=30) as watcher:
        await until(lambda: taken.names() == ["waiting.md"], timeout=2)
        assert watcher.scans >= 1


async def test_hundred_files_at_once_each_taken_once(inbox: Path) -> None:
    taken = Taken()
    async with start(inbox, taken, stable_s=0.2):
        for i in range(100):
            drop(inbox, f"p{i:03}.txt", f"prompt {i}".encode())
        await until(lambda: len(set(taken.names())) == 100, timeout=10)
        drop(inbox, "sentinel.txt")
        await until(lambda: "sentinel.txt" in taken.names())
        assert len(taken.names()) == 101


async def test_rearmed_after_the_folder_is_deleted_and_recreated(inbox: Path) -> None:
    taken = Taken()
    async with start(inbox, taken, stable_s=0.1, scan_interval_s=3600) as watcher:
        shutil.rmtree(inbox)
        inbox.mkdir()
        await until(lambda: watcher.arms >= 2)
        scans = watcher.scans
        drop(inbox, "after.txt")
        await until(lambda: taken.names() == ["after.txt"])
        assert watcher.scans == scans  # found by the re-armed watch, not by a scan


async def test_polling_mode(inbox: Path) -> None:
    taken = Taken()
    async with start(inbox, taken, stable_s=0.1, polling=True, scan_interval_s=3600) as watcher:
        assert watcher.polling
        drop(inbox, "polled.json", b'["x"]')
        await until(lambda: taken.names() == ["polled.json"])
