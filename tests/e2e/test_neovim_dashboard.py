""":PromptdDashboard in the real editors (0.7 and 0.11) against the real CLI and daemon."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest

from promptd.daemon import process
from promptd.daemon.paths import resolve

from .neovim_harness import editor_env, promptd, require_editor, run_nvim


@pytest.fixture
def env(promptd_home: Path, tmp_path: Path) -> Iterator[dict[str, str]]:
    environment = editor_env(promptd_home, tmp_path / "nvim-state")
    yield environment
    if process.running_pid(resolve(promptd_home)) is not None:
        promptd(environment, "stop", "--timeout", "10")


@pytest.mark.parametrize("kind", ["0.11", "0.7"])
def test_promptd_dashboard_opens_the_url(
    kind: Literal["0.11", "0.7"], env: dict[str, str], tmp_path: Path
) -> None:
    editor = require_editor(kind)
    start = tmp_path / "start.txt"
    start.write_text("", encoding="utf-8")
    run = run_nvim(
        editor, "dashboard.lua", start, env=env, start="enable", scratch=tmp_path, expect="url"
    )
    assert run.returncode == 0, run.explain()
    url = promptd(env, "dashboard", "--no-open").strip()  # the daemon it started
    assert run.report["url"] == url and url.startswith("http://127.0.0.1:")
    assert run.report["url_from_ok"] == "http://127.0.0.1:9/?token=x"
    assert run.report["url_from_bad"] == "nil"


def test_promptd_dashboard_says_why_when_it_is_off(
    env: dict[str, str], promptd_home: Path, tmp_path: Path
) -> None:
    editor = require_editor("0.11")
    (promptd_home / "config.toml").write_text("[dashboard]\nenabled = false\n")
    start = tmp_path / "start.txt"
    start.write_text("", encoding="utf-8")
    run = run_nvim(
        editor, "dashboard.lua", start, env=env, start="enable", scratch=tmp_path, expect="off"
    )
    assert run.returncode == 0, run.explain()
    (message,) = [n["message"] for n in run.report["notifications"] if "dashboard" in n["message"]]
    assert "enabled = false" in message and "set it to true" in message
