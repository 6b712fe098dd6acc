"""The daemon's commands through click's runner, and what `promptd --help`/`status` import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from promptd.daemon.cli import cli
from promptd.daemon.paths import resolve


def test_status_without_a_daemon_says_so(promptd_home: Path) -> None:
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 0, result.output
    assert "not running (read from the event log)" in result.output
    assert "daemon not running" not in result.output  # not "daemon    daemon not running"
    engine = next(line for line in result.output.splitlines() if line.startswith("engine"))
    assert "offline · offline" not in engine and "offline" in engine


def test_stop_without_a_daemon_is_fine(promptd_home: Path) -> None:
    result = CliRunner().invoke(cli, ["stop"])
    assert result.exit_code == 0 and "not running" in result.output


def test_history_without_a_daemon_reads_the_log(promptd_home: Path) -> None:
    result = CliRunner().invoke(cli, ["history", "--json"])
    assert result.exit_code == 0, result.output
    assert '"items": []' in result.output


def test_budget_refuses_a_bad_amount(promptd_home: Path) -> None:
    result = CliRunner().invoke(cli, ["budget", "--daily", "lots"])
    assert result.exit_code == 2
    assert "not an amount in USD" in result.output


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("nan", "not an amount in USD"),
        ("inf", "not an amount in USD"),
        ("-inf", "not an amount in USD"),
        ("1e10", "at most 1000000"),
        ("-2", "cannot be negative"),
    ],
)
@pytest.mark.parametrize("flag", ["--daily", "--monthly"])
def test_budget_refuses_an_impossible_amount_before_asking_the_daemon(
    promptd_home: Path, flag: str, amount: str, says: str
) -> None:
    result = CliRunner().invoke(cli, ["budget", flag, amount])
    assert result.exit_code == 2, result.output
    assert says in result.output and flag in result.output
    assert not resolve(promptd_home).socket.exists()  # no daemon was started for it


def test_optimize_needs_one_source_of_text(promptd_home: Path, tmp_path: Path) -> None:
    f = tmp_path / "p.txt"
    f.write_text("x")
    result = CliRunner().invoke(cli, ["optimize", "text", "--file", str(f)])
    assert result.exit_code == 2 and "not both" in result.output


def _modules_after(*args: str) -> set[str]:
    code = (
        "import sys\n"
        "from promptd.daemon.cli import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    return set(run.stderr.split())


def test_help_imports_no_command_and_no_heavy_library(promptd_home: Path) -> None:
    mods = _modules_after("--help")
    assert not {"asyncio", "lmdb", "httpx", "rich", "promptd.daemon.server.app"} & mods


def test_status_with_a_daemon_imports_neither_asyncio_nor_the_store(promptd_home: Path) -> None:
    # without a daemon it must read the store; the client path alone is what we check here
    mods = _modules_after("stop")
    assert not {"asyncio", "lmdb", "httpx", "promptd.daemon.store"} & mods
