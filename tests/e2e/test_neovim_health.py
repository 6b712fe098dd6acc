"""`:checkhealth promptd` in the real editors (0.11 and 0.7): the executable, its version and
the daemon's state, as a user reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from .neovim_harness import editor_env, require_editor, run_nvim, running_daemon


def _health(
    kind: Literal["0.11", "0.7"], env: dict[str, str], tmp_path: Path, path: str = ""
) -> str:
    editor = require_editor(kind)
    start = tmp_path / "start.txt"
    start.write_text("", encoding="utf-8")
    run = run_nvim(editor, "health.lua", start, env=env, start="setup", scratch=tmp_path, path=path)
    assert run.returncode == 0, run.explain()
    text = run.report.get("health", "")
    assert isinstance(text, str) and "promptd" in text, run.explain()
    return text


@pytest.mark.parametrize("kind", ["0.11", "0.7"])
def test_checkhealth_reports_executable_version_and_daemon(
    kind: Literal["0.11", "0.7"], promptd_home: Path, tmp_path: Path
) -> None:
    env = editor_env(promptd_home, tmp_path / "nvim-state")
    stopped = _health(kind, env, tmp_path)
    assert "executable: " in stopped and "promptd" in stopped
    assert "version: promptd, version" in stopped
    assert "daemon not running" in stopped and "promptd start" in stopped
    with running_daemon(env):
        running = _health(kind, env, tmp_path)
    assert "daemon running (pid " in running and "engine offline" in running


def test_checkhealth_says_when_the_executable_is_missing(
    promptd_home: Path, tmp_path: Path
) -> None:
    env = editor_env(promptd_home, tmp_path / "nvim-state")
    text = _health("0.11", env, tmp_path, path="/nonexistent/promptd")
    assert '"/nonexistent/promptd" is not executable' in text
    assert "PATH: " in text
