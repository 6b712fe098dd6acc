"""Issue 18's acceptance, as a user runs it: real ``promptd`` processes, a library folder of
prompt files, a history of kept rewrites, the LLM engine against a loopback chat-completions
server (no key, no network).

A new prompt similar to a kept one gets it as an example (visible in ``promptd show ID``,
text and --json), ``promptd search`` finds both, and a broken index cannot fail a run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.providers.loopback import LoopbackServer
from tests.waiting import wait_until

PROMPTD = str(Path(sys.executable).with_name("promptd"))
FIRST = "fix the bug in this python code {code} and explain what was wrong"
SECOND = "please fix the bug in this python code {code} and explain what went wrong with it"
STYLE = "House style for Python fixes: the corrected code in one fenced block, then the cause."


def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [PROMPTD, *args], capture_output=True, text=True, timeout=90, env=dict(os.environ)
    )
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def as_json(*args: str) -> Any:
    return json.loads(run(*args, "--json").stdout)


@pytest.fixture
def home(promptd_home: Path) -> Iterator[Path]:
    yield promptd_home
    run("stop", ok=False)


def test_a_similar_prompt_is_grounded_in_the_kept_rewrite(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    style = folder / "python-fixes.md"
    style.write_text(f"{STYLE}\nFix the bug in the python code and explain what was wrong.\n")
    with LoopbackServer(echo=True) as server:
        (home / "config.toml").write_text(
            f'[provider]\nkind = "openai"\nbase_url = "{server.base_url}"\nmodel = "grok-4.3"\n'
            f"[backup]\nenabled = false\n[library]\npaths = [{json.dumps(str(folder))}]\n"
            "retrieve_timeout_ms = 10000\n"  # what is retrieved is under test, not how fast
        )
        first = as_json("optimize", FIRST)
        assert first["engine"] == "llm"  # the file may already ground it; no example yet
        assert [g["ref"] for g in first["grounding"]] in ([], [f"file:{style}"])
        run("keep", first["id"])

        def indexed() -> Any:
            found = as_json("search", "fix the bug python code explain")
            hits = {h["ref"]: h for h in found["hits"]}
            mine = hits.get(f"opt:{first['id']}")
            return found if mine and mine["kept"] and f"file:{style}" in hits else None

        found = wait_until(indexed, 30, "the kept rewrite and the file to be searchable")
        assert found["hits"][0]["ref"] == f"opt:{first['id']}"  # kept rewrites rank first

        second = run("optimize", SECOND)
        assert "grounded on:" in second.stderr
        assert f"example {first['id']} (kept, history" in second.stderr
        assert f"passage file:{style} (library" in second.stderr
        second_id = as_json("history", "--limit", "1")["items"][0]["id"]

        shown = as_json("show", second_id)["optimization"]
        grounding = [(g["ref"], g["kind"], g["source"], g["kept"]) for g in shown["grounding"]]
        assert grounding[0] == (f"opt:{first['id']}", "example", "history", True)
        assert (f"file:{style}", "passage", "library", False) in grounding
        assert shown["grounding_note"] == ""
        text = run("show", second_id)
        assert f"example {first['id']} (kept" in text.stderr
        assert "given to the Designer as an example" in text.stderr
        designer = [
            b["messages"][1]["content"]
            for b in server.bodies
            if b["messages"][0]["content"].startswith("You are the Designer")
        ]
        assert first["optimized"] in designer[-1] and STYLE in designer[-1]

        # a broken index: the next run is answered, ungrounded, with the reason
        run("stop")
        shutil.rmtree(home / "library")
        (home / "library").write_text("not a folder")
        third = as_json("optimize", "--no-cache", SECOND)
        assert third["engine"] == "llm" and not third["degraded"] and third["optimized"]
        assert third["grounding"] == [] and "library index" in third["grounding_note"]
