"""Giving memory back: released maps leave the resident set and read back the same bytes."""

from __future__ import annotations

import mmap
import os
import sys
from pathlib import Path

import pytest

from promptd.daemon.footprint import Keeper, release_mapped, resident_mb

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


def test_the_pages_of_the_files_in_a_folder_leave_the_resident_set_and_read_back(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "index"
    folder.mkdir()
    seg, other = folder / "segment", tmp_path / "elsewhere"
    data = os.urandom(SIZE)
    seg.write_bytes(data)
    other.write_bytes(data)
    with (
        open(seg, "rb") as a,
        open(other, "rb") as b,
        mmap.mmap(a.fileno(), 0, prot=mmap.PROT_READ) as in_folder,
        mmap.mmap(b.fileno(), 0, prot=mmap.PROT_READ) as outside,
    ):
        assert in_folder[:] == data and outside[:] == data  # every page touched
        assert resident_kb(seg) >= SIZE // 1024 * 9 // 10
        release_mapped(folder)
        assert resident_kb(seg) < 1024  # dropped from this process...
        assert resident_kb(other) >= SIZE // 1024 * 9 // 10  # ...and only what was named
        assert in_folder[:] == data  # the next read maps the same bytes back
        release_mapped(other)
        assert resident_kb(other) < 1024


def test_the_keeper_releases_the_maps_once_they_pass_its_budget(tmp_path: Path) -> None:
    seg = tmp_path / "data.mdb"
    data = os.urandom(SIZE)
    seg.write_bytes(data)
    with open(seg, "rb") as fh, mmap.mmap(fh.fileno(), 0, prot=mmap.PROT_READ) as mapped:
        assert mapped[:] == data
        roomy = Keeper(seg, mapped_mb=resident_mb("RssFile") + 64)
        roomy()
        assert resident_kb(seg) >= SIZE // 1024 * 9 // 10  # within budget: left alone
        tight = Keeper(seg, mapped_mb=resident_mb("RssFile") - 4)
        tight()
        assert resident_kb(seg) < 1024
        assert mapped[:] == data
