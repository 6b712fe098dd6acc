"""``promptd rebuild`` and ``promptd verify`` without a daemon."""

from __future__ import annotations

import json
import os
from pathlib import Path

import lmdb
import pytest

from promptd.daemon.cli import main
from promptd.daemon.events import OptimizationRequested
from promptd.daemon.process import PidLock
from promptd.daemon.projections import open_log


def _exit_code(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _seed(home: Path, n: int = 3) -> None:
    with open_log(home / "events") as log:
        log.append(
            [OptimizationRequested(opt_id=f"o{i}", prompt="p", prompt_hash="h") for i in range(n)]
        )


def test_verify_says_ok_and_rebuild_says_what_it_did(
    promptd_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(promptd_home)
    assert _exit_code(["verify"]) == 0
    assert capsys.readouterr().out.splitlines() == ["3 events, last sequence 3", "OK"]
    assert _exit_code(["rebuild"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "Rebuilt 10 projections (history, budget, cache, stats, backups, "
        "batches, origins, analytics, provider_modes, evaluations) from 3 events in "
    )
    assert _exit_code(["verify", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == {
        "ok": True,
        "events": 3,
        "last_seq": 3,
        "problems": [],
        "differences": [],
        "unknown_types": {},
    }


def test_verify_prints_what_differs_and_exits_1_until_rebuilt(
    promptd_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(promptd_home)
    env = lmdb.open(str(promptd_home / "events"), max_dbs=64)
    with env.begin(write=True) as txn:
        txn.delete(b"o1", db=env.open_db(b"history", txn=txn))
    env.close()
    assert _exit_code(["verify"]) == 1
    out = capsys.readouterr().out
    assert "differs from a rebuild: history: table history: 1 missing (e.g. missing key o1)" in out
    assert "NOT OK: run `promptd rebuild`" in out
    assert _exit_code(["rebuild"]) == 0
    assert _exit_code(["verify"]) == 0


def test_rebuild_refuses_while_the_daemon_runs(
    promptd_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(promptd_home)
    (promptd_home / "run").mkdir()
    daemon_lock = PidLock(promptd_home / "run" / "promptd.pid")  # what a running daemon holds
    daemon_lock.acquire()
    try:
        assert _exit_code(["rebuild"]) == 1
        err = capsys.readouterr().err
        assert f"the daemon is running (pid {os.getpid()})" in err
        assert "promptd stop" in err
        assert _exit_code(["verify"]) == 0  # read-only: fine while it runs
    finally:
        daemon_lock.release()


def test_a_stale_pid_file_naming_a_live_process_does_not_block_rebuild(
    promptd_home: Path,
) -> None:
    # A killed daemon's pid file whose pid now belongs to another process (here: the test).
    _seed(promptd_home)
    (promptd_home / "run").mkdir()
    (promptd_home / "run" / "promptd.pid").write_text(f"{os.getpid()}\n")
    assert _exit_code(["rebuild"]) == 0


def test_without_a_log_both_say_how_to_get_one(
    promptd_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _exit_code(["verify"]) == 1
    assert "no event log at" in capsys.readouterr().err
    (promptd_home / "run").mkdir()
    (promptd_home / "run" / "promptd.pid").write_text("999999999\n")  # stale pid file
    assert _exit_code(["rebuild"]) == 1
    assert "promptd start" in capsys.readouterr().err
