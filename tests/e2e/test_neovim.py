"""A real Neovim with the promptd plugin optimizes a prompt in a file, end to end.

The module starts the daemon (offline engine) under its own PROMPTD_HOME; each test runs a
headless Neovim that loads the plugin from clients/neovim, waits for promptd's diagnostics,
runs the "Optimize prompt" action, writes the buffer and quits; then the file on disk must
parse and hold exactly what the daemon gives for that prompt.

Neovim 0.11 starts the server through the plugin's lsp/promptd.lua (vim.lsp.enable);
Neovim 0.7 through require('promptd').setup(). A missing editor fails the test in CI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from .neovim_harness import (
    Editor,
    cursor_in,
    editor_env,
    expected_optimization,
    require_editor,
    run_nvim,
)
from .source_literals import python_assignment, typescript_const

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

# Vague on purpose: the offline engine has plenty to improve, so the rewrite differs.
PROMPT = "write something about dogs, make it good and not too long"

PYTHON_SOURCE = f'''"""A small app with one prompt."""

SYSTEM_PROMPT = "{PROMPT}"


def ask(client, question):
    return client.complete(system=SYSTEM_PROMPT, user=question)
'''

TYPESCRIPT_SOURCE = f"""const systemPrompt: string = "{PROMPT}";

export function messages(question: string): string[] {{
  return [systemPrompt, question];
}}
"""

PROMPT_FILE = f"{PROMPT}\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "prompts").mkdir(parents=True)
    (folder / ".git").mkdir()  # a root marker, as in a real checkout
    return folder


@pytest.fixture
def nvim_011() -> Editor:
    return require_editor("0.11")


@pytest.fixture
def nvim_07() -> Editor:
    return require_editor("0.7")


def _optimize_python(
    editor: Editor, env: dict[str, str], project: Path, start: Literal["enable", "setup"]
) -> None:
    file = project / "app.py"
    file.write_text(PYTHON_SOURCE, encoding="utf-8")
    line, col = cursor_in(PYTHON_SOURCE, PROMPT)
    run = run_nvim(
        editor,
        "optimize.lua",
        file,
        env=env,
        start=start,
        scratch=project.parent,
        action="code_action",
        line=str(line),
        col=str(col),
    )
    assert run.returncode == 0, run.explain()
    assert run.report["diagnostics"], run.explain()
    assert "Optimize prompt" in run.report["titles"], run.explain()

    written = file.read_text(encoding="utf-8")
    optimized = python_assignment(written, "SYSTEM_PROMPT")
    assert optimized != PROMPT
    assert optimized == expected_optimization(env, PROMPT)
    # Only the literal changed: the rest of the module is as it was.
    before = PYTHON_SOURCE.split("\n\n\ndef ask", 1)[1]
    assert written.endswith(before)


def test_python_prompt_with_nvim_011(nvim_011: Editor, env: dict[str, str], project: Path) -> None:
    _optimize_python(nvim_011, env, project, start="enable")


def test_python_prompt_with_nvim_07_setup(
    nvim_07: Editor, env: dict[str, str], project: Path
) -> None:
    _optimize_python(nvim_07, env, project, start="setup")


@pytest.mark.parametrize("kind", ["0.11", "0.7"])
def test_typescript_prompt_with_promptd_optimize(
    kind: Literal["0.11", "0.7"], env: dict[str, str], project: Path
) -> None:
    editor = require_editor(kind)
    file = project / "chat.ts"
    file.write_text(TYPESCRIPT_SOURCE, encoding="utf-8")
    line, col = cursor_in(TYPESCRIPT_SOURCE, PROMPT)
    run = run_nvim(
        editor,
        "optimize.lua",
        file,
        env=env,
        start="enable" if kind == "0.11" else "setup",
        scratch=project.parent,
        action="command",  # :PromptdOptimize, the plugin's own command
        line=str(line),
        col=str(col),
    )
    assert run.returncode == 0, run.explain()
    assert run.report["filetype"] == "typescript"

    written = file.read_text(encoding="utf-8")
    optimized = typescript_const(written, "systemPrompt")
    assert optimized != PROMPT
    assert optimized == expected_optimization(env, PROMPT)
    assert written.endswith(TYPESCRIPT_SOURCE.split(";\n", 1)[1])


def test_prompt_file_with_nvim_011(nvim_011: Editor, env: dict[str, str], project: Path) -> None:
    file = project / "prompts" / "dogs.prompt"
    file.write_text(PROMPT_FILE, encoding="utf-8")
    run = run_nvim(
        nvim_011,
        "optimize.lua",
        file,
        env=env,
        start="enable",
        scratch=project.parent,
        action="code_action",
        line="1",
        col="3",
    )
    assert run.returncode == 0, run.explain()
    assert run.report["filetype"] == "prompt"  # the plugin's ftdetect for *.prompt

    written = file.read_text(encoding="utf-8")
    assert written.strip() != PROMPT
    assert written.strip() == expected_optimization(env, PROMPT).strip()


@pytest.mark.parametrize("kind", ["0.11", "0.7"])
def test_status_line_status_and_history(
    kind: Literal["0.11", "0.7"], env: dict[str, str], project: Path
) -> None:
    editor = require_editor(kind)
    optimized = expected_optimization(env, PROMPT)  # one optimization in the history
    file = project / "app.py"
    file.write_text(PYTHON_SOURCE, encoding="utf-8")
    run = run_nvim(
        editor,
        "session.lua",
        file,
        env=env,
        start="enable" if kind == "0.11" else "setup",
        scratch=project.parent,
        scenario="status",
    )
    assert run.returncode == 0, run.explain()
    # Fed by promptd/status: the engine and today's spend.
    assert run.report["statusline"].startswith("promptd offline $0.00"), run.explain()
    status = run.report["status"]
    assert "running" in status and "engine offline" in status, run.explain()
    assert "home " + env["PROMPTD_HOME"] in status, run.explain()
    history = run.report["history"]
    assert optimized != PROMPT
    assert "->" in history and PROMPT[:20] in history, run.explain()


@pytest.mark.parametrize("kind", ["0.11", "0.7"])
def test_missing_promptd_is_explained(
    kind: Literal["0.11", "0.7"], promptd_home: Path, project: Path
) -> None:
    editor = require_editor(kind)
    file = project / "app.py"
    file.write_text(PYTHON_SOURCE, encoding="utf-8")
    missing = project / "no-such-dir" / "promptd"
    run = run_nvim(
        editor,
        "session.lua",
        file,
        env=editor_env(promptd_home, project.parent / "nvim-state"),
        start="enable" if kind == "0.11" else "setup",
        scratch=project.parent,
        scenario="missing",
        path=str(missing),
    )
    assert run.returncode == 0, run.explain()
    message = run.report["message"]
    assert f'"{missing}" is not executable' in message
    assert "Install promptd" in message
    assert run.report["attached"] is False


def test_selection_in_plain_text_with_nvim_011(
    nvim_011: Editor, env: dict[str, str], project: Path
) -> None:
    # Plain text outside prompts/ is no prompt by itself: the selection is what gets optimized.
    notes = "Meeting notes.\n" + PROMPT + "\nEnd of notes.\n"
    file = project / "notes.txt"
    file.write_text(notes, encoding="utf-8")
    run = run_nvim(
        nvim_011,
        "optimize.lua",
        file,
        env=env,
        start="enable",
        scratch=project.parent,
        action="select_line",
        line="2",
        col="0",
        diagnostics="none",
    )
    assert run.returncode == 0, run.explain()
    assert run.report["filetype"] == "text"

    written = file.read_text(encoding="utf-8")
    optimized = expected_optimization(env, PROMPT)
    assert written == "Meeting notes.\n" + optimized + "\nEnd of notes.\n"


@pytest.mark.parametrize("kind", ["0.11", "0.7"])
def test_settings_reach_the_server(
    kind: Literal["0.11", "0.7"], env: dict[str, str], project: Path
) -> None:
    # 0.11: vim.lsp.config('promptd', {settings = {promptd = ...}}); 0.7: setup({settings = ...}).
    editor = require_editor(kind)
    file = project / "app.py"
    file.write_text(PYTHON_SOURCE, encoding="utf-8")
    run = run_nvim(
        editor,
        "session.lua",
        file,
        env=env,
        start="enable" if kind == "0.11" else "setup",
        scratch=project.parent,
        scenario="settings",
    )
    assert run.returncode == 0, run.explain()
    severities = run.report["severities"]
    assert severities and set(severities) == {1}, run.explain()  # 1 = Error
