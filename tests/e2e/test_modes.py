"""Everything promptd writes is 0600 (files) / 0700 (folders), whatever the umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from promptd.daemon import paths as _paths
from promptd.daemon import process as lifecycle


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("promptd")), "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: os.umask(0),  # the loosest umask there is
    )


def _loose(root: Path, skip: set[Path]) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            if path in skip:
                continue
            st = path.lstat()
            want = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
            if stat.S_IMODE(st.st_mode) & ~want:
                found.append(f"{path.relative_to(root)} {stat.S_IMODE(st.st_mode):o}")
    return found


def test_under_umask_000_everything_is_private(tmp_path: Path) -> None:
    home = tmp_path / "h"
    paths = _paths.resolve(home)
    home.mkdir(mode=0o700)
    paths.events.mkdir()
    paths.events.chmod(0o777)  # left by an older version, or made by hand
    out = tmp_path / "out"
    out.mkdir()
    try:
        assert _run(home, "start").returncode == 0
        done = _run(home, "optimize", "write some stuff about dogs")
        assert done.returncode == 0, done.stderr
        assert _run(home, "backup", "now").returncode == 0
        for fmt in ("json", "zip"):
            exported = _run(home, "export", "--format", fmt, "--output", str(out / f"x.{fmt}"))
            assert exported.returncode == 0, exported.stderr
    finally:
        _run(home, "stop")
    assert lifecycle.running_pid(paths) is None
    assert stat.S_IMODE(paths.events.stat().st_mode) == 0o700
    assert (paths.events / "data.mdb").exists() and (paths.run / "daemon.log").exists()
    assert any(paths.backups.iterdir())
    assert _loose(home, set()) == []
    assert _loose(out, set()) == []
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_the_start_tightens_files_an_older_version_left_readable(tmp_path: Path) -> None:
    home = tmp_path / "h"
    paths = _paths.resolve(home)
    try:
        assert _run(home, "start").returncode == 0
    finally:
        _run(home, "stop")
    (paths.events / "data.mdb").chmod(0o644)
    paths.run.chmod(0o755)
    (paths.run / "daemon.log").chmod(0o666)
    try:
        assert _run(home, "start").returncode == 0
    finally:
        _run(home, "stop")
    assert _loose(home, set()) == []
