"""Status's inbox count agrees with what the watcher would take."""

from __future__ import annotations

from pathlib import Path

from promptd.daemon import paths
from promptd.daemon.server.queries import inbox_pending


def test_pending_counts_only_files_the_watcher_would_take(promptd_home: Path) -> None:
    layout = paths.resolve(promptd_home)
    layout.inbox.mkdir(parents=True)
    for name in ("a.txt", "b.csv", "c.PART", "d.json.tmp", ".hidden.txt", "e.md~"):
        (layout.inbox / name).write_text("write a haiku about the sea")
    (layout.inbox / "done").mkdir()
    (layout.inbox / "link.txt").symlink_to(layout.inbox / "a.txt")

    assert inbox_pending(layout) == 2


def test_pending_is_zero_without_an_inbox(promptd_home: Path) -> None:
    assert inbox_pending(paths.resolve(promptd_home)) == 0
