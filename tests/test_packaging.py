"""promptd installs under one namespace, so other distributions' top-level names cannot clash."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import promptd.daemon

ROOT = Path(__file__).resolve().parent.parent


def test_promptd_runs_beside_other_top_level_daemon_and_lsp_packages(tmp_path: Path) -> None:
    # python-daemon installs a top-level `daemon` without our __version__; a `lsp` could come
    # from anywhere. Put both first on the path, as an installed distribution would be.
    for name in ("daemon", "lsp"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("raise ImportError('not promptd')\n")
    promptd_script = Path(sys.executable).with_name("promptd")
    result = subprocess.run(
        [str(promptd_script), "--version"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert promptd.daemon.__version__ in result.stdout


def test_every_package_folder_is_listed_for_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {
        "promptd." + ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("daemon", "lsp")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert on_disk == listed
    assert config["package-dir"] == {"promptd.daemon": "daemon", "promptd.lsp": "lsp"}
