"""A real Neovim inserts a past optimized prompt from the daemon's library: :PromptdInsert
asks for search text, lists the hits and puts the chosen optimized prompt at the cursor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest

from tests.waiting import wait_until

from .neovim_harness import (
    Editor,
    expected_optimization,
    promptd,
    require_editor,
    run_nvim,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

PROMPT = "write something about dogs, make it good and not too long"
NOTES = "# Notes\n\nThe prompt we use:\n\n\nEnd.\n"


@pytest.mark.parametrize(("kind", "start"), [("0.11", "enable"), ("0.7", "setup")])
def test_promptd_insert_puts_a_past_optimized_prompt_at_the_cursor(
    env: dict[str, str], tmp_path: Path, kind: Literal["0.11", "0.7"], start: str
) -> None:
    editor: Editor = require_editor(kind)
    optimized = expected_optimization(env, PROMPT)  # a past optimization in the library
    wait_until(
        lambda: json.loads(promptd(env, "search", "dogs", "--json"))["hits"],
        20,
        "the library to index the optimization",
    )
    project = tmp_path / "project"
    project.mkdir()
    (project / ".git").mkdir()
    notes = project / "notes.md"
    notes.write_text(NOTES, encoding="utf-8")
    run = run_nvim(
        editor,
        "insert.lua",
        notes,
        env=env,
        start=start,  # type: ignore[arg-type]
        scratch=tmp_path,
        query="dogs",
        line="5",
        col="0",
    )
    assert run.returncode == 0, run.explain()
    assert run.report["input_prompt"] == "Search past prompts: ", run.explain()
    assert run.report["labels"] and "% similar" in run.report["labels"][0], run.explain()
    written = notes.read_text(encoding="utf-8")
    assert written == NOTES.replace("\n\n\nEnd.", "\n\n" + optimized + "\nEnd."), run.explain()
