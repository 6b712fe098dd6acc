"""First-run frictions: what a newcomer types in the first minutes, and what they see."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from promptd.daemon import paths as _paths
from promptd.daemon import process as lifecycle
from promptd.daemon.cli import cli


def _promptd(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("promptd")), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_home_is_taken_after_the_subcommand_too(tmp_path: Path) -> None:
    home = tmp_path / "elsewhere"
    result = CliRunner().invoke(cli, ["status", "--json", "--home", str(home)])
    assert result.exit_code == 0, result.output
    assert f'"home": "{home}"' in result.output


def test_home_after_a_nested_subcommand(tmp_path: Path) -> None:
    home = tmp_path / "elsewhere"
    result = CliRunner().invoke(cli, ["backup", "list", "--home", str(home)])
    assert result.exit_code == 0, result.output
    assert f"No backups in {home / 'backups'}" in result.output


def test_a_misspelt_command_gets_a_suggestion() -> None:
    result = CliRunner().invoke(cli, ["optimise", "hello"])
    assert result.exit_code == 2
    assert "Did you mean 'optimize'?" in result.output
    close = CliRunner().invoke(cli, ["stauts"])
    assert close.exit_code == 2 and "Did you mean 'status'?" in close.output


def test_an_empty_prompt_is_refused_before_a_daemon_starts(promptd_home: Path) -> None:
    paths = _paths.resolve(promptd_home)
    empty = promptd_home / "empty.txt"
    empty.write_text("  \n")
    cases = (["optimize"], ""), (["optimize", "--file", str(empty)], ""), (["optimize", "-"], "\n")
    try:
        for args, stdin in cases:
            result = _promptd(*args, stdin=stdin)
            assert result.returncode == 2, result.stderr
            assert "the prompt is empty" in result.stderr
            assert lifecycle.running_pid(paths) is None and not paths.pid_file.exists()
    finally:
        if lifecycle.running_pid(paths) is not None:
            _promptd("stop")


def test_a_config_typo_through_optimize_is_said_once_with_starts_exit_code(
    promptd_home: Path,
) -> None:
    (promptd_home / "config.toml").write_text("[budget]\ndaly_usd = 1.0\n")
    via_optimize = _promptd("optimize", "write a poem")
    via_start = _promptd("start")
    assert via_optimize.returncode == via_start.returncode == 2
    assert via_optimize.stderr.count("promptd:") == 1, via_optimize.stderr
    assert "budget.daly_usd" in via_optimize.stderr
    assert via_optimize.stderr.strip().splitlines()[-1] == via_start.stderr.strip().splitlines()[-1]
    assert lifecycle.running_pid(_paths.resolve(promptd_home)) is None
