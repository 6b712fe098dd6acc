"""`promptd search`, `library status`, `keep`, `reject` and `rebuild` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PROMPTD = str(Path(sys.executable).with_name("promptd"))


def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([PROMPTD, *args], capture_output=True, text=True, timeout=60)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def home(promptd_home: Path) -> Iterator[Path]:
    yield promptd_home
    run("stop", ok=False)


def test_search_keep_reject_and_rebuild(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "fix.prompt").write_text("Fix the bug in the Python code below.\n\n{code}\n")
    # what the library finds is under test, not how fast: a loaded machine gets the time
    (home / "config.toml").write_text(
        f'[library]\npaths = ["{folder}"]\nretrieve_timeout_ms = 10000\n'
    )
    first = json.loads(
        run("optimize", "--json", "fix the bug in this code {code}. use python").stdout
    )
    second = run("optimize", "please fix the bug in this python code {code}")
    assert "similar prompts:" in second.stderr and f"promptd show {first['id']}" in second.stderr

    found = json.loads(run("search", "fix", "python", "bug", "--json").stdout)
    refs = [h["ref"] for h in found["hits"]]
    assert f"opt:{first['id']}" in refs and f"file:{folder / 'fix.prompt'}" in refs
    assert all(0 <= h["similarity"] <= 100 and h["source"] == "local" for h in found["hits"])

    text = run("search", "fix python bug").stdout
    assert str(folder / "fix.prompt") in text and "% similar" in text

    kept = run("keep", first["id"])
    assert f"{first['id']}: kept" in kept.stderr
    missing = run("reject", "nope", "--why", "x", ok=False)
    assert missing.returncode != 0
    assert missing.stderr.count("\n") == 1 and "promptd history" in missing.stderr

    status = json.loads(run("library", "status", "--json").stdout)
    assert status["files"] == 1 and status["kept"] == 1 and status["acceptance_rate"] == 1.0
    assert status["folders"] == [str(folder)]

    run("stop")
    rebuilt = run("rebuild")
    assert "library index: 2 optimizations, 1 prompt files" in rebuilt.stdout
    after = json.loads(run("search", "fix python bug", "--json").stdout)
    kept_hit = next(h for h in after["hits"] if h["ref"] == f"opt:{first['id']}")
    assert kept_hit["kept"] is True  # the verdict comes back from the log


def test_search_needs_words(home: Path) -> None:
    result = run("search", "   ", ok=False)
    assert result.returncode != 0 and "nothing to search for" in result.stderr
