"""What only the LMDB log does: reopen, grow, adopt a size grown elsewhere, copy, repair."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import lmdb
import pytest

from promptd.daemon.errors import StoreError
from promptd.daemon.events import DaemonStarted, OptimizationRequested, seq_key
from promptd.daemon.projections import open_log
from promptd.daemon.store import lmdb_log

ROOT = Path(__file__).resolve().parents[3]


def _requests(n: int, start: int = 0) -> list[OptimizationRequested]:
    return [
        OptimizationRequested(opt_id=f"o{i}", prompt="p" * 300, prompt_hash=f"h{i % 7}")
        for i in range(start, start + n)
    ]


def _raw_env(path: Path) -> lmdb.Environment:
    return lmdb.open(str(path), max_dbs=64)


def test_reopening_keeps_events_projections_and_store_id(tmp_path: Path) -> None:
    with open_log(tmp_path / "ev") as log:
        log.append(_requests(3))
        store_id = log.store_id()
    with open_log(tmp_path / "ev") as log:
        assert log.store_id() == store_id and len(store_id) == 32
        assert log.append(DaemonStarted(pid=1, version="t")) == [4]
        with log.view() as view:
            assert [e.opt_id for e in view.history.recent(5)] == ["o2", "o1", "o0"]
        assert log.verify().ok


def test_the_map_doubles_when_full_and_nothing_is_lost(tmp_path: Path) -> None:
    with open_log(tmp_path / "ev", map_size=64 * 1024) as log:
        for n in range(20):
            log.append(_requests(100, n * 100))
        assert log.count() == 2000
        assert [r.event.opt_id for r in log.read()] == [f"o{i}" for i in range(2000)]  # type: ignore[union-attr]
        assert log.verify().ok
        assert log.size_bytes() > 64 * 1024


def test_a_reader_process_adopts_a_map_grown_by_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "ev"
    with open_log(path, map_size=64 * 1024) as log:
        log.append(_requests(10))
        reader = subprocess.Popen(
            [
                sys.executable,
                "-c",
                textwrap.dedent(f"""
                import sys
                from pathlib import Path
                from promptd.daemon.projections import open_log
                log = open_log(Path({str(path)!r}), readonly=True)
                print(log.count(), flush=True)
                sys.stdin.readline()
                print(log.count(), sum(1 for _ in log.read()), flush=True)
            """),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert reader.stdout is not None and reader.stdin is not None
        assert reader.stdout.readline().strip() == "10"
        for n in range(10):  # grows the map several times while the reader has it mapped
            log.append(_requests(100, 10 + n * 100))
        out, err = reader.communicate("go\n", timeout=60)
        assert reader.returncode == 0, err
        assert out.split() == ["1010", "1010"]


def test_read_only_opening(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no event log at"):
        open_log(tmp_path / "missing", readonly=True)
    with open_log(tmp_path / "ev") as log:
        log.append(_requests(2))
    with open_log(tmp_path / "ev", readonly=True) as log:
        assert log.count() == 2
        with pytest.raises(StoreError, match="read-only"):
            log.append(_requests(1))


def test_copy_to_makes_a_consistent_copy_that_opens_and_verifies(tmp_path: Path) -> None:
    with open_log(tmp_path / "ev") as log:
        log.append(_requests(50))
        log.copy_to(tmp_path / "copy")
        with pytest.raises(StoreError, match="not empty"):
            log.copy_to(tmp_path / "copy")
        store_id = log.store_id()
    with open_log(tmp_path / "copy") as copy:
        assert copy.store_id() == store_id
        assert copy.count() == 50
        assert copy.verify().ok


def test_a_projection_whose_version_changed_is_rebuilt_at_open(tmp_path: Path) -> None:
    path = tmp_path / "ev"
    with open_log(path) as log:
        log.append(_requests(5))
        good = log.projection_bytes()
    env = _raw_env(path)
    with env.begin(write=True) as txn:
        txn.put(b"stats", b"\x92\xa3old\x05", db=env.open_db(b"checkpoints", txn=txn))
        txn.drop(env.open_db(b"stats", txn=txn), delete=False)
    env.close()
    with pytest.raises(StoreError, match=r"out of date.*stats.*promptd rebuild"):
        open_log(path, readonly=True)
    with open_log(path) as log:
        assert log.projection_bytes() == good
        with log.view() as view:
            assert view.stats.by_type() == {"optimization.requested": 5}


def test_verify_reports_damage_and_rebuild_repairs_projections(tmp_path: Path) -> None:
    path = tmp_path / "ev"
    with open_log(path) as log:
        log.append(_requests(5))
    env = _raw_env(path)
    with env.begin(write=True) as txn:
        txn.put(b"o3", b"\x90", db=env.open_db(b"history", txn=txn))
    env.close()
    with open_log(path) as log:
        report = log.verify()
        assert not report.ok
        assert any(
            "history: table history: 1 changed (e.g. key o3 differs)" in line
            for line in report.lines()
        )
        log.rebuild()
        assert log.verify().ok
    env = _raw_env(path)
    with env.begin(write=True) as txn:
        txn.delete(seq_key(2), db=env.open_db(b"events", txn=txn))
        txn.put(seq_key(4), b"\xc1garbage", db=env.open_db(b"events", txn=txn))
    env.close()
    with open_log(path, allow_stale=True, readonly=True) as log:
        report = log.verify()
        assert "gap: sequence 2 is missing (next is 3)" in report.problems
        assert any(p.startswith("record 4 does not decode") for p in report.problems)
        assert report.lines()[-1].startswith("NOT OK: the log itself is damaged")


def test_a_key_past_lmdbs_limit_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    with open_log(tmp_path / "ev") as log:
        huge = OptimizationRequested(opt_id="o" * 600, prompt="p", prompt_hash="h")
        with pytest.raises(StoreError, match="511-byte key limit"):
            log.append([DaemonStarted(pid=1, version="t"), huge])
        assert log.count() == 0
        assert log.append(DaemonStarted(pid=2, version="t")) == [1]


class _SlowCopyEnv:
    """The LMDB environment, but its ``copy`` holds its read transaction until released."""

    def __init__(self, env: lmdb.Environment) -> None:
        self._env = env
        self.copying = threading.Event()
        self.release = threading.Event()

    def copy(self, path: str, compact: bool = False) -> None:
        with self._env.begin(write=False):  # stands for the copy's own read transaction
            self.copying.set()
            assert self.release.wait(30)
        self._env.copy(path, compact=compact)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)


@pytest.mark.parametrize("headroom", [64 << 20, 0])
def test_an_append_that_must_grow_the_map_during_a_backup_copy_does_not_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, headroom: int
) -> None:
    """With headroom the append needs no resize; without, its resize waits out the copy."""
    monkeypatch.setattr(lmdb_log, "_GUARD_TIMEOUT_S", 0.2)
    monkeypatch.setattr(lmdb_log, "_COPY_HEADROOM_MIN", headroom)
    with open_log(tmp_path / "ev", map_size=64 * 1024) as log:
        log.append(_requests(20))
        slow = _SlowCopyEnv(log._env)
        log._env = slow
        copier = threading.Thread(target=log.copy_to, args=(tmp_path / "copy",))
        copier.start()
        assert slow.copying.wait(10)
        threading.Timer(0.6, slow.release.set).start()  # the copy ends after several timeouts
        for n in range(5):  # far past the 64 KiB map: it must grow
            log.append(_requests(100, 20 + n * 100))
        copier.join(30)
        assert not copier.is_alive()
        assert log.count() == 520 and log.verify().ok
    with open_log(tmp_path / "copy", readonly=True) as copy:
        assert copy.count() in (20, 520) and copy.verify().ok


def test_an_events_path_that_is_a_file_is_a_store_error_that_says_what_to_do(
    tmp_path: Path,
) -> None:
    events = tmp_path / "events"
    events.write_text("not a folder")
    for readonly in (False, True):
        with pytest.raises(StoreError, match="should be a folder but is a file; move that file"):
            open_log(events, readonly=readonly)
    with pytest.raises(StoreError, match="cannot create the event log folder"):
        open_log(events / "inner")
    assert events.read_text() == "not a folder"
