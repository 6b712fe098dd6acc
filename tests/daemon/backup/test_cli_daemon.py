"""Backups with a real daemon process: `backup now` through it, status, restore cycles it,
and no API key in any backup or export."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptd.daemon import process
from promptd.daemon.events import BackupCreated, BackupRestored, OptimizationCompleted
from promptd.daemon.paths import Paths, resolve
from promptd.daemon.projections import open_log

from .samples import history

KEY = "xai-test-SECRET-0123456789abcdefghij"


def promptd(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    exe = str(Path(sys.executable).with_name("promptd"))
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def home(promptd_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Paths]:
    monkeypatch.setenv("XAI_API_KEY", KEY)
    monkeypatch.setenv("PROMPTD_PROVIDER", "offline")  # the key is there; no network is used
    paths = resolve()
    yield paths
    pid = process.running_pid(paths)
    if pid is not None:
        promptd("stop")
        if process.running_pid(paths) == pid:
            os.kill(pid, signal.SIGKILL)
            process.wait_exit(paths, pid, 5)


def events(paths: Paths) -> list[object]:
    with open_log(paths.events, readonly=True) as log:
        return [r.event for r in log.read()]


@pytest.mark.slow
def test_backup_now_status_export_restore_and_no_key_anywhere(home: Paths, tmp_path: Path) -> None:
    done = promptd("optimize", "write some stuff about dogs for kids, make it good!!!")
    assert done.returncode == 0, done.stderr
    pid = process.running_pid(home)
    assert pid is not None

    made = promptd("backup", "now", "--json")
    assert made.returncode == 0, made.stderr
    info = json.loads(made.stdout)
    assert info["verified"] is True and info["events"] >= 3
    assert process.running_pid(home) == pid  # a hot backup: the daemon kept running

    status = json.loads(promptd("status", "--json").stdout)
    assert status["backups"]["count"] == 1
    assert status["backups"]["last_at"] and status["backups"]["next_at"]
    assert status["backups"]["last_error"] == ""

    for fmt in ("zip", "jsonl", "json", "csv"):
        out = promptd("export", "--output", str(tmp_path / f"h.{fmt}"))
        assert out.returncode == 0, out.stderr
    blobs = [p.read_bytes() for p in tmp_path.iterdir()]
    with zipfile.ZipFile(tmp_path / "h.zip") as zf:
        blobs += [zf.read(name) for name in zf.namelist()]
    for backup_file in home.backups.rglob("*"):
        if backup_file.is_file():
            data = backup_file.read_bytes()
            blobs.append(gzip.decompress(data) if backup_file.suffix == ".gz" else data)
    assert len(blobs) >= 10
    assert not [b for b in blobs if KEY.encode() in b]

    other = tmp_path / "other-home"
    with open_log(other / "events") as log:
        log.append(history(2))
    exported = promptd("--home", str(other), "export", "-o", str(tmp_path / "other.jsonl"))
    assert exported.returncode == 0, exported.stderr
    merged = promptd("import", str(tmp_path / "other.jsonl"), "--json")  # through the daemon
    assert merged.returncode == 0, merged.stderr
    assert json.loads(merged.stdout)["imported"] == 8
    assert process.running_pid(home) == pid
    assert len(json.loads(promptd("history", "--json").stdout)["items"]) == 3

    restored = promptd("backup", "restore", info["id"], "--json")
    assert restored.returncode == 0, restored.stderr
    result = json.loads(restored.stdout)
    assert result["daemon_restarted"] is True and result["safety_copy"]
    new_pid = process.running_pid(home)
    assert new_pid is not None and new_pid != pid
    listed = json.loads(promptd("history", "--json").stdout)
    assert len(listed["items"]) == 1  # as it was at the backup

    promptd("stop")
    kinds = [type(e) for e in events(home)]
    assert kinds.count(OptimizationCompleted) == 1
    assert BackupRestored in kinds
    assert BackupCreated not in kinds  # it was recorded after the copy the store now is


def test_restore_under_make_run_keeps_the_daemon_in_the_foreground(home: Paths) -> None:
    """`make run` is `promptd start --foreground`: after a restore the same process serves
    again in its terminal, and Ctrl-C still stops it (no detached daemon is left)."""
    from promptd.daemon.client import answers

    exe = str(Path(sys.executable).with_name("promptd"))
    proc = subprocess.Popen(
        [exe, "start", "--foreground"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:

        def wait_for(cond: object, what: str, timeout: float = 30) -> None:
            import time

            deadline = time.monotonic() + timeout
            while not cond():  # type: ignore[operator]
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, f"timed out waiting for {what}"
                time.sleep(0.05)

        wait_for(lambda: answers(home), "the foreground daemon")
        assert promptd("backup", "now").returncode == 0
        restored = promptd("backup", "restore", "latest")
        assert restored.returncode == 0, restored.stderr
        assert "The daemon is running again." in restored.stdout
        wait_for(lambda: answers(home), "the daemon back after the restore")
        assert proc.poll() is None  # the same process, still in its terminal
        assert process.running_pid(home) == proc.pid
        assert not process.restore_marker(home).exists()
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "stepping aside for a backup restore" in out
    assert out.count("Ctrl-C stops it") == 2 and out.rstrip().endswith("promptd stopped")
    assert process.running_pid(home) is None  # nothing detached was left behind
    assert any(isinstance(e, BackupRestored) for e in events(home))
