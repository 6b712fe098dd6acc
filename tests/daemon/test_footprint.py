"""Giving memory back: the log's released map leaves the resident set and reads back the same."""

from __future__ import annotations

import mmap
import os
import sys
from pathlib import Path

import pytest

from promptd.daemon.footprint import Keeper, release_mapped, resident_mb
from promptd.daemon.projections import open_log
from tests.daemon.backup.samples import history

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="madvise on /proc/self/maps is Linux only"
)

SIZE = 8 << 20


def resident_kb(path: Path) -> int:
    """The resident KB of this process's maps of ``path`` (/proc/self/smaps)."""
    total, current = 0, False
    with open("/proc/self/smaps") as fh:
        for line in fh:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5:  # a mapping's first line
                current = len(head) == 6 and head[5] == str(path)
            elif current and head[0] == "Rss:":
                total += int(head[1])
    return total


def test_the_log_gives_back_the_pages_reads_mapped_and_reads_the_same_after(
    tmp_path: Path,
) -> None:
    with open_log(tmp_path / "events") as log:
        log.append(history(400))
        data = log.path / "data.mdb"
        before = [r.event for r in log.read()]  # every page read through the map
        assert resident_kb(data) > 256
        log.release_map()
        assert resident_kb(data) < 64
        assert [r.event for r in log.read()] == before
        log.close()
        log.release_map()  # closed: nothing to release, no error


def test_only_the_named_file_is_released(tmp_path: Path) -> None:
    one, other = tmp_path / "one", tmp_path / "other"
    data = os.urandom(SIZE)
    one.write_bytes(data)
    other.write_bytes(data)
    with (
        open(one, "rb") as a,
        open(other, "rb") as b,
        mmap.mmap(a.fileno(), 0, prot=mmap.PROT_READ) as first,
        mmap.mmap(b.fileno(), 0, prot=mmap.PROT_READ) as second,
    ):
        assert first[:] == data and second[:] == data  # every page touched
        release_mapped(one)
        assert resident_kb(one) < 1024
        assert resident_kb(other) >= SIZE // 1024 * 9 // 10
        assert first[:] == data  # the next read maps the same bytes back


def test_the_keeper_releases_the_maps_once_they_pass_its_budget(tmp_path: Path) -> None:
    seg = tmp_path / "data.mdb"
    data = os.urandom(SIZE)
    seg.write_bytes(data)
    with open(seg, "rb") as fh, mmap.mmap(fh.fileno(), 0, prot=mmap.PROT_READ) as mapped:
        assert mapped[:] == data

        def release() -> None:
            release_mapped(seg)

        Keeper(release, mapped_mb=resident_mb("RssFile") + 64)()
        assert resident_kb(seg) >= SIZE // 1024 * 9 // 10  # within budget: left alone
        Keeper(release, mapped_mb=resident_mb("RssFile") - 4)()
        assert resident_kb(seg) < 1024
        assert mapped[:] == data
