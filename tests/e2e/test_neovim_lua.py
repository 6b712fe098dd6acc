"""The Neovim plugin's own logic, run inside the real editors (0.7 and 0.11) with no server:
status line text and alerts, progress, the :PromptdStatus / :PromptdHistory reports,
language ids, root and filetype detection, the 0.11 lsp/promptd.lua config, and the message
a user gets when no server is attached (see tests/e2e/nvim/units.lua)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from .neovim_harness import editor_env, require_editor, run_nvim


@pytest.mark.parametrize("kind", ["0.11", "0.7"])
def test_plugin_logic_in_the_real_editor(
    kind: Literal["0.11", "0.7"], promptd_home: Path, tmp_path: Path
) -> None:
    editor = require_editor(kind)
    start = tmp_path / "start.txt"
    start.write_text("", encoding="utf-8")
    run = run_nvim(
        editor,
        "units.lua",
        start,
        env=editor_env(promptd_home, tmp_path / "nvim-state"),
        start="enable",
        scratch=tmp_path,
        root=str(tmp_path / "tree"),
    )
    assert run.returncode == 0, run.explain()
    assert run.report["failures"] == [], run.explain()
