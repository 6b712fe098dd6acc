"""``promptd dashboard`` and ``promptd status`` as a person runs them (real processes)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptd.daemon import process
from promptd.daemon.paths import Paths, resolve


def promptd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = str(Path(sys.executable).with_name("promptd"))
    return subprocess.run(
        [exe, *args], capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}
    )


@pytest.fixture
def paths(promptd_home: Path) -> Iterator[Paths]:
    p = resolve()
    yield p
    if process.running_pid(p) is not None:
        promptd("stop", "--timeout", "10")


def test_json_starts_the_daemon_and_prints_the_url(paths: Paths) -> None:
    assert process.running_pid(paths) is None
    shown = promptd("dashboard", "--json")
    assert shown.returncode == 0, shown.stderr
    url = json.loads(shown.stdout)["url"]
    assert process.running_pid(paths) is not None
    written = json.loads((paths.run / "dashboard.json").read_text())
    assert url == f"http://127.0.0.1:{written['port']}/?token={written['token']}"
    assert stat.S_IMODE((paths.run / "dashboard.json").stat().st_mode) == 0o600
    plain = promptd("dashboard", "--no-open")
    assert plain.returncode == 0 and plain.stdout.strip() == url
    status = promptd("status", "--json")
    assert json.loads(status.stdout)["dashboard_url"] == url
    assert url in promptd("status").stdout.replace("\n", "")


def test_opens_the_browser_with_the_url(paths: Paths, tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n')
    browser.chmod(0o755)
    shown = promptd("dashboard", env={"BROWSER": f"{browser} %s"})
    assert shown.returncode == 0, shown.stderr
    url = json.loads(promptd("dashboard", "--json").stdout)["url"]
    assert opened.read_text() == url
    assert "Opened the dashboard" in shown.stdout and "token" not in shown.stdout


def test_off_says_how_to_turn_it_on(paths: Paths) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text("[dashboard]\nenabled = false\n")
    shown = promptd("dashboard", "--json")
    assert shown.returncode != 0 and shown.stdout == ""
    assert "enabled = false" in shown.stderr and "set it to true" in shown.stderr
    assert "dashboard" not in promptd("status").stdout
