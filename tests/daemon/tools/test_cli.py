"""`promptd templatize` and `promptd trim` as a user runs them, against a real daemon."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PROMPTD = str(Path(sys.executable).with_name("promptd"))


def run(*args: str, stdin: str | None = None, code: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [PROMPTD, *args], input=stdin, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == code, result.stderr
    return result


@pytest.fixture
def home(promptd_home: Path) -> Iterator[Path]:
    yield promptd_home
    subprocess.run([PROMPTD, "stop"], capture_output=True, timeout=60)


def test_templatize_prints_the_template_and_the_table(home: Path, tmp_path: Path) -> None:
    prompt = "Email our customer Maria Lopez a summary of https://acme.example/q3 in 120 words.\n"
    shown = run("templatize", prompt)
    template = (
        "Email our customer {{customer_name}} a summary of {{url}} in {{word_count}} words.\n"
    )
    assert shown.stdout == template + "\n"
    lines = shown.stderr.splitlines()
    assert lines[0].split() == ["placeholder", "kind", "value"]
    assert lines[1].split() == ["{{customer_name}}", "name", "Maria", "Lopez"]
    assert lines[2].split() == ["{{url}}", "url", "https://acme.example/q3"]

    file = tmp_path / "p.prompt"
    file.write_bytes(prompt.encode())
    data = json.loads(run("templatize", "--file", str(file), "--json").stdout)
    assert data["template"] == template and data["style"] == "jinja" and data["existing"] == []
    filled = data["template"]
    for v in data["variables"]:
        filled = filled.replace(v["placeholder"], v["value"])
    assert filled == prompt
    assert (home / "run" / "promptd.sock").exists()  # it went through the daemon


def test_templatize_refuses_an_empty_prompt_in_one_line(home: Path) -> None:
    failed = run("templatize", "-", stdin="  \n", code=2)
    assert failed.stdout == ""
    assert failed.stderr.count("\n") == 1 and "the prompt is empty" in failed.stderr


def test_trim_prints_the_trimmed_prompt_and_tokens_before_and_after(home: Path) -> None:
    prompt = "Hello! Could you please summarize this for {audience}? Thanks in advance!"
    shown = run("trim", "--max-tokens", "9", "--model", "gpt-4o", "-", stdin=prompt)
    assert shown.stdout == "Summarize this for {audience}.\n"
    assert "tokens 16 -> 9 (max 9; o200k_base)" in shown.stderr
    assert "- politeness: Thanks in advance! (-" in shown.stderr

    data = json.loads(run("trim", prompt, "-n", "100", "--model", "grok-4", "--json").stdout)
    assert data["trimmed"] == prompt and data["fits"] and data["removals"] == []
    assert data["estimate"] == "o200k_base, grok's tokenizer is not public"


def test_trim_over_the_budget_prints_the_best_trim_and_exits_1(home: Path) -> None:
    prompt = "Please never mention prices. You must cite 3 sources for {topic}."
    over = run("trim", prompt, "--max-tokens", "5", code=1)
    assert over.stdout == "Please never mention prices. You must cite 3 sources for {topic}.\n"
    assert "still over the budget:" in over.stderr and "tokens over" in over.stderr
    data = json.loads(run("trim", prompt, "-n", "5", "--json", code=1).stdout)
    assert not data["fits"] and data["over_by"] == data["tokens_after"] - 5 > 0
    missing = run("trim", prompt, code=2)
    assert "--max-tokens" in missing.stderr
