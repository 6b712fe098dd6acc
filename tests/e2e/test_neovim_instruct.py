""" "Optimize prompt with instruction…" in a real Neovim with the promptd plugin: the action is
offered (the plugin announces the client command), vim.ui.input asks for the instruction, the
server's promptd.optimize runs with it, and a cancelled input runs nothing.

The daemon (offline engine) runs under the module's own PROMPTD_HOME.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Literal

import pytest

from .neovim_harness import Editor, cursor_in, require_editor, run_nvim

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

PROMPT = "write something about dogs, make it good and not too long"
SOURCE = f'SYSTEM_PROMPT = "{PROMPT}"\n'
INSTRUCTION = "answer in bullet points"  # the offline engine adds the answer's format


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / ".git").mkdir()
    return folder


def _run(
    kind: Literal["0.11", "0.7"], env: dict[str, str], project: Path, instruction: str
) -> tuple[Path, dict[str, object], str]:
    editor: Editor = require_editor(kind)
    file = project / "app.py"
    file.write_text(SOURCE, encoding="utf-8")
    line, col = cursor_in(SOURCE, PROMPT)
    cancel = instruction == "<cancel>"
    expect = "nothing" if cancel else "edit"
    run = run_nvim(
        editor,
        "instruct.lua",
        file,
        env=env,
        start="enable" if kind == "0.11" else "setup",
        scratch=project.parent,
        line=str(line),
        col=str(col),
        instruction=instruction,
        expect=expect,
    )
    assert run.returncode == 0, run.explain()
    assert "Optimize prompt with instruction…" in run.report["titles"], run.explain()
    assert run.report["asked"] == 1, run.explain()
    return file, run.report, expect


@pytest.mark.parametrize("kind", ["0.11", "0.7"])
def test_the_instruction_typed_reaches_the_optimizer(
    kind: Literal["0.11", "0.7"], env: dict[str, str], project: Path
) -> None:
    file, report, _ = _run(kind, env, project, INSTRUCTION)
    executed = report["executed"]
    assert isinstance(executed, list)
    (sent,) = [e for e in executed if e["command"] == "promptd.optimize"]
    assert sent["arguments"][2:] == ["auto", {"instruct": INSTRUCTION}]
    tree = ast.parse(file.read_text(encoding="utf-8"))
    assert isinstance(tree.body[0], ast.Assign)
    written = ast.literal_eval(tree.body[0].value)
    assert written.startswith(PROMPT) and "Answer as a bulleted list." in written


def test_a_cancelled_instruction_runs_nothing(env: dict[str, str], project: Path) -> None:
    file, report, _ = _run("0.11", env, project, "<cancel>")
    assert report["executed"] == []
    assert report["text"] == SOURCE.rstrip("\n")
    assert file.read_text(encoding="utf-8") == SOURCE
